"""One folder, one experiment per (model, task, length, seed): settings ids on rows, the
refusal to mix them, --replace, and older folders that already mix them."""

import json

import pytest

from pope_bench.sweep.results import load
from pope_bench.sweep.rows import read_rows


def _sweep(tiny_registry, out, limit, *extra):
    return ("run", "-m", "rope-tiny", "-t", "perplexity_text", "--lengths", "32", "--limit", str(limit),
            "--checkpoints", str(tiny_registry), "--out", str(out), "--no-plot", *extra)


@pytest.fixture
def folder(cli, tiny_registry, tmp_path):
    out = tmp_path / "out"
    code, _, err = cli(*_sweep(tiny_registry, out, 64))
    assert code == 0, err
    return out


def test_rows_carry_the_settings_id_the_manifest_lists(folder):
    rows = read_rows(folder)
    ids = {r["settings"] for r in rows}
    assert len(ids) == 1 and len(ids.pop()) == 6
    (run,) = json.loads((folder / "manifest.json").read_text())["runs"]
    (facts,) = run["settings"].values()
    assert facts["task"] == "perplexity_text" and facts["limit"] == 64


def test_another_budget_into_the_same_folder_is_refused_and_nothing_changes(cli, tiny_registry, folder):
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    code, _, err = cli(*_sweep(tiny_registry, folder, 128))
    assert code == 2
    assert "limit 64 → 128" in err and "another --out" in err and "--replace" in err
    assert len(err.strip().splitlines()) == 1
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


def test_replace_drops_the_old_rows(cli, tiny_registry, folder):
    old = {r["settings"] for r in read_rows(folder)}
    code, _, err = cli(*_sweep(tiny_registry, folder, 128, "--replace"))
    assert code == 0, err
    frame = load(folder)
    assert set(frame["settings"]).isdisjoint(old) and frame["settings"].nunique() == 1
    assert set(frame.loc[frame["metric"] == "perplexity", "n"]) == {128}


def test_replace_on_a_folder_that_holds_no_results_is_refused(cli, tiny_registry, tmp_path):
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"\xff\xd8")
    code, _, err = cli(*_sweep(tiny_registry, other, 64, "--replace"))
    assert code == 2 and "not a pope-bench results folder" in err
    assert sorted(p.name for p in other.iterdir()) == ["cat.jpg"]


def _strip_ids(folder):
    """The folder as an older pope-bench wrote it: no settings ids on rows or in the manifest."""
    path = folder / "results.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "settings"}) + "\n" for r in rows))
    manifest = json.loads((folder / "manifest.json").read_text())
    for run in manifest["runs"]:
        del run["settings"]
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_an_older_folder_that_mixes_budgets_reads_as_two_series_with_a_warning(cli, tiny_registry, folder,
                                                                               tmp_path, capsys):
    second = tmp_path / "second"
    assert cli(*_sweep(tiny_registry, second, 128))[0] == 0
    # an older pope-bench appended both runs' rows to one folder
    (folder / "results.jsonl").write_text((folder / "results.jsonl").read_text()
                                          + (second / "results.jsonl").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["runs"] += json.loads((second / "manifest.json").read_text())["runs"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    _strip_ids(folder)
    capsys.readouterr()
    frame = load(folder)
    assert "warning:" in capsys.readouterr().err
    main = frame[(frame["metric"] == "perplexity") & frame["position"].isna()]
    assert len(main) == 2 and main["series"].nunique() == 2
    assert sorted(main["n"]) == [64, 128]
    assert all(s.startswith("rope-tiny [") for s in main["series"])


def test_rows_whose_settings_id_the_manifest_does_not_list_are_refused(cli, folder):
    path = folder / "results.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps({**r, "settings": "abcdef"}) + "\n" for r in rows))
    code, _, err = cli("plot", str(folder))
    assert code == 2 and "abcdef" in err and "disagree" in err


def test_figures_keep_a_mixed_models_settings_apart_even_inside_a_group():
    import pandas as pd

    from pope_bench.report.seed_spread import unit

    rows = pd.DataFrame({"model": ["a", "a", "b"], "series": ["a [111111]", "a [222222]", "b"],
                         "group": ["g", "g", "g"]})
    assert list(unit(rows)) == ["a [111111]", "a [222222]", "g"]
