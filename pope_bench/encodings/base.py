"""What every positional encoding provides to the attention layer.

An encoding turns per-head queries and keys into the vectors whose dot product is the
attention score. It may change their width (PoPE doubles it), it never touches values.
Queries and keys are encoded separately because a key cache stores encoded keys, and a
key's encoding depends only on its own position.
"""

from __future__ import annotations

import torch
from torch import nn

from .frequencies import Scaling, scaled_inv_freq


class PositionalEncoding(nn.Module):
    """Base class: identity encoding of width ``head_dim`` and softmax scale 1/√head_dim."""

    def __init__(self, head_dim: int, num_heads: int):
        super().__init__()
        self.head_dim = head_dim
        self.num_heads = num_heads

    @property
    def softmax_scale(self) -> float:
        """1/√d with d the original head width, for every encoding (paper §2: the paper does
        not state PoPE's scale; pope-bench keeps RoPE's so that only the encoding differs)."""
        return self.head_dim**-0.5

    def encode_queries(self, q: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """``q``: (batch, heads, length, head_dim); ``positions``: (length,) or (batch, length)."""
        return q

    def encode_keys(self, k: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        return k

    def forward(self, q: torch.Tensor, k: torch.Tensor, positions: torch.Tensor):
        return self.encode_queries(q, positions), self.encode_keys(k, positions)


class RotaryFrequencies(PositionalEncoding):
    """An encoding that rotates by position × frequency, over a rotary width ``rotary_dim``.

    The frequencies are derived values, not state: a plain CPU float64 tensor (never
    saved, untouched by ``from_pretrained``'s meta-device initialisation), recomputed per
    length for dynamic NTK.
    """

    def __init__(self, head_dim: int, num_heads: int, rotary_dim: int, base: float, scaling: Scaling | None):
        super().__init__(head_dim, num_heads)
        self.rotary_dim = rotary_dim
        self.base = float(base)
        self.set_scaling(scaling)

    def set_scaling(self, scaling: Scaling | None) -> None:
        """Switch the eval-time rule; learned parameters (PoPE's δ) are untouched."""
        self.scaling = scaling
        # attention_factor: YaRN's temperature on q and k (1 for every other rule).
        self.static_inv_freq, self.attention_factor = scaled_inv_freq(self.rotary_dim, self.base, scaling)

    def inv_freq(self, positions: torch.Tensor) -> torch.Tensor:
        if self.scaling is not None and self.scaling.type == "dynamic":
            seq_len = int(positions.max()) + 1
            return scaled_inv_freq(self.rotary_dim, self.base, self.scaling, seq_len)[0]
        return self.static_inv_freq

    def angles(self, positions: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """position × frequency, shaped to broadcast over (batch, heads, length, n_freq).

        Computed in float64 for float64 inputs and in float32 otherwise (never bf16: at 16k
        positions a bf16 angle is off by whole turns)."""
        dtype = torch.float64 if like.dtype == torch.float64 else torch.float32
        out = positions.to(dtype)[..., None] * self.inv_freq(positions).to(device=like.device, dtype=dtype)
        return out.unsqueeze(-3) if out.dim() == 3 else out
