"""The rows a figure reads: every results folder under the ``--results`` folders, and
for each figure the slice it needs — or a one-line error naming the ``pope-bench run``
command that would produce the missing rows.

``results/`` holds one folder per sweep, so a folder is searched recursively. The commands
that produced the rows come from each folder's ``manifest.json`` (by ``run_id``), for the
figures' captions.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pope_bench.core.errors import BadInput
from pope_bench.encodings import appearance
from pope_bench.report.figures.specs import INDEX_COLUMNS, FigureSpec
from pope_bench.sweep.manifest import manifest_runs
from pope_bench.sweep.results import load
from pope_bench.sweep.rows import CURVE_COLUMNS, ROW_KEY, results_folders

#: what one row measures, whichever sweep (cell key) it came from
MEASUREMENT = ["series", "task", "metric", "length", "seed", "window", *CURVE_COLUMNS]


class MissingRows(BadInput):
    """A figure's rows are not in the results; the message says which run makes them."""


@dataclass
class ResultSet:
    frame: pd.DataFrame
    folders: list[Path]
    #: run_id → the command line that wrote it
    commands: dict[str, str] = field(default_factory=dict)


def load_results(paths) -> ResultSet:
    """Rows of every results folder at or under ``paths``, concatenated: the latest row per
    key, and of one measurement made by several sweeps, the row on the most examples."""
    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.exists():
            raise BadInput(f"--results {path} does not exist; run `pope-bench run` first (it writes runs/latest), "
                           "or point --results at a folder it wrote (the bundled reference rows: --results results)")
    folders = results_folders(paths)
    frames = []
    for folder in folders:
        frame = load(folder)
        if not frame.empty:
            frames.append(frame.assign(folder=str(folder)))
    if not frames:
        where = ", ".join(str(p) for p in paths)
        raise BadInput(f"no results under {where}; run `pope-bench run --out {paths[0]}/NAME` first")
    frame = pd.concat(frames, ignore_index=True).drop_duplicates(subset=ROW_KEY, keep="last")
    # the same measurement from two sweeps (the default suite's 4,096 tokens next to the full
    # grid's 32,768): a figure shows the one on the most examples, never both
    frame = frame.sort_values("n", kind="stable", na_position="first").drop_duplicates(
        subset=MEASUREMENT, keep="last").sort_index()
    frame["method"] = [method(pe, scaling) for pe, scaling in zip(frame["pe"], frame["scaling"])]
    return ResultSet(frame.reset_index(drop=True), folders, _commands(folders))


def _commands(folders: list[Path]) -> dict[str, str]:
    commands = {}
    for folder in folders:
        for run in manifest_runs(folder):
            program = Path(run.argv[0]) if run.argv else Path()
            is_ours = program.name == "pope-bench" or (program.name == "__main__.py"
                                                        and program.parent.name == "pope_bench")
            if is_ours and run.run_id is not None:
                commands[run.run_id] = "pope-bench " + shlex.join(run.argv[1:])
    return commands


def method(pe: str, scaling) -> str:
    """The encoding plus any eval-time scaling: rope, pope, rope+yarn4, ..."""
    return pe if pd.isna(scaling) or scaling == "none" else f"{pe}+{scaling}"


def method_label(name: str) -> str:
    pe, _, scaling = name.partition("+")
    pretty = appearance(pe).label
    return f"{pretty}+{scaling}" if scaling else pretty


def run_command(tasks, filters: dict) -> str:
    """The sweep that produces rows for ``tasks`` at the lengths ``filters`` asks for."""
    parts = ["pope-bench run", *(f"-t {t}" for t in tasks)]
    if "length_ratio" in filters:
        parts.append("--lengths " + ",".join(f"{float(v):g}x" for v in as_list(filters["length_ratio"])))
    elif "length" in filters:
        parts.append("--lengths " + ",".join(str(int(v)) for v in as_list(filters["length"])))
    return " ".join(parts)


def as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def select(frame: pd.DataFrame, spec: FigureSpec, tasks, metrics) -> pd.DataFrame:
    """The ok rows of the first of ``tasks`` that has any, at ``metrics``, through the spec's
    filters, with the index columns the spec uses filled and the others empty."""
    tasks = list(tasks)
    present = [t for t in tasks if (frame["task"] == t).any()]
    if not present:
        hint = " or ".join(f"`{run_command([t], spec.filters)}`" for t in tasks)
        raise MissingRows(f"no rows for task {' or '.join(tasks)}: run {hint}")
    task = present[0]
    command = run_command([task], spec.filters)
    rows = frame[frame["task"] == task]
    ok = rows[rows["status"] == "ok"]
    if ok.empty:
        statuses = ", ".join(sorted(set(rows["status"].astype(str))))
        raise MissingRows(f"every row of task {task} failed ({statuses}); see their error column, "
                          f"then rerun `{command}`")
    rows = ok[ok["metric"].isin(metrics)]
    if rows.empty:
        raise MissingRows(f"rows of task {task} have no metric {' or '.join(metrics)} (they have "
                          f"{', '.join(sorted(set(ok['metric'])))}); rerun `{command} --force` with this pope-bench")
    for column, wanted in spec.filters.items():
        if column not in rows:
            raise MissingRows(f"rows of task {task} have no {column} column for figure {spec.name}'s filter")
        rows = rows[rows[column].isin(as_list(wanted))]
    if rows.empty:
        where = ", ".join(f"{c} {v}" for c, v in spec.filters.items())
        raise MissingRows(f"no rows of task {task} at {where}: run `{command}`")
    for column in INDEX_COLUMNS:
        if column not in spec.used_columns:
            rows = rows[rows[column].isna()] if column in rows else rows
        elif column not in rows or rows[column].isna().all():
            raise MissingRows(f"rows of task {task} lack the {column} column figure {spec.name} needs; "
                              f"rerun `{command} --force` with this pope-bench")
        else:
            rows = rows[rows[column].notna()]
    if rows.empty:
        unused = "/".join(c for c in INDEX_COLUMNS if c not in spec.used_columns)
        raise MissingRows(f"every {' or '.join(metrics)} row of task {task} has a {unused} value, "
                          f"which figure {spec.name} does not read; choose another metric in its spec")
    return rows


def baseline_rows(frame: pd.DataFrame, spec: FigureSpec, tasks) -> pd.DataFrame:
    """The ok headline rows of ``tasks`` whose metric is a trivial baseline (declared so by
    its task type: computed on the same examples), through the spec's filters."""
    from pope_bench.report.declared_metrics import builtin_baselines

    rows = frame[frame["task"].isin(list(tasks)) & (frame["status"] == "ok")
                 & frame["metric"].isin(list(builtin_baselines()))]
    rows = rows[rows[[c for c in INDEX_COLUMNS if c in rows]].isna().all(axis=1)]
    for column, wanted in spec.filters.items():
        rows = rows[rows[column].isin(as_list(wanted))] if column in rows else rows.iloc[:0]
    return rows


def baseline_label(metric: str) -> str:
    """How a trivial baseline reads in tables and legends: its task type's declared words."""
    from pope_bench.report.declared_metrics import baseline_phrase

    return baseline_phrase(metric)


def select_groups(frame: pd.DataFrame, spec: FigureSpec, groups) -> tuple[list, list[str]]:
    """:func:`select` for each (label, tasks, metrics) group — a table's columns, a chart's
    tasks: the slices (None where a group has no rows) and a note for each missing one.
    MissingRows when no group has rows, naming one sweep that makes them all (the last,
    most available, alternative of each group)."""
    found, notes = [], []
    for label, tasks, metrics in groups:
        try:
            found.append(select(frame, spec, tasks, metrics))
        except MissingRows as e:
            found.append(None)
            notes.append(f"{label}: {e}" if label else str(e))
    if all(rows is None for rows in found):
        if frame["task"].isin(spec.all_tasks).any():
            raise MissingRows(" | ".join(notes))
        tasks = [tasks[-1] for _, tasks, _ in groups]
        raise MissingRows(f"no rows for task{'s' * (len(tasks) > 1)} {', '.join(tasks)}: "
                          f"run `{run_command(tasks, spec.filters)}`")
    return found, notes


def model_sizes(models, checkpoints: Path | None) -> dict[str, str]:
    """Parameter counts (``3.2M``) from the checkpoint registry's safetensors headers;
    ``?`` for models it does not hold."""
    from pope_bench.models.checkpoints import load_registry, parameter_count

    registry = load_registry(checkpoints) if checkpoints is not None and Path(checkpoints).exists() else {}
    return {m: parameter_count(registry[m]) if m in registry else "?" for m in models}


def size_order(size: str) -> float:
    """``3.2M`` → 3.2e6, for sorting; unknown sizes last."""
    units = {"K": 1e3, "M": 1e6, "B": 1e9}
    try:
        return float(size[:-1]) * units[size[-1]]
    except (KeyError, ValueError, IndexError):
        return math.inf
