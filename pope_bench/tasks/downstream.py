"""Zero-shot downstream scoring shared by the cloze, multiple-choice, minimal-pair and
passkey task types: candidate continuations scored by log-likelihood, and a length axis.

Scoring follows lm-evaluation-harness's ``loglikelihood`` request: for a context and a
continuation it returns the summed log-probability of the continuation's tokens and
``is_greedy`` — whether every continuation token is the argmax given the tokens before it,
which is exactly "greedy decoding reproduces the continuation" (LAMBADA's accuracy). Text
is tokenised as lm-eval's ``_encode_pair`` does: trailing whitespace of the context moves
to the continuation, and the continuation's tokens are those of context + continuation
after the context's own.

Batching: examples with contexts of one length are batched; each context is run once with
the KV cache on, the cache rows are repeated for the example's candidates, and all
candidates of the batch run right-padded in one forward pass over that cache. Padding sits
after every real token, so under causal attention it changes nothing before it and no
attention mask is involved. With the length axis every context has exactly L tokens, so a
batch then spans many examples; contexts longer than L keep their own length and batch
with equal-length ones.

Length axis: at length L an example's context is prefixed with unrelated held-out text
(:class:`pope_bench.data.filler.Filler`) and a document boundary so that the context is
exactly L tokens with the question at the end; an example already at least L tokens long
is left as it is. The ``length`` of a row is therefore the context length in tokens (the
candidates add their own); ``context_tokens`` reports the mean context actually read.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import ClassVar

import torch

from ..data.eval_sets import EvalSet, Item, load_eval_set
from ..data.filler import Filler
from ..errors import BadInput
from ..tokenizers import encode_text
from .base import Metric, TaskType

#: bound on the candidate logits of one forward pass (elements), so a 50k vocabulary
#: does not turn a large batch of candidates into gigabytes of logits
LOGITS_BUDGET = 1 << 27


@dataclass
class Example:
    context: list[int]
    continuations: list[list[int]]


@dataclass
class Score:
    logprob: float  # summed log-likelihood of the continuation's tokens (nats)
    greedy: bool  # every continuation token is the argmax


# ---- scoring --------------------------------------------------------------------------------


@torch.no_grad()
def score_examples(model, examples: list[Example], batch_size: int, device) -> list[list[Score]]:
    """One :class:`Score` per continuation of every example, in input order. ``batch_size``
    bounds the candidate rows of one forward pass (each a context-long cache row)."""
    vocab = int(model.config.vocab_size)
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i].context), _width(examples[i])))
    results: list[list[Score]] = [[] for _ in examples]
    for batch in _batches(order, examples, max(1, batch_size), vocab):
        for i, scores in zip(batch, _score_batch(model, [examples[i] for i in batch], device)):
            results[i] = scores
    return results


def _width(example: Example) -> int:
    return max(len(c) for c in example.continuations)


def _batches(order, examples, batch_size, vocab):
    """Consecutive examples (sorted by context length) with one context length, at most
    ``batch_size`` candidate rows and :data:`LOGITS_BUDGET` logits; always at least one."""
    batch, rows, width = [], 0, 0
    for i in order:
        example = examples[i]
        n, w = len(example.continuations), max(width, _width(example))
        same = batch and len(example.context) == len(examples[batch[0]].context)
        if batch and not (same and rows + n <= batch_size and (rows + n) * w * vocab <= LOGITS_BUDGET):
            yield batch
            batch, rows, w = [], 0, _width(example)
        batch.append(i)
        rows, width = rows + n, w
    if batch:
        yield batch


def _score_batch(model, batch: list[Example], device) -> list[list[Score]]:
    out = model(torch.tensor([ex.context for ex in batch], device=device), use_cache=True, logits_to_keep=1)
    first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)  # predicts each continuation's first token
    owner = torch.tensor([b for b, ex in enumerate(batch) for _ in ex.continuations], device=device)
    continuations = [c for ex in batch for c in ex.continuations]
    lengths = torch.tensor([len(c) for c in continuations], device=device)
    width = int(lengths.max())
    targets = torch.zeros(len(continuations), width, dtype=torch.long, device=device)
    for row, ids in enumerate(continuations):
        targets[row, : len(ids)] = torch.tensor(ids, device=device)
    logprobs = torch.empty(targets.shape, dtype=torch.float32, device=device)
    hits = torch.empty(targets.shape, dtype=torch.bool, device=device)
    first = first[owner]
    logprobs[:, 0] = first.gather(1, targets[:, :1]).squeeze(1)
    hits[:, 0] = first.argmax(-1) == targets[:, 0]
    if width > 1:
        cache = out.cache
        cache.batch_select_indices(owner)  # each candidate row continues its example's context
        later = torch.log_softmax(model(targets[:, :-1], cache=cache, use_cache=True).logits.float(), dim=-1)
        logprobs[:, 1:] = later.gather(2, targets[:, 1:, None]).squeeze(-1)
        hits[:, 1:] = later.argmax(-1) == targets[:, 1:]
    real = torch.arange(width, device=device)[None, :] < lengths[:, None]
    sums = torch.where(real, logprobs.double(), 0.0).sum(1).tolist()
    greedy = (hits | ~real).all(1).tolist()
    scores = [Score(s, g) for s, g in zip(sums, greedy)]
    out_rows, start = [], 0
    for ex in batch:
        out_rows.append(scores[start : start + len(ex.continuations)])
        start += len(ex.continuations)
    return out_rows


# ---- text to examples -----------------------------------------------------------------------

#: what a tokenizer may raise on text it cannot encode
ENCODE_ERRORS = (BadInput, ValueError, UnicodeError, KeyError, TypeError, IndexError)


def encode_item(tokenizer, item: Item, vocab_size: int, needs_context: bool = True):
    """(context ids, continuation ids per choice), or None for an example that cannot be
    scored: no candidates, a gold index out of range, empty text, or text the tokenizer
    cannot encode into the model's vocabulary."""
    if not item.choices or not 0 <= item.gold < len(item.choices):
        return None
    if any(not choice.strip() for choice in item.choices) or (needs_context and not item.context.strip()):
        return None
    context = item.context.rstrip()
    moved = item.context[len(context) :]  # lm-eval: trailing whitespace goes to the continuation
    try:
        context_ids = encode_text(tokenizer, context) if context else []
        continuations = [encode_text(tokenizer, context + moved + item.delimiter + choice)[len(context_ids) :]
                         for choice in item.choices]
    except ENCODE_ERRORS:
        return None
    every = context_ids + [t for ids in continuations for t in ids]
    if any(not ids for ids in continuations) or any(not 0 <= t < vocab_size for t in every):
        return None
    return context_ids, continuations


def lengthen(context: list[int], length: int, filler: Filler, rng: random.Random) -> list[int]:
    """``context`` with filler and a document boundary before it, exactly ``length`` tokens;
    unchanged when it already has ``length`` tokens or more."""
    need = length - len(context)
    if need <= 0:
        return context
    boundary = filler.boundary[-need:]
    return filler.take(need - len(boundary), rng) + boundary + context


# ---- aggregation (lm-eval's conventions) ----------------------------------------------------


def argmax_first(values) -> int:
    """numpy's argmax: the first index of the maximum (lm-eval breaks ties this way)."""
    return max(range(len(values)), key=values.__getitem__)


def mean_stderr(values: list[float]) -> tuple[float, float | None]:
    """Mean and lm-eval's ``mean_stderr`` (sample standard deviation / √n)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)


def grouped_accuracy(items: list[Item], scores: list[list[Score]]) -> list[Metric]:
    """``acc``: the mean over groups (BLiMP paradigms, CBT sub-tasks) of the fraction of
    examples whose gold candidate has the highest total log-likelihood — the paper's
    "mean over paradigms / sub-tasks"; ``acc_micro``: the same over all examples."""
    by_group: dict[str, list[float]] = {}
    for item, score in zip(items, scores):
        hit = argmax_first([s.logprob for s in score]) == item.gold
        by_group.setdefault(item.group, []).append(float(hit))
    means = [mean_stderr(v) for v in by_group.values()]
    acc = sum(m for m, _ in means) / len(means)
    stderr = math.sqrt(sum((s or 0.0) ** 2 for _, s in means)) / len(means)
    every = [v for values in by_group.values() for v in values]
    return [Metric("acc", acc, stderr, len(every)), Metric("acc_micro", *mean_stderr(every), len(every))]


# ---- the task-type base ---------------------------------------------------------------------

#: task params passed to the eval set loader (sizes of generated and hub-only sets)
SET_OPTIONS = ("per_paradigm", "kinds", "per_kind", "books", "context_sentences", "candidates")


class DownstreamTask(TaskType):
    """A zero-shot task over an eval set (``params.set``); subclasses turn the scores of the
    kept examples into metrics (:meth:`aggregate`). Params: ``set``, ``route``
    (auto | hub | packaged), ``examples`` (how many, the first ones; ``--limit`` caps),
    ``filler_books`` (held-out KJV books for the length axis; default all), and the set's
    own sizes (:data:`SET_OPTIONS`)."""

    required_params = ("set",)
    #: whether an example must have a context (minimal pairs have none)
    needs_context: ClassVar[bool] = True

    def __init__(self, definition):
        super().__init__(definition)
        self._set: EvalSet | None = None
        self._filler: tuple[object, Filler] | None = None

    def eval_set(self) -> EvalSet:
        if self._set is None:
            options = {k: self.params[k] for k in SET_OPTIONS if k in self.params}
            self._set = load_eval_set(self.params["set"], self.params.get("route", "auto"), **options)
        return self._set

    def data_checksums(self) -> dict[str, str]:
        data = self.eval_set()
        return {f"{data.name} ({data.source})": data.checksum()}

    def filler(self, tokenizer) -> Filler:
        if self._filler is None or self._filler[0] is not tokenizer:
            self._filler = (tokenizer, Filler(tokenizer, self.params.get("filler_books")))
        return self._filler[1]

    def evaluate(self, lm, length, seed, limit, batch_size):
        items = self.eval_set().items[: int(limit or self.params.get("examples", 500))]
        kept, examples = [], []
        filler = self.filler(lm.tokenizer)
        for index, item in enumerate(items):
            encoded = encode_item(lm.tokenizer, item, lm.vocab_size, self.needs_context)
            if encoded is not None:
                rng = random.Random(f"{self.name}:{seed}:{length}:{index}")
                kept.append(item)
                examples.append(Example(lengthen(encoded[0], length, filler, rng), encoded[1]))
        skipped = len(items) - len(kept)
        if not kept:
            raise BadInput(f"task {self.name!r}: none of its {len(items)} examples can be scored with "
                           f"{lm.entry.name!r}'s tokenizer (no candidates, bad gold index, empty or unencodable text)")
        scores = score_examples(lm.model, examples, batch_size, lm.device)
        context = sum(len(ex.context) for ex in examples) / len(examples)
        rows = [*self.aggregate(kept, scores), Metric("context_tokens", context, None, len(examples))]
        for row in rows:
            row.extra = {**row.extra, "skipped": skipped}
        return rows

    def aggregate(self, items: list[Item], scores: list[list[Score]]) -> list[Metric]:
        raise NotImplementedError


class GroupedChoiceTask(DownstreamTask):
    """Choice among candidates by total log-likelihood, averaged per group first
    (:func:`grouped_accuracy`): the minimal-pair and candidate-cloze task types."""

    metrics = ("acc", "acc_micro", "context_tokens")

    def aggregate(self, items, scores):
        return grouped_accuracy(items, scores)
