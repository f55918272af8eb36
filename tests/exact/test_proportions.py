"""Pooled proportions (survmeta.exact.proportions).

Frequentist companions against metafor 3.8-1 on dat.pritz1997 (14 series, two with 100%),
tests/reference/metafor_proportions.Rout::

    rma.glmm(measure = "PLO", xi = xi, ni = ni, data = dat.pritz1997)
    dat <- escalc(measure = "PLO", xi = xi, ni = ni, data = dat.pritz1997)
    rma(yi, vi, data = dat, method = "REML")   # and "DL"; predict(r, transf = transf.ilogit)
    dat <- escalc(measure = "PFT", xi = xi, ni = ni, data = dat.pritz1997, add = 0)
    rma(yi, vi, data = dat, method = "REML")   # "DL", "FE";
    predict(r, transf = transf.ipft.hm, targs = list(ni = dat.pritz1997$ni))

The exact Bayesian fit against brute-force numerical integration that shares no code with it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, interpolate, optimize, special, stats

from _rref import rdata, rref
from survmeta.errors import SurvmetaError
from survmeta.exact.proportions import (
    ProportionFrequentist,
    ProportionPool,
    escalc_proportions,
    pool_proportions,
    rma_glmm_proportions,
    rma_proportions,
    study_loglik,
    transf_ipft_hm,
)

R = rref("metafor_proportions")
XI = np.array(rdata("metafor_proportions")["pritz.xi"])
NI = np.array(rdata("metafor_proportions")["pritz.ni"])

CLOSED = 1e-10   # escalc, DL, FE and the back-transforms: rounding only
ITER = 1e-6      # REML: metafor's Fisher scoring stops at a 1e-5 change in tau^2 (relative)
GLMM = 5e-5      # rma.glmm: lme4's optimiser stops within 6e-6 of survmeta's optimum of the
                 # same 7-point adaptive quadrature; half a unit in metafor's 4th printed digit
GLMM_I2 = 1e-3   # I^2 (printed 67.7897%): its 4th decimal moves with that 6e-6 in tau^2
QUAD = 1e-6      # the 20-point adaptive Gauss-Hermite study integral (log) against
                 # scipy.integrate.quad; 1.5e-7 at the most skewed case here
BRUTE = 1e-3     # the posterior grid against brute-force integration (absolute, logit scale
                 # and proportions)

FIELDS = {"b": "estimate", "se": "se", "zval": "zval", "ci.lb": "ci_lower",
          "ci.ub": "ci_upper", "tau2": "tau2"}


def _close(got, want, tol):
    assert got == pytest.approx(want, rel=tol, abs=tol), (got, want)


def test_data_have_series_with_all_events():
    assert XI.size == 14 and np.sum(XI == NI) == 2


@pytest.mark.parametrize("measure", ["plo", "pft"])
def test_escalc(measure):
    yi, vi = escalc_proportions(XI, NI, measure.upper())
    for i in range(XI.size):
        _close(yi[i], R[f"pritz.{measure}.{i + 1}.yi"], CLOSED)
        _close(vi[i], R[f"pritz.{measure}.{i + 1}.vi"], CLOSED)


@pytest.mark.parametrize("measure, method", [("PLO", "REML"), ("PLO", "DL"), ("PFT", "REML"),
                                             ("PFT", "DL"), ("PFT", "FE")])
def test_inverse_variance_matches_metafor(measure, method):
    fit = rma_proportions(XI, NI, measure, method)
    tol = ITER if method == "REML" else CLOSED
    key = f"pritz.{measure.lower()}.{method}"
    for r_name, field in FIELDS.items():
        _close(getattr(fit, field), R[f"{key}.{r_name}"], tol)
    _close(fit.pval, R[f"{key}.pval"], 1e-5 if method == "REML" else CLOSED)
    _close(fit.proportion, R[f"{key}.prop.pred"], tol)
    _close(fit.proportion_ci[0], R[f"{key}.prop.ci.lb"], tol)
    _close(fit.proportion_ci[1], R[f"{key}.prop.ci.ub"], tol)
    if method == "FE":
        assert fit.proportion_pi is None and math.isnan(R[f"{key}.prop.pi.lb"])
    else:
        assert fit.proportion_pi is not None
        _close(fit.proportion_pi[0], R[f"{key}.prop.pi.lb"], tol)
        _close(fit.proportion_pi[1], R[f"{key}.prop.pi.ub"], tol)
    assert fit.back_transform == ("transf.ilogit" if measure == "PLO" else "transf.ipft.hm")


def test_glmm_matches_metafor_to_its_printed_digits():
    fit = rma_glmm_proportions(XI, NI)
    assert (fit.model, fit.measure, fit.method) == ("GLMM", "PLO", "ML")
    for r_name, field in FIELDS.items():
        assert getattr(fit, field) == pytest.approx(R[f"pritz.glmm.{r_name}"], abs=GLMM)
    assert fit.I2 == pytest.approx(R["pritz.glmm.I2"], abs=GLMM_I2)
    assert fit.H2 == pytest.approx(R["pritz.glmm.H2"], abs=GLMM)
    assert fit.proportion == pytest.approx(R["pritz.glmm.prop.pred"], abs=GLMM)
    assert fit.proportion_ci == pytest.approx((R["pritz.glmm.prop.ci.lb"],
                                               R["pritz.glmm.prop.ci.ub"]), abs=GLMM)
    assert fit.proportion_pi == pytest.approx((R["pritz.glmm.prop.pi.lb"],
                                               R["pritz.glmm.prop.pi.ub"]), abs=GLMM)
    # printed: estimate 1.3766, se 0.2884, tau^2 0.5893, I^2 67.7897%
    assert (f"{fit.estimate:.4f}", f"{fit.se:.4f}", f"{fit.tau2:.4f}") == ("1.3766", "0.2884",
                                                                           "0.5893")


def test_ipft_hm_bounds():
    nhm = 1.0 / np.mean(1.0 / NI)
    assert transf_ipft_hm(0.0, NI) == 0.0
    assert transf_ipft_hm(math.pi / 2, NI) == 1.0
    y = 0.5 * (np.arcsin(np.sqrt(5 / (nhm + 1))) + np.arcsin(np.sqrt(6 / (nhm + 1))))
    assert float(transf_ipft_hm(y, NI)) == pytest.approx(5 / nhm, abs=1e-12)


def _quad_loglik(x, n, mu, tau):
    def f(theta):
        return stats.binom.pmf(x, n, special.expit(theta)) * stats.norm.pdf(theta, mu, tau)
    val, _ = integrate.quad(f, mu - 12 * tau, mu + 12 * tau, epsabs=0, epsrel=1e-13, limit=200)
    return math.log(val)


@pytest.mark.parametrize("x, n, mu, tau", [(0, 12, 0.5, 1.0), (12, 12, 0.5, 0.3),
                                           (3, 40, -2.0, 2.5), (58, 68, 1.5, 0.05),
                                           (1, 2, 4.0, 3.0)])
def test_study_integral_against_quad(x, n, mu, tau):
    got = float(study_loglik([x], [n], mu, tau)[0])
    assert got == pytest.approx(_quad_loglik(x, n, mu, tau), abs=QUAD)


def test_study_integral_at_tau_zero_is_the_binomial():
    got = study_loglik([3], [10], 0.2, 0.0)[0]
    assert got == pytest.approx(stats.binom.logpmf(3, 10, special.expit(0.2)), abs=1e-12)


def test_one_study_common_effect_against_quadrature():
    """k = 1, tau fixed at 0: the posterior of mu is N(0, 2^2) times one binomial."""
    x, n = 7, 9
    post = pool_proportions([x], [n], tau_prior="fixed", companions=False)

    def dens(mu):
        return stats.norm.pdf(mu, 0, 2) * stats.binom.pmf(x, n, special.expit(mu))

    z = integrate.quad(dens, -30, 30, epsabs=0, epsrel=1e-12)[0]
    mean = integrate.quad(lambda u: u * dens(u), -30, 30, epsrel=1e-12)[0] / z
    sd = math.sqrt(integrate.quad(lambda u: (u - mean) ** 2 * dens(u), -30, 30)[0] / z)

    def q(p):
        return optimize.brentq(lambda t: integrate.quad(dens, -30, t)[0] / z - p, -20, 20)

    assert post.mu_mean == pytest.approx(mean, abs=BRUTE)
    assert post.mu_sd == pytest.approx(sd, abs=BRUTE)
    assert post.mu_ci == pytest.approx((q(0.025), q(0.975)), abs=BRUTE)
    assert post.proportion == pytest.approx(special.expit(q(0.5)), abs=BRUTE)
    assert post.proportion_pi == pytest.approx(post.proportion_ci, abs=BRUTE)
    assert post.tau_ci == (0.0, 0.0)


def _brute_force(x, n, mu_prior_sd=2.0, tau_scale=1.0):
    """Posterior summaries by brute force, sharing no code with the module.

    Each study's integral over theta = mu + tau z by adaptive quadrature (``quad_vec`` over
    z, all (mu, tau) nodes at once); the posterior on a fine (mu, tau) grid by the
    trapezoid rule; quantiles from the antiderivative of a cubic spline of each marginal.
    """
    mus = np.linspace(-6, 8, 281)
    taus = np.linspace(0, 5, 161)  # halfnormal(1) puts 6e-7 of its mass beyond 5
    mm, tt = np.meshgrid(mus, taus, indexing="ij")
    like = np.ones(mm.shape)
    for xi, ni in zip(x, n):
        log_c = special.gammaln(ni + 1) - special.gammaln(xi + 1) - special.gammaln(ni - xi + 1)

        def f(z, xi=xi, ni=ni, log_c=log_c):
            theta = mm + tt * z
            return np.exp(log_c + xi * theta - ni * np.logaddexp(0, theta) - z * z / 2) \
                / math.sqrt(2 * math.pi)
        like = like * integrate.quad_vec(f, -10, 10, epsabs=1e-13, epsrel=1e-10)[0]
    post = like * stats.norm.pdf(mus, 0, mu_prior_sd)[:, None] * \
        stats.halfnorm.pdf(taus, scale=tau_scale)[None, :]
    zc = integrate.trapezoid(integrate.trapezoid(post, taus, axis=1), mus)
    post = post / zc
    f_mu = integrate.trapezoid(post, taus, axis=1)
    f_tau = integrate.trapezoid(post, mus, axis=0)
    mean = integrate.trapezoid(mus * f_mu, mus)

    def quantiles(nodes, dens, probs):
        cdf = interpolate.CubicSpline(nodes, dens).antiderivative()
        total = float(cdf(nodes[-1]) - cdf(nodes[0]))
        return tuple(optimize.brentq(lambda t: (cdf(t) - cdf(nodes[0])) / total - p,
                                     nodes[0], nodes[-1]) for p in probs)

    def pred_cdf(t):
        g = special.ndtr((t - mm) / np.where(tt > 0, tt, 1e-300))
        return integrate.trapezoid(integrate.trapezoid(post * g, taus, axis=1), mus)

    pi = [optimize.brentq(lambda t: pred_cdf(t) - p, -30, 30) for p in (0.025, 0.975)]
    return {
        "mu_mean": mean,
        "mu_sd": math.sqrt(integrate.trapezoid((mus - mean) ** 2 * f_mu, mus)),
        "mu_ci": quantiles(mus, f_mu, (0.025, 0.975)),
        "mu_median": quantiles(mus, f_mu, (0.5,))[0],
        "tau_median": quantiles(taus, f_tau, (0.5,))[0],
        "tau_ci": quantiles(taus, f_tau, (0.025, 0.975)),
        "proportion_pi": tuple(special.expit(pi)),
    }


@pytest.mark.parametrize("x, n", [([3, 9], [10, 10]), ([0, 5, 12], [8, 11, 12])])
def test_random_effects_posterior_against_brute_force(x, n):
    post = pool_proportions(x, n, companions=False)
    want = _brute_force(x, n)
    for key, value in want.items():
        assert getattr(post, key) == pytest.approx(value, abs=BRUTE), key
    assert post.proportion == pytest.approx(special.expit(want["mu_median"]), abs=BRUTE)


def test_pool_result_shape():
    post = pool_proportions(XI, NI, labels=[f"s{i}" for i in range(14)])
    assert isinstance(post, ProportionPool) and post.k == 14
    assert [c.name for c in post.companions] == [
        "GLMM (ML), logit", "inverse variance (REML), logit",
        "inverse variance (REML), Freeman-Tukey double arcsine"]
    assert all(isinstance(c, ProportionFrequentist) for c in post.companions)
    lo, hi = post.proportion_ci
    assert post.proportion_pi[0] < lo < post.proportion < hi < post.proportion_pi[1]
    d = post.to_dict()
    assert d["k"] == 14 and d["proportion_ci"] == [lo, hi] and len(d["companions"]) == 3
    assert d["companions"][0]["name"] == "GLMM (ML), logit"
    text = post.summary()
    assert "Pooled proportion (binomial-normal, exact Bayesian; k = 14)" in text
    assert "transf.ipft.hm" in text
    with pytest.raises(AttributeError):
        post.level = 0.9  # type: ignore[misc]


@pytest.mark.parametrize("events, n, message", [
    ([5, 11], [10, 10], "events (11) must be between 0 and n (10)"),
    ([-1], [10], "between 0 and n"),
    ([1.5], [10], "whole numbers"),
    ([1], [0], "at least 1"),
    ([1, 2], [10], "equal length"),
    ([], [], "non-empty"),
])
def test_bad_input(events, n, message):
    with pytest.raises(SurvmetaError, match=message.replace("(", r"\(").replace(")", r"\)")):
        pool_proportions(events, n)


def test_unknown_measure():
    with pytest.raises(SurvmetaError, match="unknown measure"):
        rma_proportions([1], [2], "PAS")


def test_no_events_anywhere_has_no_ml_estimate_but_a_posterior():
    with pytest.raises(SurvmetaError, match="no study has an event"):
        rma_glmm_proportions([0, 0, 0], [5, 5, 5])
    post = pool_proportions([0, 0, 0], [5, 5, 5])
    assert [c.model for c in post.companions] == ["inverse variance", "inverse variance"]
    assert post.notes and "GLMM companion not fitted" in post.notes[0]
    assert post.notes[0] in post.summary() and post.to_dict()["notes"] == list(post.notes)
    assert 0 < post.proportion_ci[0] < post.proportion < post.proportion_ci[1] < 0.5


GRAD = 1e-6      # the ML fit's analytic score against central differences (step 1e-5) of the
                 # same quadrature; differences of order 1e-9 here


@pytest.mark.parametrize("mu, tau", [(1.3766, 0.7677), (-1.0, 0.05), (0.5, 3.0)])
def test_glmm_score_is_the_gradient_of_the_quadrature(mu, tau):
    from survmeta.exact.proportions import GLMM_NAGQ, _negloglik, _negloglik_grad

    x, m = XI.astype(float), NI.astype(float)
    _, grad = _negloglik_grad((mu, np.log(tau)), x, m, GLMM_NAGQ)
    h = 1e-5
    fd_mu = (_negloglik((mu + h, tau), x, m, GLMM_NAGQ)
             - _negloglik((mu - h, tau), x, m, GLMM_NAGQ)) / (2 * h)
    fd_lt = (_negloglik((mu, tau * np.exp(h)), x, m, GLMM_NAGQ)
             - _negloglik((mu, tau * np.exp(-h)), x, m, GLMM_NAGQ)) / (2 * h)
    assert grad == pytest.approx([fd_mu, fd_lt], abs=GRAD)


def test_glmm_at_the_tau_zero_boundary():
    # homogeneous series: the ML tau is 0 and mu is the pooled logit of all patients
    fit = rma_glmm_proportions([10, 20, 30], [100, 200, 300])
    assert fit.tau == 0.0
    assert fit.estimate == pytest.approx(special.logit(0.1), abs=CLOSED)
