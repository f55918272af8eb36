"""Exact Bayesian normal-normal random-effects meta-analysis.

Model (the one of R's bayesmeta, Röver 2020, J Stat Softw 93(6))::

    y_i | theta_i ~ Normal(theta_i, s_i^2)
    theta_i | mu, tau ~ Normal(mu, tau^2)
    mu ~ Normal(m0, sd0^2) or flat;   tau ~ any prior on [0, inf)

Given tau, mu and the theta_i are normal with closed-form moments, so every
marginal is a one-dimensional integral over tau. The marginal posterior of tau
is computed on a grid in ``x = tau / (tau + c)`` (``c`` = median SE), which
maps ``[0, inf)`` to ``[0, 1)`` so heavy tails are covered; a coarse pass finds
where the posterior mass is, a fine pass integrates it on points uniform in ``x``
merged with points uniform in ``log tau`` (so a posterior spread over many decades
of tau, as with two very precise studies, is resolved too; cumulative Simpson rule
for the CDF of tau, composite Gauss-Legendre nodes for the moments and for the
normal mixtures that give mu, exp(mu), the prediction and the shrunken theta_i).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from survmeta.errors import SurvmetaError, check_level
from survmeta.exact.marginals import (ExpNormalMixture, GridMarginal, Marginal,
                                      NormalMixture, PointMass, mixture_summaries)
from survmeta.priors import Prior, parse_prior
from survmeta.settings import EXACT_DRAWS, MCMC_CHAINS

_LOG2PI = math.log(2.0 * math.pi)
_N_COARSE = 400
_N_FINE = 2001
_GL_PANELS = 24
_GL_ORDER = 16
_DROP = 45.0  # log-density drop treated as negligible mass


@dataclass(frozen=True)
class _Data:
    y: np.ndarray
    s2: np.ndarray
    labels: tuple[str, ...]


def _check_data(y, sigma, labels) -> _Data:
    y = np.atleast_1d(np.asarray(y, dtype=float))
    sigma = np.atleast_1d(np.asarray(sigma, dtype=float))
    if y.ndim != 1 or sigma.shape != y.shape:
        raise SurvmetaError(f"y and sigma must be 1-D and of equal length "
                            f"(got {y.shape} and {sigma.shape})")
    if y.size == 0:
        raise SurvmetaError("need at least one estimate")
    if not np.all(np.isfinite(y)):
        raise SurvmetaError("every estimate y must be a finite number")
    if not np.all(np.isfinite(sigma)) or np.any(sigma <= 0):
        raise SurvmetaError("every standard error sigma must be positive and finite")
    if labels is None:
        labels = [str(i + 1) for i in range(y.size)]
    labels = tuple(str(lab) for lab in labels)
    if len(labels) != y.size:
        raise SurvmetaError(f"got {len(labels)} labels for {y.size} estimates")
    if len(set(labels)) != len(labels):
        raise SurvmetaError("study labels must be unique")
    return _Data(y, sigma ** 2, labels)


def _conditional(data: _Data, tau, mu_prior: Prior):
    """Moments of mu | tau, y and log p(y | tau) for an array of tau values."""
    tau = np.asarray(tau, dtype=float)
    w = 1.0 / (data.s2 + (tau ** 2)[..., None])
    sw = w.sum(axis=-1)
    swy = (w * data.y).sum(axis=-1)
    half_logdet = 0.5 * np.log(w).sum(axis=-1)
    k = data.y.size
    if mu_prior.family == "normal":
        m0, sd0 = mu_prior.params["mean"], mu_prior.params["sd"]
        p0 = 1.0 / sd0 ** 2
        W = sw + p0
        m = (swy + p0 * m0) / W
        rss = (w * (data.y - m[..., None]) ** 2).sum(axis=-1) + p0 * (m - m0) ** 2
        loglik = -0.5 * k * _LOG2PI + half_logdet - math.log(sd0) - 0.5 * np.log(W) - 0.5 * rss
    else:
        W = sw
        m = swy / W
        rss = (w * (data.y - m[..., None]) ** 2).sum(axis=-1)
        loglik = -0.5 * (k - 1) * _LOG2PI + half_logdet - 0.5 * np.log(W) - 0.5 * rss
    return m, 1.0 / W, loglik


def _mixed_points(a: float, b: float, n: int) -> np.ndarray:
    """``n`` points uniform in ``x`` merged with ``n`` uniform in ``logit(x) = log(tau / c)``.

    Uniform spacing in ``x`` alone resolves about two decades of tau around
    ``c``; when the posterior of tau spreads over many decades above ``c`` (two
    studies with SEs of 0.001 and close estimates: density about 1/tau from
    tau ~ 0.001 up to the prior's scale), all of it lies within 1e-3 of
    ``x = 1`` and is missed by a uniform grid. The logit-uniform points
    cover every decade in the range equally.
    """
    uniform = np.linspace(a, b, n)
    lo, hi = max(a, 1e-12), min(b, 1.0 - 1e-15)
    if hi <= lo:
        return uniform
    logit = special.expit(np.linspace(special.logit(lo), special.logit(hi), n))
    pts = np.unique(np.concatenate([uniform, logit[(logit > a) & (logit < b)]]))
    # drop near-duplicates that would make panels of negligible width
    keep = np.concatenate([[True], np.diff(pts) > 1e-9 * (b - a)])
    pts = pts[keep]
    pts[-1] = b
    return pts


@functools.cache
def _legendre_rule(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-1, 1] (computed once per order; read-only)."""
    nodes, weights = np.polynomial.legendre.leggauss(order)
    nodes.flags.writeable = False
    weights.flags.writeable = False
    return nodes, weights


def _gauss_legendre(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = _legendre_rule(_GL_ORDER)
    edges = _mixed_points(a, b, _GL_PANELS + 1)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[:-1] + edges[1:])
    x = (mid[:, None] + half[:, None] * nodes).ravel()
    w = (half[:, None] * weights).ravel()
    return x, w


@dataclass
class _TauFit:
    """Quadrature of the tau posterior."""

    c: float
    log_norm: float          # log of the integral of prior * likelihood over tau
    tau_nodes: np.ndarray    # Gauss-Legendre nodes (tau scale)
    weights: np.ndarray      # posterior probabilities of the nodes (sum 1)
    grid_x: np.ndarray
    grid_g: np.ndarray


def _tau_quadrature(log_joint, tau_prior: Prior, c: float) -> _TauFit:
    """Quadrature of a tau posterior given ``log_joint(tau)`` = log prior + log likelihood.

    ``c`` is the scale of the grid transformation ``x = tau / (tau + c)``.
    """
    lo, hi = tau_prior.support
    x_lo = lo / (lo + c)
    x_hi = hi / (hi + c) if math.isfinite(hi) else 1.0
    if math.isfinite(hi):
        coarse = np.linspace(x_lo, x_hi, _N_COARSE)
    else:
        top = 1.0 - 1e-3
        coarse = np.concatenate([np.linspace(x_lo, top, _N_COARSE),
                                 1.0 - np.geomspace(1e-3, 1e-13, 80)[1:]])

    def log_g(x):
        tau = c * x / (1.0 - x)
        return log_joint(tau) + math.log(c) - 2.0 * np.log1p(-x)

    lg = log_g(coarse)
    if not np.any(np.isfinite(lg)):
        raise SurvmetaError("the posterior of tau is zero everywhere; check the tau prior")
    peak = np.nanmax(lg)
    keep = np.flatnonzero(lg > peak - _DROP)
    ia, ib = max(keep[0] - 1, 0), min(keep[-1] + 1, coarse.size - 1)
    a, b = float(coarse[ia]), float(coarse[ib])
    if not tau_prior.proper and ib == coarse.size - 1 and not math.isfinite(hi):
        raise SurvmetaError("the posterior of tau is improper with this prior and these "
                            "data; use a proper tau prior")
    # Gauss-Legendre nodes for moments and mixtures
    xq, wq = _gauss_legendre(a, b)
    lq = log_g(xq)
    shift = float(np.max(lq))
    gq = np.exp(lq - shift) * wq
    norm = float(gq.sum())
    # fine grid for the CDF of tau
    xf = _mixed_points(a, b, _N_FINE)
    gf = np.exp(log_g(xf) - shift)
    tau_q = c * xq / (1.0 - xq)
    probs = gq / norm
    log_norm = shift + math.log(norm)
    return _TauFit(c, log_norm, tau_q, probs, xf, gf)


class ExactPosterior:
    """Posterior of the normal-normal random-effects model, computed exactly.

    Parameters ``"mu"``, ``"tau"``, ``"hr"`` (exp(mu)), ``"predict"`` (theta of a
    new study, log scale), ``"predict_hr"`` (its exp) and ``"theta[<label>]"``
    (shrunken study effects; an integer index also works) are accepted by
    :meth:`marginal`, :meth:`pdf`, :meth:`cdf`, :meth:`quantile`, :meth:`mean`,
    :meth:`median`, :meth:`sd`, :meth:`eti`, :meth:`hdi` and :meth:`interval`.

    Build it with :func:`bayesmeta` or :func:`common_effect`.
    """

    def __init__(self, data: _Data, tau_prior: Prior, mu_prior: Prior, level: float):
        self._data = data
        self.tau_prior = tau_prior
        self.mu_prior = mu_prior
        self.level = level
        self._cache: dict[str, Marginal] = {}
        self._estimates: dict[str, object] = {}
        if tau_prior.is_point_mass:
            self._fit = None
            m, V, loglik = _conditional(data, np.array([0.0]), mu_prior)
            self._nodes = (np.array([0.0]), np.array([1.0]), m, V)
            self._log_evidence = float(loglik[0])
        else:
            self._fit = self._integrate_tau()
            m, V, _ = _conditional(data, self._fit.tau_nodes, mu_prior)
            self._nodes = (self._fit.tau_nodes, self._fit.weights, m, V)
            self._log_evidence = self._fit.log_norm

    # ------------------------------------------------------------------ tau
    def _log_joint(self, tau):
        """log prior(tau) + log p(y | tau)."""
        tau = np.asarray(tau, dtype=float)
        lp = self.tau_prior.logpdf(tau)
        out = np.full(tau.shape, -np.inf)
        ok = np.isfinite(lp)
        if np.any(ok):
            out[ok] = lp[ok] + _conditional(self._data, tau[ok], self.mu_prior)[2]
        return out

    def _integrate_tau(self) -> _TauFit:
        c = float(np.median(np.sqrt(self._data.s2)))
        return _tau_quadrature(self._log_joint, self.tau_prior, c)

    def _tau_marginal(self) -> Marginal:
        if self._fit is None:
            return PointMass(0.0)
        tau, p = self._fit.tau_nodes, self._fit.weights
        mean = float(np.sum(p * tau))
        sd = float(math.sqrt(max(np.sum(p * (tau - mean) ** 2), 0.0)))
        log_norm = self._fit.log_norm
        return GridMarginal(self._fit.grid_x, self._fit.grid_g, self._fit.c,
                            lambda t: self._log_joint(t) - log_norm, (mean, sd))

    # ------------------------------------------------------------ mixtures
    def _mu_mixture(self) -> NormalMixture:
        _, p, m, V = self._nodes
        return NormalMixture(p, m, np.sqrt(V))

    def _predict_mixture(self) -> NormalMixture:
        tau, p, m, V = self._nodes
        return NormalMixture(p, m, np.sqrt(V + tau ** 2))

    def _theta_mixture(self, i: int) -> NormalMixture:
        tau, p, m, V = self._nodes
        y, s2 = self._data.y[i], self._data.s2[i]
        a = tau ** 2 / (tau ** 2 + s2)
        mean = a * y + (1.0 - a) * m
        var = a * s2 + (1.0 - a) ** 2 * V
        return NormalMixture(p, mean, np.sqrt(var))

    def _study_index(self, key: str) -> int:
        if key in self._data.labels:
            return self._data.labels.index(key)
        try:
            i = int(key)
        except ValueError:
            i = -1
        if 0 <= i < len(self._data.labels):
            return i
        raise SurvmetaError(f"no study {key!r}; labels are {', '.join(self._data.labels)}")

    def _normal_mixture(self, param: str) -> NormalMixture:
        """The (cached) marginal of ``mu`` or ``predict``, a normal mixture by construction."""
        out = self.marginal(param)
        assert isinstance(out, NormalMixture)
        return out

    def marginal(self, param: str) -> Marginal:
        """The posterior marginal of ``param`` (see the class docstring)."""
        if param in self._cache:
            return self._cache[param]
        out: Marginal
        if param == "mu":
            out = self._mu_mixture()
        elif param == "tau":
            out = self._tau_marginal()
        elif param == "hr":
            out = ExpNormalMixture(self._normal_mixture("mu"))
        elif param in ("predict", "predict_log_hr"):
            out = self._predict_mixture()
        elif param == "predict_hr":
            out = ExpNormalMixture(self._normal_mixture("predict"))
        elif param.startswith("theta[") and param.endswith("]"):
            out = self._theta_mixture(self._study_index(param[6:-1]))
        else:
            raise SurvmetaError(f"unknown parameter {param!r}; use mu, tau, hr, predict, "
                                f"predict_hr or theta[<label>]")
        self._cache[param] = out
        return out

    # ------------------------------------------------------- summaries
    @property
    def k(self) -> int:
        """Number of estimates."""
        return int(self._data.y.size)

    @property
    def labels(self) -> tuple[str, ...]:
        """Study labels."""
        return self._data.labels

    def pdf(self, param: str, x):
        """Posterior density of ``param`` at ``x``."""
        return self.marginal(param).pdf(x)

    def cdf(self, param: str, x):
        """Posterior CDF of ``param`` at ``x``."""
        return self.marginal(param).cdf(x)

    def quantile(self, param: str, p):
        """Posterior quantile of ``param`` at probability ``p``."""
        return self.marginal(param).quantile(p)

    def mean(self, param: str) -> float:
        """Posterior mean."""
        return self.marginal(param).mean()

    def median(self, param: str) -> float:
        """Posterior median."""
        return self.marginal(param).median()

    def sd(self, param: str) -> float:
        """Posterior standard deviation."""
        return self.marginal(param).sd()

    def eti(self, param: str, level: float | None = None) -> tuple[float, float]:
        """Equal-tailed credible (or prediction) interval."""
        return self.marginal(param).eti(self.level if level is None else level)

    def hdi(self, param: str, level: float | None = None) -> tuple[float, float]:
        """Shortest credible (or prediction) interval (HR scale: see :meth:`interval`)."""
        return self.marginal(param).hdi(self.level if level is None else level)

    def interval(self, param: str, level: float | None = None, kind: str = "eti"
                 ) -> tuple[float, float]:
        """Credible (or prediction) interval of ``param``, of either kind.

        Computed from the exact marginal density and CDF (no draws).

        Parameters
        ----------
        param : str
            ``"mu"``, ``"tau"``, ``"hr"``, ``"predict"``, ``"predict_hr"`` or
            ``"theta[<label>]"`` (see the class docstring).
        level : float, optional
            Posterior probability of the interval; the posterior's ``level`` by default.
        kind : {"eti", "hdi"}
            ``"eti"`` (also ``"central"``): equal-tailed, from the quantiles at
            ``(1 - level)/2`` and ``(1 + level)/2``. ``"hdi"`` (also ``"shortest"``):
            the shortest interval holding ``level``, with equal density at both ends,
            or starting at the lower end of the support when the density is highest
            there; for tau with its mode at 0 (e.g. a half-normal or half-Cauchy
            prior) it starts at 0, as bayesmeta prints it.

        Returns
        -------
        tuple of float
            ``(lower, upper)``.

        Notes
        -----
        For ``"hr"`` and ``"predict_hr"`` the shortest interval is computed on the log
        scale (of ``mu`` or ``predict``) and exponentiated: it holds the same posterior
        probability, does not depend on the scale the ratio is printed on, and never
        starts at 0 (the density of the ratio itself can be unbounded at 0). The
        equal-tailed interval is the same on either scale.
        """
        kinds = {"eti": "eti", "central": "eti", "hdi": "hdi", "shortest": "hdi"}
        if kind not in kinds:
            raise SurvmetaError(f"unknown interval kind {kind!r}; use 'eti' (central) or "
                                f"'hdi' (shortest)")
        if kinds[kind] == "hdi":
            return self.hdi(param, level)
        return self.eti(param, level)

    def mode(self, param: str) -> float:
        """Mode of the marginal posterior of ``param`` (``tau``, ``mu``, ``predict``, ``theta[..]``).

        As bayesmeta's ``$summary["mode", ]``; a maximum at tau = 0 is 0.
        See :mod:`survmeta.exact.modes`.
        """
        from survmeta.exact.modes import marginal_mode

        return marginal_mode(self, "predict" if param == "predict_log_hr" else param)

    def modes(self):
        """Marginal posterior modes of tau, mu and the prediction (a :class:`~survmeta.exact.modes.Modes`).

        bayesmeta: ``res$summary["mode", c("tau", "mu", "theta")]``.
        """
        from survmeta.exact.modes import modes

        if "_modes" not in self._estimates:
            self._estimates["_modes"] = modes(self)
        return self._estimates["_modes"]

    def map_estimates(self):
        """Joint and marginal MAP estimates of (tau, mu) (bayesmeta's ``res$MAP``).

        Returns
        -------
        survmeta.exact.modes.PointEstimates
            ``joint``: the maximum of p(tau, mu | y); ``marginal``: the
            marginal posterior modes of tau and of mu.
        """
        from survmeta.exact.modes import map_estimates

        if "_map" not in self._estimates:
            self._estimates["_map"] = map_estimates(self)
        return self._estimates["_map"]

    def ml_estimates(self):
        """Joint and marginal maximum-likelihood estimates of (tau, mu) (bayesmeta's ``res$ML``).

        Returns
        -------
        survmeta.exact.modes.PointEstimates
            ``joint``: the maximum of p(y | tau, mu), no prior (metafor's
            ``method = "ML"``); ``marginal``: the maxima of p(y | tau) (mu
            integrated against its prior; with a flat one, REML's tau) and of
            p(y | mu) (tau integrated against its prior).
        """
        from survmeta.exact.modes import ml_estimates

        if "_ml" not in self._estimates:
            self._estimates["_ml"] = ml_estimates(self)
        return self._estimates["_ml"]

    def prob_below(self, threshold: float, scale: str = "hr", param: str = "mu") -> float:
        """Posterior probability that the effect is below ``threshold``.

        Parameters
        ----------
        threshold : float
            E.g. 1 for P(HR < 1), 0.8 for P(HR < 0.8).
        scale : {"hr", "log"}
            Whether ``threshold`` is a ratio or on the log scale.
        param : {"mu", "predict"}
            Pooled effect or the effect in a new study.
        """
        if param not in ("mu", "predict"):
            raise SurvmetaError("prob_below works for param 'mu' or 'predict'")
        if scale == "hr":
            if not threshold > 0:
                raise SurvmetaError(f"a ratio threshold must be positive, got {threshold}")
            threshold = math.log(threshold)
        elif scale != "log":
            raise SurvmetaError(f"scale must be 'hr' or 'log', got {scale!r}")
        return float(self.marginal(param).cdf(threshold))

    def bayes_factor(self, hypothesis: str) -> float:
        """Bayes factor in favour of a point hypothesis (BF01; its inverse is BF10).

        ``"tau=0"``: p(y | tau = 0) / p(y), the Savage-Dickey ratio of posterior to
        prior density of tau at 0 where that density is finite (needs a proper tau
        prior). ``"mu=0"``: posterior over prior density of mu at 0 (Savage-Dickey,
        as bayesmeta computes it; needs a proper, i.e. normal, mu prior).
        """
        key = hypothesis.replace(" ", "")
        if key == "tau=0":
            if self._fit is None:
                raise SurvmetaError("tau is fixed at 0 in this model; no Bayes factor for tau=0")
            if not self.tau_prior.proper:
                raise SurvmetaError("the Bayes factor for tau=0 needs a proper tau prior")
            log_h0 = float(_conditional(self._data, np.array([0.0]), self.mu_prior)[2][0])
            return math.exp(log_h0 - self._log_evidence)
        if key == "mu=0":
            if self.mu_prior.family != "normal":
                raise SurvmetaError("the Bayes factor for mu=0 needs a proper mu prior, e.g. "
                                    "normal(0, 4); with a flat prior it is not defined")
            post = float(self.marginal("mu").pdf(0.0))
            return post / float(self.mu_prior.pdf(0.0))
        raise SurvmetaError(f"unknown hypothesis {hypothesis!r}; use 'tau=0' or 'mu=0'")

    def log_marginal_likelihood(self) -> float:
        """log p(y), integrating over mu and tau (needs proper priors on both)."""
        if not (self.tau_prior.proper and self.mu_prior.proper):
            raise SurvmetaError("the marginal likelihood needs proper priors for mu and tau")
        return float(self._log_evidence)

    def marginal_likelihood(self) -> float:
        """p(y), integrating over mu and tau (needs proper priors on both)."""
        return math.exp(self.log_marginal_likelihood())

    def _row(self, param: str, level: float) -> dict:
        marg = self.marginal(param)
        eti, hdi = marg.eti(level), marg.hdi(level)
        return {"mean": marg.mean(), "median": marg.median(), "sd": marg.sd(),
                "eti_lower": eti[0], "eti_upper": eti[1],
                "hdi_lower": hdi[0], "hdi_upper": hdi[1]}

    def summary(self, level: float | None = None, studies: bool = True) -> pd.DataFrame:
        """Posterior summary table.

        Rows ``mu``, ``tau``, ``hr``, ``predict_log_hr``, ``predict_hr`` and
        ``theta[<label>]``; columns ``mean``, ``median``, ``sd``, ``eti_lower``,
        ``eti_upper``, ``hdi_lower``, ``hdi_upper``.

        Parameters
        ----------
        level : float, optional
            Interval level; default the posterior's own.
        studies : bool
            Include the ``theta[<label>]`` rows (default). Without them the table
            is cheaper; its other rows agree with the full table's to the root
            finders' tolerance (exactly for the common-effect model, whose
            marginals are single normals).
        """
        level = self.level if level is None else level
        names = ["mu", "tau", "hr", "predict_log_hr", "predict_hr"]
        theta = [f"theta[{lab}]" for lab in self._data.labels] if studies else []
        mixtures = [self.marginal(n) for n in ["mu", "predict_log_hr"] + theta]
        if not all(isinstance(mx, NormalMixture) for mx in mixtures):
            return pd.DataFrame([self._row(n, level) for n in names + theta],
                                index=names + theta)
        # the normal mixtures (mu, the prediction, theta_i) together, and the ratios from them
        fast = mixture_summaries(mixtures, level)
        rows = {}
        for j, n in enumerate(["mu", "predict_log_hr"] + theta):
            marg = mixtures[j]
            rows[n] = {"mean": marg.mean(), "median": fast["median"][j], "sd": marg.sd(),
                       "eti_lower": fast["eti_lower"][j], "eti_upper": fast["eti_upper"][j],
                       "hdi_lower": fast["hdi_lower"][j], "hdi_upper": fast["hdi_upper"][j]}
        for ratio, j in (("hr", 0), ("predict_hr", 1)):
            marg = self.marginal(ratio)
            with np.errstate(over="ignore"):
                rows[ratio] = {"mean": marg.mean(), "sd": marg.sd(),
                               **{key: float(np.exp(fast[key][j])) for key in fast}}
        rows["tau"] = self._row("tau", level)
        columns = ["mean", "median", "sd", "eti_lower", "eti_upper", "hdi_lower", "hdi_upper"]
        return pd.DataFrame([rows[n] for n in names + theta], index=names + theta,
                            columns=columns)

    # ------------------------------------------------------------ draws
    def sample(self, draws: int = EXACT_DRAWS, seed=None, chains: int = MCMC_CHAINS):
        """Independent draws from the joint posterior as an ``xarray.DataTree``.

        tau is drawn by inverse CDF from the grid, then mu | tau, y, then
        theta_i | mu, tau, y and the prediction theta_new | mu, tau.

        Parameters
        ----------
        draws : int
            Total number of draws, split evenly over ``chains``.
        seed : int or numpy Generator, optional
        chains : int
            Number of chains in the ``posterior`` group.

        Returns
        -------
        xarray.DataTree
            Groups ``posterior`` (``mu``, ``tau``, ``theta[study]``, ``predict``),
            ``observed_data`` (``y``) and ``constant_data`` (``sigma``).
        """
        import xarray as xr

        if chains < 1 or draws < chains or draws % chains:
            raise SurvmetaError(f"draws ({draws}) must be a positive multiple of chains ({chains})")
        rng = np.random.default_rng(seed)
        n = draws
        tau = np.asarray(self.marginal("tau").quantile(rng.uniform(size=n)), dtype=float)
        m, V, _ = _conditional(self._data, tau, self.mu_prior)
        mu = m + np.sqrt(V) * rng.standard_normal(n)
        s2, y = self._data.s2, self._data.y
        a = tau[:, None] ** 2 / (tau[:, None] ** 2 + s2)
        theta = a * y + (1.0 - a) * mu[:, None] + np.sqrt(a * s2) * rng.standard_normal((n, y.size))
        predict = mu + tau * rng.standard_normal(n)
        per = n // chains
        shape = (chains, per)
        coords = {"chain": np.arange(chains), "draw": np.arange(per),
                  "study": list(self._data.labels)}
        post = xr.Dataset({"mu": (("chain", "draw"), mu.reshape(shape)),
                           "tau": (("chain", "draw"), tau.reshape(shape)),
                           "theta": (("chain", "draw", "study"), theta.reshape(shape + (y.size,))),
                           "predict": (("chain", "draw"), predict.reshape(shape))},
                          coords=coords)
        post.attrs["engine"] = "exact"
        obs = xr.Dataset({"y": (("study",), y)}, coords={"study": list(self._data.labels)})
        const = xr.Dataset({"sigma": (("study",), np.sqrt(s2))},
                           coords={"study": list(self._data.labels)})
        return xr.DataTree.from_dict({"posterior": post, "observed_data": obs,
                                      "constant_data": const})

    def __repr__(self) -> str:
        return (f"ExactPosterior(k={self.k}, tau_prior={self.tau_prior.spec!r}, "
                f"mu_prior={self.mu_prior.spec!r})")


def bayesmeta(y, sigma, tau_prior="flat", mu_prior="flat", labels=None,
              level: float = 0.95) -> ExactPosterior:
    """Bayesian random-effects meta-analysis by exact integration over tau.

    The defaults are those of R's ``bayesmeta()``: an (improper) uniform prior
    on tau (R's ``tau.prior = "uniform"``) and a flat prior on mu (R's
    ``mu.prior.mean = NA``), so code ported from R keeps its priors. With these
    the posterior is proper only for k >= 3. ``survmeta.pooling`` and the command
    line have their own, proper, defaults (``halfnormal(0.5)`` and
    ``normal(0, 4)``; docs/models.md).

    Parameters
    ----------
    y : array_like
        Estimates (e.g. log hazard ratios).
    sigma : array_like
        Their standard errors.
    tau_prior : str, Prior or callable
        Heterogeneity prior, e.g. ``"halfnormal(0.5)"`` (R:
        ``tau.prior = function(t) dhalfnormal(t, scale = 0.5)``); default
        ``"flat"`` (R's ``"uniform"``); ``"fixed"`` gives the common-effect model
        (tau = 0). A callable is taken as a density on tau.
    mu_prior : str or Prior
        ``"flat"`` (default, as R) or ``"normal(mean, sd)"`` (R:
        ``mu.prior.mean = mean, mu.prior.sd = sd``).
    labels : sequence of str, optional
        Study labels (default ``"1"``, ``"2"``, ...).
    level : float
        Default credibility level of intervals.

    Returns
    -------
    ExactPosterior

    Raises
    ------
    SurvmetaError
        Invalid data or priors, or an improper posterior (e.g. an improper tau
        prior with a single study).
    """
    data = _check_data(y, sigma, labels)
    tau_p = parse_prior(tau_prior, "tau")
    mu_p = parse_prior(mu_prior, "mu")
    level = check_level(level)
    if not tau_p.proper and data.y.size < (2 if mu_p.proper else 3):
        raise SurvmetaError(f"an improper tau prior ({tau_p.spec}) gives an improper posterior "
                            f"with k = {data.y.size}; use a proper tau prior")
    return ExactPosterior(data, tau_p, mu_p, float(level))


def common_effect(y, sigma, mu_prior="flat", labels=None, level: float = 0.95) -> ExactPosterior:
    """Common-effect (fixed-effect) model: :func:`bayesmeta` with tau fixed at 0."""
    return bayesmeta(y, sigma, tau_prior="fixed", mu_prior=mu_prior, labels=labels, level=level)
