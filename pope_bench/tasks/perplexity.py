"""The perplexity task type: next-token NLL of held-out documents at length L.

Two windowings, recorded in every row's ``window`` column (the paper, §3.5, does not say
which it used):

* ``full`` (default, the paper's reading): consecutive non-overlapping windows of L tokens,
  each token scored once with full causal attention inside its window;
* ``sliding`` with stride S: windows start every S tokens; the first scores all its
  tokens, later ones only their last S, so every token is scored exactly once with at
  least L − S tokens of context. Aggregated per token — not a mean of window means, the
  flaw of YaRN's evaluation script.

Exactly ``tokens`` tokens are scored at every L (the last window is cut short), so lengths
are comparable. Documents shorter than one window are skipped and counted, never padded.
Metrics: ``perplexity`` (exp of the mean NLL), ``nll`` (nats/token), ``bits_per_byte``, and
``loss_by_position`` — mean NLL in ``bins`` equal bins of the position inside the window,
one row per bin with its start in the ``position`` column: the curve that shows where
extrapolation breaks.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import PositiveInt, model_validator

from ..errors import BadInput
from ..lazy import lazy_module
from ..tokenizers import encode_text, token_byte_lengths
from .base import Metric, TaskType
from .corpus import CorpusDocuments, CorpusParams
from .scoring import token_nll

torch = lazy_module("torch")


class PerplexityParams(CorpusParams):
    window: Literal["full", "sliding"] = "full"
    #: sliding only: tokens between window starts (default: half the length)
    stride: PositiveInt | None = None
    #: scored tokens at every length (``--limit`` caps)
    tokens: PositiveInt = 65_536
    #: loss-by-position bins
    bins: PositiveInt = 16

    @model_validator(mode="after")
    def _stride_needs_sliding(self):
        if self.stride is not None and self.window != "sliding":
            raise ValueError("stride applies to window: sliding only")
        return self


class PerplexityTask(CorpusDocuments, TaskType):
    type_name = "perplexity"
    metrics = ("perplexity", "nll", "bits_per_byte", "loss_by_position")
    Params = PerplexityParams

    def __init__(self, definition):
        super().__init__(definition)
        self.mode = self.params.window
        self._encoded: dict = {}

    def windows(self, docs_ids: list[torch.Tensor], length: int):
        """(document index, start, first scored target index) of each window, in document order."""
        stride = (self.params.stride or length // 2) if self.mode == "sliding" else length
        if self.mode == "sliding" and not 0 < stride <= length:
            raise BadInput(f"task {self.name!r}: stride must be in (0, L], got {stride} at L={length}")
        for index, ids in enumerate(docs_ids):
            for start in range(0, len(ids) - length + 1, stride):
                first = 0 if start == 0 or self.mode == "full" else length - stride - 1
                yield index, start, first

    def plan(self, docs_ids, length: int, budget: int) -> list[tuple[int, int, int, int]]:
        """(document, start, first, take) per window: exactly ``budget`` scored tokens when
        the documents hold that many (the last window is cut short)."""
        chosen, scored = [], 0
        for index, start, first in self.windows(docs_ids, length):
            take = min(budget - scored, length - 1 - first)
            chosen.append((index, start, first, take))
            scored += take
            if scored >= budget:
                break
        return chosen

    def encoded(self, lm) -> dict:
        """The documents' token ids and each token's UTF-8 byte length (text only), computed
        once per tokenizer rather than once per cell."""
        tokenizer = lm.tokenizer
        key = getattr(tokenizer, "name_or_path", None) or getattr(tokenizer, "name", repr(tokenizer))
        if self._encoded.get("key") != key:
            self._encoded = {
                "key": key,
                "ids": [torch.tensor(encode_text(tokenizer, d.text), dtype=torch.long) for d in self.documents()],
                "bytes": token_byte_lengths(tokenizer, lm.vocab_size) if self.domain == "text" else None,
            }
        return self._encoded

    def evaluate(self, lm, length, seed, limit, batch_size):
        budget = int(limit or self.params.tokens)
        encoded = self.encoded(lm)
        docs, byte_lengths = encoded["ids"], encoded["bytes"]
        skipped = sum(len(ids) < length for ids in docs)
        if skipped == len(docs):
            raise BadInput(f"task {self.name!r}: every document is shorter than L={length}; lower the length")
        windows = self.plan(docs, length, budget)
        bins = self.params.bins
        bin_sum, bin_n = torch.zeros(bins, dtype=torch.float64), torch.zeros(bins, dtype=torch.float64)
        total, squares, bytes_total = 0.0, 0.0, 0
        offsets = torch.arange(length - 1)
        for at in range(0, len(windows), batch_size):
            chunk = windows[at : at + batch_size]
            ids = torch.stack([docs[d][s : s + length] for d, s, _, _ in chunk])
            nll = token_nll(lm.model, ids.to(lm.device)).cpu()  # (B, L-1): targets at positions 1..L-1
            firsts = torch.tensor([c[2] for c in chunk])[:, None]
            takes = torch.tensor([c[3] for c in chunk])[:, None]
            scored_mask = (offsets >= firsts) & (offsets < firsts + takes)
            values = nll[scored_mask].double()
            index = (offsets + 1).expand_as(scored_mask)[scored_mask] * bins // length
            bin_sum.index_add_(0, index, values)
            bin_n.index_add_(0, index, torch.ones_like(values))
            total += float(values.sum())
            squares += float((values**2).sum())
            if byte_lengths is not None:
                bytes_total += int(byte_lengths[ids[:, 1:]][scored_mask].sum())
        scored = sum(c[3] for c in windows)
        if scored == 0:
            raise BadInput(f"task {self.name!r}: nothing to score at L={length}")
        mean = total / scored
        if not math.isfinite(mean):
            raise FloatingPointError(f"non-finite NLL at L={length}")
        # Token losses are correlated inside a window; this per-token stderr is a lower bound.
        stderr = math.sqrt(max(squares / scored - mean**2, 0.0) / scored)
        # n < the budget in a row says the documents ran out first
        extra = {"skipped": skipped, "window": self.mode}
        rows = [
            Metric("perplexity", math.exp(mean), math.exp(mean) * stderr, scored, extra),
            Metric("nll", mean, stderr, scored, extra),
        ]
        if byte_lengths is not None:  # bytes of a music raster or a DNA string mean nothing
            rows.append(Metric("bits_per_byte", total / math.log(2) / bytes_total, None, scored, extra))
        for b in range(bins):
            if bin_n[b] > 0:
                rows.append(Metric("loss_by_position", float(bin_sum[b] / bin_n[b]), None, int(bin_n[b]),
                                   {**extra, "position": b * length // bins}))
        return rows
