"""Causal multi-head attention through ``scaled_dot_product_attention``, for any encoding.

Never builds an L×L score matrix: the causal structure is passed as ``is_causal`` (or a
lower-right ``CausalBias`` when new queries follow cached keys), so torch picks its fused
kernels (flash / memory-efficient on CUDA, flash on CPU).

Those fused kernels need q, k and v of one width. PoPE's q' and k' are 2d wide while v
stays d wide; given that mix, torch silently falls back to the math path that materialises
the scores (measured here: 3.3× the memory, 0.24× the speed at 4k). So v is zero-padded to
the q/k width and the padding is sliced off the output: exact, since the extra output
channels are softmax-weighted sums of zeros.

Encodings that add a bias to the scores (ALiBi, FIRE: ``score_bias``) go through the same
kernel with the bias as ``attn_mask``, one block of queries at a time, so that only a
block × L slice of the bias exists at once (memory linear in L for a fixed block budget).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.attention.bias import causal_lower_right

from pope_bench.encodings import build_encoding
from pope_bench.models.native.configuration import PopeBenchConfig

# Floats of score bias alive at once per batch row: 2^20 (4 MiB in float32).
BIAS_BUDGET = 2**20


def causal_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    scale: float,
    padding_mask: torch.Tensor | None = None,
    dropout: float = 0.0,
) -> torch.Tensor:
    """softmax(q kᵀ · scale + causal) v for q: (B, H, Lq, Dqk), k: (B, H, Lk, Dqk),
    v: (B, H, Lk, Dv), where the Lq queries are the last Lq of the Lk positions.

    ``padding_mask`` (B, Lk) marks real tokens with 1; it is only for short, padded
    batches (it makes an explicit Lq×Lk boolean mask).
    """
    q_len, k_len, v_width = q.shape[-2], k.shape[-2], v.shape[-1]
    if v_width != q.shape[-1]:
        v = F.pad(v, (0, q.shape[-1] - v_width))
    mask, is_causal = None, False
    if padding_mask is not None and not bool(padding_mask.all()):
        causal = torch.ones(q_len, k_len, dtype=torch.bool, device=q.device).tril(k_len - q_len)
        mask = causal & padding_mask[:, None, None, :].bool()
    elif q_len == k_len:
        is_causal = True
    elif q_len > 1:
        mask = causal_lower_right(q_len, k_len)
    out = F.scaled_dot_product_attention(
        q, k, v, attn_mask=mask, is_causal=is_causal, scale=scale, dropout_p=dropout
    )
    return out[..., :v_width]


def biased_causal_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    scale: float,
    encoding,
    q_positions: torch.Tensor,
    padding_mask: torch.Tensor | None = None,
    dropout: float = 0.0,
) -> torch.Tensor:
    """softmax(q kᵀ · scale + b + causal) v with b = ``encoding.score_bias``, computed for
    blocks of queries whose bias slice fits ``BIAS_BUDGET``. Keys sit at the positions just
    before and up to the last query's (the cache holds the keys of the earlier positions);
    a block only reads the keys up to its last query, since the later ones are masked."""
    q_len, k_len = q.shape[-2], k.shape[-2]
    k_positions = q_positions[..., -1:] - (k_len - 1) + torch.arange(k_len, device=q_positions.device)
    block = max(1, BIAS_BUDGET // (k_len * encoding.bias_cost))
    outputs = []
    for start in range(0, q_len, block):
        end = min(start + block, q_len)
        rows = q_positions[..., start:end]
        keys = k_len - (q_len - end) if q_positions.dim() == 1 else k_len  # 1-D positions: consecutive
        bias = encoding.score_bias(rows, k_positions[..., :keys])
        allowed = rows[..., :, None] >= k_positions[..., None, :keys]  # (..., rows, keys)
        if padding_mask is not None:
            allowed = allowed & padding_mask[:, None, :keys].bool()
        mask = torch.where(allowed.unsqueeze(-3), bias.to(q.dtype), float("-inf"))
        if mask.dim() == 3:  # (heads, rows, keys): torch's fused CPU kernel only takes a 4-D mask
            mask = mask.unsqueeze(0)
        outputs.append(F.scaled_dot_product_attention(
            q[..., start:end, :], k[..., :keys, :], v[..., :keys, :], attn_mask=mask, scale=scale, dropout_p=dropout
        ))
    return torch.cat(outputs, dim=-2)


class Attention(nn.Module):
    def __init__(self, config: PopeBenchConfig, layer_idx: int):
        super().__init__()
        self.layer_idx = layer_idx
        self.num_heads = config.num_attention_heads
        self.head_dim = config.head_dim
        self.dropout = config.dropout
        width = config.hidden_size
        self.qkv = nn.Linear(width, 3 * width, bias=False)
        self.out = nn.Linear(width, width, bias=False)
        self.encoding = build_encoding(
            config.pe, self.head_dim, self.num_heads, config.scaling(), **config.encoding_fields().model_dump()
        )

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, x, positions, cache=None, padding_mask=None):
        q, k, v = (self.split_heads(t) for t in self.qkv(x).chunk(3, dim=-1))
        q, k = self.encoding(q, k, positions)
        if cache is not None:
            # The cache holds *encoded* keys (PoPE: the 2d-wide k'); a key's encoding
            # depends only on its own position, so it never needs recomputing.
            k, v = cache.update(k, v, self.layer_idx)
        dropout = self.dropout if self.training else 0.0
        scale = self.encoding.softmax_scale
        if self.encoding.additive_bias:
            y = biased_causal_attention(q, k, v, scale, self.encoding, positions, padding_mask, dropout)
        else:
            y = causal_attention(q, k, v, scale, padding_mask, dropout)
        batch, _, length, _ = y.shape
        return self.out(y.transpose(1, 2).reshape(batch, length, -1))
