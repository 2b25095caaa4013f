"""A sweep: the lengths grammar, suites, planning cells, shards, executors (local, Ray), the
tidy results folder, its manifest and progress.

Layer rule: ``sweep`` may import every layer below it (``core``, ``data``, ``encodings``,
``models``, ``tasks``, ``training``); never ``report``.
"""
