"""Prior parsing and densities."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from survmeta.errors import SurvmetaError
from survmeta.priors import Prior, parse_prior

CLOSED = 1e-12


@pytest.mark.parametrize("spec, family, params", [
    ("halfnormal(0.5)", "halfnormal", {"scale": 0.5}),
    ("halfcauchy(25)", "halfcauchy", {"scale": 25.0}),
    ("halft(3, 0.5)", "halft", {"df": 3.0, "scale": 0.5}),
    ("uniform(0, 2)", "uniform", {"lower": 0.0, "upper": 2.0}),
    ("exponential(2)", "exponential", {"rate": 2.0}),
    ("lognormal_tau2(-2.56, 1.74)", "lognormal_tau2", {"mu": -2.56, "sigma": 1.74}),
    ("Half_Normal( 0.5 )", "halfnormal", {"scale": 0.5}),
])
def test_tau_specs(spec, family, params):
    prior = parse_prior(spec, "tau")
    assert prior.family == family
    assert prior.params == params
    assert prior.proper
    assert parse_prior(prior.spec, "tau") == prior  # canonical spec round-trips


@pytest.mark.parametrize("spec", ["halfnormal(0.5)", "halfcauchy(2)", "halft(3, 0.5)",
                                  "uniform(0, 2)", "exponential(2)",
                                  "lognormal_tau2(-2.56, 1.74)"])
def test_tau_densities_integrate_to_one_and_match_cdf(spec):
    """Each density integrates to 1 over its support and its CDF is its integral."""
    prior = parse_prior(spec)
    hi = prior.support[1]
    total = integrate.quad(lambda t: float(prior.pdf(t)), 0, hi, limit=200)[0]
    assert total == pytest.approx(1.0, rel=1e-8)
    part = integrate.quad(lambda t: float(prior.pdf(t)), 0, 0.7, limit=200)[0]
    assert float(prior.cdf(0.7)) == pytest.approx(part, rel=1e-8)


def test_closed_forms():
    """Half-normal(0.5) density at 0 is 2/(0.5 sqrt(2 pi)); half-t(3, 0.5) is twice the
    Student-t density; log(tau^2) ~ N(-2.56, 1.74^2) means log(tau) ~ N(-1.28, 0.87^2)."""
    assert float(parse_prior("halfnormal(0.5)").pdf(0.0)) == pytest.approx(
        2 / (0.5 * math.sqrt(2 * math.pi)), rel=CLOSED)
    assert float(parse_prior("halft(3, 0.5)").pdf(0.4)) == pytest.approx(
        2 * stats.t.pdf(0.4, 3, scale=0.5), rel=CLOSED)
    assert float(parse_prior("lognormal_tau2(-2.56, 1.74)").pdf(0.3)) == pytest.approx(
        stats.lognorm.pdf(0.3, 0.87, scale=math.exp(-1.28)), rel=CLOSED)
    assert float(parse_prior("normal(0, 4)", "mu").pdf(1.0)) == pytest.approx(
        stats.norm.pdf(1.0, 0, 4), rel=CLOSED)


@pytest.mark.parametrize("spec, kind, reference", [
    ("halfnormal(0.5)", "tau", lambda x: stats.halfnorm.logpdf(x, scale=0.5)),
    ("halfnormal(2)", "tau", lambda x: stats.halfnorm.logpdf(x, scale=2.0)),
    ("halfcauchy(0.5)", "tau", lambda x: stats.halfcauchy.logpdf(x, scale=0.5)),
    ("halfcauchy(25)", "tau", lambda x: stats.halfcauchy.logpdf(x, scale=25.0)),
    ("normal(0, 4)", "mu", lambda x: stats.norm.logpdf(x, 0.0, 4.0)),
    ("normal(-0.3, 0.5)", "mu", lambda x: stats.norm.logpdf(x, -0.3, 0.5)),
])
def test_closed_form_log_densities_equal_scipy(spec, kind, reference):
    """The half-normal, half-Cauchy and normal log densities are written out (the exact engine
    evaluates them at every tau it visits); they equal scipy.stats' to rounding (1e-14
    relative, or absolute below 1) from 0 (or far in the tails) to far out."""
    x = (np.concatenate([[0.0, 1e-300, 1e-12], np.geomspace(1e-8, 1e4, 400)]) if kind == "tau"
         else np.linspace(-60.0, 60.0, 801))
    got = parse_prior(spec, kind).logpdf(x)
    want = reference(x)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)


def test_turner_table_values():
    """Turner et al. 2015, Table IV as tabulated in bayesmeta's R/bayesmeta.R
    (TurnerEtAlParameters): all-cause mortality, pharmacological vs placebo/control:
    mean -3.95, SD 1.34; subjective outcomes, non-pharmacological vs
    non-pharmacological: -2.26, 1.45; marginal setting (p. 993): -2.56, 1.74."""
    p = parse_prior("turner(all-cause-mortality, pharma-vs-placebo)")
    assert p.family == "lognormal_tau2"
    assert p.params == {"mu": -3.95, "sigma": 1.34}
    assert "approximation" in p.describe()
    p = parse_prior("turner(subjective outcomes (various), "
                    "non-pharmacological vs. non-pharmacological)")
    assert p.params == {"mu": -2.26, "sigma": 1.45}
    assert parse_prior("turner(any, any)").params == {"mu": -2.56, "sigma": 1.74}


def test_mu_priors():
    assert parse_prior("normal(0, 4)", "mu").params == {"mean": 0.0, "sd": 4.0}
    flat = parse_prior("flat", "mu")
    assert not flat.proper
    assert float(flat.logpdf(3.0)) == 0.0
    with pytest.raises(SurvmetaError, match="valid families: normal, flat"):
        parse_prior("halfnormal(1)", "mu")


def test_describe_and_to_dict():
    prior = parse_prior("halfnormal(0.5)")
    assert prior.describe() == "half-normal prior with scale 0.5 on tau"
    d = prior.to_dict()
    assert d["family"] == "halfnormal" and d["params"] == {"scale": 0.5}
    assert d["spec"] == "halfnormal(0.5)"


def test_custom_density():
    prior = Prior.from_density(lambda t: 2 * np.exp(-2 * np.asarray(t)), (0.0, math.inf),
                               "exponential prior with rate 2, written by hand")
    assert prior.family == "custom"
    assert float(prior.pdf(0.5)) == pytest.approx(2 * math.exp(-1), rel=CLOSED)
    with pytest.raises(SurvmetaError, match="closed-form CDF"):
        prior.cdf(1.0)


@pytest.mark.parametrize("spec, message", [
    ("halfnormla(0.5)", "did you mean 'halfnormal'"),
    ("gamma(2, 1)", "valid families: halfnormal"),
    ("halfnormal(0.5, 1)", "takes 1 argument"),
    ("halfnormal(0)", "must be positive"),
    ("halfcauchy(-1)", "must be positive"),
    ("uniform(2, 1)", "lower limit must be below"),
    ("uniform(-1, 1)", "cannot be negative"),
    ("halfnormal(abc)", "must be a number"),
    ("turner(mortality-ish, pharma-vs-placebo)", "valid outcomes"),
    ("turner(pain, placebo)", "valid comparisons"),
    ("half normal 0.5", "cannot read prior"),
])
def test_errors(spec, message):
    with pytest.raises(SurvmetaError, match=message):
        parse_prior(spec, "tau")
