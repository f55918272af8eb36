"""Single-arm PyMC fits (survmeta.models.single_arm) against the exact engines.

Proportions: dat.pritz1997 (14 series, two with 100%), as printed by
tests/reference/metafor_proportions.Rout (``cat("DATA pritz.xi", dat$xi)``), against
:func:`survmeta.exact.pool_proportions` with the same priors. Log medians: the
illustrative medians of tests/reference/metafor_medians.R (study C with a one-sided
SE), with the SEs :func:`survmeta.exact.pool_medians` derives, against the exact engine
:func:`survmeta.exact.bayesmeta` that ``pool_medians`` calls.

Tolerance: a posterior mean or quantile of the MCMC fit must lie within
``N_MCSE = 4`` Monte Carlo standard errors of the exact value, the MCSE being the one
arviz-stats reports for that draw set (``arviz_stats.mcse``, method ``"mean"`` or
``"quantile"``).
"""

import sys
from pathlib import Path

import arviz_stats as azs
import numpy as np
import pytest
from scipy import special

from survmeta.errors import SurvmetaError
from survmeta.exact import bayesmeta, pool_medians, pool_proportions
from survmeta.models import diagnose, fit_log_medians, fit_proportions
from survmeta.models.single_arm import summarise_single_arm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exact"))
from _rref import rdata  # noqa: E402

SEED = 20260301
#: Agreement with the exact engine: within 4 Monte Carlo standard errors (arviz-stats).
N_MCSE = 4.0
#: Closed relations (transforms of the same draws): floating-point only.
CLOSED = 1e-12
PROBS = (0.025, 0.5, 0.975)

D = rdata("metafor_proportions")
XI = np.array(D["pritz.xi"])
NI = np.array(D["pritz.ni"])

# the studies of metafor_medians.R (D, median not reached, left out)
MED = [3.0, 2.5, 4.1, 2.0, 5.3, 3.6, 1.9]
LO = [2.1, 1.8, 2.9, 1.5, 3.0, 2.2, 1.2]
HI = [4.2, 3.9, "NR", 2.8, 9.0, 6.3, 3.1]
LABELS = ["A", "B", "C", "E", "F", "G", "H"]


def _log_medians():
    studies = pool_medians(MED, LO, HI, labels=LABELS).studies
    return (np.array([s.log_median for s in studies]), np.array([s.se for s in studies]))


@pytest.fixture(scope="module")
def prop_fit():
    return fit_proportions(XI, NI, draws=1000, tune=1000, chains=2, random_seed=SEED)


@pytest.fixture(scope="module")
def prop_exact():
    return pool_proportions(XI, NI, companions=False)


@pytest.fixture(scope="module")
def med_fit():
    y, se = _log_medians()
    return fit_log_medians(y, se, LABELS, draws=1000, tune=1000, chains=2, random_seed=SEED)


@pytest.fixture(scope="module")
def med_exact():
    y, se = _log_medians()
    return bayesmeta(y, se, tau_prior="halfnormal(0.5)", mu_prior="flat", labels=LABELS)


def _draws(fit, name):
    return fit.idata["posterior"][name]


def _mcse(da, method="mean", prob=None):
    kw = {} if prob is None else {"prob": prob}
    return float(azs.mcse(da, method=method, **kw))


def _assert_mean(fit, name, exact_mean):
    da = _draws(fit, name)
    assert abs(float(da.mean()) - exact_mean) <= N_MCSE * _mcse(da)


def _assert_quantile(fit, name, p, exact_q):
    da = _draws(fit, name)
    got = float(np.quantile(da.values, p))
    assert abs(got - exact_q) <= N_MCSE * _mcse(da, "quantile", p)


# ----------------------------------------------------------------------------- proportions


@pytest.mark.mcmc
def test_proportions_means_agree_with_exact_engine(prop_fit, prop_exact):
    _assert_mean(prop_fit, "mu", prop_exact.mu_mean)
    _assert_mean(prop_fit, "tau", prop_exact.tau_mean)


@pytest.mark.mcmc
@pytest.mark.parametrize("name", ["mu", "tau"])
def test_proportions_quantiles_agree_with_exact_engine(prop_fit, prop_exact, name):
    if name == "mu":
        exact = (prop_exact.mu_ci[0], prop_exact.mu_median, prop_exact.mu_ci[1])
    else:
        exact = (prop_exact.tau_ci[0], prop_exact.tau_median, prop_exact.tau_ci[1])
    for p, q in zip(PROBS, exact):
        _assert_quantile(prop_fit, name, p, q)


@pytest.mark.mcmc
def test_proportions_prediction_interval_agrees_with_exact_engine(prop_fit, prop_exact):
    lo, hi = special.logit(prop_exact.proportion_pi)
    _assert_quantile(prop_fit, "predict", PROBS[0], lo)
    _assert_quantile(prop_fit, "predict", PROBS[2], hi)


@pytest.mark.mcmc
def test_proportions_summary_is_the_back_transformed_posterior(prop_fit):
    s = prop_fit.summary
    mu = _draws(prop_fit, "mu").values
    assert s.scale == "proportion" and s.k == XI.size and s.level == 0.95
    assert s.mu_prior == "normal(0, 2)" and s.tau_prior == "halfnormal(1)"
    assert s.random_seed == SEED
    assert s.estimate == pytest.approx(special.expit(np.median(mu)), rel=CLOSED)
    lo, hi = np.quantile(mu, [0.025, 0.975])
    assert s.ci == pytest.approx((special.expit(lo), special.expit(hi)), rel=1e-9)
    assert s.pi[0] < s.ci[0] < s.estimate < s.ci[1] < s.pi[1]
    assert _draws(prop_fit, "theta").dims == ("chain", "draw", "study")


@pytest.mark.mcmc
def test_proportions_diagnostics_clean(prop_fit):
    diag = diagnose(prop_fit.idata)
    assert diag.r_hat_max < 1.01
    assert diag.divergences == 0


@pytest.mark.mcmc
def test_proportions_same_seed_same_numbers(prop_fit):
    kw = dict(draws=100, tune=100, chains=2, random_seed=7)
    a = fit_proportions(XI[:5], NI[:5], **kw)
    b = fit_proportions(XI[:5], NI[:5], **kw)
    for name in ("mu", "tau", "predict"):
        np.testing.assert_array_equal(_draws(a, name).values, _draws(b, name).values)
    assert a.summary == b.summary


def test_proportions_bad_input_is_a_clear_error():
    with pytest.raises(SurvmetaError, match="between 0 and n"):
        fit_proportions([3, 12], [10, 10])
    with pytest.raises(SurvmetaError, match="equal length"):
        fit_proportions([3, 2], [10])
    with pytest.raises(SurvmetaError, match="unique"):
        fit_proportions([3, 2], [10, 10], ["a", "a"])
    with pytest.raises(SurvmetaError, match="level"):
        fit_proportions([3, 2], [10, 10], level=95)


# ----------------------------------------------------------------------------- medians


@pytest.mark.mcmc
def test_log_medians_means_agree_with_exact_engine(med_fit, med_exact):
    _assert_mean(med_fit, "mu", med_exact.mean("mu"))
    _assert_mean(med_fit, "tau", med_exact.mean("tau"))


@pytest.mark.mcmc
@pytest.mark.parametrize("name", ["mu", "tau", "predict"])
def test_log_medians_quantiles_agree_with_exact_engine(med_fit, med_exact, name):
    for p in PROBS:
        _assert_quantile(med_fit, name, p, float(med_exact.quantile(name, p)))


@pytest.mark.mcmc
def test_log_medians_summary_and_diagnostics(med_fit):
    s = med_fit.summary
    mu = _draws(med_fit, "mu").values
    assert s.scale == "median" and s.k == len(LABELS)
    assert s.mu_prior == "flat" and s.tau_prior == "halfnormal(0.5)"
    assert s.estimate == pytest.approx(np.exp(np.median(mu)), rel=CLOSED)
    assert s.pi[0] < s.ci[0] < s.estimate < s.ci[1] < s.pi[1]
    # pool_medians reports the same pooled median (exp of the posterior median of mu)
    exact = pool_medians(MED, LO, HI, labels=LABELS).log_median
    assert abs(np.log(s.estimate) - np.log(exact.median)) <= N_MCSE * _mcse(
        _draws(med_fit, "mu"), "quantile", 0.5)
    assert list(med_fit.idata["posterior"]["study"].values) == LABELS
    diag = diagnose(med_fit.idata)
    assert diag.r_hat_max < 1.01
    assert diag.divergences == 0


def test_log_medians_bad_input_is_a_clear_error():
    with pytest.raises(SurvmetaError, match="se must be positive"):
        fit_log_medians([1.0, 1.2], [0.2, -0.1])
    with pytest.raises(SurvmetaError, match="differ in length"):
        fit_log_medians([1.0, 1.2], [0.2])


@pytest.mark.mcmc
def test_summary_level_and_scale(med_fit):
    s90 = summarise_single_arm(med_fit.idata, "median", level=0.9)
    assert s90.ci[0] > med_fit.summary.ci[0] and s90.ci[1] < med_fit.summary.ci[1]
    with pytest.raises(ValueError, match="scale"):
        summarise_single_arm(med_fit.idata, "odds")
