"""The sweep: (model × task × length × seed) cells → tidy rows, resumable.

Everything that can be wrong with the input is checked before any work (models, tasks,
pairings, lengths against each model's limit, shard, executor, placement, the output
folder). Then the cells still to run (of this shard, with ``--shard``) go to an executor —
this process, or a Ray cluster (:mod:`pope_bench.executors`) — and this process alone
appends each cell's rows as they come back, flushed at once. How a cell runs and fails
(out of memory, NaN, bad data → a row with ``status`` ≠ ok) is
:mod:`pope_bench.executors.worker`.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .errors import BadInput
from .executors import make_executor
from .executors.worker import Settings
from .lengths import parse_lengths, resolve_lengths
from .manifest import record_run
from .registry.checkpoints import ModelEntry, entry_for, fingerprint_files, is_native, load_registry
from .registry.placement import check_placement, check_splittable
from .results import ResultsWriter, export
from .shards import parse_shard, select
from .tasks.base import TaskType
from .tasks.registry import discover

DEFAULT_TASKS = ("perplexity_text", "indirect_indexing", "position_indexing", "content_indexing")


@dataclass
class Cell:
    entry: ModelEntry
    task: TaskType
    length: int
    seed: int
    key: str
    limit: int | None = None


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
    #: scale-out: where cells run, which part of the grid this process runs, model placement
    executor: str = "local"
    ray_address: str | None = None
    gpus_per_cell: float | None = None
    shard: str | None = None
    device_map: str | None = None
    attn_implementation: str = "auto"


def model_fingerprint(entry: ModelEntry) -> str:
    if is_native(entry):
        return fingerprint_files(entry.path)
    return hashlib.sha256(json.dumps([entry.source, entry.revision]).encode()).hexdigest()[:16]


def cell_key(fingerprint: str, entry: ModelEntry, task: TaskType, length: int, seed: int, limit) -> str:
    # The entry's name and declared scaling are part of the key: a `factor: auto` variant is
    # its unscaled base at 1× (same weights, same rule) but a different row of the table.
    payload = [entry.name, entry.rope_scaling, fingerprint, entry.scaling_for(length),
               task.definition.fingerprint(), length, seed, limit]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


def parse_batch_size(text: str) -> int | None:
    if text == "auto":
        return None
    if not text.isdigit() or int(text) < 1:
        raise BadInput(f"--batch-size {text!r} must be auto or a positive integer")
    return int(text)


def check_out_dir(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"  # shards started at once each probe their own
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
                for seed in options.seeds:
                    key = cell_key(fingerprint, entry, task, length, seed, options.limit)
                    cells.append(Cell(entry, task, length, seed, key, options.limit))
    if options.device_map:
        for entry in {c.entry.name: c.entry for c in cells}.values():
            check_splittable(entry)
    return cells


@dataclass
class _Probe:
    """Just enough of a loaded model for TaskType.check_model before loading anything."""

    entry: ModelEntry


def run(options: RunOptions, console=None) -> dict:
    """Run the sweep (this shard's part of it); returns {"failed": n, "done": n, "skipped": n, "out": path}."""
    from rich.console import Console

    from .registry.loading import resolve_device, resolve_dtype

    shard = parse_shard(options.shard)
    check_placement(options.device_map, options.attn_implementation)
    executor = make_executor(options.executor, options.ray_address, options.gpus_per_cell)
    device = resolve_device(options.device)
    dtype = resolve_dtype(options.dtype, device)
    fixed_batch = parse_batch_size(options.batch_size)
    cells = select(plan(options), shard)
    check_out_dir(options.out)
    writer = ResultsWriter(options.out, shard)
    finished = set() if options.force else writer.finished_keys()
    todo = [c for c in cells if c.key not in finished]
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    settings = Settings(options.device, options.dtype, fixed_batch, run_id, options.device_map,
                        options.attn_implementation)
    record = {
        "run_id": run_id, "seeds": options.seeds, "limit": options.limit, "batch_size": options.batch_size,
        # where cells run on other machines, "auto" is resolved there (each row says what it was)
        **({"device": str(device), "dtype": str(dtype).removeprefix("torch.")} if options.executor == "local"
           else {"device": options.device, "dtype": options.dtype}),
        "executor": executor.describe(), "shard": shard.label if shard else None,
        "device_map": options.device_map, "attn_implementation": options.attn_implementation,
        "models": {c.entry.name: {"source": c.entry.source, "pe": c.entry.pe, "scaling": c.entry.rope_scaling,
                                  "train_length": c.entry.train_length} for c in cells},
        "tasks": {c.task.name: {"type": c.task.definition.type, "params": c.task.params,
                                "origin": c.task.definition.origin} for c in cells},
        "cells": len(cells), "cells_to_run": len(todo),
        "data_checksums": {name: sum_ for c in {c.task.name: c for c in todo}.values()
                           for name, sum_ in c.task.data_checksums().items()},
    }
    with executor if todo else nullcontext():  # connects (Ray) before any row is written; not for a no-op rerun
        record_run(options.out, record)
        stats = {"failed": 0, "done": 0, "skipped": len(cells) - len(todo), "out": str(options.out)}
        _sweep(todo, executor, settings, writer, stats, console or Console(stderr=True))
    if stats["done"] or stats["failed"] or not (options.out / "results.csv").exists():
        export(options.out)
    return stats


def _sweep(todo: list[Cell], executor, settings: Settings, writer: ResultsWriter, stats: dict, console) -> None:
    """Hand the cells to the executor; append each cell's rows as they come back."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task("sweep", total=len(todo))

        def cell_done(cell: Cell, rows: list[dict]) -> None:
            writer.append(rows)
            stats["done" if rows[0]["status"] == "ok" else "failed"] += 1
            progress.update(bar, description=f"{cell.entry.name} · {cell.task.name} · L={cell.length}")
            progress.advance(bar)

        if todo:
            executor.run(todo, settings, cell_done)
