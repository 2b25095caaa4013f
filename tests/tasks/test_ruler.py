"""RULER tasks: examples of every task at three lengths with two tokenizers (bytes, GPT-2
BPE) are L tokens, hold their needles at the intended depths, are scored 100 % by an
oracle and 0 by a model that says nothing through the task's own scoring path; the
string-match metrics and the effective length on hand-made rows; bad input."""

import math
import random

import pandas as pd
import pytest

from pope_bench.core.errors import BadInput
from pope_bench.data import ruler_gen as gen
from pope_bench.data.tokenizers import get_tokenizer
from pope_bench.report.effective_length import effective_lengths
from pope_bench.tasks.base import TaskDefinition
from pope_bench.tasks.registry import discover
from pope_bench.tasks.ruler import (
    RulerTask,
    postprocess,
    string_match_all,
    string_match_part,
)

TASKS = ["niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1", "niah_multikey_2", "niah_multikey_3",
         "niah_multivalue", "niah_multiquery", "vt", "cwe", "fwe"]
#: lengths each tokenizer can hold every task at (bytes: cwe's solved example alone is ~1.1k bytes)
LENGTHS = {"bytes": [2048, 2560, 3072], "gpt2": [1024, 1536, 2048]}
#: what a list-sized prompt (cwe, fwe: RULER's binary search on the word count) may fall short by
LIST_SLACK = 40


@pytest.fixture(scope="module")
def registry():
    return discover()


@pytest.fixture(scope="module", params=["bytes", "gpt2"])
def tokenizer(request):
    return get_tokenizer(request.param)


def oracle(example) -> str:
    """What a perfect model writes after the answer prefix: the gold answers, listed."""
    return " " + ", ".join(example.answers) + "."


@pytest.mark.parametrize("name", TASKS)
def test_examples_fit_hold_needles_and_score_through_the_task(registry, tokenizer, name):
    task = registry.build(name)
    family = task.params.family
    for length in LENGTHS[tokenizer.name]:
        examples = task.examples_for(tokenizer, length, seed=0, limit=3)
        for ex in examples:
            total = len(ex.prompt) + ex.budget
            if family in ("cwe", "fwe"):
                assert length - LIST_SLACK <= total <= length
            else:
                assert total == length
            text = tokenizer.decode(ex.prompt)
            assert all(answer in text for answer in ex.answers)
        assert task.match_scores([oracle(ex) for ex in examples], examples)[0].value == 1.0
        nothing = task.match_scores(["" for _ in examples], examples)
        assert [m.metric for m in nothing][0] == "string_match_all" and nothing[0].value == 0.0


@pytest.mark.parametrize("index, depth", [(0, 0.0), (1, 0.5), (2, 1.0)])
def test_a_single_needle_sits_at_its_depth(registry, index, depth):
    tok = get_tokenizer("bytes")  # one token per character: positions read off the text
    task = registry.build("niah_single_1")
    built = task.build(tok, gen.Frame(tok, False, "t"), 2048, index, 3, random.Random(index), "t")
    text = tok.decode(built.prompt)
    begin, end = text.index("afterwards.") + len("afterwards."), text.index("\nWhat is the special magic")
    (at, planned), = built.needles
    assert planned == depth and text[at:].startswith("\nOne of the special magic number")
    needle = text.index("\n", at + 1) - at  # the needle's line
    haystack = end - begin - needle
    unit = len("\n" + gen.NOISE)
    assert abs((at - begin) - depth * haystack) <= unit  # the unit boundary nearest the depth


def test_vt_statements_follow_their_chain_order(registry):
    tok = get_tokenizer("bytes")
    built = registry.build("vt").build(tok, gen.Frame(tok, False, "t"), 2048, 0, 1, random.Random(3), "t")
    starts = [at for at, _ in built.needles]
    assert starts == sorted(starts)
    text = tok.decode(built.prompt)
    chain = built.answers
    assert [text.rindex(f"VAR {chain[i + 1]} = VAR {chain[i]}") for i in range(len(chain) - 1)] == sorted(
        text.rindex(f"VAR {chain[i + 1]} = VAR {chain[i]}") for i in range(len(chain) - 1))


def test_examples_are_seeded_and_the_same_for_every_model_of_a_tokenizer(registry):
    tok = get_tokenizer("bytes")
    a = registry.build("niah_multivalue").examples_for(tok, 2048, 0, 2)
    b = registry.build("niah_multivalue").examples_for(get_tokenizer("bytes"), 2048, 0, 2)
    c = registry.build("niah_multivalue").examples_for(tok, 2048, 1, 2)
    assert [e.prompt for e in a] == [e.prompt for e in b]
    assert [e.answers for e in a] != [e.answers for e in c]


def test_ruler_metrics_on_hand_made_outputs():
    assert string_match_all("Answer: ABC and xyz", ["abc", "XYZ", "q"]) == pytest.approx(2 / 3)
    assert string_match_part("Answer: ABC", ["q", "abc"]) == 1.0
    assert string_match_part("nothing", ["q", "abc"]) == 0.0
    assert postprocess("  a\x01b\n ") == "a\nb"


def test_zeta_matches_the_closed_forms():
    assert gen.zeta(2.0) == pytest.approx(math.pi**2 / 6, abs=1e-12)
    assert gen.zeta(4.0) == pytest.approx(math.pi**4 / 90, abs=1e-12)


def test_generation_decodes_greedily_with_the_cache(tmp_path):
    import torch

    from pope_bench import PopeBenchConfig, PopeBenchForCausalLM
    from pope_bench.tasks.generation import greedy_generate

    torch.manual_seed(0)
    model = PopeBenchForCausalLM(PopeBenchConfig(pe="rope", tokenizer="bytes", vocab_size=256, hidden_size=32,
                                                 num_hidden_layers=2, num_attention_heads=2, train_length=32)).eval()
    prompts = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]
    got = greedy_generate(model, prompts, 5, 64, torch.device("cpu"))
    for prompt, out in zip(prompts, got):  # the reference: re-run the whole sequence for every token
        ids = list(prompt)
        for _ in range(5):
            with torch.no_grad():
                ids.append(int(model(torch.tensor([ids]), use_cache=False).logits[0, -1].argmax()))
        assert out == ids[len(prompt):]


def rows(model, task, scores, train=512):
    return [{"model": model, "task": task, "metric": "string_match_all", "length": length, "value": value,
             "status": "ok", "train_length": train, "pe": "rope", "scaling": "none", "position": None,
             "depth": None, "layer": None, "frequency": None, "head": None} for length, value in scores.items()]


def test_effective_length_is_the_longest_length_at_the_threshold():
    frame = pd.DataFrame(rows("m", "a", {512: 1.0, 1024: 0.9, 2048: 0.5}) + rows("m", "b", {512: 0.2, 1024: 0.1})
                         + rows("m", "b", {2048: 0.0}))
    table = effective_lengths(frame, 0.856).set_index("task")
    assert table.loc["a", "effective_length"] == 1024 and table.loc["a", "ratio"] == 2.0
    assert pd.isna(table.loc["b", "effective_length"])
    assert pd.isna(table.loc["ruler (mean)", "effective_length"])  # means 0.6, 0.5, 0.25
    assert effective_lengths(frame, 0.5).set_index("task").loc["ruler (mean)", "effective_length"] == 1024


@pytest.mark.parametrize("params, message", [
    ({"family": "niah", "type_haystack": "poems"}, "unknown type_haystack"),
    ({"family": "niah", "type_needle_v": "colours"}, "unknown type_needle_v"),
])
def test_unknown_haystack_or_needle_type(params, message):
    with pytest.raises(BadInput, match=message):
        RulerTask(TaskDefinition(name="r", type="ruler", params=params))


def test_too_short_too_many_needles_and_no_chat_template(registry):
    tok = get_tokenizer("bytes")
    with pytest.raises(BadInput, match="needs L ≥"):
        registry.build("niah_single_1").examples_for(tok, 256, 0, 1)
    crowded = RulerTask(TaskDefinition(name="r", type="ruler", params={"family": "niah", "num_needle_k": 40}))
    with pytest.raises(BadInput, match="40 needles need a haystack"):
        crowded.examples_for(tok, 4096, 0, 1)
    chat = RulerTask(TaskDefinition(name="r", type="ruler", params={"family": "niah", "chat_template": True}))
    with pytest.raises(BadInput, match="has no chat template"):
        chat.examples_for(tok, 2048, 0, 1)


def test_cli_bad_input_is_one_line_and_writes_nothing(cli, tiny_registry, tmp_path):
    out = tmp_path / "out"
    for args, message in [
        (["-t", "niah_single_1", "--lengths", "64"], "too short"),
        (["-t", "niah_single_1", "--lengths", "4096", "--threshold", "1.5"], "outside (0, 1]"),
        (["-t", "niah_single_1", "--lengths", "4096", "--threshold", "0"], "outside (0, 1]"),
    ]:
        code, _, err = cli("run", "-m", "rope-tiny", *args, "--checkpoints", str(tiny_registry), "--out", str(out))
        assert code == 2 and len(err.strip().splitlines()) == 1 and message in err
        assert not out.exists()


def test_suite_runs_every_task_with_rows_and_effective_length(cli, tiny_registry, tmp_path):
    out = tmp_path / "out"
    code, stdout, err = cli("run", "-m", "rope-tiny", "--suite", "ruler", "--lengths", "1536,2048", "--limit", "1",
                            "--checkpoints", str(tiny_registry), "--out", str(out), "--no-plot")
    assert code == 0, err
    from pope_bench.sweep.results import load

    frame = load(out)
    main = frame[frame["metric"] == "string_match_all"]
    assert set(main["task"]) == set(TASKS)  # cwe (its solved example is ~1.1k bytes) at 2048 only
    assert main["value"].between(0, 1).all() and (main["n"] == 1).all()
    assert "left out rope-tiny × cwe at 1536" in err and "effective length" in stdout


def test_chat_template_wraps_the_prompt_and_keeps_the_length():
    import copy

    tok = copy.deepcopy(get_tokenizer("gpt2"))
    tok.chat_template = "{% for m in messages %}<|user|>{{ m['content'] }}{% endfor %}<|assistant|>"
    task = RulerTask(TaskDefinition(name="r", type="ruler", params={"family": "niah", "chat_template": True}))
    ex, = task.examples_for(tok, 1024, 0, 1)
    text = tok.decode(ex.prompt)
    assert len(ex.prompt) + ex.budget == 1024
    assert text.startswith("<|user|>A special magic number") and "?<|assistant|> The special magic number" in text


def test_effective_length_plot_is_written_from_rows(tmp_path):
    from pope_bench.report.effective_length_plot import plot_effective_length

    frame = pd.DataFrame(rows("m", "a", {512: 1.0, 1024: 0.2}) + rows("m", "b", {512: 0.1, 1024: 0.0}))
    paths = plot_effective_length(frame, tmp_path, 0.856, tasks=["b", "a"])
    assert [p.name for p in paths] == ["effective_length.png", "effective_length.svg"]
    assert "ruler (mean)" in paths[1].read_text() and all(p.stat().st_size > 0 for p in paths)
