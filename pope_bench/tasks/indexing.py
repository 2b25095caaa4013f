"""The diagnostic indexing tasks (paper §3.1) and the batch source that trains on them.

Three task kinds, one line of characters each, scored on the final (target) character only:

* ``indirect`` — the paper's Indirect Indexing, exactly: ``<string>, <source>, <shift>, <target>``,
  e.g. ``QEOHoUbKfeSrMVNlCzXu, z, -3, N``. The string has 20–40 distinct letters from A–Z a–z,
  the source is a letter of the string (uniform), the shift is uniform over the integers in
  [−15, +15] that land inside the string (so given the source; ``+0`` included), and the
  target is the letter ``shift`` places from the source. Shifts are written with their sign
  (``+4``, ``-3``, ``+0``). It needs both a match by content (find the source) and by
  position (move by the shift) — RoPE 11 % vs PoPE 95 % in the paper.
* ``position`` — its "where" half: ``<string>, <±k>, <target>``, e.g.
  ``VxljNUmYEtbIfrHuTQdLwpOvJhRWgyFS, +1, x``. ``+k`` is the letter k places right of the
  first letter, ``-k`` the letter k places left of the last one (``+0`` first, ``-0``
  last), k uniform in [0, 15], the sign uniform. The answer is a function of the position
  alone: permuting the letters moves it with them.
* ``content`` — its "what" half: key–value pairs, an upper-case key followed by its
  lower-case value, in random order, then a key: ``<pairs>, <key>, <value>``, e.g.
  ``YjWpMyQrAmPkEhCuSyVgDbHvUkGvLuBy, D, b``. 10–20 pairs (20–40 letters, as in
  ``indirect``), distinct keys, values uniform; the answer is a function of the content
  alone: shuffling the pairs leaves it unchanged.

The length axis. A cell's length L is a token length, and the task grows with it: at
L = r × the model's train length, the string lengths and the shift range are the
definition's × r (rounded half up), so 1× is exactly the task the model was trained on
(``IndexingMixture`` always trains on the 1× task) and 10× has 200–400 letters and shifts
up to ±150. Every example is left-padded to exactly L tokens with ``|``, which no example
contains: the layout of training, where the model sees no attention mask. An L too short
for its longest example (below 1×, or a train length shorter than the 1× examples) is bad
input. Only 52 letters (26 keys) exist, so past that size letters must repeat; the
extension keeps the task well defined and identical below it: the source letter (the
queried key) occurs exactly once, and every other letter is used as evenly as possible
(counts differ by at most one). Up to 52 letters that rule *is* "distinct letters with a
uniform source", so the 1× task is untouched.

Baselines. Next to its accuracy every cell reports, on the same test examples, the
expected accuracy of guessers that do not solve the task (metrics ``baseline_*``, binomial
stderr): ``baseline_alphabet`` — uniform over the 52 letters; ``baseline_reachable`` —
uniform over the distinct letters the task's rule can reach (the letters inside the shift
window around the source for ``indirect``, inside the first or last ``max_shift`` + 1 for
``position``, the values present for ``content``); ``baseline_source`` (``indirect``) —
always the source letter, right whenever the shift is ``+0``; ``baseline_end``
(``position``) — always the end letter the sign names, right whenever k = 0. A model at
``baseline_source`` has learned nothing about the shift.

Splits. An example belongs to the test split iff a hash of its text is odd, so train and
test examples are disjoint by construction at every length (the paper's splits are
disjoint sets, 1M / 10k / 10k). The test split of a cell is a fixed seeded draw whose
seed namespace is the kind, the sizes and the seed (not the model), so every model with
the same train length sees the same examples; ``limit`` takes a prefix of it.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
from dataclasses import dataclass, replace
from typing import ClassVar, Literal

from pydantic import NonNegativeInt, PositiveInt, model_validator

from pope_bench.core.errors import BadInput
from pope_bench.core.lazy_torch import lazy_module, no_grad
from pope_bench.data.tokenizers import LETTERS, encode_text, get_tokenizer
from pope_bench.tasks.base import Metric, TaskParams, TaskType, binomial, lower_better, proportion

torch = lazy_module("torch")
F = lazy_module("torch.nn.functional")

UPPER, LOWER = LETTERS[:26], LETTERS[26:]
#: left padding; no example contains it
PAD = "|"
#: every character an example or its padding can hold
CHARACTERS = LETTERS + "0123456789,+- " + PAD
SPLITS = ("train", "test")


def split_of(text: str) -> str:
    """The split an example's text belongs to (half of all examples each, by hash)."""
    return "test" if hashlib.blake2b(text.encode(), digest_size=8).digest()[-1] & 1 else "train"


def balanced(rng: random.Random, alphabet: str, count: int) -> list[str]:
    """``count`` letters of ``alphabet``, each used ⌊count/len⌋ or ⌈count/len⌉ times (so
    distinct when count ≤ len), in random order."""
    out: list[str] = []
    while len(out) < count:
        copy = list(alphabet)
        rng.shuffle(copy)
        out.extend(copy)
    out = out[:count]
    rng.shuffle(out)
    return out


def with_unique(rng: random.Random, alphabet: str, count: int) -> tuple[list[str], str]:
    """``count`` letters in random order in which one letter (uniform, returned) occurs
    exactly once and the others are :func:`balanced` over the rest of the alphabet."""
    unique = rng.choice(alphabet)
    letters = balanced(rng, alphabet.replace(unique, ""), count - 1) + [unique]
    rng.shuffle(letters)
    return letters, unique


def once(items: list[str]) -> list[str]:
    """The items that occur exactly once, in order."""
    return [item for item, count in Counter(items).items() if count == 1]


@dataclass(frozen=True)
class Example:
    prompt: str  # everything before the target, ending in ", "
    target: str  # one character

    @property
    def text(self) -> str:
        return self.prompt + self.target


def _scaled(value: int, ratio: float) -> int:
    return max(1, math.floor(value * ratio + 0.5))


@dataclass(frozen=True)
class Generator:
    """One task kind at one size: string lengths (letters, inclusive) and the shift range."""

    kind: ClassVar[str]
    #: what a string is made of; a 1× string has distinct ones, so at most len(alphabet)
    alphabet: ClassVar[str] = LETTERS
    unit: ClassVar[str] = "letters"
    uses_shift: ClassVar[bool] = True
    string_length: tuple[int, int] = (20, 40)
    max_shift: int = 15

    def units(self) -> tuple[int, int]:
        """Fewest and most alphabet symbols in a string."""
        return self.string_length

    def check(self, where: str) -> None:
        """BadInput unless this is a well-posed 1× task (distinct letters, shifts inside)."""
        lo, hi = self.string_length
        fewest, most = self.units()
        if not 1 <= fewest <= most:
            raise BadInput(f"{where}: string_length [{lo}, {hi}] holds no string of whole {self.unit}; "
                           "use [min, max] with 1 ≤ min ≤ max, e.g. [20, 40]")
        if most > len(self.alphabet):
            raise BadInput(f"{where}: a string of {hi} letters cannot have {most} distinct {self.unit} "
                           f"(there are {len(self.alphabet)}); lower string_length's max")
        if self.uses_shift and not 0 <= self.max_shift < lo:
            raise BadInput(f"{where}: shifts up to ±{self.max_shift} leave strings of {lo} letters; "
                           f"use max_shift ≤ {lo - 1} or longer strings")

    def scaled(self, ratio: float) -> Generator:
        """The task at ``ratio`` × its size (see the module docstring)."""
        lo, hi = self.string_length
        return replace(self, string_length=(_scaled(lo, ratio), _scaled(hi, ratio)),
                       max_shift=_scaled(self.max_shift, ratio))

    def longest(self) -> int:
        """Tokens in the longest possible example."""
        raise NotImplementedError

    def longest_head(self) -> int:
        """Tokens in the longest string (everything before the first query)."""
        return self.string_length[1]

    def new_string(self, rng: random.Random):
        """A fresh string (and what its first query needs), for :meth:`ask`."""
        raise NotImplementedError

    def baselines(self, example: Example) -> dict[str, float]:
        """The probability that each trivial guesser (module docstring) is right on
        ``example`` — read back from the prompt this generator wrote."""
        reachable, trivial = self.reachable(example)
        return {"baseline_alphabet": 1 / len(LETTERS), "baseline_reachable": 1 / len(set(reachable)),
                **{name: float(guess == example.target) for name, guess in trivial.items()}}

    def reachable(self, example: Example) -> tuple[list[str], dict[str, str]]:
        """(the letters the rule can reach, {baseline name: its fixed guess})."""
        raise NotImplementedError

    def ask(self, rng: random.Random, state, first: bool) -> Example:
        """One query on the string ``state``; the first uses the string's own unique source,
        later ones a uniform letter that occurs once (every letter at ≤ 52 letters)."""
        raise NotImplementedError

    def sample(self, rng: random.Random) -> Example:
        return self.ask(rng, self.new_string(rng), first=True)

    def draw(self, rng: random.Random, split: str) -> Example:
        while True:
            example = self.sample(rng)
            if split_of(example.text) == split:
                return example

    def test_split(self, count: int, seed: int) -> list[Example]:
        """The fixed test examples at this size; a smaller count is a prefix of a larger."""
        rng = random.Random(f"pope-bench/indexing/{self.kind}/{self.string_length}/{self.max_shift}/seed={seed}")
        return [self.draw(rng, "test") for _ in range(count)]

    def draw_queries(self, rng: random.Random, split: str, count: int) -> list[Example]:
        """``count`` examples of ``split`` that share one string (a multi-query training
        sequence, :func:`multi_query`). Each is a whole single-query example of the split, so
        the split rule holds query by query; a string whose queries keep landing in the other
        split is given up for a new one."""
        while True:
            state = self.new_string(rng)
            examples = [self.ask(rng, state, first=True)]
            if split_of(examples[0].text) != split:
                continue
            for _ in range(50 * count):
                if len(examples) == count:
                    return examples
                example = self.ask(rng, state, first=False)
                if split_of(example.text) == split:
                    examples.append(example)

    def longest_queries(self, count: int) -> int:
        """Tokens in the longest :func:`multi_query` text of ``count`` queries."""
        return self.longest() + (count - 1) * (self.longest() - self.longest_head())


class IndirectIndexing(Generator):
    kind = "indirect"

    @staticmethod
    def answer(letters: list[str], source: str, shift: int) -> str:
        return letters[letters.index(source) + shift]

    def longest(self) -> int:
        return len(f"{'x' * self.string_length[1]}, x, {-self.max_shift:+d}, x")

    def new_string(self, rng):
        return with_unique(rng, LETTERS, rng.randint(*self.string_length))

    def ask(self, rng, state, first):
        letters, source = state
        if not first:
            source = rng.choice(once(letters))
        where = letters.index(source)
        shift = rng.choice([d for d in range(-self.max_shift, self.max_shift + 1) if 0 <= where + d < len(letters)])
        return Example(f"{''.join(letters)}, {source}, {shift:+d}, ", self.answer(letters, source, shift))

    def reachable(self, example):
        letters, source, _, _ = example.prompt.split(", ")
        where = letters.index(source)
        window = letters[max(0, where - self.max_shift) : where + self.max_shift + 1]
        return list(window), {"baseline_source": source}


class PositionIndexing(Generator):
    kind = "position"

    @staticmethod
    def answer(letters: list[str], sign: str, k: int) -> str:
        return letters[k] if sign == "+" else letters[len(letters) - 1 - k]

    def longest(self) -> int:
        return len(f"{'x' * self.string_length[1]}, -{self.max_shift}, x")

    def new_string(self, rng):
        return balanced(rng, LETTERS, rng.randint(*self.string_length))

    def ask(self, rng, letters, first):
        sign, k = rng.choice("+-"), rng.randint(0, min(self.max_shift, len(letters) - 1))
        return Example(f"{''.join(letters)}, {sign}{k}, ", self.answer(letters, sign, k))

    def reachable(self, example):
        letters, offset, _ = example.prompt.split(", ")
        window = self.max_shift + 1
        ends = letters[:window] if offset[0] == "+" else letters[-window:]
        return list(ends), {"baseline_end": self.answer(list(letters), offset[0], 0)}


class ContentIndexing(Generator):
    """Sizes count letters like the others: m pairs are 2m letters, m ∈ [⌈min/2⌉, ⌊max/2⌋]
    (at least one); ``max_shift`` plays no part."""

    kind = "content"
    alphabet = UPPER
    unit = "keys"
    uses_shift = False

    def units(self):
        lo, hi = self.string_length
        return math.ceil(lo / 2), hi // 2

    @staticmethod
    def answer(pairs: list[tuple[str, str]], key: str) -> str:
        (value,) = [v for k, v in pairs if k == key]
        return value

    def longest(self) -> int:
        return len(f"{'xx' * max(1, self.units()[1])}, x, x")

    def longest_head(self) -> int:
        return 2 * max(1, self.units()[1])

    def new_string(self, rng):
        fewest, most = self.units()
        keys, key = with_unique(rng, UPPER, rng.randint(max(1, fewest), max(1, most)))
        return [(k, rng.choice(LOWER)) for k in keys], key

    def ask(self, rng, state, first):
        pairs, key = state
        if not first:
            key = rng.choice(once([k for k, _ in pairs]))
        return Example(f"{''.join(k + v for k, v in pairs)}, {key}, ", self.answer(pairs, key))

    def reachable(self, example):
        pairs = example.prompt.split(", ")[0]
        return list(pairs[1::2]), {}


KINDS = {cls.kind: cls for cls in (IndirectIndexing, PositionIndexing, ContentIndexing)}


def make_generator(kind: str, string_length, max_shift, where: str) -> Generator:
    """A checked 1× generator from a task's (or a recipe's) plain YAML values."""
    if kind not in KINDS:
        raise BadInput(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not (isinstance(string_length, list) and len(string_length) == 2
            and all(type(x) is int for x in string_length)):
        raise BadInput(f"{where}: string_length must be a list [min, max] of two integers, got {string_length!r}")
    if type(max_shift) is not int:
        raise BadInput(f"{where}: max_shift must be an integer, got {max_shift!r}")
    generator = KINDS[kind](string_length=tuple(string_length), max_shift=max_shift)
    generator.check(where)
    return generator


def _covers(tokenizer, character: str) -> bool:
    try:
        return len(tokenizer.encode(character)) == 1
    except BadInput:
        return False


def multi_query(examples: list[Example]) -> tuple[str, list[int]]:
    """One training sequence from examples that share a string — ``<string>, <src1>,
    <shift1>, <tgt1>, <src2>, <shift2>, <tgt2>, …`` (issue 16) — and the character offsets
    of its targets. Its first ``prompt + target`` characters are the first example exactly,
    so the tested single-query format is a prefix of every training sequence."""
    head = examples[0].prompt.split(", ", 1)[0]  # the string: letters only, no ", "
    text, targets = examples[0].prompt, []
    for i, example in enumerate(examples):
        if i:
            text += ", " + example.prompt[len(head) + 2:]
        targets.append(len(text))
        text += example.target
    return text, targets


def encode_padded(tokenizer, texts: list[str], length: int) -> torch.Tensor:
    """(len(texts), length) token ids, each text left-padded with :data:`PAD`."""
    pad = encode_text(tokenizer, PAD)[0]
    rows = []
    for text in texts:
        ids = encode_text(tokenizer, text)
        if len(ids) > length:
            raise BadInput(f"an example of {len(ids)} tokens does not fit in L={length}")
        rows.append([pad] * (length - len(ids)) + ids)
    return torch.tensor(rows, dtype=torch.long)


class IndexingParams(TaskParams):
    kind: Literal["indirect", "position", "content"]
    tokenizer: str = "chars"
    #: [min, max] letters at 1×
    string_length: tuple[PositiveInt, PositiveInt] = (20, 40)
    #: largest |shift| at 1× (indirect and position; content has no shift); default 15
    max_shift: NonNegativeInt | None = None
    #: test examples per length (``--limit`` caps)
    examples: PositiveInt = 1000

    @model_validator(mode="after")
    def _shift_needs_a_position(self):
        if self.kind == "content" and self.max_shift is not None:
            raise ValueError("max_shift does not apply to kind content (it has no shift); remove it")
        return self


class IndexingTask(TaskType):
    """Target-token accuracy (argmax, binomial stderr), NLL (per-example stderr) and the
    trivial baselines (module docstring) on the fixed test split (params: :class:`IndexingParams`)."""

    type_name = "indexing"
    metrics = (proportion("accuracy", main=True), lower_better("loss"),
               proportion("baseline_alphabet", baseline="uniform over the 52 letters"),
               proportion("baseline_reachable", baseline="uniform over the letters the rule reaches"),
               proportion("baseline_source", baseline="always the source letter"),
               proportion("baseline_end", baseline="always the end letter (k = 0)"))
    domain = "indexing"
    Params = IndexingParams

    def __init__(self, definition):
        super().__init__(definition)
        where = f"task {self.name!r} ({definition.origin})"
        max_shift = 15 if self.params.max_shift is None else self.params.max_shift
        self.generator = make_generator(self.params.kind, list(self.params.string_length), max_shift, where)
        self.examples = self.params.examples
        self.tokenizer = get_tokenizer(self.params.tokenizer)
        missing = sorted({c for c in CHARACTERS if not _covers(self.tokenizer, c)})
        if missing:
            raise BadInput(f"{where}: tokenizer {self.tokenizer.name!r} lacks {''.join(missing)!r}; "
                           "use tokenizer chars")

    def check_model(self, lm) -> None:
        super().check_model(lm)
        vocab = getattr(lm, "vocab_size", None)  # the runner's pre-load probe has no model
        if vocab is not None and vocab < self.tokenizer.vocab_size:
            raise BadInput(f"{lm.entry.name!r} has {vocab} output tokens but task {self.name!r} uses the "
                           f"{self.tokenizer.vocab_size} of tokenizer {self.tokenizer.name!r}; "
                           "train a model for it (`pope-bench train indexing-small`)")

    def generator_at(self, length: int, train_length: int) -> Generator:
        """The task at token length ``length`` for a model trained at ``train_length``."""
        generator = self.generator.scaled(length / train_length)
        if generator.longest() > length:
            raise BadInput(f"task {self.name!r}: at L={length} ({length / train_length:g}× the train length "
                           f"{train_length}) examples take up to {generator.longest()} tokens; use a longer L")
        return generator

    def data_checksums(self):
        text = "\n".join(e.text for e in self.generator.test_split(self.examples, seed=0))
        return {f"{self.name}@1x/seed0": hashlib.sha256(text.encode()).hexdigest()}

    @no_grad
    def evaluate(self, lm, length, seed, limit, batch_size):
        self.check_model(lm)
        generator = self.generator_at(length, lm.entry.train_length)
        examples = generator.test_split(min(self.examples, limit or self.examples), seed)
        ids = encode_padded(lm.tokenizer, [e.text for e in examples], length)
        correct, nll = [], []
        for chunk in ids.split(batch_size):
            chunk = chunk.to(lm.device)
            # the logits at L − 2 predict the target at L − 1
            logits = lm.model(chunk[:, :-1], use_cache=False, logits_to_keep=1).logits[:, -1].float()
            correct.append((logits.argmax(-1) == chunk[:, -1]).cpu())
            nll.append(F.cross_entropy(logits, chunk[:, -1], reduction="none").double().cpu())
        correct, nll = torch.cat(correct).double(), torch.cat(nll)
        n = len(examples)
        accuracy, loss = float(correct.mean()), float(nll.mean())
        if not math.isfinite(loss):
            raise FloatingPointError(f"non-finite target NLL at L={length}")
        chances = [generator.baselines(example) for example in examples]
        baselines = {name: sum(c[name] for c in chances) / n for name in chances[0]}
        return [
            binomial("accuracy", accuracy, n),
            Metric("loss", loss, float(nll.std(correction=1)) / math.sqrt(n) if n > 1 else None, n,
                   stderr_method="per_example"),
            *(binomial(name, value, n) for name, value in baselines.items()),
        ]


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
    times (:func:`multi_query`) with the loss on every target: ``queries`` supervised
    tokens per string instead of one, the string read once. The first query of a row is a
    single-query example as tested.
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
        kinds = list(self.generators.values())
        self.check_fits(length, "recipe")
        rng = random.Random(int(torch.randint(0, 2**62, (1,), generator=generator)))
        rows = [multi_query(rng.choice(kinds).draw_queries(rng, self.split, self.queries)) for _ in range(batch_size)]
        ids = encode_padded(self.tokenizer, [text for text, _ in rows], length)
        labels = torch.full_like(ids, -100)
        for i, (text, targets) in enumerate(rows):
            at = torch.tensor(targets) + (length - len(text))
            labels[i, at] = ids[i, at]
        return ids, labels
