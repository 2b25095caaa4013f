"""Numerics of the positional encodings (paper §1–2).

Every score here is ``encode_queries(q, pos_q) @ encode_keys(k, pos_k).T``; the softmax
scale (1/√head_dim) is a separate property and is not part of these scores.
"""

from __future__ import annotations

import math
import random

import pytest
import torch

from pope_bench.core.errors import BadInput
from pope_bench.encodings import NoPE, PoPE, RoPE, Scaling, build_encoding
from pope_bench.encodings.frequencies import scaled_inv_freq

TWO_PI = 2 * math.pi
BASE = 10_000.0


# ----------------------------------------------------------------------------- helpers


def scores(enc, q, k, pos_q, pos_k):
    """(…, Lq, Lk) attention logits before the softmax scale."""
    return enc.encode_queries(q, pos_q) @ enc.encode_keys(k, pos_k).transpose(-1, -2)


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def naive_rope(q, k, pos_q, pos_k, base=BASE):
    """Paper §1 in polar form, pair c = (x_c, x_{c+d/2}), θ_c = base^(−2(c−1)/d):
    a(t,s) = Σ_c μ_q,c μ_k,c cos((s−t)θ_c + φ_k,c − φ_q,c). Plain python floats.
    q: (H, Lq, d), k: (H, Lk, d); positions: lists of python ints."""
    heads, lq, d = q.shape
    lk = k.shape[1]
    half = d // 2
    ql, kl = q.tolist(), k.tolist()
    out = [[[0.0] * lk for _ in range(lq)] for _ in range(heads)]
    for h in range(heads):
        for i in range(lq):
            for j in range(lk):
                offset = pos_k[j] - pos_q[i]  # exact integer
                total = 0.0
                for c in range(half):
                    qa, qb = ql[h][i][c], ql[h][i][c + half]
                    ka, kb = kl[h][j][c], kl[h][j][c + half]
                    theta = base ** (-2 * c / d)
                    total += math.hypot(qa, qb) * math.hypot(ka, kb) * math.cos(
                        offset * theta + math.atan2(kb, ka) - math.atan2(qb, qa)
                    )
                out[h][i][j] = total
    return torch.tensor(out, dtype=torch.float64)


def naive_pope(q, k, delta, pos_q, pos_k, base=BASE):
    """Paper §2: a(t,s) = Σ_{c=1..d} softplus(q_c) softplus(k_c) cos((s−t)θ_c + δ_c),
    θ_c = base^(−(c−1)/d), δ clamped to [−2π, 0]. Plain python floats.
    q: (H, Lq, d), k: (H, Lk, d), delta: (H, d)."""
    heads, lq, d = q.shape
    lk = k.shape[1]
    ql, kl, dl = q.tolist(), k.tolist(), delta.tolist()
    out = [[[0.0] * lk for _ in range(lq)] for _ in range(heads)]
    for h in range(heads):
        for i in range(lq):
            for j in range(lk):
                offset = pos_k[j] - pos_q[i]
                total = 0.0
                for c in range(d):
                    theta = base ** (-c / d)
                    dc = min(max(dl[h][c], -TWO_PI), 0.0)
                    total += softplus(ql[h][i][c]) * softplus(kl[h][j][c]) * math.cos(offset * theta + dc)
                out[h][i][j] = total
    return torch.tensor(out, dtype=torch.float64)


# Float64 tolerance at |position| ≈ 10⁶. The module rotates q by tθ and k by sθ separately
# (as any cached implementation must), so each angle carries a rounding error of up to
# ulp(10⁶·θ)/2 ≈ 10⁶·2⁻⁵³ ≈ 1.1e-10 rad, while the naive formula uses the exact integer s−t.
# Measured: 1e-10…3e-10 on these sizes. Below 10⁶ the error is ~1e-14.
TOL = 1e-10
TOL_AT_1E6 = 1e-9


def set_delta(enc: PoPE, delta: torch.Tensor) -> None:
    with torch.no_grad():
        enc.delta.copy_(delta)


def random_case(seed: int, offset: int):
    """Two heads of a random width, 1–9 queries and keys at random positions ≥ ``offset``,
    float64 q and k (heads, length, d): heads, d, q, k, query positions, key positions."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    heads, d = 2, rng.choice([4, 8, 16])
    lq, lk = rng.randint(1, 9), rng.randint(1, 9)
    pos_q = [offset + rng.randint(0, 40) for _ in range(lq)]
    pos_k = [offset + rng.randint(0, 40) for _ in range(lk)]
    q = torch.randn(heads, lq, d, dtype=torch.float64)
    k = torch.randn(heads, lk, d, dtype=torch.float64)
    return heads, d, q, k, pos_q, pos_k


# ----------------------------------------------------------------------------- RoPE vs paper


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("offset", [0, 10**6])
def test_rope_matches_paper_formula(seed, offset):
    heads, d, q, k, pos_q, pos_k = random_case(seed, offset)

    enc = build_encoding("rope", d, heads).double()
    got = scores(enc, q[None], k[None], torch.tensor(pos_q), torch.tensor(pos_k))[0]
    want = naive_rope(q, k, pos_q, pos_k)

    assert got.dtype == torch.float64
    err = (got - want).abs().max().item()
    assert err < (TOL if offset == 0 else TOL_AT_1E6)
    assert enc.softmax_scale == pytest.approx(d**-0.5)


# ----------------------------------------------------------------------------- PoPE vs paper


DELTA_CASES = ["zero", "in_range", "out_of_range"]


def make_delta(kind: str, heads: int, d: int) -> torch.Tensor:
    if kind == "zero":
        return torch.zeros(heads, d, dtype=torch.float64)
    if kind == "in_range":
        return torch.empty(heads, d, dtype=torch.float64).uniform_(-TWO_PI, 0.0)
    # well outside on both sides: the forward pass must clamp to [−2π, 0]
    delta = torch.empty(heads, d, dtype=torch.float64).uniform_(-4 * math.pi, 2 * math.pi)
    assert (delta < -TWO_PI).any() and (delta > 0).any()
    return delta


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("delta_kind", DELTA_CASES)
@pytest.mark.parametrize("offset", [0, 10**6])
def test_pope_matches_paper_formula(seed, delta_kind, offset):
    heads, d, q, k, pos_q, pos_k = random_case(seed, offset)
    delta = make_delta(delta_kind, heads, d)

    enc = build_encoding("pope", d, heads).double()
    set_delta(enc, delta)
    got = scores(enc, q[None], k[None], torch.tensor(pos_q), torch.tensor(pos_k))[0]
    want = naive_pope(q, k, delta, pos_q, pos_k)

    assert got.shape == (heads, len(pos_q), len(pos_k))
    assert enc.encode_queries(q[None], torch.tensor(pos_q)).shape[-1] == 2 * d  # Cartesian form
    err = (got - want).abs().max().item()
    assert err < (TOL if offset == 0 else TOL_AT_1E6)
    # the scale stays 1/√d with d the *original* head width, not the 2d of q'/k'
    assert enc.softmax_scale == pytest.approx(d**-0.5)


@pytest.mark.parametrize("pe", ["rope", "pope"])
def test_batched_positions_match_paper_formula(pe):
    """Positions of shape (batch, length): every batch row uses its own positions."""
    torch.manual_seed(12)
    heads, d, length = 3, 8, 5
    enc = (build_encoding("rope", d, heads) if pe == "rope" else build_encoding("pope", d, heads, delta_init="uniform")).double()
    q = torch.randn(2, heads, length, d, dtype=torch.float64)
    k = torch.randn(2, heads, length, d, dtype=torch.float64)
    pos = torch.stack([torch.arange(length), torch.arange(length) * 7 + 3])
    got = scores(enc, q, k, pos, pos)
    for b in range(2):
        p = pos[b].tolist()
        want = naive_rope(q[b], k[b], p, p) if pe == "rope" else naive_pope(q[b], k[b], enc.delta.detach(), p, p)
        assert (got[b] - want).abs().max().item() < 1e-10


def test_nope_scores_are_plain_dot_products():
    torch.manual_seed(0)
    enc = NoPE(8, 2)
    q = torch.randn(1, 2, 5, 8, dtype=torch.float64)
    k = torch.randn(1, 2, 7, 8, dtype=torch.float64)
    got = scores(enc, q, k, torch.arange(5) + 99, torch.arange(7))
    assert torch.equal(got, q @ k.transpose(-1, -2))


# ----------------------------------------------------------------------------- RoPE vs transformers


def hf_rope(head_dim, heads, max_pos, rope_parameters, q, k, positions):
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import (
        LlamaRotaryEmbedding,
        apply_rotary_pos_emb,
    )

    config = LlamaConfig(
        hidden_size=head_dim * heads,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_pos,
        rope_parameters=dict(rope_parameters),
    )
    rotary = LlamaRotaryEmbedding(config)
    cos, sin = rotary(q, positions)
    return apply_rotary_pos_emb(q, k, cos, sin)


HF_CASES = [
    # (our scaling, transformers rope_parameters, transformers max_position_embeddings)
    (None, {"rope_type": "default", "rope_theta": BASE}, 64),
    (Scaling(type="linear", factor=4.0, original_length=64), {"rope_type": "linear", "rope_theta": BASE, "factor": 4.0}, 64),
    (
        Scaling(type="yarn", factor=4.0, original_length=64),
        {"rope_type": "yarn", "rope_theta": BASE, "factor": 4.0, "original_max_position_embeddings": 64},
        256,
    ),
    (
        Scaling(type="yarn", factor=8.0, original_length=32),
        {"rope_type": "yarn", "rope_theta": BASE, "factor": 8.0, "original_max_position_embeddings": 32},
        256,
    ),
    # dynamic NTK: transformers' original length is max_position_embeddings
    (Scaling(type="dynamic", factor=2.0, original_length=32), {"rope_type": "dynamic", "rope_theta": BASE, "factor": 2.0}, 32),
]


@pytest.mark.parametrize("head_dim", [16, 64])
@pytest.mark.parametrize("case", range(len(HF_CASES)), ids=lambda i: HF_CASES[i][1]["rope_type"] + str(i))
def test_rope_matches_transformers_llama(case, head_dim):
    pytest.importorskip("transformers")
    scaling, params, max_pos = HF_CASES[case]
    torch.manual_seed(case)
    heads, batch, length = 2, 2, 100  # 100 > every original length: the scaled regime
    q = torch.randn(batch, heads, length, head_dim)
    k = torch.randn(batch, heads, length, head_dim)
    positions = torch.arange(length).expand(batch, length)

    want_q, want_k = hf_rope(head_dim, heads, max_pos, params, q, k, positions)
    enc = RoPE(head_dim, heads, BASE, scaling)
    got_q, got_k = enc.encode_queries(q, positions), enc.encode_keys(k, positions)

    # float32 on both sides (transformers always builds cos/sin in float32)
    torch.testing.assert_close(got_q, want_q, rtol=1e-5, atol=2e-5)
    torch.testing.assert_close(got_k, want_k, rtol=1e-5, atol=2e-5)
    torch.testing.assert_close(
        got_q @ got_k.transpose(-1, -2), want_q @ want_k.transpose(-1, -2), rtol=1e-5, atol=2e-4
    )
    if scaling is not None:  # the scaling really changed something (the comparison can fail)
        plain = RoPE(head_dim, heads, BASE).encode_queries(q, positions)
        assert (plain - got_q).abs().max() > 1e-2


def test_rope_yarn_attention_factor_matches_transformers():
    pytest.importorskip("transformers")
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    config = LlamaConfig(
        hidden_size=64,
        num_attention_heads=2,
        max_position_embeddings=256,
        rope_parameters={"rope_type": "yarn", "rope_theta": BASE, "factor": 4.0, "original_max_position_embeddings": 64},
    )
    rotary = LlamaRotaryEmbedding(config)
    enc = RoPE(32, 2, BASE, Scaling(type="yarn", factor=4.0, original_length=64))
    assert enc.attention_factor == pytest.approx(rotary.attention_scaling, rel=1e-12)
    assert enc.attention_factor == pytest.approx(0.1 * math.log(4.0) + 1.0, rel=1e-12)
    torch.testing.assert_close(enc.static_inv_freq.float(), rotary.inv_freq, rtol=1e-6, atol=0)


@pytest.mark.parametrize("head_dim,factor", [(16, 2.0), (64, 4.0), (128, 8.0)])
def test_rope_ntk_is_base_rescale(head_dim, factor):
    """NTK-aware scaling (no transformers rope_type) = plain RoPE with base·factor^(d/(d−2))."""
    torch.manual_seed(5)
    heads, length = 2, 50
    new_base = BASE * factor ** (head_dim / (head_dim - 2))
    want_freq = new_base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    freq, attention_factor = scaled_inv_freq(head_dim, BASE, Scaling(type="ntk", factor=factor, original_length=32))
    assert attention_factor == 1.0
    torch.testing.assert_close(freq, want_freq, rtol=1e-14, atol=0)

    q = torch.randn(1, heads, length, head_dim, dtype=torch.float64)
    k = torch.randn(1, heads, length, head_dim, dtype=torch.float64)
    pos = torch.arange(length)
    ntk = RoPE(head_dim, heads, BASE, Scaling(type="ntk", factor=factor, original_length=32))
    rebased = RoPE(head_dim, heads, new_base)
    got, want = scores(ntk, q, k, pos, pos), scores(rebased, q, k, pos, pos)
    assert (got - want).abs().max().item() < 1e-10
    # and the closed form agrees with the paper's formula at the new base
    naive = naive_rope(q[0], k[0], pos.tolist(), pos.tolist(), base=new_base)
    assert (got[0] - naive).abs().max().item() < 1e-10
    assert (scores(RoPE(head_dim, heads, BASE), q, k, pos, pos) - got).abs().max().item() > 1e-2


def test_rope_dynamic_below_original_length_is_unscaled():
    torch.manual_seed(6)
    enc = RoPE(16, 2, BASE, Scaling(type="dynamic", factor=4.0, original_length=64))
    plain = RoPE(16, 2, BASE)
    q = torch.randn(1, 2, 64, 16, dtype=torch.float64)
    pos = torch.arange(64)
    torch.testing.assert_close(enc.encode_queries(q, pos), plain.encode_queries(q, pos), rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- PoPE vs PoPE-pytorch


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("delta_kind", DELTA_CASES)
def test_pope_matches_pope_pytorch_float32(seed, delta_kind):
    ref_mod = pytest.importorskip("PoPE_pytorch")
    torch.manual_seed(seed)
    rng = random.Random(seed)
    heads, d = 2, rng.choice([8, 16, 32])
    lk = rng.randint(2, 60)
    lq = rng.randint(1, lk)  # the reference's q are the last lq of the lk positions
    q = torch.randn(2, heads, lq, d)
    k = torch.randn(2, heads, lk, d)
    delta = make_delta(delta_kind, heads, d).float()

    ref = ref_mod.PoPE(d, heads=heads, theta=10000)
    with torch.no_grad():
        ref.bias.copy_(delta)
    rq, rk = ref_mod.apply_pope_to_qk(ref(lk), q, k)

    enc = build_encoding("pope", d, heads)
    set_delta(enc, delta)
    pos = torch.arange(lk)
    got = scores(enc, q, k, pos[lk - lq :], pos)
    want = rq @ rk.transpose(-1, -2)
    assert rq.shape[-1] == 2 * d
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("delta_kind", DELTA_CASES)
@pytest.mark.parametrize("offset", [0, 5000])
def test_pope_matches_pope_pytorch_float64(delta_kind, offset):
    """The reference run entirely in float64 (its default frequency formula, in float64)."""
    ref_mod = pytest.importorskip("PoPE_pytorch")
    torch.manual_seed(21)
    heads, d, lq, lk = 3, 16, 7, 13
    q = torch.randn(1, heads, lq, d, dtype=torch.float64)
    k = torch.randn(1, heads, lk, d, dtype=torch.float64)
    delta = make_delta(delta_kind, heads, d)
    inv = 10000 ** -(torch.arange(d, dtype=torch.float64) / d)  # PoPE_pytorch's default, float64
    ref = ref_mod.PoPE(d, heads=heads, inv_freqs=inv).double()
    with torch.no_grad():
        ref.bias.copy_(delta)
    pos = torch.arange(lk, dtype=torch.float64) + offset
    rq, rk = ref_mod.apply_pope_to_qk(ref(pos), q, k)

    enc = build_encoding("pope", d, heads).double()
    set_delta(enc, delta)
    got = scores(enc, q, k, torch.arange(lk)[lk - lq :] + offset, torch.arange(lk) + offset)
    assert (got - rq @ rk.transpose(-1, -2)).abs().max().item() < 1e-10


# ----------------------------------------------------------------------------- shift invariance


def _encodings(d, heads):
    pope = build_encoding("pope", d, heads, delta_init="uniform").double()
    return {
        "rope": build_encoding("rope", d, heads).double(),
        "rope_linear": RoPE(d, heads, BASE, Scaling(type="linear", factor=4.0, original_length=16)).double(),
        "rope_yarn": RoPE(d, heads, BASE, Scaling(type="yarn", factor=4.0, original_length=16)).double(),
        "pope": pope,
        "pope_yarn": PoPE(d, heads, BASE, "uniform", Scaling(type="yarn", factor=4.0, original_length=16)).double(),
    }


@pytest.mark.parametrize("name", ["rope", "rope_linear", "rope_yarn", "pope", "pope_yarn"])
@pytest.mark.parametrize("shift", [1, 37, 4096, 123_457])
def test_scores_invariant_to_global_position_shift(name, shift):
    torch.manual_seed(7)
    heads, d = 2, 16
    enc = _encodings(d, heads)[name]
    q = torch.randn(2, heads, 9, d, dtype=torch.float64)
    k = torch.randn(2, heads, 11, d, dtype=torch.float64)
    pos_q = torch.randint(0, 50, (9,))
    pos_k = torch.randint(0, 50, (11,))
    base_scores = scores(enc, q, k, pos_q, pos_k)
    shifted = scores(enc, q, k, pos_q + shift, pos_k + shift)
    # tolerance: float64 angle rounding at |pos| ≈ shift (see TOL_AT_1E6)
    assert (base_scores - shifted).abs().max().item() < 1e-12 + 1e-14 * shift
    # …while the encoded vectors themselves do move (the test is not vacuous)
    assert (enc.encode_queries(q, pos_q) - enc.encode_queries(q, pos_q + shift)).abs().max() > 1e-3


# ----------------------------------------------------------------------------- "what" vs "where"


def _score_by_offset(enc, q, k, t, window):
    """Scores of one query at position t against the same key content at t+r, r ∈ window."""
    offsets = torch.arange(-window, window + 1)
    keys = k.expand(1, enc.num_heads, len(offsets), k.shape[-1])
    return offsets, scores(enc, q, keys, torch.tensor([t]), t + offsets)[0, :, 0, :]  # (heads, offsets)


def test_pope_zero_delta_peaks_at_offset_zero_for_any_content():
    torch.manual_seed(8)
    heads, d = 4, 16
    enc = build_encoding("pope", d, heads, delta_init="zero").double()
    for _ in range(25):
        q = 3 * torch.randn(1, heads, 1, d, dtype=torch.float64)
        k = 3 * torch.randn(1, heads, 1, d, dtype=torch.float64)
        offsets, s = _score_by_offset(enc, q, k, t=500, window=64)
        best = offsets[s.argmax(-1)]
        assert (best == 0).all(), best
        # strictly: Σ μ_q μ_k cos(rθ_c) < Σ μ_q μ_k for every integer r ≠ 0 (θ_1 = 1)
        peak = s[:, offsets == 0]
        others = s[:, offsets != 0]
        assert (others < peak - 1e-9).all()
        # and the peak is exactly Σ_c softplus(q_c) softplus(k_c)
        sp = torch.nn.functional.softplus
        torch.testing.assert_close(peak[:, 0], (sp(q) * sp(k)).sum(-1)[0, :, 0], rtol=1e-12, atol=1e-12)


def test_rope_content_moves_the_best_offset():
    """Paper §1: RoPE's phases φ_k − φ_q act as a content-dependent offset. Build q, k whose
    pair phases differ by −r₀θ_c: the best-scoring relative offset becomes r₀, not 0.
    The same content under PoPE (δ = 0) still peaks at offset 0."""
    heads, d, r0 = 1, 16, 5
    half = d // 2
    theta = BASE ** (-torch.arange(half, dtype=torch.float64) * 2 / d)
    q = torch.zeros(1, heads, 1, d, dtype=torch.float64)
    q[..., :half] = 1.0  # every pair at phase 0, magnitude 1
    k = torch.zeros(1, heads, 1, d, dtype=torch.float64)
    k[..., :half] = torch.cos(-r0 * theta)
    k[..., half:] = torch.sin(-r0 * theta)

    offsets, s = _score_by_offset(build_encoding("rope", d, heads).double(), q, k, t=300, window=20)
    assert offsets[s.argmax(-1)].item() == r0
    assert s[0, offsets == r0].item() == pytest.approx(half, abs=1e-12)  # Σ μ_q μ_k
    assert s[0, offsets == 0].item() < half - 0.5  # offset 0 is clearly worse

    offsets, s = _score_by_offset(build_encoding("pope", d, heads).double(), q, k, t=300, window=20)
    assert offsets[s.argmax(-1)].item() == 0


def test_rope_random_content_peaks_away_from_zero_sometimes():
    """Counterpart of the PoPE test: with random content RoPE's argmax is usually not 0."""
    torch.manual_seed(9)
    heads, d = 8, 16
    enc = build_encoding("rope", d, heads).double()
    q = torch.randn(1, heads, 1, d, dtype=torch.float64)
    k = torch.randn(1, heads, 1, d, dtype=torch.float64)
    offsets, s = _score_by_offset(enc, q, k, t=500, window=64)
    assert (offsets[s.argmax(-1)] != 0).sum() >= heads // 2


# ----------------------------------------------------------------------------- δ


def test_delta_is_clamped_in_forward_not_in_storage():
    torch.manual_seed(10)
    heads, d = 2, 8
    enc = build_encoding("pope", d, heads).double()
    raw = torch.tensor([[-20.0, -TWO_PI - 1e-3, -3.0, 0.5, 7.0, -1.0, 0.0, -TWO_PI]] * heads, dtype=torch.float64)
    set_delta(enc, raw)
    clamped = raw.clamp(-TWO_PI, 0.0)
    torch.testing.assert_close(enc.clamped_delta(), clamped, rtol=0, atol=0)

    k = torch.randn(1, heads, 4, d, dtype=torch.float64)
    pos = torch.arange(4)
    keys_raw = enc.encode_keys(k, pos)
    set_delta(enc, clamped)
    keys_clamped = enc.encode_keys(k, pos)
    torch.testing.assert_close(keys_raw, keys_clamped, rtol=0, atol=0)

    set_delta(enc, raw)
    enc.encode_keys(k, pos)
    assert torch.equal(enc.delta.detach(), raw)  # the stored parameter is left as it is

    # outside the range δ gets no gradient (it is a clamp, not a reparametrisation);
    # torch's clamp passes the gradient on the boundary values themselves
    enc.delta.grad = None
    enc.encode_keys(k, pos).sum().backward()
    inside = (raw >= -TWO_PI) & (raw <= 0)
    assert (enc.delta.grad[~inside] == 0).all()
    assert (enc.delta.grad[inside] != 0).all()


def test_delta_init_uniform_and_zero():
    torch.manual_seed(13)
    enc = build_encoding("pope", 64, 16, delta_init="uniform")
    delta = enc.delta.detach()
    assert delta.shape == (16, 64)
    assert (delta > -TWO_PI).all() and (delta < 0).all()
    # really spread over (−2π, 0): mean −π, std 2π/√12 ≈ 1.81
    assert delta.mean().item() == pytest.approx(-math.pi, abs=0.15)
    assert delta.std().item() == pytest.approx(TWO_PI / math.sqrt(12), abs=0.1)
    assert delta.min().item() < -6.0 and delta.max().item() > -0.3

    zero = build_encoding("pope", 64, 16, delta_init="zero")
    assert torch.equal(zero.delta.detach(), torch.zeros(16, 64))
    assert torch.equal(build_encoding("pope", 8, 2).delta.detach(), torch.zeros(2, 8))  # default is zero
    assert isinstance(zero.delta, torch.nn.Parameter) and zero.delta.requires_grad

    built = build_encoding("pope", 8, 2, delta_init="uniform")
    assert (built.delta < 0).all() and (built.delta > -TWO_PI).all()


# ----------------------------------------------------------------------------- bad input


def test_rope_odd_head_dim():
    with pytest.raises(BadInput, match="head_dim"):
        RoPE(7, 2, BASE)
    with pytest.raises(BadInput, match="head_dim"):
        build_encoding("rope", 5, 2)


def test_unknown_encoding_name():
    with pytest.raises(BadInput, match=r"'xpe'.*rope"):
        build_encoding("xpe", 8, 2)


def test_unknown_delta_init():
    with pytest.raises(BadInput, match="delta_init"):
        build_encoding("pope", 8, 2, delta_init="foo")
    with pytest.raises(BadInput, match="delta_init"):
        PoPE(8, 2, BASE, "foo")


def test_nope_rejects_scaling():
    with pytest.raises(BadInput, match="nope"):
        build_encoding("nope", 8, 2, scaling=Scaling(type="linear", factor=2.0, original_length=16))


@pytest.mark.parametrize("factor", [1, 1.0, 0.5, 0, -3, "abc", None, float("nan"), float("inf")])
def test_scaling_bad_factor(factor):
    spec = {"type": "yarn"} if factor is None else {"type": "yarn", "factor": factor}
    with pytest.raises(BadInput, match="factor"):
        Scaling.parse(spec, 128)


@pytest.mark.parametrize("kind", ["foo", None, "longrope"])
def test_scaling_unknown_type(kind):
    spec = {"factor": 4} if kind is None else {"type": kind, "factor": 4}
    with pytest.raises(BadInput, match="type"):
        Scaling.parse(spec, 128)


@pytest.mark.parametrize("spec", ["yarn", ["yarn", 4], ("linear", 2), 4.0])
def test_scaling_not_a_mapping(spec):
    with pytest.raises(BadInput, match="rope_scaling"):
        Scaling.parse(spec, 128)


def test_scaling_from_dict_good():
    s = Scaling.parse({"type": "yarn", "factor": 4}, 128)
    assert s == Scaling(type="yarn", factor=4.0, original_length=128)
    s = Scaling.parse({"rope_type": "linear", "factor": "2.5", "original_max_position_embeddings": 64}, 128)
    assert (s.type, s.factor, s.original_length) == ("linear", 2.5, 64)
    assert Scaling.parse(None, 128) is None and Scaling.parse({}, 128) is None
    assert Scaling.parse(s.spec(), 999) == s
