"""Partial-rotary RoPE: RoPE on the first ``partial_rotary_fraction`` of each head's
channels, the rest left without position (GPT-NeoX's ``rotary_pct``, Phi's
``partial_rotary_factor``; Black et al. 2022).

Over the rotary width r (even), pair c = (x_c, x_{c+r/2}) is rotated by tθ_c with
θ_c = base^(−2c/r), c = 0..r/2−1, so the score is RoPE's on the first r channels plus a
position-free dot product on the other d − r.

A pope-bench encoding is this much: a class with a name, a label, a plot style and typed
config fields, registered with ``@register_encoding`` and named by the package's
``pope_bench.encodings`` entry point (see pyproject.toml).
"""

from __future__ import annotations

import torch
from pydantic import Field

from pope_bench.core.errors import BadInput
from pope_bench.encodings import (
    FrequencyFields,
    RotaryFrequencies,
    Scaling,
    register_encoding,
)
from pope_bench.encodings.rope import rotate_half


class PartialRoPEFields(FrequencyFields):
    partial_rotary_fraction: float = Field(0.25, gt=0.0, le=1.0, description="share of channels rotated")


def rotary_width(head_dim: int, fraction: float) -> int:
    """The even number of rotated channels nearest fraction·d (at least one pair)."""
    return max(2, 2 * round(head_dim * fraction / 2))


@register_encoding
class PartialRoPE(RotaryFrequencies):
    name, label, color, marker, order = "partial-rope", "RoPE (partial)", "#8c564b", "P", 50
    Fields = PartialRoPEFields

    def __init__(self, head_dim: int, num_heads: int, pe_base: float,
                 partial_rotary_fraction: float, scaling: Scaling | None = None):
        self.check_shape(head_dim, num_heads)
        super().__init__(head_dim, num_heads, rotary_width(head_dim, partial_rotary_fraction), pe_base, scaling)

    @classmethod
    def check_shape(cls, head_dim: int, num_heads: int) -> None:
        if head_dim < 2:
            raise BadInput(f"{cls.label} needs a head dim of at least 2, got head_dim={head_dim}")

    def _rotate(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        rotated, rest = x[..., : self.rotary_dim], x[..., self.rotary_dim :]
        theta = self.angles(positions, x)
        theta = torch.cat((theta, theta), dim=-1)
        cos = (theta.cos() * self.attention_factor).to(x.dtype)
        sin = (theta.sin() * self.attention_factor).to(x.dtype)
        return torch.cat((rotated * cos + rotate_half(rotated) * sin, rest), dim=-1)

    def encode_queries(self, q, positions):
        return self._rotate(q, positions)

    def encode_keys(self, k, positions):
        return self._rotate(k, positions)
