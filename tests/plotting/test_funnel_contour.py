"""Contour-enhanced funnel plot: the shaded significance bands, the log HR axis, the points."""

import math

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from survmeta.errors import SurvmetaError
from survmeta.plotting import plot_funnel_contour

Y = np.log([0.55, 0.7, 0.8, 0.62, 0.95, 1.1, 0.75, 0.5, 0.85, 0.68, 0.9])
SE = np.array([0.30, 0.12, 0.08, 0.22, 0.15, 0.28, 0.10, 0.35, 0.18, 0.25, 0.05])


def _bands(ax):
    return {c.get_gid(): c for c in ax.collections
            if isinstance(c, PolyCollection) and str(c.get_gid()).startswith("funnel-contour-")}


def _polys(ax, gid):
    return [c for c in ax.collections if c.get_gid() == gid]


def test_three_shaded_bands_on_both_sides_and_a_log_hr_axis():
    fig = plot_funnel_contour(Y, SE)
    ax = fig.axes[0]
    assert sorted(_bands(ax)) == ["funnel-contour-p0.01", "funnel-contour-p0.05",
                                  "funnel-contour-p0.10"]
    for gid in _bands(ax):
        assert len(_polys(ax, gid)) == 2  # one region each side of HR = 1
    assert ax.get_xscale() == "log"
    assert "Hazard ratio" in ax.get_xlabel() and "log scale" in ax.get_xlabel()
    lo, hi = ax.get_ylim()
    assert lo > hi == 0  # SE axis inverted, 0 at the top
    pts = np.concatenate([c.get_offsets() for c in ax.collections if c.get_gid() == "funnel-points"])
    assert np.allclose(np.sort(pts[:, 0]), np.sort(np.exp(Y)))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "p < 0.01" in labels and any("p < 0.10" in t for t in labels)


@pytest.mark.parametrize(("gid", "z_inner"), [("funnel-contour-p0.10", 1.6448536269514722),
                                              ("funnel-contour-p0.05", 1.959963984540054),
                                              ("funnel-contour-p0.01", 2.5758293035489004)])
def test_bands_start_at_their_critical_values(gid, z_inner):
    """At the largest SE, each band's inner edge is HR = exp(+/- z SE), around HR = 1."""
    fig = plot_funnel_contour(Y, SE)
    ax = fig.axes[0]
    se_max = ax.get_ylim()[0]
    for poly in _polys(ax, gid):
        xy = poly.get_paths()[0].vertices
        at_max = xy[np.isclose(xy[:, 1], se_max)]
        inner = at_max[np.argmin(np.abs(np.log(at_max[:, 0])))]
        assert abs(math.log(inner[0])) == pytest.approx(z_inner * se_max, rel=1e-9)


def test_pooled_line_and_few_study_note():
    fig = plot_funnel_contour(Y[:5], SE[:5], pooled=math.log(0.7))
    ax = fig.axes[0]
    assert any(np.allclose(line.get_xdata(), 0.7) for line in ax.lines)
    assert any("too few studies" in t.get_text() for t in ax.texts)


def test_from_a_pooled_result(result30):
    fig = plot_funnel_contour(result30)
    ax = fig.axes[0]
    assert len(_bands(ax)) == 3
    mu = float(result30.stats["mu"].median)
    assert any(np.allclose(line.get_xdata(), math.exp(mu)) for line in ax.lines)


def test_bad_input():
    with pytest.raises(SurvmetaError, match="equal length"):
        plot_funnel_contour(Y, SE[:3])
    with pytest.raises(SurvmetaError, match="pooled result"):
        plot_funnel_contour(Y)
