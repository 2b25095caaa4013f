"""Per-token log-likelihoods, the primitive every scoring task type is built on.

The LM head is applied in chunks of positions, so memory grows linearly with the length
(a 16k × 50k-vocabulary logits tensor would be 3 GB per sequence), and log-softmax runs
in float32 whatever the model's dtype.
"""

from __future__ import annotations

from pope_bench.core.lazy_torch import inference_mode, lazy_module

torch = lazy_module("torch")
F = lazy_module("torch.nn.functional")


HEAD_CHUNK = 1024


def _needs_full_forward(model) -> bool:
    """Models that post-process logits (Gemma's soft-capping) are scored on full logits."""
    return bool(getattr(model.config, "final_logit_softcapping", None))


@inference_mode  # not no_grad: no version counters or view tracking, a few % on small models
def token_nll(model, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """NLL (nats) of token t+1 given tokens ≤ t: shape (batch, length − 1), float32."""
    targets = input_ids[:, 1:]
    if _needs_full_forward(model):
        logits = model(input_ids, attention_mask=attention_mask, use_cache=False).logits[:, :-1]
        return _nll(logits, targets)
    base = getattr(model, model.base_model_prefix)
    hidden = base(input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state[:, :-1]
    head = model.get_output_embeddings()
    out = torch.empty(targets.shape, dtype=torch.float32, device=input_ids.device)
    for start in range(0, hidden.shape[1], HEAD_CHUNK):
        stop = start + HEAD_CHUNK
        out[:, start:stop] = _nll(head(hidden[:, start:stop]), targets[:, start:stop])
    return out


def _nll(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over a contiguous (N, V) view: on the (batch, V, length) transpose
    that ``F.cross_entropy`` takes for sequences, its log-softmax strides across the
    vocabulary and ran ≈ 5× slower on the CPU at a 50k vocabulary."""
    flat = logits.float().reshape(-1, logits.shape[-1])
    return F.cross_entropy(flat, targets.reshape(-1), reduction="none").view(targets.shape)

