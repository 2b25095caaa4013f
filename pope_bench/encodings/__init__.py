"""Positional encodings, one module each, found by name through :mod:`.registry`
(built-ins: the modules of this package; plugins: the ``pope_bench.encodings`` entry point).

Layer rule: ``encodings`` may import ``core`` only."""

from __future__ import annotations

from pope_bench.encodings.base import (
    FrequencyFields,
    NoFields,
    PositionalEncoding,
    RotaryFrequencies,
)
from pope_bench.encodings.frequencies import SCALING_TYPES, Scaling
from pope_bench.encodings.nope import NoPE
from pope_bench.encodings.pope import DELTA_INITS, PoPE
from pope_bench.encodings.registry import (
    ENTRY_POINT_GROUP,
    appearance,
    build_encoding,
    check_scaling,
    encodings,
    field_owners,
    get_encoding,
    origin,
    parse_fields,
    register_encoding,
    reload,
)
from pope_bench.encodings.rope import RoPE

__all__ = [
    "DELTA_INITS",
    "ENTRY_POINT_GROUP",
    "SCALING_TYPES",
    "FrequencyFields",
    "NoFields",
    "NoPE",
    "PoPE",
    "PositionalEncoding",
    "RoPE",
    "RotaryFrequencies",
    "Scaling",
    "appearance",
    "build_encoding",
    "check_scaling",
    "encodings",
    "field_owners",
    "get_encoding",
    "origin",
    "parse_fields",
    "reload",
    "register_encoding",
]
