"""Synthetic pooled results for the figure and report tests.

The numbers here are synthetic by construction: study log hazard ratios are
drawn from a normal-normal random-effects model with known mu and tau, and the
posterior is computed on a tau grid (flat prior on mu, half-normal prior on
tau) with independent draws, the same structure the exact engine returns. They
describe no real trial.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr

from survmeta.priors import parse_prior
from survmeta.results import CommonEffect, Diagnostics, PoolResult, PoolSet, summarize_draws
from survmeta.summaries import ParameterSummary

METHODS = ("hr_ci", "median_ratio_ci", "hr_p", "p_events", "logrank_oe")
APPROXIMATE = {"hr_ci": False, "hr_p": False, "logrank_oe": False, "median_ratio_ci": True,
               "p_events": True}


def effects_table(k: int, mu: float = -0.3, tau: float = 0.2, seed: int = 1,
                  question: str = "synthetic") -> pd.DataFrame:
    """An effect table (the columns of docs/architecture.md) with ``k`` synthetic rows."""
    rng = np.random.default_rng(seed)
    se = rng.uniform(0.1, 0.6, size=k)
    theta = rng.normal(mu, tau, size=k)
    y = rng.normal(theta, se)
    methods = [METHODS[i % len(METHODS)] for i in range(k)]
    rows = []
    for i in range(k):
        rows.append({
            "study": f"study{i + 1:02d}",
            "comparison": "os",
            "key": f"study{i + 1:02d}/os",
            "question": question,
            "endpoint": "OS" if i % 3 else "PFS",
            "year": 2000 + (i * 7) % 24,
            "design": "RCT" if i % 2 else "retrospective",
            "n": float(int(round(4 / se[i] ** 2))) if i % 7 != 3 else float("nan"),
            "subgroup_of": None,
            "log_hr": y[i],
            "se": se[i],
            "se_sampling": se[i],
            "se_extra": 0.0,
            "hr": math.exp(y[i]),
            "hr_lower": math.exp(y[i] - 1.959963984540054 * se[i]),
            "hr_upper": math.exp(y[i] + 1.959963984540054 * se[i]),
            "method": methods[i],
            "approximate": APPROXIMATE[methods[i]],
            "flags": (),
            "p_relation": None,
            "p_bound": None,
            "alternatives": [],
            "assumptions": (),
            "warnings": (),
            "poolable": True,
            "reason": None,
        })
    return pd.DataFrame(rows)


def pool_synthetic(effects: pd.DataFrame, question: dict, tau_scale: float = 0.5,
                   n_draws: int = 4000, seed: int = 2, level: float = 0.95,
                   engine: str = "exact") -> PoolResult:
    """Normal-normal random-effects posterior on a tau grid, as a PoolResult."""
    y = effects["log_hr"].to_numpy(float)
    s = effects["se"].to_numpy(float)
    k = y.size
    grid = np.linspace(1e-4, 3.0, 1500)
    logpost = np.empty_like(grid)
    for j, t in enumerate(grid):
        w = 1 / (s**2 + t**2)
        m = np.sum(w * y) / np.sum(w)
        logpost[j] = (0.5 * np.sum(np.log(w)) - 0.5 * math.log(np.sum(w))
                      - 0.5 * np.sum(w * (y - m) ** 2) - 0.5 * (t / tau_scale) ** 2)
    p = np.exp(logpost - logpost.max())
    p /= p.sum()
    rng = np.random.default_rng(seed)
    tau = rng.choice(grid, size=n_draws, p=p)
    w = 1 / (s[None, :] ** 2 + tau[:, None] ** 2)
    m = np.sum(w * y, axis=1) / np.sum(w, axis=1)
    mu = rng.normal(m, np.sqrt(1 / np.sum(w, axis=1)))
    prec = 1 / s[None, :] ** 2 + 1 / tau[:, None] ** 2
    theta = rng.normal((y / s**2 + mu[:, None] / tau[:, None] ** 2) / prec, np.sqrt(1 / prec))
    predict = rng.normal(mu, tau)
    dims = ("chain", "draw")
    n_chains = 4 if engine != "exact" else 1
    shape = (n_chains, n_draws // n_chains)
    ds = xr.Dataset(
        {
            "mu": (dims, mu.reshape(shape)),
            "tau": (dims, tau.reshape(shape)),
            "predict": (dims, predict.reshape(shape)),
            "theta": (dims + ("study",), theta.reshape(shape + (k,))),
        },
        coords={"study": effects["key"].to_list()},
    )
    posterior = xr.DataTree.from_dict({"posterior": ds})
    stats = {
        "mu": summarize_draws(mu, level),
        "hr": summarize_draws(np.exp(mu), level),
        "tau": summarize_draws(tau, level),
        "predict": summarize_draws(predict, level),
        "predict_hr": summarize_draws(np.exp(predict), level),
    }
    e = effects.copy()
    a = (1 - level) / 2
    e["theta_mean"] = theta.mean(axis=0)
    e["theta_lower"] = np.quantile(theta, a, axis=0)
    e["theta_upper"] = np.quantile(theta, 1 - a, axis=0)
    wt = 1 / (s**2 + stats["tau"]["median"] ** 2)
    e["weight"] = 100 * wt / wt.sum()
    w0 = 1 / s**2
    ybar = np.sum(w0 * y) / np.sum(w0)
    q = float(np.sum(w0 * (y - ybar) ** 2))
    i2 = max(0.0, (q - (k - 1)) / q) if k > 1 and q > 0 else 0.0
    # common effect (tau = 0) under the flat mu prior: mu ~ N(ybar, 1 / sum w0), exactly
    ce_sd = math.sqrt(1 / np.sum(w0))
    z = 1.959963984540054
    ce_mu = {"mean": ybar, "median": ybar, "sd": ce_sd, "eti": [ybar - z * ce_sd, ybar + z * ce_sd],
             "hdi": [ybar - z * ce_sd, ybar + z * ce_sd]}
    ce_hr = {"mean": float("nan"), "median": math.exp(ybar), "sd": float("nan"),
             "eti": [math.exp(v) for v in ce_mu["eti"]], "hdi": [math.exp(v) for v in ce_mu["hdi"]]}
    common = CommonEffect(mu=ParameterSummary.from_block("mu", ce_mu, level),
                          hr=ParameterSummary.from_block("hr", ce_hr, level),
                          p_hr_below_1=float(0.5 * math.erfc(ybar / ce_sd / math.sqrt(2))))
    diagnostics = {"warnings": []}
    if engine != "exact":
        diagnostics.update({"r_hat_max": 1.002, "ess_bulk_min": 1650.0, "divergences": 0,
                            "chains": n_chains, "draws": n_draws // n_chains})
    else:
        diagnostics.update({"grid_points": grid.size})
    return PoolResult(
        question=question,
        engine=engine,
        effects=e,
        stats=stats,
        probabilities={"p_hr_below_1": float(np.mean(mu < 0))},
        priors={"mu": parse_prior("flat", "mu"), "tau": parse_prior(f"halfnormal({tau_scale:g})")},
        posterior=posterior,
        diagnostics=Diagnostics.from_dict(diagnostics),
        excluded=pd.DataFrame({"study": ["study99"], "comparison": ["os"],
                               "reason": ["p-value reported as NS without direction"]}),
        frequentist={"i2": i2, "q": q, "tau2_dl": None} if k > 1 else None,
        level=level,
        seed=seed,
        notes=[],
        common_effect=common,
    )


QUESTION = {
    "id": "synthetic",
    "title": "Synthetic question: local consolidative therapy vs maintenance systemic therapy",
    "experimental": "local consolidative therapy",
    "reference": "maintenance systemic therapy",
    "outcome": "overall survival",
}


def synthetic_result(k: int = 30, seed: int = 1, engine: str = "exact", **kw) -> PoolResult:
    """A synthetic PoolResult with ``k`` studies."""
    q = dict(QUESTION)
    q["id"] = f"synthetic_k{k}"
    return pool_synthetic(effects_table(k, seed=seed, question=q["id"]), q, engine=engine, **kw)


def synthetic_poolset() -> PoolSet:
    """Two questions (30 studies and 1 study) plus one question that could not be pooled."""
    a = synthetic_result(30)
    b = synthetic_result(1, seed=5)
    b.question = dict(b.question, id="synthetic_k1", title="Synthetic single-study question",
                      experimental="drug A", reference="placebo")
    return PoolSet([a, b], skipped=[{"question": "synthetic_empty",
                                     "reason": "no poolable comparison"}],
                   meta={"engine": "exact", "seed": 2})


#: Settings the hierarchical fit records in ``posterior.attrs`` (as survmeta.models writes them).
HIERARCHICAL_ATTRS = {
    "tuning_steps": 1000,
    "survmeta_model": "hierarchical",
    "survmeta_parametrization": "marginal, non-centred log tau",
    "survmeta_mu_prior": "normal(0, 4)",
    "survmeta_tau_population_prior": "log tau_pop ~ Normal(-1.75, 0.75)",
    "survmeta_extra_error": "known",
    "survmeta_covariates": "endpoint_os",
    "survmeta_random_seed": 7,
    "survmeta_clustered": 0,
    "survmeta_notes": "none",
}


def synthetic_hierarchical(results, chains: int = 4, draws: int = 250, seed: int = 3) -> PoolSet:
    """A PoolSet shaped like ``PoolSet.hierarchical``: per-question results with engine
    "hierarchical" sharing one DataTree (mu[question], tau[question], theta[study],
    predict[question], tau_pop, log_tau_pop, sigma_logtau, beta[covariate]; sample_stats;
    the settings in posterior.attrs). Draws are independent normals/log-normals, synthetic by
    construction, so no sampler runs."""
    rng = np.random.default_rng(seed)
    qids = [r.id for r in results]
    keys = [k for r in results for k in r.effects["key"]]
    shape = (chains, draws)
    nq = len(qids)
    log_tau_pop = rng.normal(-1.75, 0.4, size=shape)
    sigma_logtau = np.abs(rng.normal(0, 0.4, size=shape))
    tau = np.exp(log_tau_pop[..., None] + sigma_logtau[..., None] * rng.standard_normal(shape + (nq,)))
    mu = np.stack([rng.normal(r.stats["mu"].median, 0.2, size=shape) for r in results], axis=-1)
    predict = mu + tau * rng.standard_normal(mu.shape)
    theta = rng.normal(0.0, 0.3, size=shape + (len(keys),))
    dims = ("chain", "draw")
    ds = xr.Dataset(
        {
            "mu": (dims + ("question",), mu),
            "tau": (dims + ("question",), tau),
            "predict": (dims + ("question",), predict),
            "theta": (dims + ("study",), theta),
            "log_tau_pop": (dims, log_tau_pop),
            "tau_pop": (dims, np.exp(log_tau_pop)),
            "sigma_logtau": (dims, sigma_logtau),
            "beta": (dims + ("covariate",), rng.normal(0.1, 0.2, size=shape + (1,))),
        },
        coords={"question": qids, "study": keys, "covariate": ["endpoint_os"]},
        attrs=dict(HIERARCHICAL_ATTRS),
    )
    stats_ds = xr.Dataset({"diverging": (dims, np.zeros(shape, dtype=bool))})
    tree = xr.DataTree.from_dict({"posterior": ds, "sample_stats": stats_ds})
    diagnostics = {"r_hat_max": 1.004, "ess_bulk_min": 812.0, "ess_tail_min": 640.0,
                   "divergences": 0, "treedepth_hits": 0, "chains": chains, "draws": draws,
                   "warnings": []}
    out = []
    for i, r in enumerate(results):
        m, t, p = mu[..., i].ravel(), tau[..., i].ravel(), predict[..., i].ravel()
        stats = {"mu": summarize_draws(m), "hr": summarize_draws(np.exp(m)),
                 "tau": summarize_draws(t), "predict": summarize_draws(p),
                 "predict_hr": summarize_draws(np.exp(p))}
        out.append(PoolResult(
            question=r.question, engine="hierarchical", effects=r.effects, stats=stats,
            probabilities={"p_hr_below_1": float(np.mean(m < 0))},
            priors={"mu": parse_prior("normal(0, 4)", "mu")},
            prior_notes={"tau": "shared across questions: log tau_pop ~ Normal(-1.75, 0.75)"},
            posterior=tree, diagnostics=Diagnostics.from_dict(diagnostics), excluded=r.excluded, level=r.level,
            seed=7, notes=["hierarchical model: covariates endpoint_os, extra error known"],
        ))
    return PoolSet(out, meta={"engine": "hierarchical", "seed": 7, "level": 0.95})


def synthetic_poolset_hierarchical() -> PoolSet:
    """:func:`synthetic_poolset` with a synthetic hierarchical fit attached."""
    ps = synthetic_poolset()
    ps.hierarchical = synthetic_hierarchical(list(ps.values()))
    return ps
