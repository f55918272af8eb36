"""One prior-family table (survmeta.priors.PRIOR_FAMILIES) read by both engines.

Every family in the table is parsed by the exact path (survmeta.priors.parse_prior, the
numpy/scipy density) and built by the PyMC path (survmeta.models.priors, no sampling); the
PyMC log density at a few points must equal scipy's. A family outside the table is rejected by
both with one message.
"""

import numpy as np
import pymc as pm
import pytest
from scipy import stats

from survmeta.errors import SurvmetaError
from survmeta.models.priors import UnsupportedPriorError, mu_rv, tau_rv
from survmeta.priors import MU_FAMILIES, PRIOR_FAMILIES, TAU_FAMILIES, parse_prior

# Same tolerance as tests/models/test_priors.py: PyMC's normalising constants enter as
# single-precision literals (offsets up to 2e-8, constant in x).
TOL = 1e-7
TAU_POINTS = np.array([0.01, 0.1, 0.35, 0.9, 1.7])
MU_POINTS = np.array([-2.0, -0.3, 0.0, 0.4, 1.5])

#: One spec per table row and the scipy log density it must have.
SPECS = {
    "halfnormal": ("halfnormal(0.5)", lambda x: stats.halfnorm.logpdf(x, scale=0.5)),
    "halfcauchy": ("halfcauchy(0.5)", lambda x: stats.halfcauchy.logpdf(x, scale=0.5)),
    "halft": ("halft(3, 0.5)", lambda x: np.log(2) + stats.t.logpdf(x, 3, scale=0.5)),
    "uniform": ("uniform(0, 2)", lambda x: stats.uniform.logpdf(x, 0, 2)),
    "exponential": ("exponential(2)", lambda x: stats.expon.logpdf(x, scale=0.5)),
    "lognormal_tau2": ("lognormal_tau2(-2.56, 1.74)",
                       lambda x: stats.lognorm.logpdf(x, 1.74 / 2, scale=np.exp(-2.56 / 2))),
    # Turner et al. (2015) Table IV, all-cause mortality, pharmacological vs placebo: N(-4.06, 1.45^2)
    "turner": ("turner(all-cause-mortality, pharma-vs-placebo)", None),
    "logt_tau2": ("logt_tau2(-3.44, 2.59, 5)",
                  lambda x: stats.t.logpdf(np.log(x), 5, loc=-1.72, scale=1.295) - np.log(x)),
    "rhodes": ("rhodes(any)", None),
    "normal": ("normal(-0.2, 1)", lambda x: stats.norm.logpdf(x, -0.2, 1)),
    "flat": ("flat", None),
    "fixed": ("fixed", None),
}


def test_every_row_has_a_test_spec():
    assert {f.name for f in PRIOR_FAMILIES} == set(SPECS)


def _pymc_logp(make_rv, points):
    with pm.Model():
        rv = make_rv()
    return np.array([float(pm.logp(rv, x).eval()) for x in points])


@pytest.mark.parametrize("row", PRIOR_FAMILIES, ids=lambda f: f.name)
def test_family_in_both_engines(row):
    spec, scipy_logpdf = SPECS[row.name]
    for kind in row.kinds:
        prior = parse_prior(spec, kind)  # exact path
        assert prior.family == row.family
        if row.name not in ("turner", "rhodes"):  # those two name a table row, not parameters
            assert tuple(prior.params) == row.params
        make = tau_rv if kind == "tau" else mu_rv
        points = TAU_POINTS if kind == "tau" else MU_POINTS
        if row.name == "fixed":
            with pm.Model() as model:
                make("tau", prior)
            assert model["tau"].eval() == 0.0
            continue
        got = _pymc_logp(lambda: make(kind, prior), points)  # PyMC path
        if row.name == "flat":
            np.testing.assert_allclose(got, 0.0, atol=TOL)
            continue
        want = scipy_logpdf(points) if scipy_logpdf is not None else prior.logpdf(points)
        np.testing.assert_allclose(prior.logpdf(points), want, rtol=0, atol=1e-12)
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL)


def test_turner_and_rhodes_rows_equal_their_parametric_family():
    t = parse_prior("turner(all-cause-mortality, pharma-vs-placebo)")
    same = parse_prior(f"lognormal_tau2({t.params['mu']}, {t.params['sigma']})")
    np.testing.assert_allclose(t.logpdf(TAU_POINTS), same.logpdf(TAU_POINTS), rtol=0, atol=1e-14)
    r = parse_prior("rhodes(any)")
    p = r.params
    same = parse_prior(f"logt_tau2({p['location']}, {p['scale']}, {p['df']})")
    np.testing.assert_allclose(r.logpdf(TAU_POINTS), same.logpdf(TAU_POINTS), rtol=0, atol=1e-14)


def test_uniform_mu_rejected_by_both_with_one_message():
    with pytest.raises(SurvmetaError) as exact:
        parse_prior("uniform(-2, 2)", "mu")

    class UniformMu:  # a Prior-like object that skips the parser
        family = "uniform"
        params = {"lower": -2.0, "upper": 2.0}

    with pm.Model(), pytest.raises(UnsupportedPriorError) as pymc:
        mu_rv("mu", UniformMu())
    assert str(exact.value) == str(pymc.value)
    assert "not a prior for mu" in str(exact.value)
    assert "normal, flat" in str(exact.value)


def test_family_lists_come_from_the_table():
    assert MU_FAMILIES == ("normal", "flat")
    assert "logt_tau2" in TAU_FAMILIES and "rhodes" in TAU_FAMILIES
