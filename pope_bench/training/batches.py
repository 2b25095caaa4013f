"""Where training batches come from. Every source answers
``sample_batch(generator, batch_size, length) -> (input_ids, labels)`` (the DeepMind
``randomized_positional_encodings`` shape), with −100 in ``labels`` where no loss is taken.
A recipe may put a curriculum in front of its data (:func:`training_stages`).
"""

from __future__ import annotations

import torch

from pope_bench.core.errors import BadInput
from pope_bench.data.sources import load_documents
from pope_bench.data.tokenizers import get_tokenizer
from pope_bench.training.recipe import queries_per_string


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
        if "queries" in data:
            raise BadInput("recipe data.queries applies to data.kind tasks only; remove it")
        return CorpusWindows(data["corpus"], tokenizer, split, data.get("limit"))
    if kind == "tasks":
        from pope_bench.tasks.indexing_rows import IndexingMixture

        if tokenizer != "chars":  # the checkpoint's config would mislabel its vocabulary
            raise BadInput(f"recipe tokenizer {tokenizer!r} does not fit data.kind tasks; the indexing tasks use 'chars'")
        return IndexingMixture.from_tasks(data["tasks"], split, data.get("string_length"),
                                          queries_per_string(data))
    raise BadInput(f"recipe data.kind {kind!r} is not one of corpus, tasks")


def held_out_source(data: dict, tokenizer: str):
    """What validation scores: the recipe's data from the test split, one query per string
    for tasks (the tested format, whatever ``data.queries`` trains on)."""
    source = batch_source(data, tokenizer, "test")
    return source.single() if hasattr(source, "single") else source


def training_stages(data: dict, tokenizer: str, length: int, steps: int) -> list[tuple[int | None, object, int]]:
    """``[(until_step, source, length), ..., (None, source, length)]``: the sources training
    draws from, in order, each used while ``step < until_step`` with sequences of ``length``
    tokens; the last is the recipe's data itself at the recipe's ``train.length``.

    ``data.curriculum`` (indexing tasks only) lists ``{until_step, scale}`` stages, each the
    tasks at ``scale`` × their 1× size along their own length axis — strings and shift
    range scaled together, e.g. 0.25 → 5–10 letters, shifts ±4 — so the skill is learnt on
    short strings first ("curriculum over string length", issue 4). Validation always uses
    the full-size held-out tasks, so a curve shows progress on the task as defined. A stage
    may also narrow the shifts (``max_shift: 1``: the neighbours of the source first, an
    induction-head-sized step, then wider). A stage
    pads to its own longest example rather than to ``train.length``: short strings then
    cost short sequences, and the model is not made to look past a wall of padding. The
    curriculum must end before ``steps``, so that training ends on the 1× task; every
    stage's rows must fit ``train.length`` (checked here, before anything is written).
    """
    final = batch_source(data, tokenizer, "train")
    stages = data.get("curriculum") or []
    if stages and data.get("kind") != "tasks":
        raise BadInput("recipe data.curriculum applies to data.kind tasks only; remove it")
    out, previous = [], 0
    for i, stage in enumerate(stages):
        where = f"recipe data.curriculum[{i}]"
        if not (isinstance(stage, dict) and {"until_step", "scale"} <= set(stage) <= {"until_step", "scale", "max_shift"}):
            raise BadInput(f"{where} must be a mapping {{until_step: N, scale: r}} (optionally max_shift: k), "
                           f"got {stage!r}")
        until, scale = stage["until_step"], stage["scale"]
        if type(until) is not int or until <= previous:
            raise BadInput(f"{where}: until_step must be an integer above {previous}, got {until!r}")
        if not isinstance(scale, (int, float)) or not 0 < scale < 1:
            raise BadInput(f"{where}: scale must be a number in (0, 1), got {scale!r}")
        if until >= steps:
            raise BadInput(f"{where}: until_step {until} leaves no step of the 1x task (train.steps {steps}); "
                           f"end the curriculum before step {steps}")
        source = final.scaled(scale, where, stage.get("max_shift"))
        out.append((until, source, min(length, source.longest())))
        previous = until
    stages = [*out, (None, final, length)]
    for _, source, stage_length in stages:
        if hasattr(source, "check_fits"):
            source.check_fits(stage_length, "recipe")
    return stages
