"""Tidy results: one row per model × task × length × metric × seed (DESIGN.md).

``OUT/results.jsonl`` is the source of truth: rows are appended and fsync'ed as each cell
finishes, so a crash loses at most the cell in flight, and a rerun skips every cell whose
``cell_key`` already has ``status == "ok"`` rows. ``results.csv`` and ``results.parquet``
are exports of it; :func:`load` reads it into a pandas DataFrame in one call.

Columns beyond the design's minimum: ``documents`` (distinct documents a perplexity cell
scored), ``stderr_method`` (what ``stderr`` is: binomial, per_example, window_clustered,
window_bootstrap), ``train_seed`` and ``group`` (the registry's training seed and the
group of checkpoints of one recipe); empty where they do not apply.

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
from pydantic import ConfigDict, model_validator

from pope_bench.core.errors import BadInput
from pope_bench.core.schema import StrictModel, read_bytes, validate

COLUMNS = [
    "model", "pe", "scaling", "train_length", "task", "metric", "length", "length_ratio", "value",
    "stderr", "n", "seed", "status", "device", "dtype", "elapsed_s", "run_id", "version", "git_sha",
    "timestamp", "cell_key", "position", "depth", "window", "skipped", "error", "layer", "frequency", "head",
    "documents", "stderr_method", "train_seed", "group",
]
RESULTS_FILE = "results.jsonl"
SHARD_FILES = "results.shard-*-of-*.jsonl"
#: what identifies one row: a cell's metric, at one curve point (position, depth, layer, frequency, head)
#: columns that index a curve or a map inside one cell (loss by position, passkey depth,
#: per-layer/frequency/head analyses); a cell's headline numbers have them all empty
CURVE_COLUMNS = ["position", "depth", "layer", "frequency", "head"]
ROW_KEY = ["cell_key", "metric", *CURVE_COLUMNS]


#: a rows file may hold many sweeps' rows, but not more than a reader should hold in memory
MAX_ROWS_BYTES = 2 * 2**30


class Row(StrictModel):
    """One row as a rows file holds it: every column of :data:`COLUMNS`, each of its own
    JSON type; the cell's identity (model, pe, scaling, train length, task, metric, length,
    seed, status) is required, as every version wrote it, the rest is optional, and an
    ``ok`` row has a value. A row a reader would trip over (a length that is a string, a
    value that is a list, an unknown column, an ok row with no value) is a one-line error
    naming the file and line, not a traceback in a plot."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    model: str
    pe: str
    scaling: str
    train_length: int
    task: str
    metric: str
    length: int
    length_ratio: float | None = None
    value: float | None = None
    stderr: float | None = None
    n: int | None = None
    seed: int
    status: str
    device: str | None = None
    dtype: str | None = None
    elapsed_s: float | None = None
    run_id: str | None = None
    version: str | None = None
    git_sha: str | None = None
    timestamp: str | None = None
    cell_key: str
    position: int | None = None
    depth: float | None = None
    window: str | None = None
    skipped: int | None = None
    error: str | None = None
    layer: int | None = None
    frequency: int | None = None
    head: int | None = None
    documents: int | None = None
    stderr_method: str | None = None
    train_seed: int | None = None
    group: str | None = None

    @model_validator(mode="after")
    def _ok_has_a_value(self):
        if self.status == "ok" and self.value is None:
            raise ValueError("an ok row needs a value (a cell that did not finish has another status)")
        return self


def rows_file(out: Path, shard=None) -> Path:
    """Where a run appends its rows: ``results.jsonl``, or its shard's own file."""
    name = RESULTS_FILE if shard is None else f"results.shard-{shard.index}-of-{shard.count}.jsonl"
    return Path(out) / name


def rows_files(out: Path) -> list[Path]:
    """Every rows file of a results folder."""
    out = Path(out)
    return [p for p in (out / RESULTS_FILE, *sorted(out.glob(SHARD_FILES))) if p.exists()]


def results_folders(paths) -> list[Path]:
    """The results folders at or under ``paths`` (those holding any rows file)."""
    found = {f.parent for p in paths for f in Path(p).rglob("results*.jsonl")}
    return sorted(folder for folder in found if rows_files(folder))


def read_rows(out: Path) -> list[dict]:
    """All complete rows of a folder's rows files, oldest first. A torn last line (a kill
    mid-write) is ignored; any other line that is not a JSON row is a one-line error: the
    file was damaged, and guessing which cells it held could skip or repeat work silently."""
    rows = []
    for path in rows_files(out):
        try:
            lines = read_bytes(path, "rows file", MAX_ROWS_BYTES).decode("utf-8").splitlines()
        except UnicodeDecodeError as e:
            raise BadInput(f"{path} is unreadable ({e}); move it aside or choose another --out") from None
        for number, line in enumerate(lines, 1):
            row = parse_row(line)
            if row is not None:
                try:
                    validate(Row, row, f"{path} line {number}")
                except BadInput as e:
                    raise BadInput(f"{e}; repair the row or move the file aside") from None
                rows.append(row)
            elif number < len(lines):
                raise BadInput(f"{path} line {number} is not a result row; repair or move the file aside "
                               "(or choose another --out)")
    rows.sort(key=lambda row: row.get("timestamp") or "")  # stable: a file's own order is kept
    return rows


def parse_row(line: str | bytes) -> dict | None:
    """A rows-file line as a row, or None when it is not one (torn, garbage, not an object)."""
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return row if isinstance(row, dict) and "cell_key" in row else None


def finished_keys(out: Path) -> set[str]:
    """Cell keys that already have ``ok`` rows in ``out``: a rerun skips them."""
    return {r["cell_key"] for r in read_rows(out) if r.get("status") == "ok"}


def folder_lock(out: Path):
    """An inter-process lock on a results folder, held while rewriting a file several
    shards share (released by the OS if its holder is killed)."""
    from filelock import FileLock

    return FileLock(Path(out) / ".pope-bench.lock")


def headline(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows that are a cell's headline numbers (no curve or map index)."""
    return frame[frame[CURVE_COLUMNS].isna().all(axis=1)]


def load(out) -> pd.DataFrame:
    """The results of a folder as a DataFrame with the schema's columns, latest row per
    (cell, metric, position, depth, layer, frequency, head) — so a recomputed cell replaces the old one."""
    rows = read_rows(Path(out))
    frame = pd.DataFrame(rows, columns=COLUMNS) if rows else pd.DataFrame(columns=COLUMNS)
    if frame.empty:
        return frame
    return frame.drop_duplicates(subset=ROW_KEY, keep="last").reset_index(drop=True)


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
        frame = load(out)
        for name, write in (("results.csv", lambda p: frame.to_csv(p, index=False)),
                            ("results.parquet", lambda p: frame.to_parquet(p, index=False))):
            tmp = out / (name + ".tmp")
            write(tmp)
            tmp.replace(out / name)
    return frame
