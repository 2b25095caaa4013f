"""RoPE (Su et al. 2021), paper §1.

Each of the d/2 channel pairs of a query at position t (key at s) is rotated by tθ_c
(sθ_c), θ_c = base^(−2(c−1)/d), so that the score is

    a_RoPE(t, s) = Σ_c μ_q,c μ_k,c cos((s − t)θ_c + φ_k,c − φ_q,c)

Pair c is (x_c, x_{c+d/2}) — the "rotate half" layout of transformers' Llama and GPT-NeoX,
so native RoPE checkpoints and hub models share one convention. Eval-time scaling (PI, NTK,
YaRN, dynamic NTK) changes θ and, for YaRN, multiplies the rotated q and k by the
attention temperature, as transformers does.
"""

from __future__ import annotations

import torch

from ..errors import BadInput
from .base import RotaryFrequencies
from .frequencies import Scaling


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(x1, x2) → (−x2, x1): the 90° rotation of each pair (x_c, x_{c+d/2})."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class RoPE(RotaryFrequencies):
    def __init__(self, head_dim: int, num_heads: int, base: float = 10_000.0, scaling: Scaling | None = None):
        if head_dim % 2:
            raise BadInput(f"head_dim must be even for RoPE (pairs of channels), got {head_dim}")
        super().__init__(head_dim, num_heads, head_dim, base, scaling)

    def _rotate(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        theta = self.angles(positions, x)
        theta = torch.cat((theta, theta), dim=-1)
        factor = self.attention_factor
        cos = (theta.cos() * factor).to(x.dtype)
        sin = (theta.sin() * factor).to(x.dtype)
        return x * cos + rotate_half(x) * sin

    def encode_queries(self, q, positions):
        return self._rotate(q, positions)

    def encode_keys(self, k, positions):
        return self._rotate(k, positions)
