"""Training recipes: YAML files (bundled ones in ``pope_bench/training/recipes/``) that fix the data,
the model shape and the optimisation, so that a checkpoint is reproducible from its recipe,
its ``--pe`` and its seed. Any field can be overridden with ``--set section.key=value``,
which is how the same recipe reaches the paper's sizes by configuration only.

:class:`Recipe` is the one schema of the file kind: its sections own every field's type,
range and default (the bundled YAML files do not repeat defaults)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

from pope_bench.core.errors import BadInput, closest
from pope_bench.core.schema import (
    Identifier,
    StrictModel,
    loader_check,
    read_yaml,
    validate,
)

Fraction = Annotated[float, Field(ge=0.0, lt=1.0)]


class CurriculumStage(StrictModel):
    """Train on the tasks at ``scale`` × their 1× size while ``step < until_step``."""

    until_step: PositiveInt
    scale: Annotated[float, Field(gt=0.0, lt=1.0)]
    #: a narrower shift range for this stage (default: the scaled task's own)
    max_shift: NonNegativeInt | None = None


class DataSection(StrictModel):
    """``kind: corpus`` (windows of a corpus's train split) or ``kind: tasks`` (the indexing tasks)."""

    kind: Literal["corpus", "tasks"] = "corpus"
    corpus: str | None = None
    #: corpus only: characters read (whole documents), for quick runs
    limit: PositiveInt | None = None
    tasks: list[str] | None = Field(default=None, min_length=1)
    #: tasks only: shorter tasks first (see pope_bench.training.batches.training_stages)
    curriculum: list[CurriculumStage] | None = None
    #: tasks only: training-only 1× string lengths [min, max] (the tested tasks never change)
    string_length: tuple[PositiveInt, PositiveInt] | None = None
    #: tasks only: queries per string in a training row, loss on every target (default
    #: :data:`SINGLE_QUERY`, the tested format; read it with :func:`queries_per_string`)
    queries: PositiveInt | None = None

    @model_validator(mode="after")
    def _fields_fit_the_kind(self):
        own = {"corpus": {"corpus", "limit"}, "tasks": {"tasks", "curriculum", "string_length", "queries"}}
        needed = {"corpus": "corpus", "tasks": "tasks"}[self.kind]
        if getattr(self, needed) is None:
            raise ValueError(f"data.kind {self.kind} needs data.{needed}")
        for other, fields in own.items():
            for name in fields if other != self.kind else ():
                if getattr(self, name) is not None:
                    raise ValueError(f"data.{name} applies to data.kind {other} only; remove it")
        return self


#: queries per string when a recipe gives none: the tested single-query format. Left out of
#: the resolved recipe (None is dropped), so recipes written before the field resume as they were.
SINGLE_QUERY = 1


def queries_per_string(data: DataSection | dict) -> int:
    """A recipe's ``data.queries``, typed or resolved to a dict (the one reading of its default)."""
    queries = data.queries if isinstance(data, DataSection) else data.get("queries")
    return queries or SINGLE_QUERY


def encoding_field_names() -> set[str]:
    """Keys a recipe's model section may carry for the encoding chosen with ``--pe``: any
    registered encoding's declared fields (``--pe`` picks which apply when the model is built)."""
    from pope_bench.encodings import field_owners

    return set(field_owners())


class ModelSection(BaseModel):
    """The model's shape; an encoding's own fields (e.g. PoPE's ``delta_init``) may sit
    beside them and are checked against ``--pe`` when the model is built."""

    model_config = ConfigDict(extra="allow", frozen=True)

    hidden_size: PositiveInt = 256
    num_hidden_layers: PositiveInt = 4
    num_attention_heads: PositiveInt = 4
    intermediate_size: PositiveInt | None = None
    dropout: Fraction = 0.0

    @model_validator(mode="before")
    @classmethod
    def _only_known_keys(cls, data):
        # the encodings (and so the plugins) are asked only about keys that are not the shape's:
        # importing this module, or a recipe of plain shape keys, loads no plugin
        if isinstance(data, dict) and any(key not in cls.model_fields for key in data):
            valid = [*cls.model_fields, *sorted(encoding_field_names())]
            for key in data:
                if key not in valid:
                    raise ValueError(f"unknown key {key!r}{closest(str(key), valid)} (valid: {', '.join(valid)})")
        return data


class TrainSection(StrictModel):
    length: PositiveInt = 128
    batch_size: PositiveInt = 32
    steps: PositiveInt = 1000
    lr: PositiveFloat = 1e-3
    min_lr: NonNegativeFloat = 1e-4
    warmup_steps: NonNegativeInt = 50
    beta1: Fraction = 0.9
    beta2: Fraction = 0.99
    weight_decay: NonNegativeFloat = 0.01
    grad_clip: PositiveFloat = 1.0
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    checkpoint_every: PositiveInt = 100
    eval_every: PositiveInt = 100
    eval_batches: PositiveInt = 8
    #: the supervised targets the run must reach (steps × batch_size × targets per row);
    #: a recipe (or --set) whose steps fall short is refused before anything is written
    min_targets: PositiveInt | None = None
    #: the device the recipe's budget is sized for: ``pope-bench train`` refuses another
    #: (a paper-size run on a CPU would take days) unless ``--dry-run``
    sized_for: Literal["cuda"] | None = None


class Recipe(StrictModel):
    name: Identifier
    tokenizer: str
    data: DataSection
    model: ModelSection = ModelSection()
    train: TrainSection = TrainSection()

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data):
        """A section whose every field is the default (all commented out) reads as empty."""
        if isinstance(data, dict):
            return {k: ({} if k in ("model", "train") and v is None else v) for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _steps_reach_the_targets(self):
        t = self.train
        if t.min_targets is not None:
            per_row = (self.data.queries or 1) if self.data.kind == "tasks" else t.length - 1
            reached = t.steps * t.batch_size * per_row
            if reached < t.min_targets:
                needed = -(-t.min_targets // (t.batch_size * per_row))
                raise ValueError(f"train.steps {t.steps} × batch_size {t.batch_size} × {per_row} targets per row "
                                 f"= {reached:,} supervised targets, fewer than train.min_targets "
                                 f"{t.min_targets:,}; set train.steps ≥ {needed}")
        return self

    @field_validator("tokenizer")
    @classmethod
    def _known_tokenizer(cls, value: str) -> str:
        from pope_bench.data.tokenizers import check_tokenizer_name

        return loader_check(check_tokenizer_name, value)


def bundled_recipes() -> dict[str, Path]:
    folder = resources.files("pope_bench.training") / "recipes"
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml")}


def load_recipe(name_or_path: str, overrides: list[str] = ()) -> dict:
    """The recipe as a plain dict (every default filled in, overrides applied, validated)."""
    path = Path(name_or_path)
    if not path.exists():
        known = bundled_recipes()
        if name_or_path not in known:
            raise BadInput(
                f"no recipe {name_or_path!r}{closest(name_or_path, known)}; give a YAML path or one of: "
                f"{', '.join(sorted(known))}"
            )
        path = known[name_or_path]
    raw = read_yaml(path, "recipe")
    if not isinstance(raw, dict):
        raise BadInput(f"recipe {path} must be a mapping with data, model and train sections")
    raw = {"name": path.stem, **raw}
    validate(Recipe, raw, f"recipe {path}")  # the file alone, so its own mistakes are named as such
    for item in overrides:
        apply_override(raw, item)
    where = f"recipe {path}" + (f" with --set {' --set '.join(overrides)}" if overrides else "")
    return validate(Recipe, raw, where).model_dump(mode="json", exclude_none=True)


def apply_override(raw: dict, item: str) -> None:
    """``section.key=value`` with a YAML value, e.g. ``train.steps=100000``; the result is
    validated with the whole recipe."""
    key, sep, text = item.partition("=")
    parts = key.split(".")
    if not sep or len(parts) != 2 or parts[0] not in ("data", "model", "train"):
        raise BadInput(f"--set {item!r} must look like section.key=value with section data, model or train")
    section, field = parts
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        raise BadInput(f"--set {item!r}: the value is not valid YAML") from None
    current = raw.get(section)
    raw[section] = {**(current if isinstance(current, dict) else {}), field: value}


def dry_run(recipe: dict) -> dict:
    """The recipe shrunk to a few CPU steps that go through every stage of it — a tiny
    model (2 × 32), batch 4, one step per curriculum stage then two of the final task,
    an evaluation and a checkpoint every step — to check a prepared run end to end before
    it meets the device it is sized for (``sized_for`` and ``min_targets`` are dropped)."""
    train = {k: v for k, v in recipe["train"].items() if k not in ("min_targets", "sized_for")}
    stages = recipe["data"].get("curriculum") or []
    steps = len(stages) + 2
    data = {**recipe["data"], **({"curriculum": [{**stage, "until_step": i + 1} for i, stage in enumerate(stages)]}
                                 if stages else {})}
    model = {**recipe["model"], "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2}
    model.pop("intermediate_size", None)
    train.update(batch_size=4, steps=steps, warmup_steps=1, eval_every=1, checkpoint_every=1, eval_batches=1)
    return validate(Recipe, {**recipe, "name": f"{recipe['name']}-dry-run", "data": data, "model": model,
                             "train": train}, "dry run").model_dump(mode="json", exclude_none=True)
