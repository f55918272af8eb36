"""Funnel-plot labels at k = 15-30: every label placed overlaps no other and stays in the axes.

The registries are generated (tests/plotting/synthetic.py: log HRs drawn from a
normal-normal model, long author-year-like labels); the checks are on the drawn boxes.
"""

import itertools

import pytest
import synthetic

from survmeta.plotting import plot_funnel
from survmeta.plotting.funnel import _renderer


@pytest.mark.parametrize("k, seed", [(15, 1), (20, 2), (25, 3), (30, 4)])
def test_funnel_labels_do_not_overlap(k, seed):
    res = synthetic.synthetic_result(k, seed=seed)
    res.effects["label"] = [f"Author{i:02d} et al. 20{10 + i % 15}" for i in range(k)]
    fig = plot_funnel(res)
    ax = fig.axes[0]
    renderer = _renderer(fig)
    labels = [t for t in ax.texts if t.get_gid() == "funnel-label"]
    boxes = [t.get_window_extent(renderer) for t in labels]
    frame = ax.get_window_extent(renderer)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    for b in boxes:
        assert frame.x0 - 3 <= b.x0 and b.x1 <= frame.x1 + 3
        assert frame.y0 - 3 <= b.y0 and b.y1 <= frame.y1 + 3
    # most points keep their label, and the figure says how many were left out
    assert len(labels) >= 0.6 * k
    left_out = k - len(labels)
    foot = [t.get_text() for t in ax.texts if "left out" in t.get_text()]
    assert (foot and f"{left_out} label(s) left out" in foot[0]) if left_out else not foot


def test_funnel_labels_off_above_30():
    res = synthetic.synthetic_result(31, seed=5)
    ax = plot_funnel(res).axes[0]
    assert not [t for t in ax.texts if t.get_gid() == "funnel-label"]


def test_funnel_takes_the_forest_plot_labels():
    res = synthetic.synthetic_result(5, seed=2)
    study = str(res.effects["study"].iloc[0])
    ax = plot_funnel(res, labels={study: "Smith 2019"}).axes[0]
    texts = {t.get_text() for t in ax.texts if t.get_gid() == "funnel-label"}
    assert "Smith 2019" in texts and study not in texts
