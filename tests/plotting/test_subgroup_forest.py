"""Subgroup forest plot: one diamond per subgroup at that subgroup's pooled HR, and the test.

The numbers drawn are checked against :func:`survmeta.subgroups.subgroup_analysis` of the
same rows (itself pinned to metafor in tests/reference/metafor_subgroups.R); the rows are
synthetic by construction (tests/plotting/synthetic.py, endpoint OS or PFS).
"""

import math

import numpy as np
import pytest
import synthetic

from survmeta._format import fmt_pval
from survmeta.errors import SurvmetaError
from survmeta.plotting import plot_subgroup_forest


@pytest.fixture(scope="module")
def res12():
    return synthetic.synthetic_result(12, seed=7)


def _diamonds(fig, gid):
    ax = fig.axes[0]
    return [p for p in ax.patches if p.get_gid() == gid]


def test_one_diamond_per_subgroup_at_its_pooled_hr(res12):
    sub = res12.subgroups(by="endpoint")
    fig = plot_subgroup_forest(res12, analysis=sub)
    diamonds = _diamonds(fig, "subgroup-diamond")
    assert len(diamonds) == len(sub.groups) == 2
    for d, g in zip(diamonds, sub.groups):
        xy = np.asarray(d.get_xy())
        lo, est, hi = xy[0, 0], xy[1, 0], xy[2, 0]
        assert math.isclose(est, g.hr[0], rel_tol=1e-12)
        assert math.isclose(lo, max(g.hr[1], fig.axes[0].get_xlim()[0]), rel_tol=1e-12)
        assert math.isclose(hi, min(g.hr[2], fig.axes[0].get_xlim()[1]), rel_tol=1e-12)
    (overall,) = _diamonds(fig, "pooled-diamond")
    assert math.isclose(np.asarray(overall.get_xy())[1, 0], res12.stats["hr"].median,
                        rel_tol=1e-12)
    text = [t.get_text() for t in fig.texts if t.get_gid() == "subgroup-test"]
    assert text == [f"Test for subgroup differences: Q = {sub.q_between:.2f}, df = {sub.df}, "
                    f"p {fmt_pval(sub.p_between, equal=True)}"]
    # every study drawn once, under its subgroup
    ax = fig.axes[0]
    pts = [c for c in ax.collections if c.get_gid() == "study-point"]
    assert len(pts) == len(res12.effects)


def test_one_subgroup_is_an_error():
    res = synthetic.synthetic_result(2, seed=1)  # rows 0 and 1: PFS and OS -> take one endpoint
    res.effects["endpoint"] = "OS"
    with pytest.raises(SurvmetaError, match="only one subgroup"):
        plot_subgroup_forest(res)
