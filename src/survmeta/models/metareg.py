"""Bayesian meta-regression with PyMC: the model of :func:`survmeta.exact.bmr`.

Model (bayesmeta's ``bmr()``, Röver & Friede 2023; see docs/models.md)::

    y_i | beta, tau ~ Normal(x_i' beta, s_i^2 + tau^2),   i = 1..k
    beta ~ flat, or Normal(b0, diag(sd0^2));   tau ~ any prior of the prior table

The study effects are integrated out (marginal parametrization), and so are the
coefficients, as the per-question model does with mu: given tau, beta has a
normal conditional posterior with precision ``A(tau) = X' W X (+ diag(1 / sd0^2))``
and mean ``m(tau) = A^{-1} (X' W y (+ b0 / sd0^2))`` (``W = diag(1 / (s_i^2 +
tau^2))``), and the marginal likelihood ``p(y | tau)`` is known in closed form.
NUTS samples tau from its exact marginal posterior (the likelihood enters with
:func:`pymc.Potential`) and an independent standard normal vector ``z_beta``;
``beta = m(tau) + L^{-T} z_beta`` with ``A = L L'``. The sampled coordinates are
a posteriori independent, so there is no funnel to diverge in, and a flat prior
on beta is used as it is (no wide normal stands in for it): the collapsed
likelihood is the one the exact engine integrates.

An intercept is added to the moderators, as in :func:`survmeta.exact.bmr` and
:func:`survmeta.exact.rma_mods`; the coefficients are named ``intrcpt`` and the
moderator names.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import arviz_stats as azs
import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from survmeta.errors import SurvmetaError, check_level
from survmeta.exact.bmr import PosteriorSummary, beta_prior, design_matrix
from survmeta.exact.metareg import CoefficientLookup
from survmeta.models.diagnostics import diagnose
from survmeta.models.priors import as_prior, prior_key, prior_label, tau_rv
from survmeta.models.random_effects import DEFAULT_SEED, _describe, resolve_seed, run_nuts
from survmeta.settings import (
    MCMC_CHAINS,
    MCMC_DRAWS,
    MCMC_TUNE,
    NUTS_SAMPLER,
    TARGET_ACCEPT,
)

__all__ = ["MCMCMetaRegression", "build_metareg_model", "design_matrix", "fit_metareg"]

_CACHE_SIZE = 16
_MODEL_CACHE: OrderedDict = OrderedDict()


@dataclass(frozen=True, eq=False)
class MCMCMetaRegression(CoefficientLookup[PosteriorSummary]):
    """Result of :func:`fit_metareg`; the summaries are those of :class:`survmeta.exact.BayesMetaRegression`.

    Attributes
    ----------
    k, p : int
        Studies and coefficients (intercept included).
    level : float
        Level of the equal-tailed credible intervals.
    tau_prior, beta_prior : str
        The priors (``beta_prior`` ``"flat"`` or ``"normal"``, as in ``bmr``).
    coefficients : tuple of PosteriorSummary
        Intercept first; mean, sd, median and interval of the draws.
    tau : PosteriorSummary
    idata : xarray.DataTree
        The fit: ``posterior`` with ``beta[coef]``, ``tau`` and ``z_beta[coef]``,
        ``sample_stats``, ``observed_data`` and ``constant_data``.
    r_hat_max, ess_bulk_min, ess_tail_min : float
        Over ``beta`` and ``tau`` (:func:`survmeta.models.diagnose`).
    divergences : int
        Divergent transitions after tuning.
    warnings : tuple of str
        :func:`survmeta.models.diagnose`'s warnings in words (empty when all is well).
    random_seed : int
    nuts_sampler : str
    """

    k: int
    p: int
    level: float
    tau_prior: str
    beta_prior: str
    coefficients: tuple[PosteriorSummary, ...]
    tau: PosteriorSummary
    idata: xr.DataTree
    r_hat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    warnings: tuple[str, ...]
    random_seed: int
    nuts_sampler: str



def build_metareg_model(k: int, p: int, *, tau_prior="flat", beta_mean=None,
                        beta_sd=None) -> pm.Model:
    """Build the collapsed meta-regression model (data filled with zeros/ones).

    Parameters
    ----------
    k, p : int
        Studies and coefficients (intercept included).
    tau_prior : str, Prior-like or None
        Heterogeneity prior (a row of :data:`survmeta.priors.PRIOR_FAMILIES`).
    beta_mean, beta_sd : float or array_like, optional
        Independent normal priors on the coefficients (intercept first); without
        ``beta_sd`` the prior is flat.

    Returns
    -------
    pymc.Model
        Data containers ``y``, ``sigma`` (dim ``study``) and ``X`` (dims
        ``study``, ``coef``), free ``tau`` and ``z_beta[coef]``, the deterministic
        ``beta[coef]`` and the Potential ``log_likelihood_y``.
    """
    b0, p0 = beta_prior(beta_mean, beta_sd, p)
    coords = {"study": [f"study{i + 1}" for i in range(k)], "coef": [f"b{j}" for j in range(p)]}
    with pm.Model(coords=coords) as model:
        y = pm.Data("y", np.zeros(k), dims="study")
        sigma = pm.Data("sigma", np.ones(k), dims="study")
        X = pm.Data("X", np.tile(np.eye(p), (k // p + 1, 1))[:k], dims=("study", "coef"))
        tau = tau_rv("tau", tau_prior)
        w = 1.0 / (sigma**2 + tau**2)
        A = pt.dot(X.T * w[None, :], X)
        r = pt.dot(X.T, w * y)
        if p0 is not None:
            A = A + pt.diag(pt.as_tensor(p0))
            r = r + pt.as_tensor(p0 * b0)
        L = pt.linalg.cholesky(A)
        mean = pt.linalg.cho_solve((L, True), r)
        resid = y - pt.dot(X, mean)
        loglik = 0.5 * pt.sum(pt.log(w)) - pt.sum(pt.log(pt.diag(L))) - 0.5 * pt.sum(w * resid**2)
        if p0 is not None:
            loglik = loglik - 0.5 * pt.sum(p0 * (mean - b0) ** 2)
        pm.Potential("log_likelihood_y", loglik)
        z = pm.Normal("z_beta", 0.0, 1.0, dims="coef")
        pm.Deterministic("beta", mean + pt.linalg.solve_triangular(L.T, z, lower=False),
                         dims="coef")
    return model


def _cached_model(k, p, tau_prior, beta_mean, beta_sd) -> pm.Model:
    b0, p0 = beta_prior(beta_mean, beta_sd, p)
    key = (k, p, prior_key(tau_prior),
           None if p0 is None else (tuple(b0.tolist()), tuple(p0.tolist())))
    if key in _MODEL_CACHE:
        _MODEL_CACHE.move_to_end(key)
        return _MODEL_CACHE[key]
    model = build_metareg_model(k, p, tau_prior=tau_prior, beta_mean=beta_mean, beta_sd=beta_sd)
    _MODEL_CACHE[key] = model
    while len(_MODEL_CACHE) > _CACHE_SIZE:
        _MODEL_CACHE.popitem(last=False)
    return model


def _summary(name: str, da: xr.DataArray, level: float) -> PosteriorSummary:
    lo, hi = np.asarray(azs.eti(da, prob=level), dtype=float).ravel()
    v = np.asarray(da.values, dtype=float)
    return PosteriorSummary(name, float(v.mean()), float(v.std(ddof=1)), float(np.median(v)),
                            float(lo), float(hi))


def fit_metareg(
    y,
    sigma,
    mods,
    names: Sequence[str] | None = None,
    *,
    tau_prior="flat",
    beta_mean=None,
    beta_sd=None,
    level: float = 0.95,
    draws: int = MCMC_DRAWS,
    tune: int = MCMC_TUNE,
    chains: int = MCMC_CHAINS,
    cores: int = 1,
    random_seed: int | None = DEFAULT_SEED,
    nuts_sampler: str = NUTS_SAMPLER,
    target_accept: float = TARGET_ACCEPT,
) -> MCMCMetaRegression:
    """Bayesian meta-regression with NUTS, the model of :func:`survmeta.exact.bmr`.

    Parameters
    ----------
    y, sigma : array_like
        Estimates (log hazard ratios) and their standard errors (known).
    mods : array_like, shape (k,) or (k, m), or mapping of name to column
        Moderators without the intercept (see :func:`design_matrix`).
    names : sequence of str, optional
        Moderator names for an array.
    tau_prior : str, Prior-like
        Heterogeneity prior from :data:`survmeta.priors.PRIOR_FAMILIES` (default
        flat, as ``bmr``); ``custom`` densities need the exact engine.
    beta_mean, beta_sd : float or array_like, optional
        Independent normal priors on the coefficients (intercept first; a scalar
        applies to every coefficient), as in ``bmr``. Without ``beta_sd`` the
        prior is flat, used exactly (see the module docstring).
    level : float
        Level of the equal-tailed credible intervals.
    draws, tune, chains, cores : int
        NUTS draws and tuning steps per chain, chains, processes.
    random_seed : int or None
        The same seed gives identical numbers; None draws a fresh one (recorded
        in the result and in ``posterior.attrs["survmeta_random_seed"]``).
    nuts_sampler : {"pymc", "nutpie"}
        See :func:`survmeta.models.random_effects.run_nuts`.
    target_accept : float

    Returns
    -------
    MCMCMetaRegression
    """
    y = np.asarray(y, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    if y.ndim != 1 or y.shape != sigma.shape or y.size < 1:
        raise SurvmetaError("y and sigma must be vectors of the same length")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(sigma)) and np.all(sigma > 0)):
        raise SurvmetaError("y must be finite and sigma positive and finite")
    level = check_level(level)
    k = y.size
    X, cnames = design_matrix(mods, names, k)
    p = X.shape[1]
    b0, p0 = beta_prior(beta_mean, beta_sd, p)
    if p0 is None and np.linalg.matrix_rank(X) < p:
        raise SurvmetaError("the moderators are collinear (or constant): with a flat "
                            "prior the coefficients are not identified")
    tau_p = as_prior(tau_prior, "tau")
    if tau_p.family == "flat" and p0 is None and k < p + 2:
        raise SurvmetaError(f"an improper tau prior (flat) gives an improper posterior with "
                            f"k = {k} and {p} coefficients; use a proper tau prior")
    random_seed = resolve_seed(random_seed)
    model = _cached_model(k, p, tau_p, beta_mean, beta_sd)
    labels = [f"study{i + 1}" for i in range(k)]
    with model:
        pm.set_data({"y": y, "sigma": sigma, "X": X}, coords={"study": labels, "coef": list(cnames)})
    idata = run_nuts(model, draws=draws, tune=tune, chains=chains, cores=cores,
                     random_seed=random_seed, nuts_sampler=nuts_sampler,
                     target_accept=target_accept, var_names=["beta", "tau", "z_beta"])
    post = idata["posterior"].to_dataset()
    idata["posterior"] = xr.DataTree(post.assign_coords(coef=list(cnames)))
    obs = xr.Dataset({"y_obs": ("study", y)}, coords={"study": labels})
    idata["observed_data"] = xr.DataTree(obs)
    beta_label = "flat" if p0 is None else "normal"
    _describe(idata, model="metareg", tau_prior=prior_label(tau_p), beta_prior=beta_label,
              random_seed=int(random_seed))
    posterior = idata["posterior"].to_dataset()
    coefs = tuple(_summary(n, posterior["beta"].sel(coef=n), level) for n in cnames)
    tau_sum = _summary("tau", posterior["tau"], level)
    diag = diagnose(idata, var_names=["beta", "tau"])
    return MCMCMetaRegression(
        k=k, p=p, level=float(level), tau_prior=prior_label(tau_p), beta_prior=beta_label,
        coefficients=coefs, tau=tau_sum, idata=idata, r_hat_max=float(diag.r_hat_max),
        ess_bulk_min=float(diag.ess_bulk_min), ess_tail_min=float(diag.ess_tail_min),
        divergences=int(diag.divergences), warnings=diag.warnings,
        random_seed=int(random_seed), nuts_sampler=nuts_sampler)
