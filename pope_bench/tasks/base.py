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
    ``metrics`` (the first is the main one) and ``Params``; ``estimated_tokens``,
    ``examples`` and ``score`` are abstract — a type that lacks one cannot be built (the
    shape of DeepMind's length-generalisation task, ``sample_batch`` + ``accuracy_fn``,
    and of lm-evaluation-harness's docs → requests → results)."""

    type_name: ClassVar[str]
    metrics: ClassVar[tuple[str, ...]]
    #: the model domain this task needs (text, indexing, music, dna)
    domain: ClassVar[str] = "text"
    #: the schema of this type's params: fields, types, ranges and defaults in one place
    Params: ClassVar[type[TaskParams]] = TaskParams

    def __init__(self, definition: TaskDefinition):
        self.definition = definition
        where = f"task {definition.name!r} ({definition.origin}) params"
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
