"""Test-only task types for failure paths the runner must survive: a forward that runs
out of memory above a token budget (the CPU cannot be made to OOM on demand), one that
produces NaN, and one whose process is killed mid-cell. All are real TaskType plugins,
loaded the way a user's are."""

import torch
from pydantic import PositiveInt

from pope_bench.tasks.base import Metric, TaskParams, TaskType


class MemoryHungryParams(TaskParams):
    max_tokens: PositiveInt


class MemoryHungryTask(TaskType):
    """Raises torch.OutOfMemoryError when batch × length exceeds params.max_tokens, and
    records the batch sizes it was asked for."""

    type_name = "memory_hungry"
    metrics = ("batch_used",)
    Params = MemoryHungryParams
    calls: list[tuple[int, int]] = []

    def estimated_tokens(self, length, limit):
        return length

    def examples(self, lm, length, seed, limit):
        return length

    def score(self, lm, length, batch_size):
        MemoryHungryTask.calls.append((length, batch_size))
        if batch_size * length > self.params.max_tokens:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return [Metric("batch_used", float(batch_size), None, batch_size)]


class NanTask(TaskType):
    type_name = "nan"
    metrics = ("loss",)

    def estimated_tokens(self, length, limit):
        return length

    def examples(self, lm, length, seed, limit):
        return None

    def score(self, lm, examples, batch_size):
        return [Metric("loss", float("nan"), None, 1)]


class DyingParams(TaskParams):
    deaths: str
    dies: PositiveInt
    at: list[int] | None = None


class DyingTask(TaskType):
    """Kills the process scoring it (SIGKILL: what the OOM killer or a lost node does to
    a worker) the first ``dies`` times a process scores it at a length (of ``at``, default
    all), counted in a file per length in the folder ``params.deaths``; then scores
    ``length``. Only for executors that run cells in a process of their own."""

    type_name = "dying"
    metrics = ("loss",)
    Params = DyingParams

    def estimated_tokens(self, length, limit):
        return length

    def examples(self, lm, length, seed, limit):
        return length

    def score(self, lm, length, batch_size):
        import os
        import signal
        from pathlib import Path

        deaths = Path(self.params.deaths) / f"L{length}"
        doomed = length in (self.params.at or [length])
        if doomed and len(deaths.read_text().splitlines() if deaths.exists() else []) < self.params.dies:
            with open(deaths, "a") as f:
                f.write(f"{os.getpid()}\n")
            os.kill(os.getpid(), signal.SIGKILL)
        return [Metric("loss", float(length), None, 1)]
