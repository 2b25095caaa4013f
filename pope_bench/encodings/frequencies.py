"""Rotation frequencies shared by RoPE and PoPE, and the eval-time context-extension rules.

RoPE on a head of width d uses d/2 frequencies θ_i = base^(−2i/d), i = 0..d/2−1
(paper §1). PoPE uses d frequencies θ_c = base^(−(c−1)/d), c = 1..d (paper §2; the
paper prints the exponent without its minus sign, a typo): that is exactly RoPE's set
for a "rotary width" of 2d. So every rule below is written once for a rotary width
``dim`` and serves both encodings — which is also how pope-bench applies PI / NTK / YaRN
to PoPE's frequency set (paper §4, an open question).

The rule itself (its fields, validation, label and NTK base) is
:class:`pope_bench.core.scaling.Scaling`. The formulas follow the transformers implementations (``modeling_rope_utils``) so that
RoPE checkpoints imported from the hub keep their meaning; tests compare against them.
"""

from __future__ import annotations

import math

import torch

from pope_bench.core.scaling import (  # noqa: F401  (re-exported: the rule's one type)
    SCALING_TYPES,
    Scaling,
)


def base_inv_freq(dim: int, base: float, dtype=torch.float64) -> torch.Tensor:
    """θ_i = base^(−2i/dim) for i = 0..dim/2−1 (paper §1, and §2 with dim = 2d).

    Always built on the CPU (even inside a ``torch.device("meta")`` context, which
    ``from_pretrained`` uses), then moved to the device of the activations."""
    return base ** (-torch.arange(0, dim, 2, dtype=dtype, device="cpu") / dim)


def scaled_inv_freq(
    dim: int, base: float, scaling: Scaling | None, seq_len: int | None = None, dtype=torch.float64
) -> tuple[torch.Tensor, float]:
    """The frequencies after ``scaling`` and the factor applied to q and k (YaRN's mscale).

    ``seq_len`` is only read by ``dynamic``, whose base grows with the current length
    once it passes ``original_length``.
    """
    if scaling is None:
        return base_inv_freq(dim, base, dtype), 1.0
    if scaling.type == "linear":
        return base_inv_freq(dim, base, dtype) / scaling.factor, 1.0
    if scaling.type in ("ntk", "dynamic"):
        return base_inv_freq(dim, scaling.ntk_base(base, dim, seq_len), dtype), 1.0
    return _yarn_inv_freq(dim, base, scaling, dtype)


def _yarn_inv_freq(dim: int, base: float, scaling: Scaling, dtype) -> tuple[torch.Tensor, float]:
    """YaRN: frequencies that rotate fewer than ``beta_slow`` times over the original
    context are interpolated (θ/factor), those rotating more than ``beta_fast`` times are
    kept, with a linear ramp between; q and k are scaled by 0.1·ln(factor)+1."""

    def correction_dim(rotations: float) -> float:
        return (dim * math.log(scaling.original_length / (rotations * 2 * math.pi))) / (2 * math.log(base))

    low = max(math.floor(correction_dim(scaling.beta_fast)), 0)
    high = min(math.ceil(correction_dim(scaling.beta_slow)), dim - 1)
    if low == high:
        high += 0.001
    ramp = ((torch.arange(dim // 2, dtype=dtype, device="cpu") - low) / (high - low)).clamp(0, 1)
    keep = 1 - ramp
    extrapolated = base_inv_freq(dim, base, dtype)
    interpolated = extrapolated / scaling.factor
    inv_freq = interpolated * (1 - keep) + extrapolated * keep
    return inv_freq, 0.1 * math.log(scaling.factor) + 1.0
