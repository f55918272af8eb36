"""Both interval kinds, equal-tailed and shortest, through ``ExactPosterior.interval``."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from _exact_data import crins_log_or
from survmeta.errors import SurvmetaError
from survmeta.exact import bayesmeta, common_effect

CLOSED = 1e-9     # closed-form comparisons
BRUTE_HDI = 5e-5  # shortest interval of tau against a brute-force grid search (relative to its width)
MASS = 1e-6       # posterior probability held by an interval


def test_single_study_known_tau_shortest_equals_central():
    """One study, tau fixed at 0, normal(0, 1) prior on mu: the posterior of mu is normal
    with precision 1/s^2 + 1 and mean (y/s^2) / (1/s^2 + 1) (closed form), so its shortest
    interval is its central one, mean -/+ z_0.975 sd; the HR intervals are their exp."""
    y, s = 0.4, 0.3
    post = common_effect([y], [s], mu_prior="normal(0, 1)")
    prec = 1 / s ** 2 + 1.0
    mean, sd = (y / s ** 2) / prec, 1 / math.sqrt(prec)
    z = stats.norm.ppf(0.975)
    for kind in ("eti", "hdi", "central", "shortest"):
        lo, hi = post.interval("mu", 0.95, kind=kind)
        assert lo == pytest.approx(mean - z * sd, rel=CLOSED)
        assert hi == pytest.approx(mean + z * sd, rel=CLOSED)
        hlo, hhi = post.interval("hr", 0.95, kind=kind)
        assert hlo == pytest.approx(math.exp(mean - z * sd), rel=CLOSED)
        assert hhi == pytest.approx(math.exp(mean + z * sd), rel=CLOSED)
    assert post.interval("tau", kind="hdi") == (0.0, 0.0)


def test_interval_defaults_and_bad_kind():
    """Default kind is equal-tailed at the posterior's level; an unknown kind is an error."""
    y, v = crins_log_or()
    post = bayesmeta(y, np.sqrt(v), "halfnormal(0.5)", "normal(0, 4)", level=0.9)
    assert post.interval("mu") == post.eti("mu", 0.9)
    assert post.interval("tau", kind="hdi") == post.hdi("tau", 0.9)
    with pytest.raises(SurvmetaError, match="unknown interval kind"):
        post.interval("mu", kind="hpd")


def _brute_force_shortest(post, level: float, n: int = 400_001) -> tuple[float, float]:
    """Shortest interval of tau by search over a grid of the exact density.

    The CDF is the cumulative trapezoid integral of ``post.pdf("tau", .)`` on ``n``
    points up to the 1 - 1e-9 quantile; for every grid point as lower end, the upper
    end holding ``level`` is interpolated in that CDF, and the narrowest pair is kept.
    """
    top = float(post.quantile("tau", 1 - 1e-9))
    t = np.linspace(0.0, top, n)
    f = np.asarray(post.pdf("tau", t), dtype=float)
    f[~np.isfinite(f)] = 0.0
    cdf = integrate.cumulative_trapezoid(f, t, initial=0.0)
    cdf /= cdf[-1]
    ok = cdf <= 1.0 - level
    upper = np.interp(cdf[ok] + level, cdf, t)
    i = int(np.argmin(upper - t[ok]))
    return float(t[ok][i]), float(upper[i])


@pytest.mark.parametrize("tau_prior, starts_at_zero", [
    ("halfcauchy(0.5)", True),                     # density highest at tau = 0
    ("turner(all-cause-mortality, pharma-vs-placebo)", False),  # log-normal: 0 at tau = 0
])
def test_tau_shortest_interval_against_brute_force(tau_prior, starts_at_zero):
    """Crins et al. (2014) log odds ratios: the shortest 95% interval of tau from the
    exact density and grid CDF, against a brute-force search on the exact density
    (tolerance ``BRUTE_HDI`` of the interval's width); it holds 95% and, for a prior with
    its mode at 0, starts at 0 as bayesmeta prints it."""
    y, v = crins_log_or()
    post = bayesmeta(y, np.sqrt(v), tau_prior, "flat")
    lo, hi = post.interval("tau", 0.95, kind="hdi")
    blo, bhi = _brute_force_shortest(post, 0.95)
    width = bhi - blo
    assert lo == pytest.approx(blo, abs=BRUTE_HDI * width)
    assert hi == pytest.approx(bhi, abs=BRUTE_HDI * width)
    assert float(post.cdf("tau", hi) - post.cdf("tau", lo)) == pytest.approx(0.95, abs=MASS)
    assert (lo == 0.0) is starts_at_zero
    if not starts_at_zero:  # equal density at both ends
        assert float(post.pdf("tau", lo)) == pytest.approx(float(post.pdf("tau", hi)), rel=1e-6)
    elo, ehi = post.interval("tau", 0.95, kind="eti")
    assert hi - lo < ehi - elo
    assert elo > 0.0


def test_hr_intervals_are_log_scale_ones_exponentiated():
    """Half-Cauchy tau prior, flat mu prior (the HR density is unbounded at 0 there): both
    HR interval kinds are the log-scale ones exponentiated, and neither starts at 0."""
    y, v = crins_log_or()
    post = bayesmeta(y, np.sqrt(v), "halfcauchy(0.5)", "flat")
    for kind in ("eti", "hdi"):
        for hr, log in (("hr", "mu"), ("predict_hr", "predict")):
            lo, hi = post.interval(hr, 0.95, kind=kind)
            llo, lhi = post.interval(log, 0.95, kind=kind)
            assert (lo, hi) == pytest.approx((math.exp(llo), math.exp(lhi)), rel=1e-12)
            assert lo > 0.0
