"""Training rows of the indexing tasks, drawn a whole batch at a time with numpy (issue 25),
and the batch source that trains on them (:class:`IndexingMixture`).

The tasks are defined by :mod:`pope_bench.tasks.indexing`, whose Python generators also
draw the fixed test split (one example at a time, so that split and its checksums never
change). Training needs far more examples — the paper's budget is ≈ 6.4M supervised
targets — and a GPU step takes milliseconds, so the training stream draws the same
distribution here as array operations over a batch: for every 1× (or smaller, curriculum)
task the strings have ≤ 52 distinct letters (``Generator.check``), so a string is the
first n letters of a random permutation, and every source, key or offset is uniform over
positions, exactly as the Python generators draw them.

A row is ``<string>`` followed by one *segment* per query, ``, <query>, <target>`` —
``, z, -3, N`` (indirect), ``, +1, x`` (position), ``, D, b`` (content) — so that
``<string><segment>`` is a whole single-query example. The train/test rule is the tasks'
own (:func:`pope_bench.tasks.indexing.split_bits`, a hash of that example's text), applied
to every query of a row: a string whose first query is in the other split is drawn again,
later queries of the other split are skipped (a row never runs dry: its first query may
be asked again) — so no test example is ever trained on. Hashing (one ``blake2b`` per
asked query) is the only per-query Python.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np

from pope_bench.core.errors import BadInput
from pope_bench.core.lazy_torch import lazy_module
from pope_bench.data.tokenizers import LETTERS
from pope_bench.tasks.indexing import (
    CHARACTERS,
    PAD,
    SPLITS,
    Generator,
    IndexingTask,
    make_generator,
    split_bits,
)

_UPPER = np.frombuffer(LETTERS[:26].encode(), np.uint8)
_LOWER = np.frombuffer(LETTERS[26:].encode(), np.uint8)
_LETTERS = np.frombuffer(LETTERS.encode(), np.uint8)
#: the widest signed number a 1× task can ask (shifts < 52)
_NUMBER_LIMIT = 99


def _number_table(signs: str) -> tuple[np.ndarray, np.ndarray]:
    """Left-aligned ASCII of ``<sign><k>`` for each sign and 0 ≤ k ≤ 99 (row
    ``sign index × 100 + k``), with the lengths."""
    texts = [f"{sign}{k}" for sign in signs for k in range(_NUMBER_LIMIT + 1)]
    chars = np.zeros((len(texts), 3), np.uint8)
    for i, text in enumerate(texts):
        chars[i, : len(text)] = np.frombuffer(text.encode(), np.uint8)
    return chars, np.array([len(t) for t in texts])


_SIGNED = _number_table("+-")


def _shift_rows(shift: np.ndarray) -> np.ndarray:
    """Rows of :data:`_SIGNED` that spell ``f"{shift:+d}"`` (``+0`` for zero)."""
    return np.where(shift >= 0, shift, (_NUMBER_LIMIT + 1) - shift)


def join(pieces: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate variable-length pieces row by row: each piece is (chars ``(rows, w)``,
    lengths ``(rows,)``), its first ``length`` chars used; returns the left-aligned
    ``(rows, Σw)`` chars (zeros after the end) and the lengths. Pieces are written whole,
    left to right: what a piece holds past its length is overwritten by the ones after it."""
    rows = len(pieces[0][1])
    out = np.zeros((rows, sum(c.shape[1] for c, _ in pieces)), np.uint8)
    at, index = np.zeros(rows, np.int64), np.arange(rows)[:, None]
    for chars, lengths in pieces:
        out[index, at[:, None] + np.arange(chars.shape[1])] = chars
        at = at + lengths
    out[np.arange(out.shape[1]) >= at[:, None]] = 0
    return out, at


def _const(text: bytes, rows: int) -> tuple[np.ndarray, np.ndarray]:
    return np.broadcast_to(np.frombuffer(text, np.uint8), (rows, len(text))), np.full(rows, len(text))


def _one(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return chars[:, None], np.ones(len(chars), np.int64)


def _permuted(rng: np.random.Generator, alphabet: np.ndarray, rows: int, width: int) -> np.ndarray:
    """``rows`` random orderings of ``alphabet``, the first ``width`` letters of each."""
    return alphabet[np.argsort(rng.random((rows, len(alphabet))), axis=1)[:, :width]]


class Strings:
    """Strings of one task: left-aligned chars ``(rows, width)`` and lengths ``(rows,)``
    (a content string is its key–value pairs, keys at even offsets)."""

    def __init__(self, chars: np.ndarray, lengths: np.ndarray):
        self.chars, self.lengths = chars, lengths

    def take(self, rows: np.ndarray) -> Strings:
        return Strings(self.chars[rows], self.lengths[rows])


def draw_strings(generator: Generator, rng: np.random.Generator, rows: int) -> Strings:
    """Fresh strings of the generator's task (distinct letters; content: distinct keys,
    uniform values), lengths uniform over the task's range."""
    lo, hi = generator.units()
    if generator.kind == "content":
        lo, hi = max(1, lo), max(1, hi)
        pairs = rng.integers(lo, hi + 1, rows)
        chars = np.empty((rows, 2 * hi), np.uint8)
        chars[:, 0::2] = _permuted(rng, _UPPER, rows, hi)
        chars[:, 1::2] = _LOWER[rng.integers(0, 26, (rows, hi))]
        return Strings(chars, 2 * pairs)
    return Strings(_permuted(rng, _LETTERS, rows, hi), rng.integers(lo, hi + 1, rows))


def draw_segments(generator: Generator, rng: np.random.Generator, strings: Strings,
                  owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One query on string ``owner[i]`` for each i: the segment ``, <query>, <target>``
    (chars, lengths). The source (indirect), key (content) or end offset (position) is
    uniform, as the Python generators draw it; an indirect shift is uniform over those that
    land in the string."""
    n, letters = strings.lengths[owner], strings.chars
    sep = _const(b", ", len(owner))
    if generator.kind == "content":
        at = 2 * rng.integers(0, n // 2)
        return join([sep, _one(letters[owner, at]), sep, _one(letters[owner, at + 1])])
    m = generator.max_shift
    if generator.kind == "position":
        minus = rng.integers(0, 2, len(owner))
        k = rng.integers(0, np.minimum(m, n - 1) + 1)
        number = (_NUMBER_LIMIT + 1) * minus + k
        target = letters[owner, np.where(minus == 1, n - 1 - k, k)]
        return join([sep, (_SIGNED[0][number], _SIGNED[1][number]), sep, _one(target)])
    where = rng.integers(0, n)
    shift = rng.integers(np.maximum(-m, -where), np.minimum(m, n - 1 - where) + 1)
    number = _shift_rows(shift)
    return join([sep, _one(letters[owner, where]), sep, (_SIGNED[0][number], _SIGNED[1][number]), sep,
                 _one(letters[owner, where + shift])])


def splits(strings: Strings, owner: np.ndarray, segments: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """1 where the single-query example ``<string owner[i]><segment i>`` is in the test split."""
    width, data = strings.chars.shape[1], strings.chars.tobytes()
    heads = [data[i * width : i * width + n] for i, n in enumerate(strings.lengths.tolist())]
    chars, lengths = segments
    step, tails = chars.shape[1], chars.tobytes()
    texts = [heads[o] + tails[j * step : j * step + n] for j, (o, n) in enumerate(zip(owner.tolist(), lengths.tolist()))]
    return np.array(split_bits(texts), np.uint8)


def draw_rows(generator: Generator, rng: np.random.Generator, test: int, rows: int,
              queries: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rows`` training rows of the split (``test`` 1 or 0) asking ``queries`` each:
    left-aligned chars, lengths, and the character offset of every target ``(rows, queries)``."""
    strings, first = _first_queries(generator, rng, test, rows)
    return _assemble(strings, [first, *_more_queries(generator, rng, test, strings, queries - 1)])


def _first_queries(generator, rng, test, rows):
    """Strings whose first query is of the split, with that query (a string of the other
    split is drawn again: :meth:`Generator.draw`'s rule)."""
    kept_strings, kept_segments, have = [], [], 0
    while have < rows:
        strings = draw_strings(generator, rng, 2 * (rows - have) + 16)
        every = np.arange(len(strings.lengths))
        segments = draw_segments(generator, rng, strings, every)
        ok = np.flatnonzero(splits(strings, every, segments) == test)[: rows - have]
        kept_strings.append(strings.take(ok))
        kept_segments.append((segments[0][ok], segments[1][ok]))
        have += len(ok)
    strings = Strings(_stack(*(s.chars for s in kept_strings)), np.concatenate([s.lengths for s in kept_strings]))
    return strings, (_stack(*(c for c, _ in kept_segments)), np.concatenate([n for _, n in kept_segments]))


def _more_queries(generator, rng, test, strings, count):
    """``count`` further queries of the split per string, each uniform over the string's
    queries of the split (asked with replacement, skipping the other split). The first
    query is one of them, so every string fills: none is given up."""
    rows = len(strings.lengths)
    filled = np.zeros(rows, np.int64)
    chars = lengths = None
    while count:
        pending = np.flatnonzero(filled < count)
        if not len(pending):
            break
        ask = 2 * (count - filled[pending]) + 8  # half are of the split; a margin saves rounds
        owner = np.repeat(pending, ask)
        segments = draw_segments(generator, rng, strings, owner)
        ok = splits(strings, owner, segments) == test
        if chars is None:  # a task's segments all have one width
            chars = np.zeros((rows, count, segments[0].shape[1]), np.uint8)
            lengths = np.zeros((rows, count), np.int64)
        starts = np.cumsum(ask) - ask
        seen = np.cumsum(ok)
        rank = seen - 1 - np.repeat((seen - ok)[starts] - filled[pending], ask)
        use = ok & (rank < count)
        chars[owner[use], rank[use]] = segments[0][use]
        lengths[owner[use], rank[use]] = segments[1][use]
        filled[pending] = np.minimum(count, filled[pending] + np.add.reduceat(ok.astype(np.int64), starts))
    return [] if chars is None else [(chars[:, j], lengths[:, j]) for j in range(count)]


def _assemble(strings, segments):
    chars, lengths = join([(strings.chars, strings.lengths), *segments])
    targets = strings.lengths[:, None] + np.cumsum(np.stack([n for _, n in segments], 1), 1) - 1
    return chars, lengths, targets


def _stack(*arrays: np.ndarray) -> np.ndarray:
    """Rows of left-aligned char arrays of different widths, zero-padded to the widest."""
    width = max(a.shape[1] for a in arrays)
    return np.concatenate([np.pad(a, ((0, 0), (0, width - a.shape[1]))) for a in arrays])


@functools.cache
def token_table(tokenizer) -> np.ndarray:
    """ASCII code → token id of every character a row can hold."""
    table = np.zeros(128, np.int64)
    for c in CHARACTERS:
        table[ord(c)] = tokenizer.encode(c)[0]
    return table


def sample_rows(generators: list[Generator], rng: np.random.Generator, test: int, batch_size: int, queries: int,
                length: int, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A batch of a uniform mixture of ``generators``: token ids ``(batch_size, length)``,
    each row left-padded with :data:`~pope_bench.tasks.indexing.PAD`, and labels (−100 but
    at every target). Rows must fit ``length`` (the caller checks it)."""
    kinds = rng.integers(0, len(generators), batch_size)
    ids = np.full((batch_size, length), table[ord(PAD)], np.int64)
    labels = np.full((batch_size, length), -100, np.int64)
    for k, generator in enumerate(generators):
        where = np.flatnonzero(kinds == k)
        if not len(where):
            continue
        chars, lengths, targets = draw_rows(generator, rng, test, len(where), queries)
        start = length - lengths
        col = np.arange(chars.shape[1])
        valid = col < lengths[:, None]
        rows = np.broadcast_to(where[:, None], chars.shape)
        ids[rows[valid], (start[:, None] + col)[valid]] = table[chars[valid]]
        at = start[:, None] + targets
        labels[where[:, None], at] = ids[where[:, None], at]
    return ids, labels


torch = lazy_module("torch")


class IndexingMixture:
    """Training batches: a uniform mixture of the named indexing tasks at 1×.

    ``sample_batch(generator, batch_size, length) -> (input_ids, labels)``: each row one
    example of the ``split`` left-padded with :data:`PAD` to ``length`` tokens; ``labels`` is
    −100 except at the last position, which holds the target (the model shifts labels, so
    the target is predicted from everything before it) — loss on the target only (§3.1).
    ``string_length`` ([min, max]) overrides the tasks' 1× string lengths in training only
    (a curriculum instead scales them step by step: ``data.curriculum``, see
    :func:`pope_bench.training.batches.training_stages`); the tested tasks stay as defined.

    ``queries`` > 1 (training only, issue 16) makes each row one string asked ``queries``
    times, ``<string>, <src1>, <shift1>, <tgt1>, <src2>, <shift2>, <tgt2>, …``, with the
    loss on every target: ``queries`` supervised tokens per string instead of one, the
    string read once. The first query of a row is a single-query example as tested, and
    every ``<string>, <srci>, <shifti>, <tgti>`` is an example of the split.

    Rows are drawn a batch at a time by :mod:`pope_bench.tasks.indexing_rows` (numpy, the
    same distribution as the generators' one-at-a-time draws, which make the test split),
    seeded from ``generator``.
    """

    def __init__(self, generators: dict[str, Generator], split: str, tokenizer, queries: int = 1):
        if split not in SPLITS:
            raise BadInput(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        if type(queries) is not int or queries < 1:
            raise BadInput(f"recipe data.queries must be a positive integer (queries per string), got {queries!r}")
        self.generators, self.split, self.tokenizer, self.queries = generators, split, tokenizer, queries
        self.vocab_size = tokenizer.vocab_size

    @classmethod
    def from_tasks(cls, tasks: list[str], split: str, string_length=None, queries: int = 1) -> IndexingMixture:
        """The mixture of registered indexing tasks (a recipe's ``data.tasks``)."""
        from pope_bench.tasks.registry import discover

        if not tasks:
            raise BadInput("recipe data.tasks is empty; name indexing tasks, e.g. [indirect_indexing]")
        registry = discover()
        built = [registry.build(name) for name in tasks]
        wrong = [t.name for t in built if not isinstance(t, IndexingTask)]
        if wrong:
            raise BadInput(f"recipe data.tasks: {', '.join(wrong)} are not indexing tasks")
        tokenizers = {t.tokenizer.name for t in built}
        if len(tokenizers) > 1:
            raise BadInput(f"recipe data.tasks mix tokenizers {', '.join(sorted(tokenizers))}; use tasks of one")
        generators = {t.name: t.generator for t in built}
        if string_length is not None:
            generators = {
                t.name: make_generator(t.generator.kind, string_length, t.generator.max_shift,
                                       f"recipe data.string_length ({t.name})")
                for t in built
            }
        return cls(generators, split, built[0].tokenizer, queries)

    def scaled(self, ratio: float, where: str, max_shift: int | None = None) -> IndexingMixture:
        """The same mixture with every task at ``ratio`` × its size along the task's own
        length axis (strings and shifts scaled together): a curriculum stage. ``max_shift``
        narrows the shifts further (a stage that teaches ±1 before ±15)."""
        generators = {name: g.scaled(ratio) for name, g in self.generators.items()}
        if max_shift is not None:
            if type(max_shift) is not int or max_shift < 0:
                raise BadInput(f"{where}: max_shift must be a non-negative integer, got {max_shift!r}")
            generators = {name: replace(g, max_shift=min(g.max_shift, max_shift)) for name, g in generators.items()}
        for name, g in generators.items():
            g.check(f"{where} ({name})")
        return IndexingMixture(generators, self.split, self.tokenizer, self.queries)

    def single(self) -> IndexingMixture:
        """The same tasks one query per string: the tested format."""
        return IndexingMixture(self.generators, self.split, self.tokenizer)

    def parts(self) -> dict[str, IndexingMixture]:
        """One source per task, so that a training curve can show each task's accuracy."""
        return {name: IndexingMixture({name: g}, self.split, self.tokenizer, self.queries)
                for name, g in self.generators.items()}

    def longest(self) -> int:
        """Tokens in the longest row any of the tasks can make."""
        return max(g.longest_queries(self.queries) for g in self.generators.values())

    def check_fits(self, length: int, where: str) -> None:
        """BadInput unless every row fits in ``length`` tokens."""
        longest = self.longest()
        if longest > length:
            asked = f" with {self.queries} queries per string" if self.queries > 1 else ""
            raise BadInput(f"{where}: the longest training example{asked} takes {longest} tokens, more than "
                           f"train.length {length}; set train.length ≥ {longest}"
                           + (" or lower data.queries" if self.queries > 1 else ""))

    def sample_batch(self, generator: torch.Generator, batch_size: int, length: int):
        self.check_fits(length, "recipe")
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))
        ids, labels = sample_rows(list(self.generators.values()), rng, SPLITS.index(self.split), batch_size,
                                  self.queries, length, token_table(self.tokenizer))
        return torch.from_numpy(ids), torch.from_numpy(labels)
