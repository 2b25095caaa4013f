"""The user's own documents as a corpus: a task's ``corpus:`` may be a mapping instead of
a corpus name (docs/corpora.md)::

    corpus: {path: my_docs/}                              # one .txt file, or a folder of them
    corpus: {path: notes.jsonl, text_field: body}         # jsonl / json / parquet / csv rows
    corpus: {hub: org/dataset, split: test, text_field: text}   # a hub dataset, when online

A ``.txt`` file is one document (a folder: each ``*.txt`` under it, in path order); a row
of a table file is one document, read through ``datasets.load_dataset`` with
``data_files`` — the route lm-evaluation-harness users take (``dataset_path: json``). A
relative path is relative to the working directory. What is wrong (a path that does not
exist, nothing to read, a missing ``text_field``) is one line when the sweep plans.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from pope_bench.core.errors import BadInput
from pope_bench.core.schema import StrictModel
from pope_bench.data.corpora import Document

#: table formats and the ``datasets`` builder that reads each
TABLE_BUILDERS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}
Name = Annotated[str, Field(min_length=1)]


class LocalCorpus(StrictModel):
    """Documents from a local ``.txt`` file, a folder of them, or a table file."""

    path: Path
    #: table files only: the column that holds each document's text
    text_field: Name | None = None

    @property
    def label(self) -> str:
        return f"{self.path}" + (f"[{self.text_field}]" if self.text_field else "")

    def documents(self) -> list[Document]:
        path = self.path
        if not path.exists():
            raise BadInput(f"corpus path {path} does not exist; give a .txt file, a folder of them, or a "
                           f"{'/'.join(TABLE_BUILDERS)} file")
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.txt") if p.is_file())
            if self.text_field:
                raise BadInput(f"corpus {path}: text_field applies to table files, not a folder of .txt files")
            docs = [Document(str(f.relative_to(path)), _read_text(f), "test") for f in files]
        elif path.suffix in TABLE_BUILDERS:
            docs = _table_documents(path, self.text_field or "text")
        else:
            if self.text_field:
                raise BadInput(f"corpus {path}: text_field applies to {'/'.join(TABLE_BUILDERS)} files only")
            docs = [Document(path.name, _read_text(path), "test")]
        docs = [d for d in docs if d.text.strip()]
        if not docs:
            raise BadInput(f"corpus {path} holds no text (no non-empty .txt file or row); point it at your documents")
        return docs


class HubCorpus(StrictModel):
    """Documents from a Hugging Face dataset (needs the hub)."""

    hub: Name
    config: Name | None = None
    split: Name = "test"
    text_field: Name = "text"

    @property
    def label(self) -> str:
        return f"hub:{self.hub}" + (f"/{self.config}" if self.config else "") + f"/{self.split}[{self.text_field}]"

    def documents(self) -> list[Document]:
        from pope_bench.data.hub import load_hub_dataset, require_hub

        needed_by, hint = f"corpus {self.hub!r}", "download it and point corpus: {path: FILE} at it"
        require_hub(needed_by, hint, self.hub)
        data = load_hub_dataset(self.hub, self.config, self.split, needed_by, hint)
        return _rows(data, self.text_field, self.label)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise BadInput(f"{path} is not UTF-8 text ({e.reason} at byte {e.start}); convert it or leave it out") from None
    except OSError as e:
        raise BadInput(f"cannot read {path} ({e.strerror})") from None


def _table_documents(path: Path, text_field: str) -> list[Document]:
    import datasets

    was = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # a local file: no "Generating train split" bar
    try:
        data = datasets.load_dataset(TABLE_BUILDERS[path.suffix], data_files=str(path), split="train")
    except Exception as e:  # datasets raises its own types for every malformed file  # noqa: BLE001
        detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BadInput(f"corpus {path} cannot be read as {path.suffix[1:]} ({detail[:160]}); fix the file") from None
    finally:
        if was:
            datasets.enable_progress_bars()
    return _rows(data, text_field, path.name)


def _rows(data, text_field: str, where: str) -> list[Document]:
    if text_field not in data.column_names:
        raise BadInput(f"corpus {where} has no column {text_field!r} (columns: {', '.join(data.column_names)}); "
                       "set text_field: to the one that holds the text")
    return [Document(f"{where}:{i}", str(text or ""), "test") for i, text in enumerate(data[text_field])]
