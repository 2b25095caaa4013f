"""Spec + rows → files. A renderer reads rows only; it never loads a model or recomputes
a metric (docs/contracts.md: "A figure never recomputes a metric: it reads rows").

Rendering named figures fails with the missing rows' ``pope-bench run`` command; rendering
all of them skips those without rows, with that command as the note, and writes the
``README.md`` page of everything rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pope_bench.report.figures.heatmaps import draw_heatmaps
from pope_bench.report.figures.line_charts import band_kinds, draw_curves
from pope_bench.report.figures.page import write_page
from pope_bench.report.figures.rows import (
    MissingRows,
    ResultSet,
    baseline_rows,
    load_results,
    model_sizes,
    select_groups,
)
from pope_bench.report.figures.specs import FigureSpec, bundled, load_spec
from pope_bench.report.figures.tables import build_table


@dataclass
class Rendered:
    """One rendered figure or table: its files and the rows behind it (for its caption).
    Shows itself in a notebook: a table as markdown, a figure as its PNG."""

    spec: FigureSpec
    files: list[Path]
    rows: pd.DataFrame
    sizes: dict[str, str]
    commands: list[str]
    markdown: str | None = None
    notes: list[str] = field(default_factory=list)
    #: what its ± / bands are, in the words its legend or "± is" column uses
    errors: list[str] = field(default_factory=list)

    def _repr_markdown_(self):
        return f"**{self.spec.title}**\n\n{self.markdown}" if self.markdown is not None else None

    def _repr_png_(self):
        return self.files[0].read_bytes() if self.markdown is None else None


def render_figure(spec: FigureSpec, results: ResultSet, out: Path, sizes: dict[str, str]) -> Rendered:
    out.mkdir(parents=True, exist_ok=True)
    frame = results.frame
    if spec.kind == "table":
        table = build_table(spec, frame, sizes)
        (out / f"{spec.name}.md").write_text(f"**{spec.title}**\n\n{table.markdown}")
        table.frame.to_csv(out / f"{spec.name}.csv", index=False)
        files = [out / f"{spec.name}.md", out / f"{spec.name}.csv"]
        rows, notes, markdown = table.rows, table.notes, table.markdown
        errors = list(dict.fromkeys(w for cell in table.frame.get("± is", []) if isinstance(cell, str) and cell
                                    for w in cell.split("; ")))
    else:
        parts, notes = select_groups(frame, spec, [("", [task], spec.metric) for task in spec.tasks])
        rows, markdown = pd.concat([part for part in parts if part is not None]), None
        if spec.kind == "heatmap":
            files, errors = draw_heatmaps(spec, rows, out), []
        else:
            files = draw_curves(spec, rows, sizes, out, baseline_rows(frame, spec, set(rows["task"])))
            errors = band_kinds(rows, spec.x)
    commands = sorted({results.commands[r] for r in set(rows["run_id"]) if r in results.commands})
    return Rendered(spec, files, rows, {m: sizes[m] for m in sorted(set(rows["model"]))}, commands, markdown, notes,
                    errors)


def render(names, results_paths, out, checkpoints: Path | None = None) -> tuple[list[Rendered], list[tuple[str, str]]]:
    """Render the named figures (spec names or spec YAML paths), or every bundled one.

    Returns (rendered, skipped as (name, why)). With no names, a figure without rows is
    skipped rather than an error, and ``OUT/README.md`` shows everything rendered."""
    specs = [load_spec(name) for name in names] if names else [load_spec(name) for name in bundled()]
    results = load_results(results_paths)
    sizes = model_sizes(sorted(set(results.frame["model"])), checkpoints)
    out = Path(out)
    rendered, skipped = [], []
    for spec in specs:
        try:
            rendered.append(render_figure(spec, results, out, sizes))
        except MissingRows as e:
            if names:
                raise
            skipped.append((spec.name, str(e)))
    if not names:
        write_page(out, rendered, skipped, results, results_paths)
    return rendered, skipped
