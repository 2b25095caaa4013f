"""How a model looks in every plot: colour = model family (its encoding), line style and
marker = its eval-time scaling variant, a shade of the family colour per variant.

So RoPE and its PI / NTK / YaRN variants read as one family of blues that stay apart
from each other (style, marker, shade), and PoPE stands out in orange. The family colour
comes from :func:`family_color`, the one place to take an encoding's declared colour.
"""

from __future__ import annotations

from pope_bench.core.errors import BadInput
from pope_bench.core.scaling import Scaling

#: line styles in order, for anything that needs "the next style" (training runs, sizes)
SCALING_STYLES = ["-", "--", ":", "-."]
#: scaling type → (line style, marker); "none" is the unscaled model
VARIANT_MARKS = {
    "none": ("-", "o"),
    "yarn": ("--", "D"),
    "ntk": ("-.", "^"),
    "linear": (":", "s"),
    "dynamic": ((0, (5, 1, 1, 1)), "v"),
}
#: mix with white (> 0) or black (< 0) for the k-th variant of a family, k = 0, 1, ...
SHADES = [0.0, -0.35, 0.35, -0.55, 0.55, 0.7]


def family_color(pe: str) -> str:
    """The colour the encoding class declares; grey for a family no encoding registers
    (a hub model's learned absolute positions)."""
    from pope_bench.encodings import appearance

    try:
        return appearance(pe).color
    except BadInput:
        return "#7f7f7f"


def shade(color: str, amount: float) -> str:
    """``color`` mixed with white (amount > 0) or black (amount < 0)."""
    from matplotlib.colors import to_hex, to_rgb

    target = 1.0 if amount > 0 else 0.0
    return to_hex([c + (target - c) * abs(amount) for c in to_rgb(color)])


def model_styles(models: list[tuple[str, str, str]]) -> dict[str, dict]:
    """``plot`` keyword arguments (color, linestyle, marker) per model, from
    (model, pe, scaling label) triples: the unscaled model of a family gets the family
    colour itself, its variants the next shades in the order given."""
    seen: dict[str, int] = {}
    styles = {}
    for model, pe, scaling in models:
        k = seen.get(pe, 0) if scaling != "none" else 0
        if scaling != "none":
            seen[pe] = k + 1
            k += 1
        linestyle, marker = VARIANT_MARKS.get(Scaling.type_of(scaling), ("--", "x"))
        styles[model] = {"color": shade(family_color(pe), SHADES[k % len(SHADES)]), "linestyle": linestyle,
                         "marker": marker}
    return styles
