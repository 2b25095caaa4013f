"""The diagnostic indexing tasks (paper §3.1); the batch source that trains on them is
:class:`pope_bench.tasks.indexing_rows.IndexingMixture`.

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
from dataclasses import dataclass, replace
from typing import ClassVar, Literal

from pydantic import NonNegativeInt, PositiveInt, model_validator

from pope_bench.core.errors import BadInput
from pope_bench.core.lazy_torch import lazy_module, no_grad
from pope_bench.data.tokenizers import LETTERS, encode_text, get_tokenizer
from pope_bench.tasks.base import (
    Metric,
    TaskParams,
    TaskType,
    binomial,
    lower_better,
    proportion,
)

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
    return SPLITS[split_bits([text.encode()])[0]]


def split_bits(texts: list[bytes]) -> list[int]:
    """1 for each example text (ASCII) in the test split, else 0: the one split rule."""
    blake2b = hashlib.blake2b
    return [blake2b(text, digest_size=8).digest()[-1] & 1 for text in texts]


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
        """A fresh string (and its unique source or key), for :meth:`ask`."""
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

    def ask(self, rng: random.Random, state) -> Example:
        """The query on the string ``state`` about its own unique source (or key)."""
        raise NotImplementedError

    def sample(self, rng: random.Random) -> Example:
        return self.ask(rng, self.new_string(rng))

    def draw(self, rng: random.Random, split: str) -> Example:
        while True:
            example = self.sample(rng)
            if split_of(example.text) == split:
                return example

    def test_split(self, count: int, seed: int) -> list[Example]:
        """The fixed test examples at this size; a smaller count is a prefix of a larger."""
        rng = random.Random(f"pope-bench/indexing/{self.kind}/{self.string_length}/{self.max_shift}/seed={seed}")
        return [self.draw(rng, "test") for _ in range(count)]

    def longest_queries(self, count: int) -> int:
        """Tokens in the longest training row of ``count`` queries (:class:`IndexingMixture`)."""
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

    def ask(self, rng, state):
        letters, source = state
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

    def ask(self, rng, letters):
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

    def ask(self, rng, state):
        pairs, key = state
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


@dataclass
class PaddedTestSplit:
    """An indexing cell's inputs: the generator at the cell's length (for the baselines),
    its test examples and their token ids, each row left-padded to ``length``."""

    length: int
    generator: Generator
    examples: list[Example]
    ids: torch.Tensor


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
        self.tokenizer = get_tokenizer(self.params.tokenizer)
        missing = sorted({c for c in CHARACTERS if not _covers(self.tokenizer, c)})
        if missing:
            raise BadInput(f"{where}: tokenizer {self.tokenizer.name!r} lacks {''.join(missing)!r}; "
                           "use tokenizer chars")

    def check_model(self, lm) -> None:
        if lm.vocab_size < self.tokenizer.vocab_size:
            raise BadInput(f"{lm.entry.name!r} has {lm.vocab_size} output tokens but task {self.name!r} uses the "
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
        text = "\n".join(e.text for e in self.generator.test_split(self.params.examples, seed=0))
        return {f"{self.name}@1x/seed0": hashlib.sha256(text.encode()).hexdigest()}

    def estimated_tokens(self, length, limit):
        """Every test example is left-padded to L tokens."""
        return min(self.params.examples, limit or self.params.examples) * length

    def examples(self, lm, length, seed, limit) -> PaddedTestSplit:
        generator = self.generator_at(length, lm.entry.train_length)
        drawn = generator.test_split(min(self.params.examples, limit or self.params.examples), seed)
        return PaddedTestSplit(length, generator, drawn, encode_padded(lm.tokenizer, [e.text for e in drawn], length))

    @no_grad
    def score(self, lm, examples: PaddedTestSplit, batch_size):
        correct, nll = [], []
        for chunk in examples.ids.split(batch_size):
            chunk = chunk.to(lm.device)
            # the logits at L − 2 predict the target at L − 1
            logits = lm.model(chunk[:, :-1], use_cache=False, logits_to_keep=1).logits[:, -1].float()
            correct.append((logits.argmax(-1) == chunk[:, -1]).cpu())
            nll.append(F.cross_entropy(logits, chunk[:, -1], reduction="none").double().cpu())
        correct, nll = torch.cat(correct).double(), torch.cat(nll)
        n = len(examples.examples)
        accuracy, loss = float(correct.mean()), float(nll.mean())
        if not math.isfinite(loss):
            raise FloatingPointError(f"non-finite target NLL at L={examples.length}")
        chances = [examples.generator.baselines(example) for example in examples.examples]
        baselines = {name: sum(c[name] for c in chances) / n for name in chances[0]}
        return [
            binomial("accuracy", accuracy, n),
            Metric("loss", loss, float(nll.std(correction=1)) / math.sqrt(n) if n > 1 else None, n,
                   stderr_method="per_example"),
            *(binomial(name, value, n) for name, value in baselines.items()),
        ]
