"""Zero-shot downstream scoring shared by the cloze, multiple-choice, minimal-pair and
passkey task types: candidate continuations scored by log-likelihood, and a length axis.

Scoring follows lm-evaluation-harness's ``loglikelihood`` request: for a context and a
continuation it returns the summed log-probability of the continuation's tokens and
``is_greedy`` — whether every continuation token is the argmax given the tokens before it,
which is exactly "greedy decoding reproduces the continuation" (LAMBADA's accuracy). Text
is tokenised as lm-eval's ``_encode_pair`` does: trailing whitespace of the context moves
to the continuation, and the continuation's tokens are those of context + continuation
after the context's own.

Batching: examples are sorted by context length and batched up to a token budget. Where a
batch's contexts all have one length and its examples have several candidates, each
context runs once with the KV cache on, the cache rows are repeated for the example's
candidates, and all candidates run in one forward pass over that cache (the shared context
is scored once). Otherwise (contexts of different lengths, or one candidate each) every
context + candidate is a row of one forward pass. Rows are right-padded: padding sits
after every real token, so under causal attention it changes nothing before it and no
attention mask is involved. On the length axis every context has exactly L tokens, so
there the cache path spans many examples.

Length axis: at length L an example's context is prefixed with unrelated held-out text
(:class:`pope_bench.data.filler.Filler`) and a document boundary so that the context is
exactly L tokens with the question at the end; an example already at least L tokens long
is left as it is. The ``length`` of a row is therefore the context length in tokens (the
candidates add their own); ``context_tokens`` reports the mean context actually read.
"""

from __future__ import annotations

import abc
import math
import random
from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import PositiveInt

from pope_bench.core.errors import BadInput
from pope_bench.core.lazy_torch import lazy_module, no_grad
from pope_bench.data.eval_items import EvalSet, Item
from pope_bench.data.eval_sets import load_eval_set
from pope_bench.data.filler import Filler
from pope_bench.data.tokenizers import encode_text
from pope_bench.tasks.base import (
    CHANCE,
    Metric,
    TaskParams,
    TaskType,
    binomial,
    proportion,
)

torch = lazy_module("torch")

#: bound on the logits kept from one forward pass (elements), so a 50k vocabulary does not
#: turn a batch of candidates into gigabytes of logits
LOGITS_BUDGET = 1 << 27
#: padded tokens allowed per real token in a batch: padding is compute thrown away
PADDING_SLACK = 1.1


@dataclass
class ContextChoices:
    """One loglikelihood request: a context's token ids and the token ids of each
    candidate continuation scored after it."""

    context: list[int]
    continuations: list[list[int]]

    @property
    def width(self) -> int:
        return max(len(c) for c in self.continuations)


@dataclass
class Score:
    logprob: float  # summed log-likelihood of the continuation's tokens (nats)
    greedy: bool  # every continuation token is the argmax


@dataclass
class Requests:
    """A cell's requests, what ``examples`` builds and ``score`` runs: each with its label
    (the eval-set item it came from, or the passkey depth), and the examples left out."""

    length: int  # the cell's L: one forward pass holds up to batch × L padded tokens
    requests: list[ContextChoices]
    labels: list
    skipped: int = 0

    def run(self, lm, batch_size: int) -> list[list[Score]]:
        return score_examples(lm.model, self.requests, batch_size * self.length, lm.device)


# ---- scoring --------------------------------------------------------------------------------


@no_grad
def score_examples(model, examples: list[ContextChoices], token_budget: int, device) -> list[list[Score]]:
    """One :class:`Score` per continuation of every example, in input order.
    ``token_budget`` bounds the padded tokens of one forward pass (at least one example)."""
    if any(not ex.context or not ex.continuations or not all(ex.continuations) for ex in examples):
        raise ValueError("every example needs a context token and non-empty continuations")
    vocab = int(model.config.vocab_size)
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i].context), examples[i].width))
    results: list[list[Score]] = [[] for _ in examples]
    for batch in _batches(order, examples, token_budget, vocab):
        chosen = [examples[i] for i in batch]
        for i, scores in zip(batch, _score_batch(model, chosen, device)):
            results[i] = scores
    return results


def _shares_context(batch: list[ContextChoices]) -> bool:
    """Whether ``batch`` is scored with each context run once (one context length, and
    some example has several candidates) rather than as flat context + candidate rows."""
    return len({len(ex.context) for ex in batch}) == 1 and any(len(ex.continuations) > 1 for ex in batch)


def _cost(batch: list[ContextChoices], vocab: int) -> tuple[int, int, int]:
    """(padded tokens of the rows or of the repeated cache, real tokens, logits kept)."""
    rows = [(len(ex.context), len(c)) for ex in batch for c in ex.continuations]
    longest = max(ctx for ctx, _ in rows)
    width = max(c for _, c in rows)
    spread = longest - min(ctx for ctx, _ in rows)
    return len(rows) * (longest + width), sum(ctx + c for ctx, c in rows), len(rows) * (spread + width) * vocab


def _batches(order: list[int], examples: list[ContextChoices], token_budget: int, vocab: int):
    """Consecutive examples (sorted by context length) within the budgets and with at most
    :data:`PADDING_SLACK` of padding; an example with several candidates only joins
    examples of its context length, to share its context."""
    batch: list[int] = []
    for i in order:
        grown = [examples[j] for j in [*batch, i]]
        padded, real, logits = _cost(grown, vocab)
        split = len({len(ex.context) for ex in grown}) > 1 and any(len(ex.continuations) > 1 for ex in grown)
        over = padded > token_budget or logits > LOGITS_BUDGET or padded > PADDING_SLACK * real
        if batch and (split or over):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


def _score_batch(model, batch: list[ContextChoices], device) -> list[list[Score]]:
    continuations = [c for ex in batch for c in ex.continuations]
    lengths = torch.tensor([len(c) for c in continuations], device=device)
    targets = torch.zeros(len(continuations), int(lengths.max()), dtype=torch.long, device=device)
    for row, ids in enumerate(continuations):
        targets[row, : len(ids)] = torch.tensor(ids, device=device)
    layout = _shared_context_logits if _shares_context(batch) else _flat_logits
    logprobs = torch.log_softmax(layout(model, batch, targets, device).float(), dim=-1)
    token_lp = logprobs.gather(2, targets[..., None]).squeeze(-1)
    real = torch.arange(targets.shape[1], device=device)[None, :] < lengths[:, None]
    sums = torch.where(real, token_lp.double(), 0.0).sum(1).tolist()
    greedy = ((logprobs.argmax(-1) == targets) | ~real).all(1).tolist()
    scores = iter(Score(s, g) for s, g in zip(sums, greedy))
    return [[next(scores) for _ in ex.continuations] for ex in batch]


def _shared_context_logits(model, batch, targets, device) -> torch.Tensor:
    """Logits predicting every continuation token, each context run once: (rows, width, V)."""
    out = model(torch.tensor([ex.context for ex in batch], device=device), use_cache=True, logits_to_keep=1)
    owner = torch.tensor([b for b, ex in enumerate(batch) for _ in ex.continuations], device=device)
    first = out.logits[owner]  # the context's last position predicts each first token
    if targets.shape[1] == 1:
        return first
    cache = out.cache
    cache.batch_select_indices(owner)  # each candidate row continues its example's context
    later = model(targets[:, :-1], cache=cache, use_cache=True).logits
    return torch.cat([first, later], dim=1)


def _flat_logits(model, batch, targets, device) -> torch.Tensor:
    """Logits predicting every continuation token, context + continuation as one row each."""
    rows = [(ex.context, c) for ex in batch for c in ex.continuations]
    total = max(len(ctx) + len(c) for ctx, c in rows)
    ids = torch.zeros(len(rows), total, dtype=torch.long, device=device)
    for row, (ctx, c) in enumerate(rows):
        ids[row, : len(ctx) + len(c)] = torch.tensor(ctx + c, device=device)
    first_needed = min(len(ctx) for ctx, _ in rows) - 1  # the earliest position that predicts
    logits = model(ids, use_cache=False, logits_to_keep=total - first_needed).logits
    starts = torch.tensor([len(ctx) - 1 - first_needed for ctx, _ in rows], device=device)
    where = (starts[:, None] + torch.arange(targets.shape[1], device=device)[None, :]).clamp(max=logits.shape[1] - 1)
    return logits.gather(1, where[..., None].expand(-1, -1, logits.shape[-1]))


# ---- text to examples -----------------------------------------------------------------------

#: what a tokenizer may raise on text it cannot encode (BadInput and UnicodeError are ValueErrors)
ENCODE_ERRORS = (ValueError, KeyError, TypeError)


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
    "mean over paradigms / sub-tasks"; ``acc_micro``: the same over all examples;
    ``baseline_chance``: ``acc`` of a uniform guess among the candidates."""
    by_group: dict[str, list[float]] = {}
    chance: dict[str, list[float]] = {}
    for item, score in zip(items, scores):
        hit = argmax_first([s.logprob for s in score]) == item.gold
        by_group.setdefault(item.group, []).append(float(hit))
        chance.setdefault(item.group, []).append(1 / len(item.choices))
    means = [mean_stderr(v) for v in by_group.values()]
    acc = sum(m for m, _ in means) / len(means)
    stderr = math.sqrt(sum((s or 0.0) ** 2 for _, s in means)) / len(means)
    every = [v for values in by_group.values() for v in values]
    guess = sum(sum(v) / len(v) for v in chance.values()) / len(chance)
    return [Metric("acc", acc, stderr, len(every)), Metric("acc_micro", *mean_stderr(every), len(every)),
            chance_level(guess, len(every))]


def chance_level(p: float, n: int) -> Metric:
    """``baseline_chance``: the expected accuracy of a uniform guess among each example's
    candidates on the same examples (binomial stderr), the reference line of an accuracy."""
    return binomial(CHANCE.name, p, n)


# ---- the task-type base ---------------------------------------------------------------------

class DownstreamParams(TaskParams):
    """Params of a zero-shot task over an eval set."""

    set: str
    route: Literal["auto", "hub", "packaged"] = "auto"
    #: how many examples, the first ones (``--limit`` caps)
    examples: PositiveInt = 500
    #: held-out KJV books that fill the length axis (default: all)
    filler_books: list[str] | None = None
    # the sizes of generated and hub-only sets (None: the set's own default, see data/eval_sets.py)
    per_paradigm: PositiveInt | None = None
    kinds: list[str] | None = None
    per_kind: PositiveInt | None = None
    books: list[str] | None = None
    context_sentences: PositiveInt | None = None
    candidates: PositiveInt | None = None

    def set_options(self) -> dict:
        sizes = ("per_paradigm", "kinds", "per_kind", "books", "context_sentences", "candidates")
        return {k: getattr(self, k) for k in sizes if getattr(self, k) is not None}


class DownstreamTask(TaskType):
    """A zero-shot task over an eval set (``params.set``); subclasses turn the scores of the
    kept examples into metrics (:meth:`aggregate`). Params: :class:`DownstreamParams`."""

    Params = DownstreamParams
    #: whether an example must have a context (minimal pairs have none)
    needs_context: ClassVar[bool] = True

    def __init__(self, definition):
        super().__init__(definition)
        self._set: EvalSet | None = None
        self._filler: tuple[object, Filler] | None = None

    def eval_set(self) -> EvalSet:
        if self._set is None:
            self._set = load_eval_set(self.params.set, self.params.route, **self.params.set_options())
        return self._set

    def data_checksums(self) -> dict[str, str]:
        data = self.eval_set()
        return {f"{data.name} ({data.source})": data.checksum()}

    def filler(self, tokenizer) -> Filler:
        if self._filler is None or self._filler[0] is not tokenizer:
            self._filler = (tokenizer, Filler(tokenizer, self.params.filler_books))
        return self._filler[1]

    def estimated_tokens(self, length, limit):
        """Every context is filled to L tokens (the candidates add a few more)."""
        return int(limit or self.params.examples) * length

    def examples(self, lm, length, seed, limit) -> Requests:
        items = self.eval_set().items[: int(limit or self.params.examples)]
        kept, requests = [], []
        filler = self.filler(lm.tokenizer)
        for index, item in enumerate(items):
            encoded = encode_item(lm.tokenizer, item, lm.vocab_size, self.needs_context)
            if encoded is not None:
                rng = random.Random(f"{self.name}:{seed}:{length}:{index}")
                kept.append(item)
                requests.append(ContextChoices(lengthen(encoded[0], length, filler, rng), encoded[1]))
        if not kept:
            raise BadInput(f"task {self.name!r}: none of its {len(items)} examples can be scored with "
                           f"{lm.entry.name!r}'s tokenizer (no candidates, bad gold index, empty or unencodable text)")
        return Requests(length, requests, kept, skipped=len(items) - len(kept))

    def score(self, lm, examples: Requests, batch_size):
        scores = examples.run(lm, batch_size)
        requests = examples.requests
        context = sum(len(r.context) for r in requests) / len(requests)
        rows = [*self.aggregate(examples.labels, scores), Metric("context_tokens", context, None, len(requests))]
        for row in rows:
            row.extra = {**row.extra, "skipped": examples.skipped}
            if row.stderr is not None and row.stderr_method is None:
                row.stderr_method = "per_example"  # lm-eval's mean_stderr
        return rows

    @abc.abstractmethod
    def aggregate(self, items: list[Item], scores: list[list[Score]]) -> list[Metric]:
        """The metrics of the kept items from their candidates' scores."""


class GroupedChoiceTask(DownstreamTask):
    """Choice among candidates by total log-likelihood, averaged per group first
    (:func:`grouped_accuracy`): the minimal-pair and candidate-cloze task types."""

    metrics = (proportion("acc", main=True), proportion("acc_micro"), CHANCE, "context_tokens")

    def aggregate(self, items, scores):
        return grouped_accuracy(items, scores)
