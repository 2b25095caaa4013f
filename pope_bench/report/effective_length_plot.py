"""``effective_length.png``: per RULER task (rows) and model (markers), the effective
length (:mod:`pope_bench.report.effective_length`) on a log-2 axis; a hollow marker at the
shortest length evaluated means "below the threshold everywhere", and each model's
training length is a dotted line in its colour. Read from rows only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pope_bench.report.effective_length import MEAN, effective_lengths, scores
from pope_bench.report.figure_files import save_figure
from pope_bench.report.styles import model_styles


def plot_effective_length(frame: pd.DataFrame, out: Path, threshold: float, tasks=(), models=()) -> list[Path]:
    """``out/effective_length.png`` (+ SVG); ``tasks`` / ``models`` give the order."""
    table = effective_lengths(frame, threshold)
    if table.empty:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    facts = frame.drop_duplicates("model").set_index("model")
    order = [m for m in models if m in set(table["model"])] + sorted(set(table["model"]) - set(models))
    styles = model_styles([(m, facts.loc[m, "pe"], facts.loc[m, "scaling"]) for m in order])
    present = [t for t in dict.fromkeys(table["task"]) if t != MEAN]
    tasks = [t for t in tasks if t in present] + sorted(set(present) - set(tasks))
    tasks += [MEAN] if MEAN in set(table["task"]) else []
    fig, ax = plt.subplots(figsize=(7.6, 0.9 + 0.32 * len(tasks)), layout="constrained")
    offsets = {m: (i - (len(order) - 1) / 2) * 0.6 / max(1, len(order)) for i, m in enumerate(order)}
    for model in order:
        part = table[table["model"] == model].set_index("task")
        style = styles[model]
        for y, task in enumerate(tasks):
            if task not in part.index:
                continue
            row = part.loc[task]
            below = row["effective_length"] is None or pd.isna(row["effective_length"])
            x = row["shortest"] if below else row["effective_length"]
            ax.plot([x], [y + offsets[model]], linestyle="none", marker=style.get("marker") or "o", ms=6,
                    color=style["color"], markerfacecolor="none" if below else style["color"],
                    label=model if y == min(tasks.index(t) for t in part.index) else None)
        train = facts.loc[model, "train_length"]
        if pd.notna(train):
            ax.axvline(float(train), color=style["color"], ls=":", lw=1)
    ax.set_xscale("log", base=2)
    lengths = sorted(set(scores(frame)["length"]) | {int(t) for t in facts.loc[order, "train_length"].dropna()})
    ax.set_xticks(lengths, [str(int(v)) for v in lengths])
    ax.set_yticks(range(len(tasks)), tasks)
    ax.invert_yaxis()
    ax.set_xlabel("effective length (tokens; dotted: train length; hollow: below the threshold at every length)")
    ax.set_title(f"RULER effective length: longest L with score ≥ {threshold:g}", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return save_figure(fig, out, "effective_length")
