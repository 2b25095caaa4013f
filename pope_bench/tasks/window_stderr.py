"""Standard errors of a ratio of sums over windows: the right unit for perplexity.

A perplexity cell scores the tokens of k sampled windows. Token losses inside one window
are correlated (they share a context and a stretch of text), so the per-token standard
error √(var/n) understates the error of the mean NLL; the window is the independent unit
(the windows are a seeded random sample). Every windowed metric is a ratio of per-window
sums, R = Σ y_w / Σ n_w — mean NLL (y = summed token NLL, n = scored tokens), bits per byte
(y = NLL / ln 2, n = bytes covered), a loss-by-position bin (y, n restricted to the bin) —
and gets one of two errors, named in each row's ``stderr_method``:

* ``window_clustered``: the cluster-robust (linearised ratio-estimator) error
  √(k/(k−1) · Σ (y_w − R n_w)²) / Σ n_w over the k windows that hold any of the ratio's
  tokens (Cochran, *Sampling Techniques*, §6.9; the finite-population correction is
  left out, which errs on the large side);
* ``window_bootstrap``: the standard deviation of R over ``resamples`` seeded resamples
  of the k windows with replacement.
"""

from __future__ import annotations

import math
import random

import numpy as np

METHODS = ("window_clustered", "window_bootstrap")


def ratio_stderr(y: np.ndarray, n: np.ndarray, method: str, resamples: int = 0, seed: str = "") -> np.ndarray:
    """The error of Σy/Σn for per-window sums ``y``, ``n`` of shape (k, …) — trailing axes
    are independent ratios (e.g. position bins). NaN where fewer than 2 windows count."""
    y, n = np.asarray(y, dtype=np.float64), np.asarray(n, dtype=np.float64)
    windows = (n > 0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "window_bootstrap":
            rng = np.random.default_rng(random.Random(seed).getrandbits(64))
            picks = rng.integers(0, len(y), size=(resamples, len(y)))
            error = np.nanstd(y[picks].sum(axis=1) / n[picks].sum(axis=1), axis=0, ddof=1)
        else:
            total = n.sum(axis=0)
            residual = ((y - y.sum(axis=0) / total * n) ** 2).sum(axis=0)
            error = np.sqrt(windows / (windows - 1) * residual) / total
    return np.where(windows > 1, error, math.nan)
