"""The perplexity task vs the plain loop it replaces (issue 5).

Side by side at each length, on the same model and the same scored tokens: the task
(batched windows, chunked LM head, per-token aggregation) against a loop that calls
``model(input_ids, labels=...)`` once per window and averages the losses. Prints tokens/s
of both, their ratio, and each one's peak memory (a fresh subprocess per measurement) so
that growth with L can be read off. Also checks both give the same NLL. Task and loop
alternate for ``--rounds`` rounds and each side's median time counts, so that a slow
moment of a shared machine does not decide a ratio.

    python benchmarks/perplexity.py [--model pope-text-tiny] [--lengths 128,512,1280,4096] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from isolation import in_fresh_process

ROOT = Path(__file__).resolve().parent.parent


def measure(method: str, model_name: str, length: int, tokens: int) -> dict:
    import resource

    import torch

    from pope_bench.models.checkpoints import load_registry
    from pope_bench.models.loading import load_model
    from pope_bench.tasks.registry import discover

    torch.set_num_threads(1)
    entry = load_registry(ROOT / "checkpoints.yaml")[model_name]
    lm = load_model(entry, None, torch.device("cpu"), torch.float32)
    from pope_bench.sweep.executors.worker import AUTO_BATCH_TOKENS

    task = discover().build("perplexity_text")
    # Both sides start from token ids: the runner tokenises a corpus once per sweep, not per
    # cell, so tokenising inside the task's timing would charge it for work a cell never does.
    docs = task.encoded(lm)["ids"]
    start = time.perf_counter()
    if method == "task":
        metrics = task.evaluate(lm, length, 0, tokens, max(1, AUTO_BATCH_TOKENS["cpu"] // length))
        nll = next(m.value for m in metrics if m.metric == "nll")
    else:
        windows = [docs[d][s : s + length] for d, s, _, _ in task.sample_windows(docs, length, tokens, seed=0)]
        start = time.perf_counter()
        losses = []
        with torch.no_grad():
            for window in windows:
                ids = window[None]
                losses.append(lm.model(ids, labels=ids, use_cache=False).loss.item())
        nll = sum(losses) / len(losses)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "nll": nll, "peak_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="pope-text-tiny")
    parser.add_argument("--lengths", default="128,512,1280,4096")
    parser.add_argument("--tokens", type=int, default=16_384)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.model}, {args.tokens} scored tokens per length, 1 CPU thread, median of {args.rounds} rounds")
    header = f"{'L':>6} {'task tok/s':>11} {'loop tok/s':>11} {'speed ratio':>11} {'task MiB':>9} {'loop MiB':>9} {'ΔNLL':>8}"
    print(header)
    print("-" * len(header))
    for length in [int(x) for x in args.lengths.split(",")]:
        runs = {"task": [], "loop": []}
        for _ in range(args.rounds):
            for method, samples in runs.items():
                samples.append(in_fresh_process("perplexity", "measure", method, args.model, length, args.tokens))
        task, loop = ({"seconds": statistics.median(r["seconds"] for r in samples), "nll": samples[0]["nll"],
                       "peak_mib": max(r["peak_mib"] for r in samples)} for samples in runs.values())
        print(f"{length:>6} {args.tokens / task['seconds']:>11,.0f} {args.tokens / loop['seconds']:>11,.0f} "
              f"{loop['seconds'] / task['seconds']:>11.2f} {task['peak_mib']:>9,.0f} {loop['peak_mib']:>9,.0f} "
              f"{abs(task['nll'] - loop['nll']):>8.4f}")


if __name__ == "__main__":
    main()
