"""Perplexity scoring: pope-bench vs lm-evaluation-harness's ``loglikelihood_rolling`` (issue 23).

Same model, same text, same lengths, in one run: the first ``--tokens`` tokens of the
held-out KJV books are one document; pope-bench scores it as a perplexity task over that
file (``corpus: {path: …}``, full windows of L) and lm-eval as one rolling request with
``max_length = L`` (its disjoint windows of L). Both score every token but the first once,
so tokens/s compare like for like; the per-token NLLs agree to float32 rounding (lm-eval's
first window sees one more context token, so the means differ slightly and are printed).
Model: a random Llama-shaped 17M model with GPT-2's 50,257-token vocabulary (the
real-vocabulary case, where the LM head dominates; lm-eval's HFLM needs a transformers
tokenizer, which the bundled byte models do not have). CPU time
(``time.process_time``) of each side, interleaved over ``--rounds``; medians count.

    pip install -e '.[bench]'   # lm_eval
    python benchmarks/lm_eval_rolling.py [--lengths 128,512,2048] [--tokens 8192] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parent.parent


def llama_50k(folder: Path):
    """A random 17M-parameter Llama (6 layers, width 384) with the bundled GPT-2 tokenizer."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from pope_bench.data.gpt2_tokenizer import gpt2_tokenizer

    tokenizer = gpt2_tokenizer()
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=384, intermediate_size=1024, num_hidden_layers=6,
                         num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=4096,
                         tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def pope_bench_side(lm, text_file: Path, length: int, tokens: int) -> tuple[float, float, int]:
    """(CPU seconds, mean NLL, scored tokens) of a perplexity task over ``text_file``."""
    from pope_bench.tasks.registry import discover

    tasks = text_file.parent / f"tasks-{length}"
    tasks.mkdir(exist_ok=True)
    (tasks / "mine.yaml").write_text(yaml.safe_dump({
        "name": "mine", "type": "perplexity", "description": "bench", "source": "KJV", "default_lengths": "1x",
        "params": {"corpus": {"path": str(text_file)}, "tokens": tokens}}))
    task = discover([tasks]).build("mine")
    task.encoded(lm)  # tokenised once per sweep in a real run, not per cell
    start = time.process_time()
    metrics = task.evaluate(lm, length, 0, tokens, max(1, 2048 // length))
    seconds = time.process_time() - start
    nll = next(m for m in metrics if m.metric == "nll")
    return seconds, nll.value, nll.n


def lm_eval_side(hflm, text: str, length: int) -> tuple[float, float, int]:
    """(CPU seconds, mean NLL, scored tokens) of one loglikelihood_rolling request."""
    from lm_eval.api.instance import Instance

    hflm._max_length = length
    request = Instance(request_type="loglikelihood_rolling", doc={}, arguments=(text,), idx=0)
    start = time.process_time()
    (loglikelihood,) = hflm.loglikelihood_rolling([request], disable_tqdm=True)
    seconds = time.process_time() - start
    n = len(hflm.tok_encode(text))
    return seconds, -loglikelihood / n, n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lengths", default="128,512,2048")
    parser.add_argument("--tokens", type=int, default=8192)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    from lm_eval.models.huggingface import HFLM

    from pope_bench.data.corpora import documents
    from pope_bench.models.checkpoints import entry_for, load_registry
    from pope_bench.models.loading import load_model

    registry = load_registry(ROOT / "checkpoints.yaml")
    work = Path(tempfile.mkdtemp(prefix="pope-bench-lm-eval-"))
    print(f"{'model':>14} {'L':>5} {'pope-bench tok/s':>17} {'lm-eval tok/s':>14} {'ratio':>6} "
          f"{'nll (pb)':>9} {'nll (lm-eval)':>13}")
    for name in ["llama-50k"]:
        lm = load_model(entry_for(llama_50k(work / name), registry), None, torch.device("cpu"), torch.float32)
        stream = "\n\n".join(d.text for d in documents("kjv", "test"))
        text = lm.tokenizer.decode(lm.tokenizer(stream[: args.tokens * 8]).input_ids[: args.tokens])
        text_file = work / f"{name}.txt"
        text_file.write_text(text)
        hflm = HFLM(pretrained=lm.model, tokenizer=lm.tokenizer, batch_size=1, max_length=max(map(int, args.lengths.split(","))))
        for length in map(int, args.lengths.split(",")):
            ours, theirs = [], []
            for _ in range(args.rounds):
                s, nll_pb, n_pb = pope_bench_side(lm, text_file, length, args.tokens)
                ours.append(n_pb / s)
                s, nll_le, n_le = lm_eval_side(hflm, text, length)
                theirs.append(n_le / s)
            a, b = statistics.median(ours), statistics.median(theirs)
            print(f"{name:>14} {length:>5} {a:>17,.0f} {b:>14,.0f} {a / b:>6.2f} {nll_pb:>9.4f} {nll_le:>13.4f}")


if __name__ == "__main__":
    main()
