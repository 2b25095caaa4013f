"""What the rows' metrics are, as their task types declare them (:class:`~pope_bench.tasks.base.MetricSpec`).

A results folder's manifest names each task's type and params; the type's ``metrics``
say which metric is the main one, which way is better, which are proportions (shown in
%), which read on a log axis and which are trivial baselines (and what they are, in
words). Summary, ``table``, ``plot`` and ``figures`` read this instead of guessing from
metric names; a metric no type declares (a plugin that is no longer installed) is a
plain number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pope_bench.core.errors import BadInput
from pope_bench.sweep.manifest import read_manifest
from pope_bench.tasks.base import MetricSpec, undeclared


@dataclass
class TaskMetrics:
    """One task's declared metrics, and the main one its params chose (if any)."""

    metrics: dict[str, MetricSpec] = field(default_factory=dict)
    main: str | None = None

    def spec(self, name: str) -> MetricSpec:
        return self.metrics.get(name) or undeclared(name)

    def main_of(self, present) -> str:
        """The main metric among those the rows have: the declared (or chosen) one, else
        the first declared non-baseline present, else the first present by name."""
        present = set(present)
        if self.main in present:
            return self.main
        declared = [m for m in self.metrics.values() if m.name in present and not m.baseline]
        return next((m.name for m in declared if m.main), declared[0].name if declared else sorted(present)[0])

    def baselines(self, present) -> list[MetricSpec]:
        """The declared trivial baselines among ``present``, in declaration order."""
        present = set(present)
        return [m for m in self.metrics.values() if m.baseline and m.name in present]


def _task_metrics(info: dict) -> TaskMetrics:
    from pope_bench.tasks.registry import task_type_class

    try:
        cls = task_type_class(info.get("type") or "")
    except BadInput:
        return TaskMetrics()
    params = info.get("params") or {}
    return TaskMetrics(cls.declared(), params.get("main_metric") or cls.default_main())


def declared_metrics(folders) -> dict[str, TaskMetrics]:
    """Task name → its declared metrics, from the manifests of ``folders`` (the latest run
    that names the task wins)."""
    found: dict[str, TaskMetrics] = {}
    for folder in folders:
        for run in read_manifest(Path(folder))["runs"]:
            for task, info in (run.get("tasks") or {}).items():
                found[task] = _task_metrics(info)
    return found


def builtin_baselines() -> dict[str, MetricSpec]:
    """Every trivial baseline the built-in task types declare, by metric name."""
    from pope_bench.tasks.registry import TASK_TYPES, task_type_class

    return {m.name: m for name in TASK_TYPES for m in task_type_class(name).metrics if m.baseline}


def baseline_phrase(metric: str) -> str:
    """``baseline: <words>`` for a baseline metric, as its task type declares it."""
    spec = builtin_baselines().get(metric)
    return spec.label if spec else "baseline: " + metric.removeprefix("baseline").strip("_")


def for_task(declared: dict[str, TaskMetrics], task: str) -> TaskMetrics:
    return declared.get(task) or TaskMetrics()
