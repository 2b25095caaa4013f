"""Where a model's weights go and which attention kernel a hub model uses.

* ``--device-map auto``: accelerate's big-model loading spreads the layers over every
  visible GPU (then CPU memory), for a model larger than one GPU. It needs the model
  class to name the blocks that must not be split (``_no_split_modules``); a class that
  names none is refused before any work.
* Without it, weights still load straight onto the target device in the target dtype
  when accelerate is installed (``device_map={"": device}``: no full copy in CPU memory
  first); without accelerate they load in the target dtype on the CPU and move.
* ``--attn-implementation`` is passed to a hub model's ``from_pretrained``; ``auto`` is
  ``flash_attention_2`` on a GPU in half precision when the ``flash_attn`` package is
  installed, else ``sdpa``. Native checkpoints always attend through their own
  ``scaled_dot_product_attention`` path (:mod:`pope_bench.models.native.attention`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

import importlib

from pope_bench.core.errors import BadInput
from pope_bench.models.checkpoints import ModelEntry

DEVICE_MAPS = ("auto", "balanced", "sequential")
ATTENTION = ("auto", "sdpa", "eager", "flex_attention", "flash_attention_2")
#: the package each attention implementation needs beyond torch
ATTENTION_PACKAGES = {"flash_attention_2": "flash_attn"}


def installed(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def accelerate_usable() -> bool:
    """Whether transformers will use accelerate — asked of transformers itself (its version
    check), not of the import system: an accelerate too old for transformers imports fine,
    and deciding "present" by import while transformers decides "absent" fails every load."""
    from transformers.utils import is_accelerate_available

    return is_accelerate_available()


def check_placement(device_map: str | None, attn_implementation: str) -> None:
    """The options alone, before the grid is planned."""
    if device_map is not None:
        if device_map not in DEVICE_MAPS:
            raise BadInput(f"--device-map {device_map!r} is not one of {', '.join(DEVICE_MAPS)}")
        if not accelerate_usable():
            raise BadInput("--device-map needs accelerate (a version transformers accepts): "
                           "pip install -U 'pope-bench[accelerate]'")
    if attn_implementation not in ATTENTION:
        raise BadInput(f"--attn-implementation {attn_implementation!r} is not one of {', '.join(ATTENTION)}")
    package = ATTENTION_PACKAGES.get(attn_implementation)
    if package and not installed(package):
        raise BadInput(f"--attn-implementation {attn_implementation} needs the {package} package (pip install {package})")


def check_splittable(entry: ModelEntry) -> None:
    """Refuse ``--device-map`` for a model whose class cannot be split across devices,
    reading only its config (no weights)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    import pope_bench.models.native  # noqa: F401  (registers the native classes with the Auto API)

    source = str(entry.path) if entry.path else entry.hf
    kwargs = {"revision": entry.revision} if entry.revision else {}
    try:
        config = AutoConfig.from_pretrained(source, trust_remote_code=entry.trust_remote_code, **kwargs)
        model_class = AutoModelForCausalLM._model_mapping[type(config)]
    except (OSError, KeyError, ValueError) as e:
        raise BadInput(f"--device-map: cannot tell how to split {entry.name!r} ({source}): {str(e).splitlines()[0]}") from None
    if not model_class._no_split_modules:
        raise BadInput(f"--device-map: {entry.name!r} ({model_class.__name__}) declares no blocks to split on "
                       "(_no_split_modules); run it without --device-map on one device")


def attention_for(choice: str, device: torch.device, dtype: torch.dtype) -> str:
    if choice != "auto":
        return choice
    import torch

    flash = (device.type == "cuda" and dtype in (torch.float16, torch.bfloat16)
             and installed("flash_attn"))
    return "flash_attention_2" if flash else "sdpa"


def placement_kwargs(device_map: str | None, device: torch.device) -> dict:
    """``from_pretrained`` keyword arguments that put the weights where they run."""
    if device_map is not None:
        return {"device_map": device_map}
    return {"device_map": {"": str(device)}} if accelerate_usable() else {}

