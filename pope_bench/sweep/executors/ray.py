"""``--executor ray``: cells as Ray tasks on a local or existing cluster (``pope-bench[ray]``).

A task runs a group of one model's cells (so weights load once per task), each task
asking for ``--gpus-per-cell`` GPUs (default: 1 when the cluster has GPUs, else 1 CPU).
A model's cells are cut into as many groups as its share of the estimated cost of the
sweep gives it of the cluster's slots (:func:`pope_bench.sweep.shards.balanced_split`), so a
sweep over few models still fills many GPUs. Tasks are Ray generators: each cell's rows
stream back to the driver as soon as the cell ends, and the driver alone writes them.

A worker that dies (killed, out of host memory, its node lost) takes down the cell in
flight: that cell is tried again once, in a new task with the rest of its group, and
if its worker dies again it is recorded as ``status: crashed`` and the group goes on
without it. A rerun tries it again.
"""

from __future__ import annotations

import logging
import socket
from collections import Counter, defaultdict
from dataclasses import replace

from pope_bench.core.errors import BadInput
from pope_bench.models.identity import load_key
from pope_bench.models.placement import installed
from pope_bench.sweep.executors.worker import CellWorker, Settings, cell_rows, run_order
from pope_bench.sweep.shards import balanced_split, cell_cost

#: how many more times a cell whose worker died is tried before it is recorded as crashed
RETRIES = 1


def run_cells(cells: list, settings: Settings):
    """The body of one Ray task: yields each cell's rows as it ends."""
    worker = CellWorker(settings)
    for cell in cells:
        yield worker.run(cell)


#: seconds to wait for a listener at --ray-address to connect and to answer as gRPC
PROBE_SECONDS = 5
#: the HTTP/2 client preface and an empty SETTINGS frame: every gRPC server (Ray's GCS and
#: Ray Client both are) answers with a SETTINGS frame of its own
HTTP2_HELLO = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def check_reachable(address: str) -> None:
    """Refuse, in seconds, an address nothing listens on and one whose listener is not a
    gRPC server (``ray.init`` would wait for minutes on the first and for ever on the second:
    it retries a connection that never speaks Ray's protocol)."""
    if address == "auto":  # the cluster this machine belongs to (ray start); Ray says if there is none
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BadInput(f"--ray-address {address!r} must be HOST:PORT, ray://HOST:PORT or auto")
    try:
        with socket.create_connection((host, int(port)), timeout=PROBE_SECONDS) as conn:
            conn.sendall(HTTP2_HELLO)
            answer = _receive(conn, 9)
    except OSError as e:
        raise BadInput(f"--ray-address {address} is unreachable ({e.strerror or e}); start the cluster "
                       "(`ray start --head`) or leave --ray-address out to start a local one") from None
    if len(answer) < 9 or answer[3] != 0x04:  # a frame header: 3 bytes length, 1 byte type (4: SETTINGS)
        raise BadInput(f"--ray-address {address} answers, but not as a Ray cluster (no gRPC reply in "
                       f"{PROBE_SECONDS} s); give the head node's GCS port (`ray start --head` prints it, "
                       "default 6379) or ray://HOST:10001")


def _receive(conn: socket.socket, size: int) -> bytes:
    """Up to ``size`` bytes, less when the peer closes or stays silent for the timeout."""
    data = b""
    try:
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                break
            data += chunk
    except TimeoutError:
        pass
    return data


class RayExecutor:
    def __init__(self, address: str | None, gpus_per_cell: float | None):
        if not installed("ray"):
            raise BadInput("--executor ray needs Ray: pip install 'pope-bench[ray]'")
        if gpus_per_cell is not None and gpus_per_cell < 0:
            raise BadInput(f"--gpus-per-cell must be 0 or more, got {gpus_per_cell}")
        if address is not None:
            check_reachable(address)
        self.address, self.gpus_per_cell = address, gpus_per_cell
        self._started = False

    def __enter__(self):
        """Connect: to ``--ray-address``, to the cluster this process already joined
        (``ray.init`` in a notebook or test), or to a new local one."""
        import ray

        if not ray.is_initialized():
            try:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.WARNING)
            except ConnectionError as e:
                raise BadInput(f"--ray-address {self.address}: {str(e).splitlines()[0]}") from None
            self._started = True
        return self

    def __exit__(self, *exc) -> None:
        import ray

        if self._started:
            ray.shutdown()

    def describe(self) -> dict:
        return {"name": "ray", "address": self.address or "local", "gpus_per_cell": self.gpus_per_cell}

    def _resources(self) -> tuple[dict, int]:
        """Each task's resource request, and how many such tasks the cluster runs at once."""
        import ray

        total = ray.cluster_resources()
        gpus = self.gpus_per_cell if self.gpus_per_cell is not None else (1 if total.get("GPU", 0) > 0 else 0)
        slots = int(total.get("CPU", 1))
        if gpus:
            slots = min(slots, int(total.get("GPU", 0) // gpus))
        return {"num_cpus": 1, "num_gpus": gpus}, max(1, slots)

    def run(self, cells: list, settings: Settings, done) -> None:
        import ray
        from ray.exceptions import RayError, RayTaskError

        request, slots = self._resources()
        task = ray.remote(run_cells).options(max_retries=0, **request)  # dead workers: retried here, per cell
        pending = {task.remote(group, settings): group for group in groups(unloaded(cells), slots)}
        deaths: Counter = Counter()
        while pending:
            (stream,), _ = ray.wait(list(pending), num_returns=1)
            remaining = pending.pop(stream)
            try:
                rows = ray.get(next(stream))
            except StopIteration:
                continue
            except RayTaskError as e:  # the code raised outside a cell's own handling: as in a local run
                raise e.cause from None
            except RayError as e:  # the worker process died
                if not remaining:
                    continue
                cell = remaining[0]
                deaths[cell.key] += 1
                if deaths[cell.key] > RETRIES:
                    reason = str(e).splitlines()[0]
                    done(cell, cell_rows(cell, [], "crashed", f"its worker died {deaths[cell.key]} times: {reason}",
                                         {"device": settings.device, "dtype": settings.dtype,
                                          "run_id": settings.run_id}))
                    remaining = remaining[1:]
                if remaining:
                    pending[task.remote(remaining, settings)] = remaining
                continue
            done(remaining[0], rows)
            pending[stream] = remaining[1:]


def unloaded(cells: list) -> list:
    """The cells with their tasks built anew from their definitions, so that data the
    driver loaded (for the manifest's checksums) is not shipped with every Ray task:
    workers load their own, once per task, when a cell needs it."""
    fresh: dict[str, object] = {}
    for cell in cells:
        if cell.task.name not in fresh:
            fresh[cell.task.name] = type(cell.task)(cell.task.definition)
    return [replace(c, task=fresh[c.task.name]) for c in cells]


def groups(cells: list, slots: int) -> list[list]:
    """Cells cut into tasks: by loaded model, then each model's cells into a number of
    cost-balanced groups proportional to its share of the sweep's cost, biggest first."""
    by_model: dict[str, list] = defaultdict(list)
    for cell in cells:
        by_model[load_key(cell.fingerprint, cell.entry.scaling_for(cell.length))].append(cell)
    total = sum(cell_cost(c) for c in cells)
    out = []
    for model_cells in by_model.values():
        share = sum(cell_cost(c) for c in model_cells) / total
        parts = max(1, min(len(model_cells), round(slots * share)))
        out += [run_order(part) for part in balanced_split(model_cells, parts) if part]
    return sorted(out, key=lambda group: -sum(cell_cost(c) for c in group))
