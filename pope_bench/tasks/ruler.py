"""RULER (Hsieh et al. 2024, "RULER: What's the Real Context Size of Your Long-Context
Language Models?", NVIDIA/RULER): synthetic retrieval, multi-hop tracing and aggregation
at any length, in the model's own tokens.

One task type, ``ruler``, with a ``family`` param: ``niah`` (needle in a haystack: single,
multi-key, multi-value, multi-query), ``vt`` (variable tracking), ``cwe`` (common words),
``fwe`` (frequent coded words). The built-in task files ``tasks/niah_*.yaml``,
``vt.yaml``, ``cwe.yaml``, ``fwe.yaml`` set RULER's ``scripts/synthetic.yaml`` arguments.
RULER's ``qa_1`` (SQuAD) and ``qa_2`` (HotpotQA) are not built: no pinned package carries
either set for offline use.

Two halves, kept apart: :meth:`RulerTask.examples` builds an L-token example set
(:mod:`pope_bench.data.ruler_gen`); :meth:`RulerTask.score` decodes greedily
(:mod:`pope_bench.tasks.generation`: batched, KV-cached, one prefill per example, at most
RULER's tokens to generate) and scores the text as RULER's ``scripts/eval``:
``string_match_all`` — the fraction of the gold answers found in the output
(case-insensitive substring), averaged over examples (niah, vt, cwe, fwe) — or
``string_match_part`` — 1 when any answer is found (qa). Values are fractions (RULER
prints ×100). Prompts are RULER's base-model prompts ending with the answer prefix;
``chat_template: true`` wraps them in the tokenizer's chat template (instruct models).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, PositiveInt

from pope_bench.core.errors import BadInput
from pope_bench.data import ruler_gen as gen
from pope_bench.data.tokenizers import TOKENIZERS, get_tokenizer
from pope_bench.tasks.base import Metric, TaskParams, TaskType, proportion
from pope_bench.tasks.downstream import mean_stderr
from pope_bench.tasks.generation import greedy_generate

FAMILIES = ("niah", "vt", "cwe", "fwe")
#: what each family measures (shown by ``pope-bench list tasks``)
CATEGORIES = {"niah": "retrieval", "vt": "multi-hop tracing", "cwe": "aggregation", "fwe": "aggregation"}
#: RULER's two string matches (scripts/eval/synthetic/constants.py), as proportions of examples
METRICS = (proportion("string_match_all", main=True), proportion("string_match_part"))


class RulerParams(TaskParams):
    family: Literal["niah", "vt", "cwe", "fwe"]
    #: examples per cell (``--limit`` caps)
    examples: PositiveInt = 20
    #: wrap the prompt in the tokenizer's chat template (instruct models)
    chat_template: bool = False
    #: tokens generated and reserved inside L (default: RULER's for the family)
    tokens_to_generate: PositiveInt | None = None
    # niah (RULER niah.py)
    type_haystack: str = "essay"
    type_needle_k: str = "words"
    type_needle_v: str = "numbers"
    num_needle_k: PositiveInt = 1
    num_needle_v: PositiveInt = 1
    num_needle_q: PositiveInt = 1
    # vt (variable_tracking.py)
    num_chains: PositiveInt = 1
    num_hops: PositiveInt = 4
    #: the in-context example's tokens (RULER: 500; capped at L/2; 0: none)
    icl_tokens: int = Field(default=500, ge=0)
    # cwe (common_words_extraction.py)
    freq_cw: PositiveInt = 30
    freq_ucw: PositiveInt = 3
    num_cw: PositiveInt = 10
    # fwe (freq_words_extraction.py)
    alpha: float = Field(default=2.0, gt=1.0)
    coded_wordlen: PositiveInt = 6
    vocab_size: PositiveInt | None = None


@dataclass
class RulerExample:
    prompt: list[int]
    answers: list[str]
    budget: int


def postprocess(text: str) -> str:
    """RULER's ``postprocess_pred``: strip, control characters → newline, strip."""
    return re.sub(r"[\x00-\x1f]", "\n", text.strip()).strip()


def string_match_all(prediction: str, answers: list[str]) -> float:
    """RULER: the fraction of the answers that occur in the prediction (case-insensitive)."""
    low = prediction.lower()
    return sum(a.lower() in low for a in answers) / len(answers)


def string_match_part(prediction: str, answers: list[str]) -> float:
    """RULER: 1 when any answer occurs in the prediction (case-insensitive)."""
    low = prediction.lower()
    return float(any(a.lower() in low for a in answers))


class RulerTask(TaskType):
    """Params: :class:`RulerParams`."""

    type_name = "ruler"
    metrics = METRICS
    Params = RulerParams

    def __init__(self, definition):
        super().__init__(definition)
        p = self.params
        if p.type_haystack not in gen.HAYSTACKS:
            raise BadInput(f"task {self.name!r}: unknown type_haystack {p.type_haystack!r}; use one of "
                           f"{', '.join(gen.HAYSTACKS)}")
        for field in ("type_needle_k", "type_needle_v"):
            if getattr(p, field) not in gen.NEEDLE_TYPES:
                raise BadInput(f"task {self.name!r}: unknown {field} {getattr(p, field)!r}; use one of "
                               f"{', '.join(gen.NEEDLE_TYPES)}")
        self._haystacks: tuple[object, gen.Haystacks] | None = None

    @property
    def category(self) -> str:
        return CATEGORIES[self.params.family]

    @property
    def main_metric(self) -> str:
        return self.params.main_metric or "string_match_all"

    @property
    def budget(self) -> int:
        return self.params.tokens_to_generate or gen.TEMPLATES[self.params.family][2]

    # ---- plan-time checks ----------------------------------------------------------------

    def check_plan(self, entry, length, seed, limit) -> None:
        """For a pope-bench tokenizer (named in the registry): the chat template and whether
        every example of the cell fits L, before any work (the examples are deterministic).
        Hub tokenizers are checked once loaded."""
        if entry.tokenizer in TOKENIZERS:
            self.examples_for(get_tokenizer(entry.tokenizer), length, seed, limit)

    def check_model(self, lm) -> None:
        super().check_model(lm)
        gen.Frame(lm.tokenizer, self.params.chat_template, f"task {self.name!r}")

    # ---- build examples ------------------------------------------------------------------

    def haystacks(self, tokenizer) -> gen.Haystacks:
        if self._haystacks is None or self._haystacks[0] is not tokenizer:
            self._haystacks = (tokenizer, gen.Haystacks(tokenizer))
        return self._haystacks[1]

    def examples(self, lm, length: int, seed: int, limit: int | None) -> list[RulerExample]:
        return self.examples_for(lm.tokenizer, length, seed, limit)

    def examples_for(self, tokenizer, length: int, seed: int, limit: int | None) -> list[RulerExample]:
        """``limit or examples`` examples of ``length`` tokens (prompt + generation budget) in
        ``tokenizer``'s tokens: the same for every model that shares it."""
        what = f"task {self.name!r}"
        total = int(limit or self.params.examples)
        frame = gen.Frame(tokenizer, self.params.chat_template, what)
        out = []
        for index in range(total):
            rng = random.Random(f"ruler:{self.name}:{seed}:{length}:{index}")
            built = self.build(tokenizer, frame, length, index, total, rng, what)
            out.append(RulerExample(built.prompt, built.answers, self.budget))
        return out

    def build(self, tokenizer, frame, length, index, total, rng, what) -> gen.Built:
        p, budget = self.params, self.budget
        if p.family == "niah":
            return gen.build_niah(p, tokenizer, frame, self.haystacks(tokenizer), length, budget, index, total,
                                  rng, what)
        if p.family == "vt":
            return gen.build_vt(tokenizer, frame, self.haystacks(tokenizer), length, budget, p.num_chains,
                                p.num_hops, p.icl_tokens, rng, what)
        if p.family == "cwe":
            return gen.build_cwe(tokenizer, frame, length, budget, p.freq_cw, p.freq_ucw, p.num_cw, rng, what)
        return gen.build_fwe(tokenizer, frame, length, budget, p.alpha, p.coded_wordlen, p.vocab_size, rng, what)

    # ---- score ---------------------------------------------------------------------------

    def score(self, lm, examples: list[RulerExample], batch_size: int) -> list[Metric]:
        """Greedy answers of ``lm`` (``batch_size`` sequences of the cell's length per pass),
        scored by string match."""
        length = max(len(ex.prompt) for ex in examples) + self.budget
        return self.match_scores(self.generate(lm, examples, batch_size, length), examples)

    def match_scores(self, predictions: list[str], examples: list[RulerExample]) -> list[Metric]:
        """The main metric over the examples (per-example mean and its stderr) and the
        other string match beside it."""
        rows = []
        for metric, fn in (("string_match_all", string_match_all), ("string_match_part", string_match_part)):
            values = [fn(postprocess(text), ex.answers) for text, ex in zip(predictions, examples)]
            rows.append(Metric(metric, *mean_stderr(values), len(values), stderr_method="per_example"))
        return sorted(rows, key=lambda m: m.metric != self.main_metric)

    def generate(self, lm, examples: list[RulerExample], batch_size: int, length: int) -> list[str]:
        eos = getattr(lm.tokenizer, "eos_token_id", None)
        outputs = greedy_generate(lm.model, [ex.prompt for ex in examples], self.budget, batch_size * length,
                                  lm.device, eos)
        return [lm.tokenizer.decode(ids) for ids in outputs]

    def estimated_tokens(self, length: int, limit: int | None) -> int:
        return length * int(limit or self.params.examples)
