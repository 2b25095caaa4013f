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

from pope_bench.core.errors import BadInput
from pope_bench.encodings.base import RotaryFrequencies
from pope_bench.encodings.frequencies import Scaling
from pope_bench.encodings.registry import register_encoding


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(x1, x2) → (−x2, x1): the 90° rotation of each pair (x_c, x_{c+d/2})."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


@register_encoding
class RoPE(RotaryFrequencies):
    name, label, color, marker, order = "rope", "RoPE", "#1f77b4", "o", 0

    def __init__(self, head_dim: int, num_heads: int, pe_base: float, scaling: Scaling | None = None):
        self.check_shape(head_dim, num_heads)
        super().__init__(head_dim, num_heads, head_dim, pe_base, scaling)

    @classmethod
    def check_shape(cls, head_dim: int, num_heads: int) -> None:
        if head_dim % 2:
            raise BadInput(f"{cls.label} needs an even head dim (pairs of channels; hidden_size / "
                           f"num_attention_heads), got head_dim={head_dim}")

    @staticmethod
    def frequency_usage(x: torch.Tensor) -> torch.Tensor:
        """The norm of the 2-D chunk c, channels (c, c + d/2): d/2 frequencies θ_c = base^(−2c/d)."""
        first, second = x.float().chunk(2, dim=-1)
        return torch.hypot(first, second)

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
