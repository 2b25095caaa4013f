"""Heat-maps: the paper's frequency usage (Fig. 3: x = layer, y = frequency, viridis,
queries and keys side by side), learned δ (Figs. 6–7: head × frequency per layer) and the
passkey length × depth grid. Each panel is the mean over seeds of one slice of rows;
panels share one colour scale when the spec fixes ``vmin``/``vmax`` (δ ∈ [−2π, 0],
accuracy ∈ [0, 1]), else each has its own (RoPE chunk norms and PoPE magnitudes are not on
one scale).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pope_bench.report.figures.charts import panel_grid, save, value_label
from pope_bench.report.figures.specs import FigureSpec

#: at most this many tick labels per axis
MAX_TICKS = 9


def draw_heatmaps(spec: FigureSpec, rows: pd.DataFrame, out: Path) -> list[Path]:
    shared = spec.vmin is not None and spec.vmax is not None
    plt, fig, axes, filled = panel_grid(rows, spec, 3.4, 2.8)
    image = None
    for ax, part in filled:
        grid_values = part.pivot_table(index=spec.y, columns=spec.x, values="value", aggfunc="mean") * spec.scale
        image = ax.imshow(grid_values.to_numpy(), origin="lower", aspect="auto", cmap=spec.cmap,
                          vmin=spec.vmin, vmax=spec.vmax, interpolation="nearest")
        _ticks(ax.set_xticks, grid_values.columns)
        _ticks(ax.set_yticks, grid_values.index)
        if spec.annotate:
            _annotate(ax, grid_values.to_numpy(), image)
        if not shared:
            fig.colorbar(image, ax=ax)
        ax.set_xlabel(spec.x_label or spec.x)
        ax.set_ylabel(spec.y_label or spec.y)
    if shared and image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), label=value_label(spec, "metric", rows["metric"].iloc[0]))
    return save(plt, fig, out, spec.name)


def _ticks(setter, values) -> None:
    step = max(1, -(-len(values) // MAX_TICKS))
    positions = list(range(0, len(values), step))
    setter(positions, [f"{values[p]:g}" for p in positions])


def _annotate(ax, values: np.ndarray, image) -> None:
    middle = (image.norm.vmin + image.norm.vmax) / 2
    for (y, x), value in np.ndenumerate(values):
        if not np.isnan(value):
            ax.text(x, y, f"{value:.2f}", ha="center", va="center", fontsize=7,
                    color="black" if value > middle else "white")
