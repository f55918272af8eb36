"""Exact Bayesian meta-regression, the model of R's bayesmeta ``bmr()`` (Röver & Friede 2023).

Model::

    y_i | beta, tau ~ Normal(x_i' beta, s_i^2 + tau^2)
    beta ~ flat, or Normal(b0, diag(sd0^2));   tau ~ any prior on [0, inf)

Given tau the coefficients have a normal posterior in closed form (generalised
least squares, with the prior precision added for a normal prior), and the
marginal likelihood p(y | tau) is known, so the posterior of tau is integrated
on the exact engine's quadrature (:mod:`survmeta.exact.engine`) and every
coefficient's marginal is a normal mixture over the tau nodes. An intercept is
added to the moderators, as in :func:`survmeta.exact.rma_mods`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from survmeta.errors import SurvmetaError, check_level
from survmeta.exact.engine import _tau_quadrature
from survmeta.exact.frequentist import _check
from survmeta.exact.marginals import GridMarginal, NormalMixture
from survmeta.exact.metareg import CoefficientLookup, moderator_matrix
from survmeta.priors import parse_prior

_LOG2PI = math.log(2.0 * math.pi)


def beta_prior(beta_mean, beta_sd, p: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Mean and precision of a normal prior on the ``p`` coefficients, or ``(None, None)`` (flat).

    ``beta_sd`` (and ``beta_mean``, default 0) are one number or ``p`` numbers, intercept
    first; ``beta_mean`` without ``beta_sd`` is refused. Shared by :func:`bmr` and the PyMC
    meta-regression (:func:`survmeta.models.fit_metareg`).
    """
    if beta_sd is None:
        if beta_mean is not None:
            raise SurvmetaError("beta_mean needs beta_sd (a normal prior); leave both out for flat")
        return None, None
    try:
        sd = np.broadcast_to(np.asarray(beta_sd, dtype=float), (p,)).copy()
        b0 = np.broadcast_to(np.asarray(0.0 if beta_mean is None else beta_mean, dtype=float),
                             (p,)).copy()
    except ValueError:
        raise SurvmetaError(f"beta_mean and beta_sd need one value or {p} (intercept first)") from None
    if np.any(~np.isfinite(sd)) or np.any(sd <= 0) or np.any(~np.isfinite(b0)):
        raise SurvmetaError("beta_sd must be positive and finite, beta_mean finite")
    return b0, 1.0 / sd**2


def design_matrix(mods, names: Sequence[str] | None, k: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Design matrix with the intercept first, and the coefficient names.

    Parameters
    ----------
    mods : array_like, shape (k,) or (k, m), or mapping of name to column
        Moderators without the intercept; a mapping goes through
        :func:`survmeta.exact.moderator_matrix` (text columns become factors).
    names : sequence of str, optional
        Moderator names for an array (default ``x1, x2, ...``).
    k : int
        Number of studies.

    Returns
    -------
    X : numpy.ndarray, shape (k, p)
    names : tuple of str
        ``("intrcpt", ...)``.
    """
    if isinstance(mods, Mapping):
        M, mnames = moderator_matrix(mods)
    else:
        M = np.asarray(mods, dtype=float)
        if M.ndim == 1:
            M = M[:, None]
        mnames = tuple(names) if names is not None else tuple(
            f"x{j + 1}" for j in range(M.shape[1]))
        if M.ndim == 2 and len(mnames) != M.shape[1]:
            raise SurvmetaError(f"{len(mnames)} names for {M.shape[1]} moderators")
    if M.ndim != 2 or M.shape[0] != k or not np.all(np.isfinite(M)):
        raise SurvmetaError(f"mods must be finite numbers, one row per study ({k})")
    return np.column_stack([np.ones(k), M]), ("intrcpt", *mnames)


@dataclass(frozen=True)
class PosteriorSummary:
    """Posterior summary of one parameter (equal-tailed interval at ``level``)."""

    name: str
    mean: float
    sd: float
    median: float
    lower: float
    upper: float


@dataclass(frozen=True)
class BayesMetaRegression(CoefficientLookup[PosteriorSummary]):
    """Result of :func:`bmr`.

    Attributes
    ----------
    k, p : int
        Studies and coefficients (intercept included).
    level : float
    tau_prior, beta_prior : str
        The priors as given (``beta_prior`` ``"flat"`` or ``"normal"``).
    coefficients : tuple of PosteriorSummary
        Intercept first.
    tau : PosteriorSummary
    log_marginal_likelihood : float
        log p(y) (finite only with proper priors; with a flat coefficient prior
        it is the likelihood integrated against Lebesgue measure).
    """

    k: int
    p: int
    level: float
    tau_prior: str
    beta_prior: str
    coefficients: tuple[PosteriorSummary, ...]
    tau: PosteriorSummary
    log_marginal_likelihood: float



def _conditional(y, s2, X, tau, b0, p0):
    """Posterior means and covariances of beta | tau, y and log p(y | tau), per tau."""
    k, p = X.shape
    tau = np.atleast_1d(np.asarray(tau, dtype=float))
    w = 1.0 / (s2[None, :] + tau[:, None] ** 2)                 # (n, k)
    A = np.einsum("ni,ij,ik->njk", w, X, X)                     # (n, p, p)
    r = np.einsum("ni,ij->nj", w * y[None, :], X)               # (n, p)
    if p0 is not None:
        A = A + np.diag(p0)[None]
        r = r + (p0 * b0)[None]
    cov = np.linalg.inv(A)
    m = np.einsum("njk,nk->nj", cov, r)
    resid = y[None, :] - m @ X.T
    rss = np.sum(w * resid ** 2, axis=1)
    logdet_a = np.linalg.slogdet(A)[1]
    ll = 0.5 * np.log(w).sum(axis=1) - 0.5 * logdet_a - 0.5 * rss
    if p0 is not None:
        rss_prior = np.sum(p0 * (m - b0) ** 2, axis=1)
        ll = ll - 0.5 * rss_prior + 0.5 * float(np.sum(np.log(p0))) - 0.5 * k * _LOG2PI
    else:
        ll = ll - 0.5 * (k - p) * _LOG2PI
    return m, cov, ll


def bmr(y, sigma, mods, names: Sequence[str] | None = None, tau_prior="flat",
        beta_mean=None, beta_sd=None, level: float = 0.95) -> BayesMetaRegression:
    """Bayesian meta-regression by exact integration over tau (bayesmeta's ``bmr``).

    Checked against bayesmeta 3.3's ``bmr()`` (its documented example and dat.bcg
    with proper priors; tests/exact/test_bayesmeta_reference.py) and against
    brute-force integration of the joint posterior of (beta, tau) on dat.bcg.

    Parameters
    ----------
    y, sigma : array_like
        Estimates and standard errors.
    mods : array_like, shape (k,) or (k, m), or mapping of name to column
        Moderators without the intercept (see :func:`survmeta.exact.rma_mods`).
    names : sequence of str, optional
        Moderator names for an array.
    tau_prior : str, Prior or callable
        Heterogeneity prior as in :func:`survmeta.exact.bayesmeta` (default flat,
        bayesmeta's ``"uniform"``).
    beta_mean, beta_sd : float or array_like, optional
        Independent normal priors on the coefficients (intercept first; a scalar
        applies to every coefficient). Without ``beta_sd`` the prior is flat
        (bayesmeta's default).
    level : float
        Level of the equal-tailed intervals.

    Returns
    -------
    BayesMetaRegression
    """
    y, s2 = _check(y, sigma)
    k = y.size
    X, cnames = design_matrix(mods, names, k)
    p = X.shape[1]
    level = check_level(level)
    b0, p0 = beta_prior(beta_mean, beta_sd, p)
    if p0 is None and np.linalg.matrix_rank(X) < p:
        raise SurvmetaError("the moderators are collinear (or constant): with a flat "
                            "prior the coefficients are not identified")
    tau_p = parse_prior(tau_prior, "tau")
    need = p + 2 if p0 is None else 2
    if not tau_p.proper and k < need:
        raise SurvmetaError(f"an improper tau prior ({tau_p.spec}) gives an improper posterior "
                            f"with k = {k} and {p} coefficients; use a proper tau prior")
    if tau_p.is_point_mass:
        tau_nodes, probs = np.array([0.0]), np.array([1.0])
        log_ml = float(_conditional(y, s2, X, 0.0, b0, p0)[2][0])
        tau_sum = PosteriorSummary("tau", 0.0, 0.0, 0.0, 0.0, 0.0)
    else:
        def log_joint(tau):
            tau = np.asarray(tau, dtype=float)
            lp = tau_p.logpdf(tau)
            out = np.full(tau.shape, -np.inf)
            ok = np.isfinite(lp)
            if np.any(ok):
                out[ok] = lp[ok] + _conditional(y, s2, X, tau[ok], b0, p0)[2]
            return out

        c = float(np.median(np.sqrt(s2)))
        fit = _tau_quadrature(log_joint, tau_p, c)
        tau_nodes, probs, log_ml = fit.tau_nodes, fit.weights, fit.log_norm
        mean = float(np.sum(probs * tau_nodes))
        sdv = math.sqrt(max(float(np.sum(probs * (tau_nodes - mean) ** 2)), 0.0))
        marg = GridMarginal(fit.grid_x, fit.grid_g, c, lambda t: log_joint(t) - log_ml,
                            (mean, sdv))
        lo, hi = marg.eti(level)
        tau_sum = PosteriorSummary("tau", mean, sdv, float(marg.median()), float(lo), float(hi))
    m, cov, _ = _conditional(y, s2, X, tau_nodes, b0, p0)
    coefs = []
    for j, name in enumerate(cnames):
        mix = NormalMixture(probs, m[:, j], np.sqrt(cov[:, j, j]))
        lo, hi = mix.eti(level)
        coefs.append(PosteriorSummary(name, float(mix.mean()), float(mix.sd()),
                                      float(mix.median()), float(lo), float(hi)))
    return BayesMetaRegression(k=k, p=p, level=float(level), tau_prior=tau_p.spec,
                               beta_prior="flat" if p0 is None else "normal",
                               coefficients=tuple(coefs), tau=tau_sum,
                               log_marginal_likelihood=float(log_ml))
