"""NoPE: no positional signal at all; causal masking is the only source of order.

The control condition: a_NoPE(t, s) = q_t · k_s.
"""

from pope_bench.encodings.base import PositionalEncoding
from pope_bench.encodings.registry import register_encoding


@register_encoding
class NoPE(PositionalEncoding):
    """Queries and keys pass through unchanged."""

    name, label, color, marker, order = "nope", "NoPE", "#7f7f7f", "x", 5
