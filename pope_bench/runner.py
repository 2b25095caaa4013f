"""The sweep: (model × task × length × seed) cells → tidy rows, resumable.

Everything that can be wrong with the input is checked before any work (models, tasks,
pairings, lengths against each model's limit, the output folder). Then models load one at
a time, lengths run longest first (the batch size found there is safe below), finished
cells are skipped, and each cell's rows are flushed as soon as it ends. A cell that runs
out of memory at batch size 1, produces NaN, or hits bad data becomes a row with
``status`` ≠ ok and the sweep goes on.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import __version__
from .errors import BadInput
from .lengths import parse_lengths, resolve_lengths
from .manifest import git_sha, read_manifest, record_run
from .registry.checkpoints import (ModelEntry, check_native_entry, entry_for, fingerprint_files, load_registry,
                                   read_config)
from .results import ResultsWriter, export, finished_keys
from .tasks.base import TaskType
from .tasks.registry import discover
from .tasks.scoring import is_out_of_memory

DEFAULT_TASKS = ("perplexity_text", "indirect_indexing", "position_indexing", "content_indexing")
#: tokens per forward pass that --batch-size auto starts from, halving on out-of-memory.
#: On CPUs small passes are fastest (activations stay in cache; measured in
#: benchmarks/perplexity.py: 512 tokens/pass beat 2k–16k by 1.2–2.4×); GPUs want big ones.
AUTO_BATCH_TOKENS = {"cpu": 512, "cuda": 131_072, "mps": 32_768}


@dataclass
class Cell:
    entry: ModelEntry
    task: TaskType
    length: int
    seed: int
    key: str


@dataclass
class RunOptions:
    models: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    lengths: str | None = None
    out: Path = Path("runs/latest")
    device: str = "auto"
    dtype: str = "auto"
    batch_size: str = "auto"
    limit: int | None = None
    seeds: list[int] = field(default_factory=lambda: [0])
    checkpoints: Path = Path("checkpoints.yaml")
    tasks_dirs: list[Path] = field(default_factory=list)
    force: bool = False
    plot: bool = True


def model_fingerprint(entry: ModelEntry) -> str:
    if entry.path is not None:
        check_native_entry(entry)
        if read_config(entry.path).get("model_type") == "pope_bench":
            from .registry.loading import verify_native_weights

            fingerprint = fingerprint_files(entry.path)
            verify_native_weights(entry)
            return fingerprint
    return hashlib.sha256(json.dumps([entry.source, entry.revision]).encode()).hexdigest()[:16]


def cell_key(fingerprint: str, entry: ModelEntry, task: TaskType, length: int, seed: int, limit) -> str:
    # The entry's name and declared scaling are part of the key: a `factor: auto` variant is
    # its unscaled base at 1× (same weights, same rule) but a different row of the table.
    payload = [entry.name, entry.rope_scaling, fingerprint, entry.scaling_for(length),
               task.fingerprint(), length, seed, limit]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


def parse_batch_size(text: str) -> int | None:
    if text == "auto":
        return None
    if not text.isdigit() or int(text) < 1:
        raise BadInput(f"--batch-size {text!r} must be auto or a positive integer")
    return int(text)


def check_out_dir(out: Path) -> None:
    """Create ``out`` and prove it writable; only called once every input is checked."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise BadInput(f"--out {out} is not writable ({e.strerror}); choose another folder") from None


def plan(options: RunOptions) -> list[Cell]:
    """All cells of the sweep, validated. Raises BadInput before any work is done."""
    # without --model the registry must exist (load_registry says so); with it, it may not
    registry = load_registry(options.checkpoints) if options.checkpoints.exists() or not options.models else {}
    tasks_found = discover(options.tasks_dirs)
    task_names = options.tasks or [t for t in DEFAULT_TASKS if t in tasks_found.definitions]
    tasks = [tasks_found.build(name) for name in task_names]
    entries = [entry_for(name, registry) for name in options.models]
    lengths = parse_lengths(options.lengths) if options.lengths is not None else None
    cells: list[Cell] = []
    fingerprints: dict[str, str] = {}  # hashing weights once per model, not once per task
    for task in tasks:
        if entries:
            for entry in entries:
                if not task.suits(entry):
                    task.check_model(_Probe(entry))
            chosen = entries
        else:
            chosen = [e for e in registry.values() if task.suits(e)]
            if not chosen and options.tasks:  # the default suite just leaves such a task out
                raise BadInput(f"no registered checkpoint suits task {task.name!r} ({task.domain}); pass --model")
        for entry in chosen:
            if entry.name not in fingerprints:
                fingerprints[entry.name] = model_fingerprint(entry)
            fingerprint = fingerprints[entry.name]
            wanted = lengths or parse_lengths(task.definition.default_lengths)
            for length in resolve_lengths(wanted, entry.train_length, entry.length_limit, entry.name):
                task.check_cell(length, options.limit)
                for seed in options.seeds:
                    key = cell_key(fingerprint, entry, task, length, seed, options.limit)
                    cells.append(Cell(entry, task, length, seed, key))
    return cells


@dataclass
class _Probe:
    """Just enough of a loaded model for TaskType.check_model before loading anything."""

    entry: ModelEntry


def run(options: RunOptions, console=None) -> dict:
    """Run the sweep; returns {"failed": n, "done": n, "skipped": n, "out": path}."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from .registry.loading import load_model, resolve_device, resolve_dtype

    console = console or Console(stderr=True)
    device = resolve_device(options.device)
    dtype = resolve_dtype(options.dtype, device)
    fixed_batch = parse_batch_size(options.batch_size)
    if options.out.exists() and not options.out.is_dir():
        raise BadInput(f"--out {options.out} is a file; give a folder (it is created if missing)")
    cells = plan(options)
    read_manifest(options.out)  # a corrupt manifest or rows file is refused before anything is written
    finished = set() if options.force else finished_keys(options.out)
    todo = [c for c in cells if c.key not in finished]
    checksums = {name: sum_ for c in {c.task.name: c for c in todo}.values()
                 for name, sum_ in c.task.data_checksums().items()}  # loads (and checks) the data
    check_out_dir(options.out)
    writer = ResultsWriter(options.out)
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    record_run(options.out, {
        "run_id": run_id, "seeds": options.seeds, "device": str(device), "dtype": str(dtype).removeprefix("torch."),
        "limit": options.limit, "batch_size": options.batch_size,
        "models": {c.entry.name: {"source": c.entry.source, "pe": c.entry.pe, "scaling": c.entry.rope_scaling,
                                  "train_length": c.entry.train_length} for c in cells},
        "tasks": {c.task.name: {"type": c.task.definition.type, "params": c.task.params.model_dump(mode="json"),
                                "origin": c.task.definition.origin} for c in cells},
        "cells": len(cells), "cells_to_run": len(todo),
        "data_checksums": checksums,
    })
    stats = {"failed": 0, "done": 0, "skipped": len(cells) - len(todo), "out": str(options.out)}
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn()]
    loaded: dict[tuple, object] = {}
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task("sweep", total=len(todo))
        # models one at a time; within a model and task, longest length first
        todo.sort(key=lambda c: (c.entry.name, c.task.name, -c.length, c.seed))
        token_budget: dict[tuple, int] = {}
        for cell in todo:
            progress.update(bar, description=f"{cell.entry.name} · {cell.task.name} · L={cell.length}")
            scaling = cell.entry.scaling_for(cell.length)
            model_key = (cell.entry.name, json.dumps(scaling, sort_keys=True))
            if model_key not in loaded:
                loaded.clear()  # keep one model in memory
                loaded[model_key] = load_model(cell.entry, scaling, device, dtype)
            lm = loaded[model_key]
            start = time.perf_counter()
            metrics, status, error = _evaluate(cell, lm, options, fixed_batch, device, token_budget)
            rows = _rows(cell, lm, metrics, status, error, time.perf_counter() - start, run_id)
            writer.append(rows)
            stats["done" if status == "ok" else "failed"] += 1
            progress.advance(bar)
    if stats["done"] or stats["failed"] or not (options.out / "results.csv").exists():
        export(options.out)
    return stats


def _evaluate(cell, lm, options, fixed_batch, device, token_budget):
    """(metrics, status, error). With --batch-size auto a cell starts from the
    tokens-per-pass budget for its device, lowered for good by every out-of-memory (so a
    budget found at a long length carries to the shorter ones), halving down to 1."""
    import math

    budget_key = (cell.entry.name, cell.task.name)
    budget = token_budget.get(budget_key, AUTO_BATCH_TOKENS.get(device.type, 512))
    batch = fixed_batch or max(1, budget // cell.length)
    while True:
        try:
            cell.task.check_model(lm)  # what only the loaded model can tell (its vocabulary)
            metrics = cell.task.evaluate(lm, cell.length, cell.seed, options.limit, batch)
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
            _free_memory(device)
            if batch == 1:
                return [], "oom", "out of memory at batch size 1"
            batch //= 2
            token_budget[budget_key] = batch * cell.length


def _free_memory(device) -> None:
    import gc

    import torch

    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _rows(cell, lm, metrics, status, error, elapsed, run_id) -> list[dict]:
    base = {
        "model": cell.entry.name, "pe": cell.entry.pe, "scaling": cell.entry.scaling_label,
        "train_length": cell.entry.train_length, "task": cell.task.name, "length": cell.length,
        "length_ratio": cell.length / cell.entry.train_length, "seed": cell.seed, "status": status,
        "device": str(lm.device), "dtype": str(lm.dtype).removeprefix("torch."), "elapsed_s": round(elapsed, 4),
        "run_id": run_id, "version": __version__, "git_sha": git_sha(),
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cell_key": cell.key,
        "train_seed": cell.entry.seed, "group": cell.entry.group,
    }
    if status != "ok":
        return [{**base, "metric": cell.task.main_metric, "value": None, "error": error}]
    return [{**base, "metric": m.metric, "value": m.value, "stderr": m.stderr, "stderr_method": m.stderr_method,
             "n": m.n, **m.extra} for m in metrics]
