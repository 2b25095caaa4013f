"""The paper's tables (1–4 and the downstream average) from result rows, next to the
published numbers.

One row per model in the results — or per registry group, the checkpoints of one recipe
trained with different seeds — with its method (encoding plus any eval-time scaling) and
parameter count, one column per task: the mean, ± the spread the ``± is`` column names:
the std over training seeds when a group has several checkpoints (the paper's "11.16 ±
2.45" over 3 seeds), else the rows' own standard error with its method (binomial,
window-clustered, …), combined over test seeds (``--seed``). The trivial baselines the tasks report on the same examples
(``baseline*`` metrics: chance, always the source letter, …) follow as rows of their own.
The paper's numbers sit in separate ``paper: …`` columns, on the rows of the same method,
each with the model size that produced it; methods only the paper has (e.g. ALiBi) get
rows of their own. Written as markdown (for reading) and CSV (numbers unformatted, for
checking).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from pope_bench.encodings import appearance
from pope_bench.report.figures.rows import (
    baseline_label,
    baseline_rows,
    method_label,
    select_groups,
    size_order,
)
from pope_bench.report.figures.specs import FigureSpec, PaperNumber
from pope_bench.report.seed_spread import spread, unit


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
    used = used.assign(unit=unit(used))
    first = used.drop_duplicates("unit").set_index("unit")
    methods = first["method"]
    unit_sizes = {u: sizes.get(first.loc[u, "model"], "?") for u in first.index}
    models = sorted(set(used["unit"]), key=lambda m: (size_order(unit_sizes[m]), _method_order(methods[m]), m))
    average = spec.average and spec.average + (f" ({len(columns)} of {len(spec.columns)} tasks)"
                                               if len(columns) < len(spec.columns) else "")
    paper_columns = list(dict.fromkeys(p.column for p in spec.paper))
    records, text = [], []
    for model in models:
        record = {"model": model, "method": method_label(methods[model]), "params": unit_sizes[model]}
        cells = [model, record["method"], record["params"]]
        values, meanings = [], []
        for column, rows in columns:
            mean, std, what = _summary(rows[unit(rows) == model], spec.scale)
            record[column.label], record[f"{column.label} ±"] = mean, std
            cells.append(_fmt(mean, std, spec.digits))
            values.append(mean)
            meanings.append(what)
        if average:
            present = [v for v in values if not math.isnan(v)]
            record[average] = sum(present) / len(present) if present else math.nan
            incomplete = f" ({len(present)}/{len(values)})" if len(present) < len(values) else ""
            cells.append(_fmt(record[average], math.nan, spec.digits) + incomplete)
        record["± is"] = "; ".join(dict.fromkeys(m for m in meanings if m))
        cells.append(record["± is"] or "—")
        for label in paper_columns:
            record[f"paper: {label}"] = _paper_cell(spec.paper, label, methods[model])
            cells.append(record[f"paper: {label}"] or "—")
        records.append(record)
        text.append(cells)
    baselines = [baseline_rows(frame, spec, column.tasks) for column, _ in columns]
    for name in sorted(set().union(*(set(b["metric"]) for b in baselines))):
        record = {"model": "(baseline)", "method": baseline_label(name), "params": ""}
        cells = ["(baseline)", record["method"], "—"]
        for (column, _), rows in zip(columns, baselines):
            # the same examples for every model of one train length: the mean over models and seeds
            value = rows.loc[rows["metric"] == name, "value"].mean() * spec.scale
            record[column.label] = value
            cells.append(_fmt(value, math.nan, spec.digits))
        cells += [*(["—"] if average else []), "—", *["—"] * len(paper_columns)]
        records.append(record)
        text.append(cells)
    ours = set(methods)
    for paper_method in dict.fromkeys(p.method for p in spec.paper if p.method not in ours):
        entry = next(p for p in spec.paper if p.method == paper_method)
        name = entry.label or method_label(paper_method)
        record = {"model": "(paper only)", "method": name, "params": ""}
        cells = ["(paper only)", name, "—", *["—"] * len(columns), *(["—"] if average else []), "—"]
        for label in paper_columns:
            record[f"paper: {label}"] = _paper_cell(spec.paper, label, paper_method)
            cells.append(record[f"paper: {label}"] or "—")
        records.append(record)
        text.append(cells)
    header = ["model", "method", "params", *(c.label for c, _ in columns), *([average] if average else []),
              "± is", *(f"paper: {label}" for label in paper_columns)]
    return Table(pd.DataFrame(records), _markdown(header, text), notes, used)


def _method_order(method: str) -> tuple:
    """Encodings in their declared order (RoPE before PoPE, the paper's row order), an
    encoding before its scaled variants."""
    pe, _, scaling = method.partition("+")
    return (appearance(pe).order, scaling)


def _summary(rows: pd.DataFrame, scale: float) -> tuple[float, float, str]:
    """Mean, spread and what the spread is (:func:`~pope_bench.report.figures.rows.spread`), scaled."""
    if rows.empty:
        return math.nan, math.nan, ""
    (record,) = spread(rows.assign(cell=0), "cell").to_dict("records")
    return record["mean"] * scale, record["std"] * scale, record["what"]


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
