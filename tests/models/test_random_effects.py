"""Per-question random-effects model: agreement with the exact engine, seeds, divergences."""

import arviz as az
import numpy as np
import pytest
from scipy import stats

from survmeta.exact import bayesmeta
from survmeta.models import diagnose, fit_random_effects
from survmeta.models.random_effects import _cached_model, cluster_structure, conditional_theta

from .conftest import EIGHT_SCHOOLS_LABELS, EIGHT_SCHOOLS_SIGMA, EIGHT_SCHOOLS_Y, loghr3

SEED = 20260101
#: Agreement with the exact engine: within 3 Monte Carlo standard errors of the mean.
N_MCSE = 3.0
#: Brute-force 2-D quadrature vs the exact engine: relative 1e-3 (grid spacing error
#: of the trapezoid rule on the grids below is < 1e-4 relative).
QUAD_RTOL = 1e-3

CASES = {
    "eight_schools": (EIGHT_SCHOOLS_Y, EIGHT_SCHOOLS_SIGMA, "halfnormal(10)", "flat",
                      np.linspace(-40.0, 55.0, 1501), np.linspace(0.0, 60.0, 2001)),
    "loghr3": (*loghr3(), "halfnormal(0.5)", "normal(0, 4)",
               np.linspace(-2.0, 1.5, 1501), np.linspace(0.0, 3.0, 2001)),
}


def brute_force_means(y, sigma, tau_prior, mu_prior, mu_grid, tau_grid):
    """Posterior means of mu and tau by 2-D trapezoid integration of prior x likelihood.

    The likelihood is the closed form of the marginal model,
    prod_i Normal(y_i | mu, s_i^2 + tau^2); priors are written out here
    (independently of survmeta.priors).
    """
    m, t = np.meshgrid(mu_grid, tau_grid, indexing="ij")
    sd = np.sqrt(sigma[None, None, :] ** 2 + t[..., None] ** 2)
    logp = stats.norm.logpdf(y[None, None, :], m[..., None], sd).sum(axis=-1)
    scale = float(tau_prior[len("halfnormal("):-1])
    logp += stats.halfnorm.logpdf(t, scale=scale)
    if mu_prior != "flat":
        logp += stats.norm.logpdf(m, 0.0, 4.0)
    w = np.exp(logp - logp.max())
    z = np.trapezoid(np.trapezoid(w, tau_grid, axis=1), mu_grid)
    mean = lambda f: np.trapezoid(np.trapezoid(w * f, tau_grid, axis=1), mu_grid) / z  # noqa: E731
    return {"mu": mean(m), "tau": mean(t)}


@pytest.mark.parametrize("case", CASES)
def test_exact_engine_matches_brute_force(case):
    y, sigma, tau_prior, mu_prior, mu_grid, tau_grid = CASES[case]
    ref = brute_force_means(y, sigma, tau_prior, mu_prior, mu_grid, tau_grid)
    post = bayesmeta(y, sigma, tau_prior=tau_prior, mu_prior=mu_prior)
    for name in ("mu", "tau"):
        assert post.mean(name) == pytest.approx(ref[name], rel=QUAD_RTOL)


@pytest.fixture(scope="module")
def fits():
    out = {}
    for case, (y, sigma, tau_prior, mu_prior, *_) in CASES.items():
        out[case] = fit_random_effects(y, sigma, tau_prior=tau_prior, mu_prior=mu_prior,
                                       draws=2000, tune=1000, chains=2, random_seed=SEED)
    return out


def _mcse(idata, name):
    return float(az.mcse(idata, var_names=[name])[name].values)


@pytest.mark.mcmc
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", ["mu", "tau"])
def test_marginal_agrees_with_exact_engine(fits, case, name):
    y, sigma, tau_prior, mu_prior, *_ = CASES[case]
    exact = bayesmeta(y, sigma, tau_prior=tau_prior, mu_prior=mu_prior)
    idata = fits[case]
    got = float(idata["posterior"][name].mean())
    assert abs(got - exact.mean(name)) <= N_MCSE * _mcse(idata, name)


@pytest.mark.mcmc
def test_posthoc_theta_and_predict_agree_with_exact_engine(fits):
    y, sigma, tau_prior, mu_prior, *_ = CASES["eight_schools"]
    exact = bayesmeta(y, sigma, tau_prior=tau_prior, mu_prior=mu_prior)
    idata = fits["eight_schools"]
    post = idata["posterior"]
    theta_a = post["theta"].isel(study=0)
    assert abs(float(theta_a.mean()) - exact.mean("theta[1]")) <= N_MCSE * float(
        az.mcse(theta_a.to_dataset(name="t"))["t"].values)
    pred = post["predict"]
    assert abs(float(pred.mean()) - exact.mean("predict")) <= N_MCSE * _mcse(idata, "predict")


@pytest.mark.mcmc
def test_output_layout_and_clean_diagnostics(fits):
    idata = fits["eight_schools"]
    post = idata["posterior"]
    assert {"mu", "tau", "theta", "predict"} <= set(post.data_vars)
    assert post["theta"].dims == ("chain", "draw", "study")
    assert {"diverging", "tree_depth", "reached_max_treedepth"} <= set(idata["sample_stats"].data_vars)
    assert "y_obs" in idata["observed_data"].data_vars
    diag = diagnose(idata)
    assert diag.divergences == 0 and diag.treedepth_hits == 0
    assert diag.r_hat_max <= 1.01


@pytest.mark.mcmc
def test_same_seed_same_numbers_and_model_reuse():
    y, sigma = loghr3()
    kw = dict(draws=200, tune=200, chains=2, random_seed=7)
    a = fit_random_effects(y, sigma, labels=["a", "b", "c"], **kw)
    b = fit_random_effects(y, sigma, labels=["a", "b", "c"], **kw)
    for name in ("mu", "tau", "theta", "predict"):
        np.testing.assert_array_equal(a["posterior"][name].values, b["posterior"][name].values)
    c = fit_random_effects(y + 0.1, sigma, labels=["x", "y", "z"], **kw)
    assert not np.array_equal(a["posterior"]["mu"].values, c["posterior"]["mu"].values)
    assert list(c["posterior"]["study"].values) == ["x", "y", "z"]
    np.testing.assert_array_equal(c["constant_data"]["y"].values, y + 0.1)
    from survmeta.models.priors import as_prior

    first = _cached_model(3, as_prior(None, "tau"), as_prior(None, "mu"), "marginal", None)
    again = _cached_model(3, as_prior(None, "tau"), as_prior(None, "mu"), "marginal", None)
    assert first is again


#: Small log-HR meta-analyses, k = 2..5 (HRs and SEs typical of oncology trials).
SMALL = {
    2: ([0.70, 0.95], [0.12, 0.20]),
    3: ([0.62, 0.88, 1.05], [0.15, 0.10, 0.25]),
    4: ([0.55, 0.80, 0.75, 1.10], [0.20, 0.12, 0.30, 0.18]),
    5: ([0.66, 0.72, 0.91, 0.58, 0.84], [0.09, 0.14, 0.22, 0.31, 0.11]),
}


@pytest.mark.mcmc
@pytest.mark.parametrize("k", sorted(SMALL))
def test_marginal_does_not_diverge_for_small_k(k):
    hr, se = SMALL[k]
    idata = fit_random_effects(np.log(hr), se, draws=500, tune=500, chains=2, random_seed=SEED)
    assert int(idata["sample_stats"]["diverging"].sum()) == 0


@pytest.mark.mcmc
def test_noncentred_agrees_with_exact_engine():
    y, sigma = loghr3()
    idata = fit_random_effects(y, sigma, parametrization="noncentred", draws=1000, tune=1000,
                               random_seed=SEED)
    exact = bayesmeta(y, sigma, tau_prior="halfnormal(0.5)", mu_prior="normal(0, 4)")
    for name in ("mu", "tau"):
        got = float(idata["posterior"][name].mean())
        assert abs(got - exact.mean(name)) <= N_MCSE * _mcse(idata, name)


@pytest.mark.mcmc
def test_cluster_adds_within_study_correlation():
    hr, se = SMALL[4]
    idata = fit_random_effects(np.log(hr), se, cluster=["s1", "s1", "s2", "s3"],
                               draws=300, tune=300, random_seed=SEED)
    assert "rho" in idata["posterior"].data_vars
    assert idata["posterior"].attrs["survmeta_clustered"] == 1


def test_cluster_structure():
    assert cluster_structure(None, 3) is None
    assert cluster_structure(["a", "b", "c"], 3) is None
    assert cluster_structure(["a", "b", "a", "c", "b"], 5) == (0, 1, 0, -1, 1)
    with pytest.raises(ValueError):
        cluster_structure(["a"], 2)


def test_conditional_theta_limits():
    # tau = 0: theta equals the centre; huge tau: theta ~ N(y, v) (conjugate normal algebra).
    y, v = np.array([1.0]), np.array([0.25])
    rng = np.random.default_rng(0)
    draws = conditional_theta(y, v, np.zeros((1, 4000, 1)), np.zeros((1, 4000, 1)), rng)
    assert np.all(draws == 0.0)
    draws = conditional_theta(y, v, np.zeros((1, 4000, 1)), np.full((1, 4000, 1), 1e12), rng)
    # 4000 draws of N(1, 0.25): SE of the mean 0.5 / sqrt(4000) = 0.0079; 4 SE.
    assert abs(draws.mean() - 1.0) < 4 * 0.5 / np.sqrt(4000)


@pytest.mark.parametrize(
    "y, sigma, labels, match",
    [([0.1, 0.2], [0.1], None, "differ in length"),
     ([0.1, np.nan], [0.1, 0.2], None, "finite"),
     ([0.1, 0.2], [0.1, -0.2], None, "positive"),
     ([0.1, 0.2], [0.1, 0.2], ["a", "a"], "unique")],
)
def test_input_errors(y, sigma, labels, match):
    with pytest.raises(ValueError, match=match):
        fit_random_effects(y, sigma, labels=labels)


def test_unknown_parametrization():
    with pytest.raises(ValueError, match="parametrization"):
        fit_random_effects([0.1, 0.2], [0.1, 0.2], parametrization="funnel")


def test_labels_default():
    from survmeta.models.random_effects import _check_inputs

    assert _check_inputs([0.1], [0.2], None)[2] == ["study1"]
    assert EIGHT_SCHOOLS_LABELS[0] == "A"
