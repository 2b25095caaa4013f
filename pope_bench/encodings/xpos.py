"""xPos, RoPE with an exponential decay (Sun et al., "A Length-Extrapolatable
Transformer", ACL 2023, arXiv 2212.10554, §3.1, and torchscale's ``XPOS``).

Pair c of a query at t (key at s) is rotated by tθ_c (sθ_c) exactly as in RoPE and then
scaled by ζ_c^(t/γ_B) (keys: ζ_c^(−s/γ_B)), so that

    a_xPos(t, s) = Σ_c ζ_c^((t − s)/γ_B) · [RoPE's pair-c term],
    ζ_c = (2c/d + γ) / (1 + γ),  c = 0..d/2−1,  γ = 0.4,  γ_B = scale base = 512

and a key's weight decays with its distance, faster for the fast frequencies (small c).
Positions are not re-centred (torchscale centres them per call, which a key cache cannot
follow); in float32 the key scale ζ^(−s/512) stays finite up to about 45k positions.
"""

from __future__ import annotations

import torch
from pydantic import Field

from pope_bench.encodings.base import FrequencyFields
from pope_bench.encodings.frequencies import Scaling
from pope_bench.encodings.registry import register_encoding
from pope_bench.encodings.rope import RoPE


class XPosFields(FrequencyFields):
    xpos_scale_base: float = Field(512.0, gt=0.0, description="γ_B, the decay's length scale (paper: 512)")
    xpos_gamma: float = Field(0.4, gt=0.0, description="γ in ζ_c = (2c/d + γ)/(1 + γ) (paper: 0.4)")


@register_encoding
class XPos(RoPE):
    name, label, color, marker, order = "xpos", "xPos", "#d62728", "D", 4
    Fields = XPosFields

    def __init__(self, head_dim: int, num_heads: int, pe_base: float, xpos_scale_base: float,
                 xpos_gamma: float, scaling: Scaling | None = None):
        super().__init__(head_dim, num_heads, pe_base, scaling)
        self.scale_base = float(xpos_scale_base)
        c = torch.arange(0, head_dim, 2, dtype=torch.float64, device="cpu")
        # A plain CPU float64 tensor, as the frequencies (see RotaryFrequencies).
        self.zeta = (c / head_dim + xpos_gamma) / (1 + xpos_gamma)

    def decay(self, positions: torch.Tensor, like: torch.Tensor, sign: float) -> torch.Tensor:
        """ζ^(sign·position/γ_B) over the rotate-half layout, broadcast like ``angles``."""
        dtype = torch.float64 if like.dtype == torch.float64 else torch.float32
        exponent = sign * positions.to(dtype)[..., None] / self.scale_base
        out = self.zeta.to(device=like.device, dtype=dtype) ** exponent
        out = torch.cat((out, out), dim=-1)
        return (out.unsqueeze(-3) if out.dim() == 3 else out).to(like.dtype)

    def encode_queries(self, q, positions):
        return self._rotate(q, positions) * self.decay(positions, q, 1.0)

    def encode_keys(self, k, positions):
        return self._rotate(k, positions) * self.decay(positions, k, -1.0)
