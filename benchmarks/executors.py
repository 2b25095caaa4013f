"""The Ray executor's overhead against one process, on a 20-cell CPU grid (issue 13's
target: < 10 % of the single-process wall time beyond Ray's start-up).

The grid: rope-text-tiny and pope-text-tiny × perplexity_text × 1x..10x = 20 cells. Each
round runs it once in this process (``--executor local``) and once on a fresh local Ray
cluster of ``--ray-cpus`` CPUs (``--executor ray``), into fresh folders, alternating
which goes first; the table gives the median over rounds. Both sides compute on one
thread per cell (Ray gives a 1-CPU task ``OMP_NUM_THREADS=1``; this process takes the
same before torch starts), so with ``--ray-cpus 1`` the difference is the executor's own cost: worker
processes starting and importing torch, cells pickled out, rows streamed back.

* ``start-up``: ``ray.init`` of the local cluster (``ray start`` on a real one);
* ``sweep``: ``pope-bench run`` from planning to the last row exported; on Ray, first on
  the fresh cluster (its worker processes start and import torch during the sweep), then
  again into another folder on the same, warm cluster;
* ``overhead``: Ray sweep − local sweep, as a share of the local sweep.

    python benchmarks/executors.py [--rounds 3] [--limit 4096] [--ray-cpus 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"  # what Ray gives a 1-CPU worker, set before torch starts its thread pool
import torch  # noqa: E402

from pope_bench.sweep.runner import RunOptions, run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def sweep(out: Path, executor: str, limit: int) -> float:
    options = RunOptions(models=["rope-text-tiny", "pope-text-tiny"], tasks=["perplexity_text"], lengths="1x..10x",
                         out=out, limit=limit, checkpoints=ROOT / "checkpoints.yaml", executor=executor, plot=False)
    start = time.perf_counter()
    stats = run(options)
    elapsed = time.perf_counter() - start
    assert stats["done"] == 20 and stats["failed"] == 0, stats
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=4096, help="scored tokens per cell")
    parser.add_argument("--ray-cpus", type=int, default=1, help="CPUs of the local Ray cluster")
    args = parser.parse_args()
    import ray

    torch.set_num_threads(1)
    local, ray_sweep, warm, startup = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for side in (("local", "ray") if r % 2 == 0 else ("ray", "local")):
                out = Path(tmp) / f"{side}-{r}"
                if side == "local":
                    local.append(sweep(out, "local", args.limit))
                    continue
                start = time.perf_counter()
                ray.init(num_cpus=args.ray_cpus, include_dashboard=False, log_to_driver=False)
                startup.append(time.perf_counter() - start)
                ray_sweep.append(sweep(out, "ray", args.limit))
                warm.append(sweep(Path(tmp) / f"warm-{r}", "ray", args.limit))
                ray.shutdown()
            print(f"round {r}: local {local[-1]:.1f} s, ray start-up {startup[-1]:.1f} s + sweep {ray_sweep[-1]:.1f} s,"
                  f" warm {warm[-1]:.1f} s", flush=True)
    med = statistics.median
    print(f"\n20 cells, limit {args.limit} tokens/cell, Ray cluster of {args.ray_cpus} CPU(s), "
          f"median of {args.rounds} interleaved rounds")
    print(f"{'':>24} {'seconds':>8}  overhead")
    print(f"{'local sweep':>24} {med(local):8.1f}")
    print(f"{'ray start-up':>24} {med(startup):8.1f}")
    for name, times in (("ray sweep, fresh cluster", ray_sweep), ("ray sweep, warm cluster", warm)):
        print(f"{name:>24} {med(times):8.1f}  {(med(times) - med(local)) / med(local):+.1%}")


if __name__ == "__main__":
    main()
