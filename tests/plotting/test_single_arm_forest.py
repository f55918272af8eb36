"""Single-arm forest plots: what is drawn sits at the numbers of the result and of R.

Study intervals of the proportion plot are checked against R's exact binomial intervals,
``binom.test(x, n, conf.level = level)$conf.int`` (tests/reference/stats_binomtest.Rout,
R 4.2.2) and scipy.stats.beta; pooled diamonds and prediction bars against the result
objects of :func:`survmeta.exact.pool_proportions` and :func:`survmeta.exact.pool_medians`.
The data are illustrative (not from a publication).
"""

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.text import Text
from scipy import stats

from survmeta.exact import pool_medians, pool_proportions
from survmeta.plotting import plot_median_forest, plot_proportion_forest, save_figure
from survmeta.plotting.single_arm import clopper_pearson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exact"))
from _rref import rref  # noqa: E402

R_PRINTED = 1e-12   # binom.test's limits printed to 17 digits; both solve the same beta quantile
DRAWN = 1e-9        # coordinates stored by matplotlib as given, float round-off only

LABELS = ["A", "B", "C", "D", "E", "F"]
EVENTS = [52, 22, 0, 9, 30, 13]
N = [63, 40, 13, 20, 41, 13]

MED_LABELS = ["M1", "M2", "M3 (NR)", "M4", "M5"]
MED = [3.0, 2.1, "NR", 4.5, 2.8]
MED_LO = [2.1, 1.5, 8.1, 3.0, 1.9]
MED_HI = [4.5, 3.3, "NR", "NR", 4.0]
MED_N = [40, 25, 18, 30, 60]


@pytest.fixture(scope="module")
def props():
    return pool_proportions(EVENTS, N, labels=LABELS, companions=False)


@pytest.fixture(scope="module")
def meds():
    return pool_medians(MED, MED_LO, MED_HI, n=MED_N, labels=MED_LABELS)


def by_gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


def diamond_x(ax):
    (poly,) = [p for p in ax.patches if isinstance(p, Polygon) and p.get_gid() == "pooled-diamond"]
    xy = poly.get_xy()
    return xy[0, 0], xy[1, 0], xy[2, 0], xy[1, 1], xy[3, 1]


def study_lines(ax):
    """{row: (x0, x1)} of the study CI lines."""
    out = {}
    for line in by_gid(ax, "study-ci"):
        x, y = line.get_xdata(), line.get_ydata()
        out[int(round(y[0]))] = (float(min(x)), float(max(x)))
    return out


def assert_no_overlap(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(r)) for t in fig.findobj(Text)
             if t.get_text().strip() and t.get_visible()]
    W, H = canvas.get_width_height()
    for s, b in boxes:
        assert b.x0 >= -1 and b.y0 >= -1 and b.x1 <= W + 1 and b.y1 <= H + 1, f"{s!r} is clipped"
    for (s1, b1), (s2, b2) in itertools.combinations(boxes, 2):
        ov_x = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
        ov_y = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
        assert not (ov_x > 1 and ov_y > 1), f"{s1!r} overlaps {s2!r}"


@pytest.mark.parametrize("level", [0.95, 0.90])
def test_clopper_pearson_matches_binom_test(level):
    """R: ``binom.test(x, n, conf.level = level)$conf.int`` for each row."""
    ref = rref("stats_binomtest")
    lo, hi = clopper_pearson(EVENTS, N, level)
    for i, s in enumerate(LABELS):
        key = f"cp{round(100 * level)}.{s}"
        assert lo[i] == pytest.approx(ref[f"{key}.lower"], abs=R_PRINTED)
        assert hi[i] == pytest.approx(ref[f"{key}.upper"], abs=R_PRINTED)


@pytest.mark.parametrize("level", [0.95, 0.90])
def test_study_lines_at_clopper_pearson_limits(props, level):
    fig = plot_proportion_forest(props, level=level)
    ax = fig.axes[0]
    lines = study_lines(ax)
    a = 1 - level
    for i, (x, n) in enumerate(zip(EVENTS, N)):
        lo = stats.beta.ppf(a / 2, x, n - x + 1) if x > 0 else 0.0
        hi = stats.beta.ppf(1 - a / 2, x + 1, n - x) if x < n else 1.0
        assert lines[i] == pytest.approx((100 * lo, 100 * hi), abs=DRAWN)
    (sq,) = by_gid(ax, "study-squares")
    offs = sq.get_offsets()
    assert np.allclose(offs[:, 0], 100 * np.array(EVENTS) / np.array(N), atol=DRAWN)
    sizes = np.asarray(sq.get_sizes())  # area proportional to n
    assert np.allclose(sizes / sizes.max(), np.array(N) / max(N))
    lvl = f"{100 * level:.0f}%"
    assert any(f"Clopper-Pearson) {lvl} CI" in t.get_text() for t in fig.findobj(Text))


def test_proportion_diamond_and_prediction_interval(props):
    fig = plot_proportion_forest(props)
    ax = fig.axes[0]
    left, centre, right, y_low, y_high = diamond_x(ax)
    assert left == pytest.approx(100 * props.proportion_ci[0], abs=DRAWN)
    assert centre == pytest.approx(100 * props.proportion, abs=DRAWN)
    assert right == pytest.approx(100 * props.proportion_ci[1], abs=DRAWN)
    bar = by_gid(ax, "prediction-interval")
    xs = np.concatenate([b.get_xdata() for b in bar])
    assert min(xs) == pytest.approx(100 * props.proportion_pi[0], abs=DRAWN)
    assert max(xs) == pytest.approx(100 * props.proportion_pi[1], abs=DRAWN)
    x0, x1 = ax.get_xlim()
    drawn = [v for line in ax.lines for v in line.get_xdata()] + [left, right]
    assert 0 <= x0 <= min(drawn) and max(drawn) <= x1 <= 100
    texts = [t.get_text() for t in fig.findobj(Text)]
    assert f"{sum(EVENTS)}/{sum(N)}" in texts
    assert "binomial-normal" in " ".join(texts) and "logit" in " ".join(texts)
    assert_no_overlap(fig)


def test_single_zero_of_thirteen_row(tmp_path):
    res = pool_proportions([0], [13], labels=["Only series"], companions=False)
    fig = res.plot()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    lines = study_lines(ax)
    assert lines[0] == pytest.approx((0.0, 100 * stats.beta.ppf(0.975, 1, 13)), abs=DRAWN)
    left, centre, right, _, _ = diamond_x(ax)
    assert (left, centre, right) == pytest.approx(
        (100 * res.proportion_ci[0], 100 * res.proportion, 100 * res.proportion_ci[1]), abs=DRAWN)
    assert ax.get_xlim()[0] == 0.0 and ax.get_xlim()[1] >= right
    assert "0/13" in [t.get_text() for t in fig.findobj(Text)]
    assert_no_overlap(fig)
    assert save_figure(fig, tmp_path / "one.png").stat().st_size > 0


def test_median_diamond_bounds_and_limits(meds, tmp_path):
    fig = plot_median_forest(meds, title="Median PFS")
    ax = fig.axes[0]
    lm = meds.log_median
    left, centre, right, _, _ = diamond_x(ax)
    assert (left, centre, right) == pytest.approx((lm.lower, lm.median, lm.upper), abs=DRAWN)
    xs = np.concatenate([b.get_xdata() for b in by_gid(ax, "prediction-interval")])
    assert (min(xs), max(xs)) == pytest.approx((lm.pi_lower, lm.pi_upper), abs=DRAWN)
    lines = study_lines(ax)
    x0, x1 = ax.get_xlim()
    assert lines[0] == pytest.approx((2.1, 4.5), abs=DRAWN)
    assert lines[1] == pytest.approx((1.5, 3.3), abs=DRAWN)
    assert lines[4] == pytest.approx((1.9, 4.0), abs=DRAWN)
    assert lines[3] == pytest.approx((3.0, x1), abs=DRAWN)  # upper limit NR: to the edge
    # the median not reached: a bound from its lower limit to the right edge, no square
    (bound,) = by_gid(ax, "nr-bound")
    assert list(bound.get_ydata()) == [2, 2]
    assert list(bound.get_xdata()) == pytest.approx([8.1, x1], abs=DRAWN)
    arrows = [a for a in by_gid(ax, "arrow-right") if a.get_ydata()[0] == 2]
    assert len(arrows) == 1
    (sq,) = by_gid(ax, "study-squares")
    assert sorted(sq.get_offsets()[:, 1]) == [0, 1, 3, 4]
    texts = [t.get_text() for t in fig.findobj(Text)]
    assert "NR [8.1, NR]" in texts
    assert any(t.startswith("Excluded: M3 (NR), median not reached (> 8.1") for t in texts)
    assert x0 == 0.0 and max(8.1, lm.upper, lm.pi_upper, 4.5) < x1
    assert_no_overlap(fig)
    save_figure(fig, tmp_path / "medians.png")


def test_median_log_axis_and_method(meds):
    fig = meds.plot(log=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    lm = meds.log_median
    left, centre, right, _, _ = diamond_x(ax)
    assert (left, centre, right) == pytest.approx((lm.lower, lm.median, lm.upper), abs=DRAWN)
    x0, x1 = ax.get_xlim()
    assert x0 <= min(MED_LO) and x1 >= 8.1
    assert_no_overlap(fig)


def test_single_median():
    res = pool_medians([3.2], [2.0], [5.1], labels=["Only"])
    fig = plot_median_forest(res)
    ax = fig.axes[0]
    assert study_lines(ax)[0] == pytest.approx((2.0, 5.1), abs=DRAWN)
    left, centre, right, _, _ = diamond_x(ax)
    lm = res.log_median
    assert (left, centre, right) == pytest.approx((lm.lower, lm.median, lm.upper), abs=DRAWN)
    assert_no_overlap(fig)


def test_draws_into_a_given_axes(props, meds):
    fig = Figure(figsize=(8, 6))
    ax1, ax2 = fig.subplots(2, 1)
    assert plot_proportion_forest(props, ax=ax1) is fig
    assert plot_median_forest(meds, ax=ax2) is fig
    assert diamond_x(ax1)[1] == pytest.approx(100 * props.proportion, abs=DRAWN)
    assert [t.get_text() for t in ax1.get_yticklabels()][:len(LABELS)] == LABELS


def test_labels_mapping_and_length(props):
    fig = plot_proportion_forest(props, labels={"A": "Heo 2021"})
    assert "Heo 2021" in [t.get_text() for t in fig.findobj(Text)]
    with pytest.raises(ValueError, match="labels"):
        plot_proportion_forest(props, labels=["x"])


def test_medians_without_a_pooled_estimate():
    """No study with a usable interval: studies drawn, no diamond, every study listed as excluded."""
    res = pool_medians([3.0, "NR", 5.0], [None, None, None], [None, "NR", None],
                       labels=["a", "b", "c"])
    assert res.log_median is None
    fig = plot_median_forest(res)
    ax = fig.axes[0]
    assert not [p for p in ax.patches if p.get_gid() == "pooled-diamond"]
    assert study_lines(ax) == {}  # no interval was printed
    (bound,) = by_gid(ax, "nr-bound")
    assert list(bound.get_xdata()) == pytest.approx([0.0, ax.get_xlim()[1]])
    (sq,) = by_gid(ax, "study-squares")
    assert sorted(sq.get_offsets()[:, 0]) == [3.0, 5.0]
    assert ax.get_xlim()[1] > 5.0
    texts = [t.get_text() for t in fig.findobj(Text)]
    assert "3 (no CI)" in texts and "NR" in texts
    assert sum(t.startswith("Excluded: ") for t in texts) == 3
    assert_no_overlap(fig)


def test_proportions_with_no_events():
    res = pool_proportions([0, 0, 0], [13, 20, 8], companions=False)
    fig = plot_proportion_forest(res)
    ax = fig.axes[0]
    lines = study_lines(ax)
    for i, n in enumerate([13, 20, 8]):
        assert lines[i] == pytest.approx((0.0, 100 * stats.beta.ppf(0.975, 1, n)), abs=DRAWN)
    assert diamond_x(ax)[1] == pytest.approx(100 * res.proportion, abs=DRAWN)
    assert ax.get_xlim()[0] == 0.0
    assert_no_overlap(fig)
