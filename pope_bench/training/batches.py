"""Where training batches come from. Every source answers
``sample_batch(generator, batch_size, length) -> (input_ids, labels)`` (the DeepMind
``randomized_positional_encodings`` shape), with −100 in ``labels`` where no loss is taken.
"""

from __future__ import annotations

import torch

from ..data.sources import load_documents
from ..errors import BadInput
from ..tokenizers import get_tokenizer


class CorpusWindows:
    """Uniformly random windows of the training documents' token stream (documents joined
    by a blank line), loss on every next token; ``limit`` caps the characters read."""

    def __init__(self, corpus: str, tokenizer: str, split: str = "train", limit: int | None = None):
        tok = get_tokenizer(tokenizer)
        ids: list[int] = []
        for doc in load_documents(corpus, split, limit):
            ids.extend(tok.encode(doc.text + "\n\n"))
        self.stream = torch.tensor(ids, dtype=torch.long)
        self.vocab_size = tok.vocab_size

    def sample_batch(self, generator: torch.Generator, batch_size: int, length: int):
        if len(self.stream) <= length:
            raise BadInput(f"the corpus has {len(self.stream)} tokens, fewer than one window of {length}")
        starts = torch.randint(0, len(self.stream) - length, (batch_size,), generator=generator)
        x = torch.stack([self.stream[s : s + length] for s in starts.tolist()])
        return x, x.clone()


def batch_source(data: dict, tokenizer: str, split: str = "train"):
    """The batch source a recipe's ``data`` section names."""
    kind = data.get("kind", "corpus")
    if kind == "corpus":
        return CorpusWindows(data["corpus"], tokenizer, split, data.get("limit"))
    if kind == "tasks":
        from ..tasks.indexing import IndexingMixture

        if tokenizer != "chars":  # the checkpoint's config would mislabel its vocabulary
            raise BadInput(f"recipe tokenizer {tokenizer!r} does not fit data.kind tasks; the indexing tasks use 'chars'")
        return IndexingMixture(data["tasks"], split, data.get("string_length"))
    raise BadInput(f"recipe data.kind {kind!r} is not one of corpus, tasks")
