"""Passkey retrieval: can the model fetch a 5-digit key from anywhere in an L-token context?

The prompt of Mohtashami & Jaggi (2023, "Landmark Attention") without its preamble (which
alone would exceed a byte-level model's 128-token training length): the needle "The pass
key is 12345. Remember it. 12345 is the pass key." sits inside real filler text — held-out
King James Bible books (:class:`pope_bench.data.filler.Filler`), not the usual repeated
"The grass is green…" — and the context ends with "What is the pass key? The pass key is".
The context is exactly L tokens; the needle starts after ``round(depth × F)`` of the F
filler tokens, so depth 0 puts it first and depth 1 right before the question.

A trial counts when greedy decoding reproduces the key (" 12345": every token the argmax,
checked in one teacher-forced pass, as LAMBADA's accuracy). Rows: ``acc`` over all trials
and ``acc`` per depth (the ``depth`` column) — length × depth is the retrieval heat-map.
Keys and filler offsets come from the seed.
"""

from __future__ import annotations

import random
from typing import Annotated

from pydantic import Field, PositiveInt, model_validator

from pope_bench.core.errors import BadInput
from pope_bench.data.filler import Filler
from pope_bench.data.sources import documents_checksum
from pope_bench.data.tokenizers import encode_text
from pope_bench.data.user_corpus import HubCorpus, LocalCorpus
from pope_bench.tasks.base import Metric, TaskParams, TaskType, proportion
from pope_bench.tasks.downstream import ContextChoices, Requests, mean_stderr

QUESTION = "\nWhat is the pass key? The pass key is"
DEPTHS = (0.0, 0.25, 0.5, 0.75, 1.0)


def needle(key: str) -> str:
    return f"\nThe pass key is {key}. Remember it. {key} is the pass key.\n"


def passkey_example(tokenizer, filler: Filler, length: int, depth: float, rng: random.Random):
    """(request, key, index of the needle's first token in the context)."""
    key = str(rng.randint(10_000, 99_999))
    hidden = encode_text(tokenizer, needle(key))
    question = encode_text(tokenizer, QUESTION)
    room = length - len(hidden) - len(question)
    if room < 0:
        raise BadInput(f"passkey needs L ≥ {len(hidden) + len(question)} tokens for its needle and question "
                       f"with this tokenizer; L={length} is too short")
    text = filler.take(room, rng)
    at = round(depth * room)
    context = text[:at] + hidden + text[at:] + question
    return ContextChoices(context, [encode_text(tokenizer, " " + key)]), key, at


class PasskeyParams(TaskParams):
    #: fractions of the filler before the needle
    depths: list[Annotated[float, Field(ge=0.0, le=1.0)]] = Field(default=list(DEPTHS), min_length=1)
    #: trials per depth (``--limit`` caps)
    trials: PositiveInt = 20
    #: held-out KJV books that make the filler (default: all)
    filler_books: list[str] | None = None
    #: your own documents as the filler instead: {path: FILE-OR-FOLDER[, text_field: F]} or {hub: ID, …}
    filler_corpus: LocalCorpus | HubCorpus | None = None

    @model_validator(mode="after")
    def _one_filler(self):
        if self.filler_books is not None and self.filler_corpus is not None:
            raise ValueError("filler_books chooses KJV books; with filler_corpus leave it out")
        return self


class PasskeyTask(TaskType):
    """Params: :class:`PasskeyParams`."""

    type_name = "passkey"
    metrics = (proportion("acc", main=True),)
    Params = PasskeyParams

    def __init__(self, definition):
        super().__init__(definition)
        self.depths = self.params.depths

    def data_checksums(self):
        corpus = self.params.filler_corpus
        return {corpus.label: documents_checksum(corpus.documents())} if corpus is not None else {}

    def trials(self, limit: int | None) -> int:
        return int(limit or self.params.trials)

    def estimated_tokens(self, length, limit):
        return len(self.depths) * self.trials(limit) * length

    def examples(self, lm, length, seed, limit) -> Requests:
        filler = Filler(lm.tokenizer, self.params.filler_books, self.params.filler_corpus)
        requests, labels = [], []  # each request labelled with the index of its depth
        for i, depth in enumerate(self.depths):
            for t in range(self.trials(limit)):
                rng = random.Random(f"{self.name}:{seed}:{length}:{depth}:{t}")
                requests.append(passkey_example(lm.tokenizer, filler, length, depth, rng)[0])
                labels.append(i)
        return Requests(length, requests, labels)

    def score(self, lm, examples: Requests, batch_size):
        hits = [float(s[0].greedy) for s in examples.run(lm, batch_size)]
        rows = [Metric("acc", *mean_stderr(hits), len(hits), stderr_method="per_example")]
        for i, depth in enumerate(self.depths):
            per_depth = [hit for hit, label in zip(hits, examples.labels) if label == i]
            rows.append(Metric("acc", *mean_stderr(per_depth), len(per_depth), {"depth": depth}, "per_example"))
        return rows
