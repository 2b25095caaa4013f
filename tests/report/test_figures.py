"""The paper's figures: the analysis tasks (frequency usage, learned δ) against independent
reference computations, every figure rendered from real rows of tiny saved models run
through the runner, table cells equal to the rows, the bad-input errors, the CLI, and the
notebook executed headlessly."""

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
import yaml
from nbclient import NotebookClient
from typer.testing import CliRunner

from pope_bench import PopeBenchConfig, PopeBenchForCausalLM
from pope_bench.cli import app
from pope_bench.core.errors import BadInput
from pope_bench.data.corpora import documents
from pope_bench.data.tokenizers import CHARS
from pope_bench.report.figures import (
    MissingRows,
    copy_spec,
    load_results,
    load_spec,
    render,
)
from pope_bench.sweep import results
from pope_bench.sweep.runner import RunOptions, run

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "paper_figures.ipynb"
SIZES = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2)
TOKENS = 256  # --limit: tokens averaged over by frequency_usage (8 windows of 32)


@pytest.fixture(scope="module")
def registry(tiny_registry, tmp_path_factory) -> Path:
    """The shared tiny models, plus a PoPE model whose δ runs past [−2π, 0] (so the clamp
    shows) and RoPE/PoPE models with the diagnostic's vocabulary (for Table 1)."""
    root = tmp_path_factory.mktemp("figure-models")
    models = yaml.safe_load(tiny_registry.read_text())["models"]
    for spec in models.values():
        if "path" in spec:
            spec["path"] = str(tiny_registry.parent / spec["path"])
    torch.manual_seed(1)
    config = PopeBenchConfig(pe="pope", tokenizer="bytes", vocab_size=256, train_length=32, **SIZES)
    model = PopeBenchForCausalLM(config)
    for layer in model.model.layers:
        delta = layer.attn.encoding.delta
        delta.data = torch.linspace(-9.0, 2.0, delta.numel()).view_as(delta) + layer.attn.layer_idx
    model.save_pretrained(root / "pope-delta")
    models["pope-delta"] = {"path": str(root / "pope-delta"), "pe": "pope", "train_length": 32, "tokenizer": "bytes"}
    for pe in ("rope", "pope"):
        torch.manual_seed(2)
        config = PopeBenchConfig(pe=pe, tokenizer="chars", vocab_size=len(CHARS), train_length=64, **SIZES)
        PopeBenchForCausalLM(config).save_pretrained(root / f"{pe}-chars")
        models[f"{pe}-chars"] = {"path": str(root / f"{pe}-chars"), "pe": pe, "train_length": 64, "tokenizer": "chars"}
    models["hub-rope"] = {"hf": "org/some-rope-model", "pe": "rope", "train_length": 32}  # never loaded
    path = root / "checkpoints.yaml"
    path.write_text(yaml.safe_dump({"models": models}))
    return path


@pytest.fixture(scope="module")
def sweeps(registry, tmp_path_factory) -> Path:
    """results/ as the project keeps it: one folder per sweep."""
    root = tmp_path_factory.mktemp("results")
    sweep = dict(checkpoints=registry, limit=TOKENS)
    stats = [
        run(RunOptions(tasks=["frequency_usage", "learned_delta"], out=root / "analysis", **sweep)),
        run(RunOptions(models=["rope-tiny", "pope-tiny", "rope-tiny-yarn4"], tasks=["perplexity_text"],
                       lengths="32,64", out=root / "ppl", **sweep)),
        run(RunOptions(models=["rope-chars", "pope-chars"], tasks=["indirect_indexing"], lengths="1x", seeds=[0, 1],
                       out=root / "indexing", checkpoints=registry, limit=24)),
        run(RunOptions(models=["rope-tiny", "pope-tiny"], tasks=["passkey"], lengths="128,256", out=root / "passkey",
                       checkpoints=registry, limit=2)),
    ]
    assert [s["failed"] for s in stats] == [0, 0, 0, 0]
    return root


# ---------------------------------------------------------------- the analysis tasks


def layer0_qk(folder: Path, ids: torch.Tensor):
    """Layer 0's q and k per head, (B, H, L, d), straight from the weights."""
    model = PopeBenchForCausalLM.from_pretrained(folder).eval()
    block = model.model.layers[0]
    with torch.no_grad():
        x = block.attn_norm(model.model.embed_tokens(ids))
        w_q, w_k, _ = block.attn.qkv.weight.chunk(3, dim=0)
        heads = lambda t: t.view(*ids.shape, 2, -1).transpose(1, 2)  # noqa: E731
        return heads(x @ w_q.T), heads(x @ w_k.T)


def test_frequency_usage_matches_the_chunk_norms_and_softplus_magnitudes(sweeps, registry):
    frame = results.load(sweeps / "analysis")
    usage = frame[frame["task"] == "frequency_usage"]
    text = documents("kjv", "test")[0].text.encode("utf-8")
    ids = torch.tensor(list(text[:TOKENS])).view(-1, 32)  # the task's first 8 windows of L = 32
    folders = {m: Path(s["path"]) for m, s in yaml.safe_load(registry.read_text())["models"].items() if "path" in s}
    assert set(usage["model"]) == {"rope-tiny", "pope-tiny", "pope-delta"}  # no YaRN variant, chars or hub model
    for model, pe in (("rope-tiny", "rope"), ("pope-delta", "pope")):
        q, k = layer0_qk(folders[model], ids)
        for metric, x in (("q_usage", q), ("k_usage", k)):
            if pe == "rope":  # pair c = channels (c, c + d/2)
                half = x.shape[-1] // 2
                expected = torch.sqrt(x[..., :half] ** 2 + x[..., half:] ** 2).mean(dim=(0, 1, 2))
            else:
                expected = F.softplus(x).mean(dim=(0, 1, 2))
            rows = usage[(usage["model"] == model) & (usage["metric"] == metric) & (usage["layer"] == 0)]
            got = torch.tensor(rows.sort_values("frequency")["value"].to_numpy())
            assert len(got) == (8 if pe == "rope" else 16)  # d/2 RoPE frequencies, d PoPE ones (d = 16)
            torch.testing.assert_close(got, expected.double(), rtol=1e-5, atol=1e-6)
            assert (rows["n"] == TOKENS).all()
    layers = usage.groupby("model")["layer"].nunique()
    assert (layers == 2).all() and usage["head"].isna().all()


def test_learned_delta_rows_are_the_clamped_delta(sweeps):
    frame = results.load(sweeps / "analysis")
    delta = frame[(frame["task"] == "learned_delta") & (frame["model"] == "pope-delta")]
    assert set(frame[frame["task"] == "learned_delta"]["model"]) == {"pope-tiny", "pope-delta", "pope-chars"}
    assert len(delta) == 2 * 2 * 16  # layers × heads × frequencies
    for layer in (0, 1):
        raw = torch.linspace(-9.0, 2.0, 32).view(2, 16) + layer
        rows = delta[delta["layer"] == layer].sort_values(["head", "frequency"])
        got = torch.tensor(rows["value"].to_numpy()).view(2, 16)
        torch.testing.assert_close(got, raw.clamp(-2 * math.pi, 0.0).double())


@pytest.mark.parametrize("model, task, message", [
    ("rope-tiny", "learned_delta", "needs a pope model; 'rope-tiny' is rope"),
    ("rope-tiny-yarn4", "frequency_usage", "only rescales 'rope-tiny''s frequencies"),
    ("hub-rope", "frequency_usage", "'hub-rope' is not a native pope-bench checkpoint"),
])
def test_analyses_refuse_models_they_cannot_read_before_any_work(registry, tmp_path, model, task, message):
    with pytest.raises(BadInput, match=message):
        run(RunOptions(models=[model], tasks=[task], out=tmp_path / "r", checkpoints=registry))
    assert not (tmp_path / "r").exists()


# ---------------------------------------------------------------- rendering


@pytest.fixture(scope="module")
def rendered(sweeps, registry, tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    done, skipped = render([], [sweeps], out, registry)
    return out, {r.spec.name: r for r in done}, dict(skipped)


def test_every_figure_with_rows_is_rendered_and_the_rest_skipped_with_a_command(rendered):
    out, done, skipped = rendered
    assert set(done) == {"fig2", "fig3", "fig6_7", "indexing_length", "loss_by_position", "passkey", "table1",
                         "table_ppl"}
    for name in ("fig2", "fig3", "fig6_7", "indexing_length", "loss_by_position", "passkey"):
        png = (out / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000
        assert (out / f"{name}.svg").read_text().lstrip().startswith("<?xml")
    assert skipped["table_downstream"] == ("no rows for tasks lambada, blimp_gen, cbt_gen, hellaswag, piqa, arc_easy: "
                                           "run `pope-bench run -t lambada -t blimp_gen -t cbt_gen -t hellaswag "
                                           "-t piqa -t arc_easy --lengths 1x`")
    assert skipped["table_nll"].startswith("no rows for tasks perplexity_jsb, perplexity_dna: "
                                           "run `pope-bench run -t perplexity_jsb -t perplexity_dna --lengths 1x`")
    page = (out / "README.md").read_text()
    for name in done:
        assert f"(`{name}`)" in page
    assert "![fig3](fig3.png)" in page and "pope-delta (PoPE, 0.0M parameters)" in page
    assert "- `table_nll`: no rows for tasks perplexity_jsb, perplexity_dna" in page
    assert "Produced by: `pope-bench run -m pope-chars -m rope-chars -t indirect_indexing --lengths 64`" in page


def test_table_cells_are_the_rows_values_next_to_the_paper(rendered, sweeps):
    out, done, _ = rendered
    frame = load_results([sweeps]).frame
    ppl = pd.read_csv(out / "table_ppl.csv").set_index("model")
    at_1x = frame[(frame["metric"] == "perplexity") & (frame["length"] == 32)].set_index("model")["value"]
    for model in ("rope-tiny", "pope-tiny", "rope-tiny-yarn4"):
        assert ppl.loc[model, "KJV held-out"] == pytest.approx(at_1x[model], rel=1e-12)
    assert ppl.loc["rope-tiny", "paper: OpenWebText"] == "21.55 (124M); 18.88 (253M); 15.85 (774M)"
    assert ppl.loc["pope-tiny", "paper: OpenWebText"] == "21.33 (124M); 18.55 (253M); 15.45 (774M)"
    assert ppl.loc["rope-tiny-yarn4", "method"] == "RoPE+yarn4"
    assert "PG-19" not in ppl.columns  # no rows: left out, with a note
    assert any("perplexity_pg19" in note for note in done["table_ppl"].notes)

    table1 = pd.read_csv(out / "table1.csv")
    ours = table1[table1["model"] != "(paper only)"].set_index("model")
    accuracy = frame[(frame["task"] == "indirect_indexing") & (frame["metric"] == "accuracy")]
    for model, rows in accuracy.groupby("model"):
        values = rows.sort_values("seed")["value"] * 100
        assert len(values) == 2  # two seeds: mean ± their std
        assert ours.loc[model, "Indirect Indexing"] == pytest.approx(values.mean())
        assert ours.loc[model, "Indirect Indexing ±"] == pytest.approx(values.std(ddof=1))
    assert ours.loc["rope-chars", "paper: Indirect Indexing"] == "11.16 ± 2.45 (8 layers, width 512, 3 seeds)"
    assert ours.loc["pope-chars", "paper: Indirect Indexing"] == "94.82 ± 2.91 (8 layers, width 512, 3 seeds)"
    paper_only = table1[table1["model"] == "(paper only)"].set_index("method")["paper: Indirect Indexing"]
    assert paper_only["ALiBi on half the heads (v3)"] == "27.35 (8 layers, width 512)"
    assert paper_only["sinusoidal (v3)"] == "1.90 (8 layers, width 512)"
    markdown = (out / "table1.md").read_text()
    mean, spread = ours.loc["pope-chars", "Indirect Indexing"], ours.loc["pope-chars", "Indirect Indexing ±"]
    assert f"| pope-chars | PoPE | 0.0M | {mean:.2f} ± {spread:.2f} |" in markdown


def test_a_table_averages_seeds_and_shows_their_spread(sweeps, registry, tmp_path):
    """Table 1 on the target NLL (random models score ≈ 0 % accuracy, which hides the spread)."""
    path = copy_spec("table1", tmp_path)
    spec = path.read_text().replace("metric: accuracy", "metric: loss").replace("scale: 100", "scale: 1")
    path.write_text(spec + "average: mean\n")
    (item,), _ = render([str(path)], [sweeps / "indexing"], tmp_path / "out", registry)
    table = pd.read_csv(item.files[1]).set_index("model")
    loss = load_results([sweeps / "indexing"]).frame.query("metric == 'loss'")
    for model, rows in loss.groupby("model"):
        per_seed = rows.set_index("seed")["value"]
        assert per_seed[0] != per_seed[1]
        assert table.loc[model, "Indirect Indexing"] == pytest.approx((per_seed[0] + per_seed[1]) / 2, rel=1e-12)
        # test re-draws combine their own stderrs as independent estimates: √(se₀² + se₁²)/2
        se = rows.set_index("seed")["stderr"]
        assert table.loc[model, "Indirect Indexing ±"] == pytest.approx(math.hypot(se[0], se[1]) / 2)
        assert table.loc[model, "mean (1 of 3 tasks)"] == table.loc[model, "Indirect Indexing"]
    assert "position indexing" not in table.columns
    assert item.notes == ["position indexing: no rows for task position_indexing: run "
                          "`pope-bench run -t position_indexing --lengths 1x`",
                          "content indexing: no rows for task content_indexing: run "
                          "`pope-bench run -t content_indexing --lengths 1x`"]


def test_tables_say_what_the_spread_is_and_show_the_baselines(rendered, sweeps):
    """Two test seeds of one checkpoint are test re-draws, not the paper's training seeds;
    the trivial baselines sit in rows of their own, equal to the rows' baseline metrics."""
    out, _, _ = rendered
    table1 = pd.read_csv(out / "table1.csv")
    ours = table1[~table1["model"].isin(["(paper only)", "(baseline)"])].set_index("model")
    assert set(ours["± is"]) == {"stderr (binomial), 2 test seeds combined"}
    baselines = table1[table1["model"] == "(baseline)"].set_index("method")["Indirect Indexing"]
    frame = load_results([sweeps]).frame
    source = frame[(frame["metric"] == "baseline_source") & (frame["task"] == "indirect_indexing")]["value"]
    assert baselines["baseline: always the source letter"] == pytest.approx(source.mean() * 100)
    assert baselines["baseline: uniform over the 52 letters"] == pytest.approx(100 / 52)
    assert "| (baseline) | baseline: always the source letter |" in (out / "table1.md").read_text()
    ppl = pd.read_csv(out / "table_ppl.csv").set_index("model")
    assert set(ppl.drop("(paper only)")["± is"]) == {"stderr (window_clustered)"}


def test_checkpoints_of_one_group_are_training_seeds(registry, tmp_path):
    """Registry entries that share a group are one table row: the mean over the
    checkpoints, ± their std — the spread over training seeds."""
    models = yaml.safe_load(registry.read_text())["models"]
    for seed in (0, 1):
        torch.manual_seed(10 + seed)
        config = PopeBenchConfig(pe="pope", tokenizer="chars", vocab_size=len(CHARS), train_length=64, **SIZES)
        PopeBenchForCausalLM(config).save_pretrained(tmp_path / f"pope-chars-s{seed}")
        models[f"pope-chars-s{seed}"] = {"path": str(tmp_path / f"pope-chars-s{seed}"), "pe": "pope",
                                         "train_length": 64, "tokenizer": "chars", "seed": seed, "group": "pope-chars"}
    grouped = tmp_path / "checkpoints.yaml"
    grouped.write_text(yaml.safe_dump({"models": models}))
    run(RunOptions(models=["pope-chars-s0", "pope-chars-s1"], tasks=["indirect_indexing"], lengths="1x",
                   out=tmp_path / "r", checkpoints=grouped, limit=24))
    path = copy_spec("table1", tmp_path / "spec")
    path.write_text(path.read_text().replace("metric: accuracy", "metric: loss").replace("scale: 100", "scale: 1"))
    (item,), _ = render([str(path)], [tmp_path / "r"], tmp_path / "out", grouped)
    table = pd.read_csv(item.files[1])
    row = table[table["model"] == "pope-chars"].iloc[0]
    loss = results.load(tmp_path / "r").query("metric == 'loss'").set_index("train_seed")["value"]
    assert loss[0] != loss[1] and set(results.load(tmp_path / "r")["group"]) == {"pope-chars"}
    assert row["Indirect Indexing"] == pytest.approx((loss[0] + loss[1]) / 2)
    assert row["Indirect Indexing ±"] == pytest.approx(abs(loss[0] - loss[1]) / math.sqrt(2))
    assert row["± is"] == "std over 2 training seeds"


def test_heatmap_rows_are_the_slices_drawn(rendered):
    _, done, _ = rendered
    fig3 = done["fig3"].rows
    assert set(fig3["metric"]) == {"q_usage", "k_usage"} and fig3["layer"].notna().all()
    fig6_7 = done["fig6_7"].rows
    assert fig6_7["value"].between(-2 * math.pi - 1e-6, 0).all()  # clamped in float32 and fig6_7["head"].notna().all()
    positions = done["loss_by_position"].rows
    assert set(positions["length_ratio"]) == {1.0, 2.0} and positions["position"].notna().all()


# ---------------------------------------------------------------- bad input


def test_an_empty_results_folder_says_to_run_first(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match=r"no results under .*empty; run `pope-bench run --out"):
        render([], [tmp_path / "empty"], tmp_path / "out")


def test_unknown_figure_suggests_close_names():
    with pytest.raises(BadInput, match="unknown figure 'fig3x' \\(did you mean fig3"):
        load_spec("fig3x")


def test_a_named_figure_without_rows_names_the_run_command(sweeps, tmp_path):
    with pytest.raises(MissingRows, match=r"^no rows for task passkey: run `pope-bench run -t passkey`$"):
        render(["passkey"], [sweeps / "analysis"], tmp_path)
    with pytest.raises(MissingRows, match="run `pope-bench run -t indirect_indexing -t position_indexing "
                                          "-t content_indexing --lengths 1x`"):
        render(["table1"], [sweeps / "analysis"], tmp_path)


def test_rows_missing_a_column_the_figure_needs(sweeps, tmp_path):
    """Rows written before the layer column existed: the figure says to rerun, not a KeyError."""
    old = tmp_path / "old"
    old.mkdir()
    lines = (sweeps / "analysis" / "results.jsonl").read_text().splitlines()
    stripped = [json.dumps({k: v for k, v in json.loads(line).items() if k != "layer"}) for line in lines]
    (old / "results.jsonl").write_text("\n".join(stripped) + "\n")
    with pytest.raises(MissingRows, match="rows of task frequency_usage lack the layer column figure fig3 needs; "
                                          "rerun `pope-bench run -t frequency_usage --lengths 1x --force`"):
        render(["fig3"], [old], tmp_path / "out")


def test_a_copied_spec_renders_after_editing(sweeps, registry, tmp_path):
    path = copy_spec("fig6_7", tmp_path / "specs")
    path.write_text(path.read_text().replace("panel_rows: model", "panel_rows: method"))
    with pytest.raises(BadInput, match="already exists"):
        copy_spec("fig6_7", tmp_path / "specs")
    (item,), _ = render([str(path)], [sweeps], tmp_path / "out", registry)
    assert item.files == [tmp_path / "out" / "fig6_7.png", tmp_path / "out" / "fig6_7.svg"]


def test_cli_lists_renders_and_fails_in_one_line(sweeps, registry, tmp_path):
    listed = CliRunner().invoke(app, ["figures", "--list"])
    assert listed.exit_code == 0 and listed.output.splitlines()[0].split()[:2] == ["fig2", "line"]
    done = CliRunner().invoke(app, ["figures", "--results", str(sweeps), "--out", str(tmp_path / "f"),
                                    "--checkpoints", str(registry), "fig2", "table_ppl"])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "f" / "fig2.png").exists() and (tmp_path / "f" / "table_ppl.md").exists()
    copied = CliRunner().invoke(app, ["figures", "cp", "passkey", "--to", str(tmp_path / "specs")])
    assert copied.exit_code == 0 and (tmp_path / "specs" / "passkey.yaml").exists()
    bad = subprocess.run([sys.executable, "-m", "pope_bench", "figures", "--results", str(sweeps), "tabel1"],
                         capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: unknown figure 'tabel1' (did you mean table1") and bad.stderr.count("\n") == 1
    assert bad.stderr.endswith("see `pope-bench figures --list`\n")


# ---------------------------------------------------------------- the notebook


def test_the_notebook_regenerates_the_figures(sweeps, registry, tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    (parameters,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    parameters.source += f"\nRESULTS = [Path({str(sweeps)!r})]\nOUT = Path({str(tmp_path / 'out')!r})\n" \
                         f"CHECKPOINTS = Path({str(registry)!r})\n"
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    tables = [o for o in outputs if "text/markdown" in o.get("data", {})]
    assert len(images) == 6 and len(tables) == 2
    assert any("not rendered: table_nll" in o.get("text", "") for o in outputs)
    assert (tmp_path / "out" / "README.md").exists() and (tmp_path / "out" / "fig3.png").exists()


def test_figures_read_runs_by_default_and_regenerate_the_same_bytes(sweeps, registry, tmp_path, monkeypatch):
    shutil.copytree(sweeps / "ppl", tmp_path / "runs" / "latest")
    monkeypatch.chdir(tmp_path)
    args = ["figures", "fig2", "--checkpoints", str(registry)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    svg = tmp_path / "runs" / "figures" / "fig2.svg"
    before = {p.name: p.read_bytes() for p in svg.parent.iterdir()}
    assert b"<dc:date>" not in before["fig2.svg"]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert {p.name: p.read_bytes() for p in svg.parent.iterdir()} == before


def test_run_plots_are_deterministic_and_follow_the_requested_order(sweeps, tmp_path):
    from pope_bench.report.plots import plot_results

    order = ["rope-tiny-yarn4", "pope-tiny", "rope-tiny"]
    first = {p.name: p.read_bytes() for p in plot_results(sweeps / "ppl", tmp_path / "a", models=order)}
    second = {p.name: p.read_bytes() for p in plot_results(sweeps / "ppl", tmp_path / "b", models=order)}
    assert first == second and set(first) == {"perplexity_text.png", "perplexity_text.svg"}
    svg = first["perplexity_text.svg"].decode()
    legend = [svg.index(f"<!-- {m} -->") for m in order]  # matplotlib names each text in a comment
    assert legend == sorted(legend)


def test_one_measurement_from_two_sweeps_is_read_once_from_the_larger(sweeps, registry, tmp_path):
    shutil.copytree(sweeps / "ppl", tmp_path / "r" / "ppl")
    run(RunOptions(models=["rope-tiny"], tasks=["perplexity_text"], lengths="32", limit=TOKENS // 2,
                   out=tmp_path / "r" / "quick", checkpoints=registry))
    frame = load_results([tmp_path / "r"]).frame
    rows = frame.query("model == 'rope-tiny' and metric == 'perplexity' and length == 32")
    assert len(rows) == 1 and rows["n"].iloc[0] == TOKENS


def test_curve_legends_say_once_what_shared_bands_are(sweeps, registry, tmp_path):
    """Issue 11: every ± says what it is; with many models the meaning is the legend's title,
    not repeated on each line, and the legend sits beside the panels."""
    out = tmp_path / "figs"
    result = CliRunner().invoke(app, ["figures", "fig2", "--results", str(sweeps / "ppl"), "--out", str(out),
                                      "--checkpoints", str(registry)])
    assert result.exit_code == 0, result.output
    svg = (out / "fig2.svg").read_text()
    assert svg.count("<!-- bands: ± stderr (window_clustered) -->") == 1
    assert "band ±" not in svg
