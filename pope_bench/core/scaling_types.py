"""The eval-time RoPE scaling rules registries accept (PI = ``linear``, NTK, YaRN, dynamic
NTK), kept apart from :mod:`pope_bench.encodings.frequencies`, which implements them with
torch, so that parsing a scaling rule imports nothing heavy. (Encoding names have one
owner, the encoding registry, since plugins add to them.)"""

SCALING_TYPES = ("linear", "ntk", "yarn", "dynamic")
