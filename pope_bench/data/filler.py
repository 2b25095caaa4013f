"""Real, unrelated text for the length axis of downstream tasks and for passkey retrieval.

The filler is the held-out King James Bible books (``documents("kjv", "test")``), never
training text, as one token stream in the model's own tokenizer with documents separated
by the tokenizer's document boundary. A window is taken at a random offset (wrapping
around the stream when L exceeds it), so every example sees different text and a seed
fixes which.
"""

from __future__ import annotations

import random
from functools import cached_property

from pope_bench.core.errors import BadInput
from pope_bench.data.corpora import documents
from pope_bench.data.tokenizers import encode_text


def boundary_tokens(tokenizer) -> list[int]:
    """The tokens that separate documents: for a transformers tokenizer lm-eval's prefix
    token (BOS, else EOS), which models trained on document streams see between documents;
    pope-bench tokenizers have no special tokens, and their training stream separates
    documents by a blank line (:class:`pope_bench.training.batches.CorpusWindows`)."""
    special = getattr(tokenizer, "bos_token_id", None)
    if special is None:
        special = getattr(tokenizer, "eos_token_id", None)
    return [special] if special is not None else encode_text(tokenizer, "\n\n")


class Filler:
    """The filler stream of one tokenizer; encoded on first use, so an example that needs
    no filler never pays for (or fails on) encoding the books."""

    def __init__(self, tokenizer, books: list[str] | None = None, corpus=None):
        """``corpus``: the user's documents (:mod:`.user_corpus`) instead of the KJV books."""
        self.corpus = corpus
        held_out = [d.name for d in documents("kjv", "test")]
        unknown = set(books or ()) - set(held_out)
        if unknown:
            raise BadInput(f"filler books {sorted(unknown)} are not held-out KJV books; "
                           f"choose from {', '.join(held_out)}")
        self.tokenizer, self.books = tokenizer, books

    @cached_property
    def boundary(self) -> list[int]:
        try:
            return boundary_tokens(self.tokenizer)
        except (BadInput, ValueError, KeyError) as e:
            raise BadInput(f"this tokenizer cannot encode a document boundary ({e}); "
                           "use lengths no longer than the examples") from None

    @cached_property
    def ids(self) -> list[int]:
        ids: list[int] = []
        docs = self.corpus.documents() if self.corpus is not None else documents("kjv", "test")
        for doc in docs:
            if self.books is None or doc.name in self.books:
                try:
                    ids += encode_text(self.tokenizer, doc.text) + self.boundary
                except (BadInput, ValueError, KeyError) as e:
                    raise BadInput(f"the length axis's filler text ({doc.name}) cannot be encoded with this "
                                   f"tokenizer ({e}); use lengths no longer than the examples") from None
        return ids

    def take(self, n: int, rng: random.Random) -> list[int]:
        """``n`` consecutive filler tokens from a random offset."""
        if n <= 0:
            return []
        start = rng.randrange(len(self.ids))
        out = self.ids[start : start + n]
        while len(out) < n:
            out += self.ids[: n - len(out)]
        return out
