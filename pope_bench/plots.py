"""Metric-vs-length plots of a results folder (``pope-bench plot DIR``, also the end of
``run``). They read rows only — a figure never recomputes a metric.

Per task: its main metric against length, one line per model (or registry group of
training seeds), colour and marker by encoding (each encoding class declares its own; eval-time
scaling variants are dashed / dotted in their encoding's colour), a band whose meaning the
legend states (:func:`pope_bench.aggregate.spread`: std over training seeds, over test
re-draws, or one stderr and its method), the task's trivial baselines (``baseline*``
metrics) as grey reference lines, a dashed vertical line at each model's train length,
and a log-2 length axis when the lengths double. Written as PNG and SVG.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .aggregate import spread, unit
from .errors import BadInput
from .results import headline, load

SCALING_STYLES = ["-", "--", ":", "-."]
MAIN_METRICS = ("accuracy", "acc", "acc_norm", "perplexity", "nll")


def main_metric(frame: pd.DataFrame) -> str:
    present = set(frame["metric"])
    for metric in MAIN_METRICS:
        if metric in present:
            return metric
    return sorted(present)[0]


def doubling(lengths) -> bool:
    values = sorted(set(int(x) for x in lengths))
    return len(values) > 2 and all(b == 2 * a for a, b in zip(values, values[1:]))


def plot_task(frame: pd.DataFrame, task: str, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .encodings import appearance

    rows = frame[(frame["task"] == task) & (frame["status"] == "ok")]
    if rows.empty:
        return []
    metric = main_metric(rows)
    baselines = headline(rows[rows["metric"].astype(str).str.startswith("baseline")])
    rows = headline(rows[rows["metric"] == metric])
    if rows.empty:  # an analysis task (per layer / frequency maps): `pope-bench figures` draws those
        return []
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    scalings = sorted(set(rows["scaling"]) - {"none"})
    for name, group in rows.groupby(unit(rows), sort=True):
        pe, scaling = group["pe"].iloc[0], group["scaling"].iloc[0]
        style = "-" if scaling == "none" else SCALING_STYLES[1 + scalings.index(scaling) % 3]
        look = appearance(pe)
        curve = spread(group, "length")
        band = "; ".join(dict.fromkeys(w for w in curve["what"] if w))
        ax.plot(curve["length"], curve["mean"], style, marker=look.marker, ms=3, color=look.color,
                label=name + (f" (band ± {band})" if band else ""))
        if curve["std"].notna().any():
            ax.fill_between(curve["length"], curve["mean"] - curve["std"], curve["mean"] + curve["std"],
                            color=look.color, alpha=0.15)
    for i, (baseline, group) in enumerate(baselines.groupby("metric", sort=True)):
        curve = group.groupby("length")["value"].mean()
        ax.plot(curve.index, curve.to_numpy(), ls=SCALING_STYLES[1 + i % 3], lw=1, color="grey", label=baseline)
    for train_length in sorted(set(rows["train_length"])):
        ax.axvline(train_length, color="black", ls="--", lw=0.8, alpha=0.5)
    if doubling(rows["length"]):
        ax.set_xscale("log", base=2)
    if metric == "perplexity":
        ax.set_yscale("log")
    ax.set_xlabel("evaluation length (tokens); dashed: train length")
    ax.set_ylabel(metric)
    ax.set_title(task)
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths = [out / f"{task}.png", out / f"{task}.svg"]
    for path in paths:
        fig.savefig(path, dpi=150)
    plt.close(fig)
    return paths


def plot_results(results_dir: Path, out: Path | None = None) -> list[Path]:
    frame = load(results_dir)
    if frame.empty:
        raise BadInput(f"{results_dir} holds no results; run `pope-bench run --out {results_dir}` first")
    out = Path(out or Path(results_dir) / "plots")
    out.mkdir(parents=True, exist_ok=True)
    return [p for task in sorted(set(frame["task"])) for p in plot_task(frame, task, out)]
