"""What every positional encoding provides to the attention layer, and what it declares
about itself so that the rest of pope-bench never names an encoding.

An encoding turns per-head queries and keys into the vectors whose dot product is the
attention score. It may change their width (PoPE doubles it), it never touches values.
Queries and keys are encoded separately because a key cache stores encoded keys, and a
key's encoding depends only on its own position. An encoding may also add a bias
b(t, s) to the score of query t and key s (ALiBi, FIRE): ``score_bias``.

The class attributes (``name``, ``label``, plot ``color``/``marker``, typed config
``Fields``, ``rope_scaling``) and the optional ``frequency_usage`` probe are what config
validation, model construction, the registry, plots, tables and analyses look up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from pope_bench.encodings.frequencies import Scaling, scaled_inv_freq


class NoFields(BaseModel):
    """An encoding's config fields: a pydantic model whose field names are config keys
    (flat in ``config.json`` and a recipe's ``model`` section). Prefix them with the
    encoding's name unless they are shared (``pe_base``), so that they never collide."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FrequencyFields(NoFields):
    pe_base: float = Field(10_000.0, gt=1.0, description="frequency base θ_i = base^(−2i/d) (paper: 10,000)")


class PositionalEncoding(nn.Module):
    """Base class: identity encoding of width ``head_dim`` and softmax scale 1/√head_dim.

    Subclasses registered with :func:`pope_bench.encodings.registry.register_encoding`
    set ``name`` (the ``--pe`` / ``pe:`` value), ``label`` (figures and tables), ``color``
    and ``marker`` (plots), ``Fields`` (their constructor's keyword arguments, typed),
    ``rope_scaling`` (True if eval-time PI / NTK / YaRN apply: the encoding rotates by
    frequencies and implements ``set_scaling``), ``additive_bias`` (True if it implements
    ``score_bias``) and ``order`` (rows and legends sort by it).
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    color: ClassVar[str] = "#333333"
    marker: ClassVar[str] = "o"
    Fields: ClassVar[type[NoFields]] = NoFields
    rope_scaling: ClassVar[bool] = False
    additive_bias: ClassVar[bool] = False
    order: ClassVar[int] = 100

    def __init__(self, head_dim: int, num_heads: int):
        super().__init__()
        self.head_dim = head_dim
        self.num_heads = num_heads

    @classmethod
    def check_shape(cls, head_dim: int, num_heads: int) -> None:
        """Raise BadInput if the encoding cannot serve heads of this width (config time)."""

    @classmethod
    def build(cls, head_dim: int, num_heads: int, fields: NoFields, scaling: Scaling | None) -> PositionalEncoding:
        """One layer's module from validated ``fields`` (their defaults live only there: the
        constructor's field arguments have none); ``scaling`` only if ``rope_scaling``."""
        kwargs = fields.model_dump()
        if scaling is not None:
            kwargs["scaling"] = scaling
        return cls(head_dim, num_heads, **kwargs)

    #: The probe of the ``frequency_usage`` analysis (paper §3.6), a static method of raw
    #: per-head vectors x (..., d) giving how strongly each frequency is used, (..., n_freq),
    #: index 0 the fastest; None for an encoding without frequencies.
    frequency_usage: ClassVar[Callable[[torch.Tensor], torch.Tensor] | None] = None

    def reset_parameters(self) -> None:
        """(Re)initialise the encoding's own learned parameters, if any."""

    def set_scaling(self, scaling: Scaling | None) -> None:
        """Only encodings with ``rope_scaling = True`` take a scaling rule."""

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

    def score_bias(self, q_positions: torch.Tensor, k_positions: torch.Tensor) -> torch.Tensor | None:
        """An additive bias on the scaled scores, (heads, Lq, Lk) or (batch, heads, Lq, Lk),
        for query positions (..., Lq) and key positions (..., Lk); None (the default) for an
        encoding that works through q and k alone. Attention asks for it one block of
        queries at a time, so it never needs the whole L×L matrix."""
        return None

    @property
    def bias_cost(self) -> int:
        """Floats ``score_bias`` holds per (query, key) pair at its peak; attention sizes its
        query blocks by it."""
        return self.num_heads

    def forward(self, q: torch.Tensor, k: torch.Tensor, positions: torch.Tensor):
        return self.encode_queries(q, positions), self.encode_keys(k, positions)


class RotaryFrequencies(PositionalEncoding):
    """An encoding that rotates by position × frequency, over a rotary width ``rotary_dim``.

    The frequencies are derived values, not state: a plain CPU float64 tensor (never
    saved, untouched by ``from_pretrained``'s meta-device initialisation), recomputed per
    length for dynamic NTK.
    """

    Fields = FrequencyFields
    rope_scaling = True

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
