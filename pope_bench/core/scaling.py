"""The eval-time RoPE context-extension rules — the one type that validates, labels and
computes them, for native checkpoints and hub/GGUF models alike.

``type``: ``linear`` (position interpolation, Chen et al. 2023: θ/factor), ``ntk``
(NTK-aware base rescale: base·factor^(dim/(dim−2))), ``yarn`` (Peng et al. 2023: a
per-frequency ramp between interpolation and extrapolation, plus attention temperature
0.1·ln(factor)+1 on q and k), ``dynamic`` (dynamic NTK: the NTK base recomputed from the
current length; as in transformers, keys already in a KV cache keep the frequencies they
were encoded with, so cached generation past ``original_length`` differs from a full
forward). ``factor: auto`` (registry variants only) ties the factor to L / train_length at
each evaluated length. ``original_length``: the training context the factor is relative to.

A rule travels as a plain mapping (registry entries, config.json's ``pe_scaling``, cell
keys): :meth:`Scaling.spec` writes it, :meth:`Scaling.parse` reads it back. The frequencies
themselves are :mod:`pope_bench.encodings.frequencies` (torch); nothing here imports it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

from pydantic import PositiveInt, field_validator

from pope_bench.core.errors import BadInput, closest
from pope_bench.core.schema import StrictModel, validate

SCALING_TYPES = ("linear", "ntk", "yarn", "dynamic")


class Scaling(StrictModel):
    """One rule: ``type`` one of SCALING_TYPES, ``factor`` > 1 (or ``auto``)."""

    type: str
    factor: float | Literal["auto"]
    original_length: PositiveInt | None = None
    beta_fast: float = 32.0
    beta_slow: float = 1.0

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in SCALING_TYPES:
            raise ValueError(f"must be one of {', '.join(SCALING_TYPES)}{closest(value, SCALING_TYPES)}")
        return value

    @field_validator("factor")
    @classmethod
    def _above_one(cls, value):
        if value != "auto" and not (math.isfinite(value) and value > 1):
            raise ValueError("must be a finite number > 1 or 'auto'")
        return value

    @field_validator("beta_fast", "beta_slow")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not (math.isfinite(value) and value > 0):
            raise ValueError("must be a finite number > 0")
        return value

    @classmethod
    def parse(cls, spec, train_length: int) -> Scaling | None:
        """A concrete rule from its mapping form (also transformers' ``rope_type`` /
        ``original_max_position_embeddings`` names); ``original_length`` defaults to the
        train length. None for no rule."""
        if not spec:
            return None
        if not isinstance(spec, Mapping):
            raise BadInput(f"rope_scaling must be a mapping like {{type: yarn, factor: 4}}, got {spec!r}")
        names = {"rope_type": "type", "original_max_position_embeddings": "original_length"}
        data = {names.get(k, k): v for k, v in spec.items()}
        data.setdefault("original_length", train_length)
        scaling = validate(cls, data, "rope_scaling")
        if scaling.factor == "auto":
            raise BadInput("rope_scaling.factor: auto is resolved per length by the registry; give a number here")
        return scaling

    def spec(self) -> dict:
        """The mapping form: the fields that differ from their defaults."""
        return self.model_dump(exclude_defaults=True)

    def at(self, length: int, train_length: int) -> dict | None:
        """The concrete rule at evaluation length ``length``, as a mapping: ``auto`` becomes
        L / train_length (no rule at or below the train length); ``original_length``
        defaults to the train length."""
        spec = self.spec()
        if self.factor == "auto":
            if length <= train_length:
                return None
            spec["factor"] = length / train_length
        spec.setdefault("original_length", train_length)
        return spec

    def label(self) -> str:
        """Short name used in result rows: ``yarn4``, ``linear2.5``, ``yarn-auto``."""
        return f"{self.type}{'-auto' if self.factor == 'auto' else format(float(self.factor), 'g')}"

    @staticmethod
    def type_of(label: str) -> str:
        """The rule type of a row's label (``yarn4`` → ``yarn``); ``none`` for unscaled rows."""
        return next((t for t in SCALING_TYPES if str(label).startswith(t)), "none")

    def ntk_base(self, base: float, dim: int, seq_len: int | None = None) -> float:
        """The rotary base of NTK-aware scaling for rotary width ``dim``: base·s^(dim/(dim−2))
        with s = factor (``ntk``) or, for ``dynamic``, s = factor·L/original − (factor − 1)
        at the current length L (never below the original length)."""
        factor = float(self.factor)
        if self.type == "dynamic":
            length = max(seq_len or self.original_length, self.original_length)
            factor = factor * length / self.original_length - (factor - 1)
        return base * factor ** (dim / (dim - 2))

    def hf_parameters(self, theta: float, head_dim: int, max_positions: int) -> dict:
        """The rule in transformers' ``rope_parameters`` form. Static NTK has no
        transformers type: it is the default rotation with the rescaled base."""
        if self.type == "ntk":
            return {"rope_type": "default", "rope_theta": self.ntk_base(theta, head_dim)}
        out = {"rope_type": self.type, "rope_theta": theta, "factor": float(self.factor)}
        if self.type == "yarn":
            out["original_max_position_embeddings"] = int(self.original_length or max_positions)
        return out
