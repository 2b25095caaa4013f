"""How the rows of several seeds and checkpoints become one number and an honest ±.

Two kinds of seed exist and they mean different things. A training seed is a different
checkpoint of the same recipe (the registry's ``seed``, grouped by its ``group``): the
spread over them is what the paper's "± over 3 seeds" means. A test seed (``--seed``) is a
re-draw of the test examples (windows, items) for one checkpoint: its spread says how
much the test sample moves the number, not how much training does — already what each
row's stderr estimates, so re-draws combine their stderrs (:func:`~pope_bench.report.errorbars.combine`,
the one meaning of ± every reader shares) rather than a std over two or three draws.
Figures use :func:`spread`, which takes the training-seed spread when it exists and says
which it took.
"""

from __future__ import annotations

import math

import pandas as pd

from pope_bench.report.errorbars import combine


def unit(rows: pd.DataFrame) -> pd.Series:
    """What one line or table row stands for: the registry group of checkpoints of one
    recipe trained with different seeds, else the model itself — or, where an older folder
    mixes settings ids for it, the model at one id (``series``: never averaged across ids)."""
    model = rows["series"] if "series" in rows else rows["model"]
    if "group" not in rows:
        return model
    mixed = model != rows["model"]
    return rows["group"].where(rows["group"].notna() & ~mixed, model)


def spread(rows: pd.DataFrame, by) -> pd.DataFrame:
    """Mean and spread of ``value`` per ``by`` (a column name) for one unit's rows: each
    checkpoint's mean over test seeds, then the mean and std over the unit's checkpoints
    (training seeds); with one checkpoint, the rows' stderr, combined over test seeds
    (re-draws of the test examples, √Σse²/k). Columns mean, std, what (the ±'s meaning in
    words)."""
    records = []
    for key, part in rows.groupby(by, sort=True):
        per_model = part.groupby("model")["value"].mean()
        seeds = part["seed"].nunique()
        if len(per_model) > 1:
            std, what = per_model.std(ddof=1), f"std over {len(per_model)} training seeds"
        else:
            std = combine(part.groupby("seed")["stderr"].first())
            methods = part["stderr_method"].dropna().unique() if "stderr_method" in part else []
            what = "" if math.isnan(std) else "stderr" + (f" ({', '.join(sorted(methods))})" if len(methods) else "")
            what += f", {seeds} test seeds combined" if what and seeds > 1 else ""
        records.append({by: key, "mean": float(per_model.mean()), "std": std, "what": what})
    return pd.DataFrame(records, columns=[by, "mean", "std", "what"])
