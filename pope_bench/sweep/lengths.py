"""The ``--lengths`` grammar (docs/contracts.md), parsed once and resolved per model.

``k`` = 1024. ``1k..16k`` — powers of two from 1k to 16k (both ends must be such a
doubling chain); ``1k..10k:1k`` — arithmetic steps; ``1x..10x`` — integer multiples of each
model's ``train_length`` (``2x..8x:2x`` steps them); comma lists mix forms
(``256,512,1k,4x``). Multiples stay symbolic until a model is known, so one spec serves
models with different training lengths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pope_bench.core.errors import BadInput

_ABS = re.compile(r"^([0-9]{1,12})(k?)$", re.ASCII)
_MUL = re.compile(r"^([0-9]{1,12})x$", re.ASCII)
#: more lengths than any sweep needs; a spec past it is a typo (1..1000000:1), refused at once
MAX_LENGTHS = 1000


@dataclass(frozen=True)
class Length:
    """One requested length: absolute tokens, or a multiple of the model's train length."""

    value: int
    multiple: bool = False

    def resolve(self, train_length: int) -> int:
        return self.value * train_length if self.multiple else self.value


def _atom(text: str, spec: str) -> Length:
    text = text.strip().lower()
    if m := _ABS.match(text):
        value = int(m.group(1)) * (1024 if m.group(2) else 1)
        length = Length(value)
    elif m := _MUL.match(text):
        length = Length(int(m.group(1)), multiple=True)
    else:
        raise BadInput(
            f"--lengths {spec!r}: {text!r} is not a length; use tokens (512, 2k), multiples of the "
            "train length (4x), ranges (1k..16k, 1k..10k:1k, 1x..10x) or comma lists of them"
        )
    if length.value <= 0:
        raise BadInput(f"--lengths {spec!r}: {text!r} must be positive")
    return length


def _range(text: str, spec: str) -> list[Length]:
    ends, _, step_text = text.partition(":")
    lo_text, _, hi_text = ends.partition("..")
    lo, hi = _atom(lo_text, spec), _atom(hi_text, spec)
    if lo.multiple != hi.multiple:
        raise BadInput(f"--lengths {spec!r}: {text!r} mixes tokens and multiples; write 1k..4k or 1x..4x")
    if hi.value < lo.value:
        raise BadInput(f"--lengths {spec!r}: {text!r} is descending; write the smaller end first")
    if step_text:
        step = _atom(step_text, spec)
        if step.multiple != lo.multiple:
            raise BadInput(f"--lengths {spec!r}: the step in {text!r} must be in the same unit as its ends")
        values = _capped_range(lo.value, hi.value, step.value, spec)
    elif lo.multiple:
        values = _capped_range(lo.value, hi.value, 1, spec)
    else:
        values, v = [], lo.value
        while v <= hi.value:
            values.append(v)
            v *= 2
        if values[-1] != hi.value:
            raise BadInput(
                f"--lengths {spec!r}: {text!r} is not a doubling chain ({lo.value}·2ⁿ never hits {hi.value}); "
                f"add a step, e.g. {lo_text}..{hi_text}:{lo_text}"
            )
    return [Length(v, lo.multiple) for v in values]


def _capped_range(lo: int, hi: int, step: int, spec: str) -> list[int]:
    if (hi - lo) // step + 1 > MAX_LENGTHS:
        raise BadInput(f"--lengths {spec!r} asks for {(hi - lo) // step + 1:,} lengths; at most {MAX_LENGTHS} "
                       "are allowed: use a larger step")
    return list(range(lo, hi + 1, step))


def parse_lengths(spec: str) -> list[Length]:
    """All lengths of a spec, in the order given, duplicates removed."""
    if spec is None or not str(spec).strip():
        raise BadInput("--lengths is empty; give e.g. 1k..16k or 1x..10x")
    out: dict[Length, None] = {}  # ordered, with O(1) de-duplication
    for part in str(spec).split(","):
        part = part.strip()
        if not part:
            raise BadInput(f"--lengths {spec!r} has an empty item; remove the extra comma")
        items = _range(part, spec) if ".." in part else [_atom(part, spec)]
        out.update(dict.fromkeys(items))
        if len(out) > MAX_LENGTHS:
            raise BadInput(f"--lengths {spec!r} asks for more than {MAX_LENGTHS} lengths; use fewer")
    return list(out)


def resolve_lengths(lengths: list[Length], train_length: int, max_length: int, model: str) -> list[int]:
    """Token lengths for one model, ascending, each checked against the model's maximum."""
    resolved = sorted({x.resolve(train_length) for x in lengths})
    too_long = [n for n in resolved if n > max_length]
    if too_long:
        raise BadInput(
            f"length {too_long[0]} is above what {model} can take (max {max_length}); drop it from --lengths, "
            f"or raise the limit with `max_length: N` in {model}'s checkpoints.yaml entry"
        )
    return resolved
