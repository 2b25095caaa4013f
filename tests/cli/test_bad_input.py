"""The bad-input corpus: malformed invocations, each run in-process (typer's CliRunner) and
each required to end the way docs/contracts.md promises — exit code 2, one line on stderr that
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
def world(tmp_path_factory, save_tiny_model) -> Path:
    world = tmp_path_factory.mktemp("bad-input-world")
    models = world / "models"
    for pe in ("rope", "pope"):
        save_tiny_model(models / pe, pe)
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
    (corrupt / "results.jsonl").write_text(json.dumps(GOOD_ROW) + '\nGARBAGE\n{"cell_key": "b"}\n')
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
    build_hostile(world, save_tiny_model)
    return world


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))
REPO = Path(__file__).resolve().parents[2]
GOOD_ROW = {"cell_key": "k", "model": "m", "pe": "rope", "scaling": "none", "train_length": 32, "task": "perplexity_text",
            "metric": "perplexity", "length": 32, "length_ratio": 1.0, "value": 1.5, "n": 10, "seed": 0, "status": "ok",
            "run_id": "r1", "timestamp": "2026-01-01T00:00:00+00:00"}


def build_hostile(world: Path, save_tiny_model) -> None:
    """Files a user makes by mistake or on purpose: pipes where files belong, alias bombs, files too big, rows and manifests of the wrong shape, training folders cut short."""
    import os

    hostile = world / "hostile"
    hostile.mkdir()
    (hostile / "bomb.yaml").write_text(BOMB)
    (hostile / "loop.yaml").write_text("models: &a [*a]\n")
    (hostile / "deep.yaml").write_text("[" * 5000 + "]" * 5000 + "\n")
    (hostile / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    (hostile / "empty.yaml").write_text("")
    (hostile / "list.yaml").write_text("- 1\n- 2\n")
    (hostile / "folder.yaml").mkdir()
    os.mkfifo(hostile / "pipe.yaml")
    with open(hostile / "huge.yaml", "wb") as f:  # sparse: 17 MiB of nothing, written in no time
        f.truncate(17 * 2**20)
    suite = {"name": "mine", "description": "d", "sweeps": [{"tasks": ["perplexity_text"], "models": ["rope-tiny"]}]}
    suites = world / "suites"
    write_yaml(suites / "typo.yaml", {**suite, "sweps": []})
    write_yaml(suites / "negative-time.yaml", {**suite, "reference_seconds": -1})
    write_yaml(suites / "no-sweeps.yaml", {**suite, "sweeps": []})
    write_yaml(suites / "sweep-typo.yaml", {**suite, "sweeps": [{"tasks": ["perplexity_text"], "model": ["x"]}]})
    write_yaml(suites / "zero-limit.yaml", {**suite, "sweeps": [{"tasks": ["perplexity_text"], "limit": 0}]})
    write_yaml(suites / "no-tasks.yaml", {**suite, "sweeps": [{"tasks": []}]})
    write_yaml(suites / "nameless.yaml", {k: v for k, v in suite.items() if k != "name"})
    # task folders with a pipe, a bomb, an empty and a list file; task types that are no task types
    for name, source in (("pipe", hostile / "pipe.yaml"), ("bomb", hostile / "bomb.yaml"), ("empty", hostile / "empty.yaml"), ("list", hostile / "list.yaml")):
        folder = world / "tasks" / f"hostile-{name}"
        folder.mkdir(parents=True)
        (folder / "t.yaml").symlink_to(source)
    base_task = {"type": "perplexity", "default_lengths": "1x", "params": {"corpus": "kjv", "tokens": 64}}
    task_dir(world, "type-function", {**base_task, "name": "t", "type": "os:getcwd"})
    task_dir(world, "type-missing-module", {**base_task, "name": "t", "type": "no_such_module_xyz:Task"})
    task_dir(world, "type-exits", {**base_task, "name": "t", "type": "exits_on_import:Task"})
    task_dir(world, "type-raises", {**base_task, "name": "t", "type": "raises_on_import:Task"})
    pymods = world / "pymods"
    pymods.mkdir()
    (pymods / "exits_on_import.py").write_text("import sys\nsys.exit(0)\n")
    (pymods / "raises_on_import.py").write_text("raise RuntimeError('plugin broke')\n")
    # two different checkpoints in folders of one name
    save_tiny_model(world / "twins" / "a" / "ck", "rope", seed=1)
    save_tiny_model(world / "twins" / "b" / "ck", "rope", seed=2)
    # results folders written by someone else
    outs = world / "outs"

    def rows_folder(name: str, *rows, manifest=None, raw: bytes | None = None):
        folder = outs / name
        folder.mkdir()
        (folder / "results.jsonl").write_bytes(raw if raw is not None else
                                              "".join(json.dumps(r) + "\n" for r in rows).encode())
        if manifest is not None:
            (folder / "manifest.json").write_bytes(manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode())

    rows_folder("length-string", {**GOOD_ROW, "length": "32"})
    rows_folder("value-list", {**GOOD_ROW, "value": [1, 2]})
    rows_folder("unknown-column", {**GOOD_ROW, "colour": "red"})
    rows_folder("model-number", {**GOOD_ROW, "model": 7})
    rows_folder("bool-seed", {**GOOD_ROW, "seed": True})
    rows_folder("manifest-list", GOOD_ROW, manifest=[])
    rows_folder("manifest-runs-strings", GOOD_ROW, manifest={"runs": ["a", "b"]})
    rows_folder("manifest-tasks-list", GOOD_ROW, manifest={"runs": [{"run_id": "r1", "tasks": ["perplexity_text"]}]})
    rows_folder("manifest-run-id-number", GOOD_ROW, manifest={"runs": [{"run_id": 5, "argv": ["pope-bench"]}]})
    rows_folder("manifest-argv-string", GOOD_ROW, manifest={"runs": [{"run_id": "r1", "argv": "pope-bench run"}]})
    rows_folder("manifest-garbage", GOOD_ROW, manifest=b"\xff\xfe garbage")
    rows_folder("manifest-no-runs", GOOD_ROW, manifest={"runz": []})
    rows_folder("only-garbage", raw=b"\x00\x01\x02\n\x03\n")
    rows_folder("bare-key", {"cell_key": "a"})
    rows_folder("ok-without-value", {**GOOD_ROW, "value": None})
    pipe_rows = outs / "pipe-rows"
    pipe_rows.mkdir()
    os.mkfifo(pipe_rows / "results.jsonl")
    # training folders cut short or of the wrong shape
    source = REPO / "checkpoints" / "pope-text-tiny"
    recipe = (source / "recipe.yaml").read_text()
    header = (source / "training_curve.csv").read_text().splitlines()[0]
    runs = world / "trainings"

    def training(name: str, curve: str, recipe_text: str = recipe, config: str | None = '{"pe": "pope"}'):
        folder = runs / name
        folder.mkdir(parents=True)
        (folder / "training_curve.csv").write_text(curve)
        (folder / "recipe.yaml").write_text(recipe_text)
        if config is not None:
            (folder / "config.json").write_text(config)

    training("header-only", header + "\n")
    training("recipe-list", header + "\n100,0.001,2.0,1.5,100\n", "- data\n- model\n")
    training("curriculum-word", header + "\n100,0.001,2.0,1.5,100\n",
             recipe.replace("data:\n  kind: corpus\n  corpus: kjv", "data:\n  kind: tasks\n  tasks: [indirect_indexing]\n"
                            "  curriculum: [{until_step: ten, scale: 0.5}]"))
    training("step-word", header + "\nten,0.001,2.0,1.5,100\n")
    training("no-val-loss", "step,lr\n100,0.001\n")
    training("recipe-bomb", header + "\n100,0.001,2.0,1.5,100\n", BOMB)
    training("config-list", header + "\n100,0.001,2.0,1.5,100\n", config="[1]")
    training("config-garbage", header + "\n100,0.001,2.0,1.5,100\n", config="{nope")
    training("good", header + "\n100,0.001,2.0,1.5,100\n")


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
    "suite and tasks": (lambda w: [*good(w), "--suite", "default"], "fixes its tasks; drop -t"),
    "threshold above 1": (lambda w: [*good(w), "--threshold", "1.2"], "outside (0, 1]"),
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
    "corrupt manifest in out": (lambda w: [*good(w), *out(w, "corrupt-manifest")], "manifest.json is not valid JSON"),
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


H = "hostile"
LONG = "x" * 300  # one name over the 255 bytes a file system takes
BAD_UTF8 = b"runs-\xff".decode("utf-8", "surrogateescape")  # what Python makes of a non-UTF-8 argument


def registry_file(path_in_world: str, *rest):
    return lambda w: [*RUN, str(w / path_in_world), *rest]


def suite_file(name: str):
    return lambda w: [*RUN, str(w / R / "good.yaml"), "--suite", str(w / "suites" / f"{name}.yaml")]


def hostile_suite(name: str):
    return lambda w: [*RUN, str(w / R / "good.yaml"), "--suite", str(w / H / f"{name}.yaml")]


def with_tasks(folder: str, task: str = "t"):
    return lambda w: [*good(w)[:-1], task, "--tasks-dir", str(w / "tasks" / folder)]


def plot(folder: str, *rest):
    return lambda w: ["plot", str(w / "outs" / folder), *rest]


def figures(folder: str, *rest):
    return lambda w: ["figures", "fig2", "--results", str(w / "outs" / folder), *out(w, "f-" + folder), *rest]


def curves(folder: str, *rest):
    return lambda w: ["training-curves", str(w / "trainings" / folder), *out(w, "c-" + folder), *rest]


def train(*rest):
    return lambda w: ["train", "text-tiny", "--pe", "rope", *rest]


HOSTILE_CASES = {
    # numbers that parse but make no sense
    "a billion shards": (lambda w: [*good(w), "--shard", "0/1000000000"], "n must be from 1 to"),
    "shard index past the count": (lambda w: [*good(w), "--shard", "2/2"], "i must be below n"),
    "negative shard": (lambda w: [*good(w), "--shard", "-1/2"], "must be i/n"),
    "shard in words": (lambda w: [*good(w), "--shard", "first/second"], "must be i/n"),
    "shard in arabic digits": (lambda w: [*good(w), "--shard", "٠/٢"], "must be i/n"),
    "shard without a count": (lambda w: [*good(w), "--shard", "0/"], "must be i/n"),
    "gpus per cell nan": (lambda w: [*good(w), "--executor", "ray", "--gpus-per-cell", "nan"], "--gpus-per-cell must be"),
    "gpus per cell infinite": (lambda w: [*good(w), "--executor", "ray", "--gpus-per-cell", "inf"],
                               "--gpus-per-cell must be"),
    "gpus per cell negative": (lambda w: [*good(w), "--executor", "ray", "--gpus-per-cell", "-0.5"],
                               "--gpus-per-cell must be"),
    "gpus per cell a million": (lambda w: [*good(w), "--executor", "ray", "--gpus-per-cell", "1e6"],
                                "--gpus-per-cell must be"),
    "threads past int32": (lambda w: [*good(w), "--threads", "2147483648"], "up to 1024"),
    "negative threads for run": (lambda w: [*good(w), "--threads", "-3"], "--threads must be a positive integer"),
    "limit past int32": (lambda w: [*good(w), "--limit", "99999999999"], "--limit must be a positive integer up to"),
    "negative limit": (lambda w: [*good(w), "--limit", "-5"], "--limit must be a positive integer"),
    "batch of a trillion": (lambda w: [*good(w), "--batch-size", "1000000000000"], "up to"),
    "fractional batch": (lambda w: [*good(w), "--batch-size", "1.5"], "--batch-size '1.5'"),
    "batch in arabic digits": (lambda w: [*good(w), "--batch-size", "١٢"], "must be auto or a positive integer"),
    "ray port out of range": (lambda w: [*good(w), "--executor", "ray", "--ray-address", "127.0.0.1:99999"],
                              "must be HOST:PORT"),
    "ray address without a port": (lambda w: [*good(w), "--executor", "ray", "--ray-address", "head:"],
                                   "must be HOST:PORT"),
    # output places
    "out name too long": (lambda w: [*good(w), "--out", str(w / "outs" / LONG)], "longer than 255 bytes"),
    "out path too long": (lambda w: [*good(w), "--out", str(w / "outs" / "/".join(["d" * 200] * 25))],
                          "the path is too long"),
    "out under a file": (lambda w: [*good(w), "--out", str(w / "outs" / "a-file" / "sub")], "is a file, so no folder"),
    "out not utf-8": (lambda w: [*good(w), "--out", str(w / "outs" / BAD_UTF8)], "is not UTF-8 text"),
    "train out name too long": (lambda w: ["train", "text-tiny", "--pe", "rope", "--out", str(w / "outs" / LONG)],
                                "longer than 255 bytes"),
    "train out under a file": (lambda w: ["train", "text-tiny", "--pe", "rope", "--out",
                                          str(w / "outs" / "a-file" / "ck")], "is a file, so no folder"),
    "train out not utf-8": (lambda w: ["train", "text-tiny", "--pe", "rope", "--out", str(w / "outs" / BAD_UTF8)],
                            "is not UTF-8 text"),
    "train threads past the cap": (lambda w: ["train", "text-tiny", "--pe", "rope", *out(w, "t20"), "--threads",
                                              "100000"], "up to 1024"),
    "plot out is a file": (lambda w: ["plot", str(w / "outs" / "length-string"), "--out", str(w / "outs" / "a-file")],
                           "is a file"),
    "figures out is a file": (lambda w: ["figures", "fig2", "--results", str(w / "outs" / "length-string"), "--out",
                                         str(w / "outs" / "a-file")], "is a file"),
    "figures cp to a file": (lambda w: ["figures", "cp", "fig2", "--to", str(w / "outs" / "a-file")], "is a file"),
    "figures out name too long": (lambda w: ["figures", "fig2", "--results", str(w / "outs" / "length-string"),
                                             "--out", str(w / "outs" / LONG)], "longer than 255 bytes"),
    "curves out is a file": (lambda w: ["training-curves", str(w / "trainings" / "good"), "--out",
                                        str(w / "outs" / "a-file")], "is a file"),
    "curves name climbs out": (curves("good", "--name", "../../x"), "is not a valid name"),
    "curves name absolute": (curves("good", "--name", "/tmp/x"), "is not a valid name"),
    "curves name empty": (curves("good", "--name", ""), "is not a valid name"),
    "starter folder is a file": (lambda w: ["tasks", "new", "t", "--folder", str(w / "outs" / "a-file")], "is a file"),
    "starter folder name too long": (lambda w: ["tasks", "new", "t", "--folder", str(w / "outs" / LONG)],
                                     "longer than 255 bytes"),
    # models that share a name
    "two folders named ck": (lambda w: [*RUN, str(w / R / "good.yaml"), "-m", str(w / "twins" / "a" / "ck"), "-m",
                                        str(w / "twins" / "b" / "ck"), "-t", "perplexity_text", "--lengths", "32"],
                             "two different models would both be named 'ck'"),
    "a folder named like a registry entry": (lambda w: [*RUN, str(w / R / "good.yaml"), "-m", "rope-tiny", "-m",
                                                        str(w / "twins" / "a" / "ck"), "-m", str(w / "twins" / "b" / "ck"),
                                                        "-t", "perplexity_text"], "both be named 'ck'"),
    "unsuitable task names the models that would do": (lambda w: [*good(w)[:-1], "indirect_indexing"],
                                                       "needs an indexing model"),
    # suite files
    "suite file key typo": (suite_file("typo"), "unknown key 'sweps' (did you mean sweeps"),
    "suite negative reference time": (suite_file("negative-time"), "reference_seconds: Input should be greater than 0"),
    "suite without sweeps": (suite_file("no-sweeps"), "sweeps: List should have at least 1 item"),
    "suite sweep key typo": (suite_file("sweep-typo"), "unknown key 'sweeps.0.model' (did you mean models"),
    "suite zero limit": (suite_file("zero-limit"), "sweeps.0.limit: Input should be greater than or equal to 1"),
    "suite sweep without tasks": (suite_file("no-tasks"), "sweeps.0.tasks: List should have at least 1 item"),
    "suite without a name": (suite_file("nameless"), "name is required"),
    "suite file missing": (suite_file("missing"), "does not exist"),
    "suite alias bomb": (hostile_suite("bomb"), "expands to more than"),
    "suite is a pipe": (hostile_suite("pipe"), "is not a regular file"),
    "suite is a folder": (hostile_suite("folder"), "is a folder, not a file"),
    "suite not utf-8": (hostile_suite("latin1"), "is not UTF-8"),
    "suite empty": (hostile_suite("empty"), "Input should be a valid dictionary"),
    "suite a list": (hostile_suite("list"), "Input should be a valid dictionary"),
    "suite too big": (hostile_suite("huge"), "more than the 16,777,216"),
    # registries and task files no reader should hang on
    "registry alias bomb": (registry_file(f"{H}/bomb.yaml"), "expands to more than"),
    "registry alias loop": (registry_file(f"{H}/loop.yaml"), "expands to more than"),
    "registry nested too deeply": (registry_file(f"{H}/deep.yaml"), "nested too deeply"),
    "registry is a pipe": (registry_file(f"{H}/pipe.yaml"), "is not a regular file"),
    "registry is a folder": (registry_file(f"{H}/folder.yaml"), "is a folder, not a file"),
    "registry too big": (registry_file(f"{H}/huge.yaml"), "bytes, more than"),
    "registry empty": (registry_file(f"{H}/empty.yaml"), "must be a mapping with one key, models:"),
    "list models of a pipe": (lambda w: ["list", "models", "--checkpoints", str(w / H / "pipe.yaml")],
                              "is not a regular file"),
    "task file is a pipe": (with_tasks("hostile-pipe"), "is not a regular file"),
    "task file alias bomb": (with_tasks("hostile-bomb"), "expands to more than"),
    "task file empty": (with_tasks("hostile-empty"), "Input should be a valid dictionary"),
    "task file a list": (with_tasks("hostile-list"), "Input should be a valid dictionary"),
    "list tasks over a bomb": (lambda w: ["list", "tasks", "--tasks-dir", str(w / "tasks" / "hostile-bomb")],
                               "expands to more than"),
    "task type is a function": (with_tasks("type-function"), "is not a pope_bench TaskType subclass"),
    "task type of a missing module": (with_tasks("type-missing-module"), "failed to import (ModuleNotFoundError"),
    "task type that exits on import": (with_tasks("type-exits"), "failed to import (SystemExit"),
    "task type that raises on import": (with_tasks("type-raises"), "failed to import (RuntimeError: plugin broke"),
    "tasks-dir missing": (lambda w: [*good(w), "--tasks-dir", str(w / "tasks" / "nope")], "is not a folder"),
    "recipe alias bomb": (lambda w: ["train", str(w / H / "bomb.yaml"), "--pe", "rope", *out(w, "t21")],
                          "expands to more than"),
    "recipe is a pipe": (lambda w: ["train", str(w / H / "pipe.yaml"), "--pe", "rope", *out(w, "t22")],
                         "is not a regular file"),
    "recipe empty": (lambda w: ["train", str(w / H / "empty.yaml"), "--pe", "rope", *out(w, "t23")],
                     "must be a mapping"),
    "recipe not utf-8": (lambda w: ["train", str(w / H / "latin1.yaml"), "--pe", "rope", *out(w, "t24")],
                         "is not UTF-8"),
    # rows and manifests written by someone else
    "plot a length that is a string": (plot("length-string"), "line 1: length: Input should be a valid integer"),
    "plot a value that is a list": (plot("value-list"), "line 1: value: Input should be a valid number"),
    "plot an unknown column": (plot("unknown-column"), "unknown key 'colour'"),
    "plot a model that is a number": (plot("model-number"), "model: Input should be a valid string"),
    "plot a seed that is a boolean": (plot("bool-seed"), "seed: Input should be a valid integer"),
    "plot a manifest that is a list": (plot("manifest-list"), "not a pope-bench manifest"),
    "plot a manifest of strings": (plot("manifest-runs-strings"), "runs.0: Input should be a valid dictionary"),
    "plot a manifest whose tasks are a list": (plot("manifest-tasks-list"), "runs.0.tasks: Input should be a valid dict"),
    "plot a garbage manifest": (plot("manifest-garbage"), "is not UTF-8"),
    "plot a manifest without runs": (plot("manifest-no-runs"), "not a pope-bench manifest"),
    "plot a row that is only a key": (plot("bare-key"), "line 1: model is required"),
    "plot an ok row without a value": (plot("ok-without-value"), "an ok row needs a value"),
    "figures over an ok row without a value": (figures("ok-without-value"), "an ok row needs a value"),
    "plot rows that are all garbage": (plot("only-garbage"), "line 1 is not a result row"),
    "plot rows that are a pipe": (plot("pipe-rows"), "is not a regular file"),
    "figures over a run id that is a number": (figures("manifest-run-id-number"), "runs.0.run_id: Input should be a valid string"),
    "figures over argv that is a string": (figures("manifest-argv-string"), "runs.0.argv: Input should be a valid list"),
    "figures over a length that is a string": (figures("length-string"), "length: Input should be a valid integer"),
    "figures spec alias bomb": (lambda w: ["figures", str(w / H / "bomb.yaml"), "--results", str(w / "outs" / "length-string"),
                                           *out(w, "f9")], "expands to more than"),
    "figures spec is a pipe": (lambda w: ["figures", str(w / H / "pipe.yaml"), "--results",
                                          str(w / "outs" / "length-string"), *out(w, "f10")], "is not a regular file"),
    "run over rows with a string length": (lambda w: [*good(w), *out(w, "length-string")], "length: Input should be"),
    # training folders cut short or of the wrong shape
    "curve with only its header": (curves("header-only"), "holds no evaluation yet"),
    "curve recipe a list": (curves("recipe-list"), "not a readable training run: recipe.yaml"),
    "curve recipe curriculum step a word": (curves("curriculum-word"), "until_step: Input should be a valid integer"),
    "curve step a word": (curves("step-word"), "column 'step' is not numeric"),
    "curve without val_loss": (curves("no-val-loss"), "has no step and val_loss columns"),
    "curve recipe alias bomb": (curves("recipe-bomb"), "expands to more than"),
    "curve config a list": (curves("config-list"), "must hold a JSON object"),
    "curve config garbage": (curves("config-garbage"), "is not valid JSON"),
}
CASES.update(HOSTILE_CASES)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(world, case, monkeypatch):
    make_args, expected = CASES[case]
    args = make_args(world)
    monkeypatch.chdir(world / "cwd")  # default outputs (runs/latest, figures/) would land here
    monkeypatch.syspath_prepend(str(world / "pymods"))  # task-type plugins that misbehave on import
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
