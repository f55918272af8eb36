"""Exact engine: the posterior draws and point estimates of a PoolResult are computed when
first asked for, and are the same numbers as when they were computed up front.

The reference is the exact engine called directly on the same rows in the order
``pool_question`` used to call it (summary, probabilities, then draws with the seed), so
these tests check that deferring the work changes no number.
"""

import numpy as np
import pandas as pd
import pytest

from survmeta.exact import bayesmeta, common_effect
from survmeta.pooling import _point_estimates, pool
from survmeta.priors import parse_prior
from survmeta.results import PoolResult

# Eight schools (Rubin 1981; Gelman et al., BDA3 Table 5.2).
SCHOOLS_Y = [28, 8, -3, 7, -1, 1, 18, 12]
SCHOOLS_S = [15, 10, 16, 11, 9, 11, 10, 18]
SEED = 20260101


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(7)
    se = rng.uniform(0.08, 0.4, 13)
    y = rng.normal(-0.2, np.sqrt(se**2 + 0.15**2))
    return pd.DataFrame({"study": [f"s{i + 1}" for i in range(13)], "log_hr": y, "se": se})


def _direct(effects):
    post = bayesmeta(effects["log_hr"], effects["se"], tau_prior="halfnormal(0.5)",
                     mu_prior="normal(0, 4)", labels=list(effects["key"]))
    post.summary(level=0.95)
    post.prob_below(1.0, scale="hr")
    return post


def test_posterior_is_drawn_on_first_access_with_the_seed_as_before(table):
    r = pool(table, seed=SEED)["effects"]
    assert "posterior" in r.__dict__["_compute"]  # nothing drawn yet
    eager = _direct(r.effects).sample(draws=4000, seed=SEED)["posterior"]
    lazy = r.posterior["posterior"]
    assert "posterior" not in r.__dict__["_compute"]
    for name in ("mu", "tau", "theta", "predict"):
        np.testing.assert_array_equal(lazy[name].values, eager[name].values)
    assert r.posterior is r.posterior  # drawn once


def test_point_estimates_on_first_access_equal_up_front_ones(table):
    r = pool(table, seed=SEED)["effects"]
    assert "point_estimates" in r.__dict__["_compute"]
    assert r.point_estimates == _point_estimates(_direct(r.effects))
    assert r.to_dict()["point_estimates"] == r.point_estimates


def test_no_draws_asked_for_gives_no_posterior(table):
    r = pool(table, draws=0)["effects"]
    assert r.posterior is None
    assert r.point_estimates is not None


def test_values_passed_to_the_constructor_are_kept():
    r = PoolResult(question={"id": "q"}, engine="mcmc", effects=pd.DataFrame(), stats={},
                   probabilities={}, priors={}, posterior="draws", point_estimates={"a": 1})
    assert r.posterior == "draws" and r.point_estimates == {"a": 1}
    r.posterior = None
    assert r.posterior is None
    assert PoolResult(question={"id": "q"}, engine="mcmc", effects=pd.DataFrame(), stats={},
                      probabilities={}, priors={}).posterior is None


def test_a_generator_seed_draws_at_once(table):
    r = pool(table, seed=np.random.default_rng(SEED))["effects"]
    assert "posterior" not in r.__dict__["_compute"]
    assert r.posterior is not None


def test_summary_without_study_rows_keeps_the_other_rows():
    mu_p = parse_prior("normal(0, 4)", "mu")
    for post in (common_effect(SCHOOLS_Y, SCHOOLS_S, mu_prior=mu_p),
                 bayesmeta(SCHOOLS_Y, SCHOOLS_S, tau_prior="halfnormal(10)", mu_prior=mu_p)):
        full, short = post.summary(), post.summary(studies=False)
        assert list(short.index) == ["mu", "tau", "hr", "predict_log_hr", "predict_hr"]
        pd.testing.assert_frame_equal(short, full.loc[short.index], rtol=1e-12, atol=1e-12)
    ce = common_effect(SCHOOLS_Y, SCHOOLS_S, mu_prior=mu_p)
    pd.testing.assert_frame_equal(ce.summary(studies=False),
                                  ce.summary().loc[["mu", "tau", "hr", "predict_log_hr",
                                                    "predict_hr"]], check_exact=True)
