"""Batched greedy decoding with the KV cache: one prefill per prompt, then one token per
step for the whole batch, stopping at ``max_new`` tokens (or when every row has emitted
the end-of-sequence token).

Prompts of one batch share one length (no padding, so no attention mask and no position
shift is involved): they are grouped by length and batched up to a token budget. The
prefill keeps only the last position's logits (``logits_to_keep=1``), so a long prompt
never materialises L × vocabulary logits.
"""

from __future__ import annotations

from itertools import groupby

from pope_bench.core.lazy_torch import lazy_module, no_grad

torch = lazy_module("torch")


@no_grad
def greedy_generate(model, prompts: list[list[int]], max_new: int, token_budget: int, device,
                    eos_id: int | None = None) -> list[list[int]]:
    """The greedy continuation of every prompt (``max_new`` tokens at most; cut after
    ``eos_id``, which is not included), in input order. ``token_budget`` bounds a batch's
    prompt + generated tokens (at least one prompt per batch)."""
    if any(not p for p in prompts):
        raise ValueError("every prompt needs at least one token")
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    out: list[list[int]] = [[] for _ in prompts]
    for _, same in groupby(order, key=lambda i: len(prompts[i])):
        same = list(same)
        per_batch = max(1, token_budget // (len(prompts[same[0]]) + max_new))
        for start in range(0, len(same), per_batch):
            batch = same[start:start + per_batch]
            for i, ids in zip(batch, _decode(model, [prompts[i] for i in batch], max_new, device, eos_id)):
                out[i] = ids
    return out


def _decode(model, prompts, max_new, device, eos_id):
    ids = torch.tensor(prompts, device=device)
    result = model(ids, use_cache=True, logits_to_keep=1)
    cache = result.cache
    steps = []
    done = torch.zeros(len(prompts), dtype=torch.bool, device=device)
    for step in range(max_new):
        token = result.logits[:, -1].argmax(-1)
        steps.append(token)
        if eos_id is not None:
            done |= token == eos_id
            if bool(done.all()):
                break
        if step + 1 < max_new:
            result = model(token[:, None], cache=cache, use_cache=True)
            cache = result.cache
    rows = torch.stack(steps, 1).tolist()
    if eos_id is not None:
        rows = [row[:row.index(eos_id)] if eos_id in row else row for row in rows]
    return rows
