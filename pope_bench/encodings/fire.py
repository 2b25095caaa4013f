"""FIRE, functional interpolation for relative positions (Li et al., ICLR 2024,
arXiv 2310.04418), §3 and its reference code (Appendix).

A learned function of the log-transformed relative distance, normalised by the query
position ("progressive interpolation"), is added to each head's score:

    b(t, s) = f_θ( ψ(t − s) / ψ(max(L, t)) ),   ψ(x) = log(|c·x| + 1)

with f_θ an MLP 1 → ``fire_mlp_width`` (ReLU) → heads, c a learned scale (init
``fire_init_c`` = 0.1), and L = |λ · ``fire_init_L``| a learned threshold (λ init 1) below
which the normaliser is constant, so that short contexts are not over-compressed. The
normalised distance lies in [0, 1] at every length, which is what lets FIRE extrapolate.
As in the reference code, ε = 1e-6 is added to the normaliser.
"""

from __future__ import annotations

import math

import torch
from pydantic import Field
from torch import nn

from pope_bench.encodings.alibi import relative_distance
from pope_bench.encodings.base import NoFields, PositionalEncoding
from pope_bench.encodings.registry import register_encoding

EPS = 1e-6


class FIREFields(NoFields):
    fire_mlp_width: int = Field(32, ge=1, description="hidden width of the MLP f_θ (paper: 32)")
    fire_init_c: float = Field(0.1, gt=0.0, description="initial c in ψ(x) = log(|c·x| + 1) (paper: 0.1)")
    fire_init_L: float = Field(512.0, gt=0.0, description="initial threshold L of the normaliser (paper: 512)")


@register_encoding
class FIRE(PositionalEncoding):
    name, label, color, marker, order = "fire", "FIRE", "#9467bd", "v", 3
    additive_bias = True
    Fields = FIREFields

    def __init__(self, head_dim: int, num_heads: int, fire_mlp_width: int, fire_init_c: float,
                 fire_init_L: float):
        super().__init__(head_dim, num_heads)
        self.init_c, self.init_L = fire_init_c, fire_init_L
        self.c = nn.Parameter(torch.empty(()))
        self.L_multiplier = nn.Parameter(torch.empty(()))
        self.w1 = nn.Parameter(torch.empty(fire_mlp_width))  # Linear(1, width)
        self.b1 = nn.Parameter(torch.empty(fire_mlp_width))
        self.w2 = nn.Parameter(torch.empty(num_heads, fire_mlp_width))  # Linear(width, heads)
        self.b2 = nn.Parameter(torch.empty(num_heads))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """c, λ as in the reference code; the MLP as torch's ``nn.Linear`` default."""
        with torch.no_grad():
            self.c.fill_(self.init_c)
            self.L_multiplier.fill_(1.0)
            self.w1.uniform_(-1.0, 1.0)  # fan-in 1
            self.b1.uniform_(-1.0, 1.0)
            bound = 1 / math.sqrt(self.w2.shape[1])
            self.w2.uniform_(-bound, bound)
            self.b2.uniform_(-bound, bound)

    def normalized_distance(self, q_positions, k_positions, dtype) -> torch.Tensor:
        """ψ(t − s) / ψ(max(L, t)): (..., 1, Lq, Lk), in [0, 1] for s ≤ t."""
        c = self.c.to(dtype)
        distance = relative_distance(q_positions, k_positions, dtype)
        threshold = (self.L_multiplier.to(dtype) * self.init_L).abs()
        t = q_positions.to(device=distance.device, dtype=dtype)[..., None, :, None]
        normaliser = torch.log((c * torch.maximum(t, threshold)).abs() + 1) + EPS
        return torch.log((c * distance).abs() + 1) / normaliser

    def pieces(self, dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """f_θ as the piecewise-linear function it is: a one-input ReLU MLP changes slope
        only where a hidden unit switches, at x = −b1/w1. Returns the sorted switch points
        (W,) and each of the W + 1 pieces' slope and intercept per head, (W + 1, heads).
        Evaluating a piece per (query, key) costs a search and one multiply-add per head
        instead of W·(heads + 2) operations, with the same values and (almost everywhere)
        the same gradients as the MLP."""
        w1, b1, w2, b2 = (p.to(dtype) for p in (self.w1, self.b1, self.w2, self.b2))
        with torch.no_grad():
            switches = torch.where(w1 != 0, -b1 / w1.where(w1 != 0, torch.ones_like(w1)), torch.zeros_like(w1))
            switches = switches.sort().values
            inner = (switches[1:] + switches[:-1]) / 2
            probes = torch.cat((switches[:1] - 1, inner, switches[-1:] + 1))  # one point inside each piece
            active = (probes[:, None] * w1 + b1 > 0).to(dtype)  # (W + 1, W)
        slope = active @ (w1[:, None] * w2.T)
        intercept = active @ (b1[:, None] * w2.T) + b2
        return switches, slope, intercept

    def score_bias(self, q_positions, k_positions):
        dtype = torch.float64 if self.w1.dtype == torch.float64 else torch.float32
        x = self.normalized_distance(q_positions, k_positions, dtype).squeeze(-3)  # (..., Lq, Lk)
        switches, slope, intercept = self.pieces(dtype)
        piece = torch.bucketize(x.detach(), switches)
        bias = slope[piece] * x[..., None] + intercept[piece]  # (..., Lq, Lk, heads)
        return bias.movedim(-1, -3)

    @property
    def bias_cost(self) -> int:
        return 3 * self.num_heads + 4
