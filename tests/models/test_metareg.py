"""PyMC meta-regression (``fit_metareg``) against the exact engine's ``bmr`` on dat.bcg.

The model is the one of :func:`survmeta.exact.bmr` (bayesmeta's ``bmr()``), which
tests/exact/test_bmr.py checks against brute-force integration of the joint
posterior; here the NUTS draws of the intercept, the ``ablat`` slope and tau must
agree with it: posterior means and the ends of the 95% equal-tailed interval within
``N_MCSE`` Monte Carlo standard errors (arviz-stats' ``mcse``, method ``"mean"`` and
``"quantile"``), and no divergent transitions.
"""

import sys
from pathlib import Path

import arviz_stats as azs
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exact"))
from _exact_data import BCG_ABLAT, bcg_log_rr  # noqa: E402

from survmeta.errors import SurvmetaError  # noqa: E402
from survmeta.exact import bmr  # noqa: E402
from survmeta.models import MCMCMetaRegression, fit_metareg  # noqa: E402

SEED = 20260101
#: Agreement with the exact engine: within 4 Monte Carlo standard errors.
N_MCSE = 4.0
LEVEL = 0.95
#: Prior settings of tests/exact/test_bmr.py: bmr's defaults (flat tau, flat
#: coefficients) and halfnormal(0.5) on tau with Normal(0, 4^2), Normal(0, 1) on
#: the intercept and the slope.
CASES = {
    "flat": {},
    "proper": {"tau_prior": "halfnormal(0.5)", "beta_sd": [4.0, 1.0]},
}
#: Short runs: two chains of 1000 draws after 500 tuning steps.
RUN = {"draws": 1000, "tune": 500, "chains": 2}


@pytest.fixture(scope="module")
def bcg():
    yi, vi = bcg_log_rr()
    return yi, np.sqrt(vi)


@pytest.fixture(scope="module")
def fits(bcg):
    y, s = bcg
    return {case: fit_metareg(y, s, {"ablat": BCG_ABLAT}, random_seed=SEED, level=LEVEL,
                              **RUN, **kw)
            for case, kw in CASES.items()}


def _draws(fit: MCMCMetaRegression, name: str):
    post = fit.idata["posterior"]
    return post["tau"] if name == "tau" else post["beta"].sel(coef=name)


@pytest.mark.mcmc
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", ["intrcpt", "ablat", "tau"])
def test_agrees_with_exact_bmr(bcg, fits, case, name):
    y, s = bcg
    exact = bmr(y, s, {"ablat": BCG_ABLAT}, level=LEVEL, **CASES[case])
    want = exact.tau if name == "tau" else exact.coef(name)
    fit = fits[case]
    got = fit.tau if name == "tau" else fit.coef(name)
    da = _draws(fit, name)
    assert got.mean == pytest.approx(float(da.mean()))
    assert abs(got.mean - want.mean) <= N_MCSE * float(azs.mcse(da, method="mean"))
    for end, prob in (("lower", (1 - LEVEL) / 2), ("upper", (1 + LEVEL) / 2)):
        mcse = float(azs.mcse(da, method="quantile", prob=prob))
        assert abs(getattr(got, end) - getattr(want, end)) <= N_MCSE * mcse, end


@pytest.mark.mcmc
@pytest.mark.parametrize("case", CASES)
def test_no_divergences_and_converged(fits, case):
    fit = fits[case]
    assert fit.divergences == 0
    assert fit.r_hat_max < 1.01 and fit.ess_bulk_min > 400
    assert fit.warnings == ()


@pytest.mark.mcmc
def test_result_layout_and_seed(bcg, fits):
    fit = fits["proper"]
    assert (fit.k, fit.p, fit.names) == (13, 2, ("intrcpt", "ablat"))
    assert (fit.tau_prior, fit.beta_prior) == ("halfnormal(0.5)", "normal")
    assert fits["flat"].beta_prior == "flat"
    post = fit.idata["posterior"]
    assert list(post["beta"].coords["coef"].values) == ["intrcpt", "ablat"]
    assert post["beta"].sizes == {"chain": 2, "draw": 1000, "coef": 2}
    assert post.attrs["survmeta_model"] == "metareg"
    assert post.attrs["survmeta_random_seed"] == SEED
    assert fit.idata["observed_data"]["y_obs"].size == 13
    with pytest.raises(SurvmetaError, match="no coefficient 'year'"):
        fit.coef("year")
    y, s = bcg
    again = fit_metareg(y, s, BCG_ABLAT, names=["ablat"], random_seed=SEED, level=LEVEL,
                        **RUN, **CASES["proper"])
    assert again.coefficients == fit.coefficients and again.tau == fit.tau


@pytest.mark.parametrize("kwargs,message", [
    ({"mods": np.ones(13)}, "collinear"),
    ({"beta_mean": 0.0}, "needs beta_sd"),
    ({"beta_sd": [1.0, 2.0, 3.0]}, "one value or 2"),
    ({"beta_sd": -1.0}, "positive"),
    ({"names": ["a", "b"]}, "2 names for 1 moderators"),
    ({"mods": BCG_ABLAT[:5]}, "one row per study"),
    ({"tau_prior": "custom"}, "prior"),
])
def test_bad_input_before_sampling(bcg, kwargs, message):
    y, s = bcg
    args = {"mods": BCG_ABLAT, **kwargs}
    with pytest.raises((SurvmetaError, ValueError), match=message):
        fit_metareg(y, s, **args)


def test_improper_posterior_refused(bcg):
    y, s = bcg
    with pytest.raises(SurvmetaError, match="improper posterior"):
        fit_metareg(y[:3], s[:3], BCG_ABLAT[:3])
