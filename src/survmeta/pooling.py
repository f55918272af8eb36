"""Pooling front door: effect table -> one :class:`~survmeta.results.PoolResult` per question.

The exact (quadrature) engine is the default for the normal-normal
random-effects model; ``engine="mcmc"`` fits the same model with PyMC, and
``hierarchical=True`` adds the PyMC model that pools heterogeneity across
questions. PyMC is imported only when one of those is asked for.

Which rows are pooled
---------------------
For each question the pooled rows are the comparisons that

* have an estimate (``poolable`` in the effect table),
* are not a subgroup of another comparison (``subgroup_of`` unset), so no
  patient is counted twice, and
* are the first such comparison of their study for that question. Two
  comparisons of one study under one question share patients (e.g. both
  compared against the same reference group); pooling both would treat
  correlated estimates as independent, so the first in registry order is kept
  and the others are listed as excluded with the reason.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from survmeta.errors import SurvmetaError, check_level
from survmeta.results import (
    DAYS_PER_UNIT,
    BayesFactors,
    CommonEffect,
    Diagnostics,
    PoolResult,
    PoolSet,
    SingleArmResult,
    summarize_draws,
)
from survmeta.settings import DEFAULT_MU_PRIOR, DEFAULT_SEED, DEFAULT_TAU_PRIOR, EXACT_DRAWS
from survmeta.summaries import ParameterSummary

ENGINES = ("exact", "mcmc")
#: HR thresholds whose posterior probabilities every result reports.
THRESHOLDS = (1.0, 0.8)


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------
def effect_table(source, method_order=None, force=None,
                 correct_shrinkage: bool = False) -> tuple[pd.DataFrame, dict]:
    """Turn a registry, a path or an effect table into (effect table, questions).

    Parameters
    ----------
    source : Registry, str, os.PathLike or pandas.DataFrame
        A validated registry, the path of a ``studies.toml`` or effects CSV,
        or an effect table (columns as :func:`survmeta.reconstruction.reconstruct`
        returns; at least ``study``, ``log_hr``, ``se``).
    method_order, force, correct_shrinkage
        Passed to :func:`survmeta.reconstruction.reconstruct`. An effect table
        (or an effects CSV) is already reconstructed: ``correct_shrinkage=True``
        with one raises SurvmetaError.

    Returns
    -------
    effects : pandas.DataFrame
        The effect table plus ``label``, the study as tables and figures show
        it: the label printed in an effects CSV (whose study id may be a slug
        of it), the study id of a TOML registry, and the ``study`` column of
        an effect table that has no ``label`` column.
    questions : dict
        Question id -> ``{"id", "title", "experimental", "reference", "outcome"}``.
    """
    from survmeta.registry import Registry, load
    from survmeta.reconstruction import reconstruct

    if isinstance(source, (str, os.PathLike)):
        if correct_shrinkage and Path(source).suffix.lower() == ".csv":
            raise SurvmetaError(
                f"{source}: --correct-shrinkage applies when reconstructing from a registry; an "
                "effects CSV holds log HRs as given, which are not corrected"
            )
        source = load(Path(source))
    if isinstance(source, Registry):
        from survmeta.registry.effects_csv import study_labels

        effects = reconstruct(source, method_order=method_order, force=force,
                              correct_shrinkage=correct_shrinkage)
        labels = study_labels(source)
        effects["label"] = [labels.get(s, s) for s in effects["study"]]
        effects["events"] = [_reported_events(source, key) for key in effects["key"]]
        questions = {q.id: _question_dict(q) for q in source.questions}
        return effects, questions
    if isinstance(source, pd.DataFrame):
        if correct_shrinkage:
            raise SurvmetaError(
                "correct_shrinkage (--correct-shrinkage) applies when reconstructing from a "
                "registry; an effect table is already reconstructed (reconstruct the registry "
                "with correct_shrinkage=True instead)"
            )
        return _normalise_effects_frame(source)
    raise SurvmetaError(
        f"cannot pool a {type(source).__name__}: give a Registry, a path to a .toml/.csv file, "
        "or an effect table (DataFrame)"
    )


def _reported_events(registry, key: str) -> float:
    """Events of a comparison as the registry gives them (``total_events``, else both arms'
    ``events`` added up); NaN when it gives neither."""
    try:
        c = registry.comparison(key)
    except KeyError:
        return math.nan
    if c.total_events is not None:
        return float(c.total_events)
    arms = (c.experimental, c.reference)
    if all(a is not None and a.events is not None for a in arms):
        return float(sum(a.events for a in arms))
    return math.nan


def _question_dict(q) -> dict:
    return {
        "id": q.id,
        "title": q.title,
        "experimental": q.experimental,
        "reference": q.reference,
        "outcome": q.outcome,
        "group": q.group,
        "certainty": None if q.certainty is None else {
            "rating": q.certainty.rating, "reasons": list(q.certainty.reasons),
            "indirectness": q.certainty.indirectness},
    }


def as_bool_column(values: pd.Series, name: str) -> pd.Series:
    """A boolean column from booleans, 0/1 or the words true/false (as a CSV gives them).

    Missing values are False. Anything else raises :class:`SurvmetaError` naming the column.
    """
    words = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
             "": False, "nan": False, "none": False}

    def one(v):
        if v is None or (isinstance(v, float) and v != v):
            return False
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        if isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
            return bool(v)
        key = str(v).strip().lower()
        if key in words:
            return words[key]
        raise SurvmetaError(f"effect table column {name!r}: {v!r} is not true or false")

    return pd.Series([one(v) for v in values], index=values.index, dtype=bool)


def _normalise_effects_frame(df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    missing = {"study", "log_hr", "se"} - set(df.columns)
    if missing:
        raise SurvmetaError(f"effect table lacks column(s): {', '.join(sorted(missing))}")
    out = df.copy()
    defaults: dict[str, Any] = {
        "question": "effects",
        "comparison": "effect",
        "endpoint": None,
        "year": np.nan,
        "design": None,
        "n": np.nan,
        "subgroup_of": None,
        "se_extra": 0.0,
        "method": "direct",
        "approximate": False,
        "flags": [()] * len(out),
        "poolable": True,
        "reason": None,
    }
    for col, val in defaults.items():
        if col not in out:
            out[col] = val
    out["approximate"] = as_bool_column(out["approximate"], "approximate")
    if "se_sampling" not in out:
        out["se_sampling"] = out["se"]
    if "label" not in out:
        out["label"] = out["study"].astype(str)
    if "key" not in out:
        out["key"] = out["study"].astype(str) + "/" + out["comparison"].astype(str)
    if "hr" not in out:
        out["hr"] = np.exp(out["log_hr"])
        out["hr_lower"] = np.exp(out["log_hr"] - 1.959963984540054 * out["se"])
        out["hr_upper"] = np.exp(out["log_hr"] + 1.959963984540054 * out["se"])
    questions = {
        q: {"id": q, "title": q, "experimental": "experimental", "reference": "reference",
            "outcome": "as given"}
        for q in out["question"].unique()
    }
    return out, questions


def select_rows(effects: pd.DataFrame, question: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Split a question's rows into pooled and excluded (with reasons).

    See the module docstring for the rules.
    """
    rows = effects[effects["question"] == question]
    pooled, excluded, notes = [], [], []
    seen_study: dict[str, str] = {}
    # plain dicts of the columns the rules read, not a Series per row (iterrows)
    cols = [c for c in ("poolable", "reason", "subgroup_of", "study", "comparison", "key")
            if c in rows]
    records = [dict(zip(cols, values)) for values in zip(*(rows[c].tolist() for c in cols))]
    for idx, r in enumerate(records):
        reason = None
        if not bool(r["poolable"]):
            reason = r.get("reason") or "no estimate"
        elif isinstance(r.get("subgroup_of"), str) and r["subgroup_of"]:
            reason = _subgroup_reason(effects, r)
        elif r["study"] in seen_study:
            reason = (
                f"same study as {r['study']}/{seen_study[r['study']]}, which is pooled; "
                "the two share patients"
            )
            notes.append(
                f"{r['study']}: pooled {seen_study[r['study']]} and left out {r['comparison']} "
                "(one comparison per study and question)"
            )
        if reason is None:
            seen_study[r["study"]] = r["comparison"]
            pooled.append(idx)
        else:
            excluded.append((idx, reason))
    pooled_df = rows.iloc[pooled].reset_index(drop=True)
    excl_df = rows.iloc[[i for i, _ in excluded]].copy()
    excl_df["reason"] = [why for _, why in excluded]
    return pooled_df, excl_df.reset_index(drop=True), notes


def _subgroup_reason(effects: pd.DataFrame, row) -> str:
    """Why a subgroup is not pooled, naming the comparison that stands for its patients."""
    by_key = effects.set_index("key")
    parent_key = f"{row['study']}/{row['subgroup_of']}"
    top, seen = parent_key, {row["key"]}
    while top in by_key.index and top not in seen:  # walk up to the outermost comparison
        seen.add(top)
        up = by_key.loc[top, "subgroup_of"]
        if not (isinstance(up, str) and up):
            break
        top = f"{row['study']}/{up}"
    if top in by_key.index and bool(by_key.loc[top, "poolable"]):
        via = "" if top == parent_key else f" (itself a subgroup of {top})"
        return f"subgroup of {parent_key}{via}; {top} is pooled instead"
    return (f"subgroup of {parent_key}; {top} has no estimate, and a subgroup is not pooled in "
            "place of the whole (it stands for a different population)")


# ---------------------------------------------------------------------------
# engines
# ---------------------------------------------------------------------------
def pool_question(
    effects: pd.DataFrame,
    question: dict,
    engine: str = "exact",
    tau_prior=DEFAULT_TAU_PRIOR,
    mu_prior=DEFAULT_MU_PRIOR,
    level: float = 0.95,
    seed: int | None = DEFAULT_SEED,
    draws: int = EXACT_DRAWS,
    excluded: pd.DataFrame | None = None,
    notes: list[str] | None = None,
    mcmc_options: dict | None = None,
    tau2_method: str | None = None,
) -> PoolResult:
    """Pool the given rows of one question.

    Parameters
    ----------
    effects : pandas.DataFrame
        The rows to pool (effect-table columns); all of them are pooled.
    question : dict
        ``id``, ``title``, ``experimental``, ``reference``, ``outcome``.
    engine : {"exact", "mcmc"}
    tau_prior, mu_prior : str or Prior
        Prior specs as written in papers, e.g. ``"halfnormal(0.5)"``.
    level : float
        Interval level of the summaries.
    seed : int
        Seed for posterior draws (and the sampler).
    draws : int
        Posterior draws kept in ``PoolResult.posterior`` (exact engine).
    mcmc_options : dict, optional
        Extra arguments for :func:`survmeta.models.fit_random_effects`.
    tau2_method : str, optional
        A further tau^2 estimator for the frequentist companion (one of
        :data:`survmeta.exact.frequentist.METHODS` but ``FE``), fitted with a normal
        and a Knapp-Hartung interval next to the REML and DL ones.

    Returns
    -------
    PoolResult
    """
    from survmeta.priors import parse_prior

    if engine not in ENGINES:
        raise SurvmetaError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if len(effects) == 0:
        raise SurvmetaError(f"question {question['id']}: no poolable comparison")
    level = check_level(level)
    tau2_method = _check_tau2_method(tau2_method)
    tau_p = parse_prior(tau_prior, "tau") if isinstance(tau_prior, str) else tau_prior
    mu_p = parse_prior(mu_prior, "mu") if isinstance(mu_prior, str) else mu_prior
    if engine == "mcmc" and not tau_p.proper:
        raise SurvmetaError(
            f"question {question['id']}: the MCMC engine needs a proper prior on tau, not "
            f"{tau_p.spec}; use the exact engine (--engine exact) for an improper prior"
        )
    y = effects["log_hr"].to_numpy(dtype=float)
    s = effects["se"].to_numpy(dtype=float)
    labels = list(effects["key"])
    exact_post = None
    if engine == "exact":
        *parts, exact_post = _exact(y, s, labels, tau_p, mu_p, level, seed, draws)
    else:
        parts = _mcmc(y, s, labels, tau_p, mu_p, level, seed, mcmc_options or {})
    blocks, theta, probabilities, posterior, diagnostics, bayes_factors = parts
    stats = _parameter_summaries(blocks, level)
    notes = list(notes or [])
    if len(y) == 1:
        notes.append(
            "one study: the pooled HR's interval adds the between-study heterogeneity the tau "
            "prior allows, so it is wider than the study's own; the common-effect HR is, up to the "
            "mu prior, the study's own estimate"
        )
    mixed = mixed_endpoints(effects)
    if mixed:
        diagnostics = diagnostics.with_warnings(
            "pools different endpoints: " + "; ".join(
                f"{e} ({', '.join(keys)})" for e, keys in mixed.items())
            + "; see the subgroup analysis by endpoint (survmeta pool --detail, "
              "PoolResult.subgroups())")
    origins = mixed_time_origins(effects)
    if origins:
        unknown = origins.pop("", [])
        diagnostics = diagnostics.with_warnings(
            "counts survival from different time origins: " + "; ".join(
                f"{o} ({', '.join(keys)})" for o, keys in origins.items())
            + (f"; not stated for {', '.join(unknown)}" if unknown else "")
            + "; HRs from different origins estimate different quantities (time_origin in the "
              "registry; subgroup analysis: PoolResult.subgroups(by='time_origin'))")
    pooled = effects.reset_index(drop=True).copy()
    # each study's own interval at the level asked for (the effect table holds 95% ones)
    z = float(norm.ppf(0.5 + level / 2.0))
    pooled["hr_lower"] = np.exp(pooled["log_hr"].to_numpy(float) - z * s)
    pooled["hr_upper"] = np.exp(pooled["log_hr"].to_numpy(float) + z * s)
    pooled["theta_mean"] = [theta[k]["mean"] for k in labels]
    pooled["theta_lower"] = [theta[k]["eti"][0] for k in labels]
    pooled["theta_upper"] = [theta[k]["eti"][1] for k in labels]
    tau_med = stats["tau"].median
    w = 1.0 / (s**2 + tau_med**2)
    pooled["weight"] = 100.0 * w / w.sum()
    result = PoolResult(
        question=dict(question),
        engine=engine,
        effects=pooled,
        stats=stats,
        probabilities=probabilities,
        priors={"mu": mu_p, "tau": tau_p},
        posterior=posterior,
        diagnostics=diagnostics,
        excluded=excluded if excluded is not None else pd.DataFrame(),
        frequentist=_frequentist(y, s, level, tau2_method),
        level=level,
        seed=seed,
        notes=notes,
        bayes_factors=bayes_factors,
        common_effect=_common_effect(y, s, mu_p, level),
        exact=exact_post,
    )
    if exact_post is not None:
        _defer_exact(result, exact_post, draws, seed, posterior)
    return result


def _defer_exact(result: PoolResult, post, draws: int, seed, posterior) -> None:
    """Exact engine: the point estimates, and the draws of ``posterior``, computed when
    first asked for. The draws depend on the seed only, so they are the same whenever they
    are drawn; a seed that is a random generator (whose state other draws move) is used at
    once (``posterior`` holds those draws already)."""
    result._defer("point_estimates", lambda: _point_estimates(post))
    if draws and posterior is None:
        result._defer("posterior", lambda: post.sample(draws=draws, seed=seed))


def mixed_endpoints(effects: pd.DataFrame) -> dict[str, list[str]]:
    """Endpoint -> comparison keys, when the rows pool more than one endpoint (else empty).

    Endpoints are compared as written, ignoring case and surrounding spaces.
    """
    if "endpoint" not in effects.columns:
        return {}
    by: dict[str, list[str]] = {}
    for e, key in zip(effects["endpoint"], effects["key"]):
        if e is None or (isinstance(e, float) and math.isnan(e)):
            continue
        by.setdefault(str(e).strip(), []).append(str(key))
    if len({e.lower() for e in by}) < 2:
        return {}
    return by


def mixed_time_origins(effects: pd.DataFrame) -> dict[str, list[str]]:
    """Time origin -> comparison keys, when the rows state more than one origin (else empty).

    Rows whose origin is not stated are listed under ``""``; they alone never make a mix.
    """
    if "time_origin" not in effects.columns:
        return {}
    by: dict[str, list[str]] = {}
    for o, key in zip(effects["time_origin"], effects["key"]):
        missing = o is None or (isinstance(o, float) and math.isnan(o)) or not str(o).strip()
        by.setdefault("" if missing else str(o).strip(), []).append(str(key))
    if len([o for o in by if o]) < 2:
        return {}
    return by


def _point_estimates(post) -> dict:
    """bayesmeta's posterior modes, ``$MAP`` and ``$ML`` of an exact posterior, JSON-ready."""
    return {
        "mode": post.modes().to_dict(),
        "MAP": post.map_estimates().to_dict(),
        "ML": post.ml_estimates().to_dict(),
        "note": ("as bayesmeta's $summary['mode', ] (marginal posterior modes of tau, mu and a "
                 "new study's effect), $MAP (joint: maximum of p(tau, mu | y); marginal: the "
                 "modes) and $ML (joint: maximum of p(y | tau, mu), no prior; marginal: maxima of "
                 "p(y | tau) with mu integrated against its prior and of p(y | mu) with tau "
                 "integrated against its prior); log-HR scale"),
    }


def _parameter_summaries(blocks: Mapping[str, Mapping[str, Any]],
                         level: float) -> dict[str, ParameterSummary]:
    """Typed summaries of the quantities, without the moments of the HR-scale ones.

    exp(log HR) is heavy-tailed under a random-effects posterior: for the
    prediction of a new study (and for the pooled HR under heavy-tailed tau
    priors) its mean and variance do not exist, and any number printed for them
    is an artefact of the grid or the draws. HR-scale results are summarised by
    the median and intervals, which are exp of the log-scale ones (the median
    and equal-tailed bounds exactly).
    """
    out = {name: ParameterSummary.from_block(name, b, level) for name, b in blocks.items()}
    for name in ("hr", "predict_hr"):
        out[name] = out[name].without_moments()
    return out


def _common_effect(y, s, mu_p, level) -> CommonEffect:
    """Posterior of the pooled HR under the common-effect (tau = 0) model."""
    from survmeta.exact import common_effect

    post = common_effect(y, s, mu_prior=mu_p)
    table = post.summary(level=level, studies=False)
    return CommonEffect(mu=ParameterSummary.from_block("mu", _stats_row(table.loc["mu"]), level),
                        hr=ParameterSummary.from_block("hr", _stats_row(table.loc["hr"]), level),
                        p_hr_below_1=float(post.prob_below(1.0, scale="hr")))


def _stats_row(row: Mapping[str, Any]) -> dict:
    return {
        "mean": float(row["mean"]),
        "median": float(row["median"]),
        "sd": float(row["sd"]),
        "eti": [float(row["eti_lower"]), float(row["eti_upper"])],
        "hdi": [float(row["hdi_lower"]), float(row["hdi_upper"])],
    }


def _exact(y, s, labels, tau_p, mu_p, level, seed, draws):
    from survmeta.exact import bayesmeta

    post = bayesmeta(y, s, tau_prior=tau_p, mu_prior=mu_p, labels=labels)
    table = post.summary(level=level)
    names = {"mu": "mu", "hr": "hr", "tau": "tau", "predict": "predict_log_hr",
             "predict_hr": "predict_hr"}
    rows = table.to_dict("index")  # one conversion, not a Series per row
    stats = {ours: _stats_row(rows[theirs]) for ours, theirs in names.items()}
    theta = {lab: _stats_row(rows[f"theta[{lab}]"]) for lab in labels}
    probabilities = {_prob_key(t): float(post.prob_below(t, scale="hr")) for t in THRESHOLDS}
    # draws for PoolResult.posterior: drawn when first accessed (pool_question), unless the
    # seed is a generator whose state must move now
    eager = draws and not (seed is None or isinstance(seed, (int, np.integer)))
    posterior = post.sample(draws=draws, seed=seed) if eager else None
    bf: dict[str, float | None] = {}
    why: dict[str, str | None] = {"mu=0": None, "tau=0": None}
    for hyp in ("mu=0", "tau=0"):
        try:
            bf[hyp] = float(post.bayes_factor(hyp))
        except SurvmetaError as exc:  # e.g. mu=0 under a flat prior
            bf[hyp] = None
            why[hyp] = str(exc)
    bayes_factors = BayesFactors(
        bf01_mu0=bf["mu=0"], bf01_tau0=bf["tau=0"], mu0_note=why["mu=0"],
        tau0_note=why["tau=0"],
        notes=("BF01 (evidence for the point hypothesis, Savage-Dickey); the one for mu = 0 "
               f"grows with the scale of the mu prior ({mu_p.spec}), so read it with that "
               "prior in mind",))
    diagnostics = Diagnostics(
        method="quadrature over tau (exact up to numerical integration)")
    return stats, theta, probabilities, posterior, diagnostics, bayes_factors, post


def _mcmc(y, s, labels, tau_p, mu_p, level, seed, options):
    from survmeta.models import diagnose, fit_random_effects

    idata = fit_random_effects(y, s, labels=labels, tau_prior=tau_p, mu_prior=mu_p,
                               random_seed=seed, **options)
    stats, theta, probabilities = draws_summary(idata, labels, level)
    return stats, theta, probabilities, idata, diagnose(idata), None


def draws_summary(idata, labels, level, question=None):
    """Summaries of mu, tau, HR, prediction and theta from posterior draws."""
    post = idata["posterior"]

    def get(name):
        da = post[name]
        if question is not None and "question" in da.dims:
            da = da.sel(question=question)
        return da

    mu = get("mu").values
    pred = get("predict").values
    stats = {
        "mu": summarize_draws(mu, level),
        "hr": summarize_draws(np.exp(mu), level),
        "tau": summarize_draws(get("tau").values, level),
        "predict": summarize_draws(pred, level),
        "predict_hr": summarize_draws(np.exp(pred), level),
    }
    # HR-scale shortest intervals: computed on the log scale and exponentiated, as the
    # exact engine does (scale-invariant; the HR density's own can start at 0)
    for log_name, hr_name in (("mu", "hr"), ("predict", "predict_hr")):
        stats[hr_name]["hdi"] = [float(np.exp(b)) for b in stats[log_name]["hdi"]]
    theta_da = post["theta"]
    dim = [d for d in theta_da.dims if d not in ("chain", "draw")][0]
    theta = {lab: summarize_draws(theta_da.sel({dim: lab}).values, level) for lab in labels}
    probabilities = {_prob_key(t): float(np.mean(np.exp(mu) < t)) for t in THRESHOLDS}
    return stats, theta, probabilities


def _prob_key(threshold: float) -> str:
    return "p_hr_below_" + (f"{threshold:g}")


def _check_tau2_method(method: str | None) -> str | None:
    """The canonical name of a companion tau^2 estimator (``None`` for none)."""
    if method is None:
        return None
    from survmeta.exact.frequentist import METHODS

    name = str(method).upper()
    allowed = [m for m in METHODS if m != "FE"]
    if name not in allowed:
        raise SurvmetaError(f"unknown tau^2 method {method!r} for the frequentist companion; "
                            f"use one of {', '.join(allowed)}")
    return name


def _frequentist(y, s, level, tau2_method: str | None = None) -> dict | None:
    """REML and DL companions with Knapp-Hartung interval (None for k < 2).

    ``tau2_method`` adds that estimator's fit (with its Knapp-Hartung interval) under its
    name, unless it is REML or DL.
    """
    if len(y) < 2:
        return None
    from survmeta.exact import rma

    out = {}
    extra = [tau2_method] if tau2_method and tau2_method not in ("REML", "DL") else []
    for method in ["REML", "DL", *extra]:
        r = rma(y, s, method=method, level=level)
        out[method] = {
            "estimate": r.estimate,
            "se": r.se,
            "ci": [r.ci_lower, r.ci_upper],
            "hr": float(np.exp(r.estimate)),
            "hr_ci": [float(np.exp(r.ci_lower)), float(np.exp(r.ci_upper))],
            "pi": [r.pi_lower, r.pi_upper],
            "tau2": r.tau2,
            "I2": r.I2,
            "H2": r.H2,
            "Q": r.Q,
            "Q_p": r.Q_p,
        }
    kh = rma(y, s, method="REML", test="knha", level=level)
    out["REML"]["knha_ci"] = [kh.ci_lower, kh.ci_upper]
    out["REML"]["knha_hr_ci"] = [float(np.exp(kh.ci_lower)), float(np.exp(kh.ci_upper))]
    for method in extra:
        kh = rma(y, s, method=method, test="knha", level=level)
        out[method]["knha_ci"] = [kh.ci_lower, kh.ci_upper]
        out[method]["knha_hr_ci"] = [float(np.exp(kh.ci_lower)), float(np.exp(kh.ci_upper))]
    return out


# ---------------------------------------------------------------------------
# single-group questions
# ---------------------------------------------------------------------------
def _single_question_dict(q) -> dict:
    out = _question_dict(q)
    out["measure"] = q.measure
    return out


def pool_single_arm_question(registry, question: str, level: float = 0.95,
                             engine: str = "exact", seed: int | None = DEFAULT_SEED,
                             mcmc_options: dict | None = None) -> SingleArmResult | None:
    """Pool the single-group outcomes of one proportion or median question.

    Parameters
    ----------
    registry : Registry
    question : str
        A question id whose ``measure`` is ``"proportion"`` or ``"median"``.
    level : float
        Level of the credible and prediction intervals.
    engine : {"exact", "mcmc"}
        ``"exact"``: the exact engines below. ``"mcmc"``: the same models by PyMC's NUTS
        (:func:`survmeta.models.fit_proportions`, :func:`survmeta.models.fit_log_medians`,
        same default priors), with their convergence diagnostics; the frequentist
        companions, the median of medians and the weighted median of medians are the same
        with either engine.
    seed : int or None
        Seed of the MCMC fit (``survmeta.settings.DEFAULT_SEED`` by default).
    mcmc_options : dict, optional
        Sampler options (draws, tune, chains, cores, target_accept, nuts_sampler), as for
        hazard-ratio questions.

    Returns
    -------
    SingleArmResult or None
        None when no outcome refers to the question. Proportions:
        :func:`survmeta.exact.pool_proportions` (binomial-normal model with its
        frequentist companions). Medians: :func:`survmeta.exact.pool_medians` in months
        (a median printed in days or weeks is converted at 365.25 / 12 days per month,
        and a note says so). With ``engine="mcmc"``, ``diagnostics`` holds R-hat, ESS and
        divergences, and each failed check is also a note.
    """
    from survmeta.exact import pool_medians, pool_proportions

    if engine not in ("exact", "mcmc"):
        raise SurvmetaError(f"engine must be 'exact' or 'mcmc', not {engine!r}")

    q = registry.question(question)
    if q.measure not in ("proportion", "median"):
        raise SurvmetaError(f"question {question}: measure {q.measure!r} is not single-group")
    outcomes = registry.outcomes(question)
    if not outcomes:
        return None
    keys = tuple(f"{o.study_id}/{o.id}" if o.id else o.study_id for o in outcomes)
    labels = [o.study_id if [x.study_id for x in outcomes].count(o.study_id) == 1 else key
              for o, key in zip(outcomes, keys)]
    notes: list[str] = []
    diagnostics = Diagnostics()
    posterior = None
    res: Any
    if q.measure == "proportion":
        events, n = [o.events for o in outcomes], [o.n for o in outcomes]
        if engine == "mcmc":
            res, diagnostics, posterior = _proportions_mcmc(events, n, labels, level, seed,
                                                 mcmc_options or {})
        else:
            res = pool_proportions(events, n, labels=labels, level=level)
    else:
        med, lo, hi = [], [], []
        for o, label in zip(outcomes, labels):
            f = DAYS_PER_UNIT[o.unit] / DAYS_PER_UNIT["months"]
            if o.unit != "months":
                notes.append(f"{label}: printed in {o.unit}, converted to months "
                             f"(x {f:.5g}; 365.25 / 12 days per month)")

            def conv(v):
                return v if v is None or not isinstance(v, (int, float)) else float(v) * f

            med.append(conv(o.median))
            lo.append(None if o.ci is None else conv(o.ci[0]))
            hi.append(None if o.ci is None else conv(o.ci[1]))
        levels = {o.ci_level for o in outcomes if o.ci is not None}
        if len(levels) > 1:
            raise SurvmetaError(f"question {question}: medians with CIs at different levels "
                                f"({', '.join(f'{x:g}' for x in sorted(levels))})")
        res = pool_medians(med, lo, hi, n=[o.n for o in outcomes], labels=labels, level=level,
                           ci_level=levels.pop() if levels else 0.95, time_unit="months")
        if engine == "mcmc" and res.log_median is not None:
            res, diagnostics, posterior = _medians_mcmc(res, level, seed, mcmc_options or {})
        elif engine == "mcmc":
            notes.append("no study with a usable interval: no log-median model to sample "
                         "(median of medians only)")
    notes += [f"MCMC: {w}" for w in diagnostics.warnings]
    return SingleArmResult(question=_single_question_dict(q), measure=q.measure, pool=res,
                           keys=keys, notes=tuple(notes), engine=engine, diagnostics=diagnostics,
                           posterior=posterior)


def _nuts(fit, *args, seed, options: dict, **kwargs):
    """Run a single-arm PyMC fit with the sampler options; bad options are a SurvmetaError."""
    try:
        return fit(*args, random_seed=seed, **kwargs, **options)
    except TypeError as exc:
        raise SurvmetaError(f"MCMC options for single-group questions: {exc}") from exc


def _proportions_mcmc(events, n, labels, level, seed, options):
    """:class:`ProportionPool` with its Bayesian fields from :func:`fit_proportions`."""
    from scipy import special

    from survmeta.exact.proportions import ProportionPool, _check, _companions
    from survmeta.models import diagnose, fit_proportions

    fit = _nuts(fit_proportions, events, n, labels, seed=seed, options=options, level=level)
    sm, mu = fit.summary, fit.idata["posterior"]["mu"].values
    x, m = _check(events, n)
    comps, comp_notes = _companions(x, m, level)
    pool = ProportionPool(
        labels=tuple(labels), events=tuple(int(v) for v in x), n=tuple(int(v) for v in m),
        level=sm.level, mu_prior=sm.mu_prior, tau_prior=sm.tau_prior, mu_mean=sm.mu_mean,
        mu_sd=float(np.std(mu)), mu_median=sm.mu_median, mu_ci=sm.mu_ci,
        tau_mean=sm.tau_mean, tau_median=sm.tau_median, tau_ci=sm.tau_ci,
        proportion=sm.estimate, proportion_mean=float(np.mean(special.expit(mu))),
        proportion_ci=sm.ci, proportion_pi=sm.pi, companions=comps, notes=comp_notes,
        engine="mcmc")
    return pool, diagnose(fit.idata), fit.idata


def _medians_mcmc(res, level, seed, options):
    """``res`` (a :class:`MedianPool`) with its log-median pooling by :func:`fit_log_medians`."""
    import dataclasses

    from survmeta.models import diagnose, fit_log_medians

    studies = [st for st in res.studies if st.included]
    fit = _nuts(fit_log_medians, [st.log_median for st in studies], [st.se for st in studies],
                [st.label for st in studies], seed=seed, options=options, level=level)
    sm = fit.summary
    lm = dataclasses.replace(
        res.log_median, median=sm.estimate, lower=sm.ci[0], upper=sm.ci[1], pi_lower=sm.pi[0],
        pi_upper=sm.pi[1], tau=sm.tau_median, tau_lower=sm.tau_ci[0], tau_upper=sm.tau_ci[1],
        tau_prior=sm.tau_prior, mu_prior=sm.mu_prior, engine="mcmc")
    return dataclasses.replace(res, log_median=lm), diagnose(fit.idata), fit.idata


def _as_registry(source):
    """The Registry behind ``source`` when it is one or a ``.toml`` path, else None."""
    from survmeta.registry import Registry, load

    if isinstance(source, Registry):
        return source
    if isinstance(source, (str, os.PathLike)) and Path(source).suffix.lower() != ".csv":
        return load(Path(source))
    return None


# ---------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------
def pool(
    source,
    question: str | list[str] | None = None,
    engine: str = "exact",
    tau_prior=DEFAULT_TAU_PRIOR,
    mu_prior=DEFAULT_MU_PRIOR,
    level: float = 0.95,
    seed: int | None = DEFAULT_SEED,
    method_order=None,
    force=None,
    hierarchical: bool = False,
    draws: int = EXACT_DRAWS,
    mcmc_options: dict | None = None,
    hierarchical_mu_prior=None,
    correct_shrinkage: bool = False,
    link_groups: list[str] | None = None,
    tau2_method: str | None = None,
) -> PoolSet:
    """Pool every poolable question of a registry (or the ones named).

    Parameters
    ----------
    source : Registry, path or DataFrame
        See :func:`effect_table`.
    question : str or list of str, optional
        Question id(s); default all questions with at least one poolable
        comparison or single-group outcome. A question with ``measure =
        "proportion"`` or ``"median"`` is pooled from its ``[[study.outcome]]``
        entries (:func:`pool_single_arm_question`, with the engine asked for) into
        ``PoolSet.single_arm``; hazard-ratio questions are pooled as before.
    engine : {"exact", "mcmc"}
        Engine for the per-question random-effects model.
    tau_prior, mu_prior : str or Prior
        Priors for the heterogeneity and the pooled log HR.
    level : float
        Interval level (0.95).
    seed : int
        Seed for all random draws; the same seed gives the same numbers.
    method_order, force, correct_shrinkage
        Reconstruction options (see :func:`survmeta.reconstruction.reconstruct`);
        ``correct_shrinkage`` divides median-ratio estimates by their
        calibrated shrinkage towards HR = 1 (off by default).
    hierarchical : bool
        Also fit the hierarchical model (PyMC) within each question group
        (``[[question]] group = ...``) that has two or more pooled questions;
        questions in no group are never linked.
    link_groups : list of str, optional
        Groups to fit as one hierarchical model (their questions share
        heterogeneity across the groups named).
    tau2_method : str, optional
        A further tau^2 estimator for the frequentist companion, e.g. ``"PM"``
        (see :func:`pool_question`); by default REML and DL only.
    draws : int
        Posterior draws kept per result with the exact engine.
    mcmc_options : dict, optional
        Extra sampler options (draws, tune, chains, target_accept, ...).
    hierarchical_mu_prior : str or Prior, optional
        Prior of each question's pooled log HR in the hierarchical model;
        default ``normal(0, 1)`` (docs/models.md: with many one-study
        questions, a vaguer prior lets mu_q and tau_q of a one-study question
        wander together far into the tails, which the sampler explores poorly).

    Returns
    -------
    PoolSet
    """
    tau2_method = _check_tau2_method(tau2_method)
    registry = _as_registry(source)
    effects, questions = effect_table(source if registry is None else registry,
                                      method_order=method_order, force=force,
                                      correct_shrinkage=correct_shrinkage)
    measures = {} if registry is None else {q.id: q.measure for q in registry.questions}
    wanted = _wanted_questions(question, questions)
    results: list[PoolResult] = []
    skipped: list[dict[str, Any]] = []
    single: list[SingleArmResult] = []
    for qid in wanted:
        if measures.get(qid, "hr") != "hr":
            sa = pool_single_arm_question(registry, qid, level=level, engine=engine, seed=seed,
                                          mcmc_options=mcmc_options)
            if sa is None:
                skipped.append({"id": qid, "reason": "no single-group outcome", "excluded": []})
            else:
                single.append(sa)
            continue
        result, skip = pool_registry_question(
            effects, questions[qid], engine=engine, tau_prior=tau_prior, mu_prior=mu_prior,
            level=level, seed=seed, draws=draws, mcmc_options=mcmc_options,
            tau2_method=tau2_method)
        if result is None:
            skipped.append(skip)
        else:
            results.append(result)
    if question is not None and not results and not single:
        raise SurvmetaError(
            f"question {', '.join(wanted)}: no poolable comparison ("
            + "; ".join(f"{e['study']}/{e['comparison']}: {e['reason']}"
                        for s in skipped for e in s["excluded"]) + ")"
        )
    hier, linking = None, hierarchical_links(results, link_groups)
    if hierarchical and linking.fits:
        hier = pool_grouped(linking, level=level, seed=seed, mu_prior=hierarchical_mu_prior,
                            mcmc_options=mcmc_options)
    meta = {"level": level, "seed": seed, "engine": engine,
            "source": str(source) if isinstance(source, (str, os.PathLike)) else None,
            "questions_requested": None if question is None else list(wanted),
            "mcmc_options": dict(mcmc_options or {}),
            "correct_shrinkage": bool(correct_shrinkage),
            "hierarchical_links": linking.to_dict() if hierarchical else None}
    return PoolSet(results, skipped=skipped, hierarchical=hier, meta=meta, single_arm=single)


@dataclass(frozen=True)
class Linking:
    """Which pooled questions the hierarchical model links, and why the others are not.

    Attributes
    ----------
    fits : dict
        Fit name (a group id, or ``"g1+g2"`` for linked groups) -> the results of its
        questions (two or more).
    alone : dict
        Question id -> why it is not linked (in no group; the only pooled question of
        its group).
    """

    fits: dict
    alone: dict

    def to_dict(self) -> dict:
        return {"fits": {g: [r.id for r in rs] for g, rs in self.fits.items()},
                "not_linked": dict(self.alone)}


def hierarchical_links(results: list[PoolResult], link_groups=None) -> Linking:
    """Group pooled questions by their ``group``; ``link_groups`` merges the groups named.

    Raises
    ------
    SurvmetaError
        A group in ``link_groups`` that no pooled question belongs to.
    """
    by_group: dict[str, list[PoolResult]] = {}
    alone: dict[str, str] = {}
    for r in results:
        g = r.question.get("group")
        if g is None:
            alone[r.id] = "in no question group"
        else:
            by_group.setdefault(g, []).append(r)
    if link_groups:
        link = list(dict.fromkeys(link_groups))
        unknown = [g for g in link if g not in by_group]
        if unknown:
            raise SurvmetaError(f"link groups: no pooled question in group(s) {', '.join(unknown)}; "
                                f"groups with pooled questions: {', '.join(by_group) or '(none)'}")
        merged = [r for g in link for r in by_group.pop(g)]
        by_group = {"+".join(link): merged, **by_group}
    fits = {}
    for g, rs in by_group.items():
        if len(rs) >= 2:
            fits[g] = rs
        else:
            alone[rs[0].id] = f"the only pooled question of group {g}"
    return Linking(fits, alone)


def pool_grouped(linking: Linking, level: float = 0.95, seed=DEFAULT_SEED, mu_prior=None,
                 mcmc_options: dict | None = None) -> PoolSet:
    """One hierarchical fit per linked group, gathered in one :class:`PoolSet`.

    Each result's ``question["hierarchical_fit"]`` names its fit; its ``posterior`` and
    ``diagnostics`` are that fit's.
    """
    out = []
    for name, rs in linking.fits.items():
        fit = pool_hierarchical(rs, level=level, seed=seed, mu_prior=mu_prior,
                                mcmc_options=mcmc_options)
        for r in fit.values():
            r.question = {**r.question, "hierarchical_fit": name}
            out.append(r)
    return PoolSet(out, meta={"engine": "hierarchical", "seed": seed, "level": level,
                              "fits": linking.to_dict()["fits"]})


def pool_registry_question(effects: pd.DataFrame, question: dict, **options):
    """Select a question's rows from a whole effect table and pool them.

    Returns
    -------
    (PoolResult, None) or (None, dict)
        The result, or the ``skipped`` entry (``id``, ``reason``,
        ``excluded``) when the question has nothing to pool.
    """
    rows, excluded, notes = select_rows(effects, question["id"])
    if len(rows) == 0:
        return None, {"id": question["id"], "reason": "no poolable comparison",
                      "excluded": excluded[["study", "comparison", "reason"]]
                      .to_dict(orient="records")}
    return pool_question(rows, question, excluded=excluded, notes=notes, **options), None


def _wanted_questions(question, questions: dict) -> list[str]:
    if question is None:
        return list(questions)
    wanted = [question] if isinstance(question, str) else list(question)
    unknown = [q for q in wanted if q not in questions]
    if unknown:
        import difflib

        hints = []
        for q in unknown:
            close = difflib.get_close_matches(q, list(questions), n=1)
            hints.append(f"{q!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise SurvmetaError(
            f"unknown question {', '.join(hints)}; known: {', '.join(questions)}"
        )
    return wanted


def pool_hierarchical(results: list[PoolResult], level: float = 0.95, seed=DEFAULT_SEED,
                      mu_prior=None, mcmc_options: dict | None = None) -> PoolSet:
    """Fit the hierarchical model across the questions of ``results`` (PyMC).

    Returns a :class:`PoolSet` of per-question results with engine
    ``"hierarchical"``; the shared diagnostics are in each result's
    ``diagnostics``.
    """
    from survmeta.models import diagnose, fit_hierarchical
    from survmeta.priors import parse_prior

    effects = pd.concat([r.effects.drop(columns=["theta_mean", "theta_lower", "theta_upper",
                                                 "weight"]) for r in results], ignore_index=True)
    idata = fit_hierarchical(effects, mu_prior=mu_prior, random_seed=seed, **(mcmc_options or {}))
    diag = diagnose(idata)
    attrs = idata["posterior"].attrs
    mu_spec = attrs.get("survmeta_mu_prior")
    priors = {"mu": parse_prior(mu_spec, "mu") if mu_spec is not None else None}
    prior_notes = {"tau": "shared across questions: "
                   + str(attrs.get("survmeta_tau_population_prior"))}
    model_notes = [f"hierarchical model: covariates {attrs.get('survmeta_covariates')}, "
                   f"extra error {attrs.get('survmeta_extra_error')}"]
    out = []
    for r in results:
        labels = list(r.effects["key"])
        blocks, theta, probabilities = draws_summary(idata, labels, level, question=r.id)
        stats = _parameter_summaries(blocks, level)
        pooled = r.effects.copy()
        se = pooled["se"].to_numpy(dtype=float)
        w = 1.0 / (se**2 + stats["tau"].median ** 2)
        pooled["weight"] = 100.0 * w / w.sum()
        pooled["theta_mean"] = [theta[k]["mean"] for k in labels]
        pooled["theta_lower"] = [theta[k]["eti"][0] for k in labels]
        pooled["theta_upper"] = [theta[k]["eti"][1] for k in labels]
        out.append(PoolResult(
            question=r.question, engine="hierarchical", effects=pooled, stats=stats,
            probabilities=probabilities, priors=dict(priors), posterior=idata, diagnostics=diag,
            excluded=r.excluded, frequentist=r.frequentist, level=level, seed=seed,
            notes=r.notes + model_notes, prior_notes=dict(prior_notes),
        ))
    return PoolSet(out, meta={"engine": "hierarchical", "seed": seed, "level": level})

