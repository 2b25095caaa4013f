"""The candidate-cloze task type (Children's Book Test): which candidate word fills the blank?

lm-evaluation-harness has no CBT task; the convention is GPT-2's (Radford et al. 2019,
§3.2): each candidate is written into the blank and the model scores it together with the
rest of the sentence; the candidate whose filled-in sentence has the highest total
log-likelihood is the answer. ``acc`` is the mean over sub-tasks (named entities, common
nouns), as the paper reports CBT (§3.4); ``acc_micro`` the mean over all items.
"""

from __future__ import annotations

from pope_bench.tasks.downstream import GroupedChoiceTask


class CandidateClozeTask(GroupedChoiceTask):
    type_name = "candidate_cloze"
