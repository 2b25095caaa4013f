"""The bad-input corpus: malformed invocations, each run in-process (typer's CliRunner) and
each required to end the way DESIGN.md promises — exit code 2, one line on stderr that
says what is wrong, no traceback, and nothing written or changed on disk.

The world every case runs in is built once: a registry of tiny checkpoints, broken copies
of them (pickled weights, truncated safetensors, a config that disagrees with its weights),
broken registries, task folders, recipes and results folders. Its files are snapshotted
before and after every case.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import save_file
from typer.testing import CliRunner

from pope_bench.cli import app

from conftest import save_tiny


def write_yaml(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


def registry_with(world: Path, name: str, entries: dict) -> Path:
    return write_yaml(world / "registries" / f"{name}.yaml", {"models": entries})


def task_dir(world: Path, name: str, *tasks: dict, raw: bytes | None = None) -> Path:
    folder = world / "tasks" / name
    folder.mkdir(parents=True)
    for task in tasks:
        write_yaml(folder / f"{task['name'].replace('/', '_')}.yaml", task)
    if raw is not None:
        (folder / "raw.yaml").write_bytes(raw)
    return folder


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    world = tmp_path_factory.mktemp("bad-input-world")
    models = world / "models"
    for pe in ("rope", "pope"):
        save_tiny(models / pe, pe)
    good = {"rope-tiny": {"path": "../models/rope", "pe": "rope", "train_length": 32, "tokenizer": "bytes"},
            "pope-tiny": {"path": "../models/pope", "pe": "pope", "train_length": 32, "tokenizer": "bytes"}}
    registry_with(world, "good", good)

    # broken checkpoints
    pickled = models / "pickled"
    pickled.mkdir()
    shutil.copy(models / "rope" / "config.json", pickled / "config.json")
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x04not really a pickle")
    for name, data in (("truncated", None), ("empty", b"")):
        folder = models / name
        shutil.copytree(models / "rope", folder)
        weights = (folder / "model.safetensors").read_bytes()
        (folder / "model.safetensors").write_bytes(weights[: len(weights) // 3] if data is None else data)
    for name, text in (("badjson", "{not json"), ("listjson", "[1, 2]")):
        shutil.copytree(models / "rope", models / name)
        (models / name / "config.json").write_text(text)
    deeper = models / "deeper"
    shutil.copytree(models / "rope", deeper)
    config = json.loads((deeper / "config.json").read_text())
    (deeper / "config.json").write_text(json.dumps({**config, "num_hidden_layers": 3}))
    extra = models / "extra"
    shutil.copytree(models / "rope", extra)
    save_file({"surprise": torch.zeros(2)}, str(extra / "more.safetensors"))
    (models / "noconfig").mkdir()
    broken = {name: {"path": f"../models/{name}", "pe": "rope", "train_length": 32}
              for name in ("pickled", "truncated", "empty", "badjson", "listjson", "deeper", "extra")}
    registry_with(world, "broken", {**good, **broken, "mislabelled": {**good["pope-tiny"], "pe": "rope"}})

    # broken registries
    (world / "registries" / "notyaml.yaml").write_text("models: [unclosed\n")
    (world / "registries" / "latin1.yaml").write_bytes("models:\n  caf\xe9: {}\n".encode("latin-1"))
    write_yaml(world / "registries" / "list.yaml", ["models"])
    write_yaml(world / "registries" / "extra-top.yaml", {"models": good, "modles": {}})
    for name, entry in {
        "typo": {**good["rope-tiny"], "pathh": "x"},
        "lots": {**good["rope-tiny"], "max_length": "lots"},
        "no-train-length": {"path": "../models/rope", "pe": "rope"},
        "unknown-pe": {**good["rope-tiny"], "pe": "ropee"},
        "two-sources": {**good["rope-tiny"], "hf": "org/name"},
        "bad-scaling-type": {**good["rope-tiny"], "rope_scaling": {"type": "yarnn", "factor": 4}},
        "bad-scaling-factor": {**good["rope-tiny"], "rope_scaling": {"type": "yarn", "factor": 0.5}},
        "string-bool": {**good["rope-tiny"], "trust_remote_code": "yes please"},
        "alibi-scaled": {**good["rope-tiny"], "pe": "alibi", "rope_scaling": {"type": "yarn", "factor": 2}},
    }.items():
        registry_with(world, name, {"m": entry})
    registry_with(world, "self-base", {**good, "loop": {"base": "loop", "rope_scaling": {"type": "yarn", "factor": 2}}})
    registry_with(world, "variant-extra", {**good, "v": {"base": "rope-tiny", "rope_scaling": {"type": "yarn",
                                                                                               "factor": 2},
                                                          "pe": "pope"}})
    registry_with(world, "slash-name", {"a/b": good["rope-tiny"]})

    # task folders
    base_task = {"type": "perplexity", "default_lengths": "1x", "params": {"corpus": "kjv", "tokens": 64}}
    task_dir(world, "latin1", raw="name: caf\xe9\ntype: perplexity\n".encode("latin-1"))
    task_dir(world, "params-list", {**base_task, "name": "t", "params": [1, 2]})
    task_dir(world, "misspelled", {**base_task, "name": "t", "params": {"corpus": "kjv", "windw": "sliding"}})
    task_dir(world, "stride-full", {**base_task, "name": "t", "params": {"corpus": "kjv", "stride": 8}})
    task_dir(world, "unknown-type", {**base_task, "name": "t", "type": "perplexityy"})
    task_dir(world, "unknown-field", {**base_task, "name": "t", "lengths": "1x"})
    task_dir(world, "evil-name", {**base_task, "name": "../evil"})
    task_dir(world, "bad-metric", {**base_task, "name": "t", "params": {"corpus": "kjv", "main_metric": "accuracy"}})
    task_dir(world, "bad-corpus", {**base_task, "name": "t", "params": {"corpus": "kvj"}})
    task_dir(world, "dup-a", {**base_task, "name": "same"})
    task_dir(world, "dup-b", {**base_task, "name": "same"})
    (world / "tasks" / "a-file.yaml").write_text("name: x\n")

    # recipes
    (world / "recipes").mkdir()
    (world / "recipes" / "broken.yaml").write_text("data: [unclosed\n")
    write_yaml(world / "recipes" / "extra-section.yaml", {"tokenizer": "bytes", "data": {"corpus": "kjv"},
                                                          "optimizer": {"lr": 1}})
    write_yaml(world / "recipes" / "bad-stage.yaml", {
        "tokenizer": "chars", "data": {"kind": "tasks", "tasks": ["indirect_indexing"],
                                       "curriculum": [{"until_step": 10, "scale": 2}]}})
    write_yaml(world / "recipes" / "wrong-kind.yaml", {"tokenizer": "bytes", "data": {"corpus": "kjv",
                                                                                       "curriculum": []}})

    # results folders that must never be rewritten
    corrupt = world / "outs" / "corrupt-rows"
    corrupt.mkdir(parents=True)
    (corrupt / "results.jsonl").write_text('{"cell_key": "a", "status": "ok"}\nGARBAGE\n{"cell_key": "b"}\n')
    for name, text in (("corrupt-manifest", "{nope"), ("list-manifest", "[]")):
        (world / "outs" / name).mkdir()
        (world / "outs" / name / "manifest.json").write_text(text)
    (world / "outs" / "a-file").write_text("not a folder")
    garbage = world / "outs" / "garbage"
    garbage.mkdir()
    (garbage / "results.jsonl").write_bytes(b"\xff\xfe\x00garbage\n" * 3)
    curves = world / "outs" / "bad-curve"
    curves.mkdir()
    (curves / "training_curve.csv").write_bytes(b"\x00\x01\x02")
    (curves / "recipe.yaml").write_text("[]")
    write_yaml(world / "specs" / "typo.yaml", {"kind": "line", "title": "t", "tasks": ["x"], "metric": "m",
                                               "x": "length", "colour": "red"})
    write_yaml(world / "specs" / "table-no-length.yaml", {"kind": "table", "title": "t",
                                                          "columns": [{"task": "x", "metric": "m"}]})
    (world / "cwd").mkdir()
    return world


R = "registries"
RUN = ["run", "--checkpoints"]


def good(w):
    return [*RUN, str(w / R / "good.yaml"), "-m", "rope-tiny", "-t", "perplexity_text"]


def with_registry(name, *rest):
    return lambda w: [*RUN, str(w / R / f"{name}.yaml"), *rest]


def out(w, name):
    return ["--out", str(w / "outs" / name)]


CASES = {
    # --lengths
    "empty lengths": (lambda w: [*good(w), "--lengths", " "], "--lengths is empty"),
    "not a doubling chain": (lambda w: [*good(w), "--lengths", "1k..3k"], "not a doubling chain"),
    "lengths word": (lambda w: [*good(w), "--lengths", "long"], "is not a length"),
    "lengths empty item": (lambda w: [*good(w), "--lengths", "1k,,2k"], "empty item"),
    "lengths descending": (lambda w: [*good(w), "--lengths", "4k..1k"], "descending"),
    "millions of lengths": (lambda w: [*good(w), "--lengths", "1..10000000:1"], "at most 1000"),
    "non-ascii digits": (lambda w: [*good(w), "--lengths", "١٠٢٤"], "is not a length"),
    "mixed units": (lambda w: [*good(w), "--lengths", "1x..4k"], "mixes tokens and multiples"),
    "zero length": (lambda w: [*good(w), "--lengths", "0"], "must be positive"),
    "step in another unit": (lambda w: [*good(w), "--lengths", "1k..4k:1x"], "same unit"),
    "above the model's limit": (lambda w: [*good(w), "--lengths", "100000x"], "above what rope-tiny can take"),
    # models and tasks
    "unknown model": (lambda w: [*RUN, str(w / R / "good.yaml"), "-m", "rope-tinyy", "-t", "perplexity_text"],
                      "did you mean rope-tiny"),
    "unknown task": (lambda w: [*RUN, str(w / R / "good.yaml"), "-m", "rope-tiny", "-t", "perplexity_txt"],
                     "did you mean perplexity_text"),
    "task for another domain": (lambda w: [*RUN, str(w / R / "good.yaml"), "-m", "rope-tiny", "-t",
                                           "perplexity_dna"], "needs a dna model"),
    "model folder without config": (lambda w: [*RUN, str(w / R / "good.yaml"), "-m", str(w / "models" / "noconfig"),
                                               "-t", "perplexity_text"], "has no config.json"),
    "hub id of an illegal form": (lambda w: [*RUN, str(w / R / "good.yaml"), "-m", "a/b/c", "-t", "perplexity_text"],
                                  "not a registry name"),
    "empty hub revision": (lambda w: [*RUN, str(w / R / "good.yaml"), "-m", "org/name@", "-t", "perplexity_text"],
                           "the revision after @ is empty"),
    # suites
    "unknown suite": (lambda w: [*RUN, str(w / R / "good.yaml"), "--suite", "defualt"], "did you mean default"),
    "suite and models": (lambda w: [*good(w), "--suite", "default"], "drop -m/-t"),
    # options
    "zero threads": (lambda w: [*good(w), "--threads", "0"], "--threads must be a positive integer"),
    "negative seed": (lambda w: [*good(w), "--seed", "-1"], "--seed -1 is out of range"),
    "huge seed": (lambda w: [*good(w), "--seed", str(2**63 + 5)], "out of range"),
    "seed word": (lambda w: [*good(w), "--seed", "abc"], "Invalid value for '--seed'"),
    "zero limit": (lambda w: [*good(w), "--limit", "0"], "--limit must be a positive integer"),
    "zero batch": (lambda w: [*good(w), "--batch-size", "0"], "--batch-size '0'"),
    "batch word": (lambda w: [*good(w), "--batch-size", "lots"], "--batch-size 'lots'"),
    "cuda without a gpu": (lambda w: [*good(w), "--device", "cuda"], "no CUDA GPU"),
    "mps without one": (lambda w: [*good(w), "--device", "mps"], "MPS is not available"),
    "unknown device": (lambda w: [*good(w), "--device", "tpu"], "is not a device"),
    "unknown dtype": (lambda w: [*good(w), "--dtype", "float8"], "--dtype 'float8'"),
    "out is a file": (lambda w: [*good(w), *out(w, "a-file")], "is a file"),
    "unknown option": (lambda w: [*good(w), "--bogus"], "No such option: --bogus"),
    "unknown command": (lambda w: ["bogus"], "No such command 'bogus'"),
    "corrupt rows in out": (lambda w: [*good(w), *out(w, "corrupt-rows")], "line 2 is not a result row"),
    "corrupt manifest in out": (lambda w: [*good(w), *out(w, "corrupt-manifest")], "not a readable manifest"),
    "manifest not a mapping": (lambda w: [*good(w), *out(w, "list-manifest")], "not a pope-bench manifest"),
    # registries
    "registry not yaml": (with_registry("notyaml", "-t", "perplexity_text"), "is not valid YAML"),
    "registry missing": (with_registry("missing", "-t", "perplexity_text"), "does not exist"),
    "registry not utf-8": (with_registry("latin1"), "is not UTF-8"),
    "registry a list": (with_registry("list"), "must be a mapping with one key, models:"),
    "registry extra top key": (with_registry("extra-top"), "must be a mapping with one key, models:"),
    "registry key typo": (with_registry("typo"), "unknown key 'pathh' (did you mean path"),
    "max_length lots": (with_registry("lots"), "max_length: Input should be a valid integer"),
    "missing train_length": (with_registry("no-train-length"), "train_length is required"),
    "unknown pe": (with_registry("unknown-pe", "-m", "m", "-t", "perplexity_text"), "unknown positional encoding 'ropee'"),
    "path and hf": (with_registry("two-sources"), "exactly one of path"),
    "unknown scaling type": (with_registry("bad-scaling-type"), "did you mean yarn"),
    "scaling factor below 1": (with_registry("bad-scaling-factor"), "must be a finite number > 1"),
    "scaling on alibi": (with_registry("alibi-scaled", "-m", "m", "-t", "perplexity_text"), "rope_scaling does not apply to pe 'alibi'"),
    "string for a bool": (with_registry("string-bool"), "trust_remote_code: Input should be a valid boolean"),
    "self-referencing base": (with_registry("self-base"), "'loop' has base 'loop', which is not a non-variant"),
    "variant with pe": (with_registry("variant-extra"), "unknown key 'pe'"),
    "model name with slash": (with_registry("slash-name"), "'a/b' is not a valid name"),
    "list models on a broken registry": (lambda w: ["list", "models", "--checkpoints", str(w / R / "typo.yaml")],
                                         "unknown key 'pathh'"),
    # broken checkpoints (refused before --out exists)
    "pickled weights only": (with_registry("broken", "-m", "pickled", "-t", "perplexity_text"),
                             "holds only pickled weights (pytorch_model.bin)"),
    "truncated safetensors": (with_registry("broken", "-m", "truncated", "-t", "perplexity_text"),
                              "is not a readable safetensors file"),
    "empty safetensors": (with_registry("broken", "-m", "empty", "-t", "perplexity_text"),
                          "is not a readable safetensors file"),
    "config not json": (with_registry("broken", "-m", "badjson", "-t", "perplexity_text"), "is not valid JSON"),
    "config not an object": (with_registry("broken", "-m", "listjson", "-t", "perplexity_text"),
                             "must hold a JSON object"),
    "config deeper than weights": (with_registry("broken", "-m", "deeper", "-t", "perplexity_text"),
                                   "do not match its config.json: 6 missing"),
    "unexpected weights": (with_registry("broken", "-m", "extra", "-t", "perplexity_text"),
                           "1 unexpected (e.g. surprise)"),
    "registry pe differs from config": (with_registry("broken", "-m", "mislabelled", "-t", "perplexity_text"),
                                        "the registry says pe: 'rope' but"),
    # task definitions
    "task file not utf-8": (lambda w: [*good(w), "--tasks-dir", str(w / "tasks" / "latin1")], "is not UTF-8"),
    "params not a mapping": (lambda w: [*good(w), "--tasks-dir", str(w / "tasks" / "params-list")],
                             "params: Input should be a valid dictionary"),
    "misspelled param": (lambda w: [*good(w)[:-1], "t", "--tasks-dir", str(w / "tasks" / "misspelled")],
                         "unknown key 'windw' (did you mean window"),
    "stride without sliding": (lambda w: [*good(w)[:-1], "t", "--tasks-dir", str(w / "tasks" / "stride-full")],
                               "stride applies to window: sliding only"),
    "unknown task type": (lambda w: [*good(w)[:-1], "t", "--tasks-dir", str(w / "tasks" / "unknown-type")],
                          "unknown task type 'perplexityy'"),
    "unknown task field": (lambda w: [*good(w), "--tasks-dir", str(w / "tasks" / "unknown-field")],
                           "unknown key 'lengths'"),
    "task name with a path": (lambda w: [*good(w), "--tasks-dir", str(w / "tasks" / "evil-name")],
                              "'../evil' is not a valid name"),
    "main metric not the type's": (lambda w: [*good(w)[:-1], "t", "--tasks-dir", str(w / "tasks" / "bad-metric")],
                                   "main_metric 'accuracy' is not one of"),
    "unknown corpus": (lambda w: [*good(w)[:-1], "t", "--tasks-dir", str(w / "tasks" / "bad-corpus")],
                       "unknown corpus 'kvj'"),
    "two user tasks with one name": (lambda w: [*good(w), "--tasks-dir", str(w / "tasks" / "dup-a"),
                                                "--tasks-dir", str(w / "tasks" / "dup-b")], "defined twice"),
    "tasks-dir is a file": (lambda w: [*good(w), "--tasks-dir", str(w / "tasks" / "a-file.yaml")],
                            "is not a folder"),
    # training
    "misspelled model field": (lambda w: ["train", "text-tiny", "--pe", "rope", *out(w, "t1"), "--set",
                                          "model.hiden_size=64"], "unknown key 'hiden_size' (did you mean hidden_size"),
    "zero steps": (lambda w: ["train", "text-tiny", "--pe", "rope", *out(w, "t2"), "--set", "train.steps=0"],
                   "train.steps: Input should be greater than 0"),
    "negative lr": (lambda w: ["train", "text-tiny", "--pe", "rope", *out(w, "t3"), "--set", "train.lr=-1"],
                    "train.lr: Input should be greater than 0"),
    "malformed --set": (lambda w: ["train", "text-tiny", "--pe", "rope", *out(w, "t4"), "--set", "steps"],
                        "must look like section.key=value"),
    "unknown train field": (lambda w: ["train", "text-tiny", "--pe", "rope", *out(w, "t5"), "--set",
                                       "train.stpes=5"], "unknown key 'train.stpes' (did you mean steps"),
    "unknown recipe": (lambda w: ["train", "text-tinyy", "--pe", "rope", *out(w, "t6")], "did you mean text-tiny"),
    "unknown encoding": (lambda w: ["train", "text-tiny", "--pe", "ropee", *out(w, "t7")], "unknown positional encoding"),
    "negative threads": (lambda w: ["train", "text-tiny", "--pe", "rope", *out(w, "t8"), "--threads", "-1"],
                         "--threads must be 0"),
    "train out is a file": (lambda w: ["train", "text-tiny", "--pe", "rope", *out(w, "a-file")], "is a file"),
    "recipe not yaml": (lambda w: ["train", str(w / "recipes" / "broken.yaml"), "--pe", "rope", *out(w, "t9")],
                        "is not valid YAML"),
    "recipe unknown section": (lambda w: ["train", str(w / "recipes" / "extra-section.yaml"), "--pe", "rope",
                                          *out(w, "t10")], "unknown key 'optimizer'"),
    "curriculum scale above 1": (lambda w: ["train", str(w / "recipes" / "bad-stage.yaml"), "--pe", "rope",
                                            *out(w, "t11")], "data.curriculum.0.scale: Input should be less than 1"),
    "curriculum on a corpus": (lambda w: ["train", str(w / "recipes" / "wrong-kind.yaml"), "--pe", "rope",
                                          *out(w, "t12")], "data.curriculum applies to data.kind tasks only"),
    # tasks new
    "starter name with a path": (lambda w: ["tasks", "new", "../x", "--folder", str(w / "outs" / "n1")],
                                 "is not a valid name"),
    "starter over a built-in": (lambda w: ["tasks", "new", "perplexity_text", "--folder", str(w / "outs" / "n2")],
                                "is a built-in task"),
    "starter over an existing file": (lambda w: ["tasks", "new", "t", "--folder", str(w / "tasks" / "misspelled")],
                                      "already exists"),
    # readers of results on garbage
    "plot an empty folder": (lambda w: ["plot", str(w / "outs" / "a-missing-folder")], "holds no results"),
    "plot garbage rows": (lambda w: ["plot", str(w / "outs" / "garbage")], "is unreadable"),
    "training curves of garbage": (lambda w: ["training-curves", str(w / "outs" / "bad-curve"), *out(w, "c")],
                                   "not a readable training run"),
    "unknown figure": (lambda w: ["figures", "fig99", "--results", str(w / "outs" / "corrupt-rows")],
                       "unknown figure 'fig99'"),
    "figure spec typo": (lambda w: ["figures", str(w / "specs" / "typo.yaml"), "--results",
                                    str(w / "outs" / "corrupt-rows"), *out(w, "f1")], "colour"),
    "table spec without a length": (lambda w: ["figures", str(w / "specs" / "table-no-length.yaml"), "--results",
                                               str(w / "outs" / "corrupt-rows"), *out(w, "f2")],
                                    "a table reads one length"),
    "figures over corrupt rows": (lambda w: ["figures", "fig2", "--results", str(w / "outs" / "corrupt-rows"),
                                             *out(w, "f3")], "line 2 is not a result row"),
}


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(world, case, monkeypatch):
    make_args, expected = CASES[case]
    args = make_args(world)
    monkeypatch.chdir(world / "cwd")  # default outputs (runs/latest, figures/) would land here
    before = snapshot(world)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, (args, result.output, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert expected in lines[0], lines[0]
    assert "Traceback" not in result.output and result.stdout == ""
    assert snapshot(world) == before, "a refused command wrote or changed files"


def test_the_input_file_reference_is_generated_from_the_schemas():
    """docs/input-files.md is the schemas' own output; editing a field without regenerating it fails here."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "docs" / "make_input_files.py"
    spec = importlib.util.spec_from_file_location("make_input_files", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert path.with_name("input-files.md").read_text() == module.render()
