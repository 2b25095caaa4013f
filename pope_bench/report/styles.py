"""How a model looks in every plot: colour = model family (its encoding), line style and
marker = its eval-time scaling variant, a shade of the family colour per variant — each
fixed by the model's own encoding and scaling label, so a model keeps its look whatever
else is plotted beside it.

So RoPE and its PI / NTK / YaRN variants read as one family of blues that stay apart
from each other (style, marker, shade), and PoPE stands out in orange. The family colour
comes from :func:`family_color`, the one place to take an encoding's declared colour.
"""

from __future__ import annotations

from pope_bench.core.errors import BadInput
from pope_bench.core.scaling import Scaling

#: one (line style, grey) per trivial baseline, in declaration order, none like a model's
#: solid line: ``plot`` and ``figures`` draw baselines with them
BASELINE_STYLES = [((0, (1, 1.5)), "#555555"), ((0, (4, 2)), "#8c8c8c"), ((0, (6, 2, 1, 2)), "#3d3d3d"),
                   ((0, (1, 3)), "#a0a0a0")]
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
#: scaling type → mix with white (> 0) or black (< 0): variants read lighter or darker
#: than their family, never as another family
TYPE_SHADES = {"none": 0.0, "yarn": 0.35, "ntk": -0.35, "linear": 0.5, "dynamic": -0.5}


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


def variant_color(pe: str, scaling) -> str:
    """The family colour of ``pe``, shaded by the scaling variant (its type, nudged by its
    label so ``yarn2`` and ``yarn4`` differ): the same whatever else is drawn."""
    import zlib

    kind = Scaling.type_of(scaling if isinstance(scaling, str) else "none")
    amount = TYPE_SHADES.get(kind, 0.3)
    if kind != "none":
        amount += 0.1 * (zlib.crc32(str(scaling).encode()) % 3 - 1)
    return shade(family_color(pe), amount)


def variant_marks(scaling) -> tuple:
    """(line style, marker) of a scaling variant."""
    return VARIANT_MARKS.get(Scaling.type_of(scaling if isinstance(scaling, str) else "none"), ("--", "x"))


def model_styles(models: list[tuple[str, str, str]]) -> dict[str, dict]:
    """``plot`` keyword arguments (color, linestyle, marker, marker face) per model, from
    (model, pe, scaling label) triples. The unscaled model gets the family colour itself; a
    variant the shade of its scaling type (nudged by its label, so ``yarn2`` and ``yarn4``
    differ); a ``factor: auto`` variant hollow markers. Nothing depends on the other models."""
    styles = {}
    for model, pe, scaling in models:
        linestyle, marker = variant_marks(scaling)
        color = variant_color(pe, scaling)
        styles[model] = {"color": color, "linestyle": linestyle, "marker": marker,
                         "markerfacecolor": "white" if "auto" in str(scaling) else color}
    return styles
