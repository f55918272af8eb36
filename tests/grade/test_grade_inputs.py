"""GRADE inputs (:func:`survmeta.grade.grade_inputs`) on dat.bcg and on small made-up tables.

The heterogeneity and small-study numbers are metafor 3.8-1's, read from the committed
reference outputs: ``tests/reference/metafor_bcg.Rout`` (``res <- rma(yi, vi, data = dat,
method = "REML")``: I^2 = 92.22%, printed "I^2 (total heterogeneity / total variability):
92.22%") and ``tests/reference/metafor_smallstudy.Rout`` (``regtest(r)``: z = -0.8033,
p = 0.4218; ``ranktest(r)``: Kendall's tau = 0.0256, p = 0.9524). Shares of weight and
event totals are closed forms of the effect table's ``weight`` column.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survmeta.grade import OIS_EVENTS, OIS_RULE, grade_inputs
from survmeta.pooling import pool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exact"))
from _exact_data import BCG_CPOS, BCG_TPOS, bcg_log_rr  # noqa: E402
from _rref import rref  # noqa: E402

BCG = rref("metafor_bcg")
SMALL = rref("metafor_smallstudy")
PRINTED = 5e-5  # metafor prints 4 decimals
I2_TOL = 1e-4   # I^2 in percent from survmeta.exact.rma (REML), pinned to metafor there
TIGHT = 1e-12   # closed forms of the effect table


@pytest.fixture(scope="module")
def bcg():
    yi, vi = bcg_log_rr()
    frame = pd.DataFrame({"study": [f"trial{i + 1}" for i in range(yi.size)], "log_hr": yi,
                          "se": np.sqrt(vi), "question": "bcg",
                          "events": BCG_TPOS + BCG_CPOS})
    return pool(frame)["bcg"]


def test_bcg_inconsistency_and_small_study_tests_are_metafors(bcg):
    g = grade_inputs(bcg)
    assert g.k == 13 and g.basis == "pooled"
    assert g.i2 == pytest.approx(BCG["bcg.REML.I2"], abs=I2_TOL)
    tau = bcg.stats["tau"]
    assert (g.tau, g.tau_lower, g.tau_upper) == (tau.median, *tau.eti.as_tuple())
    pr = bcg.stats["predict_hr"].eti.as_tuple()
    assert (g.predict_lower, g.predict_upper) == tuple(pr)
    assert g.prediction_crosses_1 is (pr[0] < 1 < pr[1])
    s = g.small_study
    assert s is not None and s.ran and s.caveat is None
    assert s.regtest.statistic == pytest.approx(SMALL["bcg.regtest.rma.zval"], abs=PRINTED)
    assert s.regtest.pval == pytest.approx(SMALL["bcg.regtest.rma.pval"], abs=PRINTED)
    assert s.ranktest.pval == pytest.approx(SMALL["bcg.ranktest.pval"], abs=PRINTED)
    assert "Egger p = 0.4218; Begg p = 0.9524" in g.publication_bias_text()


def test_bcg_imprecision_events_and_threshold(bcg):
    g = grade_inputs(bcg, threshold=0.6)
    hr = bcg.stats["hr"]
    assert (g.hr, g.hr_lower, g.hr_upper) == (hr.median, *hr.eti.as_tuple())
    assert g.interval_crosses_1 is False
    assert g.interval_crosses_threshold is (hr.eti.lower < 0.6 < hr.eti.upper)
    assert g.events == int(BCG_TPOS.sum() + BCG_CPOS.sum()) and g.events_not_reported == 0
    assert g.events_below_ois is False and g.ois_events == OIS_EVENTS == 300
    assert "300 events" in OIS_RULE and "does not cross HR 1" in g.imprecision_text()
    assert g.rob_high_weight is None and g.risk_of_bias_text() == "not recorded"
    assert g.approximate_weight == 0 and g.rating is None and g.rating_text() == "not rated"


def _table(**extra):
    base = {"study": ["a", "b", "c", "d"], "log_hr": [-0.4, -0.1, -0.6, 0.1],
            "se": [0.2, 0.3, 0.25, 0.4], "question": "q"}
    return pool(pd.DataFrame({**base, **extra}))["q"]


def test_weight_shares_are_sums_of_the_effect_table_weights():
    r = _table(approximate=[True, False, True, False],
               rob_overall=["High", "low", "Serious", None], events=[40, 55, np.nan, 30])
    g = grade_inputs(r)
    w = r.effects["weight"].to_numpy(float)
    assert g.approximate_weight == pytest.approx(100 * (w[0] + w[2]) / w.sum(), abs=TIGHT)
    assert g.approximate_k == 2
    assert g.rob_high_weight == pytest.approx(100 * (w[0] + w[2]) / w.sum(), abs=TIGHT)
    assert g.rob_not_assessed == 1 and "1 of 4 comparisons not assessed" in g.risk_of_bias_text()
    # 125 events reported, one comparison without: below 300 cannot be told
    assert (g.events, g.events_not_reported, g.events_below_ois) == (125, 1, None)
    assert "125 events (1 of 4 comparisons not reported); cannot tell" in g.events_text()
    assert "not assessable, k < 10 (k = 4)" == g.publication_bias_text()


def test_events_not_reported_and_forced_tests():
    r = _table()
    g = grade_inputs(r, force=True)
    assert g.events is None and g.events_not_reported == 4
    assert g.events_text().startswith("events not reported")
    assert g.small_study.ran and g.small_study.caveat is not None
    assert "forced with k < 10" in g.publication_bias_text()
    assert math.isclose(g.approximate_weight, 0.0)


def test_one_study_has_no_heterogeneity_to_assess():
    r = pool(pd.DataFrame({"study": ["a"], "log_hr": [-0.3], "se": [0.2], "question": "q",
                           "events": [301]}))["q"]
    g = grade_inputs(r)
    assert g.basis == "one study" and g.i2 is None and g.small_study is None
    z = 1.959963984540054
    assert (g.hr_lower, g.hr_upper) == pytest.approx((math.exp(-0.3 - z * 0.2),
                                                      math.exp(-0.3 + z * 0.2)), rel=1e-9)
    assert g.inconsistency_text() == "not assessable, one study"
    assert g.events_below_ois is False


def test_bad_threshold_is_refused(bcg):
    with pytest.raises(ValueError, match="positive HR"):
        grade_inputs(bcg, threshold=0)


def test_registry_rating_events_and_note_reach_the_inputs(registry_path):
    from survmeta.registry import check

    assert [p for p in check(registry_path) if p.severity == "error"] == []
    ps = pool(registry_path)
    g = grade_inputs(ps["oligo"])
    assert g.events == 30 + 50 + 95 and g.events_not_reported == 0 and g.events_below_ois is True
    assert g.rating == "low" and g.reasons == ("risk of bias: retrospective cohorts", "imprecision")
    assert g.indirectness == "oligo-progression <= 3 or <= 5 lesions"
    assert dict(g.domains())["Indirectness"] == g.indirectness
    sof = ps.summary_of_findings().set_index("question")
    assert sof.loc["oligo", "certainty"] == "low" and sof.loc["other", "certainty"] == "not rated"
    other = grade_inputs(ps["other"])
    assert other.events is None and other.rating is None
