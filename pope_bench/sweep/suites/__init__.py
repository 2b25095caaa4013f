"""Suites: named sweeps, one YAML file each (``pope_bench/sweep/suites/*.yaml``, or a path).

``pope-bench run`` with no ``-m``/``-t`` runs the ``default`` suite; ``--suite paper`` the
paper's grid. A suite is a list of *sweeps*, each a set of tasks × models × lengths with its
own example cap, because a short suite wants few examples of a cheap task and few tokens
of an expensive one. ``models`` left out means every registered checkpoint that suits the
task; ``lengths`` left out, the task's ``default_lengths``. ``reference_seconds`` is the
suite's measured wall time for its ``reference_cells`` cells on ``reference_machine``: a run
prints an estimate from it only when it plans exactly that grid (no ``--lengths`` or
``--limit`` override, the same number of cells), never for a grid it was not measured on.

A suite file (``--suite my.yaml``) may have any ``name``: it is read through the schema
reader like every input file and is never looked up again by its name, so ``name: paper``
in a file does not borrow the bundled paper suite's estimate.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import NamedTuple

from pydantic import Field, PositiveInt

from pope_bench.core.errors import BadInput, closest
from pope_bench.core.schema import StrictModel, read_yaml, validate


class Sweep(StrictModel):
    """tasks × models × lengths, with one cap on examples (or scored tokens) per cell."""

    tasks: list[str] = Field(min_length=1)
    models: list[str] | None = None
    lengths: str | None = None
    limit: int | None = Field(default=None, ge=1)
    #: ad-hoc ``-m`` without ``-t``: tasks that do not suit the models are left out, not errors
    only_suited: bool = False


class Suite(StrictModel):
    """A named list of sweeps, with the wall time measured for its grid."""

    name: str = Field(min_length=1)
    description: str
    reference_seconds: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    #: how many cells reference_seconds was measured for: the estimate's grid
    reference_cells: PositiveInt | None = None
    reference_machine: str = ""
    sweeps: list[Sweep] = Field(min_length=1)

    def duration(self, fraction: float = 1.0) -> str:
        """The measured wall time (of ``fraction`` of the cells) in words — the one place
        the suite's time is stated: ``list suites`` and ``run`` print it, the README quotes it."""
        if not self.reference_seconds:
            return "not measured"
        return "≈ " + seconds_in_words(self.reference_seconds * fraction)

    def task_names(self) -> list[str]:
        return list(dict.fromkeys(t for sweep in self.sweeps for t in sweep.tasks))


def seconds_in_words(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def bundled() -> dict[str, Path]:
    folder = resources.files(__name__)
    return {Path(str(p)).stem: Path(str(p)) for p in sorted(folder.iterdir(), key=str) if str(p).endswith(".yaml")}


def load_suite(name: str) -> Suite:
    """A bundled suite by name, or a suite YAML file by path."""
    files = bundled()
    path = files.get(name) or (Path(name) if name.endswith((".yaml", ".yml")) else None)
    if path is None:
        raise BadInput(f"unknown suite {name!r}{closest(name, files)}; known: {', '.join(files)} "
                       "(`pope-bench list suites`) or a suite .yaml file")
    return validate(Suite, read_yaml(path, "suite"), f"suite {path}")


class Reference(NamedTuple):
    """A suite's measured wall time, for the grid it was measured on."""

    seconds: float
    cells: int
    machine: str


class Chosen(NamedTuple):
    """What ``run`` sweeps: the suite's label (its name, or its file), its sweeps, and its
    reference time when the grid is the one it was measured for."""

    suite: str | None
    sweeps: list[Sweep]
    reference: Reference | None = None


def sweeps_for(suite: str | None, models: list[str], tasks: list[str], lengths: str | None,
               limit: int | None) -> Chosen:
    """The sweeps of a ``run``: a suite (``--suite``, or ``default`` when neither -m nor -t
    is given; -m narrows it to those models, --lengths/--limit override its own, and then its
    reference time no longer applies), or one ad-hoc sweep."""
    if suite is not None and tasks:
        raise BadInput(f"--suite {suite} fixes its tasks; drop -t, or drop --suite to choose them")
    if suite is not None or not (models or tasks):
        name = suite or "default"
        chosen = load_suite(name)
        overrides = {k: v for k, v in (("lengths", lengths), ("limit", limit)) if v is not None}
        if models:  # the suite's tasks on these models, those that suit them
            overrides.update(models=models, only_suited=True)
        label = chosen.name if name in bundled() else f"{chosen.name} ({name})"
        measured = chosen.reference_seconds and chosen.reference_cells and not overrides
        reference = Reference(chosen.reference_seconds, chosen.reference_cells, chosen.reference_machine) \
            if measured else None
        return Chosen(label, [s.model_copy(update=overrides) for s in chosen.sweeps], reference)
    if not tasks:  # -m alone: the default suite's tasks, those that suit the models
        tasks = load_suite("default").task_names()
        return Chosen(None, [Sweep(tasks=tasks, models=models, lengths=lengths, limit=limit, only_suited=True)])
    return Chosen(None, [Sweep(tasks=tasks, models=models or None, lengths=lengths, limit=limit)])
