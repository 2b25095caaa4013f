"""Training curves side by side (``pope-bench training-curves``): each checkpoint's
``training_curve.csv`` against the training budget spent, in examples (step × batch size)
or in supervised targets (several per example when a recipe asks each string several
queries, issue 16), so that runs with other batch sizes and recipes line up. One panel per
held-out accuracy column (each task of a mixture, or the overall one) and one for the
held-out loss; colour is the encoding; dotted vertical lines end curriculum stages; an
indexing task's panel carries its no-indexing baselines (``baseline*``, :meth:`pope_bench.tasks.indexing.Generator.baselines`)
as grey lines. This is the "accuracy vs training budget" study for RoPE and PoPE.
"""

from __future__ import annotations

import io
import shlex
from pathlib import Path

import pandas as pd

from pope_bench.core.errors import BadInput
from pope_bench.core.schema import read_json, read_text, read_yaml, validate
from pope_bench.encodings import appearance
from pope_bench.report.styles import SCALING_STYLES
from pope_bench.training.recipe import queries_per_string


def encoding_of_command(folder: Path) -> str | None:
    """``--pe`` of the ``train_command.txt`` of a training still running (no config.json yet)."""
    path = folder / "train_command.txt"
    try:
        words = shlex.split(read_text(path, "training command")) if path.is_file() else []
    except ValueError:  # unreadable (BadInput) or unbalanced quotes: only the label is lost
        words = []
    return next((value for flag, value in zip(words, words[1:]) if flag == "--pe"), None)


def read_curve(folder: Path) -> pd.DataFrame:
    """The curve with ``examples`` and ``targets`` (budget so far), ``pe`` and ``run`` (the
    folder name) added; ``attrs["stage_ends"]`` holds the curriculum's stage ends on both axes.
    Every file is read through the schema reader; a recipe of the wrong shape, a curve
    with no evaluation yet (a training stopped before its first) or with non-numeric
    columns is one line naming the folder."""
    from pope_bench.training.recipe import Recipe

    folder = Path(folder)
    path = folder / "training_curve.csv"
    if not path.is_file():
        raise BadInput(f"{folder} has no training_curve.csv; give checkpoint folders written by `pope-bench train`")
    recipe = validate(Recipe, read_yaml(folder / "recipe.yaml", "recipe"),
                      f"{folder}: not a readable training run: recipe.yaml")
    config = folder / "config.json"
    pe = read_json(config, "checkpoint config") if config.exists() else {"pe": encoding_of_command(folder)}
    if not isinstance(pe, dict):
        raise BadInput(f"{config} must hold a JSON object; restore the checkpoint's config")
    pe = pe.get("pe")
    try:
        curve = pd.read_csv(io.StringIO(read_text(path, "training curve")))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise BadInput(f"{path} is not a readable training curve ({e}); retrain or restore the folder") from None
    if "step" not in curve or "val_loss" not in curve:
        raise BadInput(f"{path} has no step and val_loss columns; give checkpoint folders written by `pope-bench train`")
    if curve.empty:
        raise BadInput(f"{path} holds no evaluation yet (the training stopped before its first); let it train "
                       "longer or leave the folder out")
    numeric = [c for c in curve.columns if c == "step" or c == "targets" or c.startswith(("val_", "accuracy:"))]
    bad = [c for c in numeric if not pd.api.types.is_numeric_dtype(curve[c])]
    if bad:
        raise BadInput(f"{path}: column {bad[0]!r} is not numeric; retrain or restore the folder")
    train, data = recipe.train, recipe.data
    per_step = {"examples": train.batch_size,
                "targets": train.batch_size * (queries_per_string(data) if data.kind == "tasks" else train.length - 1)}
    curve["examples"] = curve["step"] * per_step["examples"]
    if "targets" not in curve:  # curves written before the count
        curve["targets"] = curve["step"] * per_step["targets"]
    curve["pe"] = pe or "unknown"
    curve["run"] = folder.name
    curve.attrs["stage_ends"] = {axis: [stage.until_step * n for stage in data.curriculum or ()]
                                 for axis, n in per_step.items()}
    return curve


def accuracy_columns(curves: list[pd.DataFrame]) -> list[str]:
    """Per-task accuracy columns in first-seen order, else the overall held-out accuracy."""
    columns = list(dict.fromkeys(c for curve in curves for c in curve.columns if c.startswith("accuracy:")))
    if not columns and any("val_accuracy" in curve for curve in curves):
        columns = ["val_accuracy"]
    return columns


def task_baselines(column: str) -> dict[str, float]:
    """The no-indexing baselines of an ``accuracy:<task>`` column's task on its 1x test split
    (seed 0); empty for a column that is not an indexing task's."""
    from statistics import fmean

    from pope_bench.tasks.indexing import IndexingTask
    from pope_bench.tasks.registry import discover

    name = column.removeprefix("accuracy:")
    registry = discover()
    if name == column or name not in registry.definitions:
        return {}
    task = registry.build(name)
    if not isinstance(task, IndexingTask):
        return {}
    per_example = [task.generator.baselines(e) for e in task.generator.test_split(task.params.examples, seed=0)]
    return {name: fmean(b[name] for b in per_example) for name in per_example[0]}


AXES = {"examples": "training examples seen", "targets": "supervised targets seen"}


def panel_title(column: str) -> str:
    """A curve column in words: ``accuracy:indirect_indexing`` → "indirect indexing: held-out accuracy"."""
    if column == "val_loss":
        return "held-out loss"
    if column == "val_accuracy":
        return "held-out accuracy (all tasks)"
    return column.removeprefix("accuracy:").replace("_", " ") + ": held-out accuracy"


def plot_training_curves(folders: list[Path], out: Path, name: str = "training_curves",
                         x: str = "examples") -> list[Path]:
    """PNG + SVG of the curves of ``folders`` against ``x`` (examples, or supervised targets
    on a log axis), and ``<name>.csv``, the curves in one table; returns the paths."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    from pope_bench.report.declared_metrics import baseline_phrase
    from pope_bench.report.figures.charts import grid, save
    from pope_bench.report.styles import BASELINE_STYLES

    if x not in AXES:
        raise BadInput(f"--x must be one of {', '.join(AXES)}, got {x!r}")
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
                scale = 1.0 if column == "val_loss" else 100.0  # accuracy in %, as tables print it
                ax.plot(curve[x], curve[column] * scale, style, color=appearance(pe).color,
                        label=curve["run"].iloc[0], lw=1.2)
    stage_ends = sorted({end for curve in curves for end in curve.attrs["stage_ends"][x]})
    for ax, column in zip(axes[0], panels):
        for k, end in enumerate(stage_ends):
            ax.axvline(end, color="#b0b0b0", ls="-", lw=0.8, label="end of a curriculum stage" if k == 0 else None)
        for j, (baseline, value) in enumerate(task_baselines(column).items()):
            ls, grey = BASELINE_STYLES[j % len(BASELINE_STYLES)]
            ax.axhline(100 * value, color=grey, ls=ls, lw=1.1, label=baseline_phrase(baseline))
        ax.set_title(panel_title(column), fontsize=9)
        ax.set_xlabel(AXES[x])
        ax.set_ylabel("held-out loss (nats)" if column == "val_loss" else "held-out accuracy (%)")
        if x == "targets":
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:  # few, short ticks: 5k, 10k, not 5000 10000 15000 run together
            ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:g}k" if v >= 1000 else f"{v:g}"))
        if column != "val_loss":  # zoomed in while every run is near chance
            top = max(curve[column].max() for curve in curves if column in curve)
            ax.set_ylim(0, min(100.0, max(15.0, 130 * top)))
    legend = {}  # every run and baseline once, whichever panel drew it
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    fig.set_figwidth(fig.get_figwidth() + 2.6)
    fig.legend(legend.values(), legend.keys(), fontsize=7, loc="outside right upper", frameon=False)
    out.mkdir(parents=True, exist_ok=True)
    table = out / f"{name}.csv"
    pd.concat(curves, ignore_index=True).to_csv(table, index=False)
    return [*save(plt, fig, out, name), table]
