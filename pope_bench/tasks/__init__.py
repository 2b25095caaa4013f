"""Task types (the code that builds a task's examples and scores a model on them), the task
registry (built-in definitions in ``builtin/*.yaml``, ``--tasks-dir``, plugins) and the
scoring primitives they share.

Layer rule: ``tasks`` may import ``core``, ``data``, ``encodings`` and ``models``.
"""
