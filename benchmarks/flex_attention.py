"""FlexAttention against pope-bench's attention paths, the attention op alone (issue 12).

Two questions of issue 12, measured on one layer's queries, keys and values (batch 1,
4 heads of width d = 64, float32, causal), each configuration in a fresh process:

- PoPE: q′/k′ are 2d wide and v is d wide. pope-bench zero-pads v to 2d so that
  ``scaled_dot_product_attention`` keeps its fused kernel (``causal_attention``); a compiled
  ``flex_attention`` takes the d-wide v as it is. Which is faster at 16k?
- ALiBi (an additive bias): pope-bench adds the bias as a 4-D float mask one block of
  queries at a time (``biased_causal_attention``); FlexAttention computes it in the kernel
  from a ``score_mod``. Which is faster, and what does each hold in memory?

FlexAttention must be compiled (``torch.compile``; uncompiled it builds the L×L scores),
so the compile time is reported beside the per-call time: it is paid once per process and
shape, i.e. once per cell of a sweep. Memory is the process's peak (peak RSS on CPU, Linux
only; peak allocated on CUDA) above what it held once q, k and v existed, compile included.

    python benchmarks/flex_attention.py                         # 4k and 16k, CPU, 3 repeats
    python benchmarks/flex_attention.py --lengths 16384 --device cuda
"""

from __future__ import annotations

import argparse

from isolation import in_fresh_process

HEADS, HEAD_DIM = 4, 64
PATHS = ("pope-sdpa-padded", "pope-flex", "alibi-sdpa-blocked", "alibi-flex")


def _rss_mib(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (the peak so far) of this process, in MiB."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field)) / 1024


def measure(path: str, length: int, device: str, repeats: int) -> dict:
    """Median seconds per call of one attention path, its first call's time (the compile,
    for FlexAttention) and the process's peak memory above what it held with the inputs."""
    import statistics
    import time

    import torch
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    from pope_bench.encodings.alibi import ALiBi
    from pope_bench.models.native.attention import (
        biased_causal_attention,
        causal_attention,
    )

    torch.manual_seed(0)
    pe = path.split("-")[0]
    qk_width = 2 * HEAD_DIM if pe == "pope" else HEAD_DIM
    q, k = (torch.randn(1, HEADS, length, qk_width, device=device) for _ in range(2))
    v = torch.randn(1, HEADS, length, HEAD_DIM, device=device)
    scale = HEAD_DIM**-0.5
    if path.endswith("flex"):
        slopes = ALiBi(HEAD_DIM, HEADS).slopes.to(device=device, dtype=torch.float32)

        def alibi(score, b, h, q_idx, kv_idx):
            return score - slopes[h] * (q_idx - kv_idx)

        block_mask = create_block_mask(lambda b, h, q_idx, kv_idx: q_idx >= kv_idx, None, None, length, length,
                                       device=device)
        compiled = torch.compile(flex_attention, dynamic=False)

        def call():
            return compiled(q, k, v, score_mod=alibi if pe == "alibi" else None, block_mask=block_mask, scale=scale)
    elif pe == "pope":
        def call():
            return causal_attention(q, k, v, scale)
    else:
        encoding, positions = ALiBi(HEAD_DIM, HEADS), torch.arange(length, device=device)

        def call():
            return biased_causal_attention(q, k, v, scale, encoding, positions)

    cuda = device.startswith("cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    before = torch.cuda.memory_allocated() / 2**20 if cuda else _rss_mib("VmRSS")
    with torch.no_grad():
        start = time.perf_counter()
        call()
        sync()
        first = time.perf_counter() - start
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            sync()
            times.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else _rss_mib("VmHWM")
    return {"path": path, "length": length, "seconds": statistics.median(times), "first_s": first,
            "peak_above_inputs_mib": peak - before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--lengths", default="4096,16384")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--paths", default=",".join(PATHS), help=f"comma list of {', '.join(PATHS)}")
    args = parser.parse_args()
    paths = args.paths.split(",")
    lengths = [int(x) for x in args.lengths.split(",")]
    rows = {(p, n): in_fresh_process("flex_attention", "measure", p, n, args.device, args.repeats)
            for n in lengths for p in paths}
    print(f"device {args.device}; one layer, {HEADS} heads × {HEAD_DIM}, causal; median of {args.repeats} calls")
    header = f"{'L':>6} {'path':>19} {'s/call':>8} {'first call s':>12} {'peak+ MiB':>9} {'speed vs sdpa':>13}"
    print(header)
    print("-" * len(header))
    for n in lengths:
        for p in paths:
            row = rows[(p, n)]
            sdpa = rows.get((p.replace("flex", "sdpa-padded" if p.startswith("pope") else "sdpa-blocked"), n))
            ratio = f"{sdpa['seconds'] / row['seconds']:.2f}" if sdpa else "—"
            print(f"{n:>6} {p:>19} {row['seconds']:>8.3f} {row['first_s']:>12.1f} {row['peak_above_inputs_mib']:>9.0f} {ratio:>13}")


if __name__ == "__main__":
    main()
