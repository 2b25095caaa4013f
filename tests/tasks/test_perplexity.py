"""The perplexity task type: which windows are scored (a seeded sample over the whole
split, the same for every model), the numbers against an independent one-window-at-a-time
loop, the window-clustered and bootstrap errors against a hand computation, bits per byte
from the bytes tokens cover (GPT-2's tokenizer on non-ASCII text), and bad input."""

from __future__ import annotations

import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from pope_bench import PopeBenchConfig, PopeBenchForCausalLM
from pope_bench.cli import main
from pope_bench.data.gpt2_tokenizer import gpt2_tokenizer
from pope_bench.data.tokenizers import ByteTokenizer, encode_with_byte_ends
from pope_bench.models.checkpoints import ModelEntry
from pope_bench.models.loading import LoadedModel
from pope_bench.tasks.base import TaskDefinition
from pope_bench.tasks.perplexity import PerplexityTask
from pope_bench.tasks.window_stderr import ratio_stderr

#: the model every test here scores: random weights, bytes, 32 positions of training length
TINY = dict(vocab_size=256, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, train_length=32)


def perplexity_task(**params) -> PerplexityTask:
    return PerplexityTask(TaskDefinition.parse({"name": "t", "type": "perplexity", "params": {"corpus": "kjv", **params}},
                                               "test"))


def loaded(seed: int = 0) -> LoadedModel:
    torch.manual_seed(seed)
    model = PopeBenchForCausalLM(PopeBenchConfig(pe="pope", tokenizer="bytes", **TINY)).eval()
    return LoadedModel(entry=ModelEntry(name="tiny", pe="pope", train_length=32, tokenizer="bytes", path=Path("unused")), model=model,
                       tokenizer=ByteTokenizer(), fingerprint="x", scaling=None, device=torch.device("cpu"),
                       dtype=torch.float32)


@pytest.fixture(scope="module")
def lm():
    return loaded()


def by_metric(rows):
    return {(r.metric, r.extra.get("position")): r for r in rows}


# ---------------------------------------------------------------- which windows


def test_the_sample_spreads_over_every_document_in_proportion():
    """The budget reaches every held-out book, not the first one only, each about in
    proportion to its length; exactly the budget is scored; the draw is the seed's."""
    task = perplexity_task()
    docs = task.encoded(loaded())["ids"]
    plan = task.sample_windows(docs, 64, 65_536, seed=0)
    assert sum(take for *_, take in plan) == 65_536
    assert plan == sorted(plan) and len(set((d, s) for d, s, *_ in plan)) == len(plan)  # no window twice
    share = Counter(d for d, *_ in plan)
    assert len(share) == len(docs) == 7
    sizes = [len(ids) for ids in docs]
    for d, count in share.items():
        expected = len(plan) * sizes[d] / sum(sizes)
        assert abs(count - expected) < 4 * math.sqrt(expected) + 1
    assert task.sample_windows(docs, 64, 65_536, seed=0) == plan
    assert task.sample_windows(docs, 64, 65_536, seed=1) != plan


def test_every_model_with_the_tokenizer_scores_the_same_windows():
    task = perplexity_task(tokens=2048)
    first, second = (by_metric(task.evaluate(loaded(seed), 64, 0, None, 8)) for seed in (0, 1))
    assert first[("nll", None)].value != second[("nll", None)].value
    for key, row in first.items():
        assert (row.n, row.extra) == (second[key].n, second[key].extra)
    assert first[("nll", None)].extra["documents"] > 1


def test_documents_shorter_than_a_window_are_skipped_and_counted(lm):
    """Jude (3,540 bytes) is the one held-out book shorter than 4,096 bytes."""
    rows = perplexity_task().evaluate(lm, 4096, 0, 4095, 1)
    assert {r.extra["skipped"] for r in rows} == {1}


# ---------------------------------------------------------------- the numbers


@torch.no_grad()
def reference(lm, task: PerplexityTask, length: int, seed: int, budget: int):
    """Per planned window, one forward pass: (summed NLL, scored tokens, {bin: [sum, n]})."""
    docs = task.encoded(lm)["ids"]
    windows = []
    for d, start, first, take in task.sample_windows(docs, length, budget, seed):
        ids = docs[d][start : start + length]
        logprobs = torch.log_softmax(lm.model(ids[None]).logits[0].double(), -1)
        bins: dict[int, list[float]] = {}
        total = 0.0
        for offset in range(first, first + take):  # the target at window position offset + 1
            nll = -float(logprobs[offset, ids[offset + 1]])
            total += nll
            cell = bins.setdefault((offset + 1) * task.bins // length, [0.0, 0])
            cell[0] += nll
            cell[1] += 1
        windows.append((total, take, bins))
    return windows


def clustered(pairs) -> float:
    """The clustered error of Σy/Σn over these windows, by the function under test in
    test_clustered_stderr_by_hand (here the task's bookkeeping of windows is what is tested)."""
    y, n = zip(*pairs)
    return float(ratio_stderr(np.array(y), np.array(n), "window_clustered"))


def test_clustered_stderr_by_hand():
    # windows (y, n) = (2, 1), (3, 2), (7, 3), (0, 0): R = 12/6 = 2; residuals 0, −1, +1 over
    # the k = 3 windows holding tokens: √(3/2 · 2) / 6 = √3 / 6
    error = ratio_stderr(np.array([2.0, 3.0, 7.0, 0.0]), np.array([1, 2, 3, 0]), "window_clustered")
    assert float(error) == pytest.approx(math.sqrt(3) / 6, rel=1e-12)
    one_window = ratio_stderr(np.array([2.0, 0.0]), np.array([1, 0]), "window_clustered")
    assert math.isnan(float(one_window))


@pytest.mark.parametrize("params", [{}, {"window": "sliding", "stride": 16}])
def test_metrics_and_their_errors_equal_a_window_by_window_reference(lm, params):
    task = perplexity_task(bins=4, **params)
    length, budget = 64, 1000  # 1000 is no multiple of a window: the last one is cut short
    rows = by_metric(task.evaluate(lm, length, 3, budget, 5))
    windows = reference(lm, task, length, 3, budget)
    total, scored = sum(w[0] for w in windows), sum(w[1] for w in windows)
    assert scored == budget == rows[("nll", None)].n
    assert rows[("nll", None)].value == pytest.approx(total / scored, rel=1e-6)
    assert rows[("perplexity", None)].value == pytest.approx(math.exp(total / scored), rel=1e-6)
    assert rows[("bits_per_byte", None)].value == pytest.approx(total / scored / math.log(2), rel=1e-6)  # 1 byte each
    error = clustered([(w[0], w[1]) for w in windows])
    assert rows[("nll", None)].stderr == pytest.approx(error, rel=1e-4)
    assert rows[("perplexity", None)].stderr == pytest.approx(math.exp(total / scored) * error, rel=1e-4)
    for b in range(4):
        cells = [w[2].get(b, [0.0, 0]) for w in windows]
        if not any(n for _, n in cells):  # sliding: only a document's first window scores its start
            assert ("loss_by_position", b * length // 4) not in rows
            continue
        row = rows[("loss_by_position", b * length // 4)]
        assert row.n == sum(n for _, n in cells)
        assert row.value == pytest.approx(sum(y for y, _ in cells) / row.n, rel=1e-6)
        assert row.stderr == pytest.approx(clustered(cells), rel=1e-4)  # float32 NLLs
    assert {r.stderr_method for r in rows.values()} == {"window_clustered"}
    assert {r.extra["window"] for r in rows.values()} == {params.get("window", "full")}


def test_bootstrap_over_windows_is_seeded_and_near_the_clustered_error(lm):
    clustered_rows = by_metric(perplexity_task(tokens=4096).evaluate(lm, 64, 0, None, 8))
    task = perplexity_task(tokens=4096, stderr="bootstrap", resamples=500)
    boot, again = (by_metric(task.evaluate(lm, 64, 0, None, 8)) for _ in range(2))
    assert boot[("nll", None)].stderr_method == "window_bootstrap"
    assert boot[("nll", None)].stderr == again[("nll", None)].stderr
    assert 0.7 < boot[("nll", None)].stderr / clustered_rows[("nll", None)].stderr < 1.4


# ---------------------------------------------------------------- bits per byte


def test_tokens_cover_exactly_the_texts_bytes_with_gpt2_on_non_ascii_text():
    """Byte-level BPE splits 日 or 🙂 over several tokens; each alone decodes to U+FFFD (3
    bytes), so counting bytes token by token overcounts. Byte ends add up exactly."""
    tokenizer = gpt2_tokenizer()
    text = "naïve café — 日本語の文章 🙂 Ünïcödé, ok; Ελληνικά 123 " * 3
    ids, ends = encode_with_byte_ends(tokenizer, text)
    assert ends[-1] == len(text.encode())
    cuts = [0, 1, 5, 6, 7, 11, 20, len(ids)]  # spans [a, b): the bytes the targets ids[a:b] cover
    spans = [ends[b - 1] - (ends[a - 1] if a else 0) for a, b in zip(cuts, cuts[1:])]
    assert sum(spans) == len(text.encode()) and min(spans) >= 0
    one_by_one = sum(len(tokenizer.decode([i]).encode()) for i in ids)
    assert one_by_one > len(text.encode())  # what single-id decoding would have counted
    assert tokenizer.decode(ids) == text


def test_byte_tokenizer_ends_are_one_byte_per_token():
    ids, ends = encode_with_byte_ends(ByteTokenizer(), "naïve")
    assert ids == list("naïve".encode()) and ends == [1, 2, 3, 4, 5, 6]


# ---------------------------------------------------------------- bad input


def run_cli(monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["pope-bench", *map(str, args)])
    with pytest.raises(SystemExit) as exit_:
        main()
    return exit_.value.code, capsys.readouterr().err


@pytest.mark.parametrize("params,limit,message", [
    ({}, 32, "--limit 32 is less than one window at L=64 (63 scored tokens)"),
    ({"tokens": 40}, None, "tokens: 40 is less than one window at L=64"),
    ({"split": "validation"}, None, "split 'validation' of corpus 'kjv' holds no documents"),
    ({"stderr": "bootstrap", "resamples": 0}, None, "resamples: Input should be greater than or equal to 2"),
    ({"stderr": "jackknife"}, None, "stderr: Input should be 'clustered' or 'bootstrap'"),
    ({"resamples": 100}, None, "resamples applies to stderr: bootstrap only"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tiny_registry, tmp_path, monkeypatch, capsys, params,
                                                          limit, message):
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "ppl.yaml").write_text(yaml.safe_dump({"name": "ppl", "type": "perplexity",
                                                    "params": {"corpus": "kjv", **params}}))
    out = tmp_path / "out"
    code, err = run_cli(monkeypatch, capsys, "run", "--checkpoints", tiny_registry, "--tasks-dir", tasks,
                        "-m", "rope-tiny", "-t", "ppl", "--lengths", "64", "--out", out,
                        *(["--limit", limit] if limit else []))
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not out.exists()
