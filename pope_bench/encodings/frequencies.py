"""Rotation frequencies shared by RoPE and PoPE, and the eval-time context-extension rules.

RoPE on a head of width d uses d/2 frequencies θ_i = base^(−2i/d), i = 0..d/2−1
(paper §1). PoPE uses d frequencies θ_c = base^(−(c−1)/d), c = 1..d (paper §2; the
paper prints the exponent without its minus sign, a typo): that is exactly RoPE's set
for a "rotary width" of 2d. So every rule below is written once for a rotary width
``dim`` and serves both encodings — which is also how pope-bench applies PI / NTK / YaRN
to PoPE's frequency set (paper §4, an open question).

The formulas follow the transformers implementations (``modeling_rope_utils``) so that
RoPE checkpoints imported from the hub keep their meaning; tests compare against them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from pope_bench.core.errors import BadInput
from pope_bench.core.scaling_types import SCALING_TYPES


@dataclass(frozen=True)
class Scaling:
    """An eval-time context-extension rule.

    type: ``linear`` (position interpolation, Chen et al. 2023: θ/factor),
    ``ntk`` (NTK-aware base rescale: base·factor^(dim/(dim−2))),
    ``yarn`` (Peng et al. 2023: per-frequency ramp between interpolation and
    extrapolation, plus attention temperature 0.1·ln(factor)+1 on q and k),
    ``dynamic`` (dynamic NTK: the NTK base recomputed from the current length; as in
    transformers, keys already in a KV cache keep the frequencies they were encoded
    with, so cached generation past ``original_length`` differs from a full forward).
    original_length: the training context the factor is relative to.
    """

    type: str
    factor: float
    original_length: int
    beta_fast: float = 32.0
    beta_slow: float = 1.0

    @classmethod
    def from_dict(cls, spec, train_length: int) -> "Scaling | None":
        """Parse a ``rope_scaling`` mapping (the checkpoints.yaml / config form)."""
        if not spec:
            return None
        if not isinstance(spec, Mapping):
            raise BadInput(f"rope_scaling must be a mapping like {{type: yarn, factor: 4}}, got {spec!r}")
        kind = spec.get("type", spec.get("rope_type"))
        if kind not in SCALING_TYPES:
            raise BadInput(f"rope_scaling.type {kind!r} is not one of {', '.join(SCALING_TYPES)}")
        original = spec.get("original_max_position_embeddings", spec.get("original_length", train_length))
        if not isinstance(original, int) or isinstance(original, bool) or original < 1:
            raise BadInput(f"rope_scaling.original_length must be a positive integer, got {original!r}")
        return cls(
            type=kind,
            factor=_number(spec, "factor", None, above=1.0),
            original_length=original,
            beta_fast=_number(spec, "beta_fast", 32.0, above=0.0),
            beta_slow=_number(spec, "beta_slow", 1.0, above=0.0),
        )

    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "factor": self.factor,
            "original_length": self.original_length,
            "beta_fast": self.beta_fast,
            "beta_slow": self.beta_slow,
        }

    def label(self) -> str:
        """Short name used in result rows, e.g. ``yarn4``."""
        return f"{self.type}{self.factor:g}"


def _number(spec: Mapping, key: str, default, above: float) -> float:
    """A finite number > ``above`` from a scaling spec, or a BadInput naming the field."""
    value = spec.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or not number > above:
        raise BadInput(f"rope_scaling.{key} must be a finite number > {above:g}, got {value!r}")
    return number


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
    factor = scaling.factor
    if scaling.type == "linear":
        return base_inv_freq(dim, base, dtype) / factor, 1.0
    if scaling.type == "ntk":
        return base_inv_freq(dim, base * factor ** (dim / (dim - 2)), dtype), 1.0
    if scaling.type == "dynamic":
        length = max(seq_len or scaling.original_length, scaling.original_length)
        grown = (factor * length / scaling.original_length) - (factor - 1)
        return base_inv_freq(dim, base * grown ** (dim / (dim - 2)), dtype), 1.0
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
