"""What a results folder shows: the end-of-run summary, metric-vs-length plots, model styles,
listings of the registries, training curves and the paper's figures (:mod:`.figures`).

Layer rule: ``report`` may import every layer (it reads rows; it never runs a model). Only
the command line (``pope_bench.cli``) sits above it.
"""
