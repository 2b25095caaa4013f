"""``pope-bench train``: recipes (``recipes/*.yaml``), batch sources, the trainer and its
resumable state.

Layer rule: ``training`` may import ``core``, ``data``, ``encodings``, ``models`` and ``tasks``
(the indexing tasks supply its batches); never ``sweep`` or ``report``.
"""
