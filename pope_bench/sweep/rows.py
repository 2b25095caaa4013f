"""The rows files of a results folder, one line per row: their names (one per shard), the
typed row (:class:`Row`), reading them all, the cells already finished, and the folder's
lock. :mod:`pope_bench.sweep.results` builds the DataFrame readers see on top of this.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ConfigDict, model_validator

from pope_bench.core.errors import BadInput
from pope_bench.core.schema import StrictModel, read_bytes, validate

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
    settings: str | None = None
    clusters: int | None = None

    @model_validator(mode="after")
    def _ok_has_a_value(self):
        if self.status == "ok" and self.value is None:
            raise ValueError("an ok row needs a value (a cell that did not finish has another status)")
        return self


#: the columns of a rows file, in order: the fields of :class:`Row` (their one owner)
COLUMNS = list(Row.model_fields)


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
    mid-write: no newline after it) is ignored; any other line that is not a JSON row is a
    one-line error: the file was damaged or is not pope-bench's, and guessing which cells it
    held could skip or repeat work silently."""
    rows = []
    for path in rows_files(out):
        try:
            text = read_bytes(path, "rows file", MAX_ROWS_BYTES).decode("utf-8")
        except UnicodeDecodeError as e:
            raise BadInput(f"{path} is unreadable ({e}); move it aside or choose another --out") from None
        lines = text.splitlines()
        torn = 0 if text.endswith("\n") else len(lines)  # the one line a kill can leave half-written
        for number, line in enumerate(lines, 1):
            row = parse_row(line)
            if row is not None:
                try:
                    validate(Row, row, f"{path} line {number}")
                except BadInput as e:
                    raise BadInput(f"{e}; repair the row or move the file aside") from None
                rows.append(row)
            elif number != torn:
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
