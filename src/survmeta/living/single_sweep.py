"""Sensitivity analyses of a single-group question (``measure = "proportion" | "median"``).

:func:`survmeta.living.sensitivity` sends a single-group question here. Two analyses:

``leave-one-out``
    The question pooled without each pooled entry in turn, by the same engine as
    ``survmeta pool`` (:func:`survmeta.exact.pool_proportions` or
    :func:`survmeta.exact.pool_medians`) on the remaining entries.
``prior``
    The question pooled under each tau prior of :func:`single_tau_grid`: the tau grid
    of the hazard-ratio sweep (:data:`survmeta.living.sweep.PRIOR_GRID_TAU`) with every
    scale multiplied by the ratio of the measure's default tau prior to the hazard-ratio
    default (logit of a proportion: 2, ``halfnormal(1)`` against ``halfnormal(0.5)``;
    log median: 1). The mu prior stays the measure's default.

Every row has the columns of :data:`SINGLE_COLUMNS`; estimates are on the natural scale
(a proportion in percent, a median in months), tau on the scale of the model (logit,
log median).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from survmeta.errors import SurvmetaError

__all__ = ["SINGLE_COLUMNS", "single_sensitivity", "single_tau_grid"]

SINGLE_COLUMNS = ("analysis", "variant", "changed", "engine", "measure", "unit", "k",
                  "estimate", "lower", "upper", "tau", "tau_lower", "tau_upper", "note",
                  "tau_prior", "mu_prior", "study")

#: Fewest pooled entries a leave-one-out analysis needs (one left after leaving one out).
MIN_STUDIES_LOO = 2


@dataclass(frozen=True)
class _Fit:
    k: int
    estimate: float
    lower: float
    upper: float
    tau: float
    tau_lower: float
    tau_upper: float
    tau_prior: str
    mu_prior: str


def _default_priors(measure: str) -> tuple[str, str]:
    if measure == "proportion":
        from survmeta.exact.proportions import (
            DEFAULT_PROPORTION_MU_PRIOR,
            DEFAULT_PROPORTION_TAU_PRIOR,
        )

        return DEFAULT_PROPORTION_TAU_PRIOR, DEFAULT_PROPORTION_MU_PRIOR
    from survmeta.exact.medians import MU_PRIOR, TAU_PRIOR

    return TAU_PRIOR, MU_PRIOR


def _scale_factor(measure: str) -> float:
    """Scale of the measure's default tau prior over that of the hazard-ratio default."""
    from survmeta.priors import parse_prior
    from survmeta.settings import DEFAULT_TAU_PRIOR

    own = parse_prior(_default_priors(measure)[0], "tau")
    hr = parse_prior(DEFAULT_TAU_PRIOR, "tau")
    return float(own.params["scale"]) / float(hr.params["scale"])


def single_tau_grid(measure: str, grid=None) -> tuple[str, ...]:
    """The tau priors of the prior analysis of a single-group question.

    Parameters
    ----------
    measure : {"proportion", "median"}
    grid : sequence of str, optional
        Hazard-ratio tau priors to scale (default
        :data:`survmeta.living.sweep.PRIOR_GRID_TAU`). Only ``halfnormal`` and
        ``halfcauchy`` priors are scaled; ``turner(...)`` priors (predictive
        distributions of the heterogeneity of log odds ratios between two arms) do not
        apply to one group and are left out.

    Returns
    -------
    tuple of str
        E.g. for a proportion ``("halfnormal(0.5)", "halfnormal(1)", "halfnormal(2)",
        "halfcauchy(1)")``.
    """
    from survmeta.living.sweep import PRIOR_GRID_TAU
    from survmeta.priors import parse_prior

    factor = _scale_factor(measure)
    out = []
    for spec in PRIOR_GRID_TAU if grid is None else grid:
        p = parse_prior(spec, "tau")
        if p.family not in ("halfnormal", "halfcauchy"):
            continue
        out.append(parse_prior(f"{p.family}({float(p.params['scale']) * factor:g})", "tau").spec)
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------------------
# fits
# ---------------------------------------------------------------------------
def _fit_proportion(events, n, labels, tau_prior: str, mu_prior: str, level: float) -> _Fit:
    from survmeta.exact import pool_proportions

    p = pool_proportions(events, n, labels=labels, tau_prior=tau_prior, mu_prior=mu_prior,
                         level=level, companions=False)
    return _Fit(len(p.events), 100 * p.proportion, 100 * p.proportion_ci[0],
                100 * p.proportion_ci[1], p.tau_median, p.tau_ci[0], p.tau_ci[1], p.tau_prior,
                p.mu_prior)


def _fit_median(studies, pool, tau_prior: str, mu_prior: str, level: float) -> _Fit:
    from survmeta.exact import pool_medians

    res = pool_medians([s.median for s in studies], [s.lower for s in studies],
                       [s.upper for s in studies], n=[s.n for s in studies],
                       labels=[s.label for s in studies], level=level, ci_level=pool.ci_level,
                       tau_prior=tau_prior, mu_prior=mu_prior, time_unit=pool.time_unit)
    lm = res.log_median
    if lm is None:  # pragma: no cover - the callers keep at least one entry with an interval
        raise SurvmetaError("no entry with a usable interval left to pool")
    return _Fit(lm.k, lm.median, lm.lower, lm.upper, lm.tau, lm.tau_lower, lm.tau_upper,
                lm.tau_prior, lm.mu_prior)


def _row(analysis: str, variant: str, changed: str, measure: str, unit: str, fit: _Fit,
         study: str | None = None) -> dict:
    return {"analysis": analysis, "variant": variant, "changed": changed, "engine": "exact",
            "measure": measure, "unit": unit, "k": fit.k, "estimate": fit.estimate,
            "lower": fit.lower, "upper": fit.upper, "tau": fit.tau, "tau_lower": fit.tau_lower,
            "tau_upper": fit.tau_upper, "note": None, "tau_prior": fit.tau_prior,
            "mu_prior": fit.mu_prior, "study": study}


def single_sensitivity(registry, question: str, *, loo: bool = True, priors: bool = True,
                       tau_prior: str | None = None, mu_prior: str | None = None,
                       level: float = 0.95, tau_grid=None) -> pd.DataFrame:
    """Leave-one-out and prior analyses of one single-group question.

    Parameters
    ----------
    registry : Registry
    question : str
        A question with ``measure = "proportion"`` or ``"median"``.
    loo, priors : bool
        Run the leave-one-out and the prior analysis.
    tau_prior, mu_prior : str, optional
        Priors of the primary analysis (default: the measure's defaults, those of
        ``survmeta pool``).
    level : float
        Level of the credible intervals.
    tau_grid : sequence of str, optional
        Hazard-ratio tau priors, scaled by :func:`single_tau_grid`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SINGLE_COLUMNS`: ``measure`` (``proportion`` or ``median``),
        ``unit`` (``%`` or ``months``), ``k``, ``estimate``, ``lower``, ``upper``
        (posterior median and equal-tailed interval on the natural scale), ``tau``,
        ``tau_lower``, ``tau_upper`` (logit or log-median scale), ``study`` (the entry
        left out, ``study/outcome``).

    Raises
    ------
    SurvmetaError
        When the question has no pooled entry, or fewer than
        :data:`MIN_STUDIES_LOO` for the leave-one-out analysis.
    """
    from survmeta.pooling import pool_single_arm_question

    sa = pool_single_arm_question(registry, question, level=level)
    if sa is None:
        raise SurvmetaError(f"question {question}: no [[study.outcome]] entry, nothing to vary")
    measure = sa.measure
    default_tau, default_mu = _default_priors(measure)
    tau = tau_prior or default_tau
    mu = mu_prior or default_mu
    pool = sa.pool
    if measure == "proportion":
        unit = "%"
        labels, events, n = list(pool.labels), list(pool.events), list(pool.n)
        keys = list(sa.keys)

        def fit(drop: int | None, t: str) -> _Fit:
            keep = [i for i in range(len(events)) if i != drop]
            return _fit_proportion([events[i] for i in keep], [n[i] for i in keep],
                                   [labels[i] for i in keep], t, mu, level)
        pooled = list(range(len(events)))
    else:
        unit = pool.time_unit
        studies = list(pool.studies)
        keys = list(sa.keys)
        if pool.log_median is None:
            raise SurvmetaError(f"question {question}: no median with a usable interval, so "
                                "no pooled median to vary (only the median of medians)")

        def fit(drop: int | None, t: str) -> _Fit:
            return _fit_median([s for i, s in enumerate(studies) if i != drop], pool, t, mu, level)
        pooled = [i for i, s in enumerate(studies) if s.included]
    what = "series" if measure == "proportion" else "groups"
    if loo and len(pooled) < MIN_STUDIES_LOO:
        raise SurvmetaError(
            f"question {question}: leave-one-out needs at least {MIN_STUDIES_LOO} pooled "
            f"{what}, it has {len(pooled)}")
    rows = [_row("base", "all entries", "nothing (the primary analysis)", measure, unit,
                 fit(None, tau))]
    if loo:
        for i in pooled:
            name = keys[i]
            rows.append(_row("leave-one-out", f"without {name}", f"{name} left out", measure,
                             unit, fit(i, tau), study=name))
    if priors:
        from survmeta.priors import parse_prior

        base = parse_prior(tau, "tau").spec
        for t in single_tau_grid(measure, tau_grid):
            if t == base:
                continue
            rows.append(_row("prior", f"tau ~ {t}", f"tau ~ {t} instead of {base}", measure,
                             unit, fit(None, t)))
    return pd.DataFrame(rows, columns=list(SINGLE_COLUMNS))


def is_single_group(source, question: str):
    """The registry of ``source`` when ``question`` is a single-group question in it, else None."""
    from survmeta.living.sweep import _is_registry

    if not _is_registry(source):
        return None
    from survmeta.registry import Registry, load

    reg = source if isinstance(source, Registry) else load(source)
    try:
        q = reg.question(question)
    except (KeyError, SurvmetaError):
        return None
    return reg if getattr(q, "measure", "hr") in ("proportion", "median") else None
