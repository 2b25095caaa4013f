"""Positional encodings, one module each, found by name through :mod:`.registry`
(built-ins: the modules of this package; plugins: the ``pope_bench.encodings`` entry point)."""

from __future__ import annotations

from .base import FrequencyFields, NoFields, PositionalEncoding, RotaryFrequencies
from .frequencies import SCALING_TYPES, Scaling
from .nope import NoPE
from .pope import DELTA_INITS, PoPE
from .registry import (
    ENTRY_POINT_GROUP,
    appearance,
    build_encoding,
    check_scaling,
    encodings,
    field_owners,
    get_encoding,
    origin,
    parse_fields,
    reload,
    register_encoding,
)
from .rope import RoPE

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
