"""Forward speed and peak memory of every registered encoding at long lengths (issues 2, 12).

For the 4-layer, 256-wide, 4-head byte model, measures forward tokens/s and peak memory
at L = 1k, 4k, 16k, each configuration in a fresh subprocess (peak RSS on CPU, peak
allocated on CUDA), the encodings interleaved round by round so that machine drift hits
all alike. Prints each encoding's speed ratio to RoPE next to its physical ceiling
F_rope(L) / F_pe(L), from matmul FLOPs per token (paper v3, A.2: PoPE's q·k products are
2d wide, +2L²d FLOPs per layer; the q·k width is read off the encoding; an additive bias's
own cost — ALiBi's, FIRE's MLP — is not counted), and the memory ratio. Targets: PoPE ≥ 0.9
× ceiling, PoPE memory ≤ 1.3 × RoPE (issue 2); ALiBi memory at 8k ≤ 1.3 × RoPE (issue 12).

    python benchmarks/attention.py                              # CPU, 3 rounds
    python benchmarks/attention.py --lengths 8192 --pe rope,alibi,fire
    python benchmarks/attention.py --device cuda                # on a GPU
"""

from __future__ import annotations

import argparse
import statistics

from isolation import in_fresh_process

WIDTH, LAYERS, HEADS, VOCAB = 256, 4, 4, 256


def qk_width(pe: str, width: int = WIDTH, heads: int = HEADS) -> int:
    """The width of the encoded queries over all heads (PoPE: 2D; RoPE, ALiBi, …: D)."""
    import torch

    from pope_bench.encodings import build_encoding

    head_dim = width // heads
    encoded = build_encoding(pe, head_dim, heads).encode_queries(torch.zeros(1, heads, 1, head_dim), torch.zeros(1))
    return heads * encoded.shape[-1]


def flops_per_token(pe: str, length: int, width: int = WIDTH, layers: int = LAYERS, vocab: int = VOCAB) -> float:
    """Matmul FLOPs per token of a causal forward (each query sees L/2 keys on average):
    projections and MLP 24·D² per layer, q·k 2·(L/2)·D_qk and p·v 2·(L/2)·D, LM head 2·D·V."""
    per_layer = 24 * width**2 + length * qk_width(pe, width) + length * width
    return layers * per_layer + 2 * width * vocab


def measure(pe: str, length: int, device: str, repeats: int) -> dict:
    """One configuration, in this process: the median forward time and the peak memory."""
    import resource
    import time

    import torch

    from pope_bench import PopeBenchConfig, PopeBenchForCausalLM

    torch.manual_seed(0)
    config = PopeBenchConfig(pe=pe, hidden_size=WIDTH, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                             vocab_size=VOCAB, train_length=256)
    model = PopeBenchForCausalLM(config).to(device).eval()
    ids = torch.randint(0, VOCAB, (1, length), device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    times = []
    with torch.no_grad():
        model(ids, use_cache=False)  # warm-up
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        for _ in range(repeats):
            sync()
            start = time.perf_counter()
            model(ids, use_cache=False)
            sync()
            times.append(time.perf_counter() - start)
    if device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"pe": pe, "length": length, "seconds": statistics.median(times), "peak_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--lengths", default="1024,4096,16384")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--pe", default="", help="comma list (default: every registered encoding); rope always runs")
    args = parser.parse_args()
    from pope_bench.encodings import encodings

    encodings_ = list(dict.fromkeys(["rope", *(args.pe.split(",") if args.pe else encodings())]))
    lengths = [int(x) for x in args.lengths.split(",")]
    samples: dict[tuple[str, int], list[dict]] = {}
    for _ in range(args.rounds):
        for length in lengths:
            for pe in encodings_:
                sample = in_fresh_process("attention", "measure", pe, length, args.device, args.repeats)
                samples.setdefault((pe, length), []).append(sample)
    print(f"device {args.device}; {LAYERS} layers, width {WIDTH}, {HEADS} heads; median of {args.rounds} rounds")
    header = f"{'L':>6} {'pe':>12} {'tok/s':>9} {'peak MiB':>9} {'speed/rope':>10} {'ceiling':>8} {'of ceiling':>10} {'mem/rope':>9}"
    print(header)
    print("-" * len(header))
    for length in lengths:
        rope_s = statistics.median(s["seconds"] for s in samples[("rope", length)])
        rope_m = statistics.median(s["peak_mib"] for s in samples[("rope", length)])
        for pe in encodings_:
            seconds = statistics.median(s["seconds"] for s in samples[(pe, length)])
            peak = statistics.median(s["peak_mib"] for s in samples[(pe, length)])
            ratio = rope_s / seconds
            ceiling = flops_per_token("rope", length) / flops_per_token(pe, length)
            print(f"{length:>6} {pe:>12} {length / seconds:>9,.0f} {peak:>9,.0f} {ratio:>10.2f} {ceiling:>8.2f} "
                  f"{ratio / ceiling:>10.2f} {peak / rope_m:>9.2f}")


if __name__ == "__main__":
    main()
