"""The ``pope-bench`` command line (typer). Every command's ``--help`` has examples.

Bad input raises :class:`~pope_bench.errors.BadInput`, which ``main`` prints as one line
on stderr with exit code 2 — never a traceback. A sweep in which some cell failed still
finishes and exits with 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .errors import BadInput

app = typer.Typer(
    help="Length-extrapolation benchmarks for positional encodings (RoPE, PoPE, NoPE).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
list_app = typer.Typer(help="What the registries hold.", no_args_is_help=True)
tasks_app = typer.Typer(help="Task definitions.", no_args_is_help=True)
app.add_typer(list_app, name="list")
app.add_typer(tasks_app, name="tasks")

CheckpointsOpt = Annotated[Path, typer.Option("--checkpoints", help="The model registry YAML.")]
TasksDirOpt = Annotated[list[Path], typer.Option("--tasks-dir", help="A folder of extra task YAML files.")]


def default_registry() -> Path:
    """./checkpoints.yaml if there is one, else the one of the source checkout."""
    here = Path("checkpoints.yaml")
    if here.exists():
        return here
    return Path(__file__).resolve().parent.parent / "checkpoints.yaml"


@app.command()
def version():
    """Print the pope-bench version."""
    from . import __version__

    typer.echo(__version__)


@app.command()
def run(
    model: Annotated[list[str], typer.Option("--model", "-m", help="Registry name, local folder or hub id (repeatable).")] = [],
    task: Annotated[list[str], typer.Option("--task", "-t", help="Task name (repeatable).")] = [],
    lengths: Annotated[str, typer.Option(help="e.g. 1k..16k, 1k..10k:1k, 1x..10x, 256,512,4x (default: each task's).")] = None,
    out: Annotated[Path, typer.Option(help="Results folder (reruns resume).")] = Path("runs/latest"),
    device: Annotated[str, typer.Option(help="auto (cuda → mps → cpu), cpu, cuda, cuda:N, mps.")] = "auto",
    dtype: Annotated[str, typer.Option(help="auto (bf16 on GPU, fp32 on CPU), float32, bfloat16, float16.")] = "auto",
    batch_size: Annotated[str, typer.Option(help="auto (halves on out-of-memory) or N.")] = "auto",
    limit: Annotated[int, typer.Option(help="Cap on examples (or scored tokens) per cell.")] = None,
    seed: Annotated[list[int], typer.Option(help="Seed (repeatable for several seeds).")] = [0],
    checkpoints: CheckpointsOpt = None,
    tasks_dir: TasksDirOpt = [],
    force: Annotated[bool, typer.Option(help="Recompute cells that are already in --out.")] = False,
    plot: Annotated[bool, typer.Option(help="Write plots at the end.")] = True,
):
    """Sweep models × tasks × lengths × seeds into tidy results.

    With no options: the default suite on the bundled checkpoints.

    Examples:

      pope-bench run

      pope-bench run -m pope-text-tiny -m rope-text-tiny -t perplexity_text --lengths 1x..10x

      pope-bench run -m my/hub-model -t perplexity_pg19 --lengths 1k..16k --out runs/hub
    """
    from rich.console import Console

    from .results import load
    from .runner import RunOptions
    from .runner import run as run_sweep
    from .summary import summary_tables

    if limit is not None and limit < 1:
        raise BadInput(f"--limit must be a positive integer, got {limit}")
    options = RunOptions(models=model, tasks=task, lengths=lengths, out=out, device=device, dtype=dtype,
                         batch_size=batch_size, limit=limit, seeds=seed,
                         checkpoints=checkpoints or default_registry(), tasks_dirs=tasks_dir, force=force)
    console = Console()
    stats = run_sweep(options, Console(stderr=True))
    frame = load(out)
    for table in summary_tables(frame):
        console.print(table)
    if plot and not frame.empty:
        from .plots import plot_results

        plot_results(out)
    console.print(f"{stats['done']} cells run, {stats['skipped']} already done, {stats['failed']} failed → {out}")
    if stats["failed"]:
        raise typer.Exit(1)


@app.command()
def train(
    recipe: Annotated[str, typer.Argument(help="A bundled recipe name (e.g. text-tiny) or a YAML path.")],
    pe: Annotated[str, typer.Option(help="Positional encoding: rope, pope or nope.")],
    out: Annotated[Path, typer.Option(help="Checkpoint folder to write (resumes if it holds a train_state.pt).")],
    set_: Annotated[list[str], typer.Option("--set", help="Override a recipe field: section.key=value.")] = [],
    threads: Annotated[int, typer.Option(help="CPU threads (0 = torch's default).")] = 0,
    device: Annotated[str, typer.Option(help="cpu or cuda (fused AdamW on cuda).")] = "cpu",
    bf16: Annotated[bool, typer.Option("--bf16", help="bfloat16 autocast (weights and optimiser stay float32).")] = False,
):
    """Train a native checkpoint from a recipe (resumable: rerun the same command).

    Examples:

      pope-bench train text-tiny --pe pope --out checkpoints/pope-text-tiny

      pope-bench train text-tiny --pe rope --out runs/r --set train.steps=200
    """
    from .encodings import ENCODINGS
    from .training.recipe import load_recipe
    from .training.trainer import train as run_training

    if pe not in ENCODINGS:
        raise BadInput(f"--pe {pe!r} is not one of {', '.join(ENCODINGS)}")
    run_training(load_recipe(recipe, set_), pe, out, threads or None, device, bf16)
    typer.echo(f"wrote {out}")


@app.command()
def plot(
    results: Annotated[Path, typer.Argument(help="A results folder written by `pope-bench run`.")],
    out: Annotated[Path, typer.Option(help="Where to write the figures (default: RESULTS/plots).")] = None,
):
    """Metric-vs-length plots (PNG + SVG) of a results folder.

    Example:

      pope-bench plot runs/latest
    """
    from .plots import plot_results

    for path in plot_results(results, out):
        typer.echo(str(path))


@app.command("training-curves")
def training_curves(
    folders: Annotated[list[Path], typer.Argument(help="Checkpoint folders written by `pope-bench train`.")],
    out: Annotated[Path, typer.Option(help="Where to write training_curves.png / .svg / .csv.")] = Path("."),
    name: Annotated[str, typer.Option(help="File name (without extension).")] = "training_curves",
    x: Annotated[str, typer.Option("--x", help="Budget axis: examples, or targets (supervised tokens, log axis).")] = "examples",
):
    """Held-out accuracy (per task, with the indexing baselines) and loss against training
    examples or supervised targets seen, for several checkpoints side by side: accuracy vs
    training budget, RoPE against PoPE. Also writes the curves as one CSV.

    Example:

      pope-bench training-curves checkpoints/rope-indexing-small checkpoints/pope-indexing-small --out results/indexing
    """
    from .training.curves import plot_training_curves

    for path in plot_training_curves(folders, out, name, x):
        typer.echo(str(path))


@app.command()
def figures(
    names: Annotated[list[str], typer.Argument(
        help="Figures to render (default: all), or spec YAML paths; `cp NAME` copies a spec instead.")] = None,
    results: Annotated[list[Path], typer.Option(
        "--results", help="A results folder, or a parent searched for results.jsonl (repeatable).")] = [Path("results")],
    out: Annotated[Path, typer.Option(help="Where to write them (default: RESULTS/figures for one --results).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the figures and exit.")] = False,
    to: Annotated[Path, typer.Option(help="With `cp NAME`: the folder to copy the spec into.")] = Path("."),
    checkpoints: CheckpointsOpt = None,
):
    """Regenerate the paper's figures and tables from result rows (tables: markdown + CSV,
    figures: PNG + SVG). Rendering all of them skips those without rows (each with the
    `pope-bench run` command that makes them) and writes OUT/README.md with captions.

    Examples:

      pope-bench figures --list

      pope-bench figures --results results --out results/figures

      pope-bench figures fig2 table_ppl --results runs/latest

      pope-bench figures cp fig2 --to my_specs && pope-bench figures my_specs/fig2.yaml
    """
    from .figures import bundled, copy_spec, load_spec, render

    names = list(names or [])
    if list_:
        for name in bundled():
            spec = load_spec(name)
            typer.echo(f"{name:<18} {spec.kind:<15} {spec.title}  [{', '.join(dict.fromkeys(spec.all_tasks))}]")
        return
    if names[:1] == ["cp"]:
        if len(names) != 2:
            raise BadInput("usage: pope-bench figures cp NAME [--to DIR] (see `pope-bench figures --list`)")
        typer.echo(str(copy_spec(names[1], to)))
        return
    out = out or (results[0] / "figures" if len(results) == 1 else Path("figures"))
    rendered, skipped = render(names, results, out, checkpoints or default_registry())
    for item in rendered:
        for path in item.files:
            typer.echo(str(path))
        for note in item.notes:
            typer.echo(f"note: {item.spec.name}: {note}", err=True)
    for name, why in skipped:
        typer.echo(f"skipped {name}: {why}", err=True)
    if not names:
        typer.echo(str(out / "README.md"))


@list_app.command("models")
def list_models(checkpoints: CheckpointsOpt = None):
    """Registered checkpoints: name, encoding, scaling, train length, parameters, source.

    Example:

      pope-bench list models --checkpoints my-models.yaml
    """
    from rich.console import Console
    from rich.table import Table

    from .registry.checkpoints import load_registry, parameter_count

    registry = load_registry(checkpoints or default_registry())
    table = Table(title="models")
    for column in ("name", "pe", "scaling", "train length", "parameters", "tokenizer", "source"):
        table.add_column(column, overflow="fold")
    for entry in registry.values():
        table.add_row(entry.name, entry.pe, entry.scaling_label, str(entry.train_length),
                      parameter_count(entry), entry.tokenizer, entry.source)
    Console().print(table)


@list_app.command("tasks")
def list_tasks(tasks_dir: TasksDirOpt = [], checkpoints: CheckpointsOpt = None):
    """Tasks: type, metrics, data source and the registered checkpoints each suits.

    Example:

      pope-bench list tasks --tasks-dir my_tasks/
    """
    from rich.console import Console
    from rich.table import Table

    from .registry.checkpoints import load_registry
    from .tasks.registry import discover

    found = discover(tasks_dir)
    path = checkpoints or default_registry()
    registry = load_registry(path) if path.exists() else {}
    table = Table(title="tasks")
    for column in ("name", "type", "metrics", "lengths", "source", "suits"):
        table.add_column(column, overflow="fold")
    console = Console()
    for name in found.definitions:
        try:
            task = found.build(name)
        except BadInput as e:
            found.problems.append(str(e))
            continue
        suits = ", ".join(e.name for e in registry.values() if task.suits(e)) or "—"
        table.add_row(name, task.definition.type, ", ".join(task.metrics), task.definition.default_lengths,
                      task.definition.source, suits)
    console.print(table)
    for problem in found.problems:
        Console(stderr=True).print(f"warning: {problem}", markup=False)


@tasks_app.command("new")
def tasks_new(
    name: Annotated[str, typer.Argument(help="The new task's name (also its file name).")],
    folder: Annotated[Path, typer.Option(help="Where to write NAME.yaml.")] = Path("."),
):
    """Write a commented starter task file that runs as written.

    Example:

      pope-bench tasks new my_ppl --folder my_tasks && pope-bench run --tasks-dir my_tasks -t my_ppl
    """
    from .tasks.starter import write_starter

    typer.echo(str(write_starter(name, folder)))


def main() -> None:
    try:
        app()
    except BadInput as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted: finished cells are saved; rerun the same command to resume", err=True)
        sys.exit(130)
