"""Scale-out: shards (--shard i/n), the Ray executor and --device-map give the same table
as one process; a rerun over their --out runs nothing; a worker killed mid-cell is
retried, or recorded and rerun; a model that cannot load is status rows; bad scale-out
options are one line, exit 2, before any work."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import pope_bench
from pope_bench.core.errors import BadInput
from pope_bench.sweep import results, rows
from pope_bench.sweep.runner import RunOptions, plan, run
from pope_bench.sweep.shards import (
    Shard,
    balanced_split,
    cell_cost,
    parse_shard,
    select,
)

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
ROOT = Path(pope_bench.__file__).resolve().parent.parent
VALUES = ["model", "task", "metric", "length", "seed", "position", "value", "stderr", "n", "status"]


def options(tiny_registry, out, **kw):
    base = dict(models=["rope-tiny", "pope-tiny"], tasks=["perplexity_text"], lengths="32,64,96,128",
                out=out, limit=256, checkpoints=tiny_registry, plot=False)
    return RunOptions(**{**base, **kw})


def values(out) -> pd.DataFrame:
    return results.load(out)[VALUES].sort_values(VALUES[:6]).reset_index(drop=True)


# ---------------------------------------------------------------- shards


def test_shards_are_a_deterministic_balanced_partition(tiny_registry, tmp_path):
    cells = plan(options(tiny_registry, tmp_path / "r", lengths="32..1k:32", limit=1024)).cells
    parts = [select(cells, Shard(i, 3)) for i in range(3)]
    keys = [{c.key for c in part} for part in parts]
    assert sum(map(len, keys)) == len(cells) == 64 and set().union(*keys) == {c.key for c in cells}
    costs = [sum(cell_cost(c) for c in part) for part in parts]
    assert max(costs) - min(costs) <= max(cell_cost(c) for c in cells)  # LPT's bound
    # another process plans the cells anew, maybe in another order: the same split
    again = balanced_split(list(reversed(plan(options(tiny_registry, tmp_path / "r", lengths="32..1k:32", limit=1024)).cells)), 3)
    assert [{c.key for c in part} for part in again] == keys


def test_shard_comes_from_the_option_or_torchrun_environment():
    assert parse_shard("1/4") == Shard(1, 4)
    assert parse_shard(None, {"RANK": "3", "WORLD_SIZE": "8"}) == Shard(3, 8)
    assert parse_shard("0/2", {"RANK": "3", "WORLD_SIZE": "8"}) == Shard(0, 2)  # the option wins
    assert parse_shard("0/1") is None and parse_shard(None, {}) is None  # the whole grid
    with pytest.raises(BadInput, match="RANK/WORLD_SIZE"):
        parse_shard(None, {"RANK": "8", "WORLD_SIZE": "8"})


@pytest.fixture(scope="module")
def one_process(tiny_registry, tmp_path_factory) -> Path:
    """The grid run by one process: the table every route must reproduce."""
    out = tmp_path_factory.mktemp("one") / "r"
    run(options(tiny_registry, out))
    return out


def test_two_shards_at_once_give_the_table_of_one_process(one_process, tiny_registry, tmp_path):
    out = tmp_path / "sharded"
    args = ["run", "--checkpoints", str(tiny_registry), "-m", "rope-tiny", "-m", "pope-tiny", "-t", "perplexity_text",
            "--lengths", "32,64,96,128", "--limit", "256", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    shards = [subprocess.Popen([sys.executable, "-m", "pope_bench", *args, "--shard", f"{i}/2"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for i in range(2)]
    for proc in shards:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert [p.name for p in rows.rows_files(out)] == ["results.shard-0-of-2.jsonl", "results.shard-1-of-2.jsonl"]
    pd.testing.assert_frame_equal(values(one_process), values(out))
    manifest = json.loads((out / "manifest.json").read_text())  # both runs recorded, none lost
    assert sorted(r["shard"] for r in manifest["runs"]) == ["0/2", "1/2"]
    assert sum(r["cells_to_run"] for r in manifest["runs"]) == 8
    assert len(pd.read_csv(out / "results.csv")) == len(results.load(out))  # the last export saw both shards
    assert (out / "plots" / "perplexity_text.png").exists()
    assert rows.results_folders([tmp_path]) == [out]  # what `figures` reads
    again = run(options(tiny_registry, out))  # a plain rerun over the shards' --out
    assert again["done"] == 0 and again["skipped"] == 8


def test_native_model_spread_by_device_map_gives_the_same_table(one_process, tiny_registry, tmp_path):
    pytest.importorskip("accelerate")
    run(options(tiny_registry, tmp_path / "mapped", device_map="auto"))
    pd.testing.assert_frame_equal(values(one_process), values(tmp_path / "mapped"))


def test_a_model_that_fails_to_load_becomes_status_rows(tiny_registry, tmp_path, monkeypatch):
    """A checkpoint that passed every check before the sweep but fails when its weights load
    (a file replaced mid-sweep, a device that runs out of memory) costs its own cells only.
    The failure is injected at the loader, since every corruption a file can carry is now
    refused before any work (tests/test_bad_input.py)."""
    from pope_bench.models import loading

    real = loading.load_model

    def failing(entry, *args, **kwargs):
        if entry.name == "rope-tiny":
            raise RuntimeError("weights replaced while the sweep ran")
        return real(entry, *args, **kwargs)

    monkeypatch.setattr(loading, "load_model", failing)
    stats = run(options(tiny_registry, tmp_path / "r"))
    assert stats["done"] == 4 and stats["failed"] == 4  # the other model's cells still ran
    frame = results.load(tmp_path / "r")
    failed = frame[frame["model"] == "rope-tiny"]
    assert set(failed["status"]) == {"error"} and failed["error"].str.startswith("loading the model").all()


# ---------------------------------------------------------------- Ray


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    # workers import this checkout's pope_bench and the test plugins, whatever is installed
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([str(ROOT), str(PLUGINS)])}})
    yield ray
    ray.shutdown()


def test_ray_executor_gives_the_table_of_one_process(ray_cluster, one_process, tiny_registry, tmp_path):
    stats = run(options(tiny_registry, tmp_path / "ray", executor="ray"))
    assert stats["done"] == 8 and stats["failed"] == 0
    pd.testing.assert_frame_equal(values(one_process), values(tmp_path / "ray"))
    assert [p.name for p in rows.rows_files(tmp_path / "ray")] == ["results.jsonl"]  # the driver's one file
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert manifest["runs"][0]["executor"]["name"] == "ray" and manifest["runs"][0]["cells_to_run"] == 8
    assert run(options(tiny_registry, tmp_path / "ray", executor="ray"))["done"] == 0


def dying_task(folder: Path, deaths: Path, **params) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    deaths.mkdir()
    (folder / "dying.yaml").write_text(yaml.safe_dump({
        "name": "dying", "type": "flaky_tasks:DyingTask", "default_lengths": "1x",
        "params": {"deaths": str(deaths), **params}}))
    return folder


def test_ray_worker_killed_mid_cell_is_retried(ray_cluster, tiny_registry, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))
    deaths = tmp_path / "deaths"
    tasks = dying_task(tmp_path / "tasks", deaths, dies=1)
    stats = run(options(tiny_registry, tmp_path / "r", tasks=["dying"], tasks_dirs=[tasks], lengths="32,64",
                        models=["pope-tiny"], executor="ray"))
    assert [len((deaths / f"L{n}").read_text().splitlines()) for n in (32, 64)] == [1, 1]  # workers really died
    assert {k: stats[k] for k in ("failed", "done", "skipped")} == {"failed": 0, "done": 2, "skipped": 0}
    assert sorted(results.load(tmp_path / "r")["value"]) == [32.0, 64.0]


def test_ray_worker_that_keeps_dying_is_recorded_and_a_rerun_completes(ray_cluster, tiny_registry, tmp_path,
                                                                       monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))
    deaths = tmp_path / "deaths"
    tasks = dying_task(tmp_path / "tasks", deaths, dies=2, at=[64])  # the cell at 64 and its retry die
    sweep = options(tiny_registry, tmp_path / "r", tasks=["dying"], tasks_dirs=[tasks], lengths="32,64",
                    models=["pope-tiny"], executor="ray")
    stats = run(sweep)
    assert stats["failed"] == 1 and stats["done"] == 1  # the sweep went on
    frame = results.load(tmp_path / "r")
    crashed = frame[frame["status"] == "crashed"]
    assert list(crashed["length"]) == [64] and "died 2 times" in crashed["error"].iloc[0]
    again = run(sweep)
    assert again["done"] == 1 and again["skipped"] == 1
    frame = results.load(tmp_path / "r")
    assert sorted(frame.loc[frame["status"] == "ok", "value"]) == [32.0, 64.0]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("args, words", [
    (["--shard", "2/2"], "must be below n"),
    (["--shard", "0/0"], "n must be from 1 to"),
    (["--shard", "a/b"], "must be i/n"),
    (["--executor", "dask"], "not one of local, ray"),
    (["--ray-address", "127.0.0.1:1"], "apply to --executor ray"),
    (["--executor", "ray", "--ray-address", "127.0.0.1:1"], "unreachable"),
    (["--executor", "ray", "--ray-address", "nowhere"], "HOST:PORT"),
    (["--executor", "ray", "--gpus-per-cell", "-1"], "a number from 0 to"),
    (["--device-map", "everywhere"], "not one of auto"),
    (["--attn-implementation", "fast"], "not one of auto"),
])
def test_bad_scale_out_options(tiny_registry, tmp_path, cli, args, words):
    out = tmp_path / "r"
    code, _, err = cli("run", "--checkpoints", str(tiny_registry), "-m", "rope-tiny",
                       "-t", "perplexity_text", "--out", str(out), *args)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_missing_extras_are_named(tiny_registry, tmp_path, cli, monkeypatch):
    base = ["run", "--checkpoints", str(tiny_registry), "-m", "rope-tiny", "-t", "perplexity_text",
            "--out", str(tmp_path / "r")]
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    code, _, err = cli(*base, "--executor", "ray")
    assert code == 2 and "pip install 'pope-bench[ray]'" in err
    # as if transformers found no accelerate it accepts (it decides; pope-bench asks it)
    monkeypatch.setattr("transformers.utils.is_accelerate_available", lambda *a, **k: False)
    code, _, err = cli(*base, "--device-map", "auto")
    assert code == 2 and "'pope-bench[accelerate]'" in err
    assert not (tmp_path / "r").exists()
