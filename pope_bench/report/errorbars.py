"""What a ± means, declared once for the summary, ``table``, ``plot`` and ``figures``.

By default a ± is one standard error of the row's own ``stderr_method`` (binomial,
per_example, window_clustered, window_bootstrap): ``--error stderr``. ``--error ci95``
widens it to a 95 % interval: Student's t with (clusters − 1) degrees of freedom when
the error rests on fewer than :data:`FEW` independent units (a 10× perplexity cell of
the default suite has 4 windows), else the normal 1.96. Several test seeds of one cell
combine as √Σse²/k (independent re-draws). Every legend and caption takes its words from
:func:`meaning`.
"""

from __future__ import annotations

import math

from pope_bench.core.errors import BadInput, closest

KINDS = {"stderr": "±1 standard error", "ci95": "95 % interval"}
DEFAULT = "stderr"
#: below this many independent units an interval uses Student's t, not the normal z
FEW = 30
#: Student's t 0.975 quantile for 1..29 degrees of freedom (any statistics table)
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise BadInput(f"--error {kind!r} is not one of {', '.join(KINDS)}{closest(kind, KINDS)}")
    return kind


def factor(kind: str, clusters: float | None = None) -> float:
    """What a standard error is multiplied by for a ± of ``kind``."""
    if kind == "stderr":
        return 1.0
    if clusters is not None and not math.isnan(clusters) and 1 < clusters < FEW:
        return T975[int(clusters) - 2]
    return 1.959963984540054


def combine(stderrs) -> float:
    """The standard error of the mean of k independent estimates: √Σse²/k (NaN if any is missing)."""
    values = [math.nan if s is None else float(s) for s in stderrs]
    if not values or any(math.isnan(s) for s in values):
        return math.nan
    return math.sqrt(sum(s * s for s in values)) / len(values)


def meaning(kind: str, methods=()) -> str:
    """The ± in words, with the stderr methods it rests on: ``±1 standard error
    (window_clustered)``."""
    methods = sorted({str(m) for m in methods if isinstance(m, str) and m})
    return KINDS[kind] + (f" ({', '.join(methods)})" if methods else "")
