"""Pooled median survival (survmeta.exact.medians) against R and closed forms.

Reference: tests/reference/metafor_medians.Rout (metafor 3.8-1, Hmisc 4.8-0) on the
illustrative medians written out below (months; not from a publication).
"""

import math

import numpy as np
import pytest
from scipy import stats

from _rref import rref
from survmeta.errors import SurvmetaError
from survmeta.exact import bayesmeta
from survmeta.exact.medians import median_of_medians, pool_medians

STORED = 1e-6    # metafor's REML iteration stops at a 1e-5 change: compare at 1e-6
EXACT = 1e-12    # closed forms and sample quantiles, rounding only
QUAD = 1e-6      # the exact engine's quadrature against a closed form
THRESHOLD = 1e-5  # metafor's REML stops when tau^2 changes by less than 1e-5 (absolute)

# the studies of metafor_medians.R, with D (median not reached) added
LABELS = ["A", "B", "C", "D", "E", "F", "G", "H"]
MED = [3.0, 2.5, 4.1, "NR", 2.0, 5.3, 3.6, 1.9]
LO = [2.1, 1.8, 2.9, 8.1, 1.5, 3.0, 2.2, 1.2]
HI = [4.2, 3.9, "NR", "NR", 2.8, 9.0, 6.3, 3.1]
N = [40, 25, 60, 30, 22, 50, 35, 18]


@pytest.fixture(scope="module")
def ref():
    return rref("metafor_medians")


@pytest.fixture(scope="module")
def pooled():
    return pool_medians(MED, LO, HI, n=N, labels=LABELS)


def test_se_from_ci_two_and_one_sided(pooled, ref):
    """R: ``sei <- (log(hi) - log(lo)) / (2 * qnorm(0.975))``, and
    ``(log(med) - log(lo)) / qnorm(0.975)`` for C (upper limit NR)."""
    by = {s.label: s for s in pooled.studies}
    assert by["A"].se == pytest.approx(ref["med.data.sei.A"], rel=EXACT)
    assert by["C"].se == pytest.approx(ref["med.data.sei.C"], rel=EXACT)
    assert by["C"].one_sided and not by["A"].one_sided
    assert any("C" in note and "one half" in note for note in pooled.notes)


def test_not_reached_is_excluded_and_reported(pooled):
    d = {s.label: s for s in pooled.studies}["D"]
    assert not d.included and d.median is None
    assert pooled.excluded == ("D: excluded: median not reached (> 8.1 months)",)
    assert pooled.log_median.k == 7 and pooled.mm.k == 7 and pooled.wm.k == 7


def test_frequentist_matches_metafor(pooled, ref):
    """R: ``rma(yi = log(med), sei = sei, method = "REML")`` and
    ``predict(r, transf = exp)``: 2.9450 (2.2537 to 3.8483), PI 1.5658 to 5.5391."""
    lm = pooled.log_median
    f = lm.frequentist
    assert f.estimate == pytest.approx(ref["med.REML.b"], rel=STORED)
    assert f.se == pytest.approx(ref["med.REML.se"], rel=STORED)
    assert f.tau2 == pytest.approx(ref["med.REML.tau2"], abs=THRESHOLD)
    assert lm.freq_median == pytest.approx(ref["med.REML.exp.pred"], rel=STORED)
    assert (lm.freq_lower, lm.freq_upper) == pytest.approx(
        (ref["med.REML.exp.ci.lb"], ref["med.REML.exp.ci.ub"]), rel=STORED)
    assert (lm.freq_pi_lower, lm.freq_pi_upper) == pytest.approx(
        (ref["med.REML.exp.pi.lb"], ref["med.REML.exp.pi.ub"]), rel=STORED)


@pytest.mark.parametrize("method", ["DL", "EE"])
def test_other_estimators_match_metafor(method, ref):
    """R: ``rma(yi, sei = sei, method = "DL")`` / ``"EE"`` with ``predict(transf = exp)``."""
    lm = pool_medians(MED, LO, HI, labels=LABELS, method=method).log_median
    assert lm.freq_median == pytest.approx(ref[f"med.{method}.exp.pred"], rel=STORED)
    assert (lm.freq_lower, lm.freq_upper) == pytest.approx(
        (ref[f"med.{method}.exp.ci.lb"], ref[f"med.{method}.exp.ci.ub"]), rel=STORED)
    if method == "EE":
        assert lm.freq_pi_lower is None and lm.freq_pi_upper is None


def test_exact_engine_is_bayesmeta_on_log_medians(pooled):
    """The exact engine's pooled median is exp of bayesmeta's mu on the same (y, se)."""
    inc = [s for s in pooled.studies if s.included]
    post = bayesmeta([s.log_median for s in inc], [s.se for s in inc],
                     tau_prior="halfnormal(0.5)", mu_prior="flat")
    lm = pooled.log_median
    assert lm.median == pytest.approx(math.exp(post.median("mu")), rel=EXACT)
    assert (lm.lower, lm.upper) == pytest.approx(np.exp(post.eti("mu")), rel=EXACT)
    assert (lm.pi_lower, lm.pi_upper) == pytest.approx(np.exp(post.eti("predict")), rel=EXACT)
    assert lm.tau_prior == "halfnormal(0.5)" and lm.mu_prior == "flat"
    assert lm.pi_lower < lm.lower < lm.median < lm.upper < lm.pi_upper


def test_common_effect_closed_form():
    """tau fixed at 0 and a flat mu prior: mu | y is normal with the inverse-variance
    mean and variance 1 / sum(w), so the pooled median and its interval are closed form."""
    med, lo, hi = [2.0, 4.0, 3.0], [1.0, 2.5, 2.0], [4.0, 6.4, 4.5]
    z = stats.norm.ppf(0.975)
    y = np.log(med)
    se = (np.log(hi) - np.log(lo)) / (2 * z)
    w = 1 / se ** 2
    mu, sd = np.sum(w * y) / w.sum(), 1 / math.sqrt(w.sum())
    lm = pool_medians(med, lo, hi, tau_prior="fixed", method="FE").log_median
    assert lm.median == pytest.approx(math.exp(mu), rel=QUAD)
    assert (lm.lower, lm.upper) == pytest.approx((math.exp(mu - z * sd), math.exp(mu + z * sd)),
                                                 rel=QUAD)
    assert lm.freq_median == pytest.approx(math.exp(mu), rel=EXACT)


def test_ci_level_changes_the_se():
    """A 90% study interval: SE = (log(hi) - log(lo)) / (2 * qnorm(0.95))."""
    r = pool_medians([3.0], [2.0], [4.5], ci_level=0.90, tau_prior="fixed")
    assert r.studies[0].se == pytest.approx(math.log(4.5 / 2.0) / (2 * stats.norm.ppf(0.95)),
                                            rel=EXACT)
    assert "90% intervals" in " ".join(r.notes)


@pytest.mark.parametrize("level,tag", [(0.95, "95"), (0.90, "90")])
def test_mm_and_wm_match_r(pooled, ref, level, tag):
    """R (pool.med's formula): ``p <- min(0.5, qnorm(1 - (1 - level)/2) / (2 * sqrt(k)))``;
    MM ``quantile(med, c(0.5 - p, 0.5, 0.5 + p))``; WM
    ``Hmisc::wtd.quantile(med, weights = n, probs = ...)``. 95%: MM 3 (1.9778 to 4.3669),
    WM 3.6 (2 to 5.3)."""
    res = pooled if level == 0.95 else pool_medians(MED, LO, HI, n=N, labels=LABELS, level=level)
    assert (res.mm.method, res.wm.method) == ("MM", "WM")
    assert (res.mm.estimate, res.mm.lower, res.mm.upper) == pytest.approx(
        (ref[f"med.mm{tag}.est"], ref[f"med.mm{tag}.ci.lb"], ref[f"med.mm{tag}.ci.ub"]),
        rel=EXACT)
    assert (res.wm.estimate, res.wm.lower, res.wm.upper) == pytest.approx(
        (ref[f"med.wm{tag}.est"], ref[f"med.wm{tag}.ci.lb"], ref[f"med.wm{tag}.ci.ub"]),
        rel=EXACT)


def test_weighted_quantile_non_integer_weights(ref):
    """R: ``Hmisc::wtd.quantile(med, weights = c(1.5, 2.25, 0.5, 3, 1, 2.5, 0.75),
    probs = c(0.2, 0.5, 0.8))``; here through the 1/2 -+ p quantiles with k chosen so
    p = 0.3 (z / (2 sqrt(k)) = 0.3 at level = 2 Phi(0.6 sqrt(7)) - 1)."""
    med = [3.0, 2.5, 4.1, 2.0, 5.3, 3.6, 1.9]
    w = [1.5, 2.25, 0.5, 3, 1, 2.5, 0.75]
    level = 2 * stats.norm.cdf(0.6 * math.sqrt(7)) - 1
    res = median_of_medians(med, w, level=level)
    assert (res.lower, res.estimate, res.upper) == pytest.approx(
        (ref["med.wq.q20"], ref["med.wq.q50"], ref["med.wq.q80"]), rel=EXACT)


def test_mm_closed_form_and_integer_weights():
    """k = 1: p = min(1/2, 1.96 / 2) = 1/2, every quantile is the one median; integer
    weights give the type 7 quantile of the medians repeated n times."""
    one = median_of_medians([4.2])
    assert (one.estimate, one.lower, one.upper) == (4.2, 4.2, 4.2)
    med, n = [1.0, 2.0, 5.0, 3.0], [3, 1, 2, 4]
    res = median_of_medians(med, n, level=0.8)
    p = min(0.5, stats.norm.ppf(0.9) / (2 * math.sqrt(4)))
    expect = np.quantile(np.repeat(med, n), [0.5 - p, 0.5, 0.5 + p])
    assert (res.lower, res.estimate, res.upper) == pytest.approx(tuple(expect), rel=EXACT)


def test_summary_and_to_dict(pooled):
    s = pooled.summary()
    assert list(s.index) == ["log-median (exact)", "log-median (REML)", "MM", "WM"]
    assert s.loc["MM", "median"] == pooled.mm.estimate
    d = pooled.to_dict()
    assert d["excluded"] == list(pooled.excluded)
    assert d["log_median"]["frequentist"]["method"] == "REML"
    assert d["studies"][3]["reason"].startswith("median not reached")


def test_without_n_no_wm_and_missing_ci_kept_in_mm():
    r = pool_medians([3.0, 4.0, 5.0], [2.0, None, 3.0], [4.0, None, 8.0])
    assert r.wm is None and r.mm.k == 3 and r.log_median.k == 2
    assert r.excluded == ("2: excluded: no usable confidence interval for the median",)


def test_registry_nr_and_other_spellings_are_not_reached():
    from survmeta.registry import NR

    for nr in (NR, None, float("nan"), math.inf, "nr"):
        r = pool_medians([nr, 3.0], [None, 2.0], [None, 4.0])
        assert r.excluded == ("1: excluded: median not reached",)


def test_lower_limit_missing_uses_upper_half():
    z = stats.norm.ppf(0.975)
    r = pool_medians([3.0, 4.0], [None, 3.0], [5.0, 6.0], tau_prior="fixed")
    assert r.studies[0].one_sided
    assert r.studies[0].se == pytest.approx(math.log(5.0 / 3.0) / z, rel=EXACT)


@pytest.mark.parametrize("med,lo,hi,n,msg", [
    ([3.0], [3.5], [5.0], None, "outside its interval"),
    ([3.0], [4.0], [2.0], None, "above upper limit"),
    (["NR"], [2.0], [5.0], None, "cannot have a finite upper limit"),
    ([-1.0], [1.0], [2.0], None, "non-negative"),
    (["NR", "NR"], [2.0, 3.0], ["NR", "NR"], None, "nothing to pool"),
    ([3.0], [2.0, 1.0], [4.0], None, "lower and"),
    ([3.0], [2.0], [4.0], [0], "n must be positive"),
    (["abc"], [2.0], [4.0], None, "cannot read"),
])
def test_bad_input_errors(med, lo, hi, n, msg):
    with pytest.raises(SurvmetaError, match=msg):
        pool_medians(med, lo, hi, n=n)
