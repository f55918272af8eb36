"""Hierarchical random-effects model across questions (PyMC).

Every question q has its own overall log HR ``mu_q``; the heterogeneities
``tau_q`` share a population distribution, so a question with one or two
studies borrows strength about tau from the others. Study-level covariates enter
as meta-regression terms, and approximate reconstructions carry their extra
error SD. Equations, defaults and their reasons are in docs/models.md::

    y_i        ~ Normal(mu_q[i] + x_i' beta + u_i,  v_i + w_i tau_q[i]^2)
    v_i        = se_sampling_i^2 + e_i^2,   e_i = se_extra_i | kappa se_extra_i | 0
    log tau_q  = log_tau_pop + sigma_logtau * eta_q,   eta_q ~ Normal(0, 1)
    mu_q       ~ Normal(0, 1)
    beta_j     ~ Normal(0, 0.5)
    log_tau_pop ~ Normal(m / 2, s / 2)   from lognormal_tau2(m, s) = (-3.5, 1.5)
    sigma_logtau ~ HalfNormal(0.5)
    kappa      ~ HalfNormal(1)           (extra_error="estimated" only)

The study effects theta_i are integrated out (as in the marginal per-question
model) and drawn afterwards from their exact conditional; ``u_i`` and ``w_i``
are the shared within-study deviation for studies with several rows in one
question (``w_i = 1 - rho`` for them, 1 otherwise; see
:func:`survmeta.models.random_effects.fit_random_effects`).
"""

from __future__ import annotations

import re

from typing import Sequence

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from survmeta.models.priors import as_prior, mu_rv, prior_label
from survmeta.models.random_effects import (
    DEFAULT_SEED,
    _add_variable,
    _describe,
    conditional_theta,
    posthoc_rng,
    resolve_seed,
    run_nuts,
)
from survmeta.settings import (
    MCMC_CHAINS,
    MCMC_DRAWS,
    MCMC_TUNE,
    NUTS_SAMPLER,
    TARGET_ACCEPT_HIERARCHICAL,
)

__all__ = [
    "DEFAULT_COEFFICIENT_SD",
    "DEFAULT_QUESTION_MU_PRIOR",
    "DEFAULT_TAU_POPULATION_PRIOR",
    "EXTRA_ERROR_MODES",
    "design_matrix",
    "fit_hierarchical",
    "prepare_effects",
]

#: Prior of each question's overall log HR.
DEFAULT_QUESTION_MU_PRIOR = "normal(0, 1)"
#: Prior of the population centre of tau, as a log-normal on tau^2 (Turner form).
DEFAULT_TAU_POPULATION_PRIOR = "lognormal_tau2(-3.5, 1.5)"
#: Scale of the half-normal prior on the between-question SD of log tau.
DEFAULT_SIGMA_LOGTAU_SCALE = 0.5
#: SD of the normal shrinkage prior on meta-regression coefficients (log HR scale).
DEFAULT_COEFFICIENT_SD = 0.5
#: Scale of the half-normal prior on the extra-error multiplier kappa.
DEFAULT_KAPPA_SCALE = 1.0
EXTRA_ERROR_MODES = ("known", "estimated", "none")
REQUIRED_COLUMNS = ("question", "study", "key", "log_hr", "se_sampling")


# ----------------------------------------------------------------------------- data


def _drop_subgroups(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Drop subgroup rows whose parent comparison is also in the table."""
    if "subgroup_of" not in df.columns:
        return df, []
    comparison = df["comparison"].astype(str) if "comparison" in df.columns else None
    present = set()
    if comparison is not None:
        present = set(zip(df["question"].astype(str), df["study"].astype(str), comparison))
    drop = []
    for idx, row in df.iterrows():
        parent = row["subgroup_of"]
        if parent is None or (isinstance(parent, float) and np.isnan(parent)):
            continue
        if (str(row["question"]), str(row["study"]), str(parent)) in present:
            drop.append(idx)
    notes = [f"{df.loc[i, 'key']}: subgroup dropped, its parent comparison is pooled" for i in drop]
    return df.drop(index=drop), notes


def prepare_effects(effects: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Poolable rows of an effect table, with notes on what was left out.

    Parameters
    ----------
    effects : pandas.DataFrame
        Effect table (docs/architecture.md); needs ``question``, ``study``,
        ``key``, ``log_hr`` and ``se_sampling`` (``se_extra`` defaults to 0).

    Returns
    -------
    pandas.DataFrame
        Rows with a finite estimate and a positive SE, subgroups whose parent is
        present removed, index reset.
    list of str
        One note per dropped row.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in effects.columns]
    if missing:
        raise ValueError(f"effect table lacks column(s) {missing}")
    df = effects.copy()
    if "se_extra" not in df.columns:
        df["se_extra"] = 0.0
    df["se_extra"] = pd.to_numeric(df["se_extra"], errors="coerce").fillna(0.0)
    ok = np.isfinite(df["log_hr"].astype(float)) & (df["se_sampling"].astype(float) > 0)
    if "poolable" in df.columns:
        ok &= df["poolable"].astype(bool)
    notes = [f"{k}: not poolable, left out" for k in df.loc[~ok, "key"]]
    df, sub_notes = _drop_subgroups(df[ok])
    if df.empty:
        raise ValueError("no poolable rows in the effect table")
    if df["key"].duplicated().any():
        raise ValueError(f"duplicate keys: {sorted(df.loc[df['key'].duplicated(), 'key'])}")
    return df.reset_index(drop=True), notes + sub_notes


_OS = re.compile(r"\bOS\b|overall survival", re.IGNORECASE)


def is_overall_survival(endpoint) -> bool:
    """True for an overall-survival endpoint as papers name it ("OS", "OS after progression")."""
    return isinstance(endpoint, str) and bool(_OS.search(endpoint))


def _indicator(df: pd.DataFrame, name: str) -> dict[str, np.ndarray]:
    """Columns of the design matrix for one covariate name."""
    if name == "endpoint_os":
        return {name: np.array([is_overall_survival(e) for e in df["endpoint"]], dtype=float)}
    if name == "approximate":
        return {name: df["approximate"].to_numpy(dtype=bool).astype(float)}
    for column in ("design", "method"):
        if name == column:  # one indicator per level except the most common
            levels = df[column].astype(str).value_counts().index[1:]
            return {f"{column}_{lev}": (df[column].astype(str) == lev).to_numpy(float) for lev in levels}
        if name.startswith(column + "_") and column in df.columns:
            level = name[len(column) + 1 :]
            return {name: (df[column].astype(str) == level).to_numpy(float)}
    if name in df.columns:
        return {name: pd.to_numeric(df[name], errors="raise").to_numpy(float)}
    raise ValueError(
        f"unknown covariate {name!r}: use endpoint_os, approximate, design, method, "
        "design_<level>, method_<level> or a numeric column of the effect table"
    )


def design_matrix(df: pd.DataFrame, covariates: Sequence[str],
                  groups: Sequence | None = None) -> tuple[np.ndarray, list[str], list[str]]:
    """Meta-regression design matrix (no intercept: each question has its own mu_q).

    Each column is centred within its question (``groups``), so ``mu_q`` is
    the question's pooled log HR at its own average covariate mix (e.g. its own
    blend of OS and PFS rows) and a coefficient is learnt only from contrasts
    inside a question, which is all a model with one ``mu_q`` per question can
    identify. A covariate with no such contrast in any question is left out,
    with a note.

    Parameters
    ----------
    df : pandas.DataFrame
        Prepared effect table.
    covariates : sequence of str
        ``"endpoint_os"`` (1 for OS, 0 otherwise; see
        :func:`is_overall_survival`), ``"approximate"`` (1 for an
        approximate reconstruction), ``"design"`` / ``"method"`` (indicators of
        every level but the most common), ``"design_<level>"``,
        ``"method_<level>"``, or the name of a numeric column.
    groups : sequence, optional
        Question of each row (default: the ``question`` column).

    Returns
    -------
    numpy.ndarray
        Shape ``(n, p)``.
    list of str
        Column names.
    list of str
        Notes (covariates dropped because they are constant).
    """
    columns: dict[str, np.ndarray] = {}
    for name in covariates:
        columns.update(_indicator(df, name))
    groups = np.asarray(df["question"].astype(str) if groups is None else groups)
    notes = []
    for name in list(columns):
        col = columns[name].copy()
        for g in np.unique(groups):
            col[groups == g] -= col[groups == g].mean()
        if np.allclose(col, 0.0):
            notes.append(f"covariate {name} does not vary within any question; left out "
                         "(each question has its own mu, so only within-question contrasts inform it)")
            del columns[name]
        else:
            columns[name] = col
    names = list(columns)
    x = np.column_stack([columns[n] for n in names]) if names else np.zeros((len(df), 0))
    return x, names, notes


def _clusters(df: pd.DataFrame, cluster) -> np.ndarray | None:
    """Multi-row cluster index per row (-1 alone), clusters within a question."""
    ids = df["study"].astype(str) if cluster is None else pd.Series([str(c) for c in cluster])
    if len(ids) != len(df):
        raise ValueError(f"{len(ids)} cluster ids for {len(df)} rows")
    pair = df["question"].astype(str).to_numpy() + "\x00" + ids.to_numpy()
    counts = pd.Series(pair).value_counts()
    multi = [p for p in dict.fromkeys(pair) if counts[p] > 1]
    if not multi:
        return None
    index = {p: j for j, p in enumerate(multi)}
    return np.array([index.get(p, -1) for p in pair])


# ----------------------------------------------------------------------------- model


def _tau_population(prior) -> tuple[float, float]:
    """Normal (mean, sd) of log tau_pop from a ``lognormal_tau2`` prior."""
    prior = as_prior(prior, "tau")
    if prior.family != "lognormal_tau2":
        raise ValueError(
            "tau_population_prior must be a log-normal on tau^2 (lognormal_tau2(m, s) or "
            f"turner(...)), not {prior_label(prior)}"
        )
    return float(prior.params["mu"]) / 2.0, float(prior.params["sigma"]) / 2.0


def _extra_sd(se_extra: np.ndarray, extra_error: str):
    """Extra error SD per row: known, kappa-scaled (creates kappa) or none."""
    if extra_error == "none" or not np.any(se_extra > 0):
        return np.zeros_like(se_extra)
    if extra_error == "known":
        return se_extra
    kappa = pm.HalfNormal("kappa", sigma=DEFAULT_KAPPA_SCALE)
    return kappa * se_extra


def _build(df, x, xnames, questions, qidx, cidx, *, mu_prior, tau_pop, extra_error, coef_sd):
    """The PyMC model (see the module docstring)."""
    coords = {"question": questions, "study": list(df["key"].astype(str)), "covariate": xnames}
    y = df["log_hr"].to_numpy(float)
    se = df["se_sampling"].to_numpy(float)
    with pm.Model(coords=coords) as model:
        mu = mu_rv("mu", mu_prior, dims="question")
        log_tau_pop = pm.Normal("log_tau_pop", mu=tau_pop[0], sigma=tau_pop[1])
        sigma_logtau = pm.HalfNormal("sigma_logtau", sigma=DEFAULT_SIGMA_LOGTAU_SCALE)
        eta = pm.Normal("eta", 0.0, 1.0, dims="question")
        tau = pm.Deterministic("tau", pt.exp(log_tau_pop + sigma_logtau * eta), dims="question")
        pm.Deterministic("tau_pop", pt.exp(log_tau_pop))
        centre = mu[qidx]
        if xnames:
            beta = pm.Normal("beta", 0.0, coef_sd, dims="covariate")
            centre = centre + pt.dot(x, beta)
        tau_i = tau[qidx]
        within = 1.0
        if cidx is not None:
            rho = pm.Beta("rho", alpha=1.0, beta=1.0)
            z_c = pm.Normal("z_cluster", 0.0, 1.0, shape=int(cidx.max()) + 1)
            padded = pt.concatenate([z_c, pt.zeros(1)])
            centre = centre + tau_i * pt.sqrt(rho) * padded[cidx]
            within = 1.0 - rho * (cidx >= 0).astype(float)
        extra = _extra_sd(df["se_extra"].to_numpy(float), extra_error)
        sd = pt.sqrt(se**2 + extra**2 + within * tau_i**2)
        pm.Normal("y_obs", mu=centre, sigma=sd, observed=y, dims="study")
    return model


def _posthoc(idata, df, x, xnames, qidx, cidx, extra_error, rng):
    """Draw theta[study] from its conditional and predict[question]."""
    post = idata["posterior"]
    mu = post["mu"].transpose("chain", "draw", "question").values
    tau = post["tau"].transpose("chain", "draw", "question").values
    centre = mu[..., qidx]
    if xnames:
        centre = centre + post["beta"].transpose("chain", "draw", "covariate").values @ x.T
    tau2 = tau[..., qidx] ** 2
    if cidx is not None:
        rho = post["rho"].values[..., None]
        z_c = np.concatenate([post["z_cluster"].values, np.zeros(mu.shape[:2] + (1,))], axis=-1)
        centre = centre + tau[..., qidx] * np.sqrt(rho) * z_c[..., cidx]
        tau2 = tau2 * (1.0 - rho * (cidx >= 0))
    se_extra = df["se_extra"].to_numpy(float)
    extra2 = np.zeros_like(se_extra) if extra_error == "none" else se_extra**2
    if extra_error == "estimated" and "kappa" in post.data_vars:
        extra2 = post["kappa"].values[..., None] ** 2 * se_extra**2
    v = df["se_sampling"].to_numpy(float) ** 2 + extra2
    theta = conditional_theta(df["log_hr"].to_numpy(float), v, centre, tau2, rng)
    _add_variable(idata, "theta", theta, ("study",), {"study": list(df["key"].astype(str))})
    predict = mu + tau * rng.standard_normal(mu.shape)
    _add_variable(idata, "predict", predict, ("question",), {"question": list(post["question"].values)})


def fit_hierarchical(
    effects: pd.DataFrame,
    covariates: Sequence[str] = ("endpoint_os",),
    extra_error: str = "known",
    *,
    tau_population_prior=None,
    mu_prior=None,
    coefficient_sd: float = DEFAULT_COEFFICIENT_SD,
    cluster: Sequence | None = None,
    draws: int = MCMC_DRAWS,
    tune: int = MCMC_TUNE,
    chains: int = MCMC_CHAINS,
    cores: int = 1,
    random_seed: int | None = DEFAULT_SEED,
    nuts_sampler: str = NUTS_SAMPLER,
    target_accept: float = TARGET_ACCEPT_HIERARCHICAL,
) -> xr.DataTree:
    """Fit the hierarchical model across all questions of an effect table.

    Parameters
    ----------
    effects : pandas.DataFrame
        Effect table (docs/architecture.md). Rows that are not poolable, and
        subgroups whose parent comparison is present, are left out (listed in
        ``posterior.attrs["survmeta_notes"]``).
    covariates : sequence of str
        Meta-regression terms, see :func:`design_matrix`. Covariates constant
        across the pooled rows are left out.
    extra_error : {"known", "estimated", "none"}
        How the extra error SD ``se_extra`` of approximate reconstructions
        enters: added in quadrature as known; scaled by an estimated
        ``kappa ~ HalfNormal(1)``; or ignored (sampling SE only).
    tau_population_prior : str or Prior, optional
        Log-normal prior on tau^2 (``lognormal_tau2(m, s)`` or
        ``turner(...)``) used for the population centre ``tau_pop`` of the
        questions' heterogeneities; default ``lognormal_tau2(-3.5, 1.5)``.
    mu_prior : str or Prior, optional
        Prior of each question's overall log HR; default ``normal(0, 1)``.
    coefficient_sd : float
        SD of the zero-centred normal prior on each meta-regression coefficient.
    cluster : sequence, optional
        Study id per row of ``effects`` (default: the ``study`` column). Rows of
        one question from one study get a shared deviation (see
        :func:`survmeta.models.random_effects.fit_random_effects`).
    draws, tune, chains, cores, random_seed, nuts_sampler, target_accept
        Sampler settings, as in
        :func:`survmeta.models.random_effects.fit_random_effects`.

    Returns
    -------
    xarray.DataTree
        ``posterior`` with ``mu[question]``, ``tau[question]``,
        ``predict[question]`` (a new study in that question, at the
        question's average covariate mix), ``theta[study]`` (study = row ``key``),
        ``tau_pop``, ``log_tau_pop``, ``sigma_logtau``, ``beta[covariate]``
        (when there are covariates), ``kappa`` (estimated extra error), ``rho``
        (when a study has several rows in one question); plus
        ``sample_stats`` and ``observed_data``. Settings and notes are in
        ``posterior.attrs["survmeta_*"]`` (strings and numbers only, so the
        tree can be written with ``to_netcdf``).
    """
    if extra_error not in EXTRA_ERROR_MODES:
        raise ValueError(f"extra_error must be one of {EXTRA_ERROR_MODES}, not {extra_error!r}")
    random_seed = resolve_seed(random_seed)
    raw = effects.reset_index(drop=True)
    if cluster is not None:
        raw = raw.assign(_cluster=[str(c) for c in cluster])
    df, notes = prepare_effects(raw)
    x, xnames, x_notes = design_matrix(df, covariates)
    questions = list(dict.fromkeys(df["question"].astype(str)))
    qidx = np.array([questions.index(q) for q in df["question"].astype(str)])
    cidx = _clusters(df, df["_cluster"] if "_cluster" in df.columns else None)
    mu_prior = as_prior(mu_prior if mu_prior is not None else DEFAULT_QUESTION_MU_PRIOR, "mu")
    tau_pop = _tau_population(tau_population_prior or DEFAULT_TAU_POPULATION_PRIOR)
    model = _build(df, x, xnames, questions, qidx, cidx, mu_prior=mu_prior, tau_pop=tau_pop,
                   extra_error=extra_error, coef_sd=coefficient_sd)
    keep = [v.name for v in model.free_RVs if v.name != "eta"] + ["tau", "tau_pop"]
    idata = run_nuts(model, draws=draws, tune=tune, chains=chains, cores=cores,
                     random_seed=random_seed, nuts_sampler=nuts_sampler,
                     target_accept=target_accept, var_names=keep)
    _posthoc(idata, df, x, xnames, qidx, cidx, extra_error, posthoc_rng(random_seed))
    _describe(
        idata,
        model="hierarchical",
        parametrization="marginal, non-centred log tau",
        mu_prior=prior_label(mu_prior),
        tau_population_prior=f"log tau_pop ~ Normal({tau_pop[0]:g}, {tau_pop[1]:g})",
        extra_error=extra_error,
        covariates="; ".join(xnames) or "none",
        random_seed=int(random_seed),
        clustered=int(cidx is not None),
        coefficient_sd=float(coefficient_sd),
        target_accept=float(target_accept),
        draws=int(draws),
        tune=int(tune),
        chains=int(chains),
        notes="; ".join(notes + x_notes) or "none",
    )
    return idata
