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

from ..errors import BadInput


@dataclass
class Metric:
    """One measured number of one cell. ``extra`` holds the columns that index curves
    inside a cell (``position`` for loss-by-position bins, ``depth`` for passkey) and
    counts such as ``skipped`` — never packed into the metric name."""

    metric: str
    value: float
    stderr: float | None = None
    n: int = 0
    extra: dict = field(default_factory=dict)


@dataclass
class TaskDefinition:
    name: str
    type: str
    params: dict
    description: str = ""
    default_lengths: str = "1x"
    source: str = ""
    origin: str = ""  # the file or entry point it came from

    def fingerprint(self) -> str:
        payload = json.dumps({"type": self.type, "params": self.params}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


class TaskType:
    """Base class. Subclasses set ``type_name``, ``metrics`` (the first is the main one)
    and implement :meth:`evaluate`; :meth:`check_model` refuses unsuitable models."""

    type_name: ClassVar[str]
    metrics: ClassVar[tuple[str, ...]]
    #: the model domain this task needs (text, indexing, music, dna)
    domain: ClassVar[str] = "text"
    #: params every definition must give
    required_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, definition: TaskDefinition):
        self.definition = definition
        self.params = definition.params
        missing = [p for p in self.required_params if p not in self.params]
        if missing:
            raise BadInput(f"task {definition.name!r} ({definition.origin}) is missing param(s) {', '.join(missing)}")

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def main_metric(self) -> str:
        return self.params.get("main_metric", self.metrics[0])

    def suits(self, entry) -> bool:
        """Whether a registry entry can run this task (domain and vocabulary)."""
        needed = self.params.get("tokenizer")
        return entry.domain == self.domain and (needed is None or needed == entry.tokenizer)

    def check_model(self, lm) -> None:
        if not self.suits(lm.entry):
            raise BadInput(
                f"task {self.name!r} needs a {self.domain} model"
                + (f" with tokenizer {self.params['tokenizer']!r}" if self.params.get("tokenizer") else "")
                + f"; {lm.entry.name!r} is a {lm.entry.domain} model ({lm.entry.tokenizer})"
            )

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
