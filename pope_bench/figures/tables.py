"""The paper's tables (1–4 and the downstream average) from result rows, next to the
published numbers.

One row per model in the results (with its method — encoding plus any eval-time scaling —
and its parameter count), one column per task: the mean over seeds, ± the standard
deviation over seeds when there are several (the paper's "11.16 ± 2.45" over 3 seeds),
else ± the row's own standard error. The paper's numbers sit in separate ``paper: …``
columns, on the rows of the same method, each with the model size that produced it;
methods only the paper has (e.g. ALiBi) get rows of their own. Written as markdown (for
reading) and CSV (numbers unformatted, for checking).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ..encodings import appearance
from .rows import method_label, select_groups, size_order
from .specs import FigureSpec, PaperNumber


@dataclass
class Table:
    frame: pd.DataFrame  # as written to the CSV
    markdown: str
    notes: list[str]
    rows: pd.DataFrame  # the result rows it read


def build_table(spec: FigureSpec, frame: pd.DataFrame, sizes: dict[str, str]) -> Table:
    found, notes = select_groups(frame, spec, [(c.label, c.tasks, [c.metric]) for c in spec.columns])
    columns = [(column, rows) for column, rows in zip(spec.columns, found) if rows is not None]
    used = pd.concat([rows for _, rows in columns])
    methods = used.drop_duplicates("model").set_index("model")["method"]
    models = sorted(set(used["model"]), key=lambda m: (size_order(sizes.get(m, "?")), _method_order(methods[m]), m))
    average = spec.average and spec.average + (f" ({len(columns)} of {len(spec.columns)} tasks)"
                                               if len(columns) < len(spec.columns) else "")
    paper_columns = list(dict.fromkeys(p.column for p in spec.paper))
    records, text = [], []
    for model in models:
        record = {"model": model, "method": method_label(methods[model]), "params": sizes.get(model, "?")}
        cells = [model, record["method"], record["params"]]
        values = []
        for column, rows in columns:
            mean, spread = _summary(rows[rows["model"] == model], spec.scale)
            record[column.label], record[f"{column.label} ±"] = mean, spread
            cells.append(_fmt(mean, spread, spec.digits))
            values.append(mean)
        if average:
            present = [v for v in values if not math.isnan(v)]
            record[average] = sum(present) / len(present) if present else math.nan
            incomplete = f" ({len(present)}/{len(values)})" if len(present) < len(values) else ""
            cells.append(_fmt(record[average], math.nan, spec.digits) + incomplete)
        for label in paper_columns:
            record[f"paper: {label}"] = _paper_cell(spec.paper, label, methods[model])
            cells.append(record[f"paper: {label}"] or "—")
        records.append(record)
        text.append(cells)
    ours = set(methods)
    for paper_method in dict.fromkeys(p.method for p in spec.paper if p.method not in ours):
        entry = next(p for p in spec.paper if p.method == paper_method)
        name = entry.label or method_label(paper_method)
        record = {"model": "(paper only)", "method": name, "params": ""}
        cells = ["(paper only)", name, "—", *["—"] * len(columns), *(["—"] if average else [])]
        for label in paper_columns:
            record[f"paper: {label}"] = _paper_cell(spec.paper, label, paper_method)
            cells.append(record[f"paper: {label}"] or "—")
        records.append(record)
        text.append(cells)
    header = ["model", "method", "params", *(c.label for c, _ in columns), *([average] if average else []),
              *(f"paper: {label}" for label in paper_columns)]
    return Table(pd.DataFrame(records), _markdown(header, text), notes, used)


def _method_order(method: str) -> tuple:
    """Encodings in their declared order (RoPE before PoPE, the paper's row order), an
    encoding before its scaled variants."""
    pe, _, scaling = method.partition("+")
    return (appearance(pe).order, scaling)


def _summary(rows: pd.DataFrame, scale: float) -> tuple[float, float]:
    """Mean over seeds and its spread (std over seeds, else the row's stderr), scaled."""
    if rows.empty:
        return math.nan, math.nan
    per_seed = rows.groupby("seed")["value"].mean() * scale
    if len(per_seed) > 1:
        return float(per_seed.mean()), float(per_seed.std(ddof=1))
    stderr = rows["stderr"].iloc[0]
    return float(per_seed.iloc[0]), float(stderr) * scale if stderr is not None and not pd.isna(stderr) else math.nan


def _fmt(mean: float, spread: float, digits: int) -> str:
    if math.isnan(mean):
        return "—"
    return f"{mean:.{digits}f}" + (f" ± {spread:.{digits}f}" if not math.isnan(spread) else "")


def _paper_cell(paper: tuple[PaperNumber, ...], column: str, method: str) -> str:
    """The published numbers of one method in one paper column, each with its model size."""
    return "; ".join(f"{p.value}" + (f" ± {p.pm}" if p.pm is not None else "") + (f" ({p.model})" if p.model else "")
                     for p in paper if p.column == column and p.method == method)


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
