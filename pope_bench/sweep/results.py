"""Tidy results: one row per model × task × length × metric × seed (docs/contracts.md).

``OUT/results.jsonl`` is the source of truth: rows are appended and fsync'ed as each cell
finishes, so a crash loses at most the cell in flight, and a rerun skips every cell whose
``cell_key`` already has ``status == "ok"`` rows. ``results.csv`` and ``results.parquet``
are exports of it; :func:`load` reads it into a pandas DataFrame in one call.

Columns beyond the design's minimum: ``documents`` (distinct documents a perplexity cell
scored), ``clusters`` (the independent windows a window-clustered stderr rests on; for
binomial and per-example errors the examples, ``n``), ``stderr_method`` (what ``stderr`` is: binomial, per_example, window_clustered,
window_bootstrap), ``train_seed`` and ``group`` (the registry's training seed and the
group of checkpoints of one recipe); empty where they do not apply. ``settings`` is the
cell's settings id (task definition and budget, :mod:`pope_bench.sweep.settings`): a folder
holds one per (model, task, length, seed), and :func:`load` adds a ``series`` column
that keeps any older mix of ids apart.

A shard (``--shard i/n``) appends to its own ``results.shard-I-of-N.jsonl`` instead, so no
two processes ever append to one file; :func:`read_rows` — and so every reader (resume,
``load``, plots, figures) — sees the union of a folder's rows files. What several
processes rewrite in a folder (manifest, exports, plots) is rewritten under
:func:`folder_lock`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from pope_bench.sweep.rows import (
    COLUMNS,
    CURVE_COLUMNS,
    ROW_KEY,
    folder_lock,
    parse_row,
    read_rows,
    rows_file,
)


def headline(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows that are a cell's headline numbers (no curve or map index)."""
    return frame[frame[CURVE_COLUMNS].isna().all(axis=1)]


def load(out, warn: bool = True) -> pd.DataFrame:
    """The results of a folder as a DataFrame with the schema's columns and ``series``
    (the model, or ``model [settings id]`` where an older folder mixes ids), latest row per
    (cell, metric, position, depth, layer, frequency, head) — so a recomputed cell replaces the old one."""
    from pope_bench.sweep.settings import add_series, resolve

    rows = resolve(read_rows(Path(out)), Path(out))
    frame = pd.DataFrame(rows, columns=COLUMNS) if rows else pd.DataFrame(columns=COLUMNS)
    if not frame.empty:
        frame = frame.drop_duplicates(subset=ROW_KEY, keep="last").reset_index(drop=True)
    return add_series(frame, out, warn)


class ResultsWriter:
    """Appends one process's rows: to ``results.jsonl``, or to its shard's own file."""

    def __init__(self, out: Path, shard=None):
        self.path = rows_file(out, shard)
        self._repair_torn_tail()

    def _repair_torn_tail(self) -> None:
        """Make the file end on a fresh line before new rows go on. A last line without its
        newline is either torn by a kill mid-write (it does not parse: cut it) or complete
        (the newline alone was lost: keep the row, add the newline) — cutting a complete
        row would lose it while a rerun, which reads it, skips its cell."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if not data or data.endswith(b"\n"):
            return
        start = data.rfind(b"\n") + 1
        with open(self.path, "r+b") as f:
            if parse_row(data[start:]) is not None:
                f.seek(len(data))
                f.write(b"\n")
            else:
                f.truncate(start)
            f.flush()
            os.fsync(f.fileno())

    def append(self, rows: list[dict]) -> None:
        text = "".join(json.dumps({c: row.get(c) for c in COLUMNS}) + "\n" for row in rows)
        with open(self.path, "a") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())


def export(out: Path) -> pd.DataFrame:
    """Write results.csv and results.parquet of every rows file (atomically, one process
    at a time: the last shard to export sees every shard's rows)."""
    out = Path(out)
    with folder_lock(out):
        frame = load(out, warn=False)[COLUMNS]
        for name, write in (("results.csv", lambda p: frame.to_csv(p, index=False)),
                            ("results.parquet", lambda p: frame.to_parquet(p, index=False))):
            tmp = out / (name + ".tmp")
            write(tmp)
            tmp.replace(out / name)
    return frame
