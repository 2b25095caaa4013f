"""ALiBi, FIRE and xPos against their papers' formulas in float64, and the block-wise
biased attention path against a naive L×L softmax."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from transformers.cache_utils import DynamicCache

from pope_bench import PopeBenchConfig, PopeBenchForCausalLM
from pope_bench.encodings import build_encoding
from pope_bench.encodings.alibi import alibi_slopes
from pope_bench.models.native import attention

NEW = ("alibi", "fire", "xpos")


def naive_biased_attention(q, k, v, scale, bias):
    """float64 softmax(q kᵀ·scale + bias + causal) v; the Lq queries are the last Lq keys."""
    lq, lk = q.shape[-2], k.shape[-2]
    s = q @ k.transpose(-1, -2) * scale + bias
    allowed = torch.ones(lq, lk, dtype=torch.bool).tril(lk - lq)
    return s.masked_fill(~allowed, -math.inf).softmax(-1) @ v


# ----------------------------------------------------------------------------- ALiBi


def test_alibi_slopes_are_the_papers():
    """Press et al. §3: 8 heads → 1/2, 1/4, …, 1/256; other powers of two start at
    2^(−8/n); otherwise the power below, then every other slope of the power above."""
    assert alibi_slopes(8) == [2.0**-i for i in range(1, 9)]
    assert alibi_slopes(4) == pytest.approx([2.0**-2, 2.0**-4, 2.0**-6, 2.0**-8])
    assert alibi_slopes(16) == pytest.approx([2.0 ** (-i / 2) for i in range(1, 17)])
    assert alibi_slopes(6) == pytest.approx([2.0**-2, 2.0**-4, 2.0**-6, 2.0**-8, 2.0**-1, 2.0**-3])


def test_alibi_bias_is_minus_slope_times_distance():
    enc = build_encoding("alibi", 8, 4)
    pos = torch.arange(9, dtype=torch.float64)
    bias = enc.score_bias(pos, pos)
    slopes = alibi_slopes(4)
    for h in range(4):
        for t in range(9):
            for s in range(t + 1):
                assert bias[h, t, s].item() == pytest.approx(-slopes[h] * (t - s), abs=1e-12)


# ----------------------------------------------------------------------------- FIRE


class ReferenceFIRE(nn.Module):
    """The FIRE module of Li et al. (2023), Appendix (reference PyTorch code), as printed."""

    def __init__(self, num_heads=12, mlp_width=32, init_c=0.1, init_L=512.0, eps=1e-6):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(1, mlp_width), nn.ReLU(), nn.Linear(mlp_width, num_heads))
        self.c = nn.Parameter(torch.tensor(init_c))
        self.init_L = nn.Parameter(torch.tensor(init_L), requires_grad=False)
        self.L_multiplier = nn.Parameter(torch.tensor(1.0))
        self.eps = eps

    def forward(self, seq_length):
        positions = torch.arange(seq_length, dtype=torch.float64)
        rel_distance = positions[:, None] - positions[None, :]
        threshold = torch.abs(self.L_multiplier * self.init_L)
        pos_normalizer = torch.max(positions, threshold)
        pos_normalizer = pos_normalizer[:, None]
        rel_distance = torch.log(torch.abs(self.c * rel_distance) + 1)
        pos_normalizer = torch.log(torch.abs(self.c * pos_normalizer) + 1) + self.eps
        normalized_distance = rel_distance / pos_normalizer
        fire_bias = self.mlp(normalized_distance.unsqueeze(-1))
        return fire_bias.unsqueeze(0).permute(0, 3, 1, 2)


@pytest.mark.parametrize("init_L", [512.0, 6.0])  # 6: the normaliser grows inside the window
def test_fire_bias_equals_reference_code(init_L):
    torch.manual_seed(0)
    heads, width, length = 3, 16, 20
    enc = build_encoding("fire", 8, heads, fire_mlp_width=width, fire_init_L=init_L).double()
    ref = ReferenceFIRE(heads, width, init_c=0.1, init_L=init_L).double()
    with torch.no_grad():
        enc.c.fill_(0.37)  # trained-looking values, not the init
        enc.L_multiplier.fill_(1.3)
        ref.c.fill_(0.37)
        ref.L_multiplier.fill_(1.3)
        ref.mlp[0].weight.copy_(enc.w1[:, None])
        ref.mlp[0].bias.copy_(enc.b1)
        ref.mlp[2].weight.copy_(enc.w2)
        ref.mlp[2].bias.copy_(enc.b2)
        pos = torch.arange(length)
        got = enc.score_bias(pos, pos)
        want = ref(length)[0]
    causal = torch.ones(length, length, dtype=torch.bool).tril()
    torch.testing.assert_close(got[:, causal], want[:, causal], rtol=0, atol=1e-12)


def test_fire_gradients_equal_the_reference_mlps():
    """The piecewise-linear evaluation of f_θ has the MLP's gradients, for every parameter."""
    torch.manual_seed(3)
    heads, width, length = 2, 8, 16
    enc = build_encoding("fire", 8, heads, fire_mlp_width=width, fire_init_L=6.0).double()
    ref = ReferenceFIRE(heads, width, init_L=6.0).double()
    with torch.no_grad():
        ref.mlp[0].weight.copy_(enc.w1[:, None])
        ref.mlp[0].bias.copy_(enc.b1)
        ref.mlp[2].weight.copy_(enc.w2)
        ref.mlp[2].bias.copy_(enc.b2)
    weights = torch.randn(heads, length, length, dtype=torch.float64).tril()
    pos = torch.arange(length)
    (enc.score_bias(pos, pos) * weights).sum().backward()
    (ref(length)[0] * weights).sum().backward()
    pairs = [(enc.w1, ref.mlp[0].weight.grad[:, 0]), (enc.b1, ref.mlp[0].bias.grad), (enc.w2, ref.mlp[2].weight.grad),
             (enc.b2, ref.mlp[2].bias.grad), (enc.c, ref.c.grad), (enc.L_multiplier, ref.L_multiplier.grad)]
    for mine, grad in pairs:
        torch.testing.assert_close(mine.grad, grad, rtol=1e-9, atol=1e-12)


def test_fire_normalised_distance_stays_in_unit_interval_at_any_length():
    """Progressive interpolation: ψ(t − s)/ψ(max(L, t)) ∈ [0, 1] for s ≤ t however long."""
    enc = build_encoding("fire", 8, 2, fire_init_L=16.0).double()
    pos = torch.arange(0, 20_000, 97)
    x = enc.normalized_distance(pos, pos, torch.float64)[0]
    causal = pos[:, None] >= pos[None, :]
    assert x[causal].min() >= 0 and x[causal].max() <= 1
    assert x[-1, 0].item() == pytest.approx(1.0, abs=1e-4)  # the farthest key of the last query


def test_fire_learns_its_bias():
    model = tiny("fire")
    ids = torch.randint(0, 50, (2, 12))
    model(ids, labels=ids).loss.backward()
    enc = model.model.layers[0].attn.encoding
    for name in ("c", "L_multiplier", "w1", "b1", "w2", "b2"):
        assert getattr(enc, name).grad is not None, name
    assert enc.w2.grad.abs().sum() > 0 and enc.c.grad.abs() > 0


# ----------------------------------------------------------------------------- xPos


def naive_xpos(q, k, pos_q, pos_k, base=10_000.0, scale_base=512.0, gamma=0.4):
    """Sun et al. §3.1 in polar form: RoPE's pair-c term times ζ_c^((t − s)/γ_B),
    ζ_c = (2c/d + γ)/(1 + γ), pair c = (x_c, x_{c+d/2}). Plain python floats."""
    heads, lq, d = q.shape
    half = d // 2
    out = torch.zeros(heads, lq, k.shape[1], dtype=torch.float64)
    for h in range(heads):
        for i, t in enumerate(pos_q):
            for j, s in enumerate(pos_k):
                total = 0.0
                for c in range(half):
                    qa, qb = q[h, i, c].item(), q[h, i, c + half].item()
                    ka, kb = k[h, j, c].item(), k[h, j, c + half].item()
                    theta = base ** (-2 * c / d)
                    zeta = (2 * c / d + gamma) / (1 + gamma)
                    total += zeta ** ((t - s) / scale_base) * math.hypot(qa, qb) * math.hypot(ka, kb) * math.cos(
                        (s - t) * theta + math.atan2(kb, ka) - math.atan2(qb, qa))
                out[h, i, j] = total
    return out


def test_xpos_scores_equal_the_papers_formula():
    torch.manual_seed(1)
    d, heads = 8, 2
    enc = build_encoding("xpos", d, heads).double()
    q, k = torch.randn(heads, 5, d, dtype=torch.float64), torch.randn(heads, 6, d, dtype=torch.float64)
    pos_q, pos_k = [3, 700, 701, 2000, 4095], [0, 3, 650, 700, 1999, 4095]
    got = enc.encode_queries(q, torch.tensor(pos_q)) @ enc.encode_keys(k, torch.tensor(pos_k)).transpose(-1, -2)
    torch.testing.assert_close(got, naive_xpos(q, k, pos_q, pos_k), rtol=1e-9, atol=1e-9)


def test_xpos_decays_with_distance_and_depends_only_on_it():
    """One channel pair (d = 2): xPos's score is RoPE's times ζ_0^((t − s)/512), ζ_0 = 0.4/1.4."""
    xpos, rope = build_encoding("xpos", 2, 1).double(), build_encoding("rope", 2, 1).double()
    q, k = torch.tensor([[[0.3, -1.2]]], dtype=torch.float64), torch.tensor([[[0.8, 0.5]]], dtype=torch.float64)

    def score(enc, t, s):
        return (enc.encode_queries(q, torch.tensor([t])) @ enc.encode_keys(k, torch.tensor([s])).mT).item()

    assert score(xpos, 1000, 1000) == pytest.approx(score(xpos, 9000, 9000), rel=1e-9)
    assert score(xpos, 3000, 1000) == pytest.approx(score(rope, 3000, 1000) * (0.4 / 1.4) ** (2000 / 512), rel=1e-9)
    assert score(xpos, 9000, 1000) == pytest.approx(score(rope, 9000, 1000) * (0.4 / 1.4) ** (8000 / 512), rel=1e-9)


# ----------------------------------------------------------------------------- biased attention


@pytest.mark.parametrize("pe", ["alibi", "fire"])
@pytest.mark.parametrize("lq,lk", [(23, 23), (4, 23), (1, 23)])
@pytest.mark.parametrize("budget", [2**22, 70])  # 70: blocks of one or two queries
def test_blockwise_biased_attention_equals_naive(pe, lq, lk, budget, monkeypatch):
    monkeypatch.setattr(attention, "BIAS_BUDGET", budget)
    torch.manual_seed(2)
    enc = build_encoding(pe, 8, 3, **({"fire_init_L": 8.0} if pe == "fire" else {})).double()
    q = torch.randn(2, 3, lq, 8, dtype=torch.float64)
    k, v = torch.randn(2, 3, lk, 8, dtype=torch.float64), torch.randn(2, 3, lk, 8, dtype=torch.float64)
    q_pos = torch.arange(lk - lq, lk) + 5  # the window starts at position 5
    got = attention.biased_causal_attention(q, k, v, 8**-0.5, enc, q_pos)
    bias = enc.score_bias(q_pos, torch.arange(lk) + 5)
    torch.testing.assert_close(got, naive_biased_attention(q, k, v, 8**-0.5, bias), rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- models


def tiny(pe: str, seed: int = 0, **fields) -> PopeBenchForCausalLM:
    torch.manual_seed(seed)
    config = PopeBenchConfig(pe=pe, vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                             train_length=8, initializer_range=0.3, **fields)
    return PopeBenchForCausalLM(config).eval()


@pytest.mark.parametrize("pe", NEW)
def test_chunked_forward_through_cache_equals_full_forward(pe):
    model = tiny(pe, **({"fire_init_L": 4.0} if pe == "fire" else {}))
    ids = torch.randint(0, 50, (2, 12), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        full = model(ids, use_cache=False).logits
        prefix = model(ids[:, :6], use_cache=False).logits
        cache, parts, start = DynamicCache(config=model.config), [], 0
        for size in (5, 1, 6):
            parts.append(model(ids[:, start : start + size], cache=cache, use_cache=True).logits)
            start += size
    torch.testing.assert_close(torch.cat(parts, dim=1), full, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(prefix, full[:, :6], rtol=1e-5, atol=1e-5)  # causal


@pytest.mark.parametrize("pe", NEW)
def test_padding_mask_matches_unpadded_rows(pe):
    model = tiny(pe, seed=7)
    ids = torch.randint(0, 50, (2, 10), generator=torch.Generator().manual_seed(8))
    mask = torch.ones(2, 10, dtype=torch.long)
    mask[1, 6:] = 0
    with torch.no_grad():
        batched = model(ids, attention_mask=mask).logits
        alone = model(ids[1:, :6]).logits
    assert not torch.isnan(batched).any()
    torch.testing.assert_close(batched[1:, :6], alone, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("pe", NEW)
def test_save_pretrained_round_trip(pe, tmp_path):
    model = tiny(pe, **({"fire_mlp_width": 8} if pe == "fire" else {}))
    if pe == "fire":
        with torch.no_grad():
            model.model.layers[1].attn.encoding.c.fill_(0.25)
    model.save_pretrained(tmp_path)
    back = PopeBenchForCausalLM.from_pretrained(tmp_path).eval()
    ids = torch.randint(0, 50, (1, 9))
    with torch.no_grad():
        torch.testing.assert_close(back(ids).logits, model(ids).logits, rtol=0, atol=0)
    assert back.config.to_dict().get("fire_mlp_width") == (8 if pe == "fire" else None)
