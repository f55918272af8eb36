"""Exact Bayesian meta-regression (``bmr``) against brute-force integration on dat.bcg.

bayesmeta's ``bmr()`` fits the same model; the comparison with its output (bayesmeta 3.3)
is in test_bayesmeta_reference.py. Here, independently of R, the joint posterior of
(intercept, ablat slope, tau) is integrated directly: the
normal likelihood prod_i N(y_i; b0 + b1 ablat_i, s_i^2 + tau^2) times the priors on
a 3-D trapezoid grid, without the closed-form conditional used by ``bmr``.
"""

import numpy as np
import pytest

from _exact_data import BCG_ABLAT, bcg_log_rr
from survmeta.errors import SurvmetaError
from survmeta.exact import bmr, rma_mods

BRUTE = 2e-4   # relative; moments agree to ~6e-5 on this 201 x 201 x 301 trapezoid grid
QUANT = 5e-3   # tau quantiles from the grid's linear CDF (0.01 steps in tau): ~3e-3 at 2.5%


@pytest.fixture(scope="module")
def bcg():
    yi, vi = bcg_log_rr()
    return yi, np.sqrt(vi)


def _brute(y, s, x, log_prior_b, log_prior_tau, tau_max=3.0):
    ref = rma_mods(y, s, x)
    c = [(cf.estimate, cf.se) for cf in ref.coefficients]
    b0 = np.linspace(c[0][0] - 25 * c[0][1], c[0][0] + 25 * c[0][1], 201)
    b1 = np.linspace(c[1][0] - 25 * c[1][1], c[1][0] + 25 * c[1][1], 201)
    tau = np.linspace(0.0, tau_max, 301)
    B0, B1 = np.meshgrid(b0, b1, indexing="ij")
    logp = np.empty((b0.size, b1.size, tau.size))
    for t, tv in enumerate(tau):
        var = s ** 2 + tv ** 2
        mu = B0[..., None] + B1[..., None] * x
        ll = -0.5 * np.sum(np.log(2 * np.pi * var) + (y - mu) ** 2 / var, axis=-1)
        logp[:, :, t] = ll + log_prior_b(B0, B1) + log_prior_tau(tv)
    shift = logp.max()
    dens = np.exp(logp - shift)
    tz = np.trapezoid if hasattr(np, "trapezoid") else np.trapz

    def integ(f):
        return tz(tz(tz(f, tau, axis=2), b1, axis=1), b0, axis=0)

    z = integ(dens)
    out = {"logz": shift + np.log(z)}
    for name, g in [("b0", B0[..., None]), ("b1", B1[..., None]), ("tau", tau[None, None, :])]:
        m = integ(dens * g) / z
        out[name] = (m, np.sqrt(integ(dens * (g - m) ** 2) / z))
    marg_tau = tz(tz(dens, b1, axis=1), b0, axis=0)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (marg_tau[1:] + marg_tau[:-1]) * np.diff(tau))])
    cdf /= cdf[-1]
    out["tau_q"] = np.interp([0.025, 0.5, 0.975], cdf, tau)
    return out


def _compare(r, brute):
    for j, key in enumerate(("b0", "b1")):
        m, sd = brute[key]
        assert r.coefficients[j].mean == pytest.approx(m, rel=BRUTE, abs=BRUTE * sd)
        assert r.coefficients[j].sd == pytest.approx(sd, rel=BRUTE)
    assert r.tau.mean == pytest.approx(brute["tau"][0], rel=BRUTE)
    assert r.tau.sd == pytest.approx(brute["tau"][1], rel=BRUTE)
    assert (r.tau.lower, r.tau.median, r.tau.upper) == pytest.approx(brute["tau_q"], rel=QUANT)


def test_flat_priors_match_brute_force(bcg):
    y, s = bcg
    r = bmr(y, s, {"ablat": BCG_ABLAT})
    assert r.names == ("intrcpt", "ablat") and r.beta_prior == "flat"
    brute = _brute(y, s, BCG_ABLAT, lambda a, b: 0.0, lambda t: 0.0)
    _compare(r, brute)


def test_proper_priors_match_brute_force_with_evidence(bcg):
    """halfnormal(0.5) on tau, Normal(0, 4^2) on the intercept and Normal(0, 1) on the
    slope: moments, tau quantiles and the marginal likelihood p(y)."""
    y, s = bcg
    r = bmr(y, s, {"ablat": BCG_ABLAT}, tau_prior="halfnormal(0.5)", beta_sd=[4.0, 1.0])

    def lpb(a, b):
        return (-0.5 * (a / 4.0) ** 2 - np.log(4.0 * np.sqrt(2 * np.pi))
                - 0.5 * b ** 2 - 0.5 * np.log(2 * np.pi))

    def lpt(t):
        return np.log(2.0) - 0.5 * (t / 0.5) ** 2 - np.log(0.5 * np.sqrt(2 * np.pi))

    brute = _brute(y, s, BCG_ABLAT, lpb, lpt)
    _compare(r, brute)
    assert r.log_marginal_likelihood == pytest.approx(brute["logz"], abs=BRUTE)


def test_fixed_tau_is_weighted_least_squares(bcg):
    """With tau = 0 and a flat prior the posterior is the common-effect fit (closed form)."""
    y, s = bcg
    r = bmr(y, s, BCG_ABLAT, names=["ablat"], tau_prior="fixed")
    fe = rma_mods(y, s, BCG_ABLAT, names=["ablat"], method="EE")
    for got, want in zip(r.coefficients, fe.coefficients):
        assert got.mean == pytest.approx(want.estimate, rel=1e-10)
        assert got.sd == pytest.approx(want.se, rel=1e-10)
        assert (got.lower, got.upper) == pytest.approx((want.ci_lower, want.ci_upper), rel=1e-8)
    assert r.tau.mean == 0.0


def test_bad_input(bcg):
    y, s = bcg
    with pytest.raises(SurvmetaError, match="improper posterior"):
        bmr(y[:3], s[:3], BCG_ABLAT[:3])
    with pytest.raises(SurvmetaError, match="needs beta_sd"):
        bmr(y, s, BCG_ABLAT, beta_mean=0.0)
    with pytest.raises(SurvmetaError, match="collinear"):
        bmr(y, s, np.ones(13))
    with pytest.raises(SurvmetaError, match="no coefficient"):
        bmr(y, s, BCG_ABLAT).coef("year")
