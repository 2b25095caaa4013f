"""PoPE, polar-coordinate position embeddings (Gopalakrishnan et al., arXiv 2509.10534, §2).

Each of the d real coordinates of a query (key) becomes one complex number with magnitude
μ = softplus(x) and phase tθ_c (query at t) or sθ_c + δ_c (key at s), θ_c = base^(−(c−1)/d),
c = 1..d. The score is

    a_PoPE(t, s) = Re[q̃_tᴴ k̃_s] = Σ_c μ_q,c μ_k,c cos((s − t)θ_c + δ_c)

so content sets only magnitudes and position only phases. It is computed in the paper's
Cartesian form q' = [μ_q cos tθ, μ_q sin tθ], k' = [μ_k cos(sθ+δ), μ_k sin(sθ+δ)]
(2d wide), so any dot-product attention kernel computes it. δ, a learnable phase bias per
(layer, head, frequency), is clamped to [−2π, 0] in the forward pass. The softmax scale is
1/√d with d the original head width (the paper does not state it). Values are untouched.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from pope_bench.core.errors import BadInput
from pope_bench.encodings.base import FrequencyFields, RotaryFrequencies
from pope_bench.encodings.frequencies import Scaling
from pope_bench.encodings.registry import register_encoding

DeltaInit = Literal["zero", "uniform"]
DELTA_INITS = get_args(DeltaInit)


class PoPEFields(FrequencyFields):
    delta_init: DeltaInit = Field("zero", description="δ initialisation: zero (language) or uniform in (−2π, 0)")


@register_encoding
class PoPE(RotaryFrequencies):
    name, label, color, marker, order = "pope", "PoPE", "#ff7f0e", "s", 1
    Fields = PoPEFields

    def __init__(
        self,
        head_dim: int,
        num_heads: int,
        pe_base: float,
        delta_init: str,
        scaling: Scaling | None = None,
    ):
        if delta_init not in DELTA_INITS:
            raise BadInput(f"delta_init {delta_init!r} is not one of {', '.join(DELTA_INITS)}")
        # PoPE's d frequencies are RoPE's set for a rotary width of 2d (see frequencies.py).
        super().__init__(head_dim, num_heads, 2 * head_dim, pe_base, scaling)
        self.delta_init = delta_init
        self.delta = nn.Parameter(torch.zeros(num_heads, head_dim))
        self.reset_delta()

    @staticmethod
    def frequency_usage(x: torch.Tensor) -> torch.Tensor:
        """The magnitude softplus(x_c) of channel c: d frequencies θ_c = base^(−c/d)."""
        return F.softplus(x.float())

    def reset_parameters(self) -> None:
        self.reset_delta()

    def reset_delta(self) -> None:
        """δ = 0 (the paper's choice for language models) or Uniform(−2π, 0) (diagnostic,
        music and genome models)."""
        with torch.no_grad():
            if self.delta_init == "uniform":
                self.delta.uniform_(-2 * math.pi, 0.0)
            else:
                self.delta.zero_()

    def clamped_delta(self) -> torch.Tensor:
        return self.delta.clamp(-2 * math.pi, 0.0)

    def _polar(self, x: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        magnitude = F.softplus(x.to(phase.dtype)) * self.attention_factor
        return torch.cat((magnitude * phase.cos(), magnitude * phase.sin()), dim=-1).to(x.dtype)

    def encode_queries(self, q, positions):
        return self._polar(q, self.angles(positions, q))

    def encode_keys(self, k, positions):
        phase = self.angles(positions, k)
        delta = self.clamped_delta().to(phase.dtype)[:, None, :]  # (heads, 1, d)
        return self._polar(k, phase + delta)
