"""The checkpoint registry (``checkpoints.yaml``, DESIGN.md) and model loading.

An entry is one of:

* a native checkpoint: ``path:`` (relative to the YAML file) to a folder written by
  ``pope-bench train`` (``config.json`` + ``model.safetensors``);
* a Hugging Face causal LM: ``hf: org/name`` (+ ``revision``), loaded with
  ``AutoModelForCausalLM``; ``trust_remote_code: true`` only if the entry says so;
* a variant: ``base: other-entry`` + ``rope_scaling: {type, factor}`` — the same weights
  with eval-time RoPE scaling. ``factor: auto`` ties the factor to L / train_length at
  each evaluated length L (no scaling at or below the train length).

``--model`` also accepts a bare local folder or a hub id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..encodings import SCALING_TYPES
from ..errors import BadInput, closest

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
    extra: dict = field(default_factory=dict)

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


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise BadInput(f"checkpoint registry {path} does not exist; pass --checkpoints FILE") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"cannot read checkpoint registry {path}: {e}") from None
    except yaml.YAMLError as e:
        first = str(e).replace("\n", " ")
        raise BadInput(f"checkpoint registry {path} is not valid YAML ({first}); fix the file") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise BadInput(f"checkpoint registry {path} must be a mapping with a 'models:' mapping of entries")
    return data["models"]


def _validate_scaling(name: str, spec) -> dict:
    if not isinstance(spec, dict) or spec.get("type") not in SCALING_TYPES:
        raise BadInput(f"{name}: rope_scaling needs type one of {', '.join(SCALING_TYPES)} and a factor (> 1 or auto)")
    factor = spec.get("factor")
    if factor != "auto" and not (isinstance(factor, (int, float)) and factor > 1):
        raise BadInput(f"{name}: rope_scaling.factor must be a number > 1 or 'auto', got {factor!r}")
    return dict(spec)


def load_registry(path: Path) -> dict[str, ModelEntry]:
    """All entries, variants resolved onto their base; every problem is one BadInput line."""
    raw = _read_yaml(path)
    entries: dict[str, ModelEntry] = {}
    for name, spec in raw.items():
        if not isinstance(spec, dict):
            raise BadInput(f"{path}: entry {name!r} must be a mapping (path:/hf:/base: ...)")
    for name, spec in raw.items():
        if "base" in spec:
            continue
        entries[name] = _entry_from(name, spec, path.parent)
    for name, spec in raw.items():
        if "base" not in spec:
            continue
        base = entries.get(spec["base"])
        if base is None:
            raise BadInput(f"{path}: {name!r} has base {spec['base']!r}, which is not a non-variant entry")
        if base.pe not in ("rope", "pope"):
            raise BadInput(f"{path}: {name!r} scales {base.name!r}, whose pe {base.pe!r} has no frequencies")
        entries[name] = ModelEntry(
            **{**base.__dict__, "name": name, "base": base.name,
               "rope_scaling": _validate_scaling(name, spec.get("rope_scaling")),
               "description": spec.get("description", f"{base.name} with {spec.get('rope_scaling')}")}
        )
    return entries


def _entry_from(name: str, spec: dict, root: Path) -> ModelEntry:
    if ("path" in spec) == ("hf" in spec):
        raise BadInput(f"entry {name!r} needs exactly one of path: (native checkpoint) or hf: (hub id)")
    for required in ("pe", "train_length"):
        if required not in spec:
            raise BadInput(f"entry {name!r} is missing {required}:")
    if not isinstance(spec["train_length"], int) or spec["train_length"] < 1:
        raise BadInput(f"entry {name!r}: train_length must be a positive integer")
    known = set(ModelEntry.__dataclass_fields__) - {"name", "extra", "path", "base"} | {"path", "domain"}
    unknown = set(spec) - known
    if unknown:
        raise BadInput(f"entry {name!r}: unknown field(s) {', '.join(sorted(unknown))}")
    return ModelEntry(
        name=name,
        pe=spec["pe"],
        train_length=spec["train_length"],
        tokenizer=spec.get("tokenizer", "hf" if "hf" in spec else "bytes"),
        path=(root / spec["path"]).resolve() if "path" in spec else None,
        hf=spec.get("hf"),
        revision=spec.get("revision"),
        trust_remote_code=bool(spec.get("trust_remote_code", False)),
        rope_scaling=_validate_scaling(name, spec["rope_scaling"]) if spec.get("rope_scaling") else None,
        description=spec.get("description", ""),
        max_length=spec.get("max_length"),
    )


def entry_for(name: str, registry: dict[str, ModelEntry]) -> ModelEntry:
    """A registry entry by name, or one made on the fly for a bare local folder or hub id."""
    if name in registry:
        return registry[name]
    folder = Path(name)
    if folder.is_dir():
        config_file = folder / "config.json"
        if not config_file.exists():
            raise BadInput(f"{folder} has no config.json; point --model at a folder written by save_pretrained")
        config = json.loads(config_file.read_text())
        if config.get("model_type") == "pope_bench":
            return ModelEntry(name=folder.name, pe=config["pe"], train_length=config["train_length"],
                              tokenizer=config.get("tokenizer", "bytes"), path=folder.resolve())
        return ModelEntry(name=folder.name, pe="rope", tokenizer="hf", path=folder.resolve(),
                          train_length=int(config.get("max_position_embeddings", 2048)))
    if "/" in name and not name.startswith((".", "/")):
        return ModelEntry(name=name, pe="rope", tokenizer="hf", hf=name, train_length=_hub_train_length(name))
    raise BadInput(f"unknown model {name!r}{closest(name, registry)}; see `pope-bench list models`")


def _hub_train_length(repo: str) -> int:
    """A hub model's context length, from its config alone (no weights are fetched)."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(repo)
    except (OSError, ValueError) as e:
        raise BadInput(f"unknown model {repo!r}: not in the registry, not a folder, and the hub says: "
                       f"{str(e).splitlines()[0]}") from None
    return int(getattr(config, "max_position_embeddings", 2048))


def is_native(entry: ModelEntry) -> bool:
    """A folder written by ``pope-bench train`` (``model_type: pope_bench``), not a hub model."""
    config = entry.path / "config.json" if entry.path is not None else None
    return config is not None and config.exists() and json.loads(config.read_text()).get("model_type") == "pope_bench"


def fingerprint_files(folder: Path) -> str:
    """sha256 over a checkpoint's config and weights: part of every result's cell key."""
    h = hashlib.sha256()
    files = sorted(folder.glob("*.safetensors")) + [folder / "config.json"]
    if not any(f.suffix == ".safetensors" for f in files):
        raise BadInput(f"{folder} holds no *.safetensors weights; train it (`pope-bench train`) or fix the path")
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def parameter_count(entry: ModelEntry) -> str:
    """Parameters of a native checkpoint from its safetensors header (no weights read),
    as e.g. ``3.2M``; ``?`` for hub models or missing files."""
    import math

    from safetensors import safe_open

    if entry.path is None or not (entry.path / "model.safetensors").exists():
        return "?"
    with safe_open(entry.path / "model.safetensors", "pt") as f:
        total = sum(math.prod(f.get_slice(name).get_shape()) for name in f.keys())
    return f"{total / 1e6:.1f}M"
