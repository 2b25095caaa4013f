"""The names of the eval-time RoPE scaling rules (PI = ``linear``, NTK, YaRN, dynamic NTK).

Kept apart from :mod:`pope_bench.encodings.frequencies`, which implements them with torch,
so that reading a registry (``pope-bench list models``, input checks) never imports torch.
"""

SCALING_TYPES = ("linear", "ntk", "yarn", "dynamic")
