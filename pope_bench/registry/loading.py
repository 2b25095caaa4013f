"""Turning a registry entry into a ready model: weights, tokenizer, device, dtype, scaling.

Native checkpoints and hub models come out as the same :class:`LoadedModel`, so a task
never knows which kind it scores. Weights load through safetensors (``from_pretrained``
prefers them); ``trust_remote_code`` is passed only when the entry asks for it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

import torch

from ..errors import BadInput
from ..tokenizers import get_tokenizer
from .checkpoints import ModelEntry, fingerprint_files
from .placement import attention_for, placement_kwargs


@dataclass
class LoadedModel:
    entry: ModelEntry
    model: torch.nn.Module
    tokenizer: object
    fingerprint: str
    scaling: dict | None
    device: torch.device
    dtype: torch.dtype

    @property
    def vocab_size(self) -> int:
        return int(self.model.config.vocab_size)


def resolve_device(device: str) -> torch.device:
    """``auto``: cuda (under torchrun, rank ``LOCAL_RANK``'s GPU), then mps, then cpu."""
    if device == "auto":
        if torch.cuda.is_available():
            local_rank = os.environ.get("LOCAL_RANK")
            return torch.device("cuda", int(local_rank) % torch.cuda.device_count()) if local_rank else torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        return torch.device(device)
    except RuntimeError:
        raise BadInput(f"--device {device!r} is not a device; use auto, cpu, cuda, cuda:N or mps") from None


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """``auto``: bfloat16 on GPUs, float32 on the CPU."""
    names = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
             "float16": torch.float16, "fp16": torch.float16}
    if dtype == "auto":
        return torch.float32 if device.type == "cpu" else torch.bfloat16
    if dtype not in names:
        raise BadInput(f"--dtype {dtype!r} is not one of auto, {', '.join(names)}")
    return names[dtype]


def hf_scaling_parameters(config, spec: dict) -> dict:
    """Our scaling spec in transformers' ``rope_parameters`` form. Static NTK has no
    transformers type: it is the default rotation with the rescaled base."""
    params = dict(getattr(config, "rope_parameters", None) or {})
    theta = params.get("rope_theta", getattr(config, "rope_theta", 10_000.0))
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    factor = float(spec["factor"])
    if spec["type"] == "ntk":
        return {"rope_type": "default", "rope_theta": theta * factor ** (head_dim / (head_dim - 2))}
    out = {"rope_type": spec["type"], "rope_theta": theta, "factor": factor}
    if spec["type"] == "yarn":
        out["original_max_position_embeddings"] = int(spec.get("original_length", config.max_position_embeddings))
    return out


def load_model(entry: ModelEntry, scaling: dict | None, device: torch.device, dtype: torch.dtype,
               device_map: str | None = None, attn_implementation: str = "auto") -> LoadedModel:
    """Weights in ``dtype`` straight onto ``device`` (or spread by ``device_map``, see
    :mod:`.placement`); ``LoadedModel.device`` is where inputs go (the embeddings' device)."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from .. import modeling  # noqa: F401  (registers the native classes with the Auto API)

    source = str(entry.path) if entry.path else entry.hf
    kwargs = {"revision": entry.revision} if entry.revision else {}
    if entry.trust_remote_code:
        kwargs["trust_remote_code"] = True
    try:
        config = AutoConfig.from_pretrained(source, **kwargs)
    except OSError as e:
        raise BadInput(f"cannot load model {entry.name!r} from {source}: {str(e).splitlines()[0]}") from None
    native = getattr(config, "model_type", None) == "pope_bench"
    if native:
        fingerprint = fingerprint_files(entry.path)
        config.pe_scaling = scaling
        config.validate_fields()
        tokenizer = get_tokenizer(config.tokenizer)
    else:
        fingerprint = hashlib.sha256(json.dumps([source, entry.revision], sort_keys=True).encode()).hexdigest()[:16]
        if scaling:
            config.rope_parameters = hf_scaling_parameters(config, scaling)
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        kwargs["attn_implementation"] = attention_for(attn_implementation, device, dtype)
    try:
        model = AutoModelForCausalLM.from_pretrained(source, config=config, dtype=dtype,
                                                     **placement_kwargs(device_map, device), **kwargs)
    except OSError as e:
        raise BadInput(f"cannot load weights of {entry.name!r} from {source}: {str(e).splitlines()[0]}") from None
    if device_map is None:
        model.to(device)  # a no-op when accelerate placed the weights there already
    model.eval()
    if scaling:
        fingerprint += "-" + hashlib.sha256(json.dumps(scaling, sort_keys=True).encode()).hexdigest()[:8]
    return LoadedModel(entry, model, tokenizer, fingerprint, scaling, model.device, dtype)
