"""The task-type contract: plan-time rules stated once (``refusal``) and read by both
``suits`` and ``check_entry``; abstract methods enforced when a type is built; a cost
estimate for every built-in type without ``--limit``, so sharded and Ray plans of real
sweeps (which have no ``--limit``) work; a shard announces only its own cells."""

from pathlib import Path

import pandas as pd
import pytest

import pope_bench
from pope_bench.core.errors import BadInput
from pope_bench.models.checkpoints import load_registry
from pope_bench.sweep import results
from pope_bench.sweep.executors.ray import groups, unloaded
from pope_bench.sweep.runner import RunOptions, plan
from pope_bench.sweep.shards import Shard, cell_cost, select
from pope_bench.tasks.base import Metric, TaskType
from pope_bench.tasks.registry import TASK_TYPES, discover, task_type_class

ROOT = Path(pope_bench.__file__).resolve().parent.parent
REGISTRY = ROOT / "checkpoints.yaml"

#: one built-in task per built-in type (offline data), with a bundled model that suits it
ONE_PER_TYPE = {
    "perplexity_text": "pope-text-tiny", "indirect_indexing": "pope-indexing-small", "lambada": "pope-text-tiny",
    "piqa": "pope-text-tiny", "blimp_gen": "pope-text-tiny", "cbt_gen": "pope-text-tiny",
    "passkey": "pope-text-tiny", "frequency_usage": "pope-text-tiny", "learned_delta": "pope-music-tiny",
    "niah_single_1": "pope-text-tiny",
}
#: lengths where a type's default ones do not all fit a bundled model (RULER needs ≥ 516 of its 128-byte train length)
LENGTHS = {"niah_single_1": "8x"}


def test_the_table_covers_every_built_in_type():
    registry = discover()
    assert {registry.definitions[name].type for name in ONE_PER_TYPE} == set(TASK_TYPES)


@pytest.fixture(scope="module")
def cells_without_limit():
    """Every type's default lengths, no --limit: the plan a real sweep makes."""
    cells = []
    for task, model in ONE_PER_TYPE.items():
        cells += plan(RunOptions(models=[model], tasks=[task], lengths=LENGTHS.get(task), checkpoints=REGISTRY,
                                    limit=None)).cells
    return cells


def test_every_type_estimates_its_cost_without_a_limit(cells_without_limit):
    by_type = {}
    for cell in cells_without_limit:
        by_type.setdefault(cell.task.definition.type, []).append(cell_cost(cell))
    assert set(by_type) == set(TASK_TYPES)
    assert by_type["learned_delta"] == [0]  # it reads weights only
    assert all(cost > 0 for kind, costs in by_type.items() if kind != "learned_delta" for cost in costs)


def test_estimates_follow_the_params_and_the_limit():
    registry = discover()
    perplexity = registry.build("perplexity_text")  # tokens: 32768, full windows
    assert perplexity.estimated_tokens(129, None) == 256 * 129  # 32768 scored tokens, 128 per window
    assert perplexity.estimated_tokens(129, 1000) == 8 * 129
    indexing = registry.build("indirect_indexing")  # 1000 examples
    assert indexing.estimated_tokens(51, None) == 1000 * 51 and indexing.estimated_tokens(51, 10) == 10 * 51
    passkey = registry.build("passkey")  # 5 depths × 20 trials
    assert passkey.estimated_tokens(128, None) == 100 * 128 and passkey.estimated_tokens(128, 2) == 10 * 128
    assert registry.build("lambada").estimated_tokens(128, None) == 300 * 128
    assert registry.build("frequency_usage").estimated_tokens(1000, None) == 17 * 1000  # 16384 tokens


def test_a_sharded_plan_without_limit_partitions_every_type(cells_without_limit):
    parts = [select(cells_without_limit, Shard(i, 2)) for i in range(2)]
    keys = [[c.key for c in part] for part in parts]
    assert sorted(keys[0] + keys[1]) == sorted(c.key for c in cells_without_limit)
    assert not set(keys[0]) & set(keys[1])


@pytest.mark.parametrize("slots", [1, 4])
def test_a_ray_plan_without_limit_groups_every_cell_once(cells_without_limit, slots):
    cut = groups(unloaded(cells_without_limit), slots)
    assert sorted(c.key for group in cut for c in group) == sorted(c.key for c in cells_without_limit)
    assert all(len({c.entry.name for c in group}) == 1 for group in cut)  # one model per Ray task


def test_plan_time_rules_are_stated_once():
    """suits and check_entry agree for every built-in task × every registered model,
    and check_entry's error is the refusal."""
    registry, models = discover(), load_registry(REGISTRY)
    for name in registry.definitions:
        task = registry.build(name)
        for entry in models.values():
            reason = task.refusal(entry)
            assert task.suits(entry) == (reason is None)
            if reason is None:
                task.check_entry(entry)
            else:
                with pytest.raises(BadInput) as refused:
                    task.check_entry(entry)
                assert str(refused.value) == reason


def test_learned_delta_takes_pope_models_of_every_domain_and_nothing_scaled():
    task, models = discover().build("learned_delta"), load_registry(REGISTRY)
    assert task.suits(models["pope-music-tiny"]) and task.suits(models["pope-indexing-small"])
    assert not task.suits(models["rope-text-tiny"])
    frequency = discover().build("frequency_usage")  # a text task: its domain counts
    assert not frequency.suits(models["pope-music-tiny"]) and frequency.suits(models["xpos-text-tiny"])
    assert "only rescales" in frequency.refusal(models["rope-text-tiny-yarn4"])


class Incomplete(TaskType):
    type_name = "incomplete"
    metrics = ("x",)

    def examples(self, lm, length, seed, limit):
        return None


class Complete(Incomplete):
    def estimated_tokens(self, length, limit):
        return length

    def score(self, lm, examples, batch_size):
        return [Metric("x", 1.0)]


def test_a_type_without_the_abstract_methods_is_refused_in_one_line():
    with pytest.raises(BadInput, match=r"does not implement estimated_tokens, score \(every TaskType"):
        task_type_class(f"{__name__}:Incomplete")
    assert task_type_class(f"{__name__}:Complete") is Complete


def test_sharded_indexing_without_limit_gives_the_unsharded_table(cli, tmp_path):
    """Issue 20's command, with a model that can run the task: each shard announces its
    own cells only, both exit 0, their union is the unsharded table."""
    base = ["run", "--checkpoints", REGISTRY, "-m", "pope-indexing-small", "-t", "indirect_indexing",
            "--lengths", "1x", "--no-plot", "--threads", "1"]
    code, _, err = cli(*base, "--out", tmp_path / "one")
    assert code == 0, err
    announced = []
    for i in range(2):
        code, _, err = cli(*base, "--out", tmp_path / "sharded", "--shard", f"{i}/2")
        assert code == 0, err
        announced.append(next(line for line in err.splitlines() if "cells" in line))
    # one cell: LPT gives it to shard 0; shard 1 has none and must not call shard 0's "already done"
    assert announced[0].startswith("shard 0/2: 1 of 1 cells") and "already done" not in announced[0]
    assert announced[1].startswith("shard 1/2: 0 of 1 cells") and "already done" not in announced[1]
    columns = ["model", "task", "metric", "length", "seed", "value", "stderr", "n", "status", "cell_key"]
    one, sharded = (results.load(tmp_path / d)[columns].sort_values(columns[:5]).reset_index(drop=True)
                    for d in ("one", "sharded"))
    pd.testing.assert_frame_equal(one, sharded)
