"""RULER's greedy decoding (issue 24): :func:`pope_bench.tasks.generation.greedy_generate`
(one prefill per prompt, then one cached token per step for the whole batch) against the
loop it replaces, one full forward of prompt + generated tokens per new token, on a
byte-level 4-layer, 256-wide model at L = 1k and 4k with 32 new tokens, 4 prompts.
Prints the seconds of each and the speed-up; the two must produce the same tokens.

    python benchmarks/generation.py
    python benchmarks/generation.py --lengths 1024,2048,8192 --new 64
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lengths", default="1024,4096")
    parser.add_argument("--new", type=int, default=32)
    parser.add_argument("--prompts", type=int, default=4)
    args = parser.parse_args()

    import torch

    from pope_bench import PopeBenchConfig, PopeBenchForCausalLM
    from pope_bench.tasks.generation import greedy_generate

    torch.manual_seed(0)
    model = PopeBenchForCausalLM(PopeBenchConfig(pe="rope", hidden_size=256, num_hidden_layers=4,
                                                 num_attention_heads=4, vocab_size=256, train_length=256)).eval()
    cpu = torch.device("cpu")
    print(f"{'L':>6} {'cached s':>9} {'re-encode s':>12} {'speed-up':>9}  same")
    for length in (int(x) for x in args.lengths.split(",")):
        prompts = torch.randint(0, 256, (args.prompts, length)).tolist()
        start = time.perf_counter()
        cached = greedy_generate(model, prompts, args.new, 1 << 30, cpu)
        fast = time.perf_counter() - start
        start = time.perf_counter()
        with torch.no_grad():
            ids = torch.tensor(prompts)
            for _ in range(args.new):
                token = model(ids, use_cache=False, logits_to_keep=1).logits[:, -1].argmax(-1)
                ids = torch.cat([ids, token[:, None]], 1)
        slow = time.perf_counter() - start
        same = ids[:, length:].tolist() == cached
        print(f"{length:>6} {fast:>9.2f} {slow:>12.2f} {slow / fast:>8.1f}×  {same}")


if __name__ == "__main__":
    main()
