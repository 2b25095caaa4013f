"""Resumable training state without pickle: one ``train_state.safetensors`` file.

Tensors (model weights, AdamW moments, the batch generator's state) are safetensors
entries; everything else (step, curve, optimiser hyper-parameters, the recipe and ``--pe``
that made it) is JSON in the file's metadata header. Loading never runs code from the file
(docs/contracts.md, "Security"), and a truncated or foreign file is a one-line error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from pope_bench.core.errors import BadInput

STATE_FILE = "train_state.safetensors"
_META_KEY = "pope_bench_train_state"


@dataclass
class TrainState:
    step: int
    #: supervised targets seen so far (the budget axis of the indexing study)
    targets: int
    curve: list[dict]
    recipe: str  # the resolved recipe as YAML: a resume under another recipe is refused
    pe: str


def save_state(path: Path, model, optimizer, generator: torch.Generator, state: TrainState) -> None:
    """Write atomically: a kill during the write leaves the previous state intact."""
    # clone: tied weights (embedding = LM head) share storage, which safetensors refuses
    tensors = {f"model.{k}": v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    optim = optimizer.state_dict()
    for index, slots in optim["state"].items():
        for slot, value in slots.items():
            tensors[f"optim.{index}.{slot}"] = value.detach().contiguous()
    tensors["generator"] = generator.get_state()
    meta = {"step": state.step, "targets": state.targets, "curve": state.curve, "recipe": state.recipe, "pe": state.pe,
            "param_groups": optim["param_groups"]}
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata={_META_KEY: json.dumps(meta)})
    tmp.replace(path)


def peek_state(path: Path) -> TrainState:
    """The JSON part alone (no tensors read): enough to check a resume is the same run."""
    return _bookkeeping(_read_meta(path))


def load_state(path: Path, model, optimizer, generator: torch.Generator) -> TrainState:
    """Restore model, optimiser and generator in place; return the run's bookkeeping."""
    meta = _read_meta(path)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as e:
        raise BadInput(f"{path} is unreadable ({e}); delete it to restart the training") from None
    model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}, strict=True)
    slots: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, slot = key.split(".", 2)
            slots.setdefault(int(index), {})[slot] = value
    optimizer.load_state_dict({"state": slots, "param_groups": meta["param_groups"]})
    generator.set_state(tensors["generator"])
    return _bookkeeping(meta)


def _bookkeeping(meta: dict) -> TrainState:
    return TrainState(step=meta["step"], targets=meta["targets"], curve=meta["curve"], recipe=meta["recipe"],
                      pe=meta["pe"])


def _read_meta(path: Path) -> dict:
    from safetensors import safe_open

    try:
        with safe_open(str(path), "pt") as f:
            meta = (f.metadata() or {}).get(_META_KEY)
    except (SafetensorError, OSError) as e:
        raise BadInput(f"{path} is not a readable training state ({e}); delete it to restart the training") from None
    if meta is None:
        raise BadInput(f"{path} holds no pope-bench training state; delete it to restart the training")
    return json.loads(meta)
