"""Hierarchical model across questions: data preparation, layout, and a reduction check."""

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from survmeta.exact import bayesmeta
from survmeta.models import diagnose, fit_hierarchical
from survmeta.models.hierarchical import (
    DEFAULT_SIGMA_LOGTAU_SCALE,
    _tau_population,
    design_matrix,
    prepare_effects,
)
from survmeta.priors import Prior

from .conftest import loghr3

SEED = 20260101
N_MCSE = 3.0


def _row(question, study, log_hr, se, endpoint="OS", approximate=False, se_extra=0.0, **kw):
    return dict(question=question, study=study, comparison="c1", key=f"{study}/c1",
                log_hr=log_hr, se_sampling=se, se_extra=se_extra, endpoint=endpoint,
                design="RCT", method="median_ratio_ci" if approximate else "hr_ci",
                approximate=approximate, subgroup_of=None, poolable=True) | kw


def effect_table():
    """Three questions with 4, 2 and 1 studies; mixed endpoints; one approximate row."""
    return pd.DataFrame([
        _row("q1", "a", -0.33, 0.11), _row("q1", "b", -0.16, 0.13, endpoint="PFS"),
        _row("q1", "c", -0.45, 0.18), _row("q1", "d", -0.22, 0.15, approximate=True, se_extra=0.1),
        _row("q2", "e", 0.05, 0.20), _row("q2", "f", -0.10, 0.16, endpoint="PFS"),
        _row("q3", "g", -0.51, 0.21),
    ])


def test_prepare_effects_drops_unpoolable_and_subgroups():
    df = effect_table()
    extra = pd.DataFrame([
        _row("q1", "a", np.nan, np.nan, poolable=False) | {"comparison": "c9", "key": "a/c9"},
        _row("q1", "a", -0.5, 0.3, subgroup_of="c1") | {"comparison": "c2", "key": "a/c2"},
    ])
    out, notes = prepare_effects(pd.concat([df, extra], ignore_index=True))
    assert list(out["key"]) == list(df["key"])
    assert len(notes) == 2


def test_design_matrix_is_centred_within_questions():
    df = effect_table()
    x, names, notes = design_matrix(df, ("endpoint_os", "approximate", "design"))
    assert names == ["endpoint_os", "approximate"]
    # q1 has OS, PFS, OS, OS (mean 3/4); q2 has OS, PFS (mean 1/2); q3 one OS row (mean 1)
    np.testing.assert_allclose(x[:, 0], [0.25, -0.75, 0.25, 0.25, 0.5, -0.5, 0.0])
    # approximate: only q1's row d (mean 1/4 in q1); nothing elsewhere
    np.testing.assert_allclose(x[:, 1], [-0.25, -0.25, -0.25, 0.75, 0.0, 0.0, 0.0])
    assert notes == []  # "design" has one level: no indicator, nothing to drop
    with pytest.raises(ValueError, match="unknown covariate"):
        design_matrix(df, ("colour",))


def test_covariate_without_within_question_contrast_is_left_out_with_a_note():
    df = effect_table()
    df["endpoint"] = np.where(df["question"] == "q1", "OS after progression", "PFS on rechallenge")
    x, names, notes = design_matrix(df, ("endpoint_os",))
    assert names == [] and x.shape == (7, 0)
    assert "does not vary within any question" in notes[0]


@pytest.mark.parametrize("endpoint, expected", [
    ("OS", True), ("OS after progression", True), ("overall survival", True),
    ("PFS", False), ("PFS2", False), ("POST-progression survival", False), (None, False),
])
def test_overall_survival_is_recognised_as_papers_name_it(endpoint, expected):
    from survmeta.models.hierarchical import is_overall_survival

    assert is_overall_survival(endpoint) is expected


def test_tau_population_prior_must_be_lognormal():
    assert _tau_population("lognormal_tau2(-3.5, 1.5)") == (-1.75, 0.75)
    with pytest.raises(ValueError, match="log-normal on tau"):
        _tau_population("halfnormal(0.5)")


@pytest.fixture(scope="module")
def fit():
    return fit_hierarchical(effect_table(), covariates=("endpoint_os", "approximate"),
                            draws=500, tune=500, random_seed=SEED)


@pytest.mark.mcmc
def test_layout(fit):
    post = fit["posterior"]
    assert list(post["question"].values) == ["q1", "q2", "q3"]
    assert list(post["study"].values) == list(effect_table()["key"])
    assert post["mu"].dims == ("chain", "draw", "question")
    assert post["predict"].dims == ("chain", "draw", "question")
    assert post["theta"].dims == ("chain", "draw", "study")
    assert list(post["covariate"].values) == ["endpoint_os", "approximate"]
    assert post.attrs["survmeta_extra_error"] == "known"


@pytest.mark.mcmc
def test_no_divergences(fit):
    diag = diagnose(fit)
    assert diag.divergences == 0 and diag.treedepth_hits == 0
    assert diag.r_hat_max <= 1.01


@pytest.mark.mcmc
def test_estimated_extra_error_adds_kappa():
    idata = fit_hierarchical(effect_table(), covariates=(), extra_error="estimated",
                             draws=300, tune=300, random_seed=SEED)
    assert "kappa" in idata["posterior"].data_vars
    assert "beta" not in idata["posterior"].data_vars


def implied_tau_density(m, s, scale=DEFAULT_SIGMA_LOGTAU_SCALE, nodes=200):
    """Prior density of tau for a single question: log tau ~ N(m, s^2 + sigma^2),
    sigma ~ HalfNormal(scale), integrated over sigma by Gauss-Legendre on [0, 8 scale]
    (half-normal mass beyond 8 scale < 1e-15)."""
    x, w = np.polynomial.legendre.leggauss(nodes)
    sig = 4.0 * scale * (x + 1.0)
    wt = 4.0 * scale * w * stats.halfnorm.pdf(sig, scale=scale)

    def pdf(tau):
        tau = np.atleast_1d(np.asarray(tau, dtype=float))
        out = np.zeros_like(tau)
        pos = tau > 0
        lt = np.log(tau[pos])[:, None]
        dens = stats.norm.pdf(lt, m, np.sqrt(s**2 + sig[None, :] ** 2)) @ wt
        out[pos] = dens / tau[pos]
        return out

    return pdf


@pytest.mark.mcmc
def test_single_question_reduces_to_random_effects_model():
    """One question, no covariates, no extra error: the hierarchical model is the
    random-effects model with mu ~ N(0, 1) and the implied prior on tau, which the
    exact engine takes as a custom density. Means agree within 3 MCSE."""
    y, sigma = loghr3()
    table = pd.DataFrame([_row("q", f"s{i}", y[i], sigma[i]) for i in range(3)])
    idata = fit_hierarchical(table, covariates=(), extra_error="none", draws=1500, tune=1000,
                             random_seed=SEED)
    m, s = _tau_population("lognormal_tau2(-3.5, 1.5)")
    exact = bayesmeta(y, sigma, tau_prior=Prior.from_density(implied_tau_density(m, s)),
                      mu_prior="normal(0, 1)")
    post = idata["posterior"]
    for name in ("mu", "tau"):
        draws = post[name].sel(question="q")
        mcse = float(az.mcse(draws.to_dataset(name="v"))["v"].values)
        assert abs(float(draws.mean()) - exact.mean(name)) <= N_MCSE * mcse
