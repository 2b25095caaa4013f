"""Training curves side by side (``pope-bench training-curves``): each checkpoint's
``training_curve.csv`` against the training budget spent, in examples (step × batch size),
so that runs with other batch sizes line up. One panel per held-out accuracy column
(each task of a mixture, or the overall one) and one for the held-out loss; colour is the
encoding; dotted vertical lines end curriculum stages. This is issue 4's "accuracy vs
training budget" for RoPE and PoPE.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from ..errors import BadInput
from ..encodings import appearance
from ..styles import SCALING_STYLES


def read_curve(folder: Path) -> pd.DataFrame:
    """The curve with ``examples`` (budget so far), ``pe`` and ``run`` (the folder name) added."""
    folder = Path(folder)
    path = folder / "training_curve.csv"
    if not path.is_file():
        raise BadInput(f"{folder} has no training_curve.csv; give checkpoint folders written by `pope-bench train`")
    try:
        recipe = yaml.safe_load((folder / "recipe.yaml").read_text())
        pe = json.loads((folder / "config.json").read_text())["pe"] if (folder / "config.json").exists() else None
        curve = pd.read_csv(path)
        curve["examples"] = curve["step"] * recipe["train"]["batch_size"]
    except (OSError, UnicodeDecodeError, yaml.YAMLError, json.JSONDecodeError, KeyError, TypeError,
            pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise BadInput(f"{folder}: not a readable training run (recipe.yaml, config.json, training_curve.csv: "
                       f"{type(e).__name__}: {e}); retrain or restore the folder") from None
    curve["pe"] = pe or "unknown"
    curve["run"] = folder.name
    curve.attrs["stage_ends"] = [stage["until_step"] * recipe["train"]["batch_size"]
                                 for stage in recipe["data"].get("curriculum") or ()]
    return curve


def accuracy_columns(curves: list[pd.DataFrame]) -> list[str]:
    """Per-task accuracy columns in first-seen order, else the overall held-out accuracy."""
    columns = list(dict.fromkeys(c for curve in curves for c in curve.columns if c.startswith("accuracy:")))
    if not columns and any("val_accuracy" in curve for curve in curves):
        columns = ["val_accuracy"]
    return columns


def plot_training_curves(folders: list[Path], out: Path, name: str = "training_curves") -> list[Path]:
    """PNG + SVG of the curves of ``folders``; returns the paths."""
    from ..figures.charts import grid, save

    if not folders:
        raise BadInput("give at least one checkpoint folder, e.g. checkpoints/pope-indexing-small")
    curves = [read_curve(folder) for folder in folders]
    panels = [*accuracy_columns(curves), "val_loss"]
    plt, fig, axes = grid(1, len(panels), 3.6, 3.0)
    encodings = [curve["pe"].iloc[0] for curve in curves]
    for i, curve in enumerate(curves):
        pe = encodings[i]
        style = SCALING_STYLES[encodings[:i].count(pe) % len(SCALING_STYLES)]  # a second run of an encoding: dashed
        for ax, column in zip(axes[0], panels):
            if column in curve:
                ax.plot(curve["examples"], curve[column], style, color=appearance(pe).color,
                        label=curve["run"].iloc[0], lw=1.2)
    stage_ends = sorted({end for curve in curves for end in curve.attrs["stage_ends"]})
    for ax, column in zip(axes[0], panels):
        for end in stage_ends:
            ax.axvline(end, color="grey", ls=":", lw=0.8)
        ax.set_title(column.removeprefix("accuracy:") if column != "val_loss" else "held-out loss", fontsize=9)
        ax.set_xlabel("training examples seen")
        ax.set_ylabel("held-out loss" if column == "val_loss" else "held-out accuracy")
        if column != "val_loss":
            ax.set_ylim(0, 1)
    axes[0][0].legend(fontsize=7)
    out.mkdir(parents=True, exist_ok=True)
    return save(plt, fig, out, name)
