"""One folder, one experiment per (model, task, length, seed).

Every row carries a short *settings id* (:func:`~pope_bench.tasks.base.settings_id`: the
task's type and resolved params, and the cell's budget), and each run's manifest entry
maps the ids it wrote to those facts. A run that would write a cell whose settings differ
from rows already in ``--out`` for the same (model, task, length, seed) — another
``--limit``, other params, another task definition under the same name — is refused
before any work, unless ``--replace`` asks to drop the old rows. Readers never average
across ids: where a folder written by an older pope-bench already mixes them, each id is
its own series (the ``series`` column, ``model [id]``) and a one-line warning says so.

Rows written before settings ids existed get theirs from the manifest entry of their
``run_id`` (its task params, and its ``--limit`` or its suite's limit for the task).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pope_bench.core.errors import BadInput
from pope_bench.sweep.manifest import read_manifest
from pope_bench.tasks.base import settings_id

#: what one experiment is measured at; a folder holds one settings id per such cell
IDENTITY = ("model", "task", "length", "seed")


def settings_facts(cell) -> dict:
    """What a cell's settings id stands for, as the manifest records it."""
    return {"task": cell.task.name, "type": cell.task.definition.type,
            "params": cell.task.params.model_dump(mode="json"), "limit": cell.limit}


def _facts_id(facts: dict) -> str:
    return settings_id(facts["type"], facts["params"], facts["limit"])


def _suite_limit(suite: str | None, task: str) -> int | None:
    if not suite:
        return None
    from pope_bench.sweep.suites import load_suite

    try:
        chosen = load_suite(suite)
    except BadInput:
        return None
    return next((s.limit for s in chosen.sweeps if task in s.tasks), None)


def run_settings(run: dict) -> dict[str, dict]:
    """Settings id → facts of one manifest entry: recorded, or for an entry written
    before ids existed, derived from its task params and budget."""
    if "settings" in run:
        return run["settings"]
    found = {}
    for task, info in (run.get("tasks") or {}).items():
        limit = run.get("limit") if run.get("limit") is not None else _suite_limit(run.get("suite"), task)
        facts = {"task": task, "type": info.get("type"), "params": info.get("params") or {}, "limit": limit}
        found[_facts_id(facts)] = facts
    return found


def folder_settings(out: Path) -> tuple[dict[str, dict], dict[tuple[str, str], str]]:
    """(id → facts over every run of the folder, (run_id, task) → id of the run's rows);
    a manifest entry whose recorded id does not match its facts is a one-line error."""
    everything, by_run = {}, {}
    for run in read_manifest(out)["runs"]:
        for sid, facts in run_settings(run).items():
            if "settings" in run and _facts_id(facts) != sid:
                raise BadInput(f"{Path(out) / 'manifest.json'}: run {run.get('run_id')} lists settings id {sid} "
                               "for facts that hash to another id; the manifest was edited — restore it or move "
                               "the folder aside")
            everything[sid] = facts
            by_run.setdefault((run.get("run_id"), facts["task"]), sid)
    return everything, by_run


def resolve(rows: list[dict], out: Path) -> list[dict]:
    """``rows`` with every settings id filled (older rows: from their run's manifest entry),
    checked against the manifest: a row whose id its run does not list is a one-line error."""
    known, by_run = folder_settings(out)
    runs = {run.get("run_id"): run for run in read_manifest(out)["runs"]}
    for row in rows:
        run = runs.get(row.get("run_id"))
        if row.get("settings"):
            if run is not None and "settings" in run and row["settings"] not in run["settings"]:
                raise BadInput(f"{out}: a {row.get('task')} row of run {row.get('run_id')} has settings id "
                               f"{row['settings']}, which that run's manifest entry does not list; the rows file "
                               "and manifest.json disagree — restore them or move the folder aside")
        else:
            row["settings"] = by_run.get((row.get("run_id"), row.get("task")))
    return rows


def mixed(frame) -> list[tuple[str, str]]:
    """(model, task) pairs whose rows hold more than one settings id."""
    counts = frame.dropna(subset=["settings"]).groupby(["model", "task"])["settings"].nunique()
    return [key for key, n in counts.items() if n > 1]


def add_series(frame, out: Path | None = None, warn: bool = True):
    """The ``series`` column every reader groups by: the model, or ``model [id]`` for a
    (model, task) whose rows hold several settings ids; with a one-line warning."""
    pairs = set(mixed(frame)) if not frame.empty else set()
    frame = frame.copy()
    frame["series"] = [f"{m} [{s}]" if (m, t) in pairs else m
                       for m, t, s in zip(frame["model"], frame["task"], frame["settings"])]
    if pairs and warn:
        where = f"{out} " if out is not None else ""
        names = ", ".join(sorted(f"{m}/{t}" for m, t in pairs))
        print(f"warning: {where}mixes settings for {names} (written by an older pope-bench): each settings id "
              "is read as its own series, `model [id]`", file=sys.stderr)
    return frame


def _differences(old: dict | None, new: dict) -> str:
    if old is None:
        return "settings unknown (rows without a manifest entry)"
    parts = []
    if old.get("type") != new["type"]:
        parts.append(f"task type {old.get('type')} → {new['type']}")
    if old.get("limit") != new["limit"]:
        parts.append(f"limit {old.get('limit')} → {new['limit']}")
    before, after = old.get("params") or {}, new["params"]
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            parts.append(f"{key} {json.dumps(before.get(key))} → {json.dumps(after.get(key))}")
    return ", ".join(parts) or "settings"


def check_one_experiment(out: Path, cells, replace: bool) -> set[str]:
    """Before any work: the cell keys of rows in ``out`` that measured a cell of ``cells``
    with other settings. Without ``replace`` any such row is a one-line refusal naming the
    differing settings; with it, their keys are returned for :func:`drop_cells`."""
    from pope_bench.sweep.rows import read_rows, rows_files

    out = Path(out)
    if replace and out.is_dir() and any(out.iterdir()) and not rows_files(out) \
            and not (out / "manifest.json").exists():
        raise BadInput(f"--replace: {out} is not a pope-bench results folder (no results.jsonl or manifest.json); "
                       "check --out")
    rows = read_rows(out) if out.is_dir() else []
    if not rows:
        return set()
    rows = resolve(rows, out)
    known, _ = folder_settings(out)
    old: dict[tuple, set] = {}  # identity → the settings ids of its rows
    for row in rows:
        old.setdefault(tuple(row.get(c) for c in IDENTITY), set()).add(row.get("settings"))
    superseded = set()
    for cell in cells:
        identity = (cell.entry.name, cell.task.name, cell.length, cell.seed)
        others = sorted((sid for sid in old.get(identity, set()) if sid != cell.settings), key=str)
        if not others:
            continue
        if not replace:
            sid = others[0]
            raise BadInput(f"--out {out} already holds {cell.task.name} rows of {cell.entry.name} at {cell.length} "
                           f"(seed {cell.seed}) with settings {sid}, this run's are {cell.settings} "
                           f"({_differences(known.get(sid), settings_facts(cell))}); write to another --out, "
                           "or pass --replace to drop the old rows")
        superseded.update(r["cell_key"] for r in rows if tuple(r.get(c) for c in IDENTITY) == identity
                          and r.get("settings") != cell.settings)
    return superseded


def drop_cells(out: Path, keys: set[str]) -> None:
    """Rewrite each rows file of ``out`` without the rows of ``keys`` (``--replace``),
    atomically and under the folder's lock."""
    from pope_bench.sweep.rows import folder_lock, rows_files

    with folder_lock(out):
        for path in rows_files(out):
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            kept = [line for line in lines if _cell_key(line) not in keys]
            if len(kept) == len(lines):
                continue
            tmp = path.with_suffix(".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                f.writelines(kept)
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(path)


def _cell_key(line: str) -> str | None:
    try:
        row = json.loads(line)
    except json.JSONDecodeError:  # a torn last line: kept, the writer cuts it
        return None
    return row.get("cell_key") if isinstance(row, dict) else None
