"""The minimal-pairs task type (BLiMP): does the model prefer the grammatical sentence?

lm-evaluation-harness ``blimp_*``: an empty context, choices (good, bad); a pair counts when
the good sentence has the higher total log-likelihood (ties go to the good one, numpy's
argmax). ``acc`` is the mean over paradigms — how the paper reports BLiMP (§3.4) — and
``acc_micro`` the mean over all pairs. An empty context is lm-eval's document-start token;
here the sentence always follows a document boundary, after filler at the length axis's L.
"""

from __future__ import annotations

from pope_bench.tasks.downstream import GroupedChoiceTask


class MinimalPairsTask(GroupedChoiceTask):
    type_name = "minimal_pairs"
    needs_context = False
