"""The exact engine against bayesmeta's published numbers and brute-force integration."""


import numpy as np
import pytest
from scipy import integrate, stats

from _exact_data import (CRINS_LABELS, SCHOOLS_LABELS, SCHOOLS_SE, SCHOOLS_Y, crins_log_or)
from survmeta.exact import bayesmeta

# bayesmeta evaluates the tau marginal by adaptive integration (rel.tol ~1.5e-11),
# so tau summaries can be compared tightly.
TAU_TOL = 1e-6
# bayesmeta approximates the mu marginal by a discrete normal mixture (the DIRECT
# algorithm, default accuracy delta=0.01, epsilon=1e-4; Röver 2020, JSS 93(6),
# section 2.4); its printed mu numbers therefore carry an error of ~1e-4 of the
# posterior SD. We compare at 1e-3 of the posterior SD and check the exact
# values separately against brute-force 2-D integration.
MU_TOL_SD = 1e-3
BRUTE_TOL = 1e-5


@pytest.fixture(scope="module")
def schools():
    """bayesmeta vignette, section "A simple example": half-Cauchy(25) prior on tau,
    normal(0, 50) prior on mu."""
    return bayesmeta(SCHOOLS_Y, SCHOOLS_SE, tau_prior="halfcauchy(25)",
                     mu_prior="normal(0, 50)", labels=SCHOOLS_LABELS)


def test_schools_tau_matches_vignette(schools):
    """Vignette, ``print(schools.example.1)``: tau median 4.758539, mean 5.884511,
    sd 4.869904, shortest 95% interval [0, 15.165894]; ``post.interval(tau.level=0.95,
    method="central")`` = [0.2199559, 18.0531718]; ``qposterior(tau.p=0.95)`` = 15.16589."""
    assert schools.median("tau") == pytest.approx(4.758539, rel=TAU_TOL)
    assert schools.mean("tau") == pytest.approx(5.884511, rel=TAU_TOL)
    assert schools.sd("tau") == pytest.approx(4.869904, rel=TAU_TOL)
    lo, hi = schools.hdi("tau", 0.95)
    assert lo == 0.0
    assert hi == pytest.approx(15.165894, rel=TAU_TOL)
    lo, hi = schools.eti("tau", 0.95)
    assert lo == pytest.approx(0.2199559, rel=1e-5)
    assert hi == pytest.approx(18.0531718, rel=TAU_TOL)
    assert schools.quantile("tau", 0.95) == pytest.approx(15.16589, rel=1e-6)


def test_schools_mu_matches_vignette(schools):
    """Vignette: mu median 7.962961, mean 7.985729, sd 4.995762, shortest 95% interval
    [-1.823353, 17.824562]; ``1 - pposterior(mu=0)`` = 0.9487521;
    ``qposterior(mu.p=0.95)`` = 16.11009; predictive ("theta" column of
    ``$summary``) median 7.926819, mean 7.985729, sd 9.126767, 95% [-10.623526, 26.827377]."""
    tol = MU_TOL_SD * 4.995762
    assert schools.median("mu") == pytest.approx(7.962961, abs=tol)
    assert schools.mean("mu") == pytest.approx(7.985729, abs=tol)
    assert schools.sd("mu") == pytest.approx(4.995762, abs=tol)
    lo, hi = schools.hdi("mu", 0.95)
    assert lo == pytest.approx(-1.823353, abs=tol)
    assert hi == pytest.approx(17.824562, abs=tol)
    assert 1 - schools.cdf("mu", 0.0) == pytest.approx(0.9487521, abs=1e-4)
    assert schools.quantile("mu", 0.95) == pytest.approx(16.11009, abs=tol)
    ptol = MU_TOL_SD * 9.126767
    assert schools.median("predict") == pytest.approx(7.926819, abs=2 * ptol)
    assert schools.sd("predict") == pytest.approx(9.126767, abs=ptol)
    lo, hi = schools.hdi("predict", 0.95)
    assert lo == pytest.approx(-10.623526, abs=3 * ptol)
    assert hi == pytest.approx(26.827377, abs=3 * ptol)


@pytest.mark.parametrize("label, median, mean, sd, lower, upper", [
    ("A", 10.093581, 11.095255, 7.901084, -3.209562, 28.169723),
    ("G", 9.786985, 10.336032, 6.631039, -2.138807, 24.230908),
    ("H", 8.266594, 8.474644, 7.456906, -6.528854, 24.110315),
])
def test_schools_shrinkage_matches_vignette(schools, label, median, mean, sd, lower, upper):
    """Vignette, ``schools.example.1$theta[,c("A","G","H")]`` (shortest 95% intervals).

    bayesmeta's shrinkage summaries come from its mixture approximation and differ
    from exact integration by up to 3e-3 of the posterior SD (e.g. the mean of
    theta_A: printed 11.095255, brute-force 2-D integration 11.098054, see
    ``test_schools_shrinkage_mean_matches_brute_force``), so the tolerance here is
    5e-3 of the posterior SD."""
    marg = schools.marginal(f"theta[{label}]")
    tol = 5e-3 * sd
    assert marg.median() == pytest.approx(median, abs=tol)
    assert marg.mean() == pytest.approx(mean, abs=tol)
    assert marg.sd() == pytest.approx(sd, abs=tol)
    lo, hi = marg.hdi(0.95)
    assert lo == pytest.approx(lower, abs=tol)
    assert hi == pytest.approx(upper, abs=tol)


def test_schools_shrinkage_mean_matches_brute_force(schools):
    """E[theta_A | y] = E[a y_A + (1 - a) mu], a = tau^2 / (tau^2 + s_A^2), by 2-D quadrature."""
    tau_pdf = lambda t: stats.halfcauchy.pdf(t, scale=25)  # noqa: E731
    s2 = SCHOOLS_SE[0] ** 2

    def f(m, t):
        a = t * t / (t * t + s2)  # noqa: E731
        return a * SCHOOLS_Y[0] + (1 - a) * m
    expected = _brute(SCHOOLS_Y, SCHOOLS_SE, tau_pdf, 0, 50, f)
    assert schools.mean("theta[A]") == pytest.approx(expected, rel=BRUTE_TOL)


def _composite_gl(a, b, panels=40, order=20):
    nodes, weights = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(a, b, panels + 1)
    half, mid = np.diff(edges) / 2, (edges[:-1] + edges[1:]) / 2
    return (mid[:, None] + half[:, None] * nodes).ravel(), (half[:, None] * weights).ravel()


def _brute(y, s, tau_pdf, mu_mean, mu_sd, f, tau_max=np.inf):
    """E[f(mu, tau) | y] by brute-force 2-D product Gauss-Legendre quadrature over
    (mu, tau) of the full joint density, with no analytic integration over mu
    (independent of the engine's scheme). Infinite tau ranges use tau = u / (1 - u)."""
    lo = max(mu_mean - 12 * mu_sd, float(np.min(y - 12 * s)))
    hi = min(mu_mean + 12 * mu_sd, float(np.max(y + 12 * s)))
    mu, wm = _composite_gl(lo, hi)
    if np.isinf(tau_max):
        scale = float(np.median(s))
        u, wu = _composite_gl(0.0, 1.0, panels=80)
        tau, wt = scale * u / (1 - u), wu * scale / (1 - u) ** 2
    else:
        tau, wt = _composite_gl(0.0, tau_max)
    M, T = np.meshgrid(mu, tau, indexing="ij")
    var = s ** 2 + T[..., None] ** 2
    loglik = -0.5 * np.sum(np.log(2 * np.pi * var) + (y - M[..., None]) ** 2 / var, axis=-1)
    with np.errstate(divide="ignore"):
        logj = loglik + np.log(tau_pdf(T)) + stats.norm.logpdf(M, mu_mean, mu_sd)
    dens = np.exp(logj - np.max(logj)) * wm[:, None] * wt[None, :]
    return float(np.sum(f(M, T) * dens) / np.sum(dens))


def test_schools_mu_moments_match_brute_force(schools):
    """Posterior mean and SD of mu by brute-force 2-D integration (independent of the
    engine's quadrature)."""
    tau_pdf = lambda t: stats.halfcauchy.pdf(t, scale=25)  # noqa: E731
    m1 = _brute(SCHOOLS_Y, SCHOOLS_SE, tau_pdf, 0, 50, lambda m, t: m)
    m2 = _brute(SCHOOLS_Y, SCHOOLS_SE, tau_pdf, 0, 50, lambda m, t: m * m)
    assert schools.mean("mu") == pytest.approx(m1, rel=BRUTE_TOL)
    assert schools.sd("mu") == pytest.approx(np.sqrt(m2 - m1 ** 2), rel=BRUTE_TOL)


@pytest.fixture(scope="module")
def crins():
    """Crins et al. (2014) example of Röver (2020), JSS 93(6): half-normal(0.5) prior on
    tau, normal(0, 4) prior on mu, log odds ratios of acute rejection."""
    y, v = crins_log_or()
    return bayesmeta(y, np.sqrt(v), "halfnormal(0.5)", "normal(0, 4)", labels=CRINS_LABELS)


def test_crins_effect_sizes_match_vignette():
    """bayesmeta vignette, ``print(crins.es[,c("publication", "yi", "vi")])``."""
    y, v = crins_log_or()
    assert y == pytest.approx([-2.3097, -0.4595, -2.3026, -1.7579, -1.2585, -2.4179], abs=5e-5)
    assert v == pytest.approx([0.3594, 0.3096, 0.7750, 0.2078, 0.4122, 2.3373], abs=5e-5)


def test_crins_matches_brute_force(crins):
    """The posterior summaries printed in the JSS article for this example could not be
    retrieved, so the posterior mean/SD of mu and tau and P(tau < 0.5) are checked
    against brute-force 2-D integration instead (and the grid CDF of tau against 1-D
    quadrature of the exact density)."""
    y, v = crins_log_or()
    s = np.sqrt(v)
    tau_pdf = lambda t: stats.halfnorm.pdf(t, scale=0.5)  # noqa: E731
    # tau beyond 4 (8 prior SDs) carries prior mass below 1e-14
    mu1 = _brute(y, s, tau_pdf, 0, 4, lambda m, t: m, tau_max=4.0)
    mu2 = _brute(y, s, tau_pdf, 0, 4, lambda m, t: m * m, tau_max=4.0)
    t1 = _brute(y, s, tau_pdf, 0, 4, lambda m, t: t, tau_max=4.0)
    t2 = _brute(y, s, tau_pdf, 0, 4, lambda m, t: t * t, tau_max=4.0)
    assert crins.mean("mu") == pytest.approx(mu1, rel=BRUTE_TOL)
    assert crins.sd("mu") == pytest.approx(np.sqrt(mu2 - mu1 ** 2), rel=BRUTE_TOL)
    assert crins.mean("tau") == pytest.approx(t1, rel=BRUTE_TOL)
    assert crins.sd("tau") == pytest.approx(np.sqrt(t2 - t1 ** 2), rel=BRUTE_TOL)
    # P(tau < 0.5 | y) by 1-D quadrature of the normalised marginal density of tau
    p_half = integrate.quad(lambda t: float(crins.pdf("tau", t)), 0, 0.5, epsrel=1e-10)[0]
    assert crins.cdf("tau", 0.5) == pytest.approx(p_half, rel=BRUTE_TOL)
