"""What makes a run's plot readable: family colours with distinct variants, a curve far
above the rest kept off the y-range, error bands from the rows' stderr."""

import math

import pandas as pd
from matplotlib.colors import to_rgb

from pope_bench.report.plots import curve_points, off_scale
from pope_bench.report.styles import family_color, model_styles


def test_variants_share_the_family_hue_but_not_the_look():
    styles = model_styles([("rope", "rope", "none"), ("pope", "pope", "none"), ("pi", "rope", "linear4"),
                           ("yarn", "rope", "yarn4"), ("yarn-auto", "rope", "yarn-auto")])
    assert styles["rope"]["color"] == family_color("rope") and styles["pope"]["color"] == family_color("pope")
    looks = {(s["color"], str(s["linestyle"]), s["marker"], s["markerfacecolor"]) for s in styles.values()}
    assert len(looks) == 5
    for name in ("pi", "yarn", "yarn-auto"):  # a shade of blue: blue stays the largest channel
        r, g, b = to_rgb(styles[name]["color"])
        assert b > r and b > g
    assert styles["yarn"]["linestyle"] == styles["yarn-auto"]["linestyle"] != styles["pi"]["linestyle"]


def test_a_model_keeps_its_look_whatever_else_is_plotted():
    alone = model_styles([("yarn", "rope", "yarn4")])["yarn"]
    crowded = model_styles([("plugin", "xpos", "none"), ("ntk", "rope", "ntk4"), ("yarn", "rope", "yarn4")])["yarn"]
    assert alone == crowded


def curve(values, stderr=None):
    return pd.DataFrame({"length": range(len(values)), "mean": values, "stderr": stderr or [0.0] * len(values)})


def test_only_a_curve_wholly_far_above_the_rest_goes_off_scale():
    assert off_scale({"pi": curve([23.7, 24.8]), "rope": curve([3.0, 5.5]), "pope": curve([3.0, 3.2])}) == {"pi"}
    # diverging at long lengths is the story, not an outlier
    assert off_scale({"rope": curve([3.0, 50.0]), "pope": curve([3.0, 3.2])}) == set()
    assert off_scale({"only": curve([20.0, 30.0])}) == set()


def test_seeds_combine_their_stderr_as_independent_estimates():
    rows = pd.DataFrame({"length": [64, 64], "value": [0.5, 0.7], "stderr": [0.03, 0.04], "clusters": [None] * 2,
                         "n": [100] * 2, "stderr_method": ["binomial"] * 2})
    point = curve_points(rows).iloc[0]
    assert math.isclose(point["mean"], 0.6) and math.isclose(point["stderr"], 0.025)
    # rows without a stderr get no band: a spread over seeds is another kind of ±
    no_stderr = rows.assign(stderr=[None, None])
    assert math.isnan(curve_points(no_stderr).iloc[0]["stderr"])
    # a 95 % interval on 4 windows is Student's t with 3 degrees of freedom: 3.182 × the stderr
    few = pd.DataFrame({"length": [64], "value": [3.0], "stderr": [0.1], "clusters": [4], "n": [4096],
                        "stderr_method": ["window_clustered"]})
    assert math.isclose(curve_points(few, "ci95").iloc[0]["stderr"], 0.3182, rel_tol=1e-9)


def test_baseline_rows_become_reference_lines_in_the_requested_legend_order(tmp_path):
    from pope_bench.report.declared_metrics import TaskMetrics
    from pope_bench.report.plots import plot_task
    from pope_bench.sweep.rows import COLUMNS
    from pope_bench.tasks.base import proportion

    rows = [{"model": model, "pe": pe, "scaling": "none", "train_length": 64, "task": "idx", "metric": metric,
             "length": length, "value": value, "stderr": 0.01, "seed": 0, "status": "ok"}
            for model, pe in (("rope-x", "rope"), ("pope-x", "pope"))
            for length in (64, 128, 256)
            for metric, value in (("accuracy", 0.4 if pe == "pope" else 0.3), ("baseline_majority", 0.05))]
    frame = pd.DataFrame(rows, columns=COLUMNS).assign(series=lambda f: f["model"])
    declared = TaskMetrics({m.name: m for m in (proportion("accuracy", main=True),
                                                proportion("baseline_majority", baseline="always the majority letter"))})
    png, svg = plot_task(frame, "idx", tmp_path, title="An indexing task", models=["rope-x", "pope-x"],
                         metrics=declared)
    text = svg.read_text()
    assert "<!-- baseline: always the majority letter -->" in text and "<!-- train length -->" in text
    assert "accuracy (%)" in text and "±1 standard error" in text
    assert text.index("<!-- rope-x -->") < text.index("<!-- pope-x -->")
