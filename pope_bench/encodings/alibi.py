"""ALiBi, attention with linear biases (Press, Smith & Lewis, ICLR 2022).

No position enters q or k; instead each head h adds a fixed penalty proportional to the
distance to the key:

    a_ALiBi(t, s) = q_t · k_s / √d − m_h (t − s),   s ≤ t (causal)

with head slopes m_h a geometric sequence: for n heads (n a power of two) m_h = 2^(−8h/n),
h = 1..n; otherwise the 2^⌊log2 n⌋ slopes of the next power below, followed by every other
slope of the power above (the paper's §3 and its reference ``get_slopes``).
"""

from __future__ import annotations

import math

import torch

from pope_bench.encodings.base import PositionalEncoding
from pope_bench.encodings.registry import register_encoding


def alibi_slopes(num_heads: int) -> list[float]:
    """The paper's head slopes, largest first (2^(−8/n), 2^(−16/n), …)."""

    def power_of_two(n: int) -> list[float]:
        start = 2.0 ** (-8.0 / n)
        return [start ** (h + 1) for h in range(n)]

    if math.log2(num_heads).is_integer():
        return power_of_two(num_heads)
    below = 2 ** math.floor(math.log2(num_heads))
    return power_of_two(below) + alibi_slopes(2 * below)[0::2][: num_heads - below]


def relative_distance(q_positions: torch.Tensor, k_positions: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """t − s for every (query t, key s): (..., 1, Lq, Lk), ready to broadcast over heads."""
    q = q_positions.to(dtype)[..., :, None]
    k = k_positions.to(device=q.device, dtype=dtype)[..., None, :]
    return (q - k).unsqueeze(-3)


@register_encoding
class ALiBi(PositionalEncoding):
    name, label, color, marker, order = "alibi", "ALiBi", "#2ca02c", "^", 2
    additive_bias = True

    def __init__(self, head_dim: int, num_heads: int):
        super().__init__(head_dim, num_heads)
        # A plain CPU float64 tensor, as RoPE's frequencies: derived from the head count,
        # never saved, untouched by from_pretrained's meta-device initialisation.
        self.slopes = torch.tensor(alibi_slopes(num_heads), dtype=torch.float64, device="cpu")

    def score_bias(self, q_positions, k_positions):
        dtype = torch.float64 if q_positions.dtype == torch.float64 else torch.float32
        distance = relative_distance(q_positions, k_positions, dtype)
        return -self.slopes.to(device=distance.device, dtype=dtype)[:, None, None] * distance
