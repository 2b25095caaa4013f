"""NoPE: no positional signal at all; causal masking is the only source of order.

The control condition: a_NoPE(t, s) = q_t · k_s.
"""

from .base import PositionalEncoding


class NoPE(PositionalEncoding):
    """Queries and keys pass through unchanged."""
