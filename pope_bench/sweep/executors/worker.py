"""One cell in, its rows out: what every executor runs wherever the cell lands (this
process, or a Ray worker on another machine).

A worker keeps one model loaded at a time (cells arrive grouped by model, longest length
first, so the batch size found at a long length is safe below). A cell that runs out of
memory at batch size 1, produces NaN, or hits bad data becomes a row with ``status`` ≠ ok,
and so does every cell of a model that fails to load: the sweep goes on.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from pope_bench import __version__
from pope_bench.core.errors import BadInput
from pope_bench.sweep.manifest import git_sha

#: tokens per forward pass that --batch-size auto starts from, halving on out-of-memory.
#: On CPUs small passes are fastest (activations stay in cache; measured in
#: benchmarks/perplexity.py: 512 tokens/pass beat 2k–16k by 1.2–2.4×); GPUs want big ones.
AUTO_BATCH_TOKENS = {"cpu": 512, "cuda": 131_072, "mps": 32_768}


@dataclass(frozen=True)
class Settings:
    """What every cell of a run shares; device and dtype stay as the user wrote them
    (``auto``) and are resolved where the cells run, which may be another machine."""

    device: str
    dtype: str
    batch_size: int | None
    run_id: str
    device_map: str | None = None
    attn_implementation: str = "auto"


def run_order(cells: list) -> list:
    """Models one at a time; within a model and task, longest length first."""
    return sorted(cells, key=lambda c: (c.entry.name, c.task.name, -c.length, c.seed))


class CellWorker:
    def __init__(self, settings: Settings):
        from pope_bench.models.loading import resolve_device, resolve_dtype

        self.settings = settings
        self.device = resolve_device(settings.device)
        self.dtype = resolve_dtype(settings.dtype, self.device)
        #: by load key (:func:`~..registry.identity.load_key`), never by display name
        self._loaded: dict[str, object] = {}
        self._load_failure: dict[str, tuple[str, str]] = {}
        #: tokens per pass that fit, per (model, task): found at the longest length, kept below
        self._token_budget: dict[tuple, int] = {}

    def run(self, cell) -> list[dict]:
        start = time.perf_counter()
        lm, failure = self._model(cell)
        if failure:
            status, error = failure
            metrics = []
        else:
            metrics, status, error = self._evaluate(cell, lm)
        return self._rows(cell, lm, metrics, status, error, time.perf_counter() - start)

    def _model(self, cell):
        """(loaded model, None) or (None, (status, error)) when it cannot be loaded."""
        from pope_bench.models import loading
        from pope_bench.models.identity import load_key

        scaling = cell.entry.scaling_for(cell.length)
        key = load_key(cell.fingerprint, scaling)
        if key in self._load_failure:
            return None, self._load_failure[key]
        if key not in self._loaded:
            self._loaded.clear()  # keep one model in memory
            try:
                self._loaded[key] = loading.load_model(cell.entry, scaling, self.device, self.dtype,
                                                       self.settings.device_map, self.settings.attn_implementation)
            except BadInput:
                raise
            except Exception as e:  # noqa: BLE001 — one model that cannot load must not end the sweep
                self._free_memory()
                status = "oom" if is_out_of_memory(e) else "error"
                self._load_failure[key] = (status, f"loading the model: {type(e).__name__}: {e}")
                return None, self._load_failure[key]
        return self._loaded[key], None

    def _evaluate(self, cell, lm):
        """(metrics, status, error). With --batch-size auto a cell starts from the
        tokens-per-pass budget for its device, lowered for good by every out-of-memory (so a
        budget found at a long length carries to the shorter ones), halving down to 1."""
        budget_key = (cell.fingerprint, cell.task.name)
        budget = self._token_budget.get(budget_key, AUTO_BATCH_TOKENS.get(lm.device.type, 512))
        batch = self.settings.batch_size or max(1, budget // cell.length)
        while True:
            try:
                metrics = cell.task.evaluate(lm, cell.length, cell.seed, cell.limit, batch)
                if any(m.value is None or not math.isfinite(m.value) for m in metrics):
                    return metrics, "nan", "a metric is NaN or infinite"
                return metrics, "ok", None
            except BadInput as e:
                return [], "bad_data", str(e)
            except FloatingPointError as e:
                return [], "nan", str(e)
            except Exception as e:  # noqa: BLE001 — any failure of one cell must not end the sweep
                if not is_out_of_memory(e):
                    return [], "error", f"{type(e).__name__}: {e}"
                self._free_memory()
                if batch == 1:
                    return [], "oom", "out of memory at batch size 1"
                batch //= 2
                self._token_budget[budget_key] = batch * cell.length

    def _free_memory(self) -> None:
        import gc

        import torch

        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def _rows(self, cell, lm, metrics, status, error, elapsed) -> list[dict]:
        device, dtype = (lm.device, lm.dtype) if lm is not None else (self.device, self.dtype)
        return cell_rows(cell, metrics, status, error, {
            "device": str(device), "dtype": str(dtype).removeprefix("torch."), "elapsed_s": round(elapsed, 4),
            "run_id": self.settings.run_id,
        })


def cell_rows(cell, metrics, status: str, error: str | None, where: dict) -> list[dict]:
    """A cell's rows: one per metric, or one status row (its main metric, no value) when it
    did not finish. ``where`` holds device, dtype, elapsed_s and run_id."""
    base = {
        "model": cell.entry.name, "pe": cell.entry.pe, "scaling": cell.entry.scaling_label,
        "train_length": cell.entry.train_length, "task": cell.task.name, "length": cell.length,
        "length_ratio": cell.length / cell.entry.train_length, "seed": cell.seed, "status": status,
        **where, "version": __version__, "git_sha": git_sha(),
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cell_key": cell.key,
        "train_seed": cell.entry.seed, "group": cell.entry.group, "settings": cell.settings,
    }
    if status != "ok":
        return [{**base, "metric": cell.task.main_metric, "value": None, "error": error}]
    return [{**base, "metric": m.metric, "value": m.value, "stderr": m.stderr, "stderr_method": m.stderr_method,
             "n": m.n, **m.extra} for m in metrics]


def is_out_of_memory(error: BaseException) -> bool:
    """CUDA/MPS OOM, or the CPU allocator failing: the errors that halve the batch size."""
    import torch

    if isinstance(error, torch.OutOfMemoryError):
        return True
    text = str(error)
    return isinstance(error, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)
