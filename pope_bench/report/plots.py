"""Metric-vs-length plots of a results folder (``pope-bench plot DIR``, also the end of
``run``). They read rows only — a figure never recomputes a metric.

Per task, its main metric against length, one line per model:

* colour = model family (encoding), line style + marker + shade = scaling variant
  (:mod:`pope_bench.report.styles`);
* a band whose meaning is :mod:`pope_bench.report.errorbars`'s (default ±1 standard error of the
  rows' ``stderr_method``, combined over seeds), stated in the title;
* reference lines: the train length (with a top axis in multiples of it), and the task's
  declared trivial baselines, each named in words with a style of its own;
* a log-2 length axis when the lengths double, a log y where the metric declares one, a
  % axis for proportions (as the tables print them), plain tick labels (2, 5, 10 — not
  2¹ or 3×10⁰);
* the task's description as the title, the legend outside the data;
* a curve whose every value lies far above the others (PI without fine-tuning at ~24
  against ~3) is left off the y-range and named in the legend with its range, so it does
  not squash the rest.

Written as PNG and SVG, byte-identical when regenerated (:mod:`pope_bench.report.figure_files`).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pandas as pd

from pope_bench.core.errors import BadInput
from pope_bench.report.declared_metrics import TaskMetrics, declared_metrics, for_task
from pope_bench.report.effective_length import DEFAULT_THRESHOLD
from pope_bench.report.errorbars import DEFAULT, combine, factor, meaning
from pope_bench.report.figure_files import save_figure
from pope_bench.report.styles import BASELINE_STYLES, model_styles
from pope_bench.report.table import requested_order
from pope_bench.sweep.results import headline, load

#: a curve whose minimum exceeds this many times the others' maximum is drawn off scale
OFF_SCALE_RATIO = 2.0


def doubling(lengths) -> bool:
    values = sorted(set(int(x) for x in lengths))
    return len(values) > 2 and all(b == 2 * a for a, b in zip(values, values[1:]))


def curve_points(group: pd.DataFrame, kind: str = DEFAULT) -> pd.DataFrame:
    """Mean over seeds per length, and its ± (:mod:`pope_bench.report.errorbars`): the rows' stderr
    combined as √Σse²/k (independent seeds), scaled to the ± kind."""
    from pope_bench.report.table import _clusters

    return pd.DataFrame([{"length": length, "mean": part["value"].mean(),
                          "stderr": combine(part["stderr"]) * factor(kind, _clusters(part))}
                         for length, part in group.groupby("length")])


def off_scale(curves: dict[str, pd.DataFrame]) -> set[str]:
    """Curves that lie wholly far above all others (each one's minimum > OFF_SCALE_RATIO ×
    the others' maximum); never all of them."""
    tops = {m: c["mean"].max() for m, c in curves.items()}
    bottoms = {m: c["mean"].min() for m, c in curves.items()}
    out: set[str] = set()
    for model in sorted(curves, key=lambda m: -bottoms[m]):
        rest = [tops[m] for m in curves if m != model and m not in out]
        if rest and bottoms[model] > OFF_SCALE_RATIO * max(rest):
            out.add(model)
    return out


def task_titles(tasks_dirs=()) -> dict[str, str]:
    """Task name → the first sentence of its description (definitions only, no task built)."""
    from pope_bench.tasks.registry import discover

    titles = {}
    for name, definition in discover(tasks_dirs).definitions.items():
        first = re.sub(r"\s*\([^)]*\)", "", definition.description.split(". ")[0].split(": ")[0]).strip().rstrip(".")
        if first:
            titles[name] = first
    return titles


def plot_task(frame: pd.DataFrame, task: str, out: Path, title: str | None = None, models=(),
              metrics: TaskMetrics | None = None, kind: str = DEFAULT) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

    rows = frame[(frame["task"] == task) & (frame["status"] == "ok")]
    if rows.empty:
        return []
    metrics = metrics or TaskMetrics()
    baselines = metrics.baselines(rows["metric"])
    metric = metrics.main_of(set(rows["metric"]) - {b.name for b in baselines})
    spec = metrics.spec(metric)
    main = headline(rows[rows["metric"] == metric])
    if main.empty:  # an analysis task (per layer / frequency maps): `pope-bench figures` draws those
        return []
    present = list(dict.fromkeys(main["series"]))
    order = [m for m in models if m in present] + sorted(set(present) - set(models))
    facts = main.drop_duplicates("series").set_index("series")
    styles = model_styles([(m, facts.loc[m, "pe"], facts.loc[m, "scaling"]) for m in order])
    scale = 100.0 if spec.proportion else 1.0
    curves = {m: curve_points(main[main["series"] == m], kind) for m in order}
    for curve in curves.values():
        curve[["mean", "stderr"]] *= scale
    far = off_scale(curves)
    log_y = spec.log_axis

    fig, ax = plt.subplots(figsize=(7.6, 4.0), layout="constrained")
    for model in order:
        curve, style = curves[model], styles[model]
        label = model
        if model in far:
            label += f" (off scale: {curve['mean'].min():.3g}–{curve['mean'].max():.3g})"
        ax.plot(curve["length"], curve["mean"], ms=3.5, lw=1.4, label=label, **style)
        if curve["stderr"].notna().any():
            low, high = curve["mean"] - curve["stderr"], curve["mean"] + curve["stderr"]
            if spec.proportion:  # an interval must not leave [0, 100] %
                low, high = low.clip(0, 100), high.clip(0, 100)
            ax.fill_between(curve["length"], low, high, color=style["color"], alpha=0.18, lw=0)
    _baselines(ax, rows, baselines, scale)
    train_lengths = sorted(set(int(t) for t in main["train_length"]))
    for i, train_length in enumerate(train_lengths):
        ax.axvline(train_length, color="black", ls="--", lw=0.8, alpha=0.6,
                   label="train length" if i == 0 else None)

    lengths = sorted(set(int(x) for x in main["length"]))
    if doubling(lengths):
        ax.set_xscale("log", base=2)
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    ax.xaxis.set_major_locator(FixedLocator(lengths))
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(NullFormatter())
    if len(train_lengths) == 1:  # the same axis in multiples of the train length
        t = train_lengths[0]
        top = ax.secondary_xaxis("top", functions=(lambda x: x / t, lambda r: r * t))
        top.xaxis.set_major_locator(FixedLocator([x / t for x in lengths]))
        top.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}×"))
        top.xaxis.set_minor_formatter(NullFormatter())
    near = [curves[m] for m in order if m not in far]
    if far and near:
        lo = min((c["mean"] - c["stderr"].fillna(0)).min() for c in near)
        hi = max((c["mean"] + c["stderr"].fillna(0)).max() for c in near)
        pad = (hi / lo) ** 0.08 if log_y and lo > 0 else None
        ax.set_ylim(*((lo / pad, hi * pad) if pad else (lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo))))
    if spec.proportion:  # from 0 %, and never a flat line magnified into noise
        ax.set_ylim(0, max(10.0, min(100.0, ax.get_ylim()[1])))
    if log_y:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(plain)
        bottom, top = ax.get_ylim()
        if top / bottom < 10:  # within a decade the majors are too few: label 1.5, 3, 4, 7 too
            ax.yaxis.set_minor_locator(LogLocator(subs=(1.5, 3.0, 4.0, 7.0)))
            ax.yaxis.set_minor_formatter(plain)
        else:
            ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("evaluation length (tokens)")
    ax.set_ylabel(spec.label + (" (log)" if log_y else ""))
    heading = textwrap.fill(textwrap.shorten(title or task, 140, placeholder=" …"), 72)
    band = meaning(kind, main["stderr_method"].dropna())
    ax.set_title(f"{heading}\n{task}: {spec.label}; band = {band}", fontsize=9, loc="left")
    ax.grid(True, which="major", alpha=0.25)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, fontsize=8, frameon=False)
    return save_figure(fig, out, task)


def _baselines(ax, rows: pd.DataFrame, baselines, scale: float) -> None:
    """The declared trivial baselines (computed on the same examples) as reference curves
    averaged over models — they do not depend on the model — each named in words and drawn
    in a style of its own."""
    base = headline(rows)
    for i, spec in enumerate(baselines):
        curve = base[base["metric"] == spec.name].groupby("length")["value"].mean() * scale
        style, color = BASELINE_STYLES[i % len(BASELINE_STYLES)]
        ax.plot(curve.index, curve.values, color=color, lw=1.3, ls=style, label=f"baseline: {spec.baseline}")


def plot_results(results_dir: Path, out: Path | None = None, tasks=(), models=(), tasks_dirs=(),
                 kind: str = DEFAULT, threshold: float = DEFAULT_THRESHOLD) -> list[Path]:
    """One plot per task of a results folder; ``tasks`` / ``models`` give the order
    (by default the order its runs asked for); with RULER rows, ``effective_length``
    at ``threshold`` too."""
    frame = load(results_dir)
    if frame.empty:
        raise BadInput(f"{results_dir} holds no results; run `pope-bench run --out {results_dir}` first")
    if not tasks and not models:
        tasks, models = requested_order(results_dir)
    out = Path(out or Path(results_dir) / "plots")
    out.mkdir(parents=True, exist_ok=True)
    titles = task_titles(tasks_dirs)
    declared = declared_metrics([results_dir])
    present = list(dict.fromkeys(frame["task"]))
    ordered = [t for t in tasks if t in present] + sorted(set(present) - set(tasks))
    from pope_bench.report.effective_length_plot import plot_effective_length

    paths = [p for task in ordered
             for p in plot_task(frame, task, out, titles.get(task), models, for_task(declared, task), kind)]
    return paths + plot_effective_length(frame, out, threshold, ordered, models)
