"""The Hugging Face model: save/load round trip, KV-cached generation, chunked prefill,
the attention kernel wrapper, and config validation. Tiny models only."""

from __future__ import annotations

import math
import os

import pytest
import torch
from transformers import AutoModelForCausalLM
from transformers.cache_utils import DynamicCache

import pope_bench  # noqa: F401  (registers the Auto classes)
from pope_bench import PopeBenchConfig, PopeBenchForCausalLM
from pope_bench.core.errors import BadInput
from pope_bench.encodings import PoPE
from pope_bench.models.native.attention import causal_attention

VOCAB = 61

CONFIGS = {
    "rope": dict(pe="rope"),
    "pope": dict(pe="pope", delta_init="uniform"),
    "nope": dict(pe="nope"),
    "rope_yarn": dict(pe="rope", pe_scaling={"type": "yarn", "factor": 4}),
}


def tiny(name: str, seed: int = 0, **overrides) -> PopeBenchForCausalLM:
    torch.manual_seed(seed)
    fields = dict(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        train_length=8,
        # a larger init than the default 0.02 so that logits depend visibly on the input
        # (a near-constant model would make greedy-decoding comparisons vacuous)
        initializer_range=0.3,
    )
    fields.update(CONFIGS[name])
    fields.update(overrides)
    return PopeBenchForCausalLM(PopeBenchConfig(**fields)).eval()


def random_ids(batch: int, length: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, VOCAB, (batch, length), generator=g)


# ----------------------------------------------------------------------------- save / load


@pytest.mark.parametrize("name", ["rope", "pope", "nope", "rope_yarn"])
def test_save_pretrained_round_trip(name, tmp_path):
    model = tiny(name)
    ids = random_ids(2, 12)
    with torch.no_grad():
        before = model(ids).logits
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    assert (tmp_path / "config.json").is_file()

    loaded = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, PopeBenchForCausalLM)
    assert loaded.config.pe == model.config.pe
    assert loaded.config.pe_scaling == model.config.pe_scaling
    with torch.no_grad():
        after = loaded(ids).logits
    assert torch.equal(before, after)
    assert before.std() > 0.1  # logits really vary (random init)

    if name == "pope":
        # δ (uniform init) must be loaded, not re-initialised
        for a, b in zip(model.modules(), loaded.modules()):
            if isinstance(a, PoPE):
                assert (a.delta < -1e-3).any()
                assert torch.equal(a.delta, b.delta)
    # the tied head stays tied after loading
    assert loaded.lm_head.weight.data_ptr() == loaded.model.embed_tokens.weight.data_ptr()


# ----------------------------------------------------------------------------- generation


def uncached_greedy(model, prompt: torch.Tensor, steps: int):
    seq, step_logits = prompt, []
    with torch.no_grad():
        for _ in range(steps):
            logits = model(seq, use_cache=False).logits[:, -1]
            step_logits.append(logits)
            seq = torch.cat([seq, logits.argmax(-1, keepdim=True)], dim=1)
    return seq, torch.stack(step_logits, dim=1)


@pytest.mark.parametrize("name", ["rope", "pope", "nope", "rope_yarn"])
def test_generate_with_cache_equals_uncached_argmax(name):
    model = tiny(name, seed=3)
    prompt = random_ids(2, 6, seed=4)
    steps = 14  # 6 + 14 = 20 positions: past train_length (8), and past YaRN's original length

    calls = []
    hook = model.model.register_forward_pre_hook(
        lambda mod, args, kwargs: calls.append((args[0] if args else kwargs["input_ids"]).shape[1]),
        with_kwargs=True,
    )
    with torch.no_grad():
        out = model.generate(
            prompt,
            max_new_tokens=steps,
            do_sample=False,
            use_cache=True,
            return_dict_in_generate=True,
            output_logits=True,
            pad_token_id=0,
        )
    hook.remove()
    assert calls[0] == prompt.shape[1] and all(c == 1 for c in calls[1:]), calls  # the cache is used

    want_seq, want_logits = uncached_greedy(model, prompt, steps)
    assert torch.equal(out.sequences, want_seq)
    got_logits = torch.stack(out.logits, dim=1)
    torch.testing.assert_close(got_logits, want_logits, rtol=1e-5, atol=1e-5)
    # a random tiny model tends to repeat one token; the per-step logits still move with the
    # position (and the cache), which is what the comparison above checks
    assert (want_logits[:, 1:] - want_logits[:, :-1]).abs().amax(dim=-1).min() > 1e-3


def test_yarn_changes_the_model():
    """The YaRN case above really runs a different encoding than plain RoPE."""
    ids = random_ids(1, 20)
    with torch.no_grad():
        plain = tiny("rope", seed=3)(ids).logits
        yarn = tiny("rope_yarn", seed=3)(ids).logits
    assert (plain - yarn).abs().max() > 1e-3


@pytest.mark.parametrize("pe", ["rope", "pope"])
def test_set_pe_scaling_equals_config_scaling(pe):
    """Switching a trained model to YaRN at eval time = building it with pe_scaling."""
    ids = random_ids(1, 20)
    spec = {"type": "yarn", "factor": 4}
    fields = {"delta_init": "uniform"} if pe == "pope" else {}  # PoPE's field only on PoPE
    switched = tiny(pe, seed=3, **fields)
    built = tiny(pe, seed=3, **fields, pe_scaling=spec)
    with torch.no_grad():
        plain = switched(ids).logits
        switched.set_pe_scaling(spec)
        assert switched.config.pe_scaling == spec
        torch.testing.assert_close(switched(ids).logits, built(ids).logits, rtol=0, atol=0)
        assert (switched(ids).logits - plain).abs().max() > 1e-3
        switched.set_pe_scaling(None)
        torch.testing.assert_close(switched(ids).logits, plain, rtol=0, atol=0)


# ----------------------------------------------------------------------------- chunked prefill


@pytest.mark.parametrize("name", ["rope", "pope", "nope", "rope_yarn"])
@pytest.mark.parametrize("chunks", [(5, 7), (1, 11), (4, 3, 5), (11, 1)])
def test_chunked_forward_through_cache_equals_full_forward(name, chunks):
    model = tiny(name, seed=5)
    ids = random_ids(2, sum(chunks), seed=6)
    with torch.no_grad():
        full = model(ids, use_cache=False).logits
        cache = DynamicCache(config=model.config)
        parts, start = [], 0
        for size in chunks:
            out = model(ids[:, start : start + size], cache=cache, use_cache=True)
            parts.append(out.logits)
            start += size
            assert cache.get_seq_length() == start
    torch.testing.assert_close(torch.cat(parts, dim=1), full, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["rope", "pope", "nope"])
def test_full_forward_is_causal(name):
    """The reference of the test above is itself causal: a prefix's logits do not depend on
    what follows, and later tokens do change later logits."""
    model = tiny(name, seed=5)
    ids = random_ids(1, 12, seed=6)
    with torch.no_grad():
        full = model(ids, use_cache=False).logits
        prefix = model(ids[:, :6], use_cache=False).logits
    torch.testing.assert_close(prefix, full[:, :6], rtol=1e-5, atol=1e-5)
    with torch.no_grad():
        reversed_tail = torch.cat([ids[:, :6], ids[:, 6:].flip(1)], dim=1)
        other = model(reversed_tail, use_cache=False).logits
    assert (other[:, 6:] - full[:, 6:]).abs().max() > 1e-3


# ----------------------------------------------------------------------------- attention kernel


def naive_attention(q, k, v, scale, padding_mask=None):
    """float64 softmax(q kᵀ·scale + mask) v with an explicit causal mask; the Lq queries are
    the last Lq of the Lk positions."""
    q, k, v = q.double(), k.double(), v.double()
    lq, lk = q.shape[-2], k.shape[-2]
    s = (q @ k.transpose(-1, -2)) * scale
    i = torch.arange(lq)[:, None] + (lk - lq)
    j = torch.arange(lk)[None, :]
    allowed = (j <= i)[None, None]
    if padding_mask is not None:
        allowed = allowed & padding_mask.bool()[:, None, None, :]
    s = s.masked_fill(~allowed, float("-inf"))
    return torch.softmax(s, dim=-1) @ v


CASES = [
    # (batch, heads, q_len, k_len, d_qk, d_v)
    (2, 3, 9, 9, 8, 8),  # square, same widths (is_causal path)
    (2, 3, 9, 9, 16, 8),  # PoPE: q/k twice as wide as v
    (2, 2, 4, 11, 16, 8),  # new queries after cached keys (lower-right causal)
    (1, 2, 1, 7, 16, 8),  # one decoding step
    (2, 2, 3, 3, 12, 5),  # v much narrower
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_causal_attention_equals_naive(case, dtype):
    b, h, lq, lk, dqk, dv = case
    torch.manual_seed(lq * 100 + lk)
    q = torch.randn(b, h, lq, dqk, dtype=dtype)
    k = torch.randn(b, h, lk, dqk, dtype=dtype)
    v = torch.randn(b, h, lk, dv, dtype=dtype)
    scale = 1 / math.sqrt(dv)
    got = causal_attention(q, k, v, scale)
    want = naive_attention(q, k, v, scale)
    assert got.shape == (b, h, lq, dv) and got.dtype == dtype
    tol = 1e-12 if dtype == torch.float64 else 2e-6
    assert (got.double() - want).abs().max().item() < tol
    if lq > 1:  # the causal mask matters here: non-causal attention would differ
        full = torch.softmax((q.double() @ k.double().transpose(-1, -2)) * scale, -1) @ v.double()
        assert (full - want).abs().max().item() > 1e-2


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("lq,lk", [(8, 8), (3, 8)])
def test_causal_attention_with_padding_mask(dtype, lq, lk):
    torch.manual_seed(17)
    b, h, dqk, dv = 3, 2, 16, 8
    q = torch.randn(b, h, lq, dqk, dtype=dtype)
    k = torch.randn(b, h, lk, dqk, dtype=dtype)
    v = torch.randn(b, h, lk, dv, dtype=dtype)
    mask = torch.ones(b, lk, dtype=torch.long)
    mask[0, :2] = 0  # left padding
    mask[1, -3:] = 0  # right padding
    mask[2, 3] = 0  # a hole
    scale = 0.3
    got = causal_attention(q, k, v, scale, padding_mask=mask)
    want = naive_attention(q, k, v, scale, padding_mask=mask)
    # rows whose every visible key is padding have no defined output; compare the others
    i = torch.arange(lq)[:, None] + (lk - lq)
    visible = ((torch.arange(lk)[None, :] <= i)[None] & mask.bool()[:, None, :]).any(-1)  # (b, lq)
    assert (~visible).any() == (lq == lk)  # left padding empties the first rows of batch 0
    tol = 1e-12 if dtype == torch.float64 else 2e-6
    diff = (got.double() - want).abs().amax(dim=(1, 3))  # (b, lq)
    assert diff[visible].max().item() < tol
    # padding really changed the result for the padded rows
    unpadded = naive_attention(q, k, v, scale)
    assert ((unpadded - want).abs().amax(dim=(1, 3))[visible]).max().item() > 1e-2


def test_causal_attention_all_ones_padding_mask_is_plain_causal():
    torch.manual_seed(18)
    q, k = torch.randn(2, 2, 5, 16), torch.randn(2, 2, 5, 16)
    v = torch.randn(2, 2, 5, 8)
    mask = torch.ones(2, 5, dtype=torch.long)
    torch.testing.assert_close(causal_attention(q, k, v, 0.25, mask), causal_attention(q, k, v, 0.25))


@pytest.mark.parametrize("name", ["rope", "pope", "nope"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_model_padding_mask_matches_unpadded_rows(name, side):
    """A padded batch: the real tokens' logits equal those of the sequence run alone.
    (Left padding shifts the real tokens' positions by the pad count; RoPE and PoPE scores
    depend only on s − t, so that is exact.)"""
    model = tiny(name, seed=7)
    ids = random_ids(2, 10, seed=8)
    mask = torch.ones(2, 10, dtype=torch.long)
    real = slice(0, 6) if side == "right" else slice(4, 10)
    mask[1] = 0
    mask[1, real] = 1
    with torch.no_grad():
        batched = model(ids, attention_mask=mask).logits
        alone = model(ids[1:, real]).logits
        unmasked = model(ids).logits
    assert not torch.isnan(batched).any()
    torch.testing.assert_close(batched[1:, real], alone, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(batched[0], unmasked[0], rtol=1e-5, atol=1e-5)  # row 0 unpadded
    if side == "left":  # the mask really matters
        assert (unmasked[1, real] - alone[0]).abs().max() > 1e-3


# ----------------------------------------------------------------------------- config validation


BASE_FIELDS = dict(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4)


@pytest.mark.parametrize(
    "overrides,field",
    [
        (dict(pe="xpe"), "pe"),
        (dict(pe="pope", delta_init="foo"), "delta_init"),
        (dict(hidden_size=30), "hidden_size"),
        (dict(pe="rope", hidden_size=12, num_attention_heads=4), "head dim"),  # head dim 3
        (dict(dropout=1.5), "dropout"),
        (dict(dropout=-0.1), "dropout"),
        (dict(num_attention_heads=0), "num_attention_heads"),
        (dict(pe_base=1.0), "pe_base"),
        (dict(pe="nope", pe_scaling={"type": "yarn", "factor": 4}), "pe_scaling"),
        (dict(pe_scaling={"type": "yarn", "factor": 0.5}), "factor"),
        (dict(pe_scaling={"type": "foo", "factor": 4}), "type"),
    ],
    ids=lambda x: x if isinstance(x, str) else None,
)
def test_config_bad_input_names_the_field(overrides, field):
    with pytest.raises(BadInput, match=field):
        PopeBenchConfig(**{**BASE_FIELDS, **overrides})


def test_config_odd_head_dim_is_fine_without_rope():
    for pe in ("pope", "nope"):
        cfg = PopeBenchConfig(**{**BASE_FIELDS, "hidden_size": 12, "pe": pe})
        assert cfg.head_dim == 3


def test_config_round_trip_keeps_fields(tmp_path):
    cfg = PopeBenchConfig(**BASE_FIELDS, pe="pope", delta_init="uniform", pe_scaling={"type": "yarn", "factor": 4})
    cfg.save_pretrained(tmp_path)
    back = PopeBenchConfig.from_pretrained(tmp_path)
    assert (back.pe, back.delta_init, back.pe_scaling) == ("pope", "uniform", {"type": "yarn", "factor": 4})
    assert back.scaling_label == "yarn4"
    assert os.path.isfile(tmp_path / "config.json")
