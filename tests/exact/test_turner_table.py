"""Turner et al. (2015) predictive distributions for tau^2: table values and densities.

Source of the numbers: Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT (2015),
Stat Med 34(6):984-998, Table IV, as transcribed in the R package bayesmeta 3.4. Its
help page for ``TurnerEtAlPrior()`` says the priors are log-normal distributions for
the squared heterogeneity tau^2, that their parameters mu and sigma are stored in the
array ``TurnerEtAlParameters``, that ``TurnerEtAlPrior(outcome, comparator1,
comparator2)`` returns them for tau^2 and for tau (``mu/2``, ``sigma/2``), and that
``TurnerEtAlPrior()`` without an outcome gives the marginal setting of p. 993; its example
is ``TP <- TurnerEtAlPrior("surgical", "pharma", "placebo / control")``. The values
below are those of ``meanmat`` and ``sdmat`` ("see Tab.IV") in bayesmeta's
``R/bayesmeta.R``, from which ``TurnerEtAlParameters`` is built, and ``-2.56``, ``1.74``
for the marginal setting in ``TurnerEtAlPrior()``.
"""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from survmeta.exact import rhodes, turner
from survmeta.priors import parse_prior

CLOSED = 1e-9     # closed forms and quadrature of smooth densities
ROUNDING = 0.01   # the table prints two decimals

# (outcome, comparison) -> (mu, sigma) of log(tau^2), bayesmeta 3.4 meanmat / sdmat
TABLE_IV = {
    ("all-cause-mortality", "pharma-vs-placebo"): (-3.95, 1.34),
    ("all-cause-mortality", "nonpharma-vs-pharma"): (-2.92, 1.02),
    ("obstetric", "pharma-vs-pharma"): (-3.75, 1.79),
    ("surgical", "pharma-vs-placebo"): (-2.14, 1.74),   # the help page's example
    ("internal", "nonpharma-vs-placebo"): (-2.93, 1.92),
    ("adverse-events", "nonpharma-vs-pharma"): (-0.84, 1.24),
    ("pain", "nonpharma-vs-nonpharma"): (-1.38, 1.45),
    ("mental-health", "pharma-vs-pharma"): (-2.35, 1.60),
    ("biological-markers", "nonpharma-vs-placebo"): (-1.99, 1.71),
    ("subjective", "nonpharma-vs-nonpharma"): (-2.26, 1.45),
    ("any", "any"): (-2.56, 1.74),
}

# bayesmeta's comparator pairs (its ``cmatrix``) and the comparison types they map to
COMPARATOR_PAIRS = {
    ("pharmacological", "placebo / control"): "pharmacological vs. placebo / control",
    ("pharmacological", "pharmacological"): "pharmacological vs. pharmacological",
    ("non-pharmacological", "placebo / control"): "non-pharmacological vs. placebo / control",
    ("non-pharmacological", "pharmacological"): "non-pharmacological vs. pharmacological",
    ("non-pharmacological", "non-pharmacological"):
        "non-pharmacological vs. non-pharmacological",
}


@pytest.mark.parametrize("cell", sorted(TABLE_IV))
def test_table_iv_values(cell):
    """Cells spread over all five comparison types and ten outcome types."""
    row = turner.turner_parameters(*cell)
    assert (row.mu, row.sigma) == TABLE_IV[cell]
    prior = parse_prior(f"turner({cell[0]}, {cell[1]})")
    assert prior.params == {"mu": TABLE_IV[cell][0], "sigma": TABLE_IV[cell][1]}


def test_comparison_names_are_bayesmetas():
    """The comparison type names are the ones bayesmeta maps its comparator pairs to."""
    names = {full for _, full in turner.COMPARISONS}
    assert names == set(COMPARATOR_PAIRS.values())


def test_help_page_example_on_the_tau_scale():
    """``TurnerEtAlPrior("surgical", "pharma", "placebo / control")``: log-normal for tau
    with mu = -2.14/2 = -1.07 and sigma = 1.74/2 = 0.87, so ``TP$qprior(c(0.025, 0.975))``
    is exp(-1.07 -/+ z_0.975 * 0.87) (closed form)."""
    prior = parse_prior("turner(surgical, pharmacological vs. placebo / control)")
    z = stats.norm.ppf(0.975)
    for p, q in ((0.025, math.exp(-1.07 - z * 0.87)), (0.975, math.exp(-1.07 + z * 0.87))):
        assert float(prior.cdf(q)) == pytest.approx(p, rel=CLOSED)
    # dprior(tau) = dlnorm(tau, -1.07, 0.87)
    for t in (0.05, 0.3, 1.2):
        assert float(prior.pdf(t)) == pytest.approx(
            stats.lognorm.pdf(t, 0.87, scale=math.exp(-1.07)), rel=CLOSED)


def _density_of_log_tau(prior):
    """Density of u = log(tau) from the prior's density of tau (``f(e^u) e^u``)."""
    def density(u):
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.exp(prior.logpdf(np.exp(u)) + u))
    return density


def _mass(prior, upper: float = np.inf) -> float:
    """Prior probability of log(tau) < ``upper`` by quadrature of the density."""
    return integrate.quad(_density_of_log_tau(prior), -np.inf, upper, epsabs=0,
                          epsrel=1e-12, limit=200)[0]


@pytest.mark.parametrize("cell", sorted(TABLE_IV))
def test_turner_density_integrates_to_one_and_median_is_exp_mu(cell):
    """log(tau^2) ~ N(mu, sigma^2): the tau density integrates to 1 and the median of tau^2
    is exp(mu), i.e. the median of tau is exp(mu/2)."""
    prior = parse_prior(f"turner({cell[0]}, {cell[1]})")
    mu, _ = TABLE_IV[cell]
    assert _mass(prior) == pytest.approx(1.0, abs=CLOSED)
    assert float(prior.cdf(math.exp(mu / 2))) == pytest.approx(0.5, abs=CLOSED)
    assert _mass(prior, mu / 2) == pytest.approx(0.5, abs=CLOSED)


@pytest.mark.parametrize("spec, location", [
    ("rhodes(any)", rhodes.MARGINAL[0]),
    ("rhodes(mental-health, pharma-vs-placebo)", None),
])
def test_rhodes_density_integrates_to_one_and_median_is_exp_location(spec, location):
    """log(tau^2) ~ t_5(location, scale) is symmetric about its location: the tau density
    integrates to 1 and the median of tau is exp(location/2)."""
    prior = parse_prior(spec)
    if location is None:
        location = prior.params["location"]
    assert _mass(prior) == pytest.approx(1.0, abs=CLOSED)
    assert float(prior.cdf(math.exp(location / 2))) == pytest.approx(0.5, abs=CLOSED)
    assert _mass(prior, location / 2) == pytest.approx(0.5, abs=CLOSED)


def test_table_iv_means_are_outcome_plus_comparison_effects():
    """In Turner et al.'s model the mean of log(tau^2) is an outcome-type effect plus a
    comparison-type effect; every transcribed mean is such a sum to within the rounding
    of the printed values (a typo in one cell would break it)."""
    means = np.array(turner._MEANS)
    fit = means.mean(axis=0, keepdims=True) + means.mean(axis=1, keepdims=True) - means.mean()
    assert np.max(np.abs(means - fit)) < ROUNDING
