"""The ``pope-bench`` command line (typer). Every command's ``--help`` has examples.

Bad input raises :class:`~pope_bench.errors.BadInput`, which ``main`` prints as one line
on stderr with exit code 2 — never a traceback.
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
)


@app.command()
def version():
    """Print the pope-bench version."""
    from . import __version__

    typer.echo(__version__)


@app.command()
def train(
    recipe: Annotated[str, typer.Argument(help="A bundled recipe name (e.g. text-tiny) or a YAML path.")],
    pe: Annotated[str, typer.Option(help="Positional encoding: rope, pope or nope.")],
    out: Annotated[Path, typer.Option(help="Checkpoint folder to write (resumes if it holds a train_state.pt).")],
    set_: Annotated[list[str], typer.Option("--set", help="Override a recipe field: section.key=value.")] = [],
    threads: Annotated[int, typer.Option(help="CPU threads (0 = torch's default).")] = 0,
):
    """Train a native checkpoint from a recipe.

    Examples:

      pope-bench train text-tiny --pe pope --out checkpoints/pope-text-tiny

      pope-bench train text-tiny --pe rope --out runs/r --set train.steps=200
    """
    from .encodings import ENCODINGS
    from .training.recipe import load_recipe
    from .training.trainer import train as run_training

    if pe not in ENCODINGS:
        raise BadInput(f"--pe {pe!r} is not one of {', '.join(ENCODINGS)}")
    run_training(load_recipe(recipe, set_), pe, out, threads or None)
    typer.echo(f"wrote {out}")


def main() -> None:
    try:
        app()
    except BadInput as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted: finished cells are saved; rerun the same command to resume", err=True)
        sys.exit(130)
