"""Positional encodings by name: ``rope``, ``pope``, ``nope``."""

from __future__ import annotations

from ..errors import BadInput
from ..names import ENCODINGS
from .base import PositionalEncoding
from .frequencies import SCALING_TYPES, Scaling
from .nope import NoPE
from .pope import DELTA_INITS, PoPE
from .rope import RoPE


def build_encoding(
    name: str,
    head_dim: int,
    num_heads: int,
    base: float = 10_000.0,
    delta_init: str = "zero",
    scaling: Scaling | None = None,
) -> PositionalEncoding:
    """One attention layer's encoding module."""
    if name == "rope":
        return RoPE(head_dim, num_heads, base, scaling)
    if name == "pope":
        return PoPE(head_dim, num_heads, base, delta_init, scaling)
    if name == "nope":
        if scaling is not None:
            raise BadInput("rope_scaling does not apply to pe 'nope' (it has no frequencies); remove it")
        return NoPE(head_dim, num_heads)
    raise BadInput(f"unknown positional encoding {name!r}; choose one of {', '.join(ENCODINGS)}")


__all__ = [
    "DELTA_INITS",
    "ENCODINGS",
    "SCALING_TYPES",
    "NoPE",
    "PoPE",
    "PositionalEncoding",
    "RoPE",
    "Scaling",
    "build_encoding",
]
