"""The user's own documents: a perplexity task over a folder of .txt files or the rows of a
jsonl file counts them as documents and checksums them into the manifest; `tasks new
--corpus` writes such a task; and every bad corpus is one line, exit 2, nothing written."""

import json

import yaml

from pope_bench.sweep import results

#: three documents of 400 bytes: 12 windows of 32 bytes each
TEXTS = ["In the beginning was the word. " * 13 + "x", "And the earth was without form. " * 12 + "yyyyyyyyyyyyyyyy",
         "Let there be light, and light. " * 12 + "zzzzzzzzzzzzzzzzzzzzzzzzzzzz"]


def write_task(folder, corpus, name="mine"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump({
        "name": name, "type": "perplexity", "description": "my documents", "source": "my files",
        "default_lengths": "1x", "params": {"corpus": corpus, "tokens": 100_000}}))
    return folder


def run_mine(cli, tiny_registry, tasks, out):
    return cli("run", "-m", "pope-tiny", "-t", "mine", "--tasks-dir", tasks, "--checkpoints", tiny_registry,
               "--out", out, "--no-plot")


def documents_of(out) -> set:
    frame = results.load(out)
    return set(frame[frame["metric"] == "perplexity"]["documents"])


def test_a_folder_of_txt_files_counts_each_file_as_a_document(cli, tiny_registry, tmp_path):
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    for i, text in enumerate(TEXTS):
        (docs / ("sub" if i == 2 else ".") / f"d{i}.txt").write_text(text)
    (docs / "short.txt").write_text("too short")  # below L = 32: skipped and counted
    code, _, err = run_mine(cli, tiny_registry, write_task(tmp_path / "t", {"path": str(docs)}), tmp_path / "r")
    assert code == 0, err
    assert documents_of(tmp_path / "r") == {3}
    frame = results.load(tmp_path / "r")
    assert set(frame["skipped"].dropna()) == {1}
    checksums = json.loads((tmp_path / "r" / "manifest.json").read_text())["runs"][-1]["data_checksums"]
    assert list(checksums) == [str(docs)]


def test_jsonl_rows_through_datasets_with_a_text_field(cli, tiny_registry, tmp_path):
    table = tmp_path / "notes.jsonl"
    table.write_text("".join(json.dumps({"id": i, "body": t}) + "\n" for i, t in enumerate(TEXTS[:2])))
    tasks = write_task(tmp_path / "t", {"path": str(table), "text_field": "body"})
    code, _, err = run_mine(cli, tiny_registry, tasks, tmp_path / "r")
    assert code == 0, err
    assert documents_of(tmp_path / "r") == {2}


def test_tasks_new_with_a_corpus_runs_as_written(cli, tiny_registry, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i, text in enumerate(TEXTS):
        (docs / f"d{i}.txt").write_text(text)
    code, out, err = cli("tasks", "new", "mine", "--corpus", docs, "--folder", tmp_path / "t")
    assert code == 0, err
    assert "3 in" in (tmp_path / "t" / "mine.yaml").read_text()
    code, _, err = cli("run", "-m", "pope-tiny", "-t", "mine", "--tasks-dir", tmp_path / "t", "--checkpoints",
                       tiny_registry, "--lengths", "1x", "--limit", "2000", "--out", tmp_path / "r", "--no-plot")
    assert code == 0, err
    assert documents_of(tmp_path / "r") == {3}


def _refused(cli, tiny_registry, tmp_path, corpus, needle):
    out = tmp_path / "never"
    code, _, err = run_mine(cli, tiny_registry, write_task(tmp_path / "t", corpus), out)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_bad_corpora_are_one_line_each(cli, tiny_registry, tmp_path):
    _refused(cli, tiny_registry, tmp_path, {"path": str(tmp_path / "absent")}, "does not exist")
    (tmp_path / "empty").mkdir()
    _refused(cli, tiny_registry, tmp_path, {"path": str(tmp_path / "empty")}, "holds no text")
    table = tmp_path / "rows.jsonl"
    table.write_text(json.dumps({"body": TEXTS[0]}) + "\n")
    _refused(cli, tiny_registry, tmp_path, {"path": str(table)}, "has no column 'text' (columns: body)")
    _refused(cli, tiny_registry, tmp_path, {"path": str(table), "txt_field": "body"}, "unknown key")


def test_passkey_filler_from_your_documents(cli, tiny_registry, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(TEXTS[0])
    tasks = tmp_path / "t"
    tasks.mkdir()
    (tasks / "mykey.yaml").write_text(yaml.safe_dump({
        "name": "mykey", "type": "passkey", "description": "passkey in my text", "source": "my files",
        "default_lengths": "256", "params": {"depths": [0.5], "trials": 2, "filler_corpus": {"path": str(docs)}}}))
    code, _, err = cli("run", "-m", "pope-tiny", "-t", "mykey", "--tasks-dir", tasks, "--checkpoints", tiny_registry,
                       "--out", tmp_path / "r", "--no-plot")
    assert code == 0, err
    assert set(results.load(tmp_path / "r")["status"]) == {"ok"}
    checksums = json.loads((tmp_path / "r" / "manifest.json").read_text())["runs"][-1]["data_checksums"]
    assert list(checksums) == [str(docs)]
    (tasks / "mykey.yaml").write_text((tasks / "mykey.yaml").read_text().replace(str(docs), str(tmp_path / "gone")))
    code, _, err = cli("run", "-m", "pope-tiny", "-t", "mykey", "--tasks-dir", tasks, "--checkpoints", tiny_registry,
                       "--out", tmp_path / "never", "--no-plot")
    assert code == 2 and "does not exist" in err and not (tmp_path / "never").exists()
