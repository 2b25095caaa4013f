"""The checkpoint registry (``checkpoints.yaml``, DESIGN.md) and model loading.

An entry is one of:

* a native checkpoint: ``path:`` (relative to the YAML file) to a folder written by
  ``pope-bench train`` (``config.json`` + ``model.safetensors``);
* a Hugging Face causal LM: ``hf: org/name`` (+ ``revision``), loaded with
  ``AutoModelForCausalLM``; ``trust_remote_code: true`` only if the entry says so;
* a variant: ``base: other-entry`` + ``rope_scaling: {type, factor}`` — the same weights
  with eval-time RoPE scaling. ``factor: auto`` ties the factor to L / train_length at
  each evaluated length L (no scaling at or below the train length).

Training seeds: ``seed`` (the seed the checkpoint was trained with) and ``group`` (a name
shared by checkpoints of one recipe trained with different seeds). Tables and plots show
the spread over a group's checkpoints as the spread over training seeds — the paper's
"± over 3 seeds"; a variant belongs to no group unless it names one.

``--model`` also accepts a bare local folder or a hub id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, NonNegativeInt, PositiveInt, StrictBool, field_validator, model_validator

from pope_bench.core.errors import BadInput, closest
from pope_bench.core.scaling_types import SCALING_TYPES
from pope_bench.core.schema import StrictModel, check_identifier, read_yaml, validate

#: Longest length relative to the train length that a sweep may ask for: far beyond any
#: extrapolation regime anyone reports (the paper goes to 10×), and the point past which
#: a typo (16k instead of 1.6k) is likelier than intent.
MAX_LENGTH_RATIO = 64

DOMAINS = {"bytes": "text", "gpt2": "text", "hf": "text", "chars": "indexing", "jsb": "music", "dna6": "dna"}


@dataclass
class ModelEntry:
    name: str
    pe: str
    train_length: int
    tokenizer: str
    path: Path | None = None
    hf: str | None = None
    revision: str | None = None
    trust_remote_code: bool = False
    rope_scaling: dict | None = None
    base: str | None = None
    description: str = ""
    max_length: int | None = None
    # training seeds (see the module docstring)
    seed: int | None = None
    group: str | None = None

    @property
    def domain(self) -> str:
        return DOMAINS.get(self.tokenizer, "text")

    @property
    def scaling_label(self) -> str:
        if not self.rope_scaling:
            return "none"
        factor = self.rope_scaling.get("factor")
        return f"{self.rope_scaling['type']}{'-auto' if factor == 'auto' else format(float(factor), 'g')}"

    @property
    def source(self) -> str:
        if self.hf:
            return f"hf:{self.hf}" + (f"@{self.revision}" if self.revision else "")
        return str(self.path)

    @property
    def length_limit(self) -> int:
        return self.max_length or MAX_LENGTH_RATIO * self.train_length

    def scaling_for(self, length: int) -> dict | None:
        """The concrete scaling rule used at evaluation length ``length``."""
        if not self.rope_scaling:
            return None
        spec = dict(self.rope_scaling)
        if spec.get("factor") == "auto":
            if length <= self.train_length:
                return None
            spec["factor"] = length / self.train_length
        spec.setdefault("original_length", self.train_length)
        return spec


class RopeScaling(StrictModel):
    """An eval-time scaling rule: ``type`` one of SCALING_TYPES, ``factor`` > 1 or ``auto``."""

    type: str
    factor: float | Literal["auto"]

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in SCALING_TYPES:
            raise ValueError(f"must be one of {', '.join(SCALING_TYPES)}{closest(value, SCALING_TYPES)}")
        return value

    @field_validator("factor")
    @classmethod
    def _above_one(cls, value):
        if value != "auto" and not value > 1:
            raise ValueError("must be a number > 1 or 'auto'")
        return value


class CheckpointSpec(StrictModel):
    """A native checkpoint (``path:``) or a hub causal LM (``hf:``), as written in the registry."""

    path: str | None = None
    hf: str | None = None
    revision: str | None = None
    pe: str
    train_length: PositiveInt
    tokenizer: str | None = None  # default: "hf" for hub entries, "bytes" for native ones
    description: str = ""
    max_length: PositiveInt | None = None
    trust_remote_code: StrictBool = False
    rope_scaling: RopeScaling | None = None
    #: the seed the checkpoint was trained with
    seed: NonNegativeInt | None = None
    #: a name shared by checkpoints of one recipe trained with different seeds
    group: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one_source(self):
        if (self.path is None) == (self.hf is None):
            raise ValueError("needs exactly one of path: (native checkpoint) or hf: (hub id)")
        return self


class VariantSpec(StrictModel):
    """``base:`` + ``rope_scaling:``: the base entry's weights with eval-time scaling."""

    base: str
    rope_scaling: RopeScaling
    description: str = ""
    #: a variant belongs to no training-seed group unless it names one
    group: Annotated[str, Field(min_length=1)] | None = None


def load_registry(path: Path) -> dict[str, ModelEntry]:
    """All entries, variants resolved onto their base; every problem is one BadInput line."""
    data = read_yaml(path, "checkpoint registry")
    if not isinstance(data, dict) or set(data) != {"models"} or not isinstance(data["models"], dict):
        raise BadInput(f"checkpoint registry {path} must be a mapping with one key, models:, holding the entries")
    raw = data["models"]
    entries: dict[str, ModelEntry] = {}
    for name, spec in raw.items():
        check_identifier(str(name), f"{path}: model")
        if not isinstance(spec, dict):
            raise BadInput(f"{path}: entry {name!r} must be a mapping (path:/hf:/base: ...)")
        if "base" not in spec:
            entries[name] = _entry_from(name, validate(CheckpointSpec, spec, f"{path}: entry {name!r}"), path.parent)
    for name, spec in raw.items():
        if "base" not in spec:
            continue
        variant = validate(VariantSpec, spec, f"{path}: entry {name!r}")
        base = entries.get(variant.base)
        if base is None:
            raise BadInput(f"{path}: {name!r} has base {variant.base!r}, which is not a non-variant entry"
                           f"{closest(variant.base, entries)}")
        entries[name] = replace(base, name=name, base=base.name, group=variant.group,
                                rope_scaling=variant.rope_scaling.model_dump(),
                                description=variant.description or f"{base.name} with {variant.rope_scaling.model_dump()}")
    return entries


def _entry_from(name: str, spec: CheckpointSpec, root: Path) -> ModelEntry:
    return ModelEntry(
        name=name,
        pe=spec.pe,
        train_length=spec.train_length,
        tokenizer=spec.tokenizer or ("hf" if spec.hf else "bytes"),
        path=(root / spec.path).resolve() if spec.path else None,
        hf=spec.hf,
        revision=spec.revision,
        trust_remote_code=spec.trust_remote_code,
        rope_scaling=spec.rope_scaling.model_dump() if spec.rope_scaling else None,
        description=spec.description,
        max_length=spec.max_length,
        seed=spec.seed,
        group=spec.group,
    )


def check_encoding(entry: ModelEntry) -> None:
    """A native model's ``pe`` must be a registered encoding, and ``rope_scaling`` needs
    one with rotary frequencies. Checked when a sweep plans (not when the registry is
    read): the encoding registry imports torch and plugins, which `list` commands and
    input errors should not wait for. (A hub model's pe only labels its rows: its
    positions are transformers' own.)"""
    if entry.tokenizer == "hf":
        return
    from pope_bench.encodings import get_encoding, origin

    cls = get_encoding(entry.pe)
    if entry.rope_scaling and not cls.rope_scaling:
        raise BadInput(f"model {entry.name!r}: rope_scaling does not apply to pe {entry.pe!r} (no rotary "
                       f"frequencies, package {origin(entry.pe)}); remove it")


def check_native_entry(entry: ModelEntry) -> None:
    """A native checkpoint's registry entry must say what its config.json says: a ``pe:``
    that differs would label every row with the wrong encoding."""
    config = read_config(entry.path)
    if config.get("model_type") != "pope_bench":
        return
    for field_name in ("pe", "train_length", "tokenizer"):
        if field_name in config and config[field_name] != getattr(entry, field_name):
            raise BadInput(f"model {entry.name!r}: the registry says {field_name}: {getattr(entry, field_name)!r} but "
                           f"{entry.path / 'config.json'} says {config[field_name]!r}; fix the registry entry")


def read_config(folder: Path) -> dict:
    """A checkpoint folder's config.json as a mapping, or a one-line error."""
    path = Path(folder) / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{folder} has no config.json; point at a folder written by save_pretrained") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadInput(f"{path} is not valid JSON ({e}); restore the checkpoint's config") from None
    if not isinstance(config, dict):
        raise BadInput(f"{path} must hold a JSON object, not {type(config).__name__}")
    return config


def entry_for(name: str, registry: dict[str, ModelEntry]) -> ModelEntry:
    """A registry entry by name, or one made on the fly for a bare local folder or hub id."""
    if name in registry:
        return registry[name]
    folder = Path(name)
    if folder.is_dir():
        label = folder.resolve().name  # `-m .` and `-m ../ck/` are named like the folder they are
        config = read_config(folder)
        if config.get("model_type") == "pope_bench":
            spec = validate(CheckpointSpec, {"path": str(folder), "pe": config.get("pe"), "train_length":
                            config.get("train_length"), "tokenizer": config.get("tokenizer", "bytes")},
                            f"{folder / 'config.json'}")
            return _entry_from(label, spec, Path.cwd())
        from pope_bench.models.hub_ids import config_facts

        return ModelEntry(name=label, tokenizer="hf", path=folder.resolve(), **config_facts(config))
    from pope_bench.models.hub_ids import hub_model_facts

    return ModelEntry(name=name, tokenizer="hf", **hub_model_facts(name, registry))


PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


def refuse_pickled_weights(folder: Path) -> None:
    """A local folder must hold safetensors weights; pickled ones are never loaded."""
    if any(folder.glob("*.safetensors")):
        return
    pickled = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES) if folder.is_dir() else []
    if pickled:
        raise BadInput(
            f"{folder} holds only pickled weights ({', '.join(pickled)}), which pope-bench never loads; convert "
            "them once where you trust the file: model = AutoModelForCausalLM.from_pretrained(DIR); "
            "model.save_pretrained(DIR, safe_serialization=True)")
    raise BadInput(f"{folder} holds no *.safetensors weights; train it (`pope-bench train`) or fix the path")


def is_native(entry: ModelEntry) -> bool:
    """A folder written by ``pope-bench train`` (``model_type: pope_bench``), not a hub model."""
    config = entry.path / "config.json" if entry.path is not None else None
    return config is not None and config.exists() and json.loads(config.read_text()).get("model_type") == "pope_bench"


def fingerprint_files(folder: Path) -> str:
    """sha256 over a checkpoint's config and weights: part of every result's cell key."""
    refuse_pickled_weights(folder)
    h = hashlib.sha256()
    files = sorted(folder.glob("*.safetensors")) + [folder / "config.json"]
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def parameter_count(entry: ModelEntry) -> str:
    """Parameters of a native checkpoint, as e.g. ``3.2M``, from the shapes in its
    safetensors header (8-byte little-endian length + JSON): no weights read, no torch
    import; ``?`` for hub models or missing files."""
    import math
    import struct

    weights = entry.path / "model.safetensors" if entry.path is not None else None
    if weights is None or not weights.exists():
        return "?"
    with open(weights, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    total = sum(math.prod(t["shape"]) for name, t in header.items() if name != "__metadata__")
    return f"{total / 1e6:.1f}M"
