"""The tables of ``pope-bench list models|tasks|suites``, made to read at 80 columns:
short fixed columns never wrap, one flexible column folds, and long free text (a data
source, a path) is cut with an ellipsis instead of breaking every row into fragments.

(rich narrows only wrappable columns before it starts cutting fixed ones, so the
ellipsised column is a wrappable column whose cells are single-line texts.)"""

from __future__ import annotations

import os
from pathlib import Path

from rich import box
from rich.table import Table
from rich.text import Text

from pope_bench.core.errors import BadInput


def _table(title: str, caption: str | None = None) -> Table:
    return Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
                 title_justify="left", caption_justify="left")


def _one_line(text: str) -> Text:
    return Text(text, no_wrap=True, overflow="ellipsis")


def _short_path(path: Path) -> str:
    """Relative to the working directory when under it (the bundled checkpoints are)."""
    return os.path.relpath(path) if Path(path).is_relative_to(Path.cwd()) else str(path)


def models_table(registry: dict) -> Table:
    from pope_bench.models.checkpoints import MAX_LENGTH_RATIO, parameter_count

    table = _table("models", f"max: `max_length:` of the entry, else {MAX_LENGTH_RATIO} × train; "
                   "+linear/ntk/yarn/dynamic: eval-time RoPE scaling of the base's weights, no fine-tuning")
    for column in ("name", "encoding", "train", "max", "params", "tokens"):
        table.add_column(column, no_wrap=True, justify="right" if column in ("train", "max", "params") else "left")
    table.add_column("source")
    for entry in registry.values():
        source = f"= {entry.base}" if entry.base else (_short_path(entry.path) if entry.path else entry.source)
        encoding = entry.pe + (f"+{entry.scaling_label}" if entry.rope_scaling else "")
        table.add_row(entry.name, encoding, str(entry.train_length), str(entry.length_limit),
                      parameter_count(entry), entry.tokenizer, _one_line(source))
    return table


def tasks_table(found, registry: dict) -> Table:
    table = _table("tasks", "models: the domain a task needs × registered checkpoints of it (`list models`)\n"
                            "RULER's qa_1 (SQuAD) and qa_2 (HotpotQA) are not built: no pinned package holds them offline")
    for column in ("name", "category", "metric", "lengths"):
        table.add_column(column, no_wrap=True)
    table.add_column("models", no_wrap=True)
    table.add_column("source")
    for name in found.definitions:
        try:
            task = found.build(name)
        except BadInput as e:
            found.problems.append(str(e))
            continue
        suits = sum(task.suits(e) for e in registry.values())
        table.add_row(name, task.category or "—", task.main_metric, task.definition.default_lengths, f"{task.domain} ×{suits}",
                      _one_line(task.definition.source))
    return table


def suites_table() -> Table:
    from pope_bench.sweep.suites import bundled, load_suite

    table = _table("suites", "run one: pope-bench run --suite NAME")
    table.add_column("name", no_wrap=True)
    table.add_column("time", no_wrap=True, justify="right")
    table.add_column("description", overflow="fold")
    for name in bundled():
        suite = load_suite(name)
        table.add_row(name, suite.duration(), suite.description)
    return table
