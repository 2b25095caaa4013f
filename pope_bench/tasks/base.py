"""Task types and task definitions.

A *task type* is Python: it knows how to build examples at a given length and score a
model on them. A *task* is a declarative definition (YAML in ``tasks/``, a user's
``--tasks-dir`` or a package's ``pope_bench.tasks`` entry point) naming its type and
parameters — the lm-evaluation-harness split, with length as a first-class argument.
"""

from __future__ import annotations

import hashlib
import json
import math
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


def binomial(name: str, p: float, n: int, extra: dict | None = None) -> Metric:
    """A proportion over ``n`` independent examples with its binomial standard error
    √(p(1 − p)/n): an accuracy, or the expected accuracy of a trivial guesser."""
    return Metric(name, p, math.sqrt(p * (1 - p) / n), n, dict(extra or {}), stderr_method="binomial")


@dataclass(frozen=True)
class MetricSpec:
    """What a task type declares about one metric it reports, so no summary, table or plot
    guesses from its name (lm-evaluation-harness's ``metric_list``): which way is better,
    whether it is a proportion (shown in %, bands clipped to [0, 1]), whether it reads on a
    log axis, and — for a trivial baseline computed on the same examples — what it is, in
    words (``baseline``), so it is drawn as a reference line and named by that phrase."""

    name: str
    #: the metric summaries and plots lead with (else the first declared one)
    main: bool = False
    #: True: larger is better (accuracy); False: smaller is better (perplexity); None: neither
    higher_is_better: bool | None = None
    proportion: bool = False
    log_axis: bool = False
    #: a trivial baseline's description in words ("always the source letter"), else None
    baseline: str | None = None

    @property
    def label(self) -> str:
        """How tables and legends name it: the baseline's words, else its name (+ %)."""
        if self.baseline:
            return f"baseline: {self.baseline}"
        return self.name + (" (%)" if self.proportion else "")


def proportion(name: str, main: bool = False, baseline: str | None = None) -> MetricSpec:
    """A share of examples (an accuracy, higher is better) or a trivial baseline's."""
    return MetricSpec(name, main, None if baseline else True, proportion=True, baseline=baseline)


def lower_better(name: str, main: bool = False, log_axis: bool = False) -> MetricSpec:
    """A loss-like number: perplexity, NLL, bits per byte."""
    return MetricSpec(name, main, False, log_axis=log_axis)


#: what a uniform guess among each example's candidates scores on the same examples
CHANCE = proportion("baseline_chance", baseline="chance (uniform over the candidates)")


def undeclared(name: str) -> MetricSpec:
    """The declaration of a metric no task type declares (rows of a removed plugin): no
    direction, no unit — a plain number, never guessed from the name."""
    return MetricSpec(name)


def definition_fingerprint(type_name: str, params: dict) -> str:
    """A task definition's identity: its type and every param with defaults filled in."""
    payload = json.dumps({"type": type_name, "params": params}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def settings_id(type_name: str, params: dict, limit: int | None) -> str:
    """The short id of what a cell measured, apart from the model, length and seed: the
    task definition (type + resolved params) and the budget (``--limit`` / a suite's
    limit). Rows of one settings id are one experiment; readers never average across ids."""
    payload = json.dumps({"task": definition_fingerprint(type_name, params), "limit": limit}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:6]


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
    """Base class. Subclasses set ``type_name``, ``metrics`` (:class:`MetricSpec` per metric
    the type reports; a bare name declares a plain number) and implement :meth:`evaluate`;
    :meth:`check_model` refuses unsuitable models."""

    type_name: ClassVar[str]
    metrics: ClassVar[tuple[MetricSpec, ...]]
    #: the model domain this task needs (text, indexing, music, dna)
    domain: ClassVar[str] = "text"
    #: the schema of this type's params: fields, types, ranges and defaults in one place
    Params: ClassVar[type[TaskParams]] = TaskParams

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "metrics" in cls.__dict__:
            cls.metrics = tuple(m if isinstance(m, MetricSpec) else MetricSpec(m) for m in cls.metrics)

    @classmethod
    def declared(cls) -> dict[str, MetricSpec]:
        """Metric name → its declaration."""
        return {m.name: m for m in cls.metrics}

    @classmethod
    def default_main(cls) -> str:
        return next((m.name for m in cls.metrics if m.main), cls.metrics[0].name)

    def __init__(self, definition: TaskDefinition):
        self.definition = definition
        where = f"task {definition.name!r} ({definition.origin}) params"
        if not isinstance(definition.params, dict):
            raise BadInput(f"{where} must be a mapping of param: value")
        self.params = validate(self.Params, definition.params, where)
        names = list(self.declared())
        if self.params.main_metric is not None and self.params.main_metric not in names:
            raise BadInput(f"{where}: main_metric {self.params.main_metric!r} is not one of {', '.join(names)}")

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def main_metric(self) -> str:
        return self.params.main_metric or self.default_main()

    def fingerprint(self) -> str:
        """Type and params with every default filled in: part of each cell's key, so a
        changed default (or an explicit value equal to it) keys cells correctly."""
        return definition_fingerprint(self.definition.type, self.params.model_dump(mode="json"))

    def settings(self, limit: int | None) -> str:
        """The settings id of this task's cells at budget ``limit`` (:func:`settings_id`)."""
        return settings_id(self.definition.type, self.params.model_dump(mode="json"), limit)

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
