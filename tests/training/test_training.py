"""`pope-bench train`: a run killed mid-way (SIGKILL) and rerun ends with the same weights
and curve as an uninterrupted one; the curve holds each task's held-out accuracy and is
on disk while training runs; a resume under another recipe is refused."""

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch
import yaml
from safetensors.torch import load_file

from pope_bench.core.errors import BadInput
from pope_bench.data.tokenizers import get_tokenizer
from pope_bench.report.training_curves import plot_training_curves
from pope_bench.report.training_curves import read_curve as read_curve_frame
from pope_bench.training.recipe import load_recipe
from pope_bench.training.state import STATE_FILE, TrainState, peek_state, save_state
from pope_bench.training.trainer import (
    build_model,
    held_out_metrics,
    make_optimizer,
    train,
)

TASKS = ["indirect_indexing", "position_indexing", "content_indexing"]


@pytest.fixture
def recipe_file(tmp_path):
    path = tmp_path / "tiny-indexing.yaml"
    path.write_text(yaml.safe_dump({
        "name": "tiny-indexing", "tokenizer": "chars",
        "data": {"kind": "tasks", "tasks": TASKS},
        "model": {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "delta_init": "uniform"},
        "train": {"length": 51, "batch_size": 4, "steps": 400, "warmup_steps": 10, "checkpoint_every": 5,
                  "eval_every": 100, "eval_batches": 1, "lr": 3e-3},
    }))
    return path


def read_curve(folder):
    with open(folder / "training_curve.csv") as f:
        return list(csv.DictReader(f))


def test_killed_training_resumes_to_the_same_weights_and_curve(recipe_file, tmp_path):
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "pope_bench", "train", str(recipe_file), "--pe", "pope", "--out", str(killed),
               "--threads", "1"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (killed / STATE_FILE).exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    interrupted_at = peek_state(killed / STATE_FILE).step
    assert 0 < interrupted_at < 400 and not (killed / "model.safetensors").exists()

    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {killed} at step {interrupted_at}" in resumed.stderr
    assert not (killed / STATE_FILE).exists()

    torch.set_num_threads(1)
    straight = train(load_recipe(str(recipe_file)), "pope", tmp_path / "straight")
    got, want = load_file(killed / "model.safetensors"), load_file(straight / "model.safetensors")
    assert got.keys() == want.keys()
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=0, atol=0, msg=name)
    got_curve, want_curve = read_curve(killed), read_curve(straight)
    assert [r["step"] for r in got_curve] == [r["step"] for r in want_curve] == ["100", "200", "300", "400"]
    for column in ("val_loss", *(f"accuracy:{t}" for t in TASKS)):
        assert [r[column] for r in got_curve] == [r[column] for r in want_curve]


def test_curve_has_each_tasks_held_out_accuracy(recipe_file, tmp_path):
    recipe = load_recipe(str(recipe_file), ["train.steps=20", "train.eval_every=10"])
    out = train(recipe, "rope", tmp_path / "run")
    rows = read_curve(out)
    assert list(rows[0]) == ["step", "targets", "lr", "train_loss", "tokens_per_s", "val_loss", "val_accuracy",
                             *(f"accuracy:{t}" for t in TASKS)]
    for row in rows:
        accuracies = [float(row[f"accuracy:{t}"]) for t in TASKS]
        assert all(0 <= a <= 1 for a in accuracies)
    # the same numbers as scoring each task's held-out batches directly with the final model
    from pope_bench.models.native import PopeBenchForCausalLM
    from pope_bench.tasks.indexing_rows import IndexingMixture

    model = PopeBenchForCausalLM.from_pretrained(out)
    for name, part in IndexingMixture.from_tasks(TASKS, "test").parts().items():
        assert float(rows[-1][f"accuracy:{name}"]) == pytest.approx(held_out_metrics(model, part, recipe["train"], 51)[1])

    curves = read_curve_frame(out)
    assert list(curves["examples"]) == [40, 80] and set(curves["pe"]) == {"rope"}
    assert [r["targets"] for r in rows] == ["40", "80"]  # one supervised target per example
    files = plot_training_curves([out, out], tmp_path / "figures")
    assert [f.name for f in files] == ["training_curves.png", "training_curves.svg", "training_curves.csv"]
    table = pd.read_csv(files[-1])
    assert len(table) == 4 and list(table["targets"]) == [40, 80, 40, 80]
    assert all(f.stat().st_size > 10_000 for f in files[:2])
    with pytest.raises(BadInput, match="--x must be one of examples, targets"):
        plot_training_curves([out], tmp_path / "figures", x="steps")
    with pytest.raises(BadInput, match="has no training_curve.csv"):
        plot_training_curves([tmp_path], tmp_path / "figures")


def test_resume_under_another_recipe_is_refused(recipe_file, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    recipe = load_recipe(str(recipe_file))
    model = build_model(recipe, "pope", vocab_size=64, train_length=recipe["train"]["length"])
    save_state(out / STATE_FILE, model, make_optimizer(model, recipe["train"]), torch.Generator(),
               TrainState(step=1, targets=64, curve=[], recipe=yaml.safe_dump(recipe), pe="pope"))
    with pytest.raises(BadInput, match="different recipe or --pe"):
        train(load_recipe(str(recipe_file), ["train.lr=1e-2"]), "pope", out)
    with pytest.raises(BadInput, match="different recipe or --pe"):
        train(recipe, "rope", out)


def test_a_truncated_training_state_is_a_one_line_error(recipe_file, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / STATE_FILE).write_bytes(b"\x10\x00\x00")
    with pytest.raises(BadInput, match="not a readable training state"):
        train(load_recipe(str(recipe_file)), "pope", out)


def test_curriculum_stages_scale_the_tasks_and_end_with_the_recipes_data():
    from pope_bench.training.batches import training_stages

    data = {"kind": "tasks", "tasks": TASKS,
            "curriculum": [{"until_step": 100, "scale": 0.25}, {"until_step": 300, "scale": 0.5}]}
    stages = training_stages(data, "chars", 51, 1000)
    assert [(until, length) for until, _, length in stages] == [(100, 20), (300, 30), (None, 51)]
    sizes = [{name: (g.string_length, g.max_shift) for name, g in source.generators.items()} for _, source, _ in stages]
    assert sizes[0]["indirect_indexing"] == ((5, 10), 4) and sizes[1]["indirect_indexing"] == ((10, 20), 8)
    assert sizes[2]["indirect_indexing"] == ((20, 40), 15)
    ids, labels = stages[0][1].sample_batch(torch.Generator().manual_seed(0), 32, 20)
    strings = [get_tokenizer("chars").decode(row.tolist()).lstrip("|").split(",")[0] for row in ids]
    assert max(len(s) for s in strings) <= 10 and (labels[:, :-1] == -100).all()


def test_a_curriculum_stage_can_narrow_the_shifts_first():
    from pope_bench.training.batches import training_stages

    data = {"kind": "tasks", "tasks": ["indirect_indexing"], "queries": 4,
            "curriculum": [{"until_step": 100, "scale": 0.25, "max_shift": 1}, {"until_step": 200, "scale": 0.25}]}
    (_, narrow, length), (_, wide, _), (_, final, _) = training_stages(data, "chars", 84, 300)
    assert [g.max_shift for g in (narrow.generators["indirect_indexing"], wide.generators["indirect_indexing"],
                                  final.generators["indirect_indexing"])] == [1, 4, 15]
    ids, _ = narrow.sample_batch(torch.Generator().manual_seed(0), 64, length)
    shifts = {int(field) for row in ids.tolist()
              for field in get_tokenizer("chars").decode(row).lstrip("|").split(", ")[2::3]}
    assert shifts == {-1, 0, 1}


@pytest.mark.parametrize("curriculum,words", [
    ([{"until_step": 100, "scale": 1.5}], "scale must be a number in (0, 1)"),
    ([{"until_step": 100, "scale": 0.5}, {"until_step": 50, "scale": 0.7}], "until_step must be an integer above 100"),
    ([{"until": 100, "scale": 0.5}], "must be a mapping {until_step: N, scale: r}"),
    ([{"until_step": 100, "scale": 0.5, "max_shift": -1}], "max_shift must be a non-negative integer"),
    ([{"until_step": 100, "scale": 0.05}], "leave strings of"),
    ([{"until_step": 400, "scale": 0.5}], "until_step 400 leaves no step of the 1x task (train.steps 400)"),
])
def test_bad_curriculum_is_refused_before_anything_is_written(curriculum, words, recipe_file, tmp_path):
    recipe = load_recipe(str(recipe_file))
    recipe["data"]["curriculum"] = curriculum
    with pytest.raises(BadInput, match=re.escape(words)):
        train(recipe, "pope", tmp_path / "run")
    assert not (tmp_path / "run").exists()


def multi_query_recipe(recipe_file, *overrides):
    return load_recipe(str(recipe_file), ["data.tasks=[indirect_indexing]", "data.queries=4", "train.length=84",
                                          "train.steps=20", "train.eval_every=10", *overrides])


def test_multi_query_training_counts_every_target_and_validates_the_tested_format(recipe_file, tmp_path):
    """4 queries per string: 4 supervised targets per row, the model still tested (config
    train_length, validation) on the single-query 1x task at 51 tokens."""
    recipe = multi_query_recipe(recipe_file)
    out = train(recipe, "pope", tmp_path / "run")
    rows = read_curve(out)
    assert [r["targets"] for r in rows] == [str(10 * 4 * 4), str(20 * 4 * 4)]
    assert json.loads((out / "config.json").read_text())["train_length"] == 51
    from pope_bench.models.native import PopeBenchForCausalLM
    from pope_bench.tasks.indexing_rows import IndexingMixture

    single = IndexingMixture.from_tasks(["indirect_indexing"], "test")
    model = PopeBenchForCausalLM.from_pretrained(out)
    assert float(rows[-1]["val_accuracy"]) == pytest.approx(held_out_metrics(model, single, recipe["train"], 51)[1])


@pytest.mark.parametrize("overrides,words", [
    (["train.length=83"], "with 4 queries per string takes 84 tokens, more than train.length 83; "
                          "set train.length ≥ 84 or lower data.queries"),
    (["data.queries=0"], "data.queries: Input should be greater than 0 (got 0)"),
    (["data.curriculum=[{until_step: 20, scale: 0.5}]"], "until_step 20 leaves no step of the 1x task"),
])
def test_bad_multi_query_recipe_is_one_line_exit_2_and_writes_nothing(overrides, words, recipe_file, tmp_path,
                                                                     monkeypatch, capsys):
    from pope_bench.cli import main

    items = ["data.tasks=[indirect_indexing]", "data.queries=4", "train.length=84", "train.steps=20", *overrides]
    sets = [arg for item in items for arg in ("--set", item)]
    out = tmp_path / "run"
    monkeypatch.setattr(sys, "argv", ["pope-bench", "train", str(recipe_file), "--pe", "rope", "--out", str(out), *sets])
    with pytest.raises(SystemExit) as done:
        main()
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.count("\n") == 1 and words in err, err
    assert not out.exists()


def test_bf16_autocast_trains_and_a_missing_cuda_is_refused(recipe_file, tmp_path):
    recipe = load_recipe(str(recipe_file), ["train.steps=10", "train.eval_every=10"])
    out = train(recipe, "pope", tmp_path / "bf16", bf16=True)
    rows = read_curve(out)
    assert len(rows) == 1 and 0 < float(rows[0]["train_loss"]) < 10
    if not torch.cuda.is_available():
        with pytest.raises(BadInput, match="no CUDA device is visible"):
            train(recipe, "pope", tmp_path / "cuda", device="cuda")
        assert not (tmp_path / "cuda").exists()
