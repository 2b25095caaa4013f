"""The end-of-run summary: each task's main metric by length, one column per model."""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from .plots import main_metric
from .results import headline


def summary_tables(frame: pd.DataFrame) -> list[Table]:
    tables = []
    ok = headline(frame[frame["status"] == "ok"])
    for task in sorted(set(frame["task"])):
        rows = ok[ok["task"] == task]
        failed = frame[(frame["task"] == task) & (frame["status"] != "ok")]
        if rows.empty and failed.empty:
            continue
        metric = main_metric(rows) if not rows.empty else failed["metric"].iloc[0]
        pivot = rows[rows["metric"] == metric].pivot_table(index="length", columns="model", values="value", aggfunc="mean")
        for _, cell in failed.iterrows():  # show failures where the number would be
            pivot.loc[cell["length"], cell["model"]] = cell["status"]
        table = Table(title=f"{task}: {metric}")
        table.add_column("length", justify="right")
        for model in pivot.columns:
            table.add_column(str(model), justify="right", overflow="fold")
        for length, values in pivot.sort_index().iterrows():
            table.add_row(str(length), *[_fmt(v) for v in values])
        tables.append(table)
    return tables


def _fmt(value) -> str:
    if isinstance(value, str):
        return f"[red]{value}[/red]"
    if pd.isna(value):
        return "—"
    return f"{value:.4g}"
