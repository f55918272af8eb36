"""Upper-tail quantiles of the exact engine's normal mixtures, to full precision.

For ``p > 0.5`` the quantile solves ``1 - cdf(x) = 1 - p`` on the survival
function; solved on ``cdf(x) = p`` it carries the CDF's absolute rounding near
one, about ``1e-16 / pdf`` in ``x``. References (closed forms, no stored numbers):

* a single normal, and two components with equal means and SDs (again that
  normal): ``m + s * scipy.stats.norm.isf(1 - p)``;
* a mixture symmetric about ``c`` (two components with equal means, or three
  placed symmetrically): ``q(p) = 2 c - q(1 - p)``, the lower quantile solved on
  the CDF, which is accurate to relative rounding there;
* the defining equation ``sf(q) = 1 - p`` to relative rounding.

Tolerance: ``1e-13`` absolute on the standard scale (``x`` divided by the
mixture's SD). Measured before the change (the quantile solved on the CDF at
every ``p``): for the single normal the one-at-a-time path was off by 1.2e-13
at ``p = 0.9999`` and 1.7e-10 at ``1 - 1e-8``, the many-at-once path by 1.7e-10
at ``1 - 1e-8``; for the symmetric three-component mixture the three paths
(one at a time, many at once, per row) broke symmetry by 5.6e-10, 5.6e-10 and
7.4e-10 at ``1 - 1e-8``; the upper end of a 0.99999998 equal-tailed interval
(``mixture_summaries``) was off by 9.6e-10. After it, all are below 3e-15.
"""

import numpy as np
import pytest
from scipy import stats

from survmeta.exact import bayesmeta
from survmeta.exact.marginals import NormalMixture, _quantile_rows, mixture_summaries

P = np.array([0.5, 0.9, 0.99, 0.999, 0.9999, 1 - 1e-8])
TOL = 1e-13  # absolute, on the standard scale


def _paths(mix, p):
    """Quantiles one at a time, many at once (the vectorised draws) and per row."""
    one = np.array([mix.quantile(float(v)) for v in p])
    many = mix.quantile(np.tile(p, 20))[:p.size]  # >= 64 probabilities: the tabulated solver
    rows = _quantile_rows(mix.w[None], mix.m[None], mix.s[None], p[None])[0]
    return {"one": one, "many": many, "rows": rows}


@pytest.mark.parametrize("w, m, s", [([1.0], [0.3], [0.7]),
                                     ([0.25, 0.75], [0.3, 0.3], [0.7, 0.7])])
def test_a_normal_is_its_closed_form_in_the_upper_tail(w, m, s):
    mix = NormalMixture(w, m, s)
    ref = 0.3 + 0.7 * stats.norm.isf(1.0 - P)
    for name, q in _paths(mix, P).items():
        np.testing.assert_allclose(q / 0.7, ref / 0.7, rtol=0, atol=TOL, err_msg=name)


@pytest.mark.parametrize("w, m, s, c", [
    ([0.3, 0.7], [0.3, 0.3], [0.5, 1.5], 0.3),  # equal means
    ([0.3, 0.4, 0.3], [-1.3, 0.2, 1.7], [0.8, 0.5, 0.8], 0.2),  # symmetric about 0.2
])
def test_a_symmetric_mixture_has_symmetric_quantiles(w, m, s, c):
    mix = NormalMixture(w, m, s)
    upper, lower = _paths(mix, P), _paths(mix, 1.0 - P)
    for name in upper:
        np.testing.assert_allclose((upper[name] - c) / mix.sd(), (c - lower[name]) / mix.sd(),
                                   rtol=0, atol=TOL, err_msg=name)
        # the defining equation, to relative rounding of the survival function
        np.testing.assert_allclose(mix.sf(upper[name]), 1.0 - P, rtol=1e-14, atol=0,
                                   err_msg=name)


@pytest.mark.parametrize("level", [0.95, 0.999, 0.9999, 1 - 2e-8])
def test_upper_end_of_an_equal_tailed_interval_is_the_upper_tail_quantile(level):
    # the tail (1 - level) / 2 is solved on the survival function without rounding 1 - tail
    mix = NormalMixture([1.0], [0.3], [0.7])
    ref = 0.3 + 0.7 * stats.norm.isf((1.0 - level) / 2.0)
    fast = mixture_summaries([mix], level)["eti_upper"][0]
    assert abs(fast - ref) / 0.7 < TOL
    assert abs(mix.eti(level)[1] - ref) / 0.7 < TOL
    assert abs(mix.isf((1.0 - level) / 2.0) - ref) / 0.7 < TOL


def test_engine_marginals_solve_the_survival_function_in_the_upper_tail():
    # mu and the prediction of a random-effects fit (mixtures over tau): every path
    # satisfies sf(q) = 1 - p to relative rounding, and the paths agree
    y = np.log([0.7, 0.9, 1.2, 0.5, 0.8])
    s = np.array([0.2, 0.3, 0.25, 0.4, 0.15])
    post = bayesmeta(y, s, tau_prior="halfnormal(0.5)")
    for param in ("mu", "predict"):
        mix = post.marginal(param)
        paths = _paths(mix, P)
        for name, q in paths.items():
            np.testing.assert_allclose(mix.sf(q), 1.0 - P, rtol=1e-13, atol=0, err_msg=name)
            np.testing.assert_allclose(q / mix.sd(), paths["one"] / mix.sd(), rtol=0, atol=TOL,
                                       err_msg=name)
    # the pooled HR's upper quantiles are exp of mu's (to the rounding of exp and log)
    mu_q = post.marginal("mu").isf(1.0 - P)
    np.testing.assert_allclose(np.log(post.marginal("hr").isf(1.0 - P)), mu_q, rtol=0, atol=1e-15)
