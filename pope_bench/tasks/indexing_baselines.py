"""What an indexing accuracy has to beat: the exact expected accuracy of three answers that
need no indexing, on given examples (so on the very test split a model was scored on).

* ``baseline_uniform`` — a uniform letter of the answer alphabet (52 letters; 26 lower-case
  values for ``content``).
* ``baseline_window`` — a uniform letter among those the query could point at: for
  ``indirect`` the letters within ±max_shift of the source inside the string (the model
  found the source but not the shift), for ``position`` the max_shift + 1 letters at the
  named end (it knows the end, not the offset); ``content`` has no window.
* ``baseline_source`` — ``indirect`` only: answer the source letter itself (right iff the
  shift is +0), the cheapest content-only answer.

A model at one of these has learnt at most that much of the task; the paper's RoPE 11 % is
above all of them at 1×, PoPE's 95 % far above.
"""

from __future__ import annotations

from statistics import fmean

from .indexing import LOWER, Example, Generator


def baselines(generator: Generator, examples: list[Example]) -> dict[str, float]:
    """``{name: expected accuracy}`` over ``examples`` drawn from ``generator``."""
    kind = generator.kind
    out = {"baseline_uniform": 1 / (len(LOWER) if kind == "content" else len(generator.alphabet))}
    fields = [example.prompt.split(", ")[:-1] for example in examples]  # string, then the query's fields
    if kind == "indirect":
        windows = []
        for string, source, _ in fields:
            where = string.index(source)
            lo, hi = max(0, where - generator.max_shift), min(len(string) - 1, where + generator.max_shift)
            windows.append(1 / (hi - lo + 1))
        out["baseline_window"] = fmean(windows)
        out["baseline_source"] = fmean(float(int(shift) == 0) for _, _, shift in fields)
    elif kind == "position":
        out["baseline_window"] = fmean(1 / (min(generator.max_shift, len(string) - 1) + 1) for string, _ in fields)
    return out
