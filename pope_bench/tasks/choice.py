"""The multiple-choice task type (HellaSwag, PIQA, ARC-Easy) by log-likelihood.

lm-evaluation-harness ``output_type: multiple_choice``: every choice is scored as the
continuation " " + choice of the question; ``acc`` — the gold choice has the highest summed
log-likelihood; ``acc_norm`` — the highest log-likelihood divided by the choice's length in
characters (``len(choice)``, without the delimiter: lm-eval's ``completion_len``). Ties go to
the first choice, as numpy's argmax does. ``baseline_chance``: a uniform guess among each
example's choices (both accuracies share it).
"""

from __future__ import annotations

from pope_bench.tasks.base import CHANCE, Metric, proportion
from pope_bench.tasks.downstream import (
    DownstreamTask,
    argmax_first,
    chance_level,
    mean_stderr,
)


class MultipleChoiceTask(DownstreamTask):
    type_name = "multiple_choice"
    metrics = (proportion("acc", main=True), proportion("acc_norm"), CHANCE, "context_tokens")

    def aggregate(self, items, scores):
        acc, acc_norm = [], []
        for item, score in zip(items, scores):
            lls = [s.logprob for s in score]
            acc.append(float(argmax_first(lls) == item.gold))
            normed = [ll / len(choice) for ll, choice in zip(lls, item.choices)]
            acc_norm.append(float(argmax_first(normed) == item.gold))
        chance = sum(1 / len(item.choices) for item in items) / len(items)
        return [Metric("acc", *mean_stderr(acc), len(acc)), Metric("acc_norm", *mean_stderr(acc_norm), len(acc)),
                chance_level(chance, len(acc))]
