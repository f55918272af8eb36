"""The nutpie sampler path of the random-effects model.

nutpie compiles the model with Numba once per process and data shape (seconds),
so every test here shares one compiled k = 8 model (eight schools data).
"""

import sys

import arviz as az
import numpy as np
import pytest

from survmeta.errors import SurvmetaError
from survmeta.exact import bayesmeta
from survmeta.models import diagnose, fit_random_effects
from survmeta.models.random_effects import MissingSamplerError

from .conftest import EIGHT_SCHOOLS_LABELS, EIGHT_SCHOOLS_SIGMA, EIGHT_SCHOOLS_Y

SEED = 20260101
#: Agreement with the exact engine: within 3 Monte Carlo standard errors of the mean.
N_MCSE = 3.0
PRIORS = dict(tau_prior="halfnormal(10)", mu_prior="flat")


@pytest.fixture(scope="module")
def fit():
    pytest.importorskip("nutpie")
    return fit_random_effects(EIGHT_SCHOOLS_Y, EIGHT_SCHOOLS_SIGMA, labels=EIGHT_SCHOOLS_LABELS,
                              draws=2000, tune=1000, chains=2, random_seed=SEED,
                              nuts_sampler="nutpie", **PRIORS)


@pytest.mark.mcmc
@pytest.mark.parametrize("name", ["mu", "tau", "predict"])
def test_nutpie_agrees_with_exact_engine(fit, name):
    exact = bayesmeta(EIGHT_SCHOOLS_Y, EIGHT_SCHOOLS_SIGMA, **PRIORS)
    got = float(fit["posterior"][name].mean())
    mcse = float(az.mcse(fit, var_names=[name])[name].values)
    assert abs(got - exact.mean(name)) <= N_MCSE * mcse


@pytest.mark.mcmc
def test_nutpie_output_laid_out_as_pymc(fit, tmp_path):
    post = fit["posterior"]
    assert set(post.data_vars) == {"mu", "tau", "theta", "predict"}  # no z_mu
    assert list(post["study"].values) == EIGHT_SCHOOLS_LABELS
    stats = fit["sample_stats"]
    assert {"diverging", "tree_depth", "reached_max_treedepth"} <= set(stats.data_vars)
    assert not any(stats[v].dtype == object for v in stats.data_vars)
    assert "warmup_posterior" not in fit.children
    assert float(post.attrs["sampling_time"]) > 0
    diag = diagnose(fit)
    assert diag.divergences == 0 and diag.treedepth_hits == 0
    assert diag.chains == 2 and diag.draws == 2000
    fit.to_netcdf(tmp_path / "fit.nc")  # no text-valued statistics left to trip netCDF


@pytest.mark.mcmc
def test_nutpie_same_seed_same_numbers_new_data_same_compiled_model(fit):
    kw = dict(labels=EIGHT_SCHOOLS_LABELS, draws=2000, tune=1000, chains=2,
              nuts_sampler="nutpie", **PRIORS)
    again = fit_random_effects(EIGHT_SCHOOLS_Y, EIGHT_SCHOOLS_SIGMA, random_seed=SEED, **kw)
    for name in ("mu", "tau", "theta", "predict"):
        np.testing.assert_array_equal(fit["posterior"][name].values, again["posterior"][name].values)
    # new data of the same length reuse the compiled model and are really used
    shifted = fit_random_effects(EIGHT_SCHOOLS_Y + 20.0, EIGHT_SCHOOLS_SIGMA, random_seed=SEED, **kw)
    # with a flat mu prior the posterior of mu shifts exactly with y (closed form: p(tau | y)
    # is unchanged, mu | tau, y moves by the shift); the two fits' means are independent
    # Monte Carlo estimates, so allow 3 combined MCSEs
    delta = float(shifted["posterior"]["mu"].mean() - fit["posterior"]["mu"].mean())
    mcse = np.hypot(*(float(az.mcse(f, var_names=["mu"])["mu"].values) for f in (fit, shifted)))
    assert abs(delta - 20.0) <= N_MCSE * mcse


def test_unknown_sampler_is_refused():
    with pytest.raises(ValueError, match="nuts_sampler must be one of"):
        fit_random_effects([0.1, 0.2], [0.1, 0.1], nuts_sampler="stan", draws=10, tune=10)


def test_missing_nutpie_is_a_user_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "nutpie", None)  # import nutpie -> ImportError
    with pytest.raises(MissingSamplerError, match="pip install 'survmeta\\[nutpie\\]'") as info:
        fit_random_effects([0.1, 0.2, 0.3, 0.4, 0.5], [0.1] * 5, nuts_sampler="nutpie",
                           draws=10, tune=10)
    assert isinstance(info.value, SurvmetaError)


@pytest.mark.mcmc
def test_nutpie_refit_with_new_labels_labels_the_draws_anew():
    """nutpie keeps the coordinates a model was compiled with; the posterior must carry the
    labels of the current fit (noncentred model: theta is sampled, not drawn afterwards)."""
    pytest.importorskip("nutpie")
    kw = dict(draws=200, tune=200, chains=1, random_seed=SEED, nuts_sampler="nutpie",
              parametrization="noncentred", **PRIORS)
    first = fit_random_effects(EIGHT_SCHOOLS_Y, EIGHT_SCHOOLS_SIGMA, labels=EIGHT_SCHOOLS_LABELS,
                               **kw)
    lower = [x.lower() for x in EIGHT_SCHOOLS_LABELS]
    second = fit_random_effects(EIGHT_SCHOOLS_Y, EIGHT_SCHOOLS_SIGMA, labels=lower, **kw)
    assert list(first["posterior"]["study"].values) == EIGHT_SCHOOLS_LABELS
    assert list(second["posterior"]["study"].values) == lower
    assert list(second["observed_data"]["study"].values) == lower
