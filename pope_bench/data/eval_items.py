"""What every zero-shot evaluation set is made of, real or generated: items and the set.

Its own module so the generated sets (:mod:`pope_bench.data.cloze_gen`,
:mod:`pope_bench.data.minimal_pairs_gen`) and the loaders in :mod:`pope_bench.data.eval_sets`
share the types without importing each other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Item:
    """One example: the model reads ``context``, then each of ``choices`` joined to it by
    ``delimiter`` (lm-eval's ``target_delimiter``); ``gold`` indexes the right choice and
    ``group`` names the paradigm or sub-task the example belongs to."""

    context: str
    choices: tuple[str, ...]
    gold: int = 0
    delimiter: str = " "
    group: str = ""


@dataclass(frozen=True)
class EvalSet:
    name: str
    items: list[Item]
    source: str

    def checksum(self) -> str:
        payload = json.dumps([asdict(item) for item in self.items], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def interleave_groups(items: list[Item]) -> list[Item]:
    """Round-robin over groups, so any prefix (``--limit``) covers every group evenly."""
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(item.group, []).append(item)
    out = []
    for i in range(max((len(g) for g in groups.values()), default=0)):
        out += [g[i] for g in groups.values() if i < len(g)]
    return out
