"""Task types and task definitions.

A *task type* is Python: it knows how to build examples at a given length and score a
model on them. A *task* is a declarative definition (YAML in ``tasks/``, a user's
``--tasks-dir`` or a package's ``pope_bench.tasks`` entry point) naming its type and
parameters — the lm-evaluation-harness split, with length as a first-class argument.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import ClassVar

from pope_bench.core.errors import BadInput
from pope_bench.core.schema import Identifier, StrictModel, validate


@dataclass
class Metric:
    """One measured number of one cell. ``extra`` holds the columns that index curves
    inside a cell (``position`` for loss-by-position bins, ``depth`` for passkey) and
    counts such as ``skipped`` — never packed into the metric name. ``stderr_method`` says
    what ``stderr`` is (``binomial``, ``per_example``, ``window_clustered``,
    ``window_bootstrap``; see the task type), so no table or plot has to guess."""

    metric: str
    value: float
    stderr: float | None = None
    n: int = 0
    extra: dict = field(default_factory=dict)
    stderr_method: str | None = None


class TaskFile(StrictModel):
    """A task definition as written (a YAML file, or a dict from an entry point); its
    ``params`` are checked by the named type's own :class:`TaskParams` schema."""

    name: Identifier
    type: str
    params: dict = {}
    description: str = ""
    default_lengths: str = "1x"
    source: str = ""


@dataclass
class TaskDefinition:
    name: str
    type: str
    params: dict
    description: str = ""
    default_lengths: str = "1x"
    source: str = ""
    origin: str = ""  # the file or entry point it came from

    @classmethod
    def parse(cls, data, origin: str) -> TaskDefinition:
        spec = validate(TaskFile, data, origin)
        return cls(name=spec.name, type=spec.type, params=dict(spec.params), description=spec.description.strip(),
                   default_lengths=spec.default_lengths, source=spec.source.strip(), origin=origin)


class TaskParams(StrictModel):
    """Params every task type takes; each type extends this with its own (typed, with
    defaults) and names it in ``TaskType.Params``. Plugins do the same."""

    #: the metric summaries and plots lead with (default: the type's first metric)
    main_metric: str | None = None
    #: the tokenizer a model must have to run the task (None: any of the task's domain)
    tokenizer: str | None = None


class TaskType:
    """Base class. Subclasses set ``type_name``, ``metrics`` (the first is the main one)
    and implement :meth:`evaluate`; :meth:`check_model` refuses unsuitable models."""

    type_name: ClassVar[str]
    metrics: ClassVar[tuple[str, ...]]
    #: the model domain this task needs (text, indexing, music, dna)
    domain: ClassVar[str] = "text"
    #: the schema of this type's params: fields, types, ranges and defaults in one place
    Params: ClassVar[type[TaskParams]] = TaskParams

    def __init__(self, definition: TaskDefinition):
        self.definition = definition
        where = f"task {definition.name!r} ({definition.origin}) params"
        if not isinstance(definition.params, dict):
            raise BadInput(f"{where} must be a mapping of param: value")
        self.params = validate(self.Params, definition.params, where)
        if self.params.main_metric is not None and self.params.main_metric not in self.metrics:
            raise BadInput(f"{where}: main_metric {self.params.main_metric!r} is not one of {', '.join(self.metrics)}")

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def main_metric(self) -> str:
        return self.params.main_metric or self.metrics[0]

    def fingerprint(self) -> str:
        """Type and params with every default filled in: part of each cell's key, so a
        changed default (or an explicit value equal to it) keys cells correctly."""
        payload = json.dumps({"type": self.definition.type, "params": self.params.model_dump(mode="json")},
                             sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def suits(self, entry) -> bool:
        """Whether a registry entry can run this task (domain and vocabulary)."""
        needed = self.params.tokenizer
        return entry.domain == self.domain and (needed is None or needed == entry.tokenizer)

    def check_model(self, lm) -> None:
        if not self.suits(lm.entry):
            raise BadInput(
                f"task {self.name!r} needs a {self.domain} model"
                + (f" with tokenizer {self.params.tokenizer!r}" if self.params.tokenizer else "")
                + f"; {lm.entry.name!r} is a {lm.entry.domain} model ({lm.entry.tokenizer})"
            )

    def check_cell(self, length: int, limit: int | None) -> None:
        """BadInput for a cell that cannot run as asked (e.g. a budget below one window),
        raised while the sweep is planned, before any work."""

    def check_plan(self, entry, length: int, seed: int, limit: int | None) -> None:
        """BadInput for a (registry entry, length, seed) cell that cannot run (e.g. a length
        too short for the task's examples with the entry's tokenizer), raised while planning."""

    @property
    def category(self) -> str:
        """What the task measures, for ``list tasks`` (RULER's categories, say)."""
        return ""

    def data_checksums(self) -> dict[str, str]:
        """Checksums of the data this task reads, recorded in the run manifest."""
        return {}

    def estimated_tokens(self, length: int, limit: int | None) -> int:
        """Tokens one cell feeds through the model, what shards and Ray tasks are balanced
        on: a task scores either a fixed number of ``tokens`` at every length, or a number
        of ``examples`` (``trials``) each about ``length`` tokens long."""
        if "tokens" in self.params:
            return int(limit or self.params["tokens"])
        return length * int(limit or self.params.get("examples", self.params.get("trials", 100)))

    def evaluate(self, lm, length: int, seed: int, limit: int | None, batch_size: int) -> list[Metric]:
        raise NotImplementedError
