"""Training recipes: YAML files (bundled ones in ``pope_bench/recipes/``) that fix the data,
the model shape and the optimisation, so that a checkpoint is reproducible from its recipe,
its ``--pe`` and its seed. Any field can be overridden with ``--set section.key=value``,
which is how the same recipe reaches the paper's sizes by configuration only."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path

import yaml

from ..errors import BadInput, closest

TRAIN_DEFAULTS = {
    "length": 128,
    "batch_size": 32,
    "steps": 1000,
    "lr": 1e-3,
    "min_lr": 1e-4,
    "warmup_steps": 50,
    "beta1": 0.9,
    "beta2": 0.99,
    "weight_decay": 0.01,
    "grad_clip": 1.0,
    "seed": 0,
    "checkpoint_every": 100,
    "eval_every": 100,
    "eval_batches": 8,
}


def bundled_recipes() -> dict[str, Path]:
    folder = resources.files("pope_bench") / "recipes"
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml")}


def load_recipe(name_or_path: str, overrides: list[str] = ()) -> dict:
    """The recipe as a dict with every training default filled in and overrides applied."""
    path = Path(name_or_path)
    if not path.exists():
        known = bundled_recipes()
        if name_or_path not in known:
            raise BadInput(
                f"no recipe {name_or_path!r}{closest(name_or_path, known)}; give a YAML path or one of: "
                f"{', '.join(sorted(known))}"
            )
        path = known[name_or_path]
    try:
        recipe = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise BadInput(f"{path} is not valid YAML ({str(e).splitlines()[0]}); fix the file") from None
    if not isinstance(recipe, dict) or "data" not in recipe or "model" not in recipe:
        raise BadInput(f"{path} must be a mapping with 'data', 'model' and 'train' sections")
    recipe = copy.deepcopy(recipe)
    recipe["name"] = recipe.get("name", path.stem)
    recipe["train"] = {**TRAIN_DEFAULTS, **(recipe.get("train") or {})}
    unknown = set(recipe["train"]) - set(TRAIN_DEFAULTS)
    if unknown:
        raise BadInput(f"{path}: unknown train field(s) {', '.join(sorted(unknown))}; known: {', '.join(TRAIN_DEFAULTS)}")
    for item in overrides:
        apply_override(recipe, item)
    return recipe


def apply_override(recipe: dict, item: str) -> None:
    """``section.key=value`` with a YAML value, e.g. ``train.steps=100000``."""
    key, sep, raw = item.partition("=")
    parts = key.split(".")
    if not sep or len(parts) != 2 or parts[0] not in ("data", "model", "train"):
        raise BadInput(f"--set {item!r} must look like section.key=value with section data, model or train")
    section, field = parts
    if section == "train" and field not in TRAIN_DEFAULTS:
        raise BadInput(f"--set {item!r}: unknown train field {field!r}{closest(field, TRAIN_DEFAULTS)}")
    value = yaml.safe_load(raw)
    default = TRAIN_DEFAULTS.get(field) if section == "train" else None
    if isinstance(default, (int, float)) and not isinstance(value, (int, float)):
        try:  # YAML reads 2e-4 (no dot) as a string
            value = type(default)(float(value)) if isinstance(default, float) else int(value)
        except (TypeError, ValueError):
            raise BadInput(f"--set {item!r}: {field} must be a number") from None
    recipe.setdefault(section, {})[field] = value
