"""Normal-normal random-effects meta-analysis of one question with PyMC.

Model (see docs/models.md)::

    y_i ~ Normal(theta_i, s_i^2),   theta_i ~ Normal(mu, tau^2),   i = 1..k

Three parametrizations share the priors and the output layout:

``"marginal"`` (default)
    theta is integrated out, ``y_i ~ Normal(mu, s_i^2 + tau^2)``. With a normal
    or flat prior on mu, mu is integrated out too: NUTS samples tau from its
    exact marginal posterior ``p(tau | y)`` (closed-form likelihood, added with
    :func:`pymc.Potential`) and an independent standard normal ``z_mu``, and
    ``mu = m(tau) + z_mu / sqrt(P(tau))`` with the conditional posterior mean
    ``m`` and precision ``P`` of mu given tau. The sampled coordinates are then
    a posteriori independent, so neither the funnel in theta nor the widening of
    mu with tau can cause divergences. (With clusters or a uniform mu prior, mu
    is sampled directly.) The study effects are drawn afterwards from their
    exact conditional ``theta_i | mu, tau, y`` with a numpy Generator seeded
    from ``random_seed``.
``"noncentred"``
    ``theta_i = mu + tau * z_i`` with ``z_i ~ Normal(0, 1)``.
``"centred"``
    ``theta_i ~ Normal(mu, tau)`` directly; the textbook form that funnels when k
    is small. It exists for the benchmark only.

Models are built once per data shape and kept in a small cache: ``y`` and
``sigma`` are :func:`pymc.Data` containers, so a refit with new data of the same
length (sensitivity analyses, living updates) reuses the PyMC model and only
swaps the data with :func:`pymc.set_data`. :func:`pymc.sample` still rewrites and
links the log-density functions on every call (about 0.1-0.2 s); the compiled C
modules themselves come from PyTensor's on-disk cache.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from survmeta.errors import SurvmetaError
from survmeta.models.priors import as_prior, mu_rv, prior_key, prior_label, tau_rv

__all__ = [
    "DEFAULT_SEED",
    "NUTS_SAMPLERS",
    "PARAMETRIZATIONS",
    "build_random_effects_model",
    "cluster_structure",
    "conditional_theta",
    "fit_random_effects",
    "posthoc_rng",
    "resolve_seed",
    "run_nuts",
]

# the default seed and sampler settings live in survmeta.settings, shared with pool() and the CLI
from survmeta.settings import (  # noqa: E402
    DEFAULT_SEED,
    MCMC_CHAINS,
    MCMC_DRAWS,
    MCMC_TUNE,
    NUTS_SAMPLER,
    TARGET_ACCEPT,
)

PARAMETRIZATIONS = ("marginal", "noncentred", "centred")
_CACHE_SIZE = 32
_MODEL_CACHE: OrderedDict = OrderedDict()


# ----------------------------------------------------------------------------- inputs


def _as_vector(values, name: str) -> np.ndarray:
    """Finite float vector, or ValueError naming the argument."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN): {arr.tolist()}")
    return arr


def _check_inputs(y, sigma, labels):
    """Validate (y, sigma, labels) and return them as arrays and a label list."""
    y = _as_vector(y, "y")
    sigma = _as_vector(sigma, "sigma")
    if y.shape != sigma.shape:
        raise ValueError(f"y and sigma differ in length: {y.size} vs {sigma.size}")
    if y.size < 1:
        raise ValueError("at least one study is needed")
    if np.any(sigma <= 0):
        raise ValueError(f"sigma must be positive: {sigma.tolist()}")
    if labels is None:
        labels = [f"study{i + 1}" for i in range(y.size)]
    labels = [str(v) for v in labels]
    if len(labels) != y.size:
        raise ValueError(f"{len(labels)} labels for {y.size} studies")
    if len(set(labels)) != len(labels):
        raise ValueError(f"study labels must be unique: {labels}")
    return y, sigma, labels


def cluster_structure(cluster: Sequence | None, k: int) -> tuple[int, ...] | None:
    """Index of each row's multi-row cluster, or None when every cluster is a singleton.

    Parameters
    ----------
    cluster : sequence or None
        Study id per row; rows with the same id come from one study.
    k : int
        Number of rows.

    Returns
    -------
    tuple of int or None
        For each row, the index (0..C-1) of its cluster among the clusters that
        have two or more rows, and -1 for rows alone in their cluster.
    """
    if cluster is None:
        return None
    ids = [str(c) for c in cluster]
    if len(ids) != k:
        raise ValueError(f"{len(ids)} cluster ids for {k} rows")
    counts: dict[str, int] = {}
    for c in ids:
        counts[c] = counts.get(c, 0) + 1
    multi = [c for c in dict.fromkeys(ids) if counts[c] > 1]
    if not multi:
        return None
    index = {c: j for j, c in enumerate(multi)}
    return tuple(index.get(c, -1) for c in ids)


# ----------------------------------------------------------------------------- model


def _cluster_terms(structure, tau):
    """Study-level shared deviation and the within-study variance factor.

    Returns ``(u, within)``: ``u`` is the shared deviation per row
    (``tau * sqrt(rho) * z_c``, 0 for single-row studies) and ``within`` the
    multiplier of tau^2 left for each row (``1 - rho`` or 1).
    """
    if structure is None:
        return 0.0, 1.0
    idx = np.asarray(structure)
    n_clusters = int(idx.max()) + 1
    rho = pm.Beta("rho", alpha=1.0, beta=1.0)
    z_c = pm.Normal("z_cluster", 0.0, 1.0, shape=n_clusters)
    padded = pt.concatenate([z_c, pt.zeros(1)])
    in_cluster = (idx >= 0).astype(float)
    u = tau * pt.sqrt(rho) * padded[idx]
    within = 1.0 - rho * in_cluster
    return u, within


def _collapsible(parametrization, cluster_index, mu_prior) -> bool:
    """Whether mu can be integrated out analytically (normal or flat prior)."""
    return (
        parametrization == "marginal"
        and cluster_index is None
        and as_prior(mu_prior, "mu").family in ("normal", "flat")
    )


def _collapsed_likelihood(y, sigma, tau, mu_prior):
    """Log p(y | tau) with mu integrated out, and mu's conditional mean and precision.

    With weights ``w_i = 1 / (s_i^2 + tau^2)`` and a normal prior (m0, s0) on mu,
    the conditional of mu given tau is normal with precision
    ``P = sum(w) + 1 / s0^2`` and mean ``m = (sum(w y) + m0 / s0^2) / P``, and
    ``log p(y | tau) = -1/2 [sum log(2 pi / w) + log(s0^2 P)
    + sum w (y - m)^2 + (m - m0)^2 / s0^2]``. A flat prior drops the s0 terms
    and replaces ``log(s0^2 P)`` by ``log(P / (2 pi))``.
    """
    prior = as_prior(mu_prior, "mu")
    w = 1.0 / (sigma**2 + tau**2)
    logdet = pt.sum(pt.log(2.0 * np.pi / w))
    if prior.family == "flat":
        precision = pt.sum(w)
        mean = pt.sum(w * y) / precision
        loglik = -0.5 * (logdet + pt.log(precision / (2.0 * np.pi)) + pt.sum(w * (y - mean) ** 2))
        return loglik, mean, precision
    m0 = float(prior.params.get("mean", prior.params.get("mu")))
    s0 = float(prior.params.get("sd", prior.params.get("sigma")))
    precision = pt.sum(w) + 1.0 / s0**2
    mean = (pt.sum(w * y) + m0 / s0**2) / precision
    quad = pt.sum(w * (y - mean) ** 2) + (mean - m0) ** 2 / s0**2
    loglik = -0.5 * (logdet + pt.log(s0**2 * precision) + quad)
    return loglik, mean, precision


def build_random_effects_model(
    k: int,
    *,
    tau_prior=None,
    mu_prior=None,
    parametrization: str = "marginal",
    cluster_index: tuple[int, ...] | None = None,
) -> pm.Model:
    """Build the random-effects model for ``k`` studies (data filled with zeros/ones).

    Parameters
    ----------
    k : int
        Number of studies.
    tau_prior, mu_prior : str, Prior-like or None
        Priors of the heterogeneity and the overall effect.
    parametrization : {"marginal", "noncentred", "centred"}
        See the module docstring.
    cluster_index : tuple of int, optional
        From :func:`cluster_structure`; adds a shared within-study deviation.

    Returns
    -------
    pymc.Model
        With data containers ``y`` and ``sigma`` (dim ``study``), free variables
        ``tau`` and ``mu`` (or ``z_mu`` and a deterministic ``mu`` in the
        collapsed marginal form), ``z``/``theta`` and ``rho``/``z_cluster`` as
        needed, and the observed ``y_obs`` (a Potential in the collapsed form).
    """
    if parametrization not in PARAMETRIZATIONS:
        raise ValueError(f"parametrization must be one of {PARAMETRIZATIONS}, not {parametrization!r}")
    if cluster_index is not None and parametrization == "centred":
        raise ValueError("the centred parametrization does not support clusters")
    coords = {"study": [f"study{i + 1}" for i in range(k)]}
    with pm.Model(coords=coords) as model:
        y = pm.Data("y", np.zeros(k), dims="study")
        sigma = pm.Data("sigma", np.ones(k), dims="study")
        if _collapsible(parametrization, cluster_index, mu_prior):
            tau = tau_rv("tau", tau_prior)
            loglik, mean, precision = _collapsed_likelihood(y, sigma, tau, mu_prior)
            pm.Potential("log_likelihood_y", loglik)
            z_mu = pm.Normal("z_mu", 0.0, 1.0)
            pm.Deterministic("mu", mean + z_mu / pt.sqrt(precision))
            return model
        mu = mu_rv("mu", mu_prior)
        tau = tau_rv("tau", tau_prior)
        u, within = _cluster_terms(cluster_index, tau)
        if parametrization == "marginal":
            sd = pt.sqrt(sigma**2 + within * tau**2)
            pm.Normal("y_obs", mu=mu + u, sigma=sd, observed=y, dims="study")
        elif parametrization == "noncentred":
            z = pm.Normal("z", 0.0, 1.0, dims="study")
            theta = pm.Deterministic("theta", mu + u + tau * pt.sqrt(within) * z, dims="study")
            pm.Normal("y_obs", mu=theta, sigma=sigma, observed=y, dims="study")
        else:
            theta = pm.Normal("theta", mu=mu, sigma=tau, dims="study")
            pm.Normal("y_obs", mu=theta, sigma=sigma, observed=y, dims="study")
    return model


def _cached_model(k, tau_prior, mu_prior, parametrization, cluster_index) -> pm.Model:
    """Model from the cache, building it on first use."""
    key = (k, prior_key(tau_prior), prior_key(mu_prior), parametrization, cluster_index)
    if key in _MODEL_CACHE:
        _MODEL_CACHE.move_to_end(key)
        return _MODEL_CACHE[key]
    model = build_random_effects_model(
        k,
        tau_prior=tau_prior,
        mu_prior=mu_prior,
        parametrization=parametrization,
        cluster_index=cluster_index,
    )
    _MODEL_CACHE[key] = model
    while len(_MODEL_CACHE) > _CACHE_SIZE:
        _MODEL_CACHE.popitem(last=False)
    return model


# ----------------------------------------------------------------------------- sampling


class MissingSamplerError(SurvmetaError, ImportError):
    """The requested NUTS implementation is not installed."""


#: Samplers :func:`run_nuts` accepts.
NUTS_SAMPLERS = ("pymc", "nutpie")
_NUTPIE_CACHE: OrderedDict = OrderedDict()


def _compiled_nutpie(model: pm.Model, var_names: Sequence[str] | None):
    """nutpie's compiled form of ``model``, compiled once per model and kept.

    Compiling (Numba) takes seconds; sampling a small model afterwards takes
    milliseconds. Data containers are swapped with ``with_data`` on each call,
    so a cached model serves every refit of the same shape and priors.
    """
    try:
        import nutpie
    except ImportError as exc:
        raise MissingSamplerError(
            "nuts_sampler='nutpie' needs the nutpie package, which is not installed; "
            "install it with `pip install 'survmeta[nutpie]'` or use nuts_sampler='pymc'"
        ) from exc
    key = (id(model), tuple(var_names) if var_names is not None else None)
    if key in _NUTPIE_CACHE:
        _NUTPIE_CACHE.move_to_end(key)
        return _NUTPIE_CACHE[key][1]
    compiled = nutpie.compile_pymc_model(
        model, var_names=list(var_names) if var_names is not None else None
    )
    if not any(model is m for m in _MODEL_CACHE.values()):
        return compiled  # a model built for one call (e.g. the hierarchical one) is not reused
    # the model is kept with its compiled form, so its id cannot be reused meanwhile
    _NUTPIE_CACHE[key] = (model, compiled)
    while len(_NUTPIE_CACHE) > _CACHE_SIZE:
        _NUTPIE_CACHE.popitem(last=False)
    return compiled


#: nutpie's sample-stat names and PyMC's, which the diagnostics read.
_NUTPIE_STATS = {"depth": "tree_depth", "maxdepth_reached": "reached_max_treedepth"}


def _run_nutpie(model, *, draws, tune, chains, cores, random_seed, target_accept, var_names):
    """Sample ``model`` with nutpie; the DataTree is laid out as PyMC's."""
    import time

    compiled = _compiled_nutpie(model, var_names)  # first: says clearly when nutpie is missing

    import nutpie
    from pymc.backends.arviz import patch_nutpie_idata

    data = {var.name: var.get_value() for var in model.data_vars}
    start = time.perf_counter()
    idata = nutpie.sample(
        compiled.with_data(**data),
        draws=draws,
        tune=max(int(tune), 1),  # nuts-rs needs at least one tuning step (tune=0 -> 1)
        chains=chains,
        cores=cores,
        seed=int(random_seed),
        save_warmup=False,
        progress_bar=False,
        target_accept=target_accept,
    )
    patch_nutpie_idata(idata, model, sampling_time=time.perf_counter() - start)
    post = idata["posterior"].to_dataset()
    if var_names is not None:  # nutpie also returns the free variables it sampled
        post = post[[v for v in var_names if v in post.data_vars]]
    # the compiled model keeps the coordinates it was compiled with; use the current ones
    current = {d: list(model.coords[d]) for d in post.dims if model.coords.get(d) is not None}
    idata["posterior"] = xr.DataTree(post.assign_coords(current))
    stats = idata["sample_stats"].to_dataset()
    stats = stats.drop_vars([v for v in stats.data_vars if stats[v].dtype == object])  # text
    idata["sample_stats"] = xr.DataTree(
        stats.rename({k: v for k, v in _NUTPIE_STATS.items() if k in stats.data_vars})
    )
    return idata


def run_nuts(
    model: pm.Model,
    *,
    draws: int,
    tune: int,
    chains: int,
    cores: int,
    random_seed: int,
    nuts_sampler: str,
    target_accept: float,
    var_names: Sequence[str] | None = None,
) -> xr.DataTree:
    """Sample ``model`` with NUTS, with explicit, quiet settings.

    Parameters
    ----------
    model : pymc.Model
    draws, tune, chains, cores : int
    random_seed : int
    nuts_sampler : {"pymc", "nutpie"}
        ``"pymc"``: :func:`pymc.sample` with PyMC's own NUTS (compiles in about
        a second, then about 0.1 ms of Python per iteration). ``"nutpie"``:
        nutpie's NUTS (Rust), with the model compiled by Numba once per process
        and data shape (seconds) and kept, so every further fit of that shape
        samples in milliseconds: the choice for repeated fits (sensitivity
        analyses, benchmarks). Needs the optional ``nutpie`` package.
    target_accept : float
    var_names : sequence of str, optional
        Variables to keep in the posterior.

    Returns
    -------
    xarray.DataTree
        ``posterior``, ``sample_stats`` (PyMC's names: ``diverging``,
        ``tree_depth``, ``reached_max_treedepth``, ...), ``observed_data`` and
        ``constant_data``.
    """
    if nuts_sampler not in NUTS_SAMPLERS:
        raise ValueError(f"nuts_sampler must be one of {NUTS_SAMPLERS}, not {nuts_sampler!r}")
    if nuts_sampler == "nutpie":
        return _run_nutpie(
            model,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=random_seed,
            target_accept=target_accept,
            var_names=var_names,
        )
    return pm.sample(
        draws=draws,
        tune=tune,
        chains=chains,
        cores=cores,
        random_seed=random_seed,
        nuts_sampler=nuts_sampler,
        target_accept=target_accept,
        var_names=list(var_names) if var_names is not None else None,
        progressbar=False,
        quiet=True,
        compute_convergence_checks=False,
        model=model,
    )


def resolve_seed(random_seed: int | None) -> int:
    """The seed to use: ``random_seed`` itself, or a fresh one when it is None.

    Parameters
    ----------
    random_seed : int or None

    Returns
    -------
    int
        Recorded in the posterior attributes, so a fit can be repeated.
    """
    if random_seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    return int(random_seed)


def posthoc_rng(random_seed: int) -> np.random.Generator:
    """Generator for post hoc draws, derived from (and only from) the sampler seed.

    Parameters
    ----------
    random_seed : int

    Returns
    -------
    numpy.random.Generator
    """
    return np.random.default_rng(np.random.SeedSequence([int(random_seed), 0x5EED]))


def conditional_theta(y, v, centre, tau2, rng: np.random.Generator) -> np.ndarray:
    """Draw study effects from ``theta_i | centre_i, tau, y``.

    With ``y_i ~ N(theta_i, v_i)`` and ``theta_i ~ N(centre_i, tau^2)`` the
    conditional is normal with shrinkage ``B_i = v_i / (v_i + tau^2)``, mean
    ``B_i centre_i + (1 - B_i) y_i`` and variance ``(1 - B_i) v_i``.

    Parameters
    ----------
    y, v : numpy.ndarray
        Estimates and their sampling variances, shape ``(k,)``.
    centre : numpy.ndarray
        Prior mean of each theta_i per draw, shape ``(chain, draw, k)``.
    tau2 : numpy.ndarray
        Between-study variance per draw (and possibly row), broadcastable to
        ``centre``.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        Shape of ``centre``.
    """
    shrink = v / (v + tau2)
    mean = shrink * centre + (1.0 - shrink) * y
    sd = np.sqrt((1.0 - shrink) * v)
    return mean + sd * rng.standard_normal(np.shape(centre))


def _add_variable(idata: xr.DataTree, name: str, values: np.ndarray, dims: tuple, coords: dict):
    """Add a (chain, draw, ...) array to the posterior group."""
    post = idata["posterior"].to_dataset()
    da = xr.DataArray(values, dims=("chain", "draw", *dims), coords={**coords})
    idata["posterior"] = xr.DataTree(post.assign({name: da}))


def _posthoc_re(idata, y, sigma, labels, structure, rng, parametrization):
    """Add ``theta`` (marginal model) and ``predict`` draws to the posterior."""
    post = idata["posterior"]
    mu = post["mu"].values
    tau = post["tau"].values
    if parametrization == "marginal":
        centre = np.repeat(mu[..., None], y.size, axis=-1)
        tau2 = tau[..., None] ** 2
        if structure is not None:
            idx = np.asarray(structure)
            rho = post["rho"].values[..., None]
            z_c = np.concatenate([post["z_cluster"].values, np.zeros(mu.shape + (1,))], axis=-1)
            centre = centre + tau[..., None] * np.sqrt(rho) * z_c[..., idx]
            tau2 = tau2 * (1.0 - rho * (idx >= 0))
        theta = conditional_theta(y, sigma**2, centre, tau2, rng)
        _add_variable(idata, "theta", theta, ("study",), {"study": labels})
    predict = mu + tau * rng.standard_normal(mu.shape)
    _add_variable(idata, "predict", predict, (), {})


def _describe(idata, **attrs):
    """Record the model settings as posterior attributes (netCDF-safe)."""
    for key, value in attrs.items():
        idata["posterior"].attrs[f"survmeta_{key}"] = value


def fit_random_effects(
    y,
    sigma,
    labels: Sequence[str] | None = None,
    *,
    tau_prior=None,
    mu_prior=None,
    draws: int = MCMC_DRAWS,
    tune: int = MCMC_TUNE,
    chains: int = MCMC_CHAINS,
    cores: int = 1,
    random_seed: int | None = DEFAULT_SEED,
    nuts_sampler: str = NUTS_SAMPLER,
    target_accept: float = TARGET_ACCEPT,
    parametrization: str = "marginal",
    cluster: Sequence | None = None,
) -> xr.DataTree:
    """Fit the normal-normal random-effects model to one question.

    Parameters
    ----------
    y : array_like
        Estimates (log hazard ratios), one per study.
    sigma : array_like
        Their standard errors (known).
    labels : sequence of str, optional
        Study labels (unique), used as the ``study`` coordinate.
    tau_prior : str, Prior-like or None
        Heterogeneity prior; default ``halfnormal(0.5)``.
    mu_prior : str, Prior-like or None
        Prior of the overall log HR; default ``normal(0, 4)``.
    draws, tune, chains : int
        NUTS draws per chain, tuning steps per chain and number of chains.
    cores : int
        Processes to sample chains in (1: sequentially, fastest for these
        small models).
    random_seed : int or None
        Seeds NUTS and the post hoc draws of ``theta`` and ``predict``; the same
        seed gives identical numbers. None draws a fresh seed (recorded in
        ``posterior.attrs["survmeta_random_seed"]``).
    nuts_sampler : {"pymc", "nutpie"}
        NUTS implementation, see :func:`run_nuts`.
    target_accept : float
        NUTS target acceptance rate.
    parametrization : {"marginal", "noncentred", "centred"}
        See the module docstring; ``"centred"`` is for benchmarks only.
    cluster : sequence, optional
        Study id per row. When a study contributes several rows their true
        effects share a deviation ``tau * sqrt(rho) * z_c`` (``rho ~ Uniform(0, 1)``
        is the within-study correlation); correlated sampling errors from a
        shared arm are *not* modelled (docs/models.md).

    Returns
    -------
    xarray.DataTree
        ``posterior`` with ``mu``, ``tau``, ``theta[study]`` and ``predict`` (the
        effect of a new study), ``sample_stats`` (``diverging``,
        ``tree_depth``, ``reached_max_treedepth``, ...), ``observed_data``
        (``y_obs``) and ``constant_data`` (``y``, ``sigma``).
    """
    y, sigma, labels = _check_inputs(y, sigma, labels)
    random_seed = resolve_seed(random_seed)
    tau_prior, mu_prior = as_prior(tau_prior, "tau"), as_prior(mu_prior, "mu")
    structure = cluster_structure(cluster, y.size)
    model = _cached_model(y.size, tau_prior, mu_prior, parametrization, structure)
    with model:
        pm.set_data({"y": y, "sigma": sigma}, coords={"study": labels})
    keep = ["mu", "tau"] + (["theta"] if parametrization != "marginal" else [])
    keep += ["rho", "z_cluster"] if structure is not None else []
    idata = run_nuts(
        model,
        draws=draws,
        tune=tune,
        chains=chains,
        cores=cores,
        random_seed=random_seed,
        nuts_sampler=nuts_sampler,
        target_accept=target_accept,
        var_names=keep,
    )
    _posthoc_re(idata, y, sigma, labels, structure, posthoc_rng(random_seed), parametrization)
    if "observed_data" not in idata.children or "y_obs" not in idata["observed_data"].data_vars:
        # collapsed model: y enters through a Potential
        obs = xr.Dataset({"y_obs": ("study", y)}, coords={"study": labels})
        idata["observed_data"] = xr.DataTree(obs)
    _describe(
        idata,
        model="random_effects",
        parametrization=parametrization,
        tau_prior=prior_label(tau_prior),
        mu_prior=prior_label(mu_prior),
        random_seed=int(random_seed),
        clustered=int(structure is not None),
    )
    return idata
