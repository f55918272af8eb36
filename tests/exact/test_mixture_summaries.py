"""Medians and intervals of many normal mixtures at once (``mixture_summaries``).

``ExactPosterior.summary`` takes the medians, equal-tailed and shortest
intervals of mu, the prediction and every theta_i from one vectorised solver;
it must give the numbers of the one-at-a-time methods (``quantile`` by brentq,
``Marginal.hdi`` by brentq on the equal-density condition). The reference is
those methods themselves, to their own root-finding tolerance.
"""

import numpy as np
import pytest

from survmeta.exact import bayesmeta
from survmeta.exact.marginals import NormalMixture, mixture_summaries

# brentq's tolerance in the scalar quantile is 1e-14 in x; in the scalar HDI it is
# 1e-13 in probability, i.e. about 1e-13 / density in x
QUANTILE_ATOL = 1e-12
HDI_ATOL = 1e-10

Y = np.log([0.7, 0.9, 1.2, 0.5, 0.8, 0.62, 1.05])
S = np.array([0.2, 0.3, 0.25, 0.4, 0.15, 0.5, 0.1])


def _one_at_a_time(mix, level):
    return (mix.median(), *mix.eti(level), *mix.hdi(level))


@pytest.mark.parametrize("tau_prior", ["halfnormal(0.5)", "halfcauchy(1)", "uniform(0, 2)"])
@pytest.mark.parametrize("level", [0.95, 0.5])
def test_summary_mixtures_match_the_scalar_methods(tau_prior, level):
    post = bayesmeta(Y, S, tau_prior=tau_prior, mu_prior="normal(0, 4)")
    names = ["mu", "predict"] + [f"theta[{i}]" for i in range(len(Y))]
    mixtures = [post.marginal(n) for n in names]
    fast = mixture_summaries(mixtures, level)
    for j, mix in enumerate(mixtures):
        ref = _one_at_a_time(mix, level)
        got = [fast[key][j] for key in ("median", "eti_lower", "eti_upper", "hdi_lower",
                                        "hdi_upper")]
        np.testing.assert_allclose(got[:3], ref[:3], rtol=0, atol=QUANTILE_ATOL)
        np.testing.assert_allclose(got[3:], ref[3:], rtol=0, atol=HDI_ATOL)


def test_summary_table_uses_the_same_numbers():
    post = bayesmeta(Y, S, tau_prior="halfnormal(0.5)", mu_prior="normal(0, 4)")
    table = post.summary(level=0.9)
    for name, param in (("mu", "mu"), ("hr", "hr"), ("predict_hr", "predict_hr"),
                        ("theta[3]", "theta[3]")):
        mix = post.marginal(param)
        row = table.loc[name]
        np.testing.assert_allclose([row["eti_lower"], row["median"], row["eti_upper"]],
                                   [*mix.eti(0.9)[:1], mix.median(), mix.eti(0.9)[1]],
                                   rtol=1e-12)
        np.testing.assert_allclose([row["hdi_lower"], row["hdi_upper"]], mix.hdi(0.9),
                                   rtol=1e-9)


def test_a_bimodal_mixture_falls_back_to_the_scalar_hdi():
    bimodal = NormalMixture([0.5, 0.5], [-3.0, 3.0], [0.5, 0.5])
    single = NormalMixture([0.3, 0.7], [0.1, -0.2], [0.4, 0.6])
    fast = mixture_summaries([bimodal, single], 0.5)
    assert (fast["hdi_lower"][0], fast["hdi_upper"][0]) == bimodal.hdi(0.5)
    np.testing.assert_allclose([fast["hdi_lower"][1], fast["hdi_upper"][1]], single.hdi(0.5),
                               rtol=0, atol=HDI_ATOL)


def test_mixtures_with_different_numbers_of_components():
    mixtures = [NormalMixture([1.0], [0.3], [0.7]),
                NormalMixture([0.2, 0.8], [0.0, 0.5], [1.0, 0.3])]
    fast = mixture_summaries(mixtures, 0.95)
    np.testing.assert_allclose(fast["eti_lower"][0], 0.3 + 0.7 * -1.959963984540054,
                               rtol=0, atol=QUANTILE_ATOL)
    np.testing.assert_allclose(fast["hdi_upper"][0], 0.3 + 0.7 * 1.959963984540054,
                               rtol=0, atol=HDI_ATOL)
    ref = _one_at_a_time(mixtures[1], 0.95)
    np.testing.assert_allclose(fast["median"][1], ref[0], rtol=0, atol=QUANTILE_ATOL)
