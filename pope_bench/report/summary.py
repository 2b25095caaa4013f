"""The end-of-run summary: each task's main metric, one row per model, one column per
length — tasks and models in the order the run asked for them.

Rows are models (names can be long, numbers are short), so a table grows by lengths; when
the lengths do not fit the console width (80 columns is the target) they fold into
several tables, each repeating the model column, instead of rich squeezing every cell
into broken fragments.
"""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from pope_bench.report.plots import PROPORTIONS, main_metric
from pope_bench.sweep.results import headline

#: console columns one length column takes: a 4-significant-digit number, padding, border
LENGTH_COLUMN_WIDTH = 8


def summary_tables(frame: pd.DataFrame, tasks=(), models=(), width: int = 80) -> list[Table]:
    """Tables of the main metric by model and length. ``tasks`` and ``models`` give the
    order (those not named follow, sorted)."""
    tables = []
    ok = headline(frame[frame["status"] == "ok"])
    for task in _ordered(frame["task"], tasks):
        rows = ok[ok["task"] == task]
        failed = frame[(frame["task"] == task) & (frame["status"] != "ok")]
        if rows.empty and failed.empty:
            continue
        metric = main_metric(rows) if not rows.empty else failed["metric"].iloc[0]
        pivot = rows[rows["metric"] == metric].pivot_table(index="model", columns="length", values="value",
                                                           aggfunc="mean").astype(object)
        for _, cell in failed.iterrows():  # show failures where the number would be
            pivot.loc[cell["model"], cell["length"]] = cell["status"]
        pivot = pivot.reindex(index=_ordered(pivot.index, models), columns=sorted(pivot.columns))
        name_width = max(len("model"), *(len(str(m)) for m in pivot.index)) + 3
        per_table = max(1, (width - name_width - 1) // LENGTH_COLUMN_WIDTH)
        chunks = [list(pivot.columns[i:i + per_table]) for i in range(0, len(pivot.columns), per_table)]
        for k, lengths in enumerate(chunks):
            part = f" ({k + 1}/{len(chunks)})" if len(chunks) > 1 else ""
            unit = " (%)" if metric in PROPORTIONS else ""
            table = Table(title=f"{task}: {metric}{unit} by length{part}", title_justify="left")
            table.add_column("model", no_wrap=True)
            for length in lengths:
                table.add_column(str(length), justify="right", no_wrap=True)
            for model, values in pivot[lengths].iterrows():
                table.add_row(str(model), *[_fmt(v, metric in PROPORTIONS) for v in values])
            tables.append(table)
    return tables


def _ordered(present, wanted) -> list:
    present = list(dict.fromkeys(present))
    return [x for x in wanted if x in present] + sorted(x for x in present if x not in wanted)


def _fmt(value, percent: bool) -> str:
    if isinstance(value, str):
        return f"[red]{value}[/red]"
    if pd.isna(value):
        return "—"
    return f"{100 * value:.1f}" if percent else f"{value:.4g}"


def effective_length_table(frame: pd.DataFrame, threshold: float, tasks=(), models=()) -> Table | None:
    """RULER's effective length per task (rows) and model (columns), or None without RULER rows."""
    from pope_bench.report.effective_length import MEAN, describe, effective_lengths

    table = effective_lengths(frame, threshold)
    if table.empty:
        return None
    names = _ordered(table["task"], [*tasks, MEAN])
    order = _ordered(table["model"], models)
    out = Table(title=f"effective length (longest L with score ≥ {threshold:g}; × train length)", title_justify="left")
    out.add_column("task", no_wrap=True)
    for model in order:
        out.add_column(model, justify="right", no_wrap=True)
    for task in names:
        part = table[table["task"] == task].set_index("model")
        out.add_row(task, *[describe(part.loc[m]) if m in part.index else "—" for m in order])
    return out
