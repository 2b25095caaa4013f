"""``OUT/README.md``: every rendered figure and table with its caption — what ran, on which
checkpoints (with their sizes), at which lengths, by which command — and the figures that
were skipped for want of rows, each with the command that would produce them. Written by
``pope-bench figures`` when it renders all figures (e.g. ``results/figures/README.md``).
"""

from __future__ import annotations

import shlex
from pathlib import Path

from pope_bench.report.figures.rows import method_label


def write_page(out: Path, rendered: list, skipped: list[tuple[str, str]], results, results_paths) -> Path:
    folders = ", ".join(f"`{f}`" for f in results.folders)
    command = "pope-bench figures " + " ".join(f"--results {shlex.quote(str(p))}" for p in results_paths) \
        + f" --out {shlex.quote(str(out))}"
    lines = [
        "# The paper's figures and tables, from pope-bench results",
        "",
        f"Rendered from {len(results.frame)} result rows in {folders} by `{command}` (figures read rows only;",
        "`notebooks/paper_figures.ipynb` runs the same). Paper: Gopalakrishnan et al., arXiv 2509.10534.",
        "",
    ]
    for item in rendered:
        lines += _section(item)
    if skipped:
        lines += ["## Not rendered (no rows yet)", ""]
        lines += [f"- `{name}`: {why}" for name, why in skipped]
        lines.append("")
    path = Path(out) / "README.md"
    path.write_text("\n".join(lines))
    return path


def _section(item) -> list[str]:
    spec, rows = item.spec, item.rows
    lines = [f"## {spec.title} (`{spec.name}`)", ""]
    if item.markdown is not None:
        lines += [item.markdown, f"Files: [{spec.name}.md]({spec.name}.md), [{spec.name}.csv]({spec.name}.csv)", ""]
    else:
        lines += [f"![{spec.name}]({spec.name}.png)", "", f"Files: [{spec.name}.png]({spec.name}.png), "
                  f"[{spec.name}.svg]({spec.name}.svg)", ""]
    if spec.caption:
        lines += [" ".join(spec.caption.split()), ""]
    models = ", ".join(f"{m} ({method_label(rows[rows['model'] == m]['method'].iloc[0])}, {size} parameters)"
                       for m, size in item.sizes.items())
    lengths = ", ".join(f"{int(v)}" for v in sorted(set(rows["length"])))
    seeds = ", ".join(str(int(s)) for s in sorted(set(rows["seed"])))
    tasks = ", ".join(sorted(set(rows["task"])))
    lines += [f"What ran: task {tasks} on {models}; lengths {lengths}; seeds {seeds}.", ""]
    if item.errors:  # the legend's / "± is" column's own words, never a caption typed beside them
        spreads = {e.startswith("std over") for e in item.errors}
        mixed = " (different kinds in one figure: hatched bands are a spread over seeds, filled ones a stderr)" \
            if item.markdown is None and spreads == {True, False} else ""
        lines += [f"±: {'; '.join(item.errors)}{mixed}.", ""]
    commands = item.commands or [_reconstructed(rows)]
    lines += ["Produced by: " + "; ".join(f"`{c}`" for c in commands), ""]
    lines += [f"Note: {note}" for note in item.notes]
    return lines + ([""] if item.notes else [])


def _reconstructed(rows) -> str:
    """The sweep that makes these rows, for rows whose manifest has no pope-bench command."""
    models = " ".join(f"-m {m}" for m in sorted(set(rows["model"])))
    tasks = " ".join(f"-t {t}" for t in sorted(set(rows["task"])))
    lengths = ",".join(str(int(v)) for v in sorted(set(rows["length"])))
    return f"pope-bench run {models} {tasks} --lengths {lengths}"
