"""Task types and task definitions.

A *task type* is Python: it knows how to build examples at a given length and score a
model on them. A *task* is a declarative definition (YAML in ``tasks/``, a user's
``--tasks-dir`` or a package's ``pope_bench.tasks`` entry point) naming its type and
parameters — the lm-evaluation-harness split, with length as a first-class argument.
"""

from __future__ import annotations

import abc
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import PrivateAttr, field_validator

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


class TaskDefinition(StrictModel):
    """A task as written (a YAML file, or a dict from an entry point); its ``params`` are
    checked by the named type's own :class:`TaskParams` schema when the type is built.
    ``origin`` — the file or entry point it came from — is not a key of the file."""

    name: Identifier
    type: str
    params: dict = {}
    description: str = ""
    default_lengths: str = "1x"
    source: str = ""
    _origin: str = PrivateAttr(default="")

    @field_validator("description", "source")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @classmethod
    def parse(cls, data, origin: str) -> TaskDefinition:
        definition = validate(cls, data, origin)
        definition._origin = origin
        return definition

    @property
    def origin(self) -> str:
        return self._origin


class TaskParams(StrictModel):
    """Params every task type takes; each type extends this with its own (typed, with
    defaults) and names it in ``TaskType.Params``. Plugins do the same."""

    #: the metric summaries and plots lead with (default: the type's first metric)
    main_metric: str | None = None
    #: the tokenizer a model must have to run the task (None: any of the task's domain)
    tokenizer: str | None = None


class TaskType(abc.ABC):
    """What a task type provides, in the order a sweep asks for it:

    1. plan time, from the registry entry alone (nothing loaded): :meth:`refusal` — the
       one statement of which models can run the task, read by :meth:`suits` (which
       models a sweep picks) and :meth:`check_entry` (a named model that cannot);
       :meth:`check_cell` — a length or ``--limit`` that cannot run; and
       :meth:`estimated_tokens` — the cost shards and Ray tasks are balanced on;
    2. load time: :meth:`check_model` — what only the loaded model can tell (its
       vocabulary, its modules);
    3. run time: :meth:`examples` builds a cell's inputs from the length, seed and limit
       (deterministic: the model's tokenizer and entry, never its weights), and
       :meth:`score` runs the model on them in batches and returns the metrics.

    :meth:`evaluate` is the two in order, after the checks. Subclasses set ``type_name``,
    ``metrics`` (a :class:`MetricSpec` per metric the type reports, a bare name declaring a
    plain number; the first is the main one) and ``Params``; ``estimated_tokens``,
    ``examples`` and ``score`` are abstract — a type that lacks one cannot be built (the
    shape of DeepMind's length-generalisation task, ``sample_batch`` + ``accuracy_fn``,
    and of lm-evaluation-harness's docs → requests → results)."""

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

    # ---- plan time: the registry entry -----------------------------------------------------

    def refusal(self, entry) -> str | None:
        """Why the registry entry ``entry`` cannot run this task (one line that says what
        would), or None when it can. Here: the task's domain and, when the task names one,
        its tokenizer; a type with more rules extends this, and nothing else states them."""
        needed = self.params.tokenizer
        if entry.domain == self.domain and (needed is None or needed == entry.tokenizer):
            return None
        return (f"task {self.name!r} needs {a_or_an(self.domain)} {self.domain} model"
                + (f" with tokenizer {needed!r}" if needed else "")
                + f"; {entry.name!r} is {a_or_an(entry.domain)} {entry.domain} model ({entry.tokenizer})")

    def suits(self, entry) -> bool:
        """Whether the registry entry can run this task."""
        return self.refusal(entry) is None

    def check_entry(self, entry) -> None:
        """BadInput (the :meth:`refusal`) unless the registry entry can run this task."""
        reason = self.refusal(entry)
        if reason is not None:
            raise BadInput(reason)

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

    @abc.abstractmethod
    def estimated_tokens(self, length: int, limit: int | None) -> int:
        """Tokens one cell at ``length`` feeds through the model, with or without
        ``--limit``: what shards and Ray tasks are balanced on (:mod:`pope_bench.sweep.shards`).
        Read from the params alone, before any data is loaded."""

    def data_checksums(self) -> dict[str, str]:
        """Checksums of the data this task reads, recorded in the run manifest."""
        return {}

    # ---- load time: the loaded model --------------------------------------------------------

    def check_model(self, lm) -> None:
        """BadInput for what only the loaded model ``lm`` can tell (its vocabulary, its
        modules); the entry's own rules were checked at plan time (:meth:`refusal`)."""

    # ---- run time ---------------------------------------------------------------------------

    @abc.abstractmethod
    def examples(self, lm, length: int, seed: int, limit: int | None):
        """A cell's inputs at ``length``, drawn from ``seed`` and capped by ``limit``: the
        same for every model with ``lm``'s tokenizer (and entry); never runs the model.
        Whatever :meth:`score` of this type takes."""

    @abc.abstractmethod
    def score(self, lm, examples, batch_size: int) -> list[Metric]:
        """The metrics of ``lm`` on :meth:`examples`' output, ``batch_size`` sequences of
        the cell's length per forward pass (the batch changes speed, not the numbers)."""

    def evaluate(self, lm, length: int, seed: int, limit: int | None, batch_size: int) -> list[Metric]:
        """One cell: the checks, then :meth:`examples` and :meth:`score`."""
        self.check_entry(lm.entry)
        self.check_model(lm)
        self.check_cell(length, limit)
        return self.score(lm, self.examples(lm, length, seed, limit), batch_size)


def a_or_an(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"
