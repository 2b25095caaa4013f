"""Writing a figure as PNG + SVG with the same bytes every time for the same rows.

matplotlib stamps SVGs with the date and derives element ids from a random salt, so
regenerating an unchanged figure used to rewrite every tracked SVG. Here the date is
dropped and the salt fixed; PNGs carry no date already.
"""

from __future__ import annotations

from pathlib import Path

#: any fixed string: it seeds the SVG element ids (clip paths, glyphs)
SVG_HASH_SALT = "pope-bench"


def save_figure(fig, out: Path, name: str, dpi: int = 150) -> list[Path]:
    """``out/name.png`` and ``out/name.svg``; closes the figure."""
    import matplotlib
    import matplotlib.pyplot as plt

    paths = [Path(out) / f"{name}.png", Path(out) / f"{name}.svg"]
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT}):
        fig.savefig(paths[0], dpi=dpi)
        fig.savefig(paths[1], metadata={"Date": None})
    plt.close(fig)
    return paths
