"""The prepared paper-size run (recipe indexing-paper, benchmarks/indexing_paper.sh, issue 25):
its size is the paper's and reaches the supervision it promises, its dry run trains both
encodings through every stage and scores Table 1 end to end, and its bad inputs are one line,
exit 2, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import torch
import yaml

from pope_bench.tasks.indexing_rows import IndexingMixture
from pope_bench.training.recipe import dry_run, load_recipe
from pope_bench.training.state import STATE_FILE, TrainState, save_state
from pope_bench.training.trainer import build_model, make_optimizer

ROOT = Path(__file__).resolve().parents[2]


def test_the_recipe_is_the_papers_model_with_at_least_its_supervision():
    recipe = load_recipe("indexing-paper")
    model, train, data = recipe["model"], recipe["train"], recipe["data"]
    assert (model["num_hidden_layers"], model["hidden_size"], model["num_attention_heads"]) == (8, 512, 8)
    assert model["delta_init"] == "uniform" and data["tasks"] == ["indirect_indexing"]
    assert train["steps"] * train["batch_size"] * data["queries"] >= 6_400_000 == train["min_targets"]
    mixture = IndexingMixture.from_tasks(data["tasks"], "train", queries=data["queries"])
    assert train["length"] == mixture.longest() == 216
    assert train["steps"] // train["checkpoint_every"] >= 10  # a cut-off run loses ≤ 1/10 of it
    assert train["sized_for"] == "cuda"


def test_the_dry_run_goes_through_every_stage_in_a_few_steps():
    recipe = load_recipe("indexing-paper")
    small = dry_run(recipe)
    assert [s["until_step"] for s in small["data"]["curriculum"]] == [1, 2, 3]
    assert [s["scale"] for s in small["data"]["curriculum"]] == [s["scale"] for s in recipe["data"]["curriculum"]]
    assert small["train"]["steps"] == 5 and small["model"]["hidden_size"] == 32
    assert "sized_for" not in small["train"] and "min_targets" not in small["train"]
    assert small["name"] == "indexing-paper-dry-run"


def test_a_paper_size_run_without_cuda_is_refused_before_anything_is_written(cli, tmp_path):
    out = tmp_path / "run"
    code, _, err = cli("train", "indexing-paper", "--pe", "pope", "--out", str(out))
    assert code == 2 and "sized for --device cuda" in err and "--dry-run" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
    if not torch.cuda.is_available():
        code, _, err = cli("train", "indexing-paper", "--pe", "pope", "--out", str(out), "--device", "cuda")
        assert code == 2 and "no CUDA device" in err and not out.exists()


def test_a_step_budget_short_of_the_target_count_is_refused(cli, tmp_path):
    out = tmp_path / "run"
    code, _, err = cli("train", "indexing-paper", "--pe", "rope", "--out", str(out), "--set", "train.steps=6000")
    assert code == 2 and "fewer than train.min_targets 6,400,000" in err and "train.steps ≥ 6250" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_resuming_under_a_recipe_other_than_the_saved_one_is_refused_and_overwrites_nothing(cli, tmp_path):
    """A cut-off dry run left in the folder of the real run (or the reverse)."""
    out = tmp_path / "run"
    out.mkdir()
    saved = dry_run(load_recipe("indexing-paper", ["train.lr=1e-3"]))
    model = build_model(saved, "pope", vocab_size=70, train_length=51)
    save_state(out / STATE_FILE, model, make_optimizer(model, saved["train"]), torch.Generator(),
               TrainState(step=2, targets=128, curve=[], recipe=yaml.safe_dump(saved), pe="pope"))
    before = (out / STATE_FILE).read_bytes()
    code, _, err = cli("train", "indexing-paper", "--pe", "pope", "--out", str(out), "--dry-run")
    assert code == 2 and "different recipe or --pe" in err and len(err.strip().splitlines()) == 1
    assert (out / STATE_FILE).read_bytes() == before and sorted(p.name for p in out.iterdir()) == [STATE_FILE]


def test_the_dry_run_script_trains_both_encodings_and_renders_table1(tmp_path):
    """The whole prepared run as a user starts it, tiny and on the CPU: both checkpoints,
    their registry entries (grouped for training seeds), 2 models × 3 test seeds of rows
    at 1×, and Table 1."""
    out = tmp_path / "paper"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(["bash", str(ROOT / "benchmarks/indexing_paper.sh"), "--dry-run", str(out)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    registry = yaml.safe_load((out / "checkpoints.yaml").read_text())["models"]
    assert set(registry) == {"rope-indexing-paper", "pope-indexing-paper"}
    for name, entry in registry.items():
        assert entry["group"] == name and entry["seed"] == 0 and entry["train_length"] == 51
        folder = out / entry["path"]
        assert (folder / "model.safetensors").is_file() and not (folder / STATE_FILE).exists()
        assert pd.read_csv(folder / "training_curve.csv")["step"].tolist() == [1, 2, 3, 4, 5]
    rows = pd.read_json(out / "rows" / "results.jsonl", lines=True)
    accuracy = rows[rows["metric"] == "accuracy"]
    assert sorted(accuracy["model"].unique()) == sorted(registry) and len(accuracy) == 6
    assert set(accuracy["n"]) == {500} and set(accuracy["seed"]) == {0, 1, 2}
    table = (out / "rows" / "figures" / "table1.md").read_text()
    assert "rope-indexing-paper" in table and "pope-indexing-paper" in table
    # a dry run's folder is never taken for the real run's
    again = subprocess.run(["bash", str(ROOT / "benchmarks/indexing_paper.sh"), str(out)],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert again.returncode == 2 and "another recipe" in again.stderr
