"""The GPU-time arithmetic of the prepared paper-size run (recipe indexing-paper, issue 25),
from measured figures: the FLOPs of one training step (torch's FLOP counter on a forward +
backward of the real model), a measured CPU step (which checks the count against a core's
throughput), the measured time to draw one batch of rows and to save one resumable state,
and the H200's bf16 peak at an assumed MFU. Prints the table benchmarks/indexing_paper.md
records. Run it from the repository root:

    OMP_NUM_THREADS=1 python benchmarks/indexing_paper_budget.py [--mfu 0.25] [--floor-ms 15]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from pope_bench.training.batches import held_out_source, training_stages
from pope_bench.training.recipe import load_recipe
from pope_bench.training.state import TrainState, save_state
from pope_bench.training.trainer import build_model, make_optimizer

#: dense bf16 tensor-core peak of one H200 (SXM), FLOP/s (NVIDIA's datasheet: 989 TFLOPS without sparsity)
H200_BF16_PEAK = 989e12
#: Table 1's scoring: 2 models × 3 test seeds × 500 examples of indirect indexing at 51 tokens
EVAL_TOKENS = 2 * 3 * 500 * 51


def step_flops(model, x, y) -> int:
    with FlopCounterMode(display=False) as counter:
        model(x, labels=y, use_cache=False).loss.backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mfu", type=float, default=0.25, help="assumed model FLOP utilisation on the H200")
    parser.add_argument("--floor-ms", type=float, default=15.0,
                        help="assumed least time of one eager step on a GPU (kernel launches of 8 layers, fwd + bwd + AdamW)")
    parser.add_argument("--cpu-rows", type=int, default=2, help="rows of the measured CPU step")
    args = parser.parse_args()
    torch.set_num_threads(1)
    recipe = load_recipe("indexing-paper")
    t = recipe["train"]
    stages = training_stages(recipe["data"], recipe["tokenizer"], t["length"], t["steps"])
    held_out = held_out_source(recipe["data"], recipe["tokenizer"])
    model = build_model(recipe, "pope", held_out.vocab_size, held_out.longest())
    params = sum(p.numel() for p in model.parameters())
    gen = torch.Generator().manual_seed(0)

    # FLOPs of a full step per stage (rows of each stage's own length), from a 2-row count
    flops, steps_before = [], 0
    for until, source, length in stages:
        x, y = source.sample_batch(gen, 2, length)
        per_row = step_flops(model, x, y) / 2
        steps = (until or t["steps"]) - steps_before
        flops.append((length, steps, per_row * t["batch_size"]))
        steps_before = until or t["steps"]
    total_flops = sum(steps * f for _, steps, f in flops)

    # a measured CPU step of the final stage, to check the count against a core's throughput
    _, source, length = stages[-1]
    optimizer = make_optimizer(model, t)
    x, y = source.sample_batch(gen, args.cpu_rows, length)
    for i in range(2):  # the first is warm-up
        started = time.perf_counter()
        model(x, labels=y, use_cache=False).loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        cpu_step = time.perf_counter() - started
    cpu_rate = flops[-1][2] / t["batch_size"] * args.cpu_rows / cpu_step

    # data: one batch of the final stage, on one core
    started = time.process_time()
    for _ in range(10):
        _, labels = source.sample_batch(gen, t["batch_size"], length)
    data_s = (time.process_time() - started) / 10
    targets = int((labels != -100).sum())

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        save_state(Path(folder) / "state.safetensors", model, optimizer, gen,
                   TrainState(step=0, targets=0, curve=[], recipe="", pe="pope"))
        save_s = time.perf_counter() - started
    saves = t["steps"] // t["checkpoint_every"]

    rate = args.mfu * H200_BF16_PEAK
    gpu_steps = sum(steps * max(f / rate, args.floor_ms / 1e3) for _, steps, f in flops)
    data_total = t["steps"] * data_s
    eval_s = (t["steps"] // t["eval_every"]) * t["eval_batches"] * max(flops[-1][2] / 3 / rate, args.floor_ms / 3e3)
    per_encoding = gpu_steps + data_total + saves * save_s + eval_s
    table1 = EVAL_TOKENS * flops[-1][2] / 3 / (t["batch_size"] * length) / rate
    rows = [
        ("parameters", f"{params / 1e6:.1f}M"),
        ("supervised targets per encoding", f"{t['steps'] * t['batch_size'] * recipe['data'].get('queries', 1):,}"),
        *((f"FLOPs per step, rows of {length} tokens ({steps} steps)", f"{f / 1e12:.2f} TFLOP") for length, steps, f in flops),
        ("FLOPs per encoding (fwd + bwd)", f"{total_flops / 1e15:.1f} PFLOP"),
        (f"measured CPU step, {args.cpu_rows} rows × {length} tokens, 1 thread", f"{cpu_step:.2f} s "
                                                                                 f"({cpu_rate / 1e9:.0f} GFLOP/s)"),
        (f"measured batch of {t['batch_size']} rows ({targets} targets), 1 core", f"{data_s * 1e3:.1f} ms "
                                                                                 f"({targets / data_s:,.0f} targets/s)"),
        ("measured save of the resumable state (CPU, local disk)", f"{save_s:.2f} s × {saves} saves"),
        (f"H200 at MFU {args.mfu:g} of {H200_BF16_PEAK / 1e12:.0f} TFLOP/s bf16", f"{rate / 1e12:.0f} TFLOP/s"),
        (f"GPU steps (≥ {args.floor_ms:g} ms each)", f"{gpu_steps:.0f} s"),
        ("batch drawing (serial with the steps)", f"{data_total:.0f} s"),
        ("held-out evaluations + saves", f"{eval_s + saves * save_s:.0f} s"),
        ("one encoding", f"{per_encoding / 60:.1f} min"),
        ("both encodings + Table 1 scoring (+ 30 s start-up each)", f"{(2 * per_encoding + table1 + 90) / 60:.1f} min"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
