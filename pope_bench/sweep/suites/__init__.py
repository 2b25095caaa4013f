"""Suites: named sweeps, one YAML file each (``pope_bench/sweep/suites/*.yaml``, or a path).

``pope-bench run`` with no ``-m``/``-t`` runs the ``default`` suite; ``--suite paper`` the
paper's grid. A suite is a list of *sweeps*, each a set of tasks × models × lengths with its
own example cap, because a short suite wants few examples of a cheap task and few tokens
of an expensive one. ``models`` left out means every registered checkpoint that suits the
task; ``lengths`` left out, the task's ``default_lengths``. ``reference_seconds`` is the
suite's measured wall time on ``reference_machine``, the basis of the estimate a run
prints before it starts.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pope_bench.core.errors import BadInput, closest


class Sweep(BaseModel):
    """tasks × models × lengths, with one cap on examples (or scored tokens) per cell."""

    model_config = ConfigDict(extra="forbid")

    tasks: list[str] = Field(min_length=1)
    models: list[str] | None = None
    lengths: str | None = None
    limit: int | None = Field(default=None, ge=1)
    #: ad-hoc ``-m`` without ``-t``: tasks that do not suit the models are left out, not errors
    only_suited: bool = False


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    reference_seconds: float | None = Field(default=None, gt=0)
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
    if path is None or not path.is_file():
        raise BadInput(f"unknown suite {name!r}{closest(name, files)}; known: {', '.join(files)} "
                       "(`pope-bench list suites`) or a suite .yaml file")
    try:
        data = yaml.safe_load(path.read_text())
        return Suite.model_validate(data)
    except yaml.YAMLError as e:
        raise BadInput(f"suite {path} is not valid YAML ({str(e).splitlines()[0]})") from None
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "(top level)"
        raise BadInput(f"suite {path}: {where}: {first['msg']}") from None


def sweeps_for(suite: str | None, models: list[str], tasks: list[str], lengths: str | None,
               limit: int | None) -> tuple[str | None, list[Sweep]]:
    """(suite name or None, sweeps) of a ``run``: a suite (``--suite``, or ``default`` when
    neither -m nor -t is given; --lengths/--limit override its own), or one ad-hoc sweep."""
    if suite is not None and (models or tasks):
        raise BadInput(f"--suite {suite} fixes its models and tasks; drop -m/-t, or drop --suite to choose them")
    if not models and not tasks:
        chosen = load_suite(suite or "default")
        overrides = {k: v for k, v in (("lengths", lengths), ("limit", limit)) if v is not None}
        return chosen.name, [s.model_copy(update=overrides) for s in chosen.sweeps]
    if not tasks:  # -m alone: the default suite's tasks, those that suit the models
        tasks = load_suite("default").task_names()
        return None, [Sweep(tasks=tasks, models=models, lengths=lengths, limit=limit, only_suited=True)]
    return None, [Sweep(tasks=tasks, models=models or None, lengths=lengths, limit=limit)]
