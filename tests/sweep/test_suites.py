"""Suites: the bundled default and paper suites as data, how -m/-t/--suite/--lengths/--limit
combine, and the default suite's promise (≥ 3 tasks, both encodings, few cells)."""

import pytest
import yaml

from pope_bench.cli import default_registry
from pope_bench.core.errors import BadInput
from pope_bench.models.checkpoints import load_registry
from pope_bench.sweep.runner import RunOptions, plan
from pope_bench.sweep.suites import bundled, load_suite, sweeps_for


def test_bundled_suites_validate_and_default_tells_the_papers_story():
    assert {"default", "paper"} <= set(bundled())
    default = load_suite("default")
    assert len(default.task_names()) >= 3
    registry = load_registry(default_registry())
    models = {m for sweep in default.sweeps for m in sweep.models}
    assert {registry[m].pe for m in models} >= {"rope", "pope"}
    assert load_suite("paper").reference_seconds > default.reference_seconds


def test_default_plan_is_small_and_paper_is_the_full_grid(tmp_path):
    default = plan(RunOptions(checkpoints=default_registry(), out=tmp_path))
    assert default.suite == "default"
    assert len(default.cells) == 3 * 4 + 2 * 2 * 3  # text: 3 models × 4 lengths; indexing: 2 tasks × 2 × 3
    assert {c.entry.pe for c in default.cells} == {"rope", "pope"}
    assert default.tasks[0] == "perplexity_text" and default.models[:2] == ["rope-text-tiny", "pope-text-tiny"]
    assert {c.limit for c in default.cells if c.task.name == "perplexity_text"} == {4096}
    paper = plan(RunOptions(checkpoints=default_registry(), out=tmp_path, suite="paper"))
    assert len(paper.cells) == 130 and {c.limit for c in paper.cells} == {None}
    assert {c.entry.pe for c in paper.cells} == {"rope", "pope"}  # the paper's encodings, not the bundled ALiBi/FIRE/xPos


def test_lengths_and_limit_override_a_suite():
    name, sweeps, reference = sweeps_for("default", [], [], "1x", 5)
    assert name == "default" and {(s.lengths, s.limit) for s in sweeps} == {("1x", 5)}
    assert reference is None  # measured for the suite's own lengths and limits, not these
    assert sweeps_for("default", [], [], None, None).reference.cells == 24


def test_model_alone_runs_the_default_tasks_that_suit_it(tiny_registry, tmp_path):
    cells = plan(RunOptions(models=["pope-tiny"], checkpoints=tiny_registry, out=tmp_path)).cells
    assert {c.task.name for c in cells} == {"perplexity_text"}  # the indexing tasks need an indexing model


def test_models_given_with_a_suite_replace_its_models(tiny_registry, tmp_path):
    cells = plan(RunOptions(suite="default", models=["pope-tiny"], checkpoints=tiny_registry, out=tmp_path)).cells
    assert {(c.entry.name, c.task.name) for c in cells} == {("pope-tiny", "perplexity_text")}


@pytest.mark.parametrize("kwargs, words", [
    (dict(suite="default", tasks=["passkey"]), "drop -t"),
    (dict(suite="defualt"), "did you mean default"),
])
def test_bad_suite_use(tiny_registry, tmp_path, kwargs, words):
    with pytest.raises(BadInput, match=words):
        plan(RunOptions(checkpoints=tiny_registry, out=tmp_path, **kwargs))


def test_a_suite_file_is_checked_field_by_field(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"name": "mine", "description": "x", "sweeps": [{"tasks": ["a"], "limts": 3}]}))
    with pytest.raises(BadInput, match=r"unknown key 'sweeps\.0\.limts' \(did you mean limit"):
        load_suite(str(path))


def test_bad_suite_and_threads_at_the_cli(cli):
    for args, words in ((["--suite", "nosuch"], "unknown suite"), (["--threads", "0"], "--threads")):
        done = cli("run", *args)
        assert done.returncode == 2 and words in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_suite_time_is_stated_once_and_quoted_from_the_suite_file(cli):
    from pathlib import Path

    default, paper = load_suite("default"), load_suite("paper")
    code, out, _ = cli("list", "suites")
    assert code == 0 and default.duration() in out and paper.duration() in out
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"default {default.duration()}, paper {paper.duration()}" in readme
    assert readme.count(f"24 cells, {default.duration()}") == 2
    code, out, _ = cli("run", "--help")
    assert "minute" not in out and " s " not in out.split("Examples")[0]
