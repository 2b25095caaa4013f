"""The paths users take beyond the tested ones: a rows file whose last complete row lost
its newline, two checkpoint folders with one base name, a model given twice, `-m .`, a
suite file with any name, and what a shard announces."""

import errno
import json
import os
import shutil
import socket
import threading
import time

import pytest
import yaml

from pope_bench.core.errors import BadInput
from pope_bench.sweep import results, rows
from pope_bench.sweep.runner import RunOptions, plan, run


def small(tiny_registry, out, **kw):
    base = dict(models=["rope-tiny"], tasks=["perplexity_text"], lengths="32", out=out, limit=128,
                checkpoints=tiny_registry, plot=False)
    return RunOptions(**{**base, **kw})


# ---------------------------------------------------------------- the rows file's tail


def test_a_complete_last_row_without_its_newline_is_kept(tiny_registry, tmp_path):
    out = tmp_path / "r"
    run(small(tiny_registry, out, lengths="32,64"))
    path = out / "results.jsonl"
    before = path.read_bytes().splitlines()
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # the newline alone was lost
    again = run(small(tiny_registry, out, lengths="32,64,128"))
    assert again["skipped"] == 2 and again["done"] == 1
    data = path.read_bytes()
    assert data.endswith(b"\n") and all(json.loads(line) for line in data.splitlines())
    assert data.splitlines()[: len(before)] == before  # the last row kept, the new cell's rows after it


def test_a_torn_last_line_is_cut_and_its_cell_runs_again(tiny_registry, tmp_path):
    out = tmp_path / "r"
    run(small(tiny_registry, out))
    path = out / "results.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])  # killed mid-write
    assert len(rows.read_rows(out)) == len(lines) - 1
    run(small(tiny_registry, out))
    assert all(json.loads(line) for line in path.read_bytes().splitlines())


def test_a_complete_foreign_last_line_is_refused_before_any_work(tiny_registry, tmp_path):
    # ends with its newline, so no kill tore it: it is not a row, and nothing may run into it
    out = tmp_path / "r"
    out.mkdir()
    (out / "results.jsonl").write_text('{"a": 1}\n')
    with pytest.raises(BadInput, match="line 1 is not a result row"):
        run(small(tiny_registry, out))
    assert sorted(p.name for p in out.iterdir()) == ["results.jsonl"]


# ---------------------------------------------------------------- model identity


@pytest.fixture
def twin_folders(tmp_path, save_tiny_model):
    """Two different checkpoints, both in a folder called ``ck``."""
    return save_tiny_model(tmp_path / "a" / "ck", "rope", seed=1), save_tiny_model(tmp_path / "b" / "ck", "rope", seed=2)


def test_two_folders_with_one_name_are_refused_not_merged(twin_folders, tmp_path):
    a, b = twin_folders
    with pytest.raises(BadInput, match=r"two different models would both be named 'ck'"):
        plan(RunOptions(models=[str(a), str(b)], tasks=["perplexity_text"], lengths="32", limit=64,
                        out=tmp_path / "r", checkpoints=tmp_path / "none.yaml"))
    assert not (tmp_path / "r").exists()


def test_one_checkpoint_in_two_folders_is_one_model(tmp_path, save_tiny_model):
    a = save_tiny_model(tmp_path / "a" / "ck", "rope", seed=1)
    shutil.copytree(a, tmp_path / "b" / "ck")
    the_plan = plan(RunOptions(models=[str(a), str(tmp_path / "b" / "ck")], tasks=["perplexity_text"], lengths="32",
                               limit=64, out=tmp_path / "r", checkpoints=tmp_path / "none.yaml"))
    assert len(the_plan.cells) == 1 and the_plan.models == ["ck"]


def test_a_model_named_twice_runs_once(tiny_registry, tmp_path):
    the_plan = plan(small(tiny_registry, tmp_path / "r", models=["rope-tiny", "pope-tiny", "rope-tiny"]))
    assert [c.entry.name for c in the_plan.cells] == ["rope-tiny", "pope-tiny"]
    folder = str(tiny_registry.parent / "rope-tiny")  # the same checkpoint by its registry name and its folder
    assert len(plan(small(tiny_registry, tmp_path / "r", models=["rope-tiny", folder])).cells) == 1


def test_same_named_models_get_their_own_weights_and_keys(tiny_registry, tmp_path):
    """A variant and its base share weights but not a key; two registry names for one
    folder share a load key, so the worker loads it once."""
    the_plan = plan(small(tiny_registry, tmp_path / "r", models=["rope-tiny", "pope-tiny", "rope-tiny-yarn4"],
                          lengths="64"))
    keys = {c.entry.name: c.key for c in the_plan.cells}
    fingerprints = {c.entry.name: c.fingerprint for c in the_plan.cells}
    assert len(set(keys.values())) == 3
    assert fingerprints["rope-tiny"] == fingerprints["rope-tiny-yarn4"] != fingerprints["pope-tiny"]


def test_dot_is_named_like_its_folder(tmp_path, monkeypatch, save_tiny_model):
    folder = save_tiny_model(tmp_path / "my-model", "rope")
    monkeypatch.chdir(folder)
    the_plan = plan(RunOptions(models=["."], tasks=["perplexity_text"], lengths="32", limit=64,
                               out=tmp_path / "r", checkpoints=tmp_path / "none.yaml"))
    assert the_plan.models == ["my-model"]


# ---------------------------------------------------------------- suites by file; shards


def test_a_suite_file_with_any_name_runs_and_borrows_no_estimate(tiny_registry, tmp_path, cli):
    for name in ("mine", "paper"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"name": name, "description": "one cell", "sweeps": [
            {"tasks": ["perplexity_text"], "models": ["rope-tiny"], "lengths": "32", "limit": 64}]}))
        out = tmp_path / f"out-{name}"
        code, _, err = cli("run", "--suite", path, "--checkpoints", tiny_registry, "--out", out, "--no-plot")
        assert code == 0, err
        assert f"suite {name} ({path}): 1 cells" in err and "estimate" not in err
        assert json.loads((out / "manifest.json").read_text())["runs"][0]["suite"] == f"{name} ({path})"


def test_a_shard_announces_only_its_own_cells(tiny_registry, tmp_path, cli):
    args = ["run", "--checkpoints", tiny_registry, "-m", "rope-tiny", "-m", "pope-tiny", "-t", "perplexity_text",
            "--lengths", "32,64", "--limit", "128", "--out", tmp_path / "r", "--no-plot"]
    code, _, err = cli(*args, "--shard", "0/2")
    assert code == 0 and "shard 0/2: 2 of 4 cells" in err and "already done" not in err
    code, _, err = cli(*args, "--shard", "1/2")
    assert code == 0 and "shard 1/2: 2 of 4 cells" in err and "already done" not in err
    code, _, err = cli(*args, "--shard", "1/2")
    assert code == 0 and "2 already done, 0 to run" in err


# ---------------------------------------------------------------- full and read-only disks


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_disk_that_fills_up_mid_sweep_is_one_line_and_keeps_the_rows(tiny_registry, tmp_path, cli, monkeypatch,
                                                                        code):
    args = ["run", "--checkpoints", tiny_registry, "-m", "rope-tiny", "-t", "perplexity_text",
            "--limit", "128", "--out", tmp_path / "r", "--no-plot"]
    assert cli(*args, "--lengths", "32").returncode == 0
    kept = (tmp_path / "r" / "results.jsonl").read_bytes()
    real_append = results.ResultsWriter.append

    def append(self, rows):
        if rows[0]["length"] == 64:
            raise OSError(code, os.strerror(code), str(self.path))
        real_append(self, rows)

    monkeypatch.setattr(results.ResultsWriter, "append", append)
    done = cli(*args, "--lengths", "32,64")  # the same settings: only the 64 cell is new
    last = done.stderr.strip().splitlines()[-1]  # after the sweep's announcement
    assert done.returncode == 2 and last.startswith("error: ") and "Traceback" not in done.stderr
    assert ("disk is full" if code == errno.ENOSPC else "read-only") in last
    assert "what was written before is kept" in last
    assert (tmp_path / "r" / "results.jsonl").read_bytes() == kept
    assert [r["length"] for r in rows.read_rows(tmp_path / "r") if r["metric"] == "perplexity"] == [32]


def test_each_writing_command_checks_its_output_place_first(tiny_registry, tmp_path, cli):
    """The same one-line refusal for every command that writes, with nothing created."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    checkpoint = tiny_registry.parent / "rope-tiny"
    commands = {
        "run": ["run", "--checkpoints", tiny_registry, "-m", "rope-tiny", "-t", "perplexity_text", "--out"],
        "train": ["train", "text-tiny", "--pe", "rope", "--out"],
        "plot": ["plot", tmp_path, "--out"],
        "figures": ["figures", "fig2", "--results", tmp_path, "--out"],
        "training-curves": ["training-curves", checkpoint, "--out"],
        "tasks new": ["tasks", "new", "t", "--folder"],
    }
    for name, args in commands.items():
        for place, words in ((blocker, "is a file"), (blocker / "sub", "is a file, so no folder"),
                             (tmp_path / ("y" * 300), "longer than 255 bytes")):
            code, out, err = cli(*args, place)
            assert code == 2 and words in err and len(err.splitlines()) == 1, (name, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


# ---------------------------------------------------------------- Ray


@pytest.mark.parametrize("greeting", [b"", b"HTTP/1.1 400 Bad Request\r\n\r\n", b"SSH-2.0-OpenSSH_9.6\r\n"])
def test_a_listener_that_is_not_ray_is_refused_in_seconds(tiny_registry, tmp_path, cli, greeting):
    """`ray.init` retries such an address for ever; the probe asks for a gRPC answer."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve():
        conn, _ = server.accept()
        conn.sendall(greeting)
        time.sleep(8)
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    start = time.monotonic()
    code, _, err = cli("run", "--checkpoints", tiny_registry, "-m", "rope-tiny", "-t", "perplexity_text",
                       "--executor", "ray", "--ray-address", f"127.0.0.1:{port}", "--out", tmp_path / "r")
    server.close()
    assert code == 2 and "not as a Ray cluster" in err, err
    assert time.monotonic() - start < 60 and not (tmp_path / "r").exists()


def test_a_user_task_replacing_a_built_in_says_so(tiny_registry, tmp_path, cli):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "perplexity_text.yaml").write_text(yaml.safe_dump({
        "name": "perplexity_text", "type": "perplexity", "default_lengths": "1x",
        "params": {"corpus": "kjv", "tokens": 128}}))
    code, _, err = cli("run", "--checkpoints", tiny_registry, "-m", "rope-tiny", "-t", "perplexity_text",
                       "--tasks-dir", folder, "--out", tmp_path / "r", "--no-plot")
    assert code == 0 and f"note: task 'perplexity_text' from {folder / 'perplexity_text.yaml'} replaces the built-in" in err
    code, _, err = cli("list", "tasks", "--tasks-dir", folder, "--checkpoints", tiny_registry)
    assert code == 0 and "replaces the built-in one" in err


def test_version_option(cli):
    from pope_bench import __version__

    assert cli("--version") == (0, f"{__version__}\n", "")
