"""Single-arm evidence with PyMC: pooled proportions and pooled log medians.

Two models, the MCMC counterparts of the exact engines
:func:`survmeta.exact.pool_proportions` and :func:`survmeta.exact.pool_medians`
(same models, same default priors; see docs/models.md):

:func:`fit_proportions`
    the binomial-normal model on the logit scale, non-centred::

        events_i ~ Binomial(n_i, expit(theta_i)),   theta_i = mu + tau * z_i,
        z_i ~ Normal(0, 1)

    with ``mu ~ normal(0, 2)`` and ``tau ~ halfnormal(1)`` by default. Each
    study's binomial likelihood is kept as it is, so 0% and 100% need no
    continuity correction.
:func:`fit_log_medians`
    the normal-normal model on log medians with known standard errors (the
    per-question model of :func:`survmeta.models.fit_random_effects`, marginal
    parametrization), with ``tau ~ halfnormal(0.5)`` and a flat prior on mu by
    default.

Both return a :class:`SingleArmFit`: the DataTree of the fit (``posterior``
with ``mu``, ``tau`` and the post hoc ``predict``, the logit or log median of a
new study) and a :class:`SingleArmSummary` on the natural scale (pooled
proportion ``expit(mu)`` or pooled median ``exp(mu)`` with the equal-tailed
credible interval, and the prediction interval of a new study), computed with
arviz-stats.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

import arviz_stats as azs
import numpy as np
import pymc as pm
import xarray as xr
from scipy import special

from survmeta.errors import SurvmetaError, check_level
from survmeta.exact.medians import MU_PRIOR as MEDIAN_MU_PRIOR
from survmeta.exact.medians import TAU_PRIOR as MEDIAN_TAU_PRIOR
from survmeta.exact.proportions import (
    DEFAULT_PROPORTION_MU_PRIOR,
    DEFAULT_PROPORTION_TAU_PRIOR,
    _check,
    _labels,
)
from survmeta.models.priors import as_prior, mu_rv, prior_key, prior_label, tau_rv
from survmeta.models.random_effects import (
    DEFAULT_SEED,
    _add_variable,
    _describe,
    fit_random_effects,
    posthoc_rng,
    resolve_seed,
    run_nuts,
)
from survmeta.settings import (
    MCMC_CHAINS,
    MCMC_DRAWS,
    MCMC_TUNE,
    NUTS_SAMPLER,
    TARGET_ACCEPT,
)

__all__ = [
    "SingleArmFit",
    "SingleArmSummary",
    "build_proportions_model",
    "fit_log_medians",
    "fit_proportions",
    "summarise_single_arm",
]

_CACHE_SIZE = 16
_MODEL_CACHE: OrderedDict = OrderedDict()
_SCALES = ("proportion", "median")


@dataclass(frozen=True)
class SingleArmSummary:
    """Posterior summary of a single-arm fit, on the model and the natural scale.

    Attributes
    ----------
    scale : {"proportion", "median"}
        The natural scale: ``expit(mu)`` (proportions) or ``exp(mu)`` (medians).
    k : int
        Number of studies.
    level : float
        Level of the equal-tailed intervals.
    mu_prior, tau_prior : str
        The priors used.
    mu_mean, mu_median : float
        Posterior mean and median of mu (logit or log median).
    mu_ci : tuple of float
        Equal-tailed credible interval of mu.
    tau_mean, tau_median : float
        Posterior mean and median of tau.
    tau_ci : tuple of float
        Equal-tailed credible interval of tau.
    estimate : float
        Pooled value on the natural scale: the transform of the posterior median of mu.
    ci : tuple of float
        Its credible interval (the transformed limits of ``mu_ci``).
    pi : tuple of float
        Prediction interval of a new study's value on the natural scale.
    random_seed : int
        The seed of the fit.
    """

    scale: str
    k: int
    level: float
    mu_prior: str
    tau_prior: str
    mu_mean: float
    mu_median: float
    mu_ci: tuple[float, float]
    tau_mean: float
    tau_median: float
    tau_ci: tuple[float, float]
    estimate: float
    ci: tuple[float, float]
    pi: tuple[float, float]
    random_seed: int


@dataclass(frozen=True, eq=False)
class SingleArmFit:
    """A single-arm PyMC fit: its draws and their summary.

    Attributes
    ----------
    idata : xarray.DataTree
        ``posterior`` (``mu``, ``tau``, ``predict``, and ``theta[study]``),
        ``sample_stats``, ``observed_data`` and ``constant_data``.
    summary : SingleArmSummary
    """

    idata: xr.DataTree
    summary: SingleArmSummary



def _eti(da: xr.DataArray, level: float) -> tuple[float, float]:
    lo, hi = np.asarray(azs.eti(da, prob=level), dtype=float).ravel()
    return float(lo), float(hi)


def summarise_single_arm(idata: xr.DataTree, scale: str, level: float = 0.95) -> SingleArmSummary:
    """Summarise a single-arm fit (``mu``, ``tau`` and ``predict`` in its posterior).

    Parameters
    ----------
    idata : xarray.DataTree
        Output of :func:`fit_proportions` or :func:`fit_log_medians` (``.idata``).
    scale : {"proportion", "median"}
        Back-transform: ``expit`` or ``exp``.
    level : float
        Level of the equal-tailed credible and prediction intervals.

    Returns
    -------
    SingleArmSummary
    """
    if scale not in _SCALES:
        raise ValueError(f"scale must be one of {_SCALES}, not {scale!r}")
    level = check_level(level)
    back = special.expit if scale == "proportion" else np.exp
    post = idata["posterior"]
    mu, tau, pred = post["mu"], post["tau"], post["predict"]
    mu_ci, tau_ci, pred_ci = _eti(mu, level), _eti(tau, level), _eti(pred, level)
    mu_median = float(np.median(mu.values))
    attrs = post.attrs
    return SingleArmSummary(
        scale=scale,
        k=int(idata["observed_data"].sizes["study"]),
        level=level,
        mu_prior=str(attrs.get("survmeta_mu_prior", "")),
        tau_prior=str(attrs.get("survmeta_tau_prior", "")),
        mu_mean=float(mu.mean()),
        mu_median=mu_median,
        mu_ci=mu_ci,
        tau_mean=float(tau.mean()),
        tau_median=float(np.median(tau.values)),
        tau_ci=tau_ci,
        estimate=float(back(mu_median)),
        ci=(float(back(mu_ci[0])), float(back(mu_ci[1]))),
        pi=(float(back(pred_ci[0])), float(back(pred_ci[1]))),
        random_seed=int(attrs.get("survmeta_random_seed", -1)),
    )


# ----------------------------------------------------------------------------- proportions


def build_proportions_model(k: int, *, mu_prior=None, tau_prior=None) -> "pm.Model":
    """Build the non-centred binomial-normal model for ``k`` studies.

    Parameters
    ----------
    k : int
        Number of studies.
    mu_prior, tau_prior : str, Prior-like or None
        Priors of the pooled logit and of the between-study SD of the logits
        (default ``normal(0, 2)`` and ``halfnormal(1)``, as
        :func:`survmeta.exact.pool_proportions`).

    Returns
    -------
    pymc.Model
        With data containers ``events`` and ``n`` (dim ``study``, filled with
        zeros and ones), free variables ``mu``, ``tau`` and ``z``, the
        deterministic ``theta`` and the observed ``events_obs``.
    """
    mu_prior = as_prior(DEFAULT_PROPORTION_MU_PRIOR if mu_prior is None else mu_prior, "mu")
    tau_prior = as_prior(DEFAULT_PROPORTION_TAU_PRIOR if tau_prior is None else tau_prior, "tau")
    coords = {"study": [f"study{i + 1}" for i in range(k)]}
    with pm.Model(coords=coords) as model:
        events = pm.Data("events", np.zeros(k), dims="study")
        n = pm.Data("n", np.ones(k), dims="study")
        mu = mu_rv("mu", mu_prior)
        tau = tau_rv("tau", tau_prior)
        z = pm.Normal("z", 0.0, 1.0, dims="study")
        theta = pm.Deterministic("theta", mu + tau * z, dims="study")
        pm.Binomial("events_obs", n=n, logit_p=theta, observed=events, dims="study")
    return model


def _cached_proportions_model(k: int, mu_prior, tau_prior) -> "pm.Model":
    key = (k, prior_key(mu_prior), prior_key(tau_prior))
    if key in _MODEL_CACHE:
        _MODEL_CACHE.move_to_end(key)
        return _MODEL_CACHE[key]
    model = build_proportions_model(k, mu_prior=mu_prior, tau_prior=tau_prior)
    _MODEL_CACHE[key] = model
    while len(_MODEL_CACHE) > _CACHE_SIZE:
        _MODEL_CACHE.popitem(last=False)
    return model


def fit_proportions(
    events,
    n,
    labels: Sequence[str] | None = None,
    *,
    mu_prior=DEFAULT_PROPORTION_MU_PRIOR,
    tau_prior=DEFAULT_PROPORTION_TAU_PRIOR,
    level: float = 0.95,
    draws: int = MCMC_DRAWS,
    tune: int = MCMC_TUNE,
    chains: int = MCMC_CHAINS,
    cores: int = 1,
    random_seed: int | None = DEFAULT_SEED,
    nuts_sampler: str = NUTS_SAMPLER,
    target_accept: float = TARGET_ACCEPT,
) -> SingleArmFit:
    """Pool single-group proportions with the binomial-normal model by NUTS.

    Parameters
    ----------
    events, n : array_like
        Events and patients of each study (0 and ``n`` events are allowed).
    labels : sequence of str, optional
        Study labels, the ``study`` coordinate (default ``"1"``, ``"2"``, ...).
    mu_prior : str or Prior
        Prior on the pooled logit, default ``normal(0, 2)``.
    tau_prior : str or Prior
        Prior on the between-study SD of the logits, default ``halfnormal(1)``.
    level : float
        Level of the summary's equal-tailed intervals.
    draws, tune, chains, cores : int
        NUTS draws and tuning steps per chain, chains, and processes.
    random_seed : int or None
        Seeds NUTS and the post hoc ``predict`` draws; None draws a fresh seed
        (recorded in ``posterior.attrs["survmeta_random_seed"]``).
    nuts_sampler : {"pymc", "nutpie"}
        NUTS implementation, see :func:`survmeta.models.random_effects.run_nuts`.
    target_accept : float
        NUTS target acceptance rate.

    Returns
    -------
    SingleArmFit
        ``idata.posterior`` holds ``mu``, ``tau``, ``theta[study]`` (the study
        logits) and ``predict`` (a new study's logit, ``mu + tau * N(0, 1)``);
        ``summary`` the pooled proportion ``expit(mu)`` with its credible
        interval and the prediction interval of a new study's proportion.

    Raises
    ------
    SurvmetaError
        Events and n of different lengths, not whole numbers, ``n < 1`` or
        events outside ``0..n``, duplicate labels, or an invalid level.
    """
    x, m = _check(events, n)
    lab = list(_labels(labels, x.size))
    if len(set(lab)) != len(lab):
        raise SurvmetaError(f"study labels must be unique: {lab}")
    level = check_level(level)
    random_seed = resolve_seed(random_seed)
    mu_p, tau_p = as_prior(mu_prior, "mu"), as_prior(tau_prior, "tau")
    model = _cached_proportions_model(x.size, mu_p, tau_p)
    with model:
        pm.set_data({"events": x, "n": m}, coords={"study": lab})
    idata = run_nuts(
        model,
        draws=draws,
        tune=tune,
        chains=chains,
        cores=cores,
        random_seed=random_seed,
        nuts_sampler=nuts_sampler,
        target_accept=target_accept,
        var_names=["mu", "tau", "theta"],
    )
    post = idata["posterior"]
    mu, tau = post["mu"].values, post["tau"].values
    rng = posthoc_rng(random_seed)
    _add_variable(idata, "predict", mu + tau * rng.standard_normal(mu.shape), (), {})
    if "observed_data" not in idata.children:
        obs = xr.Dataset({"events_obs": ("study", x)}, coords={"study": lab})
        idata["observed_data"] = xr.DataTree(obs)
    _describe(
        idata,
        model="single_arm_proportions",
        parametrization="noncentred",
        tau_prior=prior_label(tau_p),
        mu_prior=prior_label(mu_p),
        random_seed=int(random_seed),
    )
    return SingleArmFit(idata, summarise_single_arm(idata, "proportion", level))


# ----------------------------------------------------------------------------- medians


def fit_log_medians(
    y,
    se,
    labels: Sequence[str] | None = None,
    *,
    tau_prior=MEDIAN_TAU_PRIOR,
    mu_prior=MEDIAN_MU_PRIOR,
    level: float = 0.95,
    draws: int = MCMC_DRAWS,
    tune: int = MCMC_TUNE,
    chains: int = MCMC_CHAINS,
    cores: int = 1,
    random_seed: int | None = DEFAULT_SEED,
    nuts_sampler: str = NUTS_SAMPLER,
    target_accept: float = TARGET_ACCEPT,
) -> SingleArmFit:
    """Pool log median survival times with the normal-normal model by NUTS.

    Parameters
    ----------
    y : array_like
        Log medians, one per study.
    se : array_like
        Their standard errors (e.g. from the CIs, as
        :func:`survmeta.exact.pool_medians` derives them).
    labels : sequence of str, optional
        Study labels (unique).
    tau_prior, mu_prior : str or Prior
        Default ``halfnormal(0.5)`` and ``flat``, as :func:`survmeta.exact.pool_medians`.
    level : float
        Level of the summary's equal-tailed intervals.
    draws, tune, chains, cores, random_seed, nuts_sampler, target_accept
        As :func:`fit_proportions`.

    Returns
    -------
    SingleArmFit
        ``idata`` as :func:`survmeta.models.fit_random_effects` returns it
        (``mu``, ``tau``, ``theta[study]``, ``predict`` on the log scale);
        ``summary`` the pooled median ``exp(mu)`` with its credible interval and
        the prediction interval of a new study's median, in the unit of the data.

    Raises
    ------
    SurvmetaError
        Invalid inputs (different lengths, non-finite values, SE not positive)
        or level.
    """
    level = check_level(level)
    try:
        idata = fit_random_effects(
            y, se, labels, tau_prior=tau_prior, mu_prior=mu_prior, draws=draws, tune=tune,
            chains=chains, cores=cores, random_seed=random_seed, nuts_sampler=nuts_sampler,
            target_accept=target_accept,
        )
    except ValueError as exc:
        raise SurvmetaError(str(exc).replace("sigma", "se")) from exc
    idata["posterior"].attrs["survmeta_model"] = "single_arm_log_medians"
    return SingleArmFit(idata, summarise_single_arm(idata, "median", level))
