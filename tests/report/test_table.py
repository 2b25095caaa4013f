"""`pope-bench table`: value ± error as the rows and the task's declarations say, in four
formats, and one-line refusals for what is not a results folder."""

import json

import pytest

from pope_bench.sweep.rows import COLUMNS
from pope_bench.tasks.base import settings_id


@pytest.fixture
def folder(tmp_path):
    """Two test seeds of one indexing cell (60 % and 80 %, binomial stderrs 0.03 and 0.04)
    and its trivial baseline, written as `pope-bench run` writes them."""
    out = tmp_path / "run"
    out.mkdir()
    sid = settings_id("indexing", {}, None)
    base = {"model": "pope-x", "pe": "pope", "scaling": "none", "train_length": 50, "task": "idx", "length": 100,
            "length_ratio": 2.0, "status": "ok", "run_id": "r1", "settings": sid, "n": 200}
    rows = [{**base, "metric": "accuracy", "value": v, "stderr": se, "stderr_method": "binomial", "seed": seed,
             "cell_key": f"k{seed}"} for seed, v, se in ((0, 0.6, 0.03), (1, 0.8, 0.04))]
    rows.append({**base, "metric": "baseline_source", "value": 0.05, "stderr": 0.01, "stderr_method": "binomial",
                 "seed": 0, "cell_key": "k0"})
    (out / "results.jsonl").write_text("".join(json.dumps({c: r.get(c) for c in COLUMNS}) + "\n" for r in rows))
    facts = {"task": "idx", "type": "indexing", "params": {}, "limit": None}
    manifest = {"runs": [{"run_id": "r1", "tasks": {"idx": {"type": "indexing", "params": {}}},
                          "models": {"pope-x": {}}, "settings": {sid: facts}}]}
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def test_markdown_shows_the_mean_over_seeds_with_the_combined_stderr_in_percent(cli, folder):
    code, out, err = cli("table", folder, "--format", "markdown")
    assert code == 0, err
    # mean 70 %, √(0.03² + 0.04²)/2 = 0.025 → 2.5 points
    assert "| pope-x | 70.0 ± 2.5 |" in out
    assert "| baseline: always the source letter | 5.0 |" in out
    assert "| idx: accuracy (%) | 100 (2×) |" in out
    assert "±1 standard error (binomial), over 2 test seeds combined" in out


def test_ci95_widens_by_the_normal_quantile_on_many_examples(cli, folder):
    code, out, _ = cli("table", folder, "--format", "csv", "--error", "ci95")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("idx,accuracy,pope-x"))
    assert abs(float(row.split(",")[5]) - 1.959963984540054 * 2.5) < 1e-9


def test_latex_and_text(cli, folder):
    code, out, _ = cli("table", folder, "--format", "latex")
    assert code == 0 and r"70.0 $\pm$ 2.5" in out and r"\toprule" in out
    code, out, _ = cli("table", folder)
    assert code == 0 and "70.0 ± 2.5" in out


@pytest.mark.parametrize("args, words", [
    (["--format", "html"], "--format 'html' is not one of"),
    (["--error", "sd"], "--error 'sd' is not one of"),
    (["--lengths", "long"], "is neither a length"),
])
def test_bad_options_are_one_line(cli, folder, args, words):
    code, _, err = cli("table", folder, *args)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1


def test_an_empty_or_foreign_folder_is_one_line(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"\xff")
    for name in ("empty", "photos", "missing"):
        code, _, err = cli("table", tmp_path / name)
        assert code == 2 and err.startswith("error:") and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == ["cat.jpg"]
