"""Progress off a terminal: one line per finished cell on stderr, with k/n, the cell, its
main metric, seconds and an ETA — what a nohup / SLURM log shows."""

import io

from rich.console import Console

from pope_bench.sweep.progress import CellReport, LineProgress, eta_text, sweep_progress
from pope_bench.sweep.runner import RunOptions, run


def test_line_per_cell_with_eta_from_the_mean_time_so_far():
    stream = io.StringIO()
    ticks = iter([0.0, 10.0, 30.0])
    progress = LineProgress(3, Console(file=stream, width=40), clock=lambda: next(ticks))
    progress.finish(CellReport("pope-text-tiny", "perplexity_text", 512, 0, "perplexity", 3.0091, "ok", 9.8))
    progress.finish(CellReport("rope-text-tiny", "perplexity_text", 512, 1, "perplexity", None, "oom", 20.0))
    first, second = stream.getvalue().splitlines()  # no wrapping at the console width
    assert first == "[1/3] pope-text-tiny perplexity_text L=512 perplexity=3.009 ok 9.8 s, ETA 20s"
    assert second == "[2/3] rope-text-tiny perplexity_text L=512 seed=1 perplexity oom 20.0 s, ETA 15s"


def test_eta_text():
    assert [eta_text(s) for s in (4.4, 130, 7300)] == ["4s", "2m10s", "2h01m"]


def test_a_piped_sweep_logs_every_cell(tiny_registry, tmp_path):
    stream = io.StringIO()
    console = Console(file=stream)
    assert not console.is_terminal
    with sweep_progress(1, console) as progress:
        assert isinstance(progress, LineProgress)
    run(RunOptions(models=["rope-tiny", "pope-tiny"], tasks=["perplexity_text"], lengths="32,64", limit=64,
                   out=tmp_path / "r", checkpoints=tiny_registry, threads=1), console)
    lines = [line for line in stream.getvalue().splitlines() if line.startswith("[")]
    assert len(lines) == 4 and lines[-1].startswith("[4/4] ")
    assert all(" perplexity=" in line and " ok " in line and "ETA" in line for line in lines)
    assert stream.getvalue().startswith("4 cells (2 models × 1 tasks")


def test_run_piped_to_a_file_writes_a_line_per_cell(tiny_registry, tmp_path, cli):
    done = cli("run", "--checkpoints", str(tiny_registry), "-m", "rope-tiny", "-t", "perplexity_text",
               "--lengths", "32,64,128", "--limit", "128", "--threads", "1", "--no-plot", "--out", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("[")]
    assert [line.split()[0] for line in lines] == ["[1/3]", "[2/3]", "[3/3]"]
    assert done.stderr.splitlines()[0].startswith("3 cells") and "1 CPU thread" in done.stderr
