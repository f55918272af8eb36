"""Sensitivity analyses of one question, as one tidy DataFrame.

:func:`sensitivity` refits a question under a set of *variants*, each an
independent task run through one executor (see
:mod:`survmeta.living.executors`):

``base``
    The analysis as ``survmeta pool`` runs it.
``leave-one-out``
    Without each pooled comparison in turn; with the frequentist companion
    (REML, as metafor's ``leave1out``) in rows with ``engine = "REML"``.
``cumulative``
    Comparisons added in order of publication year (registry order within a
    year); with the frequentist companion (metafor's ``cumul``).
``prior``
    Every pair of the tau priors :data:`PRIOR_GRID_TAU` and mu priors
    :data:`PRIOR_GRID_MU`.
``method``
    Each comparison reconstructed with each other applicable method (from the
    effect table's ``alternatives``), each method applied wherever it applies,
    the analysis without approximate estimates, and (from a registry) the
    analysis with the calibrated shrinkage correction of approximate estimates
    switched the other way (on when the primary analysis has it off).
``subset``
    Comparisons selected by an effect-table column (``design``, ``endpoint``,
    ...) or by a function of the table.

Every row has the columns of :data:`COLUMNS`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from survmeta._format import fmt_hr
from survmeta.errors import SurvmetaError

__all__ = [
    "COLUMNS",
    "PRIOR_GRID_MU",
    "PRIOR_GRID_TAU",
    "Variant",
    "sensitivity",
    "sensitivity_tasks",
]

#: tau priors of the prior grid. ``turner(any, any)`` is the marginal
#: log-normal predictive distribution of Turner et al. (2015), p. 993.
PRIOR_GRID_TAU = ("halfnormal(0.25)", "halfnormal(0.5)", "halfnormal(1)", "halfcauchy(0.5)",
                  "turner(any, any)")
#: mu priors of the prior grid.
PRIOR_GRID_MU = ("normal(0, 4)", "normal(0, 1)", "flat")

COLUMNS = ("analysis", "variant", "changed", "engine", "k", "hr", "hr_lower", "hr_upper",
           "tau", "tau_lower", "tau_upper", "p_hr_below_1", "note", "tau_prior", "mu_prior",
           "study", "year")

ANALYSES = ("loo", "cumulative", "priors", "methods", "subsets")


@dataclass(frozen=True)
class Variant:
    """One refit: the rows to pool and the priors.

    Attributes
    ----------
    analysis : str
        ``base``, ``leave-one-out``, ``cumulative``, ``prior``, ``method`` or ``subset``.
    variant : str
        Short label.
    changed : str
        What was changed, in words.
    rows : pandas.DataFrame
        Effect-table rows to pool.
    tau_prior, mu_prior : str
        Prior specs.
    study : str or None
        The comparison left out (leave-one-out) or added (cumulative).
    year : float
        Last year included (cumulative).
    note : str or None
        Why a variant cannot be fitted (no rows left), or a remark on it.
    """

    analysis: str
    variant: str
    changed: str
    rows: pd.DataFrame
    tau_prior: str
    mu_prior: str
    study: str | None = None
    year: float = math.nan
    note: str | None = None


@dataclass(frozen=True)
class _Task:
    variant: Variant
    question: dict
    engine: str
    level: float
    seed: int | None
    mcmc_options: dict | None


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------
def _effects_for(source, question: str, correct_shrinkage: bool = False) -> tuple[pd.DataFrame, dict]:
    from survmeta.pooling import effect_table

    effects, questions = effect_table(source, correct_shrinkage=correct_shrinkage)
    if question not in questions:
        import difflib

        close = difflib.get_close_matches(question, list(questions), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SurvmetaError(f"unknown question {question!r}{hint}; known: {', '.join(questions)}")
    return effects, questions[question]


def _is_registry(source) -> bool:
    """A registry or the path of one (not an effect table, which is already reconstructed)."""
    from survmeta.registry import Registry

    if isinstance(source, Registry):
        return True
    return isinstance(source, (str, os.PathLike)) and Path(source).suffix.lower() == ".toml"


def _fmt_hr(log_hr: float) -> str:
    return fmt_hr(math.exp(log_hr))


# ---------------------------------------------------------------------------
# variants
# ---------------------------------------------------------------------------
def _shown_keys(rows: pd.DataFrame) -> list[str]:
    """``study/comparison`` with the study as printed (its ``label``, e.g. an effects CSV's)."""
    studies = rows["label"] if "label" in rows else rows["study"]
    return [f"{s}/{c}" for s, c in zip(studies, rows["comparison"])]


def _loo(rows: pd.DataFrame, tau: str, mu: str) -> list[Variant]:
    shown = _shown_keys(rows)
    if len(rows) == 1:
        key, name = rows["key"].iloc[0], shown[0]
        return [Variant("leave-one-out", f"without {name}", f"{name} left out", rows.iloc[0:0], tau,
                        mu, study=key, note=f"{name} is the only pooled comparison: nothing left to pool")]
    out = []
    for i, (key, name) in enumerate(zip(rows["key"], shown)):
        keep = rows.drop(index=rows.index[i]).reset_index(drop=True)
        out.append(Variant("leave-one-out", f"without {name}", f"{name} left out", keep, tau, mu,
                           study=key))
    return out


def _year_order(rows: pd.DataFrame) -> np.ndarray:
    years = pd.to_numeric(rows["year"], errors="coerce").to_numpy(dtype=float)
    keys = np.where(np.isnan(years), np.inf, years)
    return np.argsort(keys, kind="stable")


def _cumulative(rows: pd.DataFrame, tau: str, mu: str) -> list[Variant]:
    order = _year_order(rows)
    shown = _shown_keys(rows)
    out = []
    for n in range(1, len(rows) + 1):
        sel = rows.iloc[order[:n]].reset_index(drop=True)
        added, name = rows.iloc[order[n - 1]], shown[order[n - 1]]
        year = pd.to_numeric(pd.Series([added["year"]]), errors="coerce").iloc[0]
        when = f"{int(year)}" if np.isfinite(year) else "year unknown"
        out.append(Variant("cumulative", f"+ {name} ({when})",
                           f"comparisons up to {name} ({when}) in order of publication, k = {n}",
                           sel, tau, mu, study=added["key"], year=float(year)))
    return out


def _priors(rows: pd.DataFrame, tau_grid, mu_grid, base: tuple[str, str]) -> list[Variant]:
    from survmeta.priors import parse_prior

    base_specs = (parse_prior(base[0], "tau").spec, parse_prior(base[1], "mu").spec)
    out = []
    for tau in tau_grid:
        for mu in mu_grid:
            t, m = parse_prior(tau, "tau").spec, parse_prior(mu, "mu").spec
            if (t, m) == base_specs:
                continue
            what = []
            if t != base_specs[0]:
                what.append(f"tau ~ {t} instead of {base_specs[0]}")
            if m != base_specs[1]:
                what.append(f"mu ~ {m} instead of {base_specs[1]}")
            out.append(Variant("prior", f"tau ~ {t}, mu ~ {m}", "; ".join(what), rows, t, m))
    return out


def _alternatives(row) -> list[dict]:
    alts = row.get("alternatives") if hasattr(row, "get") else None
    if not isinstance(alts, (list, tuple)):
        return []
    good = []
    for a in alts:
        try:
            y, s = float(a["log_hr"]), float(a["se"])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(y) and math.isfinite(s) and s > 0 and a.get("method") != row.get("method"):
            good.append({"method": str(a["method"]), "log_hr": y, "se": s})
    return good


def _with_method(rows: pd.DataFrame, i: int, alt: dict) -> pd.DataFrame:
    from survmeta.reconstruction import APPROXIMATE

    out = rows.copy()
    idx = out.index[i]
    out.at[idx, "log_hr"] = alt["log_hr"]
    out.at[idx, "se"] = alt["se"]
    out.at[idx, "method"] = alt["method"]
    out.at[idx, "approximate"] = alt["method"] in APPROXIMATE
    return out


def _methods(rows: pd.DataFrame, tau: str, mu: str) -> list[Variant]:
    out = []
    by_method: dict[str, list[tuple[int, dict]]] = {}
    for i, (_, row) in enumerate(rows.iterrows()):
        for alt in _alternatives(row):
            by_method.setdefault(alt["method"], []).append((i, alt))
            out.append(Variant(
                "method", f"{row['key']} via {alt['method']}",
                f"{row['key']} reconstructed with {alt['method']} (HR {_fmt_hr(alt['log_hr'])}, "
                f"SE {alt['se']:.3f}) instead of {row['method']} (HR {_fmt_hr(row['log_hr'])}, "
                f"SE {float(row['se']):.3f})",
                _with_method(rows, i, alt).reset_index(drop=True), tau, mu, study=row["key"]))
    for method, uses in by_method.items():
        if len(uses) < 2:
            continue
        changed = rows
        for i, alt in uses:
            changed = _with_method(changed, i, alt)
        keys = ", ".join(rows.iloc[i]["key"] for i, _ in uses)
        out.append(Variant("method", f"{method} wherever it applies",
                           f"{method} used for {len(uses)} comparisons ({keys})",
                           changed.reset_index(drop=True), tau, mu))
    if "approximate" in rows:
        approx = rows["approximate"].to_numpy(dtype=bool)
    else:
        approx = np.zeros(len(rows), dtype=bool)
    kept = rows[~approx].reset_index(drop=True)
    dropped = ", ".join(rows.loc[approx, "key"])
    note = None
    if not approx.any():
        changed = "nothing left out: no pooled comparison is an approximate estimate"
        note = "no approximate estimate among the pooled comparisons: the same rows as the primary analysis"
    else:
        changed = f"left out {int(approx.sum())} approximate estimate(s): {dropped}"
        if not len(kept):
            note = ("every pooled comparison is an approximate estimate (reconstructed, not a "
                    "reported HR or O-E): nothing left to pool")
    out.append(Variant("method", "approximate estimates excluded", changed, kept, tau, mu, note=note))
    return out


def _shrinkage(rows: pd.DataFrame, other: pd.DataFrame, corrected: bool, tau: str,
               mu: str) -> Variant:
    """The pooled rows as reconstructed with the shrinkage correction switched the other way."""
    label = "shrinkage correction off" if corrected else "shrinkage correction on"
    swapped = other.set_index("key").loc[list(rows["key"])].reset_index()
    swapped = swapped[list(rows.columns)]
    moved = [k for k, a, b, sa, sb in zip(rows["key"], rows["log_hr"], swapped["log_hr"],
                                          rows["se"], swapped["se"]) if a != b or sa != sb]
    if not moved:
        return Variant("method", label, "nothing changed: no pooled comparison is an approximate "
                       "estimate with a calibrated shrinkage", rows, tau, mu,
                       note="the same rows as the primary analysis")
    how = ("multiplied back by" if corrected else "divided by")
    return Variant("method", label,
                   f"{len(moved)} approximate estimate(s) {how} their calibrated shrinkage towards "
                   f"HR = 1: {', '.join(moved)}", swapped, tau, mu)


def _auto_specs(pooled: pd.DataFrame) -> list[tuple[str, dict]]:
    """One subset per value of ``design`` and of ``endpoint`` among the pooled rows (when several)."""
    specs = []
    for col in ("design", "endpoint"):
        values = [v for v in pd.unique(pooled[col].dropna())] if col in pooled else []
        if len(values) > 1:
            specs += [(f"{col} = {v}", {col: v}) for v in values]
    return specs


def _subset_specs(subsets, qrows: pd.DataFrame) -> list[tuple[str, Callable | dict]]:
    if subsets is None:
        return []
    if isinstance(subsets, str):
        raise SurvmetaError(f"subsets must be 'auto', a dict, a function or a list, got {subsets!r}")
    if isinstance(subsets, Mapping) or callable(subsets):
        subsets = [subsets]
    specs = []
    for s in subsets:
        if isinstance(s, Mapping):
            specs.append((", ".join(f"{k} = {v}" for k, v in s.items()), dict(s)))
        elif callable(s):
            specs.append((getattr(s, "__name__", "custom subset"), s))
        else:
            raise SurvmetaError(f"a subset must be a dict of column values or a function, got {s!r}")
    return specs


def _subset_mask(spec, qrows: pd.DataFrame) -> np.ndarray:
    if callable(spec):
        mask = spec(qrows)
        return np.asarray(mask, dtype=bool)
    mask = np.ones(len(qrows), dtype=bool)
    for col, value in spec.items():
        if col not in qrows.columns:
            raise SurvmetaError(f"subset: no column {col!r} in the effect table; columns: "
                                f"{', '.join(map(str, qrows.columns))}")
        values = value if isinstance(value, (list, tuple, set)) else [value]
        col_values = qrows[col]
        if pd.api.types.is_numeric_dtype(col_values):
            try:
                values = [float(v) for v in values]
            except (TypeError, ValueError):
                pass
        mask &= col_values.isin(values).to_numpy()
    return mask


def _subsets(effects: pd.DataFrame, qid: str, subsets, tau: str, mu: str,
             pooled: pd.DataFrame) -> list[Variant]:
    from survmeta.pooling import select_rows

    if isinstance(subsets, str) and subsets == "auto":  # partitions of the primary analysis
        out = []
        for label, spec in _auto_specs(pooled):
            rows = pooled[_subset_mask(spec, pooled)].reset_index(drop=True)
            out.append(Variant("subset", label, f"only pooled comparisons with {label} (k = {len(rows)})",
                               rows, tau, mu))
        return out
    qrows = effects[effects["question"] == qid].reset_index(drop=True)
    out = []
    for label, spec in _subset_specs(subsets, qrows):
        mask = _subset_mask(spec, qrows)
        sub = qrows[mask]
        note = None
        if not mask.any():
            rows = qrows.iloc[0:0]
            note = f"no comparison of {qid} has {label}"
        else:
            rows, excluded, _ = select_rows(sub.assign(question=qid), qid)
            if not len(rows):
                why = "; ".join(f"{r['key']}: {r['reason']}" for _, r in excluded.iterrows())
                note = f"no comparison with {label} can be pooled ({why})"
        out.append(Variant("subset", label, f"only comparisons with {label} (k = {len(rows)})",
                           rows.reset_index(drop=True), tau, mu, note=note))
    return out


def sensitivity_tasks(effects: pd.DataFrame, question: str, *, loo: bool = True,
                      cumulative: bool = True, priors: bool = True, methods: bool = True,
                      subsets=None, tau_prior: str | None = None, mu_prior: str | None = None,
                      tau_grid=PRIOR_GRID_TAU, mu_grid=PRIOR_GRID_MU,
                      shrinkage_effects: pd.DataFrame | None = None,
                      correct_shrinkage: bool = False) -> list[Variant]:
    """The variants of a sweep (without running them).

    Parameters are those of :func:`sensitivity`; ``effects`` is an effect table.
    ``shrinkage_effects`` is the same registry's effect table with the
    shrinkage correction switched the other way from ``correct_shrinkage``
    (the setting ``effects`` was made with); with ``methods`` it adds the
    ``shrinkage correction on|off`` variant.

    Returns
    -------
    list of Variant
        The base analysis first.
    """
    from survmeta.pooling import DEFAULT_MU_PRIOR, DEFAULT_TAU_PRIOR, select_rows

    tau = tau_prior or DEFAULT_TAU_PRIOR
    mu = mu_prior or DEFAULT_MU_PRIOR
    rows, _, _ = select_rows(effects, question)
    if len(rows) == 0:
        raise SurvmetaError(f"question {question}: no poolable comparison, nothing to vary")
    variants = [Variant("base", "all comparisons", "nothing (the primary analysis)", rows, tau, mu)]
    if loo:
        variants += _loo(rows, tau, mu)
    if cumulative:
        variants += _cumulative(rows, tau, mu)
    if priors:
        variants += _priors(rows, tau_grid, mu_grid, (tau, mu))
    if methods:
        variants += _methods(rows, tau, mu)
        if shrinkage_effects is not None:
            variants.append(_shrinkage(rows, shrinkage_effects, correct_shrinkage, tau, mu))
    variants += _subsets(effects, question, subsets, tau, mu, rows)
    return variants


# ---------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------
def _empty_row(v: Variant, engine: str) -> dict:
    return {"analysis": v.analysis, "variant": v.variant, "changed": v.changed, "engine": engine,
            "k": int(len(v.rows)), "hr": math.nan, "hr_lower": math.nan, "hr_upper": math.nan,
            "tau": math.nan, "tau_lower": math.nan, "tau_upper": math.nan, "p_hr_below_1": math.nan,
            "note": v.note, "tau_prior": v.tau_prior, "mu_prior": v.mu_prior, "study": v.study,
            "year": v.year}


def run_variant(task: _Task) -> dict:
    """Fit one variant (module level, so process pools and Dask can pickle it)."""
    from survmeta.pooling import pool_question

    v = task.variant
    row = _empty_row(v, task.engine)
    if len(v.rows) == 0:
        return row
    res = pool_question(v.rows, task.question, engine=task.engine, tau_prior=v.tau_prior,
                        mu_prior=v.mu_prior, level=task.level, seed=task.seed, draws=0,
                        mcmc_options=task.mcmc_options)
    hr, tau = res.stats["hr"], res.stats["tau"]
    row.update(hr=hr.median, hr_lower=hr.eti.lower, hr_upper=hr.eti.upper,
               tau=tau.median, tau_lower=tau.eti.lower, tau_upper=tau.eti.upper,
               p_hr_below_1=res.p_hr_below_1,
               tau_prior=res.prior_text("tau") or v.tau_prior,
               mu_prior=res.prior_text("mu") or v.mu_prior)
    return row


def _frequentist_rows(variants: list[Variant], rows: pd.DataFrame, level: float,
                      analyses: set[str]) -> list[dict]:
    """REML leave-one-out and cumulative rows (metafor's leave1out / cumul)."""
    from survmeta.exact import cumul, leave1out

    y = rows["log_hr"].to_numpy(dtype=float)
    s = rows["se"].to_numpy(dtype=float)
    keys = list(rows["key"])
    out = []
    by_study = {(v.analysis, v.study): v for v in variants}
    tables = []
    if "leave-one-out" in analyses and len(y) >= 2:
        tables.append(("leave-one-out", leave1out(y, s, level=level, labels=keys)))
    if "cumulative" in analyses and len(y) >= 1:
        order = _year_order(rows)
        years = np.argsort(order, kind="stable")  # rank of each row in the cumulative order
        tables.append(("cumulative", cumul(y, s, order=years, level=level, labels=keys)))
    for analysis, table in tables:
        for key, r in table.iterrows():
            v = by_study.get((analysis, key))
            if v is None:
                continue
            row = _empty_row(v, "REML")
            row.update(hr=math.exp(r["estimate"]), hr_lower=math.exp(r["ci_lower"]),
                       hr_upper=math.exp(r["ci_upper"]), tau=math.sqrt(max(0.0, r["tau2"])),
                       tau_prior=None, mu_prior=None)
            out.append(row)
    return out


def sensitivity(source, question: str, loo: bool = True, cumulative: bool = True,
                priors: bool = True, methods: bool = True, subsets=None, executor=None,
                engine: str = "exact", tau_prior: str | None = None, mu_prior: str | None = None,
                level: float = 0.95, seed: int | None = None, frequentist: bool = True,
                progress: bool | None = None, mcmc_options: dict | None = None,
                tau_grid=PRIOR_GRID_TAU, mu_grid=PRIOR_GRID_MU,
                correct_shrinkage: bool = False) -> pd.DataFrame:
    """Refit one question under leave-one-out, cumulative, prior, method and subset variants.

    Parameters
    ----------
    source : Registry, path or pandas.DataFrame
        A registry, the path of ``studies.toml`` (or an effects CSV), or an
        effect table.
    question : str
        Question id.
    loo, cumulative, priors, methods : bool
        Which analyses to run.
    subsets : None, "auto", dict, callable or list of them
        ``{"design": "retrospective cohort"}`` keeps the comparisons whose
        effect-table column equals the value (a list of values: any of them;
        several keys: all must hold); a function takes the question's effect
        rows and returns a boolean mask; ``"auto"`` makes one subset per value
        of ``design`` and of ``endpoint`` among the pooled comparisons, when
        they have more than one (each a part of the primary analysis).
    executor : None, str, int or executor
        See :func:`survmeta.living.executors.get_executor`; e.g. ``"processes"``
        or a ``dask.distributed.Client``.
    engine : {"exact", "mcmc"}
        Engine of the Bayesian refits. With ``"mcmc"`` the PyMC model of
        each (k, priors) is built once per worker and reused with new data.
    tau_prior, mu_prior : str, optional
        Priors of the primary analysis (default: those of ``survmeta pool``).
    level : float
        Interval level.
    seed : int, optional
        Seed (default: that of ``survmeta pool``).
    frequentist : bool
        Add REML leave-one-out and cumulative rows (``engine = "REML"``),
        as metafor's ``leave1out`` and ``cumul``.
    progress : bool or None
        Progress bar on stderr; None: only when stderr is a terminal.
    mcmc_options : dict, optional
        Sampler options for ``engine="mcmc"``.
    tau_grid, mu_grid : sequence of str
        Prior grid.
    correct_shrinkage : bool
        Reconstruct the primary analysis with the calibrated shrinkage
        correction of approximate estimates
        (:func:`survmeta.reconstruction.reconstruct`); the ``method`` analysis
        then includes the variant without it (and with it, when this is
        False). Only for a registry source: an effect table is already
        reconstructed.

    Returns
    -------
    pandas.DataFrame
        One row per variant and engine, columns :data:`COLUMNS`: ``analysis``,
        ``variant``, ``changed`` (in words), ``engine``, ``k``, ``hr``
        (posterior median, or the REML estimate), ``hr_lower``, ``hr_upper``
        (equal-tailed interval or CI at ``level``), ``tau`` (median or REML
        estimate), ``tau_lower``, ``tau_upper`` (equal-tailed interval of tau;
        NaN for REML), ``p_hr_below_1`` (NaN for REML), ``note`` (why a
        variant has nothing to pool, or a remark; None otherwise),
        ``tau_prior``, ``mu_prior``, ``study`` (comparison left out or
        added), ``year`` (cumulative).

        Every requested variant has a row: one that cannot be fitted (no
        comparison left, e.g. leaving out the only comparison, or excluding
        approximate estimates when all are approximate) has ``k = 0``, NaN
        numbers and the reason in ``note``.

    A single-group question (``measure = "proportion"`` or ``"median"``, from a
    registry) has the leave-one-out and prior analyses only (``cumulative``,
    ``methods``, ``engine``, ``seed`` and ``mu_grid`` do not apply to it; subsets are
    refused): see :func:`survmeta.living.single_sweep.single_sensitivity`, whose table
    has the columns :data:`~survmeta.living.single_sweep.SINGLE_COLUMNS` (``measure``,
    ``unit``, ``estimate``, ``lower``, ``upper`` on the natural scale: percent or months).

    Examples
    --------
    >>> df = sensitivity("studies.toml", "oligo_vs_systemic")          # doctest: +SKIP
    >>> df[df.analysis == "leave-one-out"]                               # doctest: +SKIP
    """
    from survmeta.living.executors import run_tasks
    from survmeta.living.single_sweep import is_single_group, single_sensitivity
    from survmeta.pooling import DEFAULT_SEED, select_rows

    single = is_single_group(source, question)
    if single is not None:
        if isinstance(subsets, str) and subsets == "auto":
            subsets = None
        if subsets is not None:
            raise SurvmetaError(f"question {question} is a single-group question: subset "
                                "analyses are for hazard-ratio questions only")
        return single_sensitivity(single, question, loo=loo, priors=priors, tau_prior=tau_prior,
                                  mu_prior=mu_prior, level=level,
                                  tau_grid=None if tau_grid is PRIOR_GRID_TAU else tau_grid)
    effects, qdict = _effects_for(source, question, correct_shrinkage)
    other = None
    if methods and _is_registry(source):
        other, _ = _effects_for(source, question, not correct_shrinkage)
    variants = sensitivity_tasks(effects, question, loo=loo, cumulative=cumulative, priors=priors,
                                 methods=methods, subsets=subsets, tau_prior=tau_prior,
                                 mu_prior=mu_prior, tau_grid=tau_grid, mu_grid=mu_grid,
                                 shrinkage_effects=other, correct_shrinkage=correct_shrinkage)
    seed = DEFAULT_SEED if seed is None else seed
    tasks = [_Task(v, qdict, engine, level, seed, mcmc_options) for v in variants]
    order = list(range(len(tasks)))
    if engine == "mcmc":  # consecutive fits of one (k, priors) reuse the cached PyMC model
        order.sort(key=lambda i: (len(tasks[i].variant.rows), tasks[i].variant.tau_prior,
                                  tasks[i].variant.mu_prior))
    results = run_tasks(run_variant, [tasks[i] for i in order], executor=executor, engine=engine,
                        progress=progress, label=f"sensitivity {question}")
    rows: list[dict] = [None] * len(tasks)  # type: ignore[list-item]
    for i, r in zip(order, results):
        rows[i] = r
    if frequentist:
        base_rows, _, _ = select_rows(effects, question)
        analyses = {v.analysis for v in variants}
        freq = _frequentist_rows(variants, base_rows, level, analyses)
        rows = _interleave(rows, freq)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _interleave(rows: list[dict], freq: list[dict]) -> list[dict]:
    """Put each REML row right after the Bayesian row of the same variant."""
    by_key: dict[tuple, list[dict]] = {}
    for f in freq:
        by_key.setdefault((f["analysis"], f["variant"]), []).append(f)
    out = []
    for r in rows:
        out.append(r)
        out.extend(by_key.pop((r["analysis"], r["variant"]), []))
    for rest in by_key.values():
        out.extend(rest)
    return out


def plot_sensitivity(table: pd.DataFrame, path, question: dict | None = None) -> list:
    """Save the leave-one-out and cumulative figures of a sensitivity table.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`sensitivity` (Bayesian rows are drawn; REML rows are not).
    path : str or path-like
        Figure file (``.png``, ``.svg``, ``.pdf``). With both analyses in the
        table, the cumulative figure goes to ``<stem>-cumulative<suffix>``;
        with neither, all variants are drawn in one figure.
    question : dict, optional
        For the "favours" labels.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from pathlib import Path

    import matplotlib.pyplot as plt

    from survmeta.plotting import plot_cumulative, plot_leave1out, plot_variants, save_figure

    path = Path(path)
    bayes = table[(table["engine"] != "REML") & (table["k"] > 0)]  # a k = 0 row has nothing to draw
    base = bayes[bayes["analysis"] == "base"]
    reference = float(base["hr"].iloc[0]) if len(base) else None
    jobs = []
    loo = bayes[bayes["analysis"] == "leave-one-out"]
    cum = bayes[bayes["analysis"] == "cumulative"]
    if len(loo):
        jobs.append((plot_leave1out, loo, path))
    if len(cum):
        target = path.with_name(f"{path.stem}-cumulative{path.suffix}") if len(loo) else path
        jobs.append((plot_cumulative, cum, target))
    if not jobs:
        jobs.append((plot_variants, bayes, path))
    written = []
    for func, rows, target in jobs:
        fig = func(rows.reset_index(drop=True), reference=reference, question=question)
        try:
            written.append(save_figure(fig, target))
        finally:
            plt.close(fig)
    return written
