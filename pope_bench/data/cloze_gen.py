"""``cbt_gen``: Children's-Book-Test-style cloze items cut from held-out King James Bible
books — a *generated stand-in* for CBT (Hill et al. 2016), which no package carries.

As in CBT, a passage of consecutive sentences is the context, one word is removed from the
next sentence, and the model picks among candidate words of the same kind: ``NE`` (named
entities) or ``CN`` (common nouns), the two sub-tasks the GPT-2 paper reports. Differences,
by necessity or for small models:

* sentences are clauses (split at . ; : ? !), since KJV verses run long; the context is
  ``context_sentences`` of them (CBT: 20 sentences);
* without a tagger, a named entity is a capitalised word that the book never writes in
  lower case (and not sentence-initial); a common noun is a lower-case word after "the"
  (minus a list of adjectives and ordinals);
* the answer occurs in the context; the other candidates are words of the same kind from
  the context, then from the same book when the context has too few.

The text comes only from the held-out books (``documents("kjv", "test")``), never from
training text; the items are fixed (seeded by book and position), whatever the run's seed.
"""

from __future__ import annotations

import random
import re

from pope_bench.core.errors import BadInput
from pope_bench.data.corpora import documents
from pope_bench.data.eval_items import EvalSet, Item, interleave_groups

KINDS = ("NE", "CN")
NOT_NOUNS = set("""same other first second third fourth fifth sixth seventh last whole great most more which only own
very said holy good evil former latter chief rest""".split())
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")  # hyphenated names (Kadesh-barnea) are one word


def clauses(text: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<=[.;:?!])\s+", text) if c.strip()]


def _spans(clause: str, kind: str, proper: set[str]) -> list[re.Match]:
    """Word matches of ``kind`` in a clause."""
    if kind == "NE":
        return [m for m in _WORD.finditer(clause) if m.start() > 0 and m.group() in proper]
    return [m for m in re.finditer(r"(?<=\bthe )[a-z]+\b", clause) if m.group() not in NOT_NOUNS]


def _proper_nouns(text: str) -> set[str]:
    words = set(_WORD.findall(text))
    return {w for w in words if w[0].isupper() and w[1:].islower() and w.lower() not in words}


def book_items(name: str, text: str, kind: str, context_sentences: int, candidates: int) -> list[Item]:
    units = clauses(text)
    proper = _proper_nouns(text)
    book_words = sorted({m.group() for u in units for m in _spans(u, kind, proper)})
    items = []
    for i in range(context_sentences, len(units)):
        context = units[i - context_sentences : i]
        pool = {m.group() for c in context for m in _spans(c, kind, proper)}
        answers = [m for m in _spans(units[i], kind, proper) if m.group() in pool]
        if not answers:
            continue
        rng = random.Random(f"cbt_gen:{name}:{kind}:{i}")
        answer = rng.choice(answers)
        others = sorted(pool - {answer.group()})
        rng.shuffle(others)
        extra = [w for w in book_words if w not in pool]
        rng.shuffle(extra)
        options = [answer.group(), *(others + extra)[: candidates - 1]]
        if len(options) < candidates:
            continue
        rng.shuffle(options)
        query = units[i]
        suffix = query[answer.end() :]
        items.append(Item(" ".join(context) + " " + query[: answer.start()], tuple(o + suffix for o in options),
                          options.index(answer.group()), "", kind))
    return items


def generated_cloze(books: list[str] | None = None, per_kind: int = 100, context_sentences: int = 5,
                    candidates: int = 10) -> EvalSet:
    """``per_kind`` items of each kind from the held-out ``books`` (default: all of them),
    drawn evenly across the books by a fixed shuffle."""
    held_out = {d.name: d for d in documents("kjv", "test")}
    chosen = books or list(held_out)
    unknown = [b for b in chosen if b not in held_out]
    if unknown:
        raise BadInput(f"cbt_gen books {unknown} are not held-out KJV books; choose from {', '.join(held_out)}")
    items = []
    for kind in KINDS:
        pool = [it for b in chosen for it in book_items(b, held_out[b].text, kind, context_sentences, candidates)]
        random.Random(f"cbt_gen:{kind}").shuffle(pool)
        items += pool[:per_kind]
    return EvalSet("cbt_gen", interleave_groups(items),
                   f"generated stand-in for CBT: cloze items from held-out KJV books ({', '.join(chosen)})")
