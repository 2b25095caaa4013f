"""The runner: task discovery from all three sources, the results schema, resume after
SIGKILL, out-of-memory handling, NaN cells, plots, and bad input at the CLI."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pope_bench.core.errors import BadInput
from pope_bench.sweep import results, rows
from pope_bench.sweep.runner import RunOptions, plan, run
from pope_bench.tasks.registry import discover

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
SCHEMA = ["model", "pe", "scaling", "train_length", "task", "metric", "length", "length_ratio", "value",
          "stderr", "n", "seed", "status", "device", "dtype", "elapsed_s", "run_id", "version", "git_sha",
          "timestamp"]


def write_task(folder: Path, name: str, type_: str, **params) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "type": type_, "default_lengths": "1x", "params": params}))
    return path


# ---------------------------------------------------------------- discovery


def test_builtin_tasks_are_found():
    found = discover()
    assert {"perplexity_text", "perplexity_pg19"} <= set(found.definitions)
    assert found.definitions["perplexity_text"].type == "perplexity"


def test_tasks_dir_adds_tasks_and_refuses_broken_files(tmp_path):
    write_task(tmp_path, "my_ppl", "perplexity", corpus="kjv", tokens=64)
    found = discover([tmp_path])
    assert found.build("my_ppl").params.tokens == 64
    assert "perplexity_text" in found.definitions
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n")
    with pytest.raises(BadInput, match="broken.yaml is not valid YAML"):
        discover([tmp_path])


def test_a_user_task_with_a_builtin_name_replaces_it_with_a_note(tmp_path):
    write_task(tmp_path, "perplexity_text", "perplexity", corpus="kjv", tokens=64)
    found = discover([tmp_path])
    assert found.build("perplexity_text").params.tokens == 64
    assert found.notes == {"perplexity_text": f"task 'perplexity_text' from {tmp_path / 'perplexity_text.yaml'} "
                                              "replaces the built-in one"}
    twice = tmp_path / "again"
    write_task(twice, "perplexity_text", "perplexity", corpus="kjv", tokens=32)
    with pytest.raises(BadInput, match="defined twice"):
        discover([tmp_path, twice])


def make_distribution(root: Path, name: str, module_source: str, entry: str) -> None:
    """A real installed-distribution layout (dist-info + module) on a sys.path folder."""
    (root / f"{name}.py").write_text(module_source)
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[pope_bench.tasks]\n{name} = {entry}\n")


def test_entry_point_plugins_are_found_and_a_failing_one_is_named(tmp_path, monkeypatch):
    make_distribution(tmp_path, "good_plugin", (
        "def tasks():\n"
        "    return [{'name': 'plugin_ppl', 'type': 'perplexity', 'params': {'corpus': 'kjv', 'tokens': 32}}]\n"
    ), "good_plugin:tasks")
    make_distribution(tmp_path, "bad_plugin", "import not_a_module_anywhere\n", "bad_plugin:tasks")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = discover()
    assert found.definitions["plugin_ppl"].origin.startswith("entry point good_plugin")
    assert any("bad_plugin" in p and "ModuleNotFoundError" in p for p in found.problems)
    assert found.build("plugin_ppl").params.tokens == 32


def test_unknown_task_suggests_close_names():
    with pytest.raises(BadInput, match="did you mean perplexity_text"):
        discover().build("perplexity_txt")


# ---------------------------------------------------------------- sweeps


def options(tiny_registry, out, **kw):
    base = dict(models=["rope-tiny", "pope-tiny"], tasks=["perplexity_text"], lengths="32,64",
                out=out, limit=256, checkpoints=tiny_registry)
    return RunOptions(**{**base, **kw})


def test_results_schema_and_load(tiny_registry, tmp_path):
    stats = run(options(tiny_registry, tmp_path / "r"))
    assert stats == {"failed": 0, "done": 4, "skipped": 0, "out": str(tmp_path / "r"), "suite": None,
                     "tasks": ["perplexity_text"], "models": ["rope-tiny", "pope-tiny"]}  # in the order asked
    frame = results.load(tmp_path / "r")
    assert set(SCHEMA) <= set(frame.columns)
    main = frame[frame["metric"] == "perplexity"]
    assert len(main) == 4 and set(main["status"]) == {"ok"}
    assert set(main["length_ratio"]) == {1.0, 2.0}
    assert (main["n"] == 256).all()  # the same number of scored tokens at every length
    assert (main["documents"] >= 1).all() and set(main["stderr_method"]) == {"window_clustered"}
    assert main["train_seed"].isna().all() and main["group"].isna().all()  # the tiny registry names none
    assert ((main["value"] > 100) & (main["value"] < 400)).all()  # random 256-way model: ≈ 256
    bins = frame[frame["metric"] == "loss_by_position"]
    assert bins["position"].notna().all() and len(bins) > 4
    csv = pd.read_csv(tmp_path / "r" / "results.csv")
    parquet = pd.read_parquet(tmp_path / "r" / "results.parquet")
    assert len(csv) == len(parquet) == len(frame)
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    run_entry = manifest["runs"][0]
    assert run_entry["seeds"] == [0] and "kjv" in run_entry["data_checksums"]
    assert run_entry["versions"]["torch"]


def test_rerun_skips_finished_cells_and_force_recomputes(tiny_registry, tmp_path):
    out = tmp_path / "r"
    run(options(tiny_registry, out))
    again = run(options(tiny_registry, out))
    assert again["done"] == 0 and again["skipped"] == 4
    more = run(options(tiny_registry, out, lengths="32,64,128"))
    assert more["done"] == 2 and more["skipped"] == 4
    forced = run(options(tiny_registry, out, force=True))
    assert forced["done"] == 4
    frame = results.load(out)
    assert len(frame[frame["metric"] == "perplexity"]) == 6  # recomputed cells replace old rows


def test_yarn_variant_runs_and_is_labelled(tiny_registry, tmp_path):
    run(options(tiny_registry, tmp_path / "r", models=["rope-tiny", "rope-tiny-yarn4"], lengths="128"))
    frame = results.load(tmp_path / "r")
    main = frame[frame["metric"] == "perplexity"].set_index("model")
    assert main.loc["rope-tiny-yarn4", "scaling"] == "yarn4"
    assert main.loc["rope-tiny-yarn4", "value"] != main.loc["rope-tiny", "value"]


def test_auto_factor_variant_equals_its_base_at_1x_but_keeps_its_own_rows(tiny_registry, tmp_path):
    run(options(tiny_registry, tmp_path / "r", models=["rope-tiny", "rope-tiny-yarn-auto"], lengths="32,64"))
    main = results.load(tmp_path / "r").query("metric == 'perplexity'").set_index(["model", "length"])["value"]
    assert len(main) == 4
    assert main[("rope-tiny-yarn-auto", 32)] == main[("rope-tiny", 32)]  # no scaling at the train length
    assert main[("rope-tiny-yarn-auto", 64)] != main[("rope-tiny", 64)]  # factor 2 at 2×


def test_out_of_memory_halves_the_batch_then_records_oom(tiny_registry, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))
    from flaky_tasks import MemoryHungryTask

    tasks = tmp_path / "tasks"
    write_task(tasks, "hungry", "flaky_tasks:MemoryHungryTask", max_tokens=256)
    write_task(tasks, "starving", "flaky_tasks:MemoryHungryTask", max_tokens=16)
    write_task(tasks, "nan_task", "flaky_tasks:NanTask")
    MemoryHungryTask.calls.clear()
    stats = run(options(tiny_registry, tmp_path / "r", models=["pope-tiny"], tasks=["hungry", "starving", "nan_task"],
                        tasks_dirs=[tasks], lengths="64,128"))
    frame = results.load(tmp_path / "r").set_index(["task", "length"])
    # 512 tokens/pass on the CPU at first: halved until batch × length ≤ 256; the budget carries down
    assert frame.loc[("hungry", 128), "value"] == 2.0
    assert frame.loc[("hungry", 64), "value"] == 4.0
    assert frame.loc[("starving", 128), "status"] == "oom"  # even batch 1 is too big
    assert frame.loc[("starving", 64), "status"] == "oom"
    assert frame.loc[("nan_task", 64), "status"] == "nan"
    assert stats["failed"] == 4 and stats["done"] == 2
    assert [b for length, b in MemoryHungryTask.calls[:3]] == [4, 2, 4]


def test_explicit_unsuitable_pair_is_refused_before_work(tiny_registry, tmp_path):
    tasks = tmp_path / "tasks"
    write_task(tasks, "dna_ppl", "perplexity", corpus="kjv", domain="dna")
    with pytest.raises(BadInput, match="needs a dna model"):
        plan(options(tiny_registry, tmp_path / "r", tasks=["dna_ppl"], tasks_dirs=[tasks]))
    assert not (tmp_path / "r").exists()


def test_sweep_killed_midway_resumes_to_the_same_table(tiny_registry, tmp_path, cli):
    args = ["run", "--checkpoints", str(tiny_registry), "-m", "rope-tiny", "-m", "pope-tiny", "-t", "perplexity_text",
            "--lengths", "16..512:16", "--limit", "512", "--no-plot"]
    clean = cli(*args, "--out", str(tmp_path / "clean"))
    assert clean.returncode == 0, clean.stderr
    killed_out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(PLUGINS)}
    proc = subprocess.Popen([sys.executable, "-m", "pope_bench", *args, "--out", str(killed_out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and len(rows.read_rows(killed_out)) < 20 * 19:
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = results.load(killed_out)
    done_before = set(first["cell_key"])
    assert 0 < len(done_before) < 64
    resumed = cli(*args, "--out", str(killed_out))
    assert resumed.returncode == 0, resumed.stderr
    after = results.load(killed_out)
    second_run = after[after["run_id"] != first["run_id"].iloc[0]]
    assert set(second_run["cell_key"]).isdisjoint(done_before)  # only missing cells were computed
    assert len(set(after["cell_key"])) == 64
    columns = ["model", "task", "metric", "length", "seed", "position", "value", "n"]
    key = ["model", "metric", "length", "position"]
    a = results.load(tmp_path / "clean")[columns].sort_values(key).reset_index(drop=True)
    b = after[columns].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_plots_are_written(tiny_registry, tmp_path, cli):
    out = tmp_path / "r"
    run(options(tiny_registry, out, lengths="32,64,128"))
    done = cli("plot", str(out))
    assert done.returncode == 0, done.stderr
    png = out / "plots" / "perplexity_text.png"
    assert png.read_bytes()[:4] == b"\x89PNG" and (out / "plots" / "perplexity_text.svg").exists()


# ---------------------------------------------------------------- bad input at the CLI


@pytest.mark.parametrize(
    "args, words",
    [
        (["-m", "rope-tinyy"], "did you mean rope-tiny"),
        (["-t", "perplexity_txt"], "did you mean perplexity_text"),
        (["--lengths", "0x"], "positive"),
        (["--lengths", "4k..1k"], "descending"),
        (["--lengths", "1k..4k:0"], "positive"),
        (["--lengths", ""], "empty"),
        (["--lengths", "100x"], "raise the limit with `max_length: N` in rope-tiny's checkpoints.yaml entry"),
        (["--batch-size", "zero"], "--batch-size"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tiny_registry, tmp_path, args, words, cli):
    out = tmp_path / "r"
    base = ["run", "--checkpoints", str(tiny_registry), "-m", "rope-tiny", "-t", "perplexity_text", "--out", str(out)]
    done = cli(*base, *args)
    assert done.returncode == 2, done.stderr
    assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert not (out / "results.jsonl").exists()


@pytest.mark.parametrize("fields, words", [({"seed": "one"}, "seed: Input should be a valid integer"),
                                           ({"group": ""}, "group: String should have at least 1 character")])
def test_bad_training_seed_fields_are_one_line(tmp_path, fields, words):
    from pope_bench.models.checkpoints import load_registry

    path = tmp_path / "checkpoints.yaml"
    path.write_text(yaml.safe_dump({"models": {"m": {"path": "m", "pe": "rope", "train_length": 8, **fields}}}))
    with pytest.raises(BadInput, match=words):
        load_registry(path)


def test_broken_registry_and_unwritable_out(tiny_registry, tmp_path, cli):
    broken = tmp_path / "broken.yaml"
    broken.write_text("models: {a: [1, 2\n")
    done = cli("run", "--checkpoints", str(broken), "--out", str(tmp_path / "r"))
    assert done.returncode == 2 and "not valid YAML" in done.stderr
    done = cli("list", "models", "--checkpoints", str(tmp_path / "missing.yaml"))
    assert done.returncode == 2 and "does not exist" in done.stderr
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = cli("run", "--checkpoints", str(tiny_registry), "-m", "rope-tiny", "-t", "perplexity_text",
               "--lengths", "32", "--out", str(blocker / "sub"))
    assert done.returncode == 2 and "not writable" in done.stderr


def test_failing_plugin_is_named_and_others_keep_working(tiny_registry, tmp_path, cli):
    tasks = tmp_path / "tasks"
    write_task(tasks, "ghost", "no_such_module:Task")
    done = cli("run", "--checkpoints", str(tiny_registry), "-m", "rope-tiny", "-t", "ghost", "--tasks-dir", str(tasks),
               "--out", str(tmp_path / "r"))
    assert done.returncode == 2 and "no_such_module" in done.stderr
    done = cli("run", "--checkpoints", str(tiny_registry), "-m", "rope-tiny", "-t", "perplexity_text",
               "--tasks-dir", str(tasks), "--lengths", "32", "--limit", "64", "--out", str(tmp_path / "r"), "--no-plot")
    assert done.returncode == 0, done.stderr


def test_missing_checkpoint_weights(tmp_path, cli):
    folder = tmp_path / "empty-model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "pope_bench", "pe": "rope", "train_length": 32}))
    registry = tmp_path / "c.yaml"
    registry.write_text(yaml.safe_dump({"models": {"e": {"path": "empty-model", "pe": "rope", "train_length": 32}}}))
    done = cli("run", "--checkpoints", str(registry), "-m", "e", "-t", "perplexity_text", "--out", str(tmp_path / "r"))
    assert done.returncode == 2 and "no *.safetensors" in done.stderr
