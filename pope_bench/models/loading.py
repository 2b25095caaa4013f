"""Turning a registry entry into a ready model: weights, tokenizer, device, dtype, scaling.

Native checkpoints and hub models come out as the same :class:`LoadedModel`, so a task
never knows which kind it scores. Loading is strict: safetensors only (a folder with only
pickled ``.bin``/``.pt`` weights is refused, nothing is unpickled), and a weight that is
missing, unexpected, of another shape or newly initialised is an error, never a warning
beside an ``ok`` row. ``trust_remote_code`` is passed only when the entry asks for it.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from pope_bench.core.errors import BadInput
from pope_bench.core.scaling import Scaling
from pope_bench.data.tokenizers import get_tokenizer
from pope_bench.models.checkpoints import ModelEntry, is_native, refuse_pickled_weights
from pope_bench.models.identity import load_key, weights_fingerprint
from pope_bench.models.placement import attention_for, placement_kwargs


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
        chosen = torch.device(device)
    except RuntimeError:
        raise BadInput(f"--device {device!r} is not a device; use auto, cpu, cuda, cuda:N or mps") from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise BadInput(f"--device {device}: this machine has no CUDA GPU (torch sees none); use --device cpu or auto")
    if chosen.type == "cuda" and chosen.index is not None and chosen.index >= torch.cuda.device_count():
        raise BadInput(f"--device {device}: there are only {torch.cuda.device_count()} CUDA device(s)")
    if chosen.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise BadInput(f"--device {device}: MPS is not available on this machine; use --device cpu or auto")
    if chosen.type not in ("cpu", "cuda", "mps"):
        raise BadInput(f"--device {device!r} is not supported; use auto, cpu, cuda, cuda:N or mps")
    return chosen


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
    """A scaling rule (mapping form) as a transformers model's ``rope_parameters``, with the
    model's own rotary base and head width."""
    params = dict(getattr(config, "rope_parameters", None) or {})
    theta = params.get("rope_theta", getattr(config, "rope_theta", 10_000.0))
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    scaling = Scaling.parse(spec, config.max_position_embeddings)
    return scaling.hf_parameters(theta, head_dim, config.max_position_embeddings)


def load_model(entry: ModelEntry, scaling: dict | None, device: torch.device, dtype: torch.dtype,
               device_map: str | None = None, attn_implementation: str = "auto") -> LoadedModel:
    """Weights in ``dtype`` straight onto ``device`` (or spread by ``device_map``, see
    :mod:`.placement`); ``LoadedModel.device`` is where inputs go (the embeddings' device)."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    import pope_bench.models.native  # noqa: F401  (registers the native classes with the Auto API)

    source = str(entry.path) if entry.path else entry.hf
    kwargs = {"revision": entry.revision} if entry.revision else {}
    if entry.trust_remote_code:
        kwargs["trust_remote_code"] = True
    if entry.path is not None:
        refuse_pickled_weights(entry.path)
    try:
        config = AutoConfig.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as e:
        raise BadInput(f"cannot load the config of model {entry.name!r} from {source}: {_first_line(e)}") from None
    native = is_native(config)
    if native:
        config.pe_scaling = scaling
        config.validate_fields()
        tokenizer = get_tokenizer(config.tokenizer)
    else:
        if scaling:
            config.rope_parameters = hf_scaling_parameters(config, scaling)
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        except (OSError, ValueError, TypeError) as e:
            raise BadInput(f"model {entry.name!r} ({source}) has no usable tokenizer ({_first_line(e)}); "
                           "save one beside the weights (tokenizer.save_pretrained)") from None
        kwargs["attn_implementation"] = attention_for(attn_implementation, device, dtype)
    with _quiet_local_load(native):
        model = strict_from_pretrained(AutoModelForCausalLM, entry.name, source, config=config, dtype=dtype,
                                       **placement_kwargs(device_map, device), **kwargs)
    if device_map is None:
        model.to(device)  # a no-op when accelerate placed the weights there already
    model.eval()
    return LoadedModel(entry, model, tokenizer, load_key(weights_fingerprint(entry), scaling), scaling, model.device,
                       dtype)


def strict_from_pretrained(auto_class, name: str, source: str, **kwargs):
    """``from_pretrained`` with safetensors only, and every weight accounted for: the
    checkpoint's tensors must be exactly the model's (tied weights aside)."""
    from safetensors import SafetensorError

    try:
        model, info = auto_class.from_pretrained(source, use_safetensors=True, output_loading_info=True, **kwargs)
    except (OSError, ValueError, RuntimeError, SafetensorError) as e:
        raise BadInput(f"cannot load the weights of {name!r} from {source}: {_first_line(e)}") from None
    require_matching_weights(name, source, info["missing_keys"], info["unexpected_keys"],
                             [str(k[0]) for k in info["mismatched_keys"]], info["error_msgs"])
    return model


def require_matching_weights(name: str, where, missing, unexpected, other_shape, errors=()) -> None:
    """The strict weight check: a checkpoint's tensors are exactly the model's (tied weights
    aside), or one line naming how many are missing, unexpected or of another shape."""
    problems = {"missing": sorted(missing), "unexpected": sorted(unexpected), "of another shape": sorted(other_shape)}
    problems = {kind: keys for kind, keys in problems.items() if keys}
    if problems or errors:
        shown = "; ".join(f"{len(keys)} {kind} (e.g. {keys[0]})" for kind, keys in problems.items())
        raise BadInput(f"the weights of {name!r} in {where} do not match its config.json: "
                       f"{shown or _first_line(list(errors)[0])}; fix config.json or retrain")


def _first_line(error) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def verify_native_weights(entry: ModelEntry) -> None:
    """Before any work: a native checkpoint's tensors (names and shapes, from the
    safetensors header) must be exactly those of the model its config.json describes — a
    config that says 6 layers over weights of 4 would otherwise run with 2 random layers."""
    from safetensors import SafetensorError, safe_open

    from pope_bench.models.native import PopeBenchConfig, PopeBenchForCausalLM

    try:
        config = PopeBenchConfig.from_pretrained(str(entry.path))
    except (OSError, ValueError, TypeError) as e:
        raise BadInput(f"model {entry.name!r}: config.json is unusable ({_first_line(e)})") from None
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in PopeBenchForCausalLM(config).state_dict().items()}
    found = {}
    for file in sorted(entry.path.glob("*.safetensors")):
        try:
            with safe_open(str(file), "pt") as f:
                found.update({k: tuple(f.get_slice(k).get_shape()) for k in f.keys()})
        except (SafetensorError, OSError) as e:
            raise BadInput(f"{file} is not a readable safetensors file ({e}); restore or retrain it") from None
    tied = {k for k in expected if k not in found and config.tie_word_embeddings and k.endswith("lm_head.weight")}
    require_matching_weights(entry.name, entry.path, set(expected) - set(found) - tied, set(found) - set(expected),
                             [k for k in set(found) & set(expected) if found[k] != expected[k]])


@contextmanager
def _quiet_local_load(quiet: bool):
    """No "Loading weights" bar for a native checkpoint (a blink on a terminal, one noise
    line per model in a log); hub models keep theirs, which may be a download."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    if quiet:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if quiet and was:
            hf_logging.enable_progress_bar()
