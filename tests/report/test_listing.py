"""`pope-bench list …` at 80 columns: every line fits, the short columns stay whole, and
models show the maximum length the over-length error points at."""

from typer.testing import CliRunner

from pope_bench.cli import app


def listed(*args):
    done = CliRunner().invoke(app, ["list", *args], env={"COLUMNS": "80"})
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    return lines


def test_models_fit_80_columns_with_their_max_length(tiny_registry):
    lines = listed("models", "--checkpoints", str(tiny_registry))
    assert "max" in lines[2].split()
    row = next(line.split() for line in lines if line.startswith(" rope-tiny-yarn4 "))
    assert row[:4] == ["rope-tiny-yarn4", "rope+yarn4", "32", str(64 * 32)]
    assert any("`max_length:` of the entry" in line for line in lines)


def test_tasks_fit_80_columns_and_name_their_domain(tiny_registry):
    lines = listed("tasks", "--checkpoints", str(tiny_registry))
    row = next(line.split() for line in lines if line.startswith(" perplexity_text "))
    assert row[1:5] == ["—", "perplexity", "1x..10x", "text"]
    assert row[5] == "×4"  # rope-tiny, pope-tiny and two variants
    ruler = next(line.split() for line in lines if line.startswith(" vt "))
    assert ruler[1:3] == ["multi-hop", "traci…"]  # RULER's category
    assert any("qa_1 (SQuAD) and qa_2 (HotpotQA) are not built" in line for line in lines)


def test_suites_list_the_default_and_the_paper_grid():
    lines = listed("suites")
    assert [line.split()[0] for line in lines if line.startswith((" default", " paper"))] == ["default", "paper"]
