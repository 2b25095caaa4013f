"""Figure specs: one YAML file per paper figure or table (``figures/specs/*.yaml``, shipped
in the wheel), naming what to draw and from which rows — the declarative half, in the
spirit of the task files. ``pope-bench figures cp NAME`` copies one out for editing;
``pope-bench figures PATH.yaml`` renders an edited copy.

Fields (every kind): ``kind`` (table | line | position_curve | heatmap), ``title``,
``caption``, ``metric`` (one name or a list), ``tasks`` (tables: ``columns`` instead),
``filters`` ({column: value or list} on result rows), ``scale`` (values are multiplied by
it, e.g. 100 for %), ``labels`` ({value: display name}).
Tables: ``columns`` ([{label, task (a name or alternatives in order of preference),
metric}]), ``average`` (label of a row-mean column), ``digits``, ``paper`` (the published
numbers: [{column, method, value, pm, model, label}] — ``model`` says which model size
produced each, ``label`` names a method pope-bench does not have).
Charts: ``x``, ``y`` (heatmaps), ``panel_rows`` / ``panel_cols`` (a result column that
splits panels), ``panel_wrap`` (line charts: at most this many panels a line, the panels
of one ``panel_rows`` value sharing their y axis), ``log_y``, ``x_label``, ``y_label``; heatmaps also ``cmap``, ``vmin``,
``vmax``, ``annotate``.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, NonNegativeInt, field_validator, model_validator

from pope_bench.core.errors import BadInput, closest
from pope_bench.core.schema import StrictModel, check_identifier, read_yaml, validate

KINDS = ("table", "line", "position_curve", "heatmap")
#: result columns that index points inside one cell; a figure uses some, the others must be empty
INDEX_COLUMNS = ("position", "depth", "layer", "frequency", "head")
#: columns a chart may place on an axis or split panels by
CHART_COLUMNS = ("model", "method", "task", "metric", "length", "length_ratio", *INDEX_COLUMNS)
COMMON = {"kind", "title", "caption", "metric", "filters", "scale", "labels"}
KIND_FIELDS = {
    "table": COMMON | {"columns", "average", "digits", "paper"},
    "line": COMMON | {"tasks", "x", "panel_rows", "panel_cols", "panel_wrap", "log_y", "x_label", "y_label"},
    "position_curve": COMMON | {"tasks", "x", "panel_rows", "panel_cols", "panel_wrap", "log_y", "x_label",
                                "y_label"},
    "heatmap": COMMON | {"tasks", "x", "y", "panel_rows", "panel_cols", "x_label", "y_label", "cmap", "vmin",
                         "vmax", "annotate"},
}


def _as_tuple(value) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


class Column(StrictModel):
    """One table column: the first of ``task`` (a name, or alternatives in order of
    preference) that has rows, at ``metric`` (default: the spec's first metric)."""

    task: tuple[str, ...] = Field(min_length=1)
    label: str  # default: the first task
    metric: str  # default: the spec's first metric

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data):
        if isinstance(data, dict) and "task" in data:
            data = {**data, "task": _as_tuple(data["task"])}
            if data["task"]:
                data.setdefault("label", str(data["task"][0]))
        return data

    @property
    def tasks(self) -> tuple[str, ...]:
        return self.task


class PaperNumber(StrictModel):
    """A published number, kept as printed (``"1.90"``, not 1.9)."""

    column: str
    method: str
    value: str
    pm: str | None = None
    model: str = ""
    label: str = ""

    @field_validator("value", "pm", mode="before")
    @classmethod
    def _as_printed(cls, value):
        return value if value is None or isinstance(value, str) else str(value)


class FigureSpec(StrictModel):
    """One figure or table. ``name`` and ``origin`` come from the file's name and path."""

    name: str
    origin: str = ""
    kind: Literal["table", "line", "position_curve", "heatmap"]
    title: str
    caption: str = ""
    metric: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    filters: dict = {}
    scale: float = 1.0
    labels: dict = {}
    columns: tuple[Column, ...] = ()
    average: str | None = None
    digits: NonNegativeInt = 2
    paper: tuple[PaperNumber, ...] = ()
    x: str | None = None
    y: str | None = None
    panel_rows: str | None = None
    panel_cols: str | None = None
    panel_wrap: int | None = Field(default=None, ge=1)
    log_y: bool = False
    x_label: str | None = None
    y_label: str | None = None
    cmap: str = "viridis"
    vmin: float | None = None
    vmax: float | None = None
    annotate: bool = False

    @model_validator(mode="before")
    @classmethod
    def _fill(cls, data):
        """Lists from single names; each table column's metric defaults to the spec's first."""
        if not isinstance(data, dict):
            return data
        data = {**data, **{k: _as_tuple(data[k]) for k in ("metric", "tasks") if k in data}}
        if data.get("metric") and isinstance(data.get("columns"), list):
            data["columns"] = [{"metric": data["metric"][0], **c} if isinstance(c, dict) else c
                               for c in data["columns"]]
        return data

    @model_validator(mode="after")
    def _check(self):
        """Fields of another kind, and what each kind needs."""
        foreign = sorted(self.model_fields_set - KIND_FIELDS[self.kind] - {"name", "origin"})
        if foreign:
            raise ValueError(f"{', '.join(foreign)} do(es) not apply to kind {self.kind}; "
                             f"its fields: {', '.join(sorted(KIND_FIELDS[self.kind]))}")
        if self.kind == "table":
            if not self.columns:
                raise ValueError("a table needs columns:")
            if not {"length", "length_ratio"} & set(self.filters):
                raise ValueError("a table reads one length; add filters: {length_ratio: 1} or {length: N}")
            return self
        if not self.tasks or not self.metric or self.x is None:
            raise ValueError("a chart needs tasks:, metric: and x:")
        if self.kind == "heatmap" and self.y is None:
            raise ValueError("a heatmap needs y:")
        for axis in ("x", "y", "panel_rows", "panel_cols"):
            value = getattr(self, axis)
            if value is not None and value not in CHART_COLUMNS:
                raise ValueError(f"{axis}: {value!r} is not one of {', '.join(CHART_COLUMNS)}")
        return self

    @property
    def all_tasks(self) -> tuple[str, ...]:
        if self.kind == "table":
            return tuple(t for c in self.columns for t in c.tasks)
        return self.tasks

    @property
    def used_columns(self) -> set[str]:
        """The index columns this figure reads; rows must have them (and not the others)."""
        return {c for c in (self.x, self.y, self.panel_rows, self.panel_cols) if c in INDEX_COLUMNS}


def specs_dir() -> Path:
    return Path(str(resources.files("pope_bench.report.figures") / "specs"))


def bundled() -> dict[str, Path]:
    return {p.stem: p for p in sorted(specs_dir().glob("*.yaml"))}


def bundled_path(name: str) -> Path:
    specs = bundled()
    if name not in specs:
        raise BadInput(f"unknown figure {name!r}{closest(name, specs)}; see `pope-bench figures --list`")
    return specs[name]


def parse_spec(data, name: str, origin: str) -> FigureSpec:
    """A validated spec; every problem is one BadInput line naming the file and field."""
    if not isinstance(data, dict):
        raise BadInput(f"{origin}: a figure spec is a mapping with kind: one of {', '.join(KINDS)}")
    for reserved in ("name", "origin"):
        if reserved in data:
            raise BadInput(f"{origin}: {reserved}: is taken from the file, remove it")
    check_identifier(name, "figure spec name")
    return validate(FigureSpec, {**data, "name": name, "origin": origin}, origin)


def load_spec(name_or_path: str) -> FigureSpec:
    """A bundled spec by name, or a spec file (``.yaml``) by path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = bundled_path(name_or_path)
    return parse_spec(read_yaml(path, "figure spec"), path.stem, str(path))


def copy_spec(name: str, folder: Path) -> Path:
    """Copy a bundled spec to ``folder/NAME.yaml`` for editing (never over an existing file)."""
    source = bundled_path(name)
    target = Path(folder) / f"{name}.yaml"
    if target.exists():
        raise BadInput(f"{target} already exists; remove it or pass another --to folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target
