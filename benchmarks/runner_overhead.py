"""The runner's own overhead: the share of a sweep's wall time spent outside model
forwards (loading, planning, tokenising, writing rows, progress, exports) — issue 3's
target is < 5 % on the bundled small models.

Forward time is measured with hooks on the base model and the LM head of each loaded
model; everything else inside ``runner.run`` counts as overhead.

    python benchmarks/runner_overhead.py [--lengths 1x..10x] [--limit 32768]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from pope_bench.models import loading
from pope_bench.sweep.runner import RunOptions, run

ROOT = Path(__file__).resolve().parent.parent


class ForwardClock:
    """Accumulates the time spent inside hooked modules' forwards."""

    def __init__(self):
        self.seconds = 0.0
        self._start = None

    def attach(self, module: torch.nn.Module) -> None:
        module.register_forward_pre_hook(self._enter)
        module.register_forward_hook(self._leave)

    def _enter(self, *_):
        self._start = time.perf_counter()

    def _leave(self, *_):
        self.seconds += time.perf_counter() - self._start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="rope-text-tiny,pope-text-tiny")
    parser.add_argument("--lengths", default="1x..10x")
    parser.add_argument("--limit", type=int, default=32_768, help="scored tokens per cell (the task default)")
    args = parser.parse_args()
    clock = ForwardClock()
    original = loading.load_model

    def load_and_hook(*a, **kw):
        lm = original(*a, **kw)
        clock.attach(getattr(lm.model, lm.model.base_model_prefix))
        clock.attach(lm.model.get_output_embeddings())
        return lm

    loading.load_model = load_and_hook
    with tempfile.TemporaryDirectory() as out:
        options = RunOptions(models=args.models.split(","), tasks=["perplexity_text"], lengths=args.lengths,
                             out=Path(out), limit=args.limit, checkpoints=ROOT / "checkpoints.yaml")
        start = time.perf_counter()
        stats = run(options)
        wall = time.perf_counter() - start
    overhead = wall - clock.seconds
    print(f"{'cells':>6} {'wall s':>8} {'forward s':>10} {'overhead s':>11} {'overhead %':>11}")
    print(f"{stats['done']:>6} {wall:>8.2f} {clock.seconds:>10.2f} {overhead:>11.2f} {100 * overhead / wall:>10.1f}%")


if __name__ == "__main__":
    main()
