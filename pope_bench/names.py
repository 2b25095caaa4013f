"""The names registries and recipes accept: positional encodings and eval-time RoPE
scaling rules (PI = ``linear``, NTK, YaRN, dynamic NTK).

Kept apart from :mod:`pope_bench.encodings`, which implements them with torch, so that
reading a registry (``pope-bench list models``, every input check) never imports torch.
"""

ENCODINGS = ("rope", "pope", "nope")
SCALING_TYPES = ("linear", "ntk", "yarn", "dynamic")
