"""Posterior modes, joint MAP and ML estimates of an exact posterior.

These are the point estimates R's ``bayesmeta()`` reports (Röver 2020, J Stat
Softw 93(6); the ``summary``, ``MAP`` and ``ML`` elements documented under
*Value* in ``?bayesmeta``):

* ``$summary["mode", ]``: the modes of the marginal posteriors of tau and mu
  and of the posterior predictive distribution of a new study's effect;
* ``$MAP``: the *joint* maximum of the posterior density p(tau, mu | y), and
  the *marginal* modes (the ones above);
* ``$ML``: the *joint* maximum of the likelihood p(y | tau, mu) (no prior: the
  ML estimate of metafor's ``method = "ML"``), and the *marginal* maxima of
  p(y | tau) = integral of p(y | tau, mu) p(mu) dmu and of
  p(y | mu) = integral of p(y | tau, mu) p(tau) dtau.

Every tau-side quantity is a one-dimensional maximisation, because mu can be
maximised or integrated out in closed form. With w_i = 1 / (s_i^2 + tau^2),
W = sum w_i (+ 1/sd0^2 with a normal(m0, sd0) prior on mu), m(tau) the
conditional posterior mean of mu and log p(y | tau) the integrated likelihood
(:func:`survmeta.exact.engine._conditional`):

* marginal mode of tau: argmax log p(tau) + log p(y | tau);
* marginal ML of tau: argmax log p(y | tau) (with a flat mu prior this is the
  restricted likelihood, so the estimate is the square root of REML's tau^2;
  Harville 1974, Biometrika 61:383-385);
* joint MAP: as a function of mu, p(tau) p(mu) p(y | tau, mu) is
  p(tau) p(y | tau) times the normal density N(mu; m, 1/W), whose maximum is
  sqrt(W / 2 pi); so tau_MAP = argmax log p(tau) + log p(y | tau) + log(W) / 2
  and mu_MAP = m(tau_MAP);
* joint ML: the same with a flat mu prior and no tau prior.

For mu, p(y | mu) p(mu) is proportional to the posterior density of mu (p(y |
tau, mu) integrated against the tau prior), so the marginal ML of mu is the
argmax of the posterior density over the mu prior density; with a flat mu
prior it is the marginal posterior mode.

A maximum on the boundary tau = 0 is reported as 0 (as bayesmeta does, also
when the posterior density of tau is infinite there).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize

from survmeta.priors import parse_prior

__all__ = ["TauMu", "PointEstimates", "Modes", "marginal_mode", "modes", "map_estimates",
           "ml_estimates"]

_GRID = 1001       # grid points per family (uniform in x and in logit x) before refinement
_XTOL = 1e-12      # refinement tolerance, on the bounded x = tau / (tau + c) scale
_FLAT = 1e-12      # an objective that varies less than this over the grid has no maximum
_ROUND = 8 * np.finfo(float).eps  # values closer than this (relative) are equal
_LINE_GRID = 401   # grid points for mu-scale modes (0.02 posterior SDs apart), then refined


@dataclass(frozen=True)
class TauMu:
    """A point (tau, mu)."""

    tau: float
    mu: float


@dataclass(frozen=True)
class PointEstimates:
    """bayesmeta's ``$MAP`` or ``$ML`` matrix: a joint and a marginal estimate of (tau, mu)."""

    joint: TauMu
    marginal: TauMu

    def to_dict(self) -> dict:
        """``{"joint": {"tau", "mu"}, "marginal": {"tau", "mu"}}`` (NaN as None)."""
        return {name: {k: _plain(v) for k, v in asdict(getattr(self, name)).items()}
                for name in ("joint", "marginal")}


@dataclass(frozen=True)
class Modes:
    """bayesmeta's ``$summary["mode", ]``: marginal posterior modes."""

    tau: float
    mu: float
    predict: float

    def to_dict(self) -> dict:
        return {k: _plain(v) for k, v in asdict(self).items()}


def _plain(x: float):
    return float(x) if math.isfinite(x) else None


# ---------------------------------------------------------------------------
# one-dimensional maximisation
# ---------------------------------------------------------------------------
def _maximise_tau(f, c: float, hi: float = math.inf) -> float:
    """argmax of ``f(tau)`` (vectorised) over ``[0, hi]``; NaN if there is none.

    A grid uniform in ``x = tau / (tau + c)`` and in ``logit x`` (so every
    decade of tau is covered) locates the maximum; bounded Brent refines it
    between the neighbouring grid points.
    """
    from survmeta.exact.engine import _mixed_points

    x_hi = min(hi / (hi + c), 1.0 - 1e-12) if math.isfinite(hi) else 1.0 - 1e-12
    x = _mixed_points(0.0, x_hi, _GRID)
    x = x[x > 0]
    f0 = float(np.asarray(f(np.array([0.0])), dtype=float)[0])
    if f0 == math.inf:
        return 0.0
    tau = c * x / (1.0 - x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        vals = np.asarray(f(tau), dtype=float)
    vals = np.where(np.isnan(vals), -np.inf, vals)
    finite = vals[np.isfinite(vals)]
    if finite.size == 0:
        return 0.0 if math.isfinite(f0) else math.nan
    if finite.max() - min(finite.min(), f0 if math.isfinite(f0) else finite.min()) < _FLAT:
        return math.nan
    i = int(np.argmax(vals))
    if i == x.size - 1 and not math.isfinite(hi):
        return math.nan  # still increasing at the end of the grid: no finite maximum
    a = x[i - 1] if i > 0 else 0.0
    b = x[min(i + 1, x.size - 1)]

    def neg(xx):
        t = c * xx / (1.0 - xx)
        return -float(np.asarray(f(np.array([t])), dtype=float)[0])

    res = optimize.minimize_scalar(neg, bounds=(a, b), method="bounded",
                                   options={"xatol": _XTOL})
    best_x, best = (float(res.x), -float(res.fun)) if -res.fun >= vals[i] else (x[i], vals[i])
    # the likelihood terms depend on tau^2, so a maximum at 0 is flat to second order in tau:
    # a value at 0 equal to the best one up to rounding is a maximum on the boundary
    if math.isfinite(f0) and f0 >= best - _ROUND * max(1.0, abs(best)):
        return 0.0
    return float(c * best_x / (1.0 - best_x))


def _maximise_line(f, lo: float, hi: float) -> float:
    """argmax of ``f(x)`` (vectorised) over ``[lo, hi]``: grid, then bounded Brent."""
    x = np.linspace(lo, hi, _LINE_GRID)
    with np.errstate(divide="ignore"):
        vals = np.asarray(f(x), dtype=float)
    vals = np.where(np.isnan(vals), -np.inf, vals)
    i = int(np.argmax(vals))
    a, b = x[max(i - 1, 0)], x[min(i + 1, x.size - 1)]
    def neg(t):
        with np.errstate(divide="ignore"):
            return -float(np.asarray(f(np.array([t])))[0])

    res = optimize.minimize_scalar(neg,
                                   bounds=(a, b), method="bounded",
                                   options={"xatol": 1e-12 * max(1.0, hi - lo)})
    return float(res.x) if -res.fun >= vals[i] else float(x[i])


# ---------------------------------------------------------------------------
# the estimates
# ---------------------------------------------------------------------------
def _scale(post) -> float:
    return float(np.median(np.sqrt(post._data.s2)))


def _tau_objective(post, prior: bool, half_log_w: bool, mu_prior):
    """The tau-side function to maximise (see the module docstring)."""
    from survmeta.exact.engine import _conditional

    def f(tau):
        tau = np.asarray(tau, dtype=float)
        _, V, loglik = _conditional(post._data, tau, mu_prior)
        out = loglik - 0.5 * np.log(V) if half_log_w else loglik
        if prior:
            out = out + post.tau_prior.logpdf(tau)
        return out

    return f


def _hi(post, prior: bool) -> float:
    return post.tau_prior.support[1] if prior else math.inf


def _tau_max(post, *, prior: bool, joint: bool, mu_prior=None) -> float:
    if post._fit is None:  # tau fixed at 0
        return 0.0
    mu_prior = post.mu_prior if mu_prior is None else mu_prior
    return _maximise_tau(_tau_objective(post, prior, joint, mu_prior), _scale(post),
                         _hi(post, prior))


def _conditional_mean(post, tau: float, mu_prior) -> float:
    from survmeta.exact.engine import _conditional

    if not math.isfinite(tau):
        return math.nan
    return float(_conditional(post._data, np.array([tau]), mu_prior)[0][0])


def marginal_mode(post, param: str) -> float:
    """Mode of the marginal posterior of ``param``.

    Parameters
    ----------
    post : ExactPosterior
    param : str
        ``"tau"``, ``"mu"``, ``"predict"`` or ``"theta[<label>]"``.

    Returns
    -------
    float
    """
    if param == "tau":
        return _tau_max(post, prior=True, joint=False)
    marg = post.marginal(param)
    lo, hi = float(marg.quantile(1e-4)), float(marg.quantile(1 - 1e-4))
    if not hi > lo:
        return float(marg.median())
    return _maximise_line(lambda x: np.log(marg.pdf(x)), lo, hi)


def modes(post) -> Modes:
    """The marginal posterior modes of tau, mu and the prediction (bayesmeta's
    ``$summary["mode", c("tau", "mu", "theta")]``)."""
    return Modes(tau=marginal_mode(post, "tau"), mu=marginal_mode(post, "mu"),
                 predict=marginal_mode(post, "predict"))


def map_estimates(post) -> PointEstimates:
    """Joint and marginal maximum-a-posteriori estimates of (tau, mu) (bayesmeta's ``$MAP``)."""
    tau = _tau_max(post, prior=True, joint=True)
    joint = TauMu(tau, _conditional_mean(post, tau, post.mu_prior))
    m = post.modes()
    return PointEstimates(joint, TauMu(m.tau, m.mu))


def ml_estimates(post) -> PointEstimates:
    """Joint and marginal maximum-likelihood estimates of (tau, mu) (bayesmeta's ``$ML``).

    The joint one ignores both priors; the marginal one for tau integrates mu
    against its prior, the one for mu integrates tau against its prior (see
    the module docstring).
    """
    flat = parse_prior("flat", "mu")
    tau = _tau_max(post, prior=False, joint=True, mu_prior=flat)
    joint = TauMu(tau, _conditional_mean(post, tau, flat))
    tau_m = _tau_max(post, prior=False, joint=False)
    marg = post.marginal("mu")
    y = post._data.y
    lo = min(float(marg.quantile(1e-4)), float(y.min()))
    hi = max(float(marg.quantile(1 - 1e-4)), float(y.max()))
    if post.mu_prior.family != "normal":
        return PointEstimates(joint, TauMu(tau_m, post.modes().mu))  # flat: the posterior mode

    def f(x):
        return np.log(marg.pdf(x)) - post.mu_prior.logpdf(x)

    mu_m = _maximise_line(f, lo, hi) if hi > lo else float(y[0])
    return PointEstimates(joint, TauMu(tau_m, mu_m))
