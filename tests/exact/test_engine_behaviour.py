"""Behaviour of the exact engine: special cases, closed forms, draws, errors, speed."""

import math
import time

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from _exact_data import SCHOOLS_LABELS, SCHOOLS_SE, SCHOOLS_Y, crins_log_or
from survmeta.errors import SurvmetaError
from survmeta.exact import ExactPosterior, bayesmeta, common_effect

CLOSED = 1e-9   # closed-form comparisons
GRID = 1e-5     # grid CDF / quantile accuracy target


@pytest.fixture(scope="module")
def crins():
    y, v = crins_log_or()
    return bayesmeta(y, np.sqrt(v), "halfnormal(0.5)", "normal(0, 4)")


def test_common_effect_is_inverse_variance_pooling():
    """Flat mu prior and tau = 0: mu ~ N(sum(w y)/sum(w), 1/sum(w)) (closed form)."""
    y, v = crins_log_or()
    post = common_effect(y, np.sqrt(v))
    w = 1 / v
    assert post.mean("mu") == pytest.approx(np.sum(w * y) / np.sum(w), rel=CLOSED)
    assert post.sd("mu") == pytest.approx(1 / math.sqrt(np.sum(w)), rel=CLOSED)
    assert post.median("tau") == 0.0
    assert post.hdi("tau") == (0.0, 0.0)
    assert post.sd("predict") == pytest.approx(post.sd("mu"), rel=CLOSED)


def test_single_study_with_proper_prior_returns_prior_for_tau():
    """k = 1 with a flat mu prior: p(y | tau) is constant in tau, so the posterior of
    tau is its prior (closed form: half-normal(0.5) median 0.5 * 0.6744897...)."""
    post = bayesmeta([0.3], [0.2], "halfnormal(0.5)")
    assert post.median("tau") == pytest.approx(0.5 * stats.norm.ppf(0.75), rel=GRID)
    assert post.mean("mu") == pytest.approx(0.3, rel=CLOSED)
    with pytest.raises(SurvmetaError, match="improper"):
        bayesmeta([0.3], [0.2], "flat")


def test_tau_cdf_and_quantile_consistent_with_density(crins):
    """The grid CDF against 1-D adaptive quadrature of the exact tau density."""
    for t in (0.1, 0.3, 0.8):
        exact = integrate.quad(lambda x: float(crins.pdf("tau", x)), 0, t, epsrel=1e-11)[0]
        assert crins.cdf("tau", t) == pytest.approx(exact, rel=GRID)
    for p in (0.05, 0.5, 0.975):
        assert crins.cdf("tau", crins.quantile("tau", p)) == pytest.approx(p, rel=GRID)


def test_hr_is_exp_of_mu(crins):
    """exp(mu): quantiles transform, P(HR < 1) = P(mu < 0)."""
    assert crins.median("hr") == pytest.approx(math.exp(crins.median("mu")), rel=1e-10)
    assert crins.prob_below(1.0) == pytest.approx(float(crins.cdf("mu", 0.0)), rel=1e-12)
    assert crins.prob_below(0.8) == pytest.approx(float(crins.cdf("mu", math.log(0.8))))
    assert crins.prob_below(math.log(0.8), scale="log") == crins.prob_below(0.8)
    lo, hi = crins.hdi("hr")
    assert crins.cdf("hr", hi) - crins.cdf("hr", lo) == pytest.approx(0.95, abs=1e-8)
    # shortest on the log scale (equal density of mu at log(lo) and log(hi)), exponentiated
    assert crins.pdf("mu", math.log(lo)) == pytest.approx(float(crins.pdf("mu", math.log(hi))),
                                                          rel=1e-6)


def test_bayes_factors_savage_dickey(crins):
    """BF for tau = 0 as p(y | tau=0)/p(y) equals the Savage-Dickey density ratio
    posterior/prior at tau = 0 (half-normal(0.5) density at 0: 2 / (0.5 sqrt(2 pi)))."""
    prior0 = 2 / (0.5 * math.sqrt(2 * math.pi))
    assert crins.bayes_factor("tau=0") == pytest.approx(float(crins.pdf("tau", 0.0)) / prior0,
                                                        rel=1e-10)
    bf_mu = crins.bayes_factor("mu=0")
    assert bf_mu == pytest.approx(float(crins.pdf("mu", 0.0)) / stats.norm.pdf(0, 0, 4))
    flat = bayesmeta(*crins_log_or()[:1], np.sqrt(crins_log_or()[1]), "halfnormal(0.5)")
    with pytest.raises(SurvmetaError, match="proper mu prior"):
        flat.bayes_factor("mu=0")


def test_marginal_likelihood_matches_quadrature(crins):
    """p(y) = int prior(tau) p(y | tau) dtau, with p(y | tau) the normal-normal closed
    form N(y; m0 1, diag(s^2 + tau^2) + sd0^2 J), by 1-D adaptive quadrature."""
    y, v = crins_log_or()

    def integrand(tau):
        cov = np.diag(v + tau ** 2) + 16.0
        return stats.halfnorm.pdf(tau, scale=0.5) * stats.multivariate_normal.pdf(y, np.zeros(6), cov)
    expected = integrate.quad(integrand, 0, 5, epsrel=1e-11)[0]
    assert crins.marginal_likelihood() == pytest.approx(expected, rel=1e-7)


def test_summary_table(crins):
    table = crins.summary()
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["mean", "median", "sd", "eti_lower", "eti_upper",
                                   "hdi_lower", "hdi_upper"]
    assert list(table.index[:5]) == ["mu", "tau", "hr", "predict_log_hr", "predict_hr"]
    assert len(table) == 5 + 6
    assert table.loc["tau", "hdi_lower"] == 0.0


def test_sample_matches_exact_moments():
    """Exact draws: Monte Carlo means within 4 Monte Carlo SEs of the exact values."""
    post = bayesmeta(SCHOOLS_Y, SCHOOLS_SE, "halfcauchy(25)", "normal(0, 50)",
                     labels=SCHOOLS_LABELS)
    tree = post.sample(40000, seed=7, chains=4)
    draws = tree["posterior"].to_dataset()
    assert dict(draws.sizes) == {"chain": 4, "draw": 10000, "study": 8}
    n = 40000
    for name, param in (("mu", "mu"), ("tau", "tau"), ("predict", "predict")):
        mc = float(draws[name].mean())
        assert abs(mc - post.mean(param)) < 4 * post.sd(param) / math.sqrt(n)
    theta_a = float(draws["theta"].sel(study="A").mean())
    assert abs(theta_a - post.mean("theta[A]")) < 4 * post.sd("theta[A]") / math.sqrt(n)
    again = post.sample(40000, seed=7, chains=4)["posterior"].to_dataset()
    assert np.array_equal(again["mu"].values, draws["mu"].values)


@pytest.mark.parametrize("tau_prior", ["halfnormal(0.5)", "halfcauchy(0.5)", "halft(3, 0.5)",
                                       "uniform(0, 2)", "exponential(2)",
                                       "turner(all-cause-mortality, pharma-vs-placebo)"])
def test_tau_mean_matches_quadrature_for_each_prior(tau_prior, crins):
    """Posterior mean of tau against 1-D adaptive quadrature of prior x p(y | tau)."""
    y, v = crins_log_or()
    post = bayesmeta(y, np.sqrt(v), tau_prior, "normal(0, 4)")
    prior = post.tau_prior

    def joint(tau):
        cov = np.diag(v + tau ** 2) + 16.0
        return float(prior.pdf(tau)) * stats.multivariate_normal.pdf(y, np.zeros(6), cov)
    upper = 2.0 if tau_prior.startswith("uniform") else np.inf
    with np.errstate(over="ignore"):
        z = integrate.quad(joint, 0, upper, epsrel=1e-10, limit=200)[0]
        m = integrate.quad(lambda t: t * joint(t), 0, upper, epsrel=1e-10, limit=200)[0]
    assert post.mean("tau") == pytest.approx(m / z, rel=GRID)


def test_invalid_inputs():
    with pytest.raises(SurvmetaError, match="equal length"):
        bayesmeta([0.1, 0.2], [0.1])
    with pytest.raises(SurvmetaError, match="positive"):
        bayesmeta([0.1, 0.2], [0.1, -1])
    with pytest.raises(SurvmetaError, match="unknown tau prior family"):
        bayesmeta([0.1, 0.2], [0.1, 0.2], tau_prior="halfnormla(0.5)")
    post = bayesmeta([0.1, 0.2], [0.1, 0.2], "halfnormal(0.5)")
    with pytest.raises(SurvmetaError, match="unknown parameter"):
        post.mean("sigma")
    with pytest.raises(SurvmetaError, match="no study"):
        post.mean("theta[Z]")
    assert isinstance(post, ExactPosterior)


def test_speed_loose_bound():
    """Loose sanity bound only (the benchmark lives elsewhere): k = 100 under 1 s."""
    rng = np.random.default_rng(3)
    y, s = rng.normal(-0.2, 0.3, 100), rng.uniform(0.1, 0.5, 100)
    start = time.perf_counter()
    post = bayesmeta(y, s, "halfnormal(0.5)")
    post.hdi("mu")
    post.median("tau")
    assert time.perf_counter() - start < 1.0


def test_defaults_are_those_of_r_bayesmeta():
    """R's ``bayesmeta(y, sigma)`` uses ``tau.prior = "uniform"`` (improper uniform on
    tau >= 0) and a flat mu prior (``mu.prior.mean = NA``): bayesmeta's reference
    manual, section ``bayesmeta``, "Usage". The default here is the same model, so
    its tau posterior equals an explicit ``"flat"`` one, and k = 2 is refused as
    improper."""
    post = bayesmeta(SCHOOLS_Y, SCHOOLS_SE)
    assert post.tau_prior.spec == "flat" and post.mu_prior.spec == "flat"
    explicit = bayesmeta(SCHOOLS_Y, SCHOOLS_SE, tau_prior="flat", mu_prior="flat")
    assert post.mean("tau") == explicit.mean("tau")
    with pytest.raises(SurvmetaError, match="improper"):
        bayesmeta([0.1, 0.2], [0.1, 0.2])


def test_hr_shortest_interval_is_the_log_scale_one_exponentiated():
    """exp is monotone, so exp(HDI of mu) holds the same posterior mass; it is the
    convention of the reports (an HR interval never starts at 0)."""
    y, v = crins_log_or()
    post = bayesmeta(y, np.sqrt(v), "halfcauchy(0.5)", "flat")
    lo, hi = post.hdi("hr")
    mlo, mhi = post.hdi("mu")
    assert (lo, hi) == pytest.approx((math.exp(mlo), math.exp(mhi)), rel=1e-12)
    assert lo > 0
    assert post.cdf("hr", hi) - post.cdf("hr", lo) == pytest.approx(0.95, abs=1e-9)
    plo, phi = post.hdi("predict_hr")
    assert plo == pytest.approx(math.exp(post.hdi("predict")[0]), rel=1e-12) and plo > 0
