"""The perplexity task type: next-token NLL of held-out documents at length L.

Two windowings, recorded in every row's ``window`` column (the paper, §3.5, does not say
which it used):

* ``full`` (default, the paper's reading): each document is tiled by non-overlapping
  windows of L tokens, each token scored with full causal attention inside its window;
* ``sliding`` with stride S: windows start every S tokens; a document's first window
  scores all its tokens, later ones only their last S, so each scored token has at least
  L − S tokens of context and no token is scored twice.

Which windows are scored (the selection rule). The candidates are the windows of every
document of the split that holds at least one window (shorter documents are skipped and
counted in ``skipped``, never padded). A seeded uniform random sample of them, without
replacement, is scored until exactly ``tokens`` (or ``--limit``) tokens are (the last
window drawn is cut short), so lengths are comparable and the budget is spread over the
whole split — every window equally likely, so documents are covered in proportion to
their length. The seed namespace is the corpus, split, window mode, L and the cell's seed
(not the model): every model with the same tokenizer scores the same windows, and other
seeds are re-draws of the test windows. ``documents`` in each row counts the distinct
documents scored. A budget below one window's tokens, or a split with no documents, is
bad input before any work.

Metrics, aggregated per token (not a mean of window means, the flaw of YaRN's evaluation
script): ``perplexity`` (exp of the mean NLL), ``nll`` (nats/token), ``bits_per_byte``
(summed NLL in bits over the UTF-8 bytes the scored tokens cover, for tokenizers that can
say which bytes a token covers: see :func:`~pope_bench.data.tokenizers.encode_with_byte_ends`),
and ``loss_by_position`` — mean NLL in ``bins`` equal bins of the position inside the
window, one row per bin with its start in the ``position`` column: the curve that shows
where extrapolation breaks. Every one of them has a standard error by window (token losses
inside a window are correlated): ``stderr: clustered`` (default) or ``bootstrap`` with
``resamples`` (:mod:`pope_bench.tasks.window_stderr`); each row's ``stderr_method`` names it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, PositiveInt, model_validator

from pope_bench.core.errors import BadInput
from pope_bench.core.lazy_torch import lazy_module
from pope_bench.data.tokenizers import encode_with_byte_ends
from pope_bench.tasks.base import Metric, TaskType, lower_better
from pope_bench.tasks.corpus import CorpusDocuments, CorpusParams
from pope_bench.tasks.scoring import token_nll
from pope_bench.tasks.window_stderr import ratio_stderr

torch = lazy_module("torch")
F = lazy_module("torch.nn.functional")

STDERR_METHODS = {"clustered": "window_clustered", "bootstrap": "window_bootstrap"}


class PerplexityParams(CorpusParams):
    window: Literal["full", "sliding"] = "full"
    #: sliding only: tokens between window starts (default: half the length)
    stride: PositiveInt | None = None
    #: scored tokens at every length (``--limit`` caps)
    tokens: PositiveInt = 65_536
    #: loss-by-position bins
    bins: PositiveInt = 16
    #: the error bar's unit is the window: clustered (default) or a seeded bootstrap over windows
    stderr: Literal["clustered", "bootstrap"] = "clustered"
    #: bootstrap only: resamples of the windows
    resamples: int = Field(default=1000, ge=2)

    @model_validator(mode="after")
    def _options_fit(self):
        if self.stride is not None and self.window != "sliding":
            raise ValueError("stride applies to window: sliding only")
        if "resamples" in self.model_fields_set and self.stderr != "bootstrap":
            raise ValueError("resamples applies to stderr: bootstrap only")
        return self


@dataclass
class WindowSample:
    """A perplexity cell's inputs: the documents' token ids (and each token's UTF-8 end
    offset, or None), the sampled windows — (document, start, first scored target,
    scored targets) — and how many documents were too short for one window."""

    length: int
    seed: int
    docs: list
    ends: list | None
    windows: list[tuple[int, int, int, int]]
    skipped: int


class PerplexityTask(CorpusDocuments, TaskType):
    type_name = "perplexity"
    metrics = (lower_better("perplexity", main=True, log_axis=True), lower_better("nll"), lower_better("bits_per_byte"),
               lower_better("loss_by_position"))
    Params = PerplexityParams

    def __init__(self, definition):
        super().__init__(definition)
        self.mode = self.params.window
        self.stride = self.params.stride  # sliding only; default L // 2
        self.tokens = self.params.tokens
        self.bins = self.params.bins
        self.stderr_method = STDERR_METHODS[self.params.stderr]
        self.resamples = self.params.resamples
        self._encoded: dict = {}

    def budget(self, limit: int | None) -> int:
        return int(limit or self.tokens)

    def stride_at(self, length: int) -> int:
        return int(self.stride or length // 2) if self.mode == "sliding" else length

    def check_cell(self, length, limit):
        if self.mode == "sliding" and not 0 < self.stride_at(length) <= length:
            raise BadInput(f"task {self.name!r}: stride must be in (0, L], got {self.stride} at L={length}")
        if self.budget(limit) < length - 1:
            source = f"--limit {limit}" if limit else f"tokens: {self.tokens}"
            raise BadInput(f"task {self.name!r}: {source} is less than one window at L={length} "
                           f"({length - 1} scored tokens); raise it or lower the length")
        if not self.documents():
            raise BadInput(f"task {self.name!r}: split {self.params.split!r} of corpus "
                           f"{self.corpus_label!r} holds no documents; choose another split")

    def windows(self, docs_ids: list[torch.Tensor], length: int):
        """(document index, start, first scored target index) of every window, in document order."""
        stride = self.stride_at(length)
        for index, ids in enumerate(docs_ids):
            for start in range(0, len(ids) - length + 1, stride):
                first = 0 if start == 0 or self.mode == "full" else length - stride - 1
                yield index, start, first

    def sample_windows(self, docs_ids, length: int, budget: int, seed: int) -> list[tuple[int, int, int, int]]:
        """(document, start, first, take) per window, in document order: a seeded random
        sample of all windows, exactly ``budget`` scored tokens when the documents hold
        that many (the last window drawn is cut short)."""
        candidates = list(self.windows(docs_ids, length))
        where = f"{self.corpus_label}/{self.params.split}/{self.mode}/{self.stride_at(length)}"
        random.Random(f"pope-bench/perplexity/{where}/L={length}/seed={seed}").shuffle(candidates)
        chosen, scored = [], 0
        for index, start, first in candidates:
            if scored >= budget:
                break
            take = min(budget - scored, length - 1 - first)
            chosen.append((index, start, first, take))
            scored += take
        return sorted(chosen)

    def encoded(self, lm) -> dict:
        """The documents' token ids and, for text, each token's end offset in the UTF-8
        bytes (None when the tokenizer cannot say), computed once per tokenizer."""
        tokenizer = lm.tokenizer
        key = getattr(tokenizer, "name_or_path", None) or getattr(tokenizer, "name", repr(tokenizer))
        if self._encoded.get("key") != key:
            pairs = [encode_with_byte_ends(tokenizer, d.text) for d in self.documents()]
            ends = [e for _, e in pairs]
            self._encoded = {
                "key": key,
                "ids": [torch.tensor(ids, dtype=torch.long) for ids, _ in pairs],
                "ends": ends if self.domain == "text" and all(e is not None for e in ends) else None,
            }
        return self._encoded

    def estimated_tokens(self, length, limit):
        """The windows' tokens: ``budget`` scored tokens, L − 1 per full window (the
        first window of a sliding document too), the stride per later sliding one."""
        per_window = length - 1 if self.mode == "full" else max(1, self.stride_at(length))
        return math.ceil(self.budget(limit) / per_window) * length

    def examples(self, lm, length, seed, limit) -> WindowSample:
        encoded = self.encoded(lm)
        docs = encoded["ids"]
        skipped = sum(len(ids) < length for ids in docs)
        if skipped == len(docs):
            raise BadInput(f"task {self.name!r}: every document is shorter than L={length}; lower the length")
        windows = self.sample_windows(docs, length, self.budget(limit), seed)
        return WindowSample(length, seed, docs, encoded["ends"], windows, skipped)

    def score(self, lm, examples: WindowSample, batch_size):
        length, windows, ends = examples.length, examples.windows, examples.ends
        sums, counts, bin_sums, bin_counts = self.score_windows(lm, examples.docs, windows, length, batch_size)
        scored = int(counts.sum())
        mean = float(sums.sum()) / scored
        if not math.isfinite(mean):
            raise FloatingPointError(f"non-finite NLL at L={length}")
        cell_seed = f"{self.name}/L={length}/seed={examples.seed}"

        def error(y, n) -> np.ndarray:
            return ratio_stderr(y, n, self.stderr_method, self.resamples, cell_seed)

        def stderr_or_none(value) -> float | None:
            return None if math.isnan(value) else float(value)

        extra = {"skipped": examples.skipped, "window": self.mode, "documents": len({w[0] for w in windows}),
                 "clusters": len(windows)}
        nll_err = stderr_or_none(error(sums, counts))

        def metric(name, value, err, n=scored, **more) -> Metric:
            return Metric(name, value, err, n, {**extra, **more}, self.stderr_method)

        rows = [metric("perplexity", math.exp(mean), None if nll_err is None else math.exp(mean) * nll_err),
                metric("nll", mean, nll_err)]
        if ends is not None:  # bytes of a music raster or a DNA string mean nothing
            covered = np.array([ends[d][s + first + take] - ends[d][s + first] for d, s, first, take in windows])
            bits = sums / math.log(2)
            rows.append(metric("bits_per_byte", float(bits.sum() / covered.sum()), stderr_or_none(error(bits, covered))))
        bin_errors = error(bin_sums, bin_counts)
        for b in range(self.bins):
            n = int(bin_counts[:, b].sum())
            if n > 0:
                rows.append(metric("loss_by_position", float(bin_sums[:, b].sum() / n), stderr_or_none(bin_errors[b]),
                                   n, position=b * length // self.bins, clusters=int((bin_counts[:, b] > 0).sum())))
        return rows

    def score_windows(self, lm, docs, windows, length: int, batch_size: int):
        """Per window: summed NLL and scored tokens, and both per position bin — (k,), (k,),
        (k, bins), (k, bins) float64 arrays."""
        offsets = torch.arange(length - 1)
        # target at window position offset + 1 falls in bin (offset + 1) · bins // L
        bin_of = F.one_hot((offsets + 1) * self.bins // length, self.bins).double()
        sums, counts, bin_sums, bin_counts = [], [], [], []
        for at in range(0, len(windows), batch_size):
            chunk = windows[at : at + batch_size]
            ids = torch.stack([docs[d][s : s + length] for d, s, _, _ in chunk])
            nll = token_nll(lm.model, ids.to(lm.device)).cpu()  # (B, L-1): targets at positions 1..L-1
            firsts = torch.tensor([c[2] for c in chunk])[:, None]
            takes = torch.tensor([c[3] for c in chunk])[:, None]
            scored = ((offsets >= firsts) & (offsets < firsts + takes)).double()
            values = torch.where(scored.bool(), nll.double(), 0.0)
            sums.append(values.sum(1))
            counts.append(scored.sum(1))
            bin_sums.append(values @ bin_of)
            bin_counts.append(scored @ bin_of)
        return tuple(torch.cat(part).numpy() for part in (sums, counts, bin_sums, bin_counts))
