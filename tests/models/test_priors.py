"""PyMC translation of survmeta.priors: densities must equal the numpy ones."""

import numpy as np
import pymc as pm
import pytest

from survmeta.models.priors import UnsupportedPriorError, as_prior, mu_rv, prior_key, tau_rv
from survmeta.priors import Prior, parse_prior

# Source of truth: survmeta.priors (numpy/scipy densities). Tolerance 1e-7 on the
# log density: PyMC's normalising constants (log 2, log pi, ...) enter as literals
# rounded to single precision (measured offsets up to 2e-8, constant in x), far
# below anything that moves a posterior.
TOL = 1e-7
TAU_POINTS = np.array([0.01, 0.1, 0.35, 0.9, 1.7])
MU_POINTS = np.array([-2.0, -0.3, 0.0, 0.4, 1.5])


def _pymc_logp(make_rv, points):
    with pm.Model():
        rv = make_rv()
    return np.array([float(pm.logp(rv, x).eval()) for x in points])


@pytest.mark.parametrize(
    "spec",
    [
        "halfnormal(0.5)",
        "halfcauchy(0.5)",
        "halft(3, 0.5)",
        "uniform(0, 2)",
        "exponential(2)",
        "lognormal_tau2(-2.56, 1.74)",
        "turner(all-cause-mortality, pharma-vs-placebo)",
    ],
)
def test_tau_density_matches_numpy(spec):
    prior = parse_prior(spec, "tau")
    got = _pymc_logp(lambda: tau_rv("tau", prior), TAU_POINTS)
    np.testing.assert_allclose(got, prior.logpdf(TAU_POINTS), rtol=0, atol=TOL)


@pytest.mark.parametrize("spec", ["normal(0, 4)", "normal(-0.2, 1)"])
def test_mu_density_matches_numpy(spec):
    prior = parse_prior(spec, "mu")
    got = _pymc_logp(lambda: mu_rv("mu", prior), MU_POINTS)
    np.testing.assert_allclose(got, prior.logpdf(MU_POINTS), rtol=0, atol=TOL)


def test_flat_and_fixed():
    with pm.Model() as model:
        tau_rv("tau", "fixed")
        mu_rv("mu", "flat")
    assert model["tau"].eval() == 0.0
    assert model["mu"] in model.free_RVs


def test_custom_density_needs_exact_engine():
    custom = Prior.from_density(lambda x: 2.0 * np.exp(-2.0 * x))
    with pm.Model(), pytest.raises(UnsupportedPriorError, match="exact engine"):
        tau_rv("tau", custom)


def test_wrong_kind_family_is_rejected():
    class Stub:  # a Prior-like object with a mu family, used for tau
        family = "normal"
        params = {"mean": 0.0, "sd": 1.0}

    with pm.Model(), pytest.raises(UnsupportedPriorError, match="not a heterogeneity prior"):
        tau_rv("tau", Stub())


def test_defaults_and_key():
    assert as_prior(None, "tau").spec == "halfnormal(0.5)"
    assert as_prior(None, "mu").spec == "normal(0, 4)"
    assert prior_key(as_prior("halfnormal(0.5)", "tau")) == ("halfnormal", (("scale", 0.5),))
