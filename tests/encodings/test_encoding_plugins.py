"""Encodings as plugins: the example package in examples/encoding_plugin installed through
its real entry point trains, sweeps and plots through the CLI; a broken plugin, two plugins
with one name, a field of another encoding and rope_scaling on an encoding without
frequencies are one-line errors with exit 2."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import tomllib
import yaml

from pope_bench import PopeBenchConfig
from pope_bench.core.errors import BadInput
from pope_bench.encodings import registry
from pope_bench.sweep import results

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "encoding_plugin"


def install(site: Path, dist: str, entry_points: dict[str, str], top_level: str, monkeypatch) -> None:
    """What `pip install --no-deps` leaves behind: a dist-info with the entry points, on sys.path."""
    info = site / f"{dist.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
    (info / "top_level.txt").write_text(top_level + "\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{registry.ENTRY_POINT_GROUP}]\n{lines}")
    monkeypatch.syspath_prepend(str(site))


@pytest.fixture
def plugins(monkeypatch):
    """Plugins installed by a test are forgotten after it (modules and registry)."""
    before = set(sys.modules)
    registry.reload()
    yield
    for name in set(sys.modules) - before:
        if not name.startswith(("pope_bench", "torch", "transformers", "matplotlib", "pandas")):
            del sys.modules[name]
    monkeypatch.undo()
    registry.reload()


def test_example_plugin_trains_sweeps_and_plots(plugins, tmp_path, monkeypatch, cli):
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    install(tmp_path / "site", project["name"], project["entry-points"][registry.ENTRY_POINT_GROUP],
            "pope_bench_partial_rope", monkeypatch)
    monkeypatch.syspath_prepend(str(EXAMPLE))

    code, out, _ = cli("list", "encodings")
    assert code == 0
    assert any("partial-rope" in line and "pope-bench-partial-rope" in line for line in out.splitlines())

    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": "tiny", "tokenizer": "bytes", "data": {"kind": "corpus", "corpus": "kjv"},
        "model": {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "delta_init": "uniform"},
        "train": {"length": 32, "batch_size": 2, "steps": 3, "warmup_steps": 1, "checkpoint_every": 3,
                  "eval_every": 3, "eval_batches": 1},
    }))
    model = tmp_path / "partial"
    code, _, err = cli("train", recipe, "--pe", "partial-rope", "--out", model,
                       "--set", "model.partial_rotary_fraction=0.5", "--threads", "1")
    assert code == 0, err
    config = PopeBenchConfig.from_pretrained(model)
    assert (config.pe, config.partial_rotary_fraction) == ("partial-rope", 0.5)
    assert not hasattr(config, "delta_init")  # the recipe's PoPE field stayed with PoPE

    checkpoints = tmp_path / "checkpoints.yaml"
    checkpoints.write_text(yaml.safe_dump({"models": {
        "partial": {"path": str(model), "pe": "partial-rope", "train_length": 32, "tokenizer": "bytes"},
        "partial-yarn2": {"base": "partial", "rope_scaling": {"type": "yarn", "factor": 2}},
    }}))
    out_dir = tmp_path / "sweep"
    code, _, err = cli("run", "--checkpoints", checkpoints, "-m", "partial", "-m", "partial-yarn2",
                       "-t", "perplexity_text", "--lengths", "32,64", "--limit", "64", "--out", out_dir)
    assert code == 0, err
    rows = results.load(out_dir)
    ok = rows[(rows["status"] == "ok") & (rows["metric"] == "perplexity")]
    assert set(ok["pe"]) == {"partial-rope"} and len(ok) == 4
    assert set(ok["scaling"]) == {"none", "yarn2"}
    assert list((out_dir / "plots").glob("perplexity_text*.png"))


def test_plugin_that_fails_to_import_is_named(plugins, tmp_path, monkeypatch, cli):
    install(tmp_path, "broken-encodings", {"ghost": "no_such_module_for_pope_bench:Ghost"}, "nothing", monkeypatch)
    code, _, err = cli("list", "encodings")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "broken-encodings" in err and "no_such_module_for_pope_bench" in err


@pytest.mark.parametrize("source, target, words", [
    ("def helper():\n    return 1\n", "odd_encodings:helper", "neither a PositionalEncoding subclass"),
    ("VALUE = 3\n", "odd_encodings:VALUE", "neither a PositionalEncoding subclass"),
    ("class Other:\n    pass\n", "odd_encodings:Other", "neither a PositionalEncoding subclass"),
    ("import sys\nsys.exit(0)\n", "odd_encodings:Anything", "failed to import (SystemExit"),
    ("raise KeyError('boom')\n", "odd_encodings:Anything", "failed to import (KeyError"),
])
def test_plugin_that_names_no_encoding_or_exits_on_import_is_named(plugins, tmp_path, monkeypatch, source, target, words, cli):
    """`sys.exit(0)` in a plugin once made `train` exit 0 having done nothing."""
    (tmp_path / "odd_encodings.py").write_text(source)
    install(tmp_path / "site", "odd-encodings", {"odd": target}, "odd_encodings", monkeypatch)
    monkeypatch.syspath_prepend(str(tmp_path))
    code, _, err = cli("train", "text-tiny", "--pe", "rope", "--out", tmp_path / "never")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "'odd-encodings'" in err and words in err
    assert not (tmp_path / "never").exists()


def test_two_plugins_with_one_name_are_refused(plugins, tmp_path, monkeypatch, cli):
    for dist, module in (("twin-one", "twin_one"), ("twin-two", "twin_two")):
        (tmp_path / f"{module}.py").write_text(
            "from pope_bench.encodings import PositionalEncoding, register_encoding\n\n\n"
            "@register_encoding\nclass Twin(PositionalEncoding):\n    name, label = 'twin', 'Twin'\n")
        install(tmp_path / dist, dist, {"twin": f"{module}:Twin"}, module, monkeypatch)
    monkeypatch.syspath_prepend(str(tmp_path))
    code, _, err = cli("train", "text-tiny", "--pe", "twin", "--out", tmp_path / "never")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "'twin'" in err and "twin-one" in err and "twin-two" in err
    assert not (tmp_path / "never").exists()


def test_unknown_encoding_is_refused_before_writing(tmp_path, cli):
    code, _, err = cli("train", "text-tiny", "--pe", "alibbi", "--out", tmp_path / "never")
    assert code == 2 and "alibbi" in err and "did you mean alibi" in err
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"pe": "alibi", "delta_init": "uniform"}, "delta_init belongs to pe pope"),
        ({"pe": "rope", "fire_mlp_width": 8}, "fire_mlp_width belongs to pe fire"),
        ({"pe": "nope", "pe_base": 500.0}, "pe_base belongs to pe rope / pope / xpos"),
        ({"pe": "fire", "fire_init_c": -1.0}, "fire_init_c"),
        ({"pe": "alibi", "pe_scaling": {"type": "yarn", "factor": 4}}, "does not apply to pe 'alibi'"),
        ({"pe": "fire", "pe_scaling": {"type": "linear", "factor": 2}}, "does not apply to pe 'fire'"),
    ],
)
def test_config_refuses_fields_of_other_encodings_and_scaling_without_frequencies(fields, message):
    with pytest.raises(BadInput, match=message):
        PopeBenchConfig(vocab_size=8, hidden_size=16, num_attention_heads=2, **fields)


def test_config_saved_before_plugins_still_loads():
    """Configs written before encodings were plugins recorded PoPE's delta_init (at its
    default) on every model; that is not another encoding's field."""
    config = PopeBenchConfig(vocab_size=8, hidden_size=16, num_attention_heads=2, pe="rope", delta_init="zero")
    assert config.pe_base == 10_000.0 and not hasattr(config, "delta_init")


def test_rope_scaling_variant_of_alibi_checkpoint_is_refused(tmp_path, cli):
    checkpoints = tmp_path / "checkpoints.yaml"
    checkpoints.write_text(yaml.safe_dump({"models": {
        "a": {"path": str(tmp_path), "pe": "alibi", "train_length": 32},
        "a-yarn": {"base": "a", "rope_scaling": {"type": "yarn", "factor": 2}},
    }}))
    # checked when a sweep plans (reading the registry stays torch-free), before anything is written
    code, _, err = cli("run", "--checkpoints", checkpoints, "-m", "a-yarn", "-t", "perplexity_text",
                       "--lengths", "1x", "--out", tmp_path / "out")
    assert code == 2 and len(err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
    assert "'a-yarn'" in err and "alibi" in err and "pope-bench (built-in)" in err


def test_figures_tables_and_analyses_read_the_encodings_declarations():
    from pope_bench.encodings import encodings
    from pope_bench.report.figures.charts import method_colors, method_marker
    from pope_bench.report.figures.rows import method_label
    from pope_bench.report.figures.tables import _method_order
    from pope_bench.tasks.registry import discover

    known = encodings()
    colors = method_colors(["alibi", "fire", "rope", "rope+yarn4", "xpos+ntk2"])
    assert [colors[m] for m in ("alibi", "fire", "rope")] == [known[m].color for m in ("alibi", "fire", "rope")]
    assert not {colors["rope+yarn4"], colors["xpos+ntk2"]} & {cls.color for cls in known.values()}
    assert method_marker("xpos+ntk2") == known["xpos"].marker and method_label("xpos+ntk2") == "xPos+ntk2"
    assert method_label("someone-elses-pe") == "someone-elses-pe"  # rows of an encoding not installed here
    methods = ["nope", "xpos", "pope+yarn4", "fire", "alibi", "pope", "rope"]
    assert sorted(methods, key=_method_order) == ["rope", "pope", "pope+yarn4", "alibi", "fire", "xpos", "nope"]
    tasks = discover()
    assert set(tasks.build("frequency_usage").encodings) == {"rope", "pope", "xpos"}  # those with a probe
    assert tasks.build("learned_delta").encodings == ("pope",)  # those with a learned δ
