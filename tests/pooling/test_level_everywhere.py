"""``level`` reaches the study rows, the forest plot's text column and the report's tables.

Closed form: a study's own interval at level L is ``exp(log HR +- z SE)`` with
``z = Phi^-1((1 + L) / 2)`` (1.644854 for 90%); tolerance EXACT = 1e-12.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

from survmeta.pooling import pool

REGISTRY = Path(__file__).resolve().parents[2] / "studies.toml"
EXACT = 1e-12


@pytest.fixture(scope="module")
def res90():
    return pool(REGISTRY, question="oligo_vs_systemic", level=0.9)["oligo_vs_systemic"]


def test_study_rows_at_the_level_asked_for(res90):
    e = res90.effects
    z = norm.ppf(0.95)
    np.testing.assert_allclose(e["hr_lower"], np.exp(e["log_hr"] - z * e["se"]), rtol=EXACT)
    np.testing.assert_allclose(e["hr_upper"], np.exp(e["log_hr"] + z * e["se"]), rtol=EXACT)
    res95 = pool(REGISTRY, question="oligo_vs_systemic")["oligo_vs_systemic"]
    assert (res95.effects["hr_upper"] > e["hr_upper"]).all()  # 95% rows are wider
    s = res90.study_summary()
    np.testing.assert_allclose(s["hr_lower"], e["hr_lower"], rtol=EXACT)


def test_forest_text_and_report_table_at_that_level(res90):
    from survmeta.plotting import plot_forest
    from survmeta.plotting._style import fmt_interval
    from survmeta.report.content import estimates_table

    e = res90.effects
    fig = plot_forest(res90)
    texts = [t.get_text() for t in fig.texts]
    assert "HR [90% CI]" in texts
    for h, lo, hi in zip(e["hr"], e["hr_lower"], e["hr_upper"]):
        assert fmt_interval(h, lo, hi) in texts
    table = estimates_table(res90)
    assert list(table["HR [90% CI]"]) == [fmt_interval(h, lo, hi) for h, lo, hi in
                                          zip(e["hr"], e["hr_lower"], e["hr_upper"])]
    hr = res90.stats["hr"]
    assert math.isclose(hr.eti.lower, float(np.exp(res90.exact.quantile("mu", 0.05))), rel_tol=1e-9)
