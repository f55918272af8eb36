"""Bubble plot: circles at the data, areas by weight, the line and band from the fit."""

import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exact"))
from _exact_data import BCG_ABLAT, BCG_YEAR, bcg_log_rr  # noqa: E402

from survmeta.errors import SurvmetaError  # noqa: E402
from survmeta.exact import rma_mods  # noqa: E402
from survmeta.plotting import figure_bytes, plot_bubble  # noqa: E402


def _gid(fig, gid):
    return [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]


@pytest.mark.parametrize("test", ["z", "knha"])
def test_points_sizes_line_and_band(test):
    y, v = bcg_log_rr()
    s = np.sqrt(v)
    fit = rma_mods(y, s, BCG_ABLAT, names=["ablat"], test=test)
    fig = plot_bubble(y, s, BCG_ABLAT, fit, labels=[str(i) for i in range(13)])
    (pts,) = _gid(fig, "bubble-points")
    np.testing.assert_allclose(pts.get_offsets(), np.column_stack([BCG_ABLAT, np.exp(y)]))
    w = 1 / (v + fit.tau2)
    np.testing.assert_allclose(pts.get_sizes(), 600 * w / w.max())
    (line,) = _gid(fig, "bubble-line")
    xs, ys = line.get_data()
    b0, b1 = (c.estimate for c in fit.coefficients)
    np.testing.assert_allclose(ys, np.exp(b0 + b1 * np.asarray(xs)))
    assert xs[0] == BCG_ABLAT.min() and xs[-1] == BCG_ABLAT.max()
    (band,) = _gid(fig, "bubble-band")
    assert band.get_paths()
    assert fig.axes[0].get_yscale() == "log" and fig.axes[0].get_xlabel() == "ablat"
    assert figure_bytes(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_needs_one_moderator():
    y, v = bcg_log_rr()
    fit = rma_mods(y, np.sqrt(v), {"ablat": BCG_ABLAT, "year": BCG_YEAR})
    with pytest.raises(SurvmetaError, match="one moderator"):
        plot_bubble(y, np.sqrt(v), BCG_ABLAT, fit)


def test_draws_into_given_axes():
    y, v = bcg_log_rr()
    fit = rma_mods(y, np.sqrt(v), BCG_ABLAT, names=["ablat"])
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_bubble(y, np.sqrt(v), BCG_ABLAT, fit, ax=ax, xlabel="Absolute latitude") is fig
    assert ax.get_xlabel() == "Absolute latitude"
