"""Quantiles of the exact engine's normal mixtures, one at a time and many at once.

Many at once (the inverse-CDF draws of the subgroup differences) is a separate,
vectorised solver; it must solve the same equation ``cdf(x) = p`` as the scalar
one. References: the closed form of a single normal, ``m + s Phi^-1(p)``
(scipy.special.ndtri), and the defining equation itself.
"""

import numpy as np
import pytest
from scipy import special

from survmeta.exact import bayesmeta
from survmeta.exact.marginals import NormalMixture


def _uniforms(n=5000, seed=3):
    return np.random.default_rng(seed).uniform(size=n)


def test_a_single_normal_is_its_closed_form():
    mix = NormalMixture([1.0], [0.3], [0.7])
    u = _uniforms()
    q = mix.quantile(u)
    # in probability to rounding; in x to rounding / density (about 3e-13 at p = 0.9999)
    assert np.max(np.abs(special.ndtr((q - 0.3) / 0.7) - u)) < 1e-15
    np.testing.assert_allclose(q, 0.3 + 0.7 * special.ndtri(u), rtol=0, atol=1e-12)


@pytest.mark.parametrize("tau_prior", ["halfnormal(0.5)", "halfcauchy(1)"])
@pytest.mark.parametrize("param", ["mu", "predict"])
def test_many_at_once_solve_cdf_equal_p_as_one_at_a_time(tau_prior, param):
    y = np.log([0.7, 0.9, 1.2, 0.5, 0.8])
    s = np.array([0.2, 0.3, 0.25, 0.4, 0.15])
    mix = bayesmeta(y, s, tau_prior=tau_prior).marginal(param)
    u = _uniforms(1000)
    many = mix.quantile(u)
    one = np.array([mix.quantile(float(p)) for p in u])
    # both within rounding of cdf(x) = p (brentq's tolerance is 1e-14 in x)
    assert np.max(np.abs(mix.cdf(many) - u)) < 2e-15
    assert np.max(np.abs(mix.cdf(one) - u)) < 2e-14
    np.testing.assert_allclose(many, one, rtol=0, atol=1e-10)


def test_shape_and_the_ends():
    mix = NormalMixture([0.4, 0.6], [-1.0, 2.0], [0.5, 1.5])
    p = np.concatenate([[0.0, 1.0], _uniforms(200)]).reshape(2, 101)
    q = mix.quantile(p)
    assert q.shape == (2, 101)
    assert q[0, 0] == -np.inf and q[0, 1] == np.inf
    assert np.all(np.diff(np.sort(q.ravel())[1:-1]) >= 0)
    np.testing.assert_array_equal(np.argsort(p.ravel(), kind="stable"), np.argsort(q.ravel(), kind="stable"))
