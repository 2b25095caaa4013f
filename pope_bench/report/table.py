"""A run's results as a paper prints them (``pope-bench table RUN_DIR``, and the end-of-run
summary): per task, its declared main metric by evaluation length, one row per series
(a model; ``model [settings id]`` where an older folder mixes settings), ``value ± error``
with the ± of :mod:`pope_bench.report.errorbars`, then the task's trivial baselines in words and
rows of ``n`` (scored tokens or examples per cell), ``documents`` (distinct documents a
perplexity cell reached) and ``windows`` (the independent windows its ± rests on) — tasks and models in the order the folder's runs asked for them.

One :class:`TaskTable` renders as text (rich, folded to the console width), markdown,
LaTeX (booktabs) or CSV (long, numbers unformatted), so the README's tables are this
command's output, pasted, and a test regenerates them from the committed rows.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field

import pandas as pd

from pope_bench.core.errors import BadInput
from pope_bench.report.declared_metrics import TaskMetrics, for_task
from pope_bench.report.errorbars import DEFAULT, combine, factor, meaning
from pope_bench.sweep.results import headline
from pope_bench.tasks.base import MetricSpec

FORMATS = ("text", "markdown", "latex", "csv")
#: console columns the row labels may take in text tables before they wrap
LABEL_WIDTH = 30


@dataclass
class Entry:
    """One table cell: a value and its ± (already scaled to the ± kind and to %), or a
    status word where the cell did not finish."""

    value: float = math.nan
    error: float = math.nan
    status: str | None = None
    n: int | None = None


@dataclass
class TaskTable:
    task: str
    metric: MetricSpec
    lengths: list[int]
    headers: list[str]
    series: dict[str, list[Entry]] = field(default_factory=dict)
    baselines: dict[str, list[float]] = field(default_factory=dict)
    counts: dict[str, list[str]] = field(default_factory=dict)  # "n", "documents" → per length
    caption: str = ""


def ordered(present, wanted) -> list:
    """``present`` (deduplicated) in the order of ``wanted``, the rest after it, sorted."""
    present = list(dict.fromkeys(present))
    return [x for x in wanted if x in present] + sorted(x for x in present if x not in wanted)


def _span(values) -> str:
    values = sorted({int(v) for v in values if v is not None and not pd.isna(v)})
    if not values:
        return "—"
    return f"{values[0]:,}" if len(values) == 1 else f"{values[0]:,}–{values[-1]:,}"


def _clusters(rows: pd.DataFrame) -> float | None:
    """The fewest independent units any of the rows' errors rests on (windows or examples)."""
    units = [c if c is not None and not pd.isna(c) else (n if m in ("binomial", "per_example") else None)
             for c, n, m in zip(rows["clusters"], rows["n"], rows["stderr_method"])]
    known = [float(u) for u in units if u is not None and not pd.isna(u)]
    return min(known) if known and len(known) == len(units) else None


def _matches(length: int, ratio: float, wanted: list[str]) -> bool:
    for item in wanted:
        if item.endswith("x"):
            if math.isclose(float(item[:-1]), ratio):
                return True
        elif int(item) == length:
            return True
    return False


def task_table(frame: pd.DataFrame, task: str, metrics: TaskMetrics, models=(), lengths=None,
               kind: str = DEFAULT) -> TaskTable | None:
    """The table of one task, or None where the task has no headline rows (an analysis)."""
    rows = frame[frame["task"] == task]
    ok = headline(rows[rows["status"] == "ok"])
    failed = rows[rows["status"] != "ok"]
    present = set(ok["metric"]) - {m.name for m in metrics.baselines(ok["metric"])}
    if not present and failed.empty:
        return None
    name = metrics.main_of(present) if present else str(failed["metric"].iloc[0])
    spec = metrics.spec(name)
    main = ok[ok["metric"] == name]
    cells = pd.concat([main, failed])
    if lengths:
        cells = cells[[_matches(int(x), float(r), lengths) for x, r in zip(cells["length"], cells["length_ratio"])]]
    if cells.empty:
        return None
    all_lengths = sorted({int(x) for x in cells["length"]})
    train = sorted({int(t) for t in cells["train_length"]})
    headers = [f"{x} ({x / train[0]:g}×)" if len(train) == 1 else str(x) for x in all_lengths]
    scale = 100.0 if spec.proportion else 1.0
    table = TaskTable(task, spec, all_lengths, headers)
    methods = set()
    for series in ordered(cells["series"], models):
        entries = []
        for length in all_lengths:
            part = cells[(cells["series"] == series) & (cells["length"] == length)]
            done = part[part["status"] == "ok"]
            if not done.empty:
                stderr = combine(done["stderr"])
                methods.update(done["stderr_method"].dropna())
                entries.append(Entry(float(done["value"].mean()) * scale,
                                     stderr * factor(kind, _clusters(done)) * scale, n=int(done["n"].min())))
            elif not part.empty:
                entries.append(Entry(status=str(part["status"].iloc[-1])))
            else:
                entries.append(Entry())
        table.series[series] = entries
    base = ok[ok["length"].isin(all_lengths)]
    for baseline in metrics.baselines(base["metric"]):
        values = base[base["metric"] == baseline.name].groupby("length")["value"].mean()
        table.baselines[baseline.label.removesuffix(" (%)")] = [float(values.get(x, math.nan)) * scale
                                                                 for x in all_lengths]
    at = {x: main[main["length"] == x] for x in all_lengths}
    table.counts["n"] = [_span(at[x]["n"]) for x in all_lengths]
    if main["documents"].notna().any():
        table.counts["documents"] = [_span(at[x]["documents"]) for x in all_lengths]
    if main["clusters"].notna().any():  # the windows a window-clustered ± rests on: few say so
        table.counts["windows"] = [_span(at[x]["clusters"]) for x in all_lengths]
    seeds = main["seed"].nunique()
    table.caption = (f"{task}: {spec.label} by evaluation length; ± = {meaning(kind, methods)}"
                     + (f", over {seeds} test seeds combined" if seeds > 1 else "")
                     + ("; n = scored tokens" if "documents" in table.counts else "; n = examples") + " per cell")
    return table


def build_tables(frame: pd.DataFrame, declared: dict[str, TaskMetrics], tasks=(), models=(), lengths=None,
                 kind: str = DEFAULT) -> list[TaskTable]:
    """One table per task of ``frame`` with headline rows, in the order asked for."""
    if frame.empty:
        return []
    found = [task_table(frame, task, for_task(declared, task), models, lengths, kind)
             for task in ordered(frame["task"], tasks)]
    return [t for t in found if t is not None]


def _digits(error: float) -> int:
    """Decimals that show an error to two significant digits."""
    if math.isnan(error) or error <= 0:
        return 3
    return max(0, 1 - math.floor(math.log10(error)))


def format_entry(entry: Entry) -> str:
    if entry.status:
        return entry.status
    if math.isnan(entry.value):
        return "—"
    if math.isnan(entry.error):
        return f"{entry.value:.4g}"
    d = _digits(entry.error)
    return f"{entry.value:.{d}f} ± {entry.error:.{d}f}"


def _baseline_text(value: float, percent: bool) -> str:
    return "—" if math.isnan(value) else (f"{value:.1f}" if percent else f"{value:.4g}")


def text_rows(table: TaskTable) -> list[list[str]]:
    """The table's body as strings: series, baselines, counts."""
    body = [[s, *map(format_entry, e)] for s, e in table.series.items()]
    body += [[label, *(_baseline_text(v, table.metric.proportion) for v in values)]
             for label, values in table.baselines.items()]
    body += [[label, *values] for label, values in table.counts.items()]
    return body


def to_markdown(tables: list[TaskTable]) -> str:
    parts = []
    for table in tables:
        head = [f"{table.task}: {table.metric.label}", *table.headers]
        lines = [f"*{table.caption}*", "", "| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in text_rows(table)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _latex(text: str) -> str:
    for char, escaped in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#")):
        text = text.replace(char, escaped)
    return text.replace("±", r"$\pm$").replace("×", r"$\times$").replace("→", r"$\to$")


def to_latex(tables: list[TaskTable]) -> str:
    parts = []
    for table in tables:
        head = [f"{table.task}: {table.metric.label}", *table.headers]
        lines = [r"\begin{table}[t]", r"\centering", r"\begin{tabular}{l" + "r" * len(table.headers) + "}",
                 r"\toprule", " & ".join(map(_latex, head)) + r" \\", r"\midrule"]
        body = text_rows(table)
        split = len(table.series)
        for i, row in enumerate(body):
            if i == split and split < len(body):
                lines.append(r"\midrule")
            lines.append(" & ".join(map(_latex, row)) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}", r"\caption{" + _latex(table.caption) + "}", r"\end{table}"]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def to_csv(tables: list[TaskTable], kind: str = DEFAULT) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["task", "metric", "row", "length", "value", "error", "error_kind", "status", "n"])
    for table in tables:
        for series, entries in table.series.items():
            for length, e in zip(table.lengths, entries):
                writer.writerow([table.task, table.metric.name, series, length, _num(e.value), _num(e.error), kind,
                                 e.status or "", e.n if e.n is not None else ""])
        for label, values in table.baselines.items():
            for length, value in zip(table.lengths, values):
                writer.writerow([table.task, table.metric.name, label, length, _num(value), "", "", "", ""])
    return buffer.getvalue()


def _num(value: float) -> str:
    return "" if value is None or math.isnan(value) else repr(float(value))


def to_rich(tables: list[TaskTable], width: int = 80) -> list:
    """rich Tables for a console: when the lengths do not fit ``width`` they fold into
    several tables, each repeating the row labels, instead of squeezing every cell."""
    from rich.table import Table

    out = []
    for table in tables:
        body = text_rows(table)
        room = width - min(LABEL_WIDTH, max(len(r[0]) for r in body)) - 4
        chunks, used = [[]], 0
        for c, header in enumerate(table.headers):
            need = max(len(header), *(len(r[c + 1]) for r in body)) + 3
            if chunks[-1] and used + need > room:
                chunks.append([])
                used = 0
            chunks[-1].append(c)
            used += need
        for k, columns in enumerate(chunks):
            part = f" ({k + 1}/{len(chunks)})" if len(chunks) > 1 else ""
            rich = Table(title=f"{table.task}: {table.metric.label} by length{part}", title_justify="left",
                         caption=table.caption.split("; ", 1)[1], caption_justify="left")
            rich.add_column("", max_width=LABEL_WIDTH)
            for c in columns:
                rich.add_column(table.headers[c], justify="right", no_wrap=True)
            for i, row in enumerate(body):
                cells = [row[c + 1] for c in columns]
                failed = i < len(table.series) and any(table.series[row[0]][c].status for c in columns)
                rich.add_row(row[0], *([f"[red]{x}[/red]" if table.series[row[0]][c].status else x
                                        for c, x in zip(columns, cells)] if failed else cells),
                             end_section=i == len(table.series) - 1)
            out.append(rich)
    return out


def render(tables: list[TaskTable], fmt: str, kind: str = DEFAULT) -> str:
    if fmt == "markdown":
        return to_markdown(tables)
    if fmt == "latex":
        return to_latex(tables)
    if fmt == "csv":
        return to_csv(tables, kind)
    raise BadInput(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")


def requested_order(results_dir) -> tuple[list[str], list[str]]:
    """(tasks, models) in the order the folder's runs asked for them (its manifest)."""
    from pope_bench.sweep.manifest import read_manifest

    runs = read_manifest(results_dir)["runs"]
    return (list(dict.fromkeys(t for run in runs for t in run.get("tasks") or {})),
            list(dict.fromkeys(m for run in runs for m in run.get("models") or {})))


def folder_tables(results_dir, tasks=(), models=(), lengths=None, kind: str = DEFAULT,
                  required: bool = True) -> list[TaskTable]:
    """The tables of a results folder (``pope-bench table``); an empty or foreign folder
    is a one-line error (with ``required``: also one whose rows make no table)."""
    from pathlib import Path

    from pope_bench.report.declared_metrics import declared_metrics
    from pope_bench.sweep.results import load
    from pope_bench.sweep.rows import rows_files

    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise BadInput(f"{results_dir} is not a folder; give a results folder written by `pope-bench run`")
    if not rows_files(results_dir):
        raise BadInput(f"{results_dir} holds no pope-bench results (no results.jsonl); "
                       f"run `pope-bench run --out {results_dir}` first")
    frame = load(results_dir)
    if not tasks and not models:
        tasks, models = requested_order(results_dir)
    tables = build_tables(frame, declared_metrics([results_dir]), tasks, models, lengths, kind)
    if not tables and required:
        raise BadInput(f"{results_dir} has no rows to tabulate"
                       + (f" at lengths {','.join(lengths)}" if lengths else "") + "; check --lengths")
    return tables
