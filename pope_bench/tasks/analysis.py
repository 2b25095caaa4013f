"""Task types that measure a model's insides instead of scoring it: the paper's analyses
(§3.6), run through the same runner so that their figures, like every other, read rows.

``frequency_usage`` — how strongly each frequency is used. Per layer and frequency index c,
the mean over tokens and heads of the magnitude the encoding gives frequency c, for queries
(``q_usage``) and keys (``k_usage``) separately, by the encoding's own ``frequency_usage``
probe (encodings without one are not offered this task):

* RoPE (and xPos): the norm of the 2-D chunk c, channels (c, c + d/2) of the head — the
  rotate-half pairing of :mod:`pope_bench.encodings.rope` (d/2 frequencies, θ_c = base^(−2c/d));
* PoPE: the magnitude softplus(x_c) of channel c (d frequencies, θ_c = base^(−c/d)).

Frequency index 0 is the fastest (θ = 1). q and k are the raw projections (the
output of each layer's ``qkv`` linear, before any position is applied), captured with
forward hooks. The paper averaged over 10 Shakespeare sonnets; pope-bench averages over
``tokens`` tokens of held-out text — by default the held-out King James Bible books, the
text the bundled models never saw — cut into windows of the cell's length L. Rows carry
``layer`` and ``frequency``; heads are averaged (the paper's heat-maps are per layer).

``learned_delta`` — the learned phase bias δ of encodings that have one (PoPE's), clamped to [−2π, 0] as in the forward
pass, one row per layer × head × frequency (``layer``, ``head``, ``frequency``). It reads
weights only, so the cell's length does not change it.

Both read the native model's attention modules, so they run on pope-bench checkpoints
(not hub models), and only on unscaled entries: eval-time scaling changes neither the
projections nor δ, so a variant would repeat its base's rows.
"""

from __future__ import annotations

import abc
import math
from typing import ClassVar

from pydantic import PositiveInt

from pope_bench.core.errors import BadInput
from pope_bench.core.lazy_torch import lazy_module, no_grad
from pope_bench.data.tokenizers import encode_text
from pope_bench.tasks.base import Metric, TaskType
from pope_bench.tasks.corpus import CorpusDocuments, CorpusParams

torch = lazy_module("torch")
F = lazy_module("torch.nn.functional")


def attention_layers(lm, task: str) -> list:
    """The native model's attention modules in layer order, or a BadInput saying why not."""
    from pope_bench.models.native.attention import Attention

    layers = sorted((m for m in lm.model.modules() if isinstance(m, Attention)), key=lambda m: m.layer_idx)
    if not layers:
        raise BadInput(not_native(task, lm.entry.name))
    return layers


def not_native(task: str, model: str) -> str:
    return (f"task {task!r} reads pope-bench's own attention layers; {model!r} is not a native "
            f"pope-bench checkpoint (train one with `pope-bench train`)")


class _UsageMeter:
    """Forward hook on one layer's ``qkv`` linear: sums per-(head, frequency) usage of q and k."""

    def __init__(self, attn):
        self.attn = attn
        self.probe = type(attn.encoding).frequency_usage
        self.sums: dict[str, torch.Tensor] = {}
        self.tokens = 0

    def __call__(self, module, inputs, output):
        q, k, _ = (self.attn.split_heads(t) for t in output.chunk(3, dim=-1))  # (B, H, L, d)
        for name, x in (("q_usage", q), ("k_usage", k)):
            total = self.probe(x).sum(dim=(0, 2)).double().cpu()  # (H, n_freq)
            self.sums[name] = self.sums.get(name, 0) + total
        self.tokens += q.shape[0] * q.shape[2]


class _NativeAnalysis(TaskType):
    """Shared model rules: an unscaled native checkpoint with one of ``encodings`` (and,
    unless ``any_domain``, of the task's domain)."""

    #: whether models of every domain qualify (δ exists in every domain's PoPE model)
    any_domain: ClassVar[bool] = False

    @property
    def encodings(self) -> tuple[str, ...]:
        """The registered encodings this analysis can read."""
        from pope_bench.encodings import encodings

        return tuple(name for name, cls in encodings().items() if self.reads(cls))

    @staticmethod
    @abc.abstractmethod
    def reads(cls) -> bool:
        """Whether this analysis can read an encoding class."""

    def refusal(self, entry) -> str | None:
        if entry.pe not in self.encodings:
            return (f"task {self.name!r} needs a {' or '.join(self.encodings)} model; {entry.name!r} is "
                    f"{entry.pe} (see `pope-bench list models`)")
        if entry.rope_scaling:
            return (f"task {self.name!r}: {entry.name!r} only rescales {entry.base!r}'s frequencies, "
                    f"which does not change what this task reads; run it on {entry.base!r}")
        if not entry.native:  # a hub or GGUF model
            return not_native(self.name, entry.name)
        return None if self.any_domain else super().refusal(entry)

    def check_model(self, lm) -> None:
        attention_layers(lm, self.name)


class FrequencyUsageParams(CorpusParams):
    #: tokens averaged over, in windows of the cell's length (``--limit`` caps)
    tokens: PositiveInt = 16_384


class FrequencyUsageTask(CorpusDocuments, _NativeAnalysis):
    type_name = "frequency_usage"
    metrics = ("q_usage", "k_usage")
    Params = FrequencyUsageParams

    @staticmethod
    def reads(cls) -> bool:
        return cls.frequency_usage is not None

    def windows(self, lm, length: int, budget: int) -> list[list[int]]:
        """Consecutive windows of ``length`` tokens, in document order, until ``budget``
        tokens are covered; documents shorter than a window are skipped."""
        chosen = []
        for doc in self.documents():
            ids = encode_text(lm.tokenizer, doc.text)
            for start in range(0, len(ids) - length + 1, length):
                if len(chosen) * length >= budget:
                    return chosen
                chosen.append(ids[start : start + length])
        if not chosen:
            raise BadInput(f"task {self.name!r}: every document is shorter than L={length}; lower the length")
        return chosen

    def budget(self, limit: int | None) -> int:
        return int(limit or self.params.tokens)

    def estimated_tokens(self, length, limit):
        return math.ceil(self.budget(limit) / length) * length

    def examples(self, lm, length, seed, limit) -> list[list[int]]:
        return self.windows(lm, length, self.budget(limit))

    @no_grad
    def score(self, lm, examples: list[list[int]], batch_size):
        layers = attention_layers(lm, self.name)
        meters = [_UsageMeter(attn) for attn in layers]
        hooks = [attn.qkv.register_forward_hook(meter) for attn, meter in zip(layers, meters)]
        base = getattr(lm.model, lm.model.base_model_prefix)  # the LM head is not needed
        try:
            for start in range(0, len(examples), batch_size):
                ids = torch.tensor(examples[start : start + batch_size], device=lm.device)
                base(ids, use_cache=False)
        finally:
            for hook in hooks:
                hook.remove()
        rows = []
        for layer, meter in enumerate(meters):
            for metric in self.declared():
                per_frequency = meter.sums[metric].mean(dim=0) / meter.tokens  # heads averaged
                rows += [Metric(metric, float(v), None, meter.tokens, {"layer": layer, "frequency": c})
                         for c, v in enumerate(per_frequency)]
        return rows


class LearnedDeltaTask(_NativeAnalysis):
    type_name = "learned_delta"
    metrics = ("delta",)
    any_domain = True

    @staticmethod
    def reads(cls) -> bool:
        return hasattr(cls, "clamped_delta")

    def estimated_tokens(self, length, limit):
        return 0  # it reads weights, no tokens

    def examples(self, lm, length, seed, limit) -> None:
        return None  # nothing to feed: δ is read from the weights

    def score(self, lm, examples: None, batch_size):
        rows = []
        for layer, attn in enumerate(attention_layers(lm, self.name)):
            delta = attn.encoding.clamped_delta().detach().double().cpu()  # (heads, d)
            rows += [Metric("delta", float(delta[h, c]), None, 1, {"layer": layer, "head": h, "frequency": c})
                     for h in range(delta.shape[0]) for c in range(delta.shape[1])]
        return rows
