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
splits panels), ``log_y``, ``x_label``, ``y_label``; heatmaps also ``cmap``, ``vmin``,
``vmax``, ``annotate``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path

import yaml

from ..errors import BadInput, closest

KINDS = ("table", "line", "position_curve", "heatmap")
#: result columns that index points inside one cell; a figure uses some, the others must be empty
INDEX_COLUMNS = ("position", "depth", "layer", "frequency", "head")
#: columns a chart may place on an axis or split panels by
CHART_COLUMNS = ("model", "method", "task", "metric", "length", "length_ratio", *INDEX_COLUMNS)
COMMON = {"name", "kind", "title", "caption", "metric", "filters", "scale", "labels"}
KIND_FIELDS = {
    "table": COMMON | {"columns", "average", "digits", "paper"},
    "line": COMMON | {"tasks", "x", "panel_rows", "panel_cols", "log_y", "x_label", "y_label"},
    "position_curve": COMMON | {"tasks", "x", "panel_rows", "panel_cols", "log_y", "x_label", "y_label"},
    "heatmap": COMMON | {"tasks", "x", "y", "panel_rows", "panel_cols", "x_label", "y_label", "cmap", "vmin",
                         "vmax", "annotate"},
}


@dataclass(frozen=True)
class Column:
    """One table column: the first of ``tasks`` that has rows, at ``metric``."""

    label: str
    tasks: tuple[str, ...]
    metric: str


@dataclass(frozen=True)
class PaperNumber:
    """A published number, kept as printed (``"1.90"``, not 1.9)."""

    column: str
    method: str
    value: str
    pm: str | None = None
    model: str = ""
    label: str = ""


@dataclass(frozen=True)
class FigureSpec:
    name: str
    kind: str
    title: str
    caption: str = ""
    metric: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    filters: dict = field(default_factory=dict)
    scale: float = 1.0
    labels: dict = field(default_factory=dict)
    columns: tuple[Column, ...] = ()
    average: str | None = None
    digits: int = 2
    paper: tuple[PaperNumber, ...] = ()
    x: str | None = None
    y: str | None = None
    panel_rows: str | None = None
    panel_cols: str | None = None
    log_y: bool = False
    x_label: str | None = None
    y_label: str | None = None
    cmap: str = "viridis"
    vmin: float | None = None
    vmax: float | None = None
    annotate: bool = False
    origin: str = ""

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
    return Path(str(resources.files("pope_bench.figures") / "specs"))


def bundled() -> dict[str, Path]:
    return {p.stem: p for p in sorted(specs_dir().glob("*.yaml"))}


def bundled_path(name: str) -> Path:
    specs = bundled()
    if name not in specs:
        raise BadInput(f"unknown figure {name!r}{closest(name, specs)}; see `pope-bench figures --list`")
    return specs[name]


def _as_tuple(value) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def parse_spec(data, name: str, origin: str) -> FigureSpec:
    """A validated spec; every problem is one BadInput line naming the file and field."""
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        raise BadInput(f"{origin}: a figure spec is a mapping with kind: one of {', '.join(KINDS)}")
    kind = data["kind"]
    unknown = set(data) - KIND_FIELDS[kind]
    if unknown:
        raise BadInput(f"{origin}: unknown field(s) {', '.join(sorted(unknown))} for kind {kind}; "
                       f"known: {', '.join(sorted(KIND_FIELDS[kind]))}")
    if "title" not in data:
        raise BadInput(f"{origin}: a figure spec needs title:")
    values = {k: v for k, v in data.items() if k not in {"name", "metric", "tasks", "columns", "paper"}}
    metric = _as_tuple(data.get("metric"))
    spec = FigureSpec(name=name, origin=origin, metric=metric, tasks=_as_tuple(data.get("tasks")),
                      columns=tuple(_column(c, metric, origin) for c in data.get("columns") or ()),
                      paper=tuple(_paper(p, origin) for p in data.get("paper") or ()), **values)
    _check(spec)
    return spec


def _column(data, metric: tuple, origin: str) -> Column:
    if not isinstance(data, dict) or "task" not in data:
        raise BadInput(f"{origin}: each table column is a mapping with task: (and label:, metric:)")
    tasks = _as_tuple(data["task"])
    chosen = data.get("metric") or (metric[0] if metric else None)
    if chosen is None:
        raise BadInput(f"{origin}: column {tasks[0]!r} has no metric: (and the spec none)")
    return Column(label=str(data.get("label", tasks[0])), tasks=tasks, metric=str(chosen))


def _paper(data, origin: str) -> PaperNumber:
    known = {f.name for f in fields(PaperNumber)}
    if not isinstance(data, dict) or not {"column", "method", "value"} <= set(data) or set(data) - known:
        raise BadInput(f"{origin}: each paper: entry needs column, method, value (optional: pm, model, label)")
    text = {k: str(data[k]) for k in ("value", "pm") if data.get(k) is not None}
    return PaperNumber(**{**data, **text})


def _check(spec: FigureSpec) -> None:
    where = f"{spec.origin} ({spec.kind})"
    if spec.kind == "table":
        if not spec.columns:
            raise BadInput(f"{where}: a table needs columns:")
        if not {"length", "length_ratio"} & set(spec.filters):
            raise BadInput(f"{where}: a table reads one length; add filters: {{length_ratio: 1}} or {{length: N}}")
        return
    if not spec.tasks or not spec.metric or spec.x is None:
        raise BadInput(f"{where}: a chart needs tasks:, metric: and x:")
    if spec.kind == "heatmap" and spec.y is None:
        raise BadInput(f"{where}: a heatmap needs y:")
    for axis in ("x", "y", "panel_rows", "panel_cols"):
        value = getattr(spec, axis)
        if value is not None and value not in CHART_COLUMNS:
            raise BadInput(f"{where}: {axis}: {value!r} is not one of {', '.join(CHART_COLUMNS)}")


def load_spec(name_or_path: str) -> FigureSpec:
    """A bundled spec by name, or a spec file (``.yaml``) by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise BadInput(f"figure spec {path} does not exist")
    else:
        path = bundled_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise BadInput(f"{path} is not valid YAML ({str(e).splitlines()[0]})") from None
    return parse_spec(data, path.stem, str(path))


def copy_spec(name: str, folder: Path) -> Path:
    """Copy a bundled spec to ``folder/NAME.yaml`` for editing (never over an existing file)."""
    source = bundled_path(name)
    target = Path(folder) / f"{name}.yaml"
    if target.exists():
        raise BadInput(f"{target} already exists; remove it or pass another --to folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target
