"""Baujat plot: the plotted points are the coordinates :func:`baujat` computes."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from survmeta.exact import baujat
from survmeta.plotting import plot_baujat

Y = np.array([-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01, -0.47, -1.37])
SE = np.array([0.57, 0.44, 0.64, 0.14, 0.23, 0.06, 0.46, 0.04, 0.24, 0.27])
LABELS = [f"S{i}" for i in range(1, 11)]


def _points(fig):
    (coll,) = [c for ax in fig.axes for c in ax.collections if c.get_gid() == "baujat-points"]
    return coll.get_offsets()


@pytest.mark.parametrize("method", ["FE", "REML"])
def test_plotted_points_are_the_computed_coordinates(method):
    b = baujat(Y, SE, method=method, labels=LABELS)
    fig = plot_baujat(b)
    pts = np.asarray(_points(fig))
    np.testing.assert_array_equal(pts[:, 0], b.x)
    np.testing.assert_array_equal(pts[:, 1], b.y)
    texts = [t.get_text() for t in fig.findobj(Text)]
    assert all(lab in texts for lab in LABELS)
    xlabel = fig.axes[0].get_xlabel()
    assert xlabel == ("Contribution to overall heterogeneity" if method == "FE"
                      else "Squared Pearson residual")


def test_draws_into_given_axes_without_labels():
    fig = Figure()
    ax = fig.add_subplot()
    out = plot_baujat(baujat(Y, SE), ax=ax, label_points=False, title="BCG")
    assert out is fig
    assert ax.get_title() == "BCG" or "BCG" in [t.get_text() for t in fig.findobj(Text)]
    assert not any(t.get_text().startswith("S") for t in ax.texts)
