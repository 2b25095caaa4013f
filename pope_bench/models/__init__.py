"""Models: the checkpoint registry (``checkpoints.yaml``), hub ids, loading a registry entry
into a ready model (weights, tokenizer, device, dtype, scaling), weight placement, and the
native model itself (:mod:`.native`).

Layer rule: ``models`` may import ``core``, ``data`` and ``encodings``.
"""
