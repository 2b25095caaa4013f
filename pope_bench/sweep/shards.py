"""``--shard i/n``: one of n copies of a sweep that a scheduler starts (a SLURM array,
torchrun or accelerate ranks), each running a deterministic, balanced 1/n of the cells.

Every copy plans the whole grid, then keeps its part: cells are dealt to the n shards by
longest-processing-time-first (most expensive cell to the least loaded shard), so the
parts are balanced by estimated cost and the same in every process — whatever finished
already, so a rerun of shard i resumes its own part. Each shard writes its own rows file
(:mod:`pope_bench.sweep.results`), so no two processes append to one file.

The same balanced split cuts a model's cells into Ray tasks (:mod:`.executors.ray`).
"""

from __future__ import annotations

import heapq
import os
import re
from dataclasses import dataclass

from pope_bench.core.errors import BadInput

#: the most shards a sweep may be cut into: more than any scheduler's array
MAX_SHARDS = 100_000


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str | None, env=os.environ) -> Shard | None:
    """``i/n`` from ``--shard``, else from torchrun's ``RANK``/``WORLD_SIZE`` when set;
    None for an unsharded run (``0/1`` is the whole grid, the same as no shard)."""
    source = "--shard"
    if text is None and env.get("WORLD_SIZE") and env.get("RANK"):
        text, source = f"{env['RANK']}/{env['WORLD_SIZE']}", "RANK/WORLD_SIZE"
    if text is None:
        return None
    match = re.fullmatch(r"([0-9]+)/([0-9]+)", text.strip())
    if not match:
        raise BadInput(f"{source} {text!r} must be i/n: shard i of n, numbered 0 … n−1 (e.g. 0/4)")
    index, count = int(match[1]), int(match[2])
    if not 1 <= count <= MAX_SHARDS:
        raise BadInput(f"{source} {text!r}: n must be from 1 to {MAX_SHARDS:,}")
    if index >= count:
        raise BadInput(f"{source} {text!r}: i must be below n (the shards of {count} are 0 … {count - 1})")
    return Shard(index, count) if count > 1 else None


def cell_cost(cell) -> int:
    """Estimated cost of a cell: the tokens it feeds through the model × the length
    (each token attends over up to L positions)."""
    return cell.task.estimated_tokens(cell.length, cell.limit) * cell.length


def balanced_split(cells: list, parts: int) -> list[list]:
    """``cells`` dealt into ``parts`` lists of near-equal total cost (LPT: most expensive
    first, each to the least loaded part; ties by cell key and part number, so every
    process computes the same split). Only the first ``len(cells)`` parts can hold a cell,
    so only those are returned: ``--shard 0/1000000000`` allocates nothing for the rest."""
    used = min(parts, len(cells))
    loads = [(0, part) for part in range(used)]
    split: list[list] = [[] for _ in range(used)]
    for cell in sorted(cells, key=lambda c: (-cell_cost(c), c.key)):
        load, part = heapq.heappop(loads)
        split[part].append(cell)
        heapq.heappush(loads, (load + cell_cost(cell), part))
    return split


def select(cells: list, shard: Shard | None) -> list:
    """The cells shard ``shard`` runs (all of them without a shard), in plan order."""
    if shard is None:
        return cells
    split = balanced_split(cells, shard.count)
    mine = {id(c) for c in (split[shard.index] if shard.index < len(split) else [])}
    return [c for c in cells if id(c) in mine]

