"""The exact engine when the posterior of tau spans many decades.

Two studies with SEs of 0.001 or less and close estimates: p(y | tau) falls
like 1/tau from tau ~ SE up to the prior's scale, so the posterior of tau
spreads over three or four decades. Reference: an independent quadrature in
u = log(tau) (scipy's adaptive ``quad``, priors from scipy.stats), accurate to
about 1e-10 relative here.
"""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from survmeta.exact import bayesmeta

QUAD = 1e-7  # relative; the engine's own accuracy on ordinary data is ~1e-9

CASES = {
    "identical, SE 0.001": ([0.1, 0.1], [0.001, 0.001]),
    "identical, SE 1e-4": ([-0.29, -0.29], [1e-4, 1e-4]),
    "close, SE 5e-4 and 1e-3": ([0.1, 0.102], [0.0005, 0.001]),
    "apart, SE 0.001": ([0.1, 0.2], [0.001, 0.001]),
}


def _log_lik(tau, y, s):
    """log p(y | tau) with a flat prior on mu (mu integrated out)."""
    w = 1.0 / (s ** 2 + tau ** 2)
    m = np.sum(w * y) / np.sum(w)
    return 0.5 * np.sum(np.log(w)) - 0.5 * math.log(np.sum(w)) - 0.5 * np.sum(w * (y - m) ** 2)


def _reference(y, s, scale=0.5):
    y, s = np.asarray(y), np.asarray(s)
    peak = max(_log_lik(t, y, s) for t in np.geomspace(1e-8, 10.0, 400))

    def dens(u, f):
        tau = math.exp(u)
        return f(tau) * math.exp(stats.halfnorm.logpdf(tau, scale=scale)
                                 + _log_lik(tau, y, s) - peak) * tau

    pts = sorted({math.log(float(x)) for x in s} | {math.log(scale)})
    lim = (-40.0, math.log(scale * 12.0))

    def integral(f):
        return integrate.quad(lambda u: dens(u, f), *lim, points=pts, limit=500,
                              epsabs=0, epsrel=1e-12)[0]

    z = integral(lambda t: 1.0)
    mean = integral(lambda t: t) / z
    second = integral(lambda t: t * t) / z
    return mean, math.sqrt(second - mean ** 2)


@pytest.mark.parametrize("case", CASES)
def test_tau_moments_match_log_scale_quadrature(case):
    y, s = CASES[case]
    mean, sd = _reference(y, s)
    post = bayesmeta(y, s, tau_prior="halfnormal(0.5)", mu_prior="flat")
    assert post.mean("tau") == pytest.approx(mean, rel=QUAD)
    assert post.sd("tau") == pytest.approx(sd, rel=QUAD)
    # the grid CDF agrees with the Gauss-Legendre moments: E[tau] = int (1 - F)
    tq = post.quantile("tau", np.linspace(0.0005, 0.9995, 1000))
    assert float(np.mean(tq)) == pytest.approx(mean, rel=2e-3)
