"""Progress of a sweep, wherever it runs.

On a terminal: rich's bar (current cell, k/n, elapsed, ETA). Anywhere else — piped to a
file, under nohup, in a SLURM log — a bar draws nothing, so each finished cell is one
plain line on stderr instead::

    [3/42] pope-text-tiny perplexity_text L=512 perplexity=3.009 ok 6.2 s, ETA 2m10s

The runner calls :meth:`start` before a cell and :meth:`finish` after it; nothing else.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class CellReport:
    """What one finished cell reports: its coordinates, main metric and time."""

    model: str
    task: str
    length: int
    seed: int
    metric: str
    value: float | None
    status: str
    seconds: float


def eta_text(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class LineProgress:
    """One line per finished cell; the ETA is the mean time per cell so far × cells left."""

    def __init__(self, total: int, console, clock=time.monotonic):
        self.total, self.console, self.clock = total, console, clock
        self.done = 0
        self.began = clock()

    def start(self, label: str) -> None:
        pass

    def finish(self, report: CellReport) -> None:
        self.done += 1
        per_cell = (self.clock() - self.began) / self.done
        value = f"{report.metric}={report.value:.4g}" if report.value is not None else report.metric
        seed = f" seed={report.seed}" if report.seed else ""
        self.console.print(
            f"[{self.done}/{self.total}] {report.model} {report.task} L={report.length}{seed} {value} "
            f"{report.status} {report.seconds:.1f} s, ETA {eta_text(per_cell * (self.total - self.done))}",
            markup=False, highlight=False, soft_wrap=True)


class BarProgress:
    """rich's live bar, for a terminal."""

    def __init__(self, progress, total: int):
        self.progress = progress
        self.bar = progress.add_task("sweep", total=total)

    def start(self, label: str) -> None:
        self.progress.update(self.bar, description=label)

    def finish(self, report: CellReport) -> None:
        self.progress.advance(self.bar)


@contextmanager
def sweep_progress(total: int, console):
    """A :class:`BarProgress` when ``console`` is a terminal, else a :class:`LineProgress`."""
    if not console.is_terminal:
        yield LineProgress(total, console)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=False) as progress:
        yield BarProgress(progress, total)
