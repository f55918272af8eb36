"""Results answer any interval level when asked (issue 13, item 2).

References:

* exact engine: the exact posterior's own quantiles and shortest intervals
  (``ExactPosterior.quantile`` / ``.hdi``), tolerance EXACT = 1e-12 (same code path,
  same quadrature);
* closed form: with tau fixed at 0 (``tau_prior="fixed"``) and a ``normal(0, 4)`` prior
  on mu, mu | y is normal with precision ``sum(1/se^2) + 1/16`` and mean
  ``sum(y/se^2) / precision``; its 90% interval (both kinds) is ``mean -/+ z sd`` with
  ``z = Phi^-1(0.95)``; tolerance QUAD = 1e-7 (numerical quadrature and root finding);
* draws: a result holding 200,000 independent N(0.3, 0.2^2) draws of mu; its 80%
  equal-tailed interval is within MC_TOL = 0.003 of ``0.3 -/+ 1.281552 * 0.2`` (the
  Monte Carlo SE of a 10% quantile of 2e5 draws is 0.2 * sqrt(0.09 / 2e5) / phi(1.2816)
  = 0.00077; the tolerance is about 4 of them). The shortest interval's endpoints drift
  along a flat width profile, so its width is checked with MC_TOL and its endpoints with
  HDI_TOL = 0.01.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.stats import norm

from survmeta.errors import SurvmetaError
from survmeta.pooling import pool_question
from survmeta.results import PoolResult, PoolSet, summarize_draws
from survmeta.summaries import Interval, ParameterSummary

EXACT = 1e-12
QUAD = 1e-7
MC_TOL = 0.003
HDI_TOL = 0.01

Y = [-0.35, -0.12, -0.48, 0.05]
SE = [0.15, 0.22, 0.30, 0.18]


def _effects(y=Y, se=SE) -> pd.DataFrame:
    from survmeta.pooling import effect_table

    df = pd.DataFrame({"study": [f"s{i}" for i in range(len(y))], "log_hr": y, "se": se,
                       "year": [2010 + i for i in range(len(y))]})
    effects, _ = effect_table(df)
    return effects


QUESTION = {"id": "effects", "title": "effects", "experimental": "e", "reference": "r",
            "outcome": "OS"}


@pytest.fixture(scope="module")
def exact95() -> PoolResult:
    return pool_question(_effects(), QUESTION, draws=0)


def test_stored_level_returns_the_stored_numbers_exactly(exact95):
    df = exact95.summary()
    assert df.attrs["level"] == 0.95
    assert list(df.index) == ["mu", "hr", "tau", "predict", "predict_hr"]
    assert list(df.columns) == ["mean", "median", "sd", "eti_lower", "eti_upper", "hdi_lower",
                                "hdi_upper"]
    for name in df.index:
        s = exact95.stats[name]
        assert df.loc[name, "median"] == s.median
        assert (df.loc[name, "eti_lower"], df.loc[name, "eti_upper"]) == s.eti.as_tuple()
        assert (df.loc[name, "hdi_lower"], df.loc[name, "hdi_upper"]) == s.hdi.as_tuple()
        assert exact95.interval(name, kind="hdi") == s.hdi
        assert exact95.parameter(name) is s
    pd.testing.assert_frame_equal(exact95.summary(0.95), df)
    pd.testing.assert_frame_equal(exact95.study_summary(0.95), exact95.study_summary())


def test_exact_level_90_equals_the_exact_posterior_quantiles(exact95):
    post = exact95.exact
    for ours, theirs in (("mu", "mu"), ("tau", "tau"), ("predict", "predict_log_hr")):
        iv = exact95.interval(ours, level=0.9)
        assert iv == Interval(iv.lower, iv.upper, 0.9, "eti")
        np.testing.assert_allclose(iv.as_tuple(), post.quantile(theirs, [0.05, 0.95]), rtol=EXACT)
        np.testing.assert_allclose(exact95.interval(ours, 0.9, "hdi").as_tuple(),
                                   post.hdi(theirs, 0.9), rtol=EXACT)
    for hr, log in (("hr", "mu"), ("predict_hr", "predict_log_hr")):
        np.testing.assert_allclose(exact95.interval(hr, 0.9).as_tuple(),
                                   np.exp(post.quantile(log, [0.05, 0.95])), rtol=EXACT)
        np.testing.assert_allclose(exact95.interval(hr, 0.9, "hdi").as_tuple(),
                                   np.exp(post.hdi(log, 0.9)), rtol=EXACT)
    df = exact95.summary(0.9)
    assert df.attrs["level"] == 0.9
    full = exact95.summary()
    pd.testing.assert_series_equal(df["median"], full["median"])
    assert (df["eti_upper"] - df["eti_lower"] < full["eti_upper"] - full["eti_lower"]).all()


def test_exact_at_another_level_matches_a_fresh_pool_at_that_level(exact95):
    res90 = pool_question(_effects(), QUESTION, draws=0, level=0.9)
    pd.testing.assert_frame_equal(exact95.summary(0.9), res90.summary(), rtol=EXACT)
    pd.testing.assert_frame_equal(exact95.study_summary(0.9), res90.study_summary(), rtol=EXACT)


def test_fixed_tau_closed_form():
    res = pool_question(_effects(), QUESTION, tau_prior="fixed", mu_prior="normal(0, 4)",
                        draws=0)
    w = 1 / np.asarray(SE) ** 2
    prec = w.sum() + 1 / 16
    mean, sd = float(np.sum(w * np.asarray(Y)) / prec), math.sqrt(1 / prec)
    z = norm.ppf(0.95)
    for kind in ("eti", "hdi"):
        iv = res.interval("mu", 0.9, kind)
        assert iv.lower == pytest.approx(mean - z * sd, abs=QUAD)
        assert iv.upper == pytest.approx(mean + z * sd, abs=QUAD)
        hr = res.interval("hr", 0.9, kind)
        assert hr.lower == pytest.approx(math.exp(mean - z * sd), rel=QUAD)


def test_study_summary_at_another_level(exact95):
    s = exact95.study_summary(0.9)
    assert s.attrs["level"] == 0.9
    z = norm.ppf(0.95)
    y, se = np.asarray(Y), np.asarray(SE)
    np.testing.assert_allclose(s["hr_lower"], np.exp(y - z * se), rtol=EXACT)
    np.testing.assert_allclose(s["hr_upper"], np.exp(y + z * se), rtol=EXACT)
    post = exact95.exact
    for i, key in enumerate(exact95.effects["key"]):
        np.testing.assert_allclose([s["shrunken_lower"][i], s["shrunken_upper"][i]],
                                   np.exp(post.quantile(f"theta[{key}]", [0.05, 0.95])),
                                   rtol=EXACT)


def _draws_result(seed=20240521, n=200_000) -> PoolResult:
    """An MCMC-like result whose mu, predict and theta draws are N(0.3, 0.2^2)."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(0.3, 0.2, size=n)
    tau = np.abs(rng.normal(0.0, 0.1, size=n))
    predict = rng.normal(0.3, 0.2, size=n)
    theta = rng.normal(0.3, 0.2, size=(n, 1))
    shape = (4, n // 4)
    ds = xr.Dataset({"mu": (("chain", "draw"), mu.reshape(shape)),
                     "tau": (("chain", "draw"), tau.reshape(shape)),
                     "predict": (("chain", "draw"), predict.reshape(shape)),
                     "theta": (("chain", "draw", "study"), theta.reshape(shape + (1,)))},
                    coords={"study": ["a/effect"]})
    level = 0.95
    stats = {"mu": summarize_draws(mu, level), "hr": summarize_draws(np.exp(mu), level),
             "tau": summarize_draws(tau, level), "predict": summarize_draws(predict, level),
             "predict_hr": summarize_draws(np.exp(predict), level)}
    effects = pd.DataFrame({"study": ["a"], "comparison": ["effect"], "key": ["a/effect"],
                            "method": ["direct"], "log_hr": [0.3], "se": [0.2], "hr": [1.35],
                            "hr_lower": [0.9], "hr_upper": [2.0], "theta_mean": [0.3],
                            "theta_lower": [-0.09], "theta_upper": [0.69], "weight": [100.0]})
    return PoolResult(question={"id": "q"}, engine="mcmc", effects=effects, stats=stats,
                      probabilities={"p_hr_below_1": float(np.mean(mu < 0))}, priors={},
                      posterior=xr.DataTree.from_dict({"posterior": ds}), level=level)


def test_draws_interval_within_monte_carlo_error_of_the_normal_quantiles():
    res = _draws_result()
    z = norm.ppf(0.9)
    for name in ("mu", "predict"):
        eti = res.interval(name, 0.8)
        assert eti.level == 0.8 and eti.kind == "eti"
        assert eti.lower == pytest.approx(0.3 - z * 0.2, abs=MC_TOL)
        assert eti.upper == pytest.approx(0.3 + z * 0.2, abs=MC_TOL)
        hdi = res.interval(name, 0.8, "hdi")
        assert hdi.width == pytest.approx(2 * z * 0.2, abs=MC_TOL)
        assert hdi.lower == pytest.approx(0.3 - z * 0.2, abs=HDI_TOL)
    hr = res.interval("hr", 0.8)
    assert hr.lower == pytest.approx(math.exp(0.3 - z * 0.2), rel=MC_TOL)
    hr_hdi, mu_hdi = res.interval("hr", 0.8, "hdi"), res.interval("mu", 0.8, "hdi")
    assert hr_hdi.as_tuple() == pytest.approx(np.exp(mu_hdi.as_tuple()), rel=EXACT)
    s = res.study_summary(0.8)
    assert math.log(s["shrunken_lower"][0]) == pytest.approx(0.3 - z * 0.2, abs=MC_TOL)
    assert res.summary().attrs["level"] == 0.95
    assert res.summary(0.8).loc["mu", "eti_lower"] == res.interval("mu", 0.8).lower


def test_saved_result_answers_at_its_level_only(exact95):
    saved = PoolSet.from_dict(json.loads(json.dumps(PoolSet([exact95]).to_dict())))["effects"]
    pd.testing.assert_frame_equal(saved.summary(), exact95.summary())
    assert saved.interval("hr") == exact95.interval("hr")
    assert saved.interval("tau", 0.95, "hdi") == exact95.interval("tau", 0.95, "hdi")
    for call in (lambda: saved.summary(0.9), lambda: saved.interval("mu", 0.9),
                 lambda: saved.study_summary(level=0.9)):
        with pytest.raises(SurvmetaError, match=r"intervals at 95% only.*--level 0\.9"):
            call()


def test_bad_requests_are_clear_errors(exact95):
    with pytest.raises(SurvmetaError, match="between 0 and 1"):
        exact95.summary(95)
    with pytest.raises(SurvmetaError, match="unknown parameter"):
        exact95.interval("theta")
    with pytest.raises(SurvmetaError, match="unknown interval kind"):
        exact95.interval("mu", 0.9, kind="shortest-ish")
    bare = PoolResult(question={"id": "q"}, engine="mcmc", effects=exact95.effects,
                      stats=exact95.stats, probabilities=exact95.probabilities, priors={})
    with pytest.raises(SurvmetaError, match="neither the exact posterior nor posterior draws"):
        bare.interval("mu", 0.9)


def test_interval_and_parameter_summary_records():
    iv = Interval(-0.5, 0.25, 0.9, "hdi")
    assert iv.width == 0.75
    assert iv.contains(0.0) and not iv.contains(0.3)
    np.testing.assert_array_equal(iv.contains([-0.6, -0.5, 0.25]), [False, True, True])
    assert Interval.from_dict(iv.to_dict()) == iv
    with pytest.raises(ValueError):
        Interval(0.0, 1.0, 0.9, "central")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Interval(1.0, 0.0, 0.9)
    ps = ParameterSummary("hr", float("nan"), 0.8, float("nan"), Interval(0.6, 1.1, 0.9, "eti"),
                          Interval(0.58, 1.05, 0.9, "hdi"))
    d = ps.to_dict()
    assert d["mean"] is None and d["eti"]["kind"] == "eti"
    back = ParameterSummary.from_dict(json.loads(json.dumps(d)))
    assert back.eti == ps.eti and back.hdi == ps.hdi and math.isnan(back.mean)
    assert back.level == 0.9
