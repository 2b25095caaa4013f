"""RULER's effective context length (Hsieh et al. 2024, §4): per model and task, the
longest evaluated length whose score is at least a threshold — by default 0.856, the
score of Llama-2-7B at 4k, RULER's reference — and, for native checkpoints, that length
as a multiple of the training length. ``ruler (mean)`` does the same for the mean over
the RULER tasks evaluated at every length of that model.

It reads rows only (the tasks' ``string_match_*`` headline rows) and is shown after the
end-of-run summary and drawn by ``pope-bench plot`` (``effective_length.png``).
"""

from __future__ import annotations

import pandas as pd

from pope_bench.core.errors import BadInput
from pope_bench.sweep.results import headline
from pope_bench.tasks.ruler import METRICS as RULER_METRICS

#: RULER's threshold: Llama-2-7B's mean score at 4k tokens
DEFAULT_THRESHOLD = 0.856
#: the RULER tasks' metrics, main one first, as the task type declares them
METRICS = tuple(m.name for m in RULER_METRICS)
MEAN = "ruler (mean)"


def check_threshold(value: float) -> float:
    if not 0.0 < value <= 1.0:
        raise BadInput(f"--threshold {value} is outside (0, 1]; RULER's is 0.856 (a score of 85.6 %)")
    return value


def scores(frame: pd.DataFrame) -> pd.DataFrame:
    """model, task, length, score (mean over seeds), train_length, pe: each RULER task's
    main metric, plus the per-length mean over the tasks every length of a model has."""
    ok = headline(frame[(frame["status"] == "ok") & frame["metric"].isin(METRICS)])
    if ok.empty:
        return pd.DataFrame(columns=["model", "task", "length", "score", "train_length", "pe"])
    main = ok.groupby(["model", "task"])["metric"].transform(lambda m: next(x for x in METRICS if x in set(m)))
    rows = ok[ok["metric"] == main]  # string_match_all where a task has it
    per = rows.groupby(["model", "task", "length"], as_index=False).agg(
        score=("value", "mean"), train_length=("train_length", "first"), pe=("pe", "first"))
    means = []
    for model, part in per.groupby("model"):
        tasks = part.groupby("length")["task"].nunique()
        full = tasks[tasks == part["task"].nunique()].index
        if part["task"].nunique() > 1 and len(full):
            kept = part[part["length"].isin(full)]
            mean = kept.groupby("length", as_index=False).agg(score=("score", "mean"), train_length=("train_length", "first"),
                                                               pe=("pe", "first"))
            means.append(mean.assign(model=model, task=MEAN))
    return pd.concat([per, *means], ignore_index=True)


def effective_lengths(frame: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """model, task, effective_length (None: below the threshold at every length),
    ratio (effective length / train length), lengths (how many were evaluated)."""
    table = scores(frame)
    out = []
    for (model, task), part in table.groupby(["model", "task"], sort=False):
        passing = part[part["score"] >= threshold]["length"]
        effective = int(passing.max()) if len(passing) else None
        train = part["train_length"].iloc[0]
        ratio = effective / train if effective is not None and pd.notna(train) and train else None
        out.append({"model": model, "task": task, "effective_length": effective, "ratio": ratio,
                    "lengths": int(part["length"].nunique()), "shortest": int(part["length"].min()),
                    "longest": int(part["length"].max())})
    return pd.DataFrame(out, columns=["model", "task", "effective_length", "ratio", "lengths", "shortest", "longest"])


def describe(row) -> str:
    """``2048 (16×)``, or ``< 512`` when even the shortest length scored below the threshold."""
    if row["effective_length"] is None or pd.isna(row["effective_length"]):
        return f"< {row['shortest']}"
    text = str(int(row["effective_length"]))
    if row["ratio"] is not None and pd.notna(row["ratio"]):
        text += f" ({row['ratio']:g}×)"
    return text


def effective_length_table(frame: pd.DataFrame, threshold: float, tasks=(), models=()):
    """The effective length per task (rows) and model (columns) as a rich table, in the run's
    order of tasks and models, or None where the rows hold no RULER task."""
    from rich.table import Table

    from pope_bench.report.table import ordered

    table = effective_lengths(frame, threshold)
    if table.empty:
        return None

    order = ordered(table["model"], models)
    out = Table(title=f"effective length (longest L with score ≥ {threshold:g}; × train length)", title_justify="left")
    out.add_column("task", no_wrap=True)
    for model in order:
        out.add_column(model, justify="right", no_wrap=True)
    for task in ordered(table["task"], [*tasks, MEAN]):
        part = table[table["task"] == task].set_index("model")
        out.add_row(task, *[describe(part.loc[m]) if m in part.index else "—" for m in order])
    return out
