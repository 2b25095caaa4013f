"""The paper's figures and tables, regenerated from tidy result rows.

Each figure is a declarative spec (``specs/*.yaml``: what kind, which tasks and metric,
which filters, how to group, the paper's published numbers) and a renderer that reads
rows only — never a model. Entry points: ``pope-bench figures`` and

    from pope_bench.report.figures import render
    rendered, skipped = render([], ["results"], "results/figures")   # [] = every figure

Layout: :mod:`.specs` (spec files), :mod:`.rows` (loading result folders, selecting a
figure's rows, the "run this" errors), :mod:`.tables`, :mod:`.line_charts`, :mod:`.heatmaps`,
:mod:`.charts` (shared chart conventions), :mod:`.page` (the README page), :mod:`.render`.
"""

from pope_bench.report.figures.render import Rendered, render, render_figure
from pope_bench.report.figures.rows import MissingRows, ResultSet, load_results
from pope_bench.report.figures.specs import FigureSpec, bundled, copy_spec, load_spec

__all__ = ["FigureSpec", "MissingRows", "Rendered", "ResultSet", "bundled", "copy_spec", "load_results",
           "load_spec", "render", "render_figure"]
