"""Line charts: a metric against length (the paper's Fig. 2: perplexity vs evaluation
length) or against position inside the window (loss by position, where extrapolation
breaks). One line per model, or per registry group (checkpoints of one recipe trained
with different seeds) — colour = method, style = size — with a band whose meaning the
legend states: ± the std over training seeds (a group), else ± one stderr of the rows'
``stderr_method`` (several test seeds, ``--seed``: their stderrs combined). A spread
over seeds is drawn hatched and a stderr filled, so a figure that holds both shows which
is which; :func:`band_kinds` gives the same words to the figure page's caption. The
trivial baselines the task reports on the same examples (``baseline*`` metrics) are grey
reference lines. A dashed line marks the train length (1× on a length-ratio axis), and a
doubling axis is drawn in log 2.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.ticker import FuncFormatter, NullFormatter

from pope_bench.report.declared_metrics import builtin_baselines
from pope_bench.report.figures.charts import (
    method_colors,
    method_marker,
    panel_grid,
    save,
    size_styles,
    value_label,
)
from pope_bench.report.figures.rows import baseline_label, method_label
from pope_bench.report.figures.specs import FigureSpec
from pope_bench.report.plots import doubling
from pope_bench.report.seed_spread import spread, unit
from pope_bench.report.styles import BASELINE_STYLES

X_LABELS = {
    "length_ratio": "evaluation length / train length",
    "length": "evaluation length (tokens)",
    "position": "position in the window (tokens)",
}


LEGEND_WIDTH = 3.0  # inches added to the figure for the legend beside the panels


def draw_curves(spec: FigureSpec, rows: pd.DataFrame, sizes: dict[str, str], out: Path,
                baselines: pd.DataFrame | None = None) -> list[Path]:
    plt, fig, axes, filled = panel_grid(rows, spec, 4.8, 3.4)
    colors = method_colors(rows["method"])
    styles = size_styles(sizes[m] for m in set(rows["model"]))
    lines, bands, references = {}, {}, {}  # legend entries: models (with what their band is), baselines
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    for ax, part in filled:
        for name, group in part.groupby(unit(part), sort=True):
            method, size = group["method"].iloc[0], sizes[group["model"].iloc[0]]
            curve = spread(group, spec.x)
            curve[["mean", "std"]] *= spec.scale
            (line,) = ax.plot(curve[spec.x], curve["mean"], styles[size], marker=method_marker(method), ms=3,
                              color=colors[method], mfc="white" if "auto" in method else colors[method])
            if curve["std"].notna().any():
                low, high = curve["mean"] - curve["std"], curve["mean"] + curve["std"]
                if any(str(w).startswith("std over") for w in curve["what"]):  # a spread over seeds: hatched
                    ax.fill_between(curve[spec.x], low, high, facecolor="none", edgecolor=colors[method],
                                    hatch="////", lw=0, alpha=0.5)
                else:
                    ax.fill_between(curve[spec.x], low, high, color=colors[method], alpha=0.15)
            key = f"{name} ({method_label(method)}, {size})"
            lines.setdefault(key, line)
            bands.setdefault(key, {}).update(dict.fromkeys(w for w in curve["what"] if w))
        if baselines is not None:
            _draw_baselines(ax, spec, baselines[baselines["task"].isin(set(part["task"]))], references)
        marks = [1] if spec.x == "length_ratio" else sorted(set(part["train_length"]))
        for mark in marks:
            ax.axvline(mark, color="black", ls="--", lw=0.8, alpha=0.5)
        if doubling(part[spec.x]):
            ax.set_xscale("log", base=2)
        if spec.log_y:
            ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):  # plain numbers (2, 4, 8), not 2¹, 2², 3×10⁰
            axis.set_major_formatter(plain)
            axis.set_minor_formatter(plain if axis is ax.yaxis and spec.log_y else NullFormatter())
        ax.set_xlabel(spec.x_label or X_LABELS.get(spec.x, spec.x))
        ax.set_ylabel(spec.y_label or value_label(spec, "metric", part["metric"].iloc[0]))
    _legend(fig, lines, bands, references)
    return save(plt, fig, out, spec.name)


def band_kinds(rows: pd.DataFrame, x: str) -> list[str]:
    """What the bands of a chart over ``rows`` are, in the legend's words (one per kind)."""
    kinds = []
    for _, group in rows.groupby(unit(rows), sort=True):
        kinds += [w for w in spread(group, x)["what"] if w]
    return list(dict.fromkeys(kinds))


def _legend(fig, lines: dict, bands: dict, references: dict) -> None:
    """Outside the panels (nine models would cover the data). What the bands are is said
    once, as the legend's title, when every line's band is the same kind, else per line."""
    kinds = {"; ".join(kind) for kind in bands.values() if kind}
    shared = len(kinds) == 1 and all(bands.values())
    legend = {key + (f", band ± {'; '.join(bands[key])}" if bands[key] and not shared else ""): line
              for key, line in lines.items()} | references
    fig.set_figwidth(fig.get_figwidth() + LEGEND_WIDTH)
    spreads = {k.startswith("std over") for kind in bands.values() for k in kind}
    title = f"bands: ± {kinds.pop()}" if shared else (
        "bands: hatched = spread over seeds, filled = stderr" if spreads == {True, False} else "bands: ± as each entry says")
    fig.legend(legend.values(), legend.keys(), fontsize=7, loc="outside right upper", frameon=False,
               title=title, title_fontsize=7)


def _draw_baselines(ax, spec: FigureSpec, rows: pd.DataFrame, references: dict) -> None:
    """One grey reference line per baseline metric: its mean over models and seeds at each x
    (the same examples for every model of one train length)."""
    order = list(builtin_baselines())  # declaration order: a baseline keeps its style in every panel
    for metric, group in sorted(rows.groupby("metric"), key=lambda item: order.index(item[0])):
        curve = group.groupby(spec.x)["value"].mean() * spec.scale
        style, grey = BASELINE_STYLES[order.index(metric) % len(BASELINE_STYLES)]
        single = len(curve) == 1  # a marker shows a baseline at a single x
        (line,) = ax.plot(curve.index, curve.to_numpy(), ls=style, lw=1.3, color=grey,
                          marker="_" if single else None, ms=10)
        references.setdefault(baseline_label(metric), line)
