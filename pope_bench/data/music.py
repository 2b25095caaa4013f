"""The music domain (paper §3.2): Bach's chorales in the JSB raster, and its pitch tokens.

Corpus ``jsb``: the four-part chorales of music21's corpus (PyPI ``music21==10.5.1``,
``corpus.chorales.Iterator()``, Riemenschneider order), the offline stand-in for JSB
Chorales. The catalogue's 371 numbers name 350 distinct files (some chorales are listed
twice); those with exactly four parts (331, all in S, A, T, B order) are kept, each once,
under its first number, less two whose raster repeats an earlier one's (BWV 274 = 62.6,
69.6 = 69.6-a): 329 chorales. The raster is JSB's: quantised to 16th notes, 4 voices, one MIDI
pitch per voice per step (a held note repeats, a rest is its own symbol), time-major —
each step emits soprano, alto, tenor, bass. Chorales whose Riemenschneider number is a
multiple of 10 are the test split (34), the rest train (295).

A split is one document: its chorales in catalogue order, joined by the end-of-chorale
token. Single chorales are 96–772 steps (≈ 850 tokens on average), shorter than the 10×
lengths a length sweep reaches, and a training window runs across chorale ends too, so
the scored stream is the one a model trains on.

Text form (what ``Document.text`` holds and the ``jsb`` tokenizer reads): a step is its
four symbols — MIDI numbers, ``R`` for a rest — joined by spaces, steps by newlines,
chorales by a blank line. The ``jsb`` vocabulary (90, the paper's "~90"): the 88 piano
pitches MIDI 21–108 (ids 0–87), rest (88), end of chorale (89).

Parsing the scores takes about 30 s, so the rasters are converted once and cached under
the user cache, keyed by music21's version and checked against a pinned sha256: a corpus
that fails it (a corrupted cache, another music21's conversion) is refused.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cache

from pope_bench.core.errors import BadInput
from pope_bench.data.corpora import Document
from pope_bench.data.packages import cache_dir, sha256_of

MUSIC21_VERSION = "10.5.1"
RASTERS_SHA256 = "ec249a47a2c9c7756076749f0b35f0ae082088470f7da9f86fdb3d912fd66ae6"
STEPS_PER_QUARTER = 4  # 16th notes
VOICES = ("soprano", "alto", "tenor", "bass")
LOWEST, HIGHEST = 21, 108  # the piano's range in MIDI numbers
TEST_EVERY = 10


@dataclass(frozen=True)
class Chorale:
    name: str  # the corpus file, e.g. "bach/bwv269"
    number: int  # Riemenschneider number
    split: str
    steps: list  # one [S, A, T, B] per 16th note: MIDI numbers, None for a rest


def raster(score) -> list[list[int | None]]:
    """The time-major 16th-note grid of a four-part music21 score. A note covers the steps
    from its rounded onset to its rounded end (a note shorter than a 16th that rounds to
    nothing, like a grace note, vanishes); a chord would count as its top pitch."""
    grid = [[None] * len(score.parts) for _ in range(round(score.highestTime * STEPS_PER_QUARTER))]
    for voice, part in enumerate(score.parts):
        for note in part.flatten().notes:
            start = round(note.offset * STEPS_PER_QUARTER)
            end = round((note.offset + note.quarterLength) * STEPS_PER_QUARTER)
            for step in range(start, end):
                grid[step][voice] = max(p.midi for p in note.pitches)
    return grid


def _convert() -> list[dict]:
    try:
        import music21
        from music21 import corpus
    except ImportError:
        raise BadInput(
            f"corpus jsb needs music21 to convert the chorales once: pip install 'pope-bench[music]' "
            f"(music21=={MUSIC21_VERSION})"
        ) from None
    from rich.console import Console
    from rich.progress import track

    numbers = corpus.chorales.Iterator().numberList
    files = corpus.chorales.Iterator(returnType="filename")
    first: dict[str, int] = {}
    for number, name in zip(numbers, files):
        first.setdefault(name, number)
    chorales, seen = [], set()
    console = Console(stderr=True)
    for name, number in track(first.items(), description=f"converting Bach chorales (music21 {music21.__version__})",
                              console=console):
        score = corpus.parse(name)
        if len(score.parts) != len(VOICES):
            continue
        steps = raster(score)
        if json.dumps(steps) in seen:  # the same music under another catalogue entry
            continue
        seen.add(json.dumps(steps))
        split = "test" if number % TEST_EVERY == 0 else "train"
        chorales.append({"name": name, "number": number, "split": split, "steps": steps})
    return chorales


@cache
def chorales() -> tuple[Chorale, ...]:
    """Every kept chorale, from the verified cache (converted first if absent)."""
    path = cache_dir() / "corpora" / f"jsb-music21-{MUSIC21_VERSION}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = path.with_suffix(f".{os.getpid()}.tmp")
        fresh.write_text(json.dumps(_convert(), separators=(",", ":")))
        if sha256_of(fresh) != RASTERS_SHA256:
            fresh.unlink()
            raise BadInput(
                f"the converted chorales differ from pope-bench's pinned jsb corpus (made with "
                f"music21=={MUSIC21_VERSION}); install that version: pip install 'music21=={MUSIC21_VERSION}'"
            )
        os.replace(fresh, path)
    digest = sha256_of(path)
    if digest != RASTERS_SHA256:
        raise BadInput(
            f"{path} fails its checksum (sha256 {digest[:12]}…, expected {RASTERS_SHA256[:12]}…); "
            "delete it and rerun to convert the chorales again"
        )
    return tuple(Chorale(**c) for c in json.loads(path.read_text()))


def chorale_text(steps) -> str:
    return "\n".join(" ".join("R" if p is None else str(p) for p in step) for step in steps)


def jsb_documents(split: str) -> list[Document]:
    if split not in ("train", "test"):
        raise BadInput(f"corpus jsb has splits train and test, not {split!r}")
    chosen = [c for c in chorales() if c.split == split]
    text = "\n\n".join(chorale_text(c.steps) for c in chosen)
    return [Document(f"jsb-{split} ({len(chosen)} chorales)", text, split)]


class JsbTokenizer:
    """JSB pitch tokens over the text form above; anything else is refused, not mapped to UNK."""

    name = "jsb"
    rest = HIGHEST - LOWEST + 1
    end = rest + 1
    vocab_size = end + 1

    def encode(self, text: str) -> list[int]:
        ids = []
        for match in re.finditer(r"\n[^\S\n]*\n\s*|\S+", text):
            symbol = match.group()
            if symbol[0] == "\n":
                ids.append(self.end)
            elif symbol == "R":
                ids.append(self.rest)
            elif symbol.isdigit() and LOWEST <= int(symbol) <= HIGHEST:
                ids.append(int(symbol) - LOWEST)
            else:
                raise BadInput(f"{symbol!r} is not a symbol of the 'jsb' vocabulary (MIDI {LOWEST}-{HIGHEST}, R)")
        return ids

    def decode(self, ids) -> str:
        parts, step = [], 0
        for i in map(int, ids):
            if i == self.end:
                parts.append("\n\n")
                step = 0
                continue
            if step:
                parts.append("\n" if step % len(VOICES) == 0 else " ")
            parts.append("R" if i == self.rest else str(i + LOWEST))
            step += 1
        return "".join(parts)
