"""The last-word cloze task type (LAMBADA): can the model produce a passage's last word?

lm-evaluation-harness ``lambada_openai``: context = the passage without its last word,
target = " " + that word, which may span several tokens (always, for a byte-level model).
``acc`` is lm-eval's ``is_greedy`` — greedy decoding reproduces every token of the target
(checked in one teacher-forced pass: all target tokens are the argmax) — and
``perplexity`` is exp of minus the mean target log-likelihood over passages.
"""

from __future__ import annotations

import math

from pope_bench.tasks.base import Metric, lower_better, proportion
from pope_bench.tasks.downstream import DownstreamTask, mean_stderr


class LastWordClozeTask(DownstreamTask):
    type_name = "last_word_cloze"
    metrics = (proportion("acc", main=True), lower_better("perplexity", log_axis=True), "context_tokens")

    def aggregate(self, items, scores):
        acc, acc_err = mean_stderr([float(s[0].greedy) for s in scores])
        loglik, loglik_err = mean_stderr([s[0].logprob for s in scores])
        perplexity = math.exp(-loglik)
        return [
            Metric("acc", acc, acc_err, len(scores)),
            Metric("perplexity", perplexity, perplexity * loglik_err if loglik_err else None, len(scores)),
        ]
