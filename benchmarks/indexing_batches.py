"""Supervised targets per second of the indexing training stream on one CPU core (issue 25's
target: ≥ 200k), today's batched numpy rows (:mod:`pope_bench.tasks.indexing_rows`) beside
the one-example-at-a-time Python generator they replaced (``IndexingMixture.sample_batch``
as of commit ``BEFORE``, loaded from git), interleaved in one run.

Time is process CPU time (``time.process_time``), so other jobs on the machine do not
count; one thread. Run it from the repository root (a git checkout):

    OMP_NUM_THREADS=1 python benchmarks/indexing_batches.py [--rounds 3] [--batches 10]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time

import torch

from pope_bench.tasks import indexing

#: the last commit with the Python-loop training stream
BEFORE = "b58f3a9"
MIXTURE = ["indirect_indexing", "position_indexing", "content_indexing"]
#: (label, tasks, queries, batch size, scale of a curriculum stage (None: 1x), its max_shift)
CASES = [
    ("indexing-small: 3 tasks, 1 query, batch 64", MIXTURE, 1, 64, None, None),
    ("3 tasks, 1 query, batch 1024", MIXTURE, 1, 1024, None, None),
    ("indexing-dense: 16 queries, batch 16", ["indirect_indexing"], 16, 16, None, None),
    ("indexing-dense stage 0.25x, ±1, batch 16", ["indirect_indexing"], 16, 16, 0.25, 1),
    ("indexing-paper: 16 queries, batch 64", ["indirect_indexing"], 16, 64, None, None),
    ("indexing-paper stage 0.25x, ±1, batch 64", ["indirect_indexing"], 16, 64, 0.25, 1),
]


def old_module():
    """``pope_bench/tasks/indexing.py`` at :data:`BEFORE`, as a sibling of today's module."""
    source = subprocess.run(["git", "show", f"{BEFORE}:pope_bench/tasks/indexing.py"], check=True,
                            capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader("pope_bench.tasks._indexing_before", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "pope_bench.tasks"
    sys.modules[spec.name] = module  # dataclasses look their module up there
    exec(compile(source, f"{BEFORE}:pope_bench/tasks/indexing.py", "exec"), module.__dict__)
    return module


def sources(case, old):
    _, tasks, queries, _, scale, max_shift = case
    new = indexing.IndexingMixture.from_tasks(tasks, "train", queries=queries)
    before = old.IndexingMixture({name: old.KINDS[g.kind](g.string_length, g.max_shift)
                                  for name, g in new.generators.items()}, "train", new.tokenizer, queries)
    if scale is not None:
        new, before = new.scaled(scale, "stage", max_shift), before.scaled(scale, "stage", max_shift)
    return before, new, new.longest()


def rate(source, batch_size: int, length: int, batches: int, seed: int) -> float:
    generator = torch.Generator().manual_seed(seed)
    started, targets = time.process_time(), 0
    for _ in range(batches):
        _, labels = source.sample_batch(generator, batch_size, length)
        targets += int((labels != -100).sum())
    return targets / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median shown)")
    parser.add_argument("--batches", type=int, default=10, help="batches per measurement")
    args = parser.parse_args()
    torch.set_num_threads(1)
    old = old_module()
    print(f"{'case':<44} {'before tg/s':>12} {'now tg/s':>12} {'speed-up':>9}")
    print("-" * 80)
    for case in CASES:
        before, new, length = sources(case, old)
        batch_size = case[3]
        new.sample_batch(torch.Generator().manual_seed(0), batch_size, length)  # warm-up
        pairs = [(rate(before, batch_size, length, args.batches, r), rate(new, batch_size, length, args.batches, r))
                 for r in range(args.rounds)]
        a, b = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
        print(f"{case[0]:<44} {a:>12,.0f} {b:>12,.0f} {b / a:>8.1f}×")


if __name__ == "__main__":
    main()
