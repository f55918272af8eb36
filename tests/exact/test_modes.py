"""Posterior modes, joint MAP and ML estimates (bayesmeta's ``$summary["mode", ]``, ``$MAP``, ``$ML``).

bayesmeta cannot be installed here, so the references are

* its documented semantics (``?bayesmeta``, *Value*: ``summary`` holds the
  marginal posterior modes of tau, mu and the predictive theta; ``MAP`` the
  joint and marginal maximum-a-posteriori estimates of (tau, mu); ``ML`` the
  joint and marginal maximum-likelihood estimates), which give identities with
  metafor: the joint ML is ``rma(method = "ML")`` (no prior enters), the
  marginal ML of tau under a flat mu prior is ``rma(method = "REML")``
  (the restricted likelihood is the likelihood with mu integrated out under a
  flat prior; Harville 1974), and with a uniform tau prior and a flat mu
  prior the posterior is the likelihood, so MAP = ML;
* closed forms: with equal standard errors s, ML tau^2 = max(0, S/k - s^2)
  and REML tau^2 = max(0, S/(k - 1) - s^2), S = sum (y_i - ybar)^2 (the
  moment equations are then exact); for one study with a flat mu prior the
  likelihood of tau is constant, so the posterior of tau is its prior
  (the log-normal tau^2 prior's mode is exp(m/2 - s^2/4)) and mu's posterior
  is symmetric about y;
* brute force written here: the joint posterior density evaluated directly
  and maximised with Nelder-Mead from several starts, and the marginal
  densities integrated by Simpson's rule on 20,001-point grids,
  maximised on a fine grid and refined by golden-section search.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from _exact_data import bcg_log_rr, crins_log_or
from _rref import rref
from survmeta.exact import bayesmeta

R = rref("metafor_bcg")
ITER = 1e-6    # metafor's ML/REML Fisher scoring stops at a 1e-5 change in tau^2 (see
               # test_frequentist_estimators.py); relative differences stay below 1e-6
CLOSED = 5e-8  # closed forms: a maximum located from function values is found to about
               # sqrt(machine epsilon) = 1.5e-8 times the scale (the function is flat there)
BRUTE = 2e-6   # brute-force quadrature and optimisation written in this file


# ---------------------------------------------------------------------------
# metafor identities on dat.bcg
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bcg_flat():
    y, v = bcg_log_rr()
    return bayesmeta(y, np.sqrt(v))  # R's defaults: uniform tau, flat mu


def test_joint_ml_is_metafor_ml(bcg_flat):
    ml = bcg_flat.ml_estimates()
    assert ml.joint.tau == pytest.approx(math.sqrt(R["bcg.ML.tau2"]), rel=ITER)
    assert ml.joint.mu == pytest.approx(R["bcg.ML.b"], rel=ITER)


def test_marginal_ml_of_tau_with_flat_mu_is_reml(bcg_flat):
    ml = bcg_flat.ml_estimates()
    assert ml.marginal.tau == pytest.approx(math.sqrt(R["bcg.REML.tau2"]), rel=ITER)
    # flat mu prior: p(y | mu) p(mu) is the mu posterior, so its maximum is mu's mode
    assert ml.marginal.mu == pytest.approx(bcg_flat.mode("mu"), abs=CLOSED)


def test_flat_priors_make_map_the_ml(bcg_flat):
    map_, ml = bcg_flat.map_estimates(), bcg_flat.ml_estimates()
    assert map_.joint.tau == pytest.approx(ml.joint.tau, rel=CLOSED)
    assert map_.joint.mu == pytest.approx(ml.joint.mu, rel=CLOSED)
    # uniform tau prior: the marginal posterior of tau is the restricted likelihood
    assert bcg_flat.modes().tau == pytest.approx(math.sqrt(R["bcg.REML.tau2"]), rel=ITER)
    assert map_.marginal.tau == bcg_flat.modes().tau
    assert map_.marginal.mu == bcg_flat.modes().mu


def test_ml_ignores_the_priors():
    y, v = bcg_log_rr()
    post = bayesmeta(y, np.sqrt(v), tau_prior="halfnormal(0.5)", mu_prior="normal(0, 4)")
    assert post.ml_estimates().joint.tau == pytest.approx(math.sqrt(R["bcg.ML.tau2"]), rel=ITER)
    assert post.ml_estimates().joint.mu == pytest.approx(R["bcg.ML.b"], rel=ITER)


# ---------------------------------------------------------------------------
# closed forms
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("y", [[-0.9, -0.2, 0.1, 0.4, -0.5], [0.01, -0.02, 0.0, 0.015, -0.01]])
def test_equal_se_ml_and_reml_closed_forms(y):
    y, s = np.array(y), 0.2
    S = float(np.sum((y - y.mean()) ** 2))
    k = y.size
    post = bayesmeta(y, np.full(k, s), tau_prior="halfcauchy(1)")
    ml = post.ml_estimates()
    assert ml.joint.tau == pytest.approx(math.sqrt(max(0.0, S / k - s**2)), abs=CLOSED)
    assert ml.joint.mu == pytest.approx(y.mean(), abs=CLOSED)   # equal weights
    assert ml.marginal.tau == pytest.approx(math.sqrt(max(0.0, S / (k - 1) - s**2)), abs=CLOSED)


def test_second_example_hits_the_boundary():
    y = np.array([0.01, -0.02, 0.0, 0.015, -0.01])
    post = bayesmeta(y, np.full(5, 0.2), tau_prior="halfcauchy(1)")
    assert post.ml_estimates().joint.tau == 0.0 and post.ml_estimates().marginal.tau == 0.0
    # half-Cauchy density decreases from tau = 0 and the likelihood too: MAP at tau = 0
    assert post.map_estimates().joint.tau == 0.0 and post.mode("tau") == 0.0


def test_one_study_lognormal_prior_mode_is_the_prior_mode():
    m, s = -2.56, 1.74   # lognormal_tau2(m, s): log tau^2 ~ N(m, s^2)
    post = bayesmeta([0.3], [0.25], tau_prior=f"lognormal_tau2({m}, {s})")
    # tau ~ LogNormal(m/2, s/2): mode exp(m/2 - (s/2)^2)
    assert post.mode("tau") == pytest.approx(math.exp(m / 2 - s**2 / 4), rel=CLOSED)
    assert post.mode("mu") == pytest.approx(0.3, abs=CLOSED)
    assert post.mode("predict") == pytest.approx(0.3, abs=CLOSED)
    # k = 1, flat mu: the likelihood of tau is constant, so it has no maximum
    assert math.isnan(post.ml_estimates().marginal.tau)
    # the joint likelihood is largest with all variation put in the sampling error
    assert post.ml_estimates().joint == type(post.ml_estimates().joint)(0.0, 0.3)


def test_one_study_halfnormal_map_closed_form():
    # k = 1, flat mu: p(tau, mu | y) ∝ p(tau) N(y; mu, s^2 + tau^2); over mu the maximum is
    # p(tau) / sqrt(2 pi (s^2 + tau^2)), decreasing in tau for a half-normal: (0, y)
    post = bayesmeta([0.3], [0.25], tau_prior="halfnormal(0.5)")
    est = post.map_estimates().joint
    assert (est.tau, est.mu) == (0.0, pytest.approx(0.3, abs=CLOSED))


def test_fixed_tau():
    post = bayesmeta([0.1, 0.3], [0.2, 0.1], tau_prior="fixed", mu_prior="normal(0, 4)")
    w = np.array([25.0, 100.0, 1 / 16])
    m = float((w * np.array([0.1, 0.3, 0.0])).sum() / w.sum())
    assert post.mode("tau") == 0.0 and post.mode("mu") == pytest.approx(m, abs=CLOSED)
    assert post.map_estimates().joint.mu == pytest.approx(m, abs=CLOSED)


# ---------------------------------------------------------------------------
# brute force on Crins et al. (2014): half-normal(0.5) tau, normal(0, 4) mu
# ---------------------------------------------------------------------------
HN, M0, SD0 = 0.5, 0.0, 4.0


def _log_joint(tau, mu, y, s2):
    """log p(tau) + log p(mu) + log p(y | tau, mu), straight from the model."""
    tau = np.asarray(tau, dtype=float)[..., None]
    mu = np.asarray(mu, dtype=float)[..., None]
    lik = stats.norm.logpdf(y, loc=mu, scale=np.sqrt(s2 + tau**2)).sum(axis=-1)
    return stats.halfnorm.logpdf(tau[..., 0], scale=HN) + stats.norm.logpdf(mu[..., 0], M0, SD0) + lik


@pytest.fixture(scope="module")
def crins():
    y, v = crins_log_or()
    post = bayesmeta(y, np.sqrt(v), tau_prior=f"halfnormal({HN})", mu_prior=f"normal({M0}, {SD0})")
    tau = np.linspace(0.0, 6.0, 20_001)   # half-normal(0.5): P(tau > 6) ~ 1e-33
    return y, v, post, tau


def _golden_max(f, a, b):
    res = optimize.minimize_scalar(lambda x: -f(x), bounds=(a, b), method="bounded",
                                   options={"xatol": 1e-12})
    return float(res.x)


def _grid_then_refine(f, grid):
    vals = np.array([f(x) for x in grid])
    i = int(np.argmax(vals))
    return _golden_max(f, grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)])


def test_joint_map_brute_force(crins):
    y, v, post, _ = crins
    best = None
    for t0, m0 in [(0.1, -1.0), (0.5, -1.5), (1.0, 0.0), (0.3, -0.5)]:
        res = optimize.minimize(lambda p: -_log_joint(abs(p[0]), p[1], y, v), [t0, m0],
                                method="Nelder-Mead",
                                options={"xatol": 1e-11, "fatol": 1e-14, "maxiter": 20000})
        if best is None or res.fun < best.fun:
            best = res
    est = post.map_estimates().joint
    assert est.tau == pytest.approx(abs(best.x[0]), abs=BRUTE)
    assert est.mu == pytest.approx(best.x[1], abs=BRUTE)


def _mu_unnormalised(mu, y, v, tau, with_prior=True):
    """p(y | mu) p(mu) = integral p(tau) p(mu) p(y | tau, mu) dtau (Simpson over ``tau``)."""
    lj = _log_joint(tau, np.full_like(tau, mu), y, v)
    if not with_prior:
        lj = lj - stats.norm.logpdf(mu, M0, SD0)
    return float(integrate.simpson(np.exp(lj), x=tau))


def test_marginal_mode_of_mu_brute_force(crins):
    y, v, post, tau = crins
    f = lambda mu: math.log(_mu_unnormalised(mu, y, v, tau))  # noqa: E731
    want = _grid_then_refine(f, np.linspace(-3.0, 1.0, 21))
    assert post.mode("mu") == pytest.approx(want, abs=BRUTE)
    assert post.map_estimates().marginal.mu == post.mode("mu")


def test_marginal_ml_of_mu_brute_force(crins):
    y, v, post, tau = crins
    f = lambda mu: math.log(_mu_unnormalised(mu, y, v, tau, with_prior=False))  # noqa: E731
    want = _grid_then_refine(f, np.linspace(-3.0, 1.0, 21))
    assert post.ml_estimates().marginal.mu == pytest.approx(want, abs=BRUTE)


def _tau_unnormalised(t, y, v, with_prior=True):
    """p(y | tau) (p(tau)) = integral p(mu) p(y | tau, mu) dmu (Simpson over mu)."""
    mu = np.linspace(-25.0, 25.0, 20_001)   # normal(0, 4) prior: +-25 is 6.25 SD
    lj = _log_joint(np.full_like(mu, t), mu, y, v)
    if not with_prior:
        lj = lj - stats.halfnorm.logpdf(t, scale=HN)
    return float(integrate.simpson(np.exp(lj), x=mu))


def test_marginal_mode_and_ml_of_tau_brute_force(crins):
    y, v, post, _ = crins
    grid = np.linspace(0.0, 2.0, 21)
    mode = _grid_then_refine(lambda t: math.log(_tau_unnormalised(t, y, v)), grid)
    ml = _grid_then_refine(lambda t: math.log(_tau_unnormalised(t, y, v, with_prior=False)), grid)
    assert post.mode("tau") == pytest.approx(mode, abs=BRUTE)
    assert post.ml_estimates().marginal.tau == pytest.approx(ml, abs=BRUTE)
    assert post.modes().tau == post.mode("tau")


def test_predictive_mode_brute_force(crins):
    y, v, post, _ = crins
    # p(theta) = integral dtau p(tau) integral dz phi(z) p(mu) p(y | tau, mu) with mu = theta - tau z
    # (theta_new = mu + tau z): Gauss-Hermite in z (60 nodes), Simpson over tau on [0, 3]
    # (half-normal(0.5): P(tau > 3) ~ 2e-9)
    z, wz = np.polynomial.hermite_e.hermegauss(60)
    wz = wz / wz.sum()
    tau = np.linspace(0.0, 3.0, 1501)

    def log_dens(theta):
        mu = theta - tau[:, None] * z[None, :]
        lj = _log_joint(np.broadcast_to(tau[:, None], mu.shape), mu, y, v)
        return math.log(integrate.simpson(np.exp(lj) @ wz, x=tau))

    want = _grid_then_refine(log_dens, np.linspace(-3.0, 1.0, 21))
    assert post.modes().predict == pytest.approx(want, abs=BRUTE)
