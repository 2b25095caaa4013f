"""The ``pope-bench`` command line (typer). Every command's ``--help`` has examples.

Bad input raises :class:`~pope_bench.core.errors.BadInput`, which ``main`` prints as one line
on stderr with exit code 2 — never a traceback. A sweep in which some cell failed still
finishes and exits with 1.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from pope_bench.core.errors import BadInput
from pope_bench.core.output_places import check_output_dir


class OneLineErrors(TyperGroup):
    """The CLI's error contract in one place, so it holds in-process (typer's CliRunner)
    as well as from a shell: bad input — a :class:`BadInput` or a malformed option — is one
    line on stderr and exit code 2, never a traceback; Ctrl-C says the finished cells are
    kept and exits 130."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            typer.echo("interrupted: finished cells are saved; rerun the same command to resume", err=True)
            raise typer.Exit(130) from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                standalone_mode=False, **extra)
        except BadInput as e:
            _fail(str(e))
        except OSError as e:  # a disk that fills up or turns read-only mid-command: one line, not a traceback
            from pope_bench.core.output_places import write_failure

            message = write_failure(e)
            if message is None:
                raise
            _fail(message)
        except typer.TyperException as e:  # click's usage errors, as typer (≥ 0.29) ships them
            if type(e).__name__ == "NoArgsIsHelpError":  # a bare group: its help, as click does
                e.show()
                sys.exit(e.exit_code)
            ctx = getattr(e, "ctx", None)
            where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            _fail(f"{e.format_message()}{where}", e.exit_code)
        except typer.Abort:
            _fail("aborted", 1)
        sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int = 2):
    typer.echo("error: " + " ".join(message.split()), err=True)
    sys.exit(code)


app = typer.Typer(
    cls=OneLineErrors,
    help="Length-extrapolation benchmarks for positional encodings (RoPE, PoPE, ALiBi, FIRE, xPos, NoPE, plugins).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
list_app = typer.Typer(help="What the registries hold.", no_args_is_help=True)
tasks_app = typer.Typer(help="Task definitions.", no_args_is_help=True)
app.add_typer(list_app, name="list")
app.add_typer(tasks_app, name="tasks")

#: ranges of the numeric options: beyond them a value is a typo, and would overflow
#: torch's thread count or make planning allocate for ever
MAX_THREADS = 1024
MAX_LIMIT = 2**31 - 1
MAX_GPUS = 1024

CheckpointsOpt = Annotated[Path, typer.Option("--checkpoints", help="The model registry YAML.")]
TasksDirOpt = Annotated[list[Path], typer.Option("--tasks-dir", help="A folder of extra task YAML files.")]


def default_registry() -> Path:
    """./checkpoints.yaml if there is one, else the one of the source checkout."""
    here = Path("checkpoints.yaml")
    if here.exists():
        return here
    return Path(__file__).resolve().parent.parent / "checkpoints.yaml"


def _print_version(value: bool) -> None:
    if value:
        from pope_bench import __version__

        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                          help="Print the pope-bench version and exit.")] = False,
):
    """Length-extrapolation benchmarks for positional encodings (RoPE, PoPE, ALiBi, FIRE, xPos, NoPE, plugins)."""


@app.command()
def version():
    """Print the pope-bench version."""
    from pope_bench import __version__

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
    replace: Annotated[bool, typer.Option(help="Drop rows of --out measured with other settings (budget, task "
                                               "params) for the cells this run writes.")] = False,
    plot: Annotated[bool, typer.Option(help="Write plots at the end.")] = True,
    suite: Annotated[str, typer.Option(help="A named suite (`pope-bench list suites`) or a suite YAML file.")] = None,
    threads: Annotated[int, typer.Option(help="CPU threads for torch (default: the cores not already busy).")] = None,
    executor: Annotated[str, typer.Option(help="local (this process) or ray (a Ray cluster; pope-bench[ray]).")] = "local",
    ray_address: Annotated[str, typer.Option(help="With --executor ray: HOST:PORT of a running cluster "
                                                  "(default: start a local one).")] = None,
    gpus_per_cell: Annotated[float, typer.Option(help="With --executor ray: GPUs per task "
                                                      "(default: 1 when the cluster has GPUs, else 1 CPU).")] = None,
    shard: Annotated[str, typer.Option(help="i/n: run shard i of n (default: RANK/WORLD_SIZE when set); "
                                            "each shard writes its own rows file in --out.")] = None,
    device_map: Annotated[str, typer.Option(help="auto: spread a model over all GPUs (accelerate; "
                                                 "pope-bench[accelerate]).")] = None,
    attn_implementation: Annotated[str, typer.Option(help="Hub models' attention: auto (flash_attention_2 "
                                                          "when installed, else sdpa), sdpa, eager, ...")] = "auto",
    threshold: Annotated[float, typer.Option(help="RULER effective length: the score a length must reach "
                                                  "(default 0.856, Llama-2-7B at 4k).")] = 0.856,
):
    """Sweep models × tasks × lengths × seeds into tidy results.

    With no -m/-t: the default suite on the bundled checkpoints (its measured time:
    `pope-bench list suites`, printed again before a run starts); --suite paper is the paper's grid. -m alone runs the default suite's tasks
    that suit the models.

    Examples:

      pope-bench run

      pope-bench run --suite paper --threads 2 2> sweep.log

      pope-bench run -m pope-text-tiny -m rope-text-tiny -t perplexity_text --lengths 1x..10x

      pope-bench run -m my/hub-model -t perplexity_pg19 --lengths 1k..16k --out runs/hub

      pope-bench run --executor ray --ray-address head:6379 --out runs/grid

      pope-bench run --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT --out runs/grid

      pope-bench run -m rope-text-tiny --suite ruler --lengths 4x,8x --threshold 0.5
    """
    from rich.console import Console

    from pope_bench.report.effective_length import check_threshold
    from pope_bench.sweep.runner import RunOptions
    from pope_bench.sweep.runner import run as run_sweep

    check_threshold(threshold)
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"--limit must be a positive integer up to {MAX_LIMIT:,}, got {limit}")
    if threads is not None and not 1 <= threads <= MAX_THREADS:
        raise BadInput(f"--threads must be a positive integer up to {MAX_THREADS}, got {threads}; "
                       "leave it out for the idle cores")
    if gpus_per_cell is not None and not (math.isfinite(gpus_per_cell) and 0 <= gpus_per_cell <= MAX_GPUS):
        raise BadInput(f"--gpus-per-cell must be a number from 0 to {MAX_GPUS} (a fraction shares a GPU), "
                       f"got {gpus_per_cell}")
    for value in seed:
        if not 0 <= value < 2**63:
            raise BadInput(f"--seed {value} is out of range; use an integer in [0, 2**63)")
    options = RunOptions(models=model, tasks=task, lengths=lengths, out=out, device=device, dtype=dtype,
                         batch_size=batch_size, limit=limit, seeds=seed,
                         checkpoints=checkpoints or default_registry(), tasks_dirs=tasks_dir, force=force,
                         replace=replace, suite=suite, threads=threads,
                         executor=executor, ray_address=ray_address, gpus_per_cell=gpus_per_cell, shard=shard,
                         device_map=device_map, attn_implementation=attn_implementation)
    console = Console()
    stats = run_sweep(options, Console(stderr=True))
    from pope_bench.report.effective_length import effective_length_table
    from pope_bench.report.table import folder_tables, to_rich
    from pope_bench.sweep.results import load
    from pope_bench.sweep.rows import rows_files

    written = bool(rows_files(out))
    if written:
        for table in to_rich(folder_tables(out, stats["tasks"], stats["models"], required=False), console.width):
            console.print(table)
        effective = effective_length_table(load(out), threshold, stats["tasks"], stats["models"])
        if effective is not None:
            console.print(effective)
    if plot and written:
        from pope_bench.report.plots import plot_results
        from pope_bench.sweep.rows import folder_lock

        with folder_lock(out):  # shards finishing at once do not write one figure together
            plot_results(out, tasks=stats["tasks"], models=stats["models"], tasks_dirs=tasks_dir, threshold=threshold)
    console.print(f"{stats['done']} cells run, {stats['skipped']} already done, {stats['failed']} failed → {out}")
    if stats["failed"]:
        raise typer.Exit(1)


@app.command()
def train(
    recipe: Annotated[str, typer.Argument(help="A bundled recipe name (e.g. text-tiny) or a YAML path.")],
    pe: Annotated[str, typer.Option(help="Positional encoding: any registered one (`pope-bench list encodings`).")],
    out: Annotated[Path, typer.Option(help="Checkpoint folder to write (resumes if it holds a train_state.safetensors).")],
    set_: Annotated[list[str], typer.Option("--set", help="Override a recipe field: section.key=value.")] = [],
    threads: Annotated[int, typer.Option(help="CPU threads (0 = torch's default).")] = 0,
    device: Annotated[str, typer.Option(help="cpu or cuda (fused AdamW on cuda).")] = "cpu",
    bf16: Annotated[bool, typer.Option("--bf16", help="bfloat16 autocast (weights and optimiser stay float32).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="A few steps of a tiny model through every stage "
                                                            "of the recipe (checks a prepared run on a CPU).")] = False,
):
    """Train a native checkpoint from a recipe (resumable: rerun the same command).

    Examples:

      pope-bench train text-tiny --pe pope --out checkpoints/pope-text-tiny

      pope-bench train text-tiny --pe rope --out runs/r --set train.steps=200

      pope-bench train indexing-paper --pe pope --out runs/dry --dry-run
    """
    from pope_bench.encodings import get_encoding
    from pope_bench.training.recipe import dry_run as shrink
    from pope_bench.training.recipe import load_recipe
    from pope_bench.training.trainer import train as run_training

    get_encoding(pe)
    if not 0 <= threads <= MAX_THREADS:
        raise BadInput(f"--threads must be 0 (torch's default) or a number of threads up to {MAX_THREADS}, got {threads}")
    check_output_dir(out, "--out")
    resolved = load_recipe(recipe, set_)
    run_training(shrink(resolved) if dry_run else resolved, pe, out, threads or None, device, bf16)
    typer.echo(f"wrote {out}")


@app.command()
def plot(
    results: Annotated[Path, typer.Argument(help="A results folder written by `pope-bench run`.")],
    out: Annotated[Path, typer.Option(help="Where to write the figures (default: RESULTS/plots).")] = None,
    threshold: Annotated[float, typer.Option(help="RULER effective length: the score a length must reach.")] = 0.856,
    error: Annotated[str, typer.Option(help="What a band is: stderr (±1 standard error of each row's "
                                            "stderr_method) or ci95 (a 95 % interval).")] = "stderr",
):
    """Metric-vs-length plots (PNG + SVG) of a results folder; with RULER rows also
    effective_length.png.

    Example:

      pope-bench plot runs/latest --error ci95 --threshold 0.5
    """
    from pope_bench.report.effective_length import check_threshold
    from pope_bench.report.errorbars import check_kind
    from pope_bench.report.plots import plot_results

    check_kind(error)
    check_threshold(threshold)
    check_output_dir(out or results / "plots", "--out")
    for path in plot_results(results, out, kind=error, threshold=threshold):
        typer.echo(str(path))


@app.command()
def table(
    results: Annotated[Path, typer.Argument(help="A results folder written by `pope-bench run`.")],
    format_: Annotated[str, typer.Option("--format", help="text, markdown, latex or csv.")] = "text",
    lengths: Annotated[str, typer.Option(help="Only these lengths: tokens or multiples, e.g. 1x,2x,4x,10x "
                                              "(default: every length in the rows).")] = None,
    error: Annotated[str, typer.Option(help="What ± is: stderr (±1 standard error of each row's "
                                            "stderr_method) or ci95 (a 95 % interval, Student's t for few "
                                            "windows).")] = "stderr",
):
    """Each task's main metric by model and length, as a paper prints it: value ± error,
    the trivial baselines, n and documents per cell, in the order the runs asked for.

    Examples:

      pope-bench table runs/latest

      pope-bench table results/perplexity_text --format markdown --lengths 1x,2x,4x,10x

      pope-bench table runs/latest --format latex --error ci95 > table.tex
    """
    from pope_bench.report.errorbars import check_kind
    from pope_bench.report.table import FORMATS, folder_tables, render, to_rich

    if format_ not in FORMATS:
        raise BadInput(f"--format {format_!r} is not one of {', '.join(FORMATS)}")
    check_kind(error)
    wanted = [x.strip() for x in lengths.split(",")] if lengths else None
    for item in wanted or []:
        if not (item.isdigit() or (item.endswith("x") and item[:-1].replace(".", "", 1).isdigit())):
            raise BadInput(f"--lengths {lengths!r}: {item!r} is neither a length in tokens nor a multiple like 4x")
    tables = folder_tables(results, lengths=wanted, kind=error)
    if format_ == "text":
        from rich.console import Console

        console = Console()
        for rich in to_rich(tables, console.width):
            console.print(rich)
    else:
        typer.echo(render(tables, format_, error), nl=False)


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
    from pope_bench.core.schema import check_identifier
    from pope_bench.report.training_curves import plot_training_curves

    check_identifier(name, "--name")  # a file name inside --out, never a path out of it
    check_output_dir(out, "--out")
    for path in plot_training_curves(folders, out, name, x):
        typer.echo(str(path))


@app.command()
def figures(
    names: Annotated[list[str], typer.Argument(
        help="Figures to render (default: all), or spec YAML paths; `cp NAME` copies a spec instead.")] = None,
    results: Annotated[list[Path], typer.Option(
        "--results", help="A results folder, or a parent searched for results.jsonl (repeatable; default: runs, "
                          "where `pope-bench run` writes).")] = [Path("runs")],
    out: Annotated[Path, typer.Option(help="Where to write them (default: RESULTS/figures for one --results).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the figures and exit.")] = False,
    to: Annotated[Path, typer.Option(help="With `cp NAME`: the folder to copy the spec into.")] = Path("."),
    checkpoints: CheckpointsOpt = None,
):
    """Regenerate the paper's figures and tables from result rows (tables: markdown + CSV,
    figures: PNG + SVG, the same bytes when the rows are unchanged). By default from your
    runs (runs/) into runs/figures. Rendering all of them skips those without rows (each
    with the `pope-bench run` command that makes them) and writes OUT/README.md with captions.

    Examples:

      pope-bench figures

      pope-bench figures --list

      pope-bench figures --results results --out results/figures   # the bundled reference results

      pope-bench figures fig2 table_ppl --results runs/latest

      pope-bench figures cp fig2 --to my_specs && pope-bench figures my_specs/fig2.yaml
    """
    from pope_bench.report.figures import bundled, copy_spec, load_spec, render

    names = list(names or [])
    if list_:
        for name in bundled():
            spec = load_spec(name)
            typer.echo(f"{name:<18} {spec.kind:<15} {spec.title}  [{', '.join(dict.fromkeys(spec.all_tasks))}]")
        return
    if names[:1] == ["cp"]:
        if len(names) != 2:
            raise BadInput("usage: pope-bench figures cp NAME [--to DIR] (see `pope-bench figures --list`)")
        typer.echo(str(copy_spec(names[1], check_output_dir(to, "--to"))))
        return
    out = check_output_dir(out or (results[0] / "figures" if len(results) == 1 else Path("figures")), "--out")
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
    """Registered checkpoints: name, encoding, scaling, train and maximum length, parameters, source.

    Example:

      pope-bench list models --checkpoints my-models.yaml
    """
    from rich.console import Console

    from pope_bench.models.checkpoints import load_registry
    from pope_bench.report.listing import models_table

    Console().print(models_table(load_registry(checkpoints or default_registry())))


@list_app.command("suites")
def list_suites():
    """Named suites for `pope-bench run --suite NAME` (`default` runs with no options).

    Example:

      pope-bench list suites
    """
    from rich.console import Console

    from pope_bench.report.listing import suites_table

    Console().print(suites_table())


@list_app.command("encodings")
def list_encodings():
    """Positional encodings: built-ins and plugins (entry point ``pope_bench.encodings``),
    with their config fields, whether eval-time RoPE scaling applies, and their package.

    Example:

      pope-bench list encodings
    """
    from rich.console import Console
    from rich.table import Table

    from pope_bench.encodings import encodings, origin

    table = Table(title="encodings")
    for column in ("name", "label", "fields", "rope scaling", "package"):
        table.add_column(column, overflow="fold")
    for name, cls in encodings().items():
        fields = ", ".join(f"{key}={info.default!r}" for key, info in cls.Fields.model_fields.items()) or "—"
        table.add_row(name, cls.label, fields, "yes" if cls.rope_scaling else "no", origin(name))
    Console(width=120).print(table)


@list_app.command("tasks")
def list_tasks(tasks_dir: TasksDirOpt = [], checkpoints: CheckpointsOpt = None):
    """Tasks: main metric, default lengths, the registered checkpoints each suits, data source.

    Example:

      pope-bench list tasks --tasks-dir my_tasks/
    """
    from rich.console import Console

    from pope_bench.models.checkpoints import load_registry
    from pope_bench.report.listing import tasks_table
    from pope_bench.tasks.registry import discover

    found = discover(tasks_dir)
    path = checkpoints or default_registry()
    Console().print(tasks_table(found, load_registry(path) if path.exists() else {}))
    for note in found.notes.values():
        Console(stderr=True).print(f"note: {note}", markup=False, soft_wrap=True)
    for problem in found.problems:
        Console(stderr=True).print(f"warning: {problem}", markup=False)


@tasks_app.command("new")
def tasks_new(
    name: Annotated[str, typer.Argument(help="The new task's name (also its file name).")],
    folder: Annotated[Path, typer.Option(help="Where to write NAME.yaml.")] = Path("."),
    corpus: Annotated[Path | None, typer.Option(
        help="Your documents: a .txt file, a folder of them, or a .jsonl/.json/.parquet/.csv file (column text).")] = None,
):
    """Write a commented starter task file that runs as written.

    Example:

      pope-bench tasks new my_ppl --folder my_tasks && pope-bench run --tasks-dir my_tasks -t my_ppl

      pope-bench tasks new my_docs --corpus ~/papers/ --folder my_tasks
    """
    from pope_bench.tasks.starter import write_starter

    typer.echo(str(write_starter(name, check_output_dir(folder, "--folder"), corpus)))


def main() -> None:
    app()
