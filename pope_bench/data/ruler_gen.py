"""Building RULER examples (Hsieh et al. 2024, NVIDIA/RULER ``scripts/data/synthetic``) in
a model's own tokens: templates, needles, haystacks and the fit to an exact length.

Every example is a token sequence ``prompt`` of exactly ``L − tokens_to_generate`` tokens
(RULER's ``max_seq_length`` counts the generated tokens too), plus the gold ``answers``.
Where the prompt is a haystack with needles (niah, vt) the fit is exact: the pieces —
template head, haystack units, needles, question + answer prefix — are encoded separately
(as :mod:`pope_bench.tasks.passkey` does) and the haystack stream is cut to the tokens left,
so every model with one tokenizer sees one sequence. Where the whole context is a list
(cwe, fwe) the word count is found by RULER's binary search: the largest that fits, so the
prompt falls short of the target by less than one list entry.

The random draws (keys, values, words, depths, haystack offset) come from a
``random.Random`` seeded by the task, seed, length and example index only, never from the
tokenizer: two models with one tokenizer get identical examples.

Departures from RULER, each said in the task files' descriptions:

* the "essay" haystack is held-out King James Bible text (the books of
  ``documents("kjv", "test")``, which no bundled model trained on; bracketed italics and
  inline verse numbers removed), sentence-split by a regex (nltk's ``sent_tokenize`` needs
  nltk_data, which is not reachable offline), starting at a random sentence — not Paul
  Graham's essays;
* single-needle depths are spread evenly over the examples (0 to 1); several needles take
  RULER's 40-point depth grid, sampled;
* vt's in-context example is RULER's (≤ 500 tokens), capped at half of L so that short
  lengths keep room for the task itself.
"""

from __future__ import annotations

import math
import random
import re
import string
import uuid
from dataclasses import dataclass, field
from functools import cache, cached_property

from pope_bench.core.errors import BadInput
from pope_bench.data.corpora import documents
from pope_bench.data.tokenizers import encode_text

#: RULER's repeated "noise" haystack sentence
NOISE = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
NEEDLE = "One of the special magic {type_needle_v} for {key} is: {value}."
#: RULER's 40 needle depths (percent)
DEPTHS = [round(100 * i / 39) for i in range(40)]

#: RULER scripts/data/synthetic/constants.py: template, answer prefix, tokens to generate
TEMPLATES = {
    "niah": (
        "Some special magic {type_needle_v} are hidden within the following text. Make sure to memorize it. "
        "I will quiz you about the {type_needle_v} afterwards.\n{context}\n"
        "What are all the special magic {type_needle_v} for {query} mentioned in the provided text?",
        " The special magic {type_needle_v} for {query} mentioned in the provided text are",
        128,
    ),
    "vt": (
        "Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n{context}\n"
        "Question: Find all variables that are assigned the value {query} in the text above.",
        " Answer: According to the chain(s) of variable assignment in the text above, {num_v} variables are "
        "assigned the value {query}, they are: ",
        30,
    ),
    "cwe": (
        "Below is a numbered list of words. In these words, some appear more often than others. "
        "Memorize the ones that appear most often.\n{context}\nQuestion: What are the 10 most common words in "
        "the above list?",
        " Answer: The top 10 words that appear most often in the list are:",
        120,
    ),
    "fwe": (
        "Read the following coded text and track the frequency of each coded word. Find the three most "
        "frequently appeared coded words. {context}\nQuestion: Do not provide any explanation. Please ignore "
        "the dots '....'. What are the three most frequently appeared words in the above coded text?",
        " Answer: According to the coded text above, the three most frequently appeared words are:",
        50,
    ),
}

HAYSTACKS = ("noise", "essay", "needle")
NEEDLE_TYPES = ("words", "numbers", "uuids")


@dataclass
class Built:
    """One example: ``prompt`` token ids, the gold ``answers`` and where each needle
    (or vt statement) starts in the prompt with the depth it was meant for."""

    prompt: list[int]
    answers: list[str]
    needles: list[tuple[int, float]] = field(default_factory=list)


# ---- words -------------------------------------------------------------------------------------


@cache
def wonderwords_lists() -> tuple[list[str], list[str], list[str]]:
    """RULER's word source, the lists of PyPI ``wonderwords`` (nouns, adjectives, verbs)."""
    from wonderwords import random_word

    return tuple(random_word._get_words_from_text_file(f"{kind}list.txt") for kind in ("noun", "adjective", "verb"))


@cache
def common_words() -> list[str]:
    nouns, adjs, verbs = wonderwords_lists()
    return sorted(set(nouns + adjs + verbs))


def random_value(kind: str, rng: random.Random) -> str:
    """A needle key or value: an adjective-noun pair, a 7-digit number or a UUID (RULER)."""
    if kind == "words":
        nouns, adjs, _ = wonderwords_lists()
        return f"{rng.choice(adjs)}-{rng.choice(nouns)}"
    if kind == "numbers":
        return str(rng.randint(10**6, 10**7 - 1))
    if kind == "uuids":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    raise BadInput(f"unknown needle type {kind!r}; use one of {', '.join(NEEDLE_TYPES)}")


def needle_depths(count: int, index: int, total: int, rng: random.Random) -> list[float]:
    """One needle: spread evenly over the examples; several: RULER's depth grid, sampled."""
    if count == 1:
        return [index / (total - 1) if total > 1 else 0.5]
    return sorted(d / 100 for d in rng.sample(DEPTHS, count))


# ---- haystacks ---------------------------------------------------------------------------------


def encode_many(tokenizer, texts: list[str]) -> list[list[int]]:
    if hasattr(tokenizer, "backend_tokenizer"):
        return tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []
    return [encode_text(tokenizer, t) for t in texts]


def held_out_sentences() -> list[str]:
    """The held-out KJV books as clauses (split after . ; : ! ?: KJV sentences run to whole
    verses), italics brackets and verse numbers removed."""
    sentences = []
    for doc in documents("kjv", "test"):
        text = re.sub(r"\d+\.\(", "(", doc.text).replace("[", "").replace("]", "")
        sentences += [s for s in re.split(r"(?<=[.;:!?])\s+", " ".join(text.split())) if s]
    return sentences


class Haystacks:
    """The haystack units of one tokenizer, encoded once: ``noise`` (RULER's sentence) and
    ``essay`` (held-out KJV sentences); ``needle`` haystacks are drawn per example."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    @cached_property
    def noise(self) -> list[int]:
        return encode_text(self.tokenizer, "\n" + NOISE)

    @cached_property
    def essay(self) -> list[list[int]]:
        return encode_many(self.tokenizer, [" " + s for s in held_out_sentences()])

    def units(self, kind: str, room: int, rng: random.Random, distractor=None) -> list[list[int]]:
        """Encoded units, at least ``room`` tokens of them, in order."""
        out, total = [], 0
        if kind == "essay":
            sentences = self.essay
            at = rng.randrange(len(sentences))
        while total < room:
            if kind == "noise":
                unit = self.noise
            elif kind == "essay":
                unit, at = sentences[at], (at + 1) % len(sentences)
            elif kind == "needle":
                unit = encode_text(self.tokenizer, "\n" + distractor(rng))
            else:
                raise BadInput(f"unknown haystack {kind!r}; use one of {', '.join(HAYSTACKS)}")
            out.append(unit)
            total += len(unit)
        return out


def fit_haystack(units: list[list[int]], room: int, needles: list[list[int]], depths: list[float],
                 what: str, length: int) -> tuple[list[int], list[int]]:
    """The haystack cut to ``room`` tokens with each needle at the unit boundary nearest its
    depth; returns (context tokens, start of each needle in them)."""
    stream, starts = [], [0]
    for unit in units:
        stream += unit
        starts.append(len(stream))
    stream = stream[:room]
    bounds = sorted({min(s, room) for s in starts})
    if len(bounds) - 1 < len(needles):
        missing = math.ceil((len(needles) - len(bounds) + 1) * len(stream) / max(1, len(bounds) - 1))
        raise TooShort(f"{what}: {len(needles)} needles need a haystack of as many units, and L={length} leaves "
                       f"room for {len(bounds) - 1}; raise the length (to about {length + missing}) or lower the "
                       "needle counts", length + missing)
    at = [min(bounds, key=lambda b: (abs(b - d * room), b)) for d in depths]
    context, where, last = [], [0] * len(needles), 0
    for i in sorted(range(len(needles)), key=lambda i: at[i]):
        context += stream[last:at[i]]
        last = at[i]
        where[i] = len(context)
        context += needles[i]
    return context + stream[last:], where


# ---- the prompt frame --------------------------------------------------------------------------


class Frame:
    """Template text → the tokens before and after ``{context}``, optionally inside the
    tokenizer's chat template (RULER's model templates: the answer prefix follows the
    assistant turn's opening)."""

    def __init__(self, tokenizer, chat: bool, what: str):
        self.tokenizer, self.chat = tokenizer, chat
        if chat and not getattr(tokenizer, "chat_template", None):
            raise BadInput(f"{what}: chat_template: true, but this model's tokenizer has no chat template; "
                           "drop chat_template (base-model prompt) or use an instruct model")

    def parts(self, body: str, answer_prefix: str) -> tuple[list[int], list[int]]:
        """(tokens before, tokens after) the ``{context}`` of ``body``."""
        head, _, tail = body.partition("{context}")
        if self.chat:
            marker = "\x00CONTEXT\x00"
            text = self.tokenizer.apply_chat_template([{"role": "user", "content": head + marker + tail}],
                                                      tokenize=False, add_generation_prompt=True)
            head, _, tail = text.partition(marker)
        return encode_text(self.tokenizer, head), encode_text(self.tokenizer, tail + answer_prefix)


class TooShort(BadInput):
    """A length below what an example needs (``need`` tokens)."""

    def __init__(self, message: str, need: int):
        super().__init__(message)
        self.need = need


def too_short(what: str, length: int, need: int) -> TooShort:
    return TooShort(f"{what} needs L ≥ {need} tokens for its template, needles and answer with this tokenizer; "
                    f"L={length} is too short", need)


# ---- the task families -------------------------------------------------------------------------


def singular(text: str) -> str:
    for plural, one in (("Some", "A"), ("are all", "is"), ("are", "is"), ("answers", "answer")):
        text = text.replace(plural, one)
    return text


def build_niah(spec, tokenizer, frame: Frame, haystacks: Haystacks, length: int, budget: int,
               index: int, total: int, rng: random.Random, what: str) -> Built:
    """RULER niah.py: ``num_needle_k`` keys with ``num_needle_v`` values each, the needles
    shuffled into the haystack, ``num_needle_q`` keys asked (``spec``: a task's params with
    RULER's argument names, ``type_haystack``, ``type_needle_k`` … ``num_needle_q``)."""
    type_v = spec.type_needle_v
    keys = [random_value(spec.type_needle_k, rng) for _ in range(max(spec.num_needle_k, spec.num_needle_q))]
    values = [[random_value(type_v, rng) for _ in range(spec.num_needle_v)] for _ in keys]
    texts = [NEEDLE.format(type_needle_v=type_v, key=k, value=v) for k, vs in zip(keys, values) for v in vs]
    rng.shuffle(texts)
    asked = rng.sample(range(len(keys)), spec.num_needle_q)
    queries = [keys[i] for i in asked]
    query = ", ".join(queries[:-1]) + ", and " + queries[-1] if len(queries) > 1 else queries[0]
    template, prefix, _ = TEMPLATES["niah"]
    if spec.num_needle_q * spec.num_needle_v == 1:  # RULER's singular wording
        template, prefix, type_v = singular(template), singular(prefix), type_v[:-1]
    body = template.format(type_needle_v=type_v, query=query, context="{context}")
    before, after = frame.parts(body.replace("\n{context}", "{context}"), prefix.format(type_needle_v=type_v, query=query))
    sep = "\n"  # line haystacks: each needle is a line; in prose, a sentence
    if spec.type_haystack == "essay":
        sep, before = " ", before + encode_text(tokenizer, "\n")
    needles = [encode_text(tokenizer, sep + t) for t in texts]
    depths = needle_depths(len(needles), index, total, rng)
    room = length - budget - len(before) - len(after) - sum(map(len, needles))
    if room < len(needles):
        raise too_short(what, length, length - room + len(needles))

    def distractor(r):
        return NEEDLE.format(type_needle_v=spec.type_needle_v, key=random_value(spec.type_needle_k, r),
                             value=random_value(spec.type_needle_v, r))

    units = haystacks.units(spec.type_haystack, room, rng, distractor)
    context, where = fit_haystack(units, room, needles, depths, what, length)
    answers = [v for i in asked for v in values[i]]
    return Built(before + context + after, answers, [(len(before) + w, d) for w, d in zip(where, depths)])


def variable_chains(num_chains: int, num_hops: int, letters: int, rng: random.Random, value: int | None = None):
    """RULER's chains: ``VAR A = 12345``, then ``VAR B = VAR A`` for each hop; distinct names."""
    names: list[str] = []
    while len(names) < num_chains * (num_hops + 1):
        name = "".join(rng.choices(string.ascii_uppercase, k=letters))
        if name not in names:
            names.append(name)
    chains, groups = [], []
    for c in range(num_chains):
        group = names[c * (num_hops + 1):(c + 1) * (num_hops + 1)]
        start = value if value is not None else rng.randint(10000, 99999)
        chains.append([f"VAR {group[0]} = {start}"] + [f"VAR {group[j + 1]} = VAR {group[j]} " for j in range(num_hops)])
        groups.append(group)
    return groups, chains


def build_vt_prompt(tokenizer, frame: Frame, haystacks: Haystacks, target: int, num_chains: int, num_hops: int,
                    letters: int, rng: random.Random, what: str, lead: list[int] = ()) -> Built:
    """RULER variable_tracking.py on the noise haystack: each chain's statements at sorted
    random positions, in order; the answer is the first chain's variables."""
    groups, chains = variable_chains(num_chains, num_hops, letters, rng)
    value = chains[0][0].split("=")[-1].strip()
    template, prefix, _ = TEMPLATES["vt"]
    before, after = frame.parts(template.format(context="{context}", query=value).replace("\n{context}", "{context}"),
                                prefix.format(num_v=num_hops + 1, query=value))
    before = list(lead) + before
    statements = [encode_text(tokenizer, "\n" + s) for chain in chains for s in chain]
    room = target - len(before) - len(after) - sum(map(len, statements))
    if room < len(statements):
        raise too_short(what, target, target - room + len(statements))
    depths = []
    for chain in chains:
        depths += sorted(d / 100 for d in rng.sample(DEPTHS, len(chain)))
    units = haystacks.units("noise", room, rng)
    context, where = fit_haystack(units, room, statements, depths, what, target)
    return Built(before + context + after, groups[0], [(len(before) + w, d) for w, d in zip(where, depths)])


def build_vt(tokenizer, frame: Frame, haystacks: Haystacks, length: int, budget: int, num_chains: int,
             num_hops: int, icl_tokens: int, rng: random.Random, what: str) -> Built:
    """With RULER's one in-context example (3-letter names, its answer written out) first."""
    lead: list[int] = []
    if icl_tokens:
        target, state = min(icl_tokens, length // 2), rng.getstate()
        for _ in range(4):  # a target too small for the example's own template grows to what it needs
            try:
                shot = build_vt_prompt(tokenizer, frame, haystacks, target, num_chains, num_hops, 3, rng, what)
                break
            except TooShort as e:
                if e.need > length // 2:
                    raise too_short(what + " (with its in-context example of at most L/2 tokens)", length,
                                    2 * e.need) from None
                target = e.need
                rng.setstate(state)
        else:
            raise too_short(what, length, 2 * length)
        lead = shot.prompt + encode_text(tokenizer, " " + " ".join(shot.answers) + "\n")
    return build_vt_prompt(tokenizer, frame, haystacks, length - budget, num_chains, num_hops, 5, rng, what, lead)


def largest_fitting(build, low: int, high: int, target: int, what: str, length: int):
    """RULER's binary search: the example of the largest size in [low, high] whose prompt
    has at most ``target`` tokens."""
    best, smallest = None, low
    while low <= high:
        mid = (low + high) // 2
        built = build(mid)
        if len(built.prompt) <= target:
            best, low = built, mid + 1
        else:
            high = mid - 1
    if best is None:
        raise too_short(what, length, len(build(smallest).prompt) + (length - target))
    return best


def build_cwe(tokenizer, frame: Frame, length: int, budget: int, freq_cw: int, freq_ucw: int, num_cw: int,
              rng: random.Random, what: str) -> Built:
    """RULER common_words_extraction.py: a numbered list where ``num_cw`` words repeat
    ``freq_cw`` times and the others ``freq_ucw`` times, after one solved example. Below
    4k tokens RULER uses 6 / 1 repeats (and a 20-word example) instead."""
    words = common_words()
    pool = rng.sample(words, len(words))
    shot_words = rng.sample(words, 20 if length < 4096 else 40)
    shot_repeats = (3, 1) if length < 4096 else (10, 3)
    if length < 4096:
        freq_cw, freq_ucw = 6, 1
    template, prefix, _ = TEMPLATES["cwe"]
    order_seed = rng.getrandbits(64)

    def listing(chosen, common, uncommon):
        entries = chosen[:num_cw] * common + chosen[num_cw:] * uncommon
        random.Random(order_seed).shuffle(entries)
        return " ".join(f"{i + 1}. {w}" for i, w in enumerate(entries))

    numbered = " ".join(f"{i + 1}. {w}" for i, w in enumerate(shot_words[:num_cw]))
    shot = template.format(context=listing(shot_words, *shot_repeats)) + prefix + " " + numbered

    def build(n: int) -> Built:
        body = shot + "\n" + template.format(context=listing(pool[:n], freq_cw, freq_ucw))
        before, after = frame.parts(body, prefix)
        return Built(before + after, pool[:num_cw])

    return largest_fitting(build, num_cw, len(pool), length - budget, what, length)


def zeta(alpha: float, terms: int = 1000) -> float:
    """The Riemann zeta function ζ(α) for α > 1 (RULER: scipy's), by Euler–Maclaurin: the
    first ``terms`` terms, the tail's integral, and its first two correction terms."""
    n = terms
    head = math.fsum(k ** -alpha for k in range(1, n))
    return head + n ** (1 - alpha) / (alpha - 1) + n ** -alpha / 2 + alpha * n ** (-alpha - 1) / 12


def build_fwe(tokenizer, frame: Frame, length: int, budget: int, alpha: float, coded_wordlen: int,
              vocab_size: int | None, rng: random.Random, what: str) -> Built:
    """RULER freq_words_extraction.py: coded words with Zipf(α) counts, the most frequent
    one replaced by '...' (noise); the answer is ranks 2–4."""
    target = length - budget
    size = vocab_size or max(4, target // 50)
    vocab: set[str] = set()
    while len(vocab) < size:
        vocab.add("".join(rng.choices(string.ascii_lowercase, k=coded_wordlen)))
    vocab = sorted(vocab)
    rng.shuffle(vocab)
    vocab[0] = "..."
    order_seed = rng.getrandbits(64)
    template, prefix, _ = TEMPLATES["fwe"]
    norm = zeta(alpha)

    def build(n: int) -> Built:
        counts = [int(n * (k ** -alpha) / norm) for k in range(1, len(vocab) + 1)]
        words = [w for w, c in zip(vocab, counts) for _ in range(c)]
        random.Random(order_seed).shuffle(words)
        before, after = frame.parts(template.format(context=" ".join(words)), prefix)
        return Built(before + after, vocab[1:4])

    fewest = math.ceil(norm * 4**alpha)  # the 4th-ranked word (the last answer) appears once
    return largest_fitting(build, fewest, max(fewest, 4 * target), target, what, length)
