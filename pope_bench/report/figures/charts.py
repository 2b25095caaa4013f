"""What every chart shares: the panel grid, method colours, size line styles, and saving.

Colour is the method — each encoding in the colour its class declares, each eval-time
scaling variant (YaRN, PI, NTK, …) a shade of it (:func:`~pope_bench.report.styles.variant_color`,
the same in every figure whatever else is drawn) — and line style is the model size, so
one legend reads both (the paper's Fig. 2 convention). Markers are the encoding's (hollow
for a ``factor: auto`` variant).
"""

from __future__ import annotations

import numbers
from pathlib import Path

import pandas as pd

from pope_bench.encodings import appearance
from pope_bench.report.figure_files import save_figure
from pope_bench.report.figures.rows import method_label, size_order
from pope_bench.report.figures.specs import FigureSpec
from pope_bench.report.styles import SCALING_STYLES, variant_color


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def method_colors(methods) -> dict[str, str]:
    """An encoding (``rope``) in its own colour, a scaling variant (``rope+yarn4``) in a shade of it."""
    return {m: variant_color(m.partition("+")[0], m.partition("+")[2] or "none") for m in set(methods)}


def method_marker(method: str) -> str:
    return appearance(method.partition("+")[0]).marker


def size_styles(sizes) -> dict[str, str]:
    ordered = sorted(set(sizes), key=size_order)
    return {s: SCALING_STYLES[i % len(SCALING_STYLES)] for i, s in enumerate(ordered)}


def panel_values(rows: pd.DataFrame, spec: FigureSpec, column: str | None) -> list:
    """The values that split panels: in the spec's order for tasks and metrics, else sorted."""
    if column is None:
        return [None]
    present = set(rows[column])
    listed = {"task": spec.tasks, "metric": spec.metric}.get(column, ())
    return [v for v in listed if v in present] + sorted(present - set(listed))


def value_label(spec: FigureSpec, column: str, value) -> str:
    """How a panel or axis value reads: the spec's label, ``2×`` for a length ratio,
    ``layer 3`` for other numbers, the method's name for a method."""
    if value in spec.labels:
        return str(spec.labels[value])
    if isinstance(value, numbers.Number):
        return f"{value:g}×" if column == "length_ratio" else f"{column} {value:g}"
    return method_label(value) if column == "method" else str(value)


def panel_title(spec: FigureSpec, row_value, col_value) -> str:
    return " · ".join(value_label(spec, column, value)
                      for column, value in ((spec.panel_rows, row_value), (spec.panel_cols, col_value))
                      if column is not None)


def panel_rows(rows: pd.DataFrame, spec: FigureSpec, row_value, col_value) -> pd.DataFrame:
    for column, value in ((spec.panel_rows, row_value), (spec.panel_cols, col_value)):
        if column is not None:
            rows = rows[rows[column] == value]
    return rows


def panel_grid(rows: pd.DataFrame, spec: FigureSpec, width: float, height: float):
    """One axis per (panel row, panel column) pair: plt, fig, the axes, and (axis, rows) for
    each panel that has rows, already titled; panels without rows are blanked."""
    row_values, col_values = panel_values(rows, spec, spec.panel_rows), panel_values(rows, spec, spec.panel_cols)
    # wrapped, each row value packs only the column values it has (a task's own lengths)
    own = {r: [c for c in col_values if not panel_rows(rows, spec, r, c).empty] if spec.panel_wrap else col_values
           for r in row_values}
    wrap = min(spec.panel_wrap or len(col_values), max(len(v) for v in own.values()))
    lines = {r: max(1, -(-len(own[r]) // wrap)) for r in row_values}  # grid rows per row value
    plt, fig, axes = grid(sum(lines.values()), wrap, width, height)
    filled, top = [], 0
    for row_value in row_values:
        first, values = None, own[row_value]
        for j in range(lines[row_value] * wrap):
            ax = axes[top + j // wrap][j % wrap]
            part = panel_rows(rows, spec, row_value, values[j]) if j < len(values) else rows.iloc[:0]
            if part.empty:
                ax.axis("off")
                continue
            if spec.panel_wrap:  # one y scale for the panels of one row value (one task)
                if first is None:
                    first = ax
                else:
                    ax.sharey(first)
            ax.set_title(panel_title(spec, row_value, values[j]), fontsize=9)
            filled.append((ax, part))
        top += lines[row_value]
    return plt, fig, axes, filled


def grid(n_rows: int, n_cols: int, width: float, height: float):
    plt = pyplot()
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(width * n_cols, height * n_rows), squeeze=False,
                             layout="constrained")
    return plt, fig, axes


def save(plt, fig, out: Path, name: str) -> list[Path]:
    """PNG (for the README) and SVG (for the paper), byte-identical when regenerated."""
    return save_figure(fig, out, name)
