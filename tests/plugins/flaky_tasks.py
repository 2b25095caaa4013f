"""Test-only task types for failure paths the runner must survive: a forward that runs
out of memory above a token budget (the CPU cannot be made to OOM on demand), and one
that produces NaN. Both are real TaskType plugins, loaded the way a user's are."""

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

    def evaluate(self, lm, length, seed, limit, batch_size):
        MemoryHungryTask.calls.append((length, batch_size))
        if batch_size * length > self.params.max_tokens:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return [Metric("batch_used", float(batch_size), None, batch_size)]


class NanTask(TaskType):
    type_name = "nan"
    metrics = ("loss",)

    def evaluate(self, lm, length, seed, limit, batch_size):
        return [Metric("loss", float("nan"), None, 1)]
