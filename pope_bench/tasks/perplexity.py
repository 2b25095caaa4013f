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

import torch

from ..errors import BadInput
from ..tokenizers import encode_text, token_byte_counts
from .base import Metric, TaskType
from .corpus import CorpusDocuments
from .scoring import token_nll


class PerplexityTask(CorpusDocuments, TaskType):
    type_name = "perplexity"
    metrics = ("perplexity", "nll", "bits_per_byte", "loss_by_position")
    required_params = ("corpus",)

    def __init__(self, definition):
        super().__init__(definition)
        self.mode = self.params.get("window", "full")
        if self.mode not in ("full", "sliding"):
            raise BadInput(f"task {self.name!r}: window must be full or sliding, got {self.mode!r}")

    def windows(self, docs_ids: list[list[int]], length: int):
        """(window token ids, first scored target index) pairs, in document order."""
        stride = int(self.params.get("stride", length // 2)) if self.mode == "sliding" else length
        if self.mode == "sliding" and not 0 < stride <= length:
            raise BadInput(f"task {self.name!r}: stride must be in (0, L], got {stride} at L={length}")
        for ids in docs_ids:
            if len(ids) < length:
                continue
            for start in range(0, len(ids) - length + 1, stride):
                first = 0 if start == 0 or self.mode == "full" else length - stride - 1
                yield ids[start : start + length], first

    def evaluate(self, lm, length, seed, limit, batch_size):
        budget = int(limit or self.params.get("tokens", 65_536))
        docs = [encode_text(lm.tokenizer, doc.text) for doc in self.documents()]
        skipped = sum(len(ids) < length for ids in docs)
        if skipped == len(docs):
            raise BadInput(f"task {self.name!r}: every document is shorter than L={length}; lower the length")
        nll_sum, scored, bytes_total = 0.0, 0, 0
        bins = int(self.params.get("bins", 16))
        bin_sum, bin_n = torch.zeros(bins, dtype=torch.float64), torch.zeros(bins, dtype=torch.float64)
        squares = 0.0
        batch: list[tuple[list[int], int]] = []

        def flush():
            nonlocal nll_sum, scored, bytes_total, squares
            ids = torch.tensor([w for w, _ in batch], device=lm.device)
            nll = token_nll(lm.model, ids).double().cpu()  # (B, L-1): target positions 1..L-1
            for row, (window, first) in enumerate(batch):
                take = min(budget - scored, length - 1 - first)
                if take <= 0:
                    break
                values = nll[row, first : first + take]
                positions = torch.arange(first + 1, first + 1 + take)
                index = positions * bins // length
                bin_sum.index_add_(0, index, values)
                bin_n.index_add_(0, index, torch.ones_like(values))
                nll_sum += float(values.sum())
                squares += float((values**2).sum())
                if self.domain == "text":
                    bytes_total += sum(token_byte_counts(lm.tokenizer, window[first + 1 : first + 1 + take]))
                scored += take
            batch.clear()

        for window in self.windows(docs, length):
            batch.append(window)
            if len(batch) == batch_size:
                flush()
            if scored >= budget:
                break
        if batch and scored < budget:
            flush()
        if scored == 0:
            raise BadInput(f"task {self.name!r}: nothing to score at L={length}")
        mean = nll_sum / scored
        if not math.isfinite(mean):
            raise FloatingPointError(f"non-finite NLL at L={length}")
        # Token losses are correlated inside a window; this per-token stderr is a lower bound.
        stderr = math.sqrt(max(squares / scored - mean**2, 0.0) / scored)
        extra = {"skipped": skipped, "window": self.mode}
        if scored < budget:  # the documents ran out before the budget
            extra["short"] = budget - scored
        rows = [
            Metric("perplexity", math.exp(mean), math.exp(mean) * stderr, scored, extra),
            Metric("nll", mean, stderr, scored, extra),
        ]
        if self.domain == "text":  # bytes of a music raster or a DNA string mean nothing
            rows.append(Metric("bits_per_byte", nll_sum / math.log(2) / bytes_total, None, scored, extra))
        for b in range(bins):
            if bin_n[b] > 0:
                rows.append(Metric("loss_by_position", float(bin_sum[b] / bin_n[b]), None, int(bin_n[b]),
                                   {**extra, "position": b * length // bins}))
        return rows
