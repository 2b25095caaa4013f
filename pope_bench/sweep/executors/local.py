"""Every cell in turn, in this process, on one device: models one at a time, and within
a model and task the longest length first (the batch size found there is safe below)."""

from __future__ import annotations

from pope_bench.sweep.executors.worker import CellWorker, Settings, run_order


class LocalExecutor:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def describe(self) -> dict:
        return {"name": "local"}

    def run(self, cells: list, settings: Settings, done) -> None:
        worker = CellWorker(settings)
        for cell in run_order(cells):
            done(cell, worker.run(cell))
