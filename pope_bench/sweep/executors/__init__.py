"""Where a sweep's cells run: this process (``local``) or a Ray cluster (``ray``).

An executor takes the cells still to run and the run's :class:`~.worker.Settings`, and
calls ``done(cell, rows)`` in the driver process as each cell's rows come back — the
driver alone appends them to the results folder, so a rows file has one writer whatever
runs the cells. Used as a context manager: entering connects (to Ray), leaving lets go.
Everything an executor can refuse (Ray not installed, an unreachable address) is refused
when it is made, before any work.
"""

from __future__ import annotations

from pope_bench.core.errors import BadInput

EXECUTORS = ("local", "ray")


def make_executor(name: str, ray_address: str | None = None, gpus_per_cell: float | None = None):
    if name not in EXECUTORS:
        raise BadInput(f"--executor {name!r} is not one of {', '.join(EXECUTORS)}")
    if name == "local":
        if ray_address is not None or gpus_per_cell is not None:
            raise BadInput("--ray-address and --gpus-per-cell apply to --executor ray")
        from pope_bench.sweep.executors.local import LocalExecutor

        return LocalExecutor()
    from pope_bench.sweep.executors.ray import RayExecutor

    return RayExecutor(ray_address, gpus_per_cell)
