"""Small-study-effect tests against metafor 3.8-1 on dat.bcg and dat.hackshaw1998.

Every number comes from ``tests/reference/metafor_smallstudy.R``; its printed output,
committed as ``tests/reference/metafor_smallstudy.Rout``, holds them as ``REF`` lines
(17 significant digits) beside metafor's own printout, and the data as ``DATA`` lines.
The R calls, on ``r <- rma(yi, vi)`` (REML) unless said otherwise::

    regtest(r)                    # "Test for Funnel Plot Asymmetry: z = ..., p = ..."
    regtest(r, model = "lm")      # "... t = ..., df = ..., p = ..."
    ranktest(r)                   # "Kendall's tau = ..., p = ..."
    trimfill(r, estimator = "L0") # "Estimated number of missing studies on the ... side"
    trimfill(r, estimator = "R0"); trimfill(r, side = "left"); trimfill(r, side = "right")

metafor prints 4 decimals; the tests compare at half a unit in that place
(``PRINTED``), closed-form quantities (weighted least squares, Kendall's tau and
its p-value, ranks) at ``TIGHT``.
"""

import numpy as np
import pytest

from _exact_data import bcg_log_rr
from _rref import rdata, rref
from survmeta.errors import SurvmetaError
from survmeta.exact import ranktest, regtest, small_study_tests, trimfill

R = rref("metafor_smallstudy")
D = rdata("metafor_smallstudy")
PRINTED = 5e-5  # metafor prints 4 decimals; its REML Fisher scoring stops at a 1e-5 change
TIGHT = 1e-10   # closed form: rounding only
DATASETS = ("bcg", "hackshaw")


def _data(name):
    return np.array(D[f"{name}.yi"]), np.sqrt(D[f"{name}.vi"])


def test_bcg_data_are_the_shared_ones():
    yi, vi = bcg_log_rr()
    assert np.allclose(D["bcg.yi"], yi, rtol=1e-14) and np.allclose(D["bcg.vi"], vi, rtol=1e-14)


@pytest.mark.parametrize("name", DATASETS)
def test_regtest_rma_matches_metafor(name):
    """``regtest(rma(yi, vi))``: bcg prints z = -0.8033, p = 0.4218, b = -0.5104
    (CI: -1.1182, 0.0974); hackshaw z = 2.1055, p = 0.0352, b = 0.0216 (CI: -0.1774, 0.2207)."""
    r = regtest(*_data(name))
    pre = f"{name}.regtest.rma."
    assert (r.model, r.predictor, r.method, r.test, r.df) == ("rma", "sei", "REML", "z", None)
    assert r.statistic == pytest.approx(R[pre + "zval"], abs=PRINTED)
    assert r.pval == pytest.approx(R[pre + "pval"], abs=PRINTED)
    assert r.estimate == pytest.approx(R[pre + "est"], abs=PRINTED)
    assert (r.ci_lower, r.ci_upper) == pytest.approx((R[pre + "ci.lb"], R[pre + "ci.ub"]), abs=PRINTED)
    assert r.tau2 == pytest.approx(R[pre + "tau2"], abs=PRINTED)


@pytest.mark.parametrize("name", DATASETS)
def test_regtest_lm_matches_metafor(name):
    """``regtest(r, model = "lm")``: bcg t = -1.4013, df = 11, p = 0.1887; hackshaw
    t = 2.3824, df = 35, p = 0.0228, b = 0.0050 (CI: -0.1694, 0.1794)."""
    r = regtest(*_data(name), model="lm")
    pre = f"{name}.regtest.lm."
    assert (r.test, r.df, r.method, r.tau2) == ("t", int(R[pre + "dfs"]), None, None)
    for got, key in ((r.statistic, "zval"), (r.pval, "pval"), (r.estimate, "est"),
                     (r.ci_lower, "ci.lb"), (r.ci_upper, "ci.ub")):
        assert got == pytest.approx(R[pre + key], abs=TIGHT)


@pytest.mark.parametrize(("method", "predictor", "key"), [
    ("DL", "sei", "DL"), ("ML", "sei", "ML"), ("ML", "vi", "ML.vi")])
def test_regtest_other_estimators_and_predictor(method, predictor, key):
    """``regtest(rma(yi, vi, method = "DL"))``, ``... "ML"`` and ``regtest(., predictor = "vi")``
    on hackshaw (DL is closed form)."""
    r = regtest(*_data("hackshaw"), method=method, predictor=predictor)
    pre = f"hackshaw.regtest.rma.{key}."
    tol = TIGHT if method == "DL" else PRINTED
    assert r.statistic == pytest.approx(R[pre + "zval"], abs=tol)
    assert r.estimate == pytest.approx(R[pre + "est"], abs=tol)
    assert r.tau2 == pytest.approx(R[pre + "tau2"], abs=tol)
    assert (r.ci_lower, r.ci_upper) == pytest.approx((R[pre + "ci.lb"], R[pre + "ci.ub"]), abs=tol)


def test_regtest_knha_matches_metafor():
    """``regtest(rma(yi, vi, test = "knha"))`` on hackshaw: t = 2.2640, df = 35, p = 0.0299,
    b = 0.0216 (CI: -0.1701, 0.2133)."""
    r = regtest(*_data("hackshaw"), test="knha")
    pre = "hackshaw.regtest.rma.knha."
    assert r.test == "t" and r.df == int(R[pre + "dfs"]) == 35
    for got, key in ((r.statistic, "zval"), (r.pval, "pval"), (r.estimate, "est"),
                     (r.ci_lower, "ci.lb"), (r.ci_upper, "ci.ub"), (r.tau2, "tau2")):
        assert got == pytest.approx(R[pre + key], abs=PRINTED)


@pytest.mark.parametrize("name", DATASETS)
def test_ranktest_exact_matches_metafor(name):
    """``ranktest(r)``: bcg Kendall's tau = 0.0256, p = 0.9524; hackshaw tau = 0.1441,
    p = 0.2157 (exact: no ties)."""
    r = ranktest(*_data(name))
    assert r.exact
    assert r.tau == pytest.approx(R[f"{name}.ranktest.tau"], abs=TIGHT)
    assert r.pval == pytest.approx(R[f"{name}.ranktest.pval"], abs=TIGHT)


def test_ranktest_with_ties_uses_the_normal_approximation():
    """``ranktest(dat.hackshaw1998$yi, round(dat.hackshaw1998$vi, 2))``: cor.test warns
    "Cannot compute exact p-value with ties"; tau = 0.1607, p = 0.1685."""
    r = ranktest(np.array(D["hackshaw.yi"]), np.sqrt(D["ties.vi"]))
    assert not r.exact
    assert r.tau == pytest.approx(R["ties.ranktest.tau"], abs=TIGHT)
    assert r.pval == pytest.approx(R["ties.ranktest.pval"], abs=TIGHT)


CASES = [(name, key, kw) for name in DATASETS for key, kw in (
    ("L0", {}), ("R0", {"estimator": "R0"}), ("L0.left", {"side": "left"}),
    ("L0.right", {"side": "right"}))]


@pytest.mark.parametrize(("name", "key", "kw"), CASES)
def test_trimfill_matches_metafor(name, key, kw):
    """``trimfill(r, ...)``: bcg L0 fills 1 study on the right (SE = 2.4528), estimate
    -0.6571 (CI -1.0070 to -0.3072); hackshaw fills 7 on the left (SE = 4.0399),
    estimate 0.1745, tau^2 0.0245; R0 gives SE sqrt(2 k0 + 2)."""
    t = trimfill(*_data(name), **kw)
    pre = f"{name}.trimfill.{key}."
    assert t.estimator == kw.get("estimator", "L0")
    assert t.side == ("right" if R[pre + "right"] else "left")
    assert t.side_given == ("side" in kw)
    assert t.k0 == int(R[pre + "k0"])
    assert t.fit.k == int(R[pre + "k"]) == t.k + t.k0
    assert t.k0_se == pytest.approx(R[pre + "se.k0"], abs=TIGHT)
    assert len(t.filled_y) == len(t.filled_sigma) == t.k0
    if t.k0:
        assert t.filled_y == pytest.approx(D[pre + "fill"], abs=PRINTED)
    for got, ref in ((t.fit.estimate, "b"), (t.fit.se, "se"), (t.fit.stat, "zval"),
                     (t.fit.pval, "pval"), (t.fit.ci_lower, "ci.lb"), (t.fit.ci_upper, "ci.ub"),
                     (t.fit.tau2, "tau2")):
        assert got == pytest.approx(R[pre + ref], abs=PRINTED)


def test_trimfill_filled_studies_mirror_the_most_extreme():
    """The filled SEs are those of the reflected studies (the largest estimates, hackshaw)."""
    y, s = _data("hackshaw")
    t = trimfill(y, s)
    top = np.argsort(y, kind="stable")[-t.k0:]
    assert sorted(t.filled_sigma) == pytest.approx(sorted(s[top]), rel=1e-14)
    assert t.to_dict()["fit"]["k"] == 44


def test_policy_refuses_below_ten_studies():
    y, s = _data("hackshaw")
    out = small_study_tests(y[:9], s[:9])
    assert not out.ran and out.regtest is out.ranktest is out.trimfill is None
    assert "k = 9 < 10" in out.reason and "low power" in out.reason
    forced = small_study_tests(y[:9], s[:9], force=True)
    assert forced.ran and forced.reason is None and "low power" in forced.caveat
    assert forced.regtest.k == forced.ranktest.k == forced.trimfill.k == 9
    two = small_study_tests(y[:2], s[:2], force=True)
    assert not two.ran and "at least three" in two.reason and two.regtest is None


def test_policy_runs_from_ten_studies():
    y, s = _data("bcg")
    out = small_study_tests(y, s)
    assert out.ran and out.caveat is None and out.reason is None
    assert out.regtest.statistic == pytest.approx(R["bcg.regtest.rma.zval"], abs=PRINTED)
    assert out.ranktest.pval == pytest.approx(R["bcg.ranktest.pval"], abs=TIGHT)
    assert out.trimfill.k0 == 1
    assert out.to_dict()["trimfill"]["side"] == "right"


@pytest.mark.parametrize(("call", "message"), [
    (lambda y, s: regtest(y, s, model="glm"), "unknown model"),
    (lambda y, s: regtest(y, s, predictor="ni"), "unknown predictor"),
    (lambda y, s: regtest(y, s, method="XX"), "unknown method"),
    (lambda y, s: regtest(y[:2], s[:2]), "at least three"),
    (lambda y, s: regtest(y, np.ones_like(s)), "not all equal"),
    (lambda y, s: ranktest(y[:2], s[:2]), "at least three"),
    (lambda y, s: trimfill(y, s, estimator="Q0"), "unknown estimator"),
    (lambda y, s: trimfill(y, s, side="up"), "unknown side"),
    (lambda y, s: trimfill(y[:1], s[:1]), "at least two"),
    (lambda y, s: regtest(y, -s), "positive"),
])
def test_invalid_arguments(call, message):
    y, s = _data("bcg")
    with pytest.raises(SurvmetaError, match=message):
        call(y, s)
