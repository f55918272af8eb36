"""Leave-one-out and cumulative re-pooling of one result, as metafor's ``leave1out`` and ``cumul``.

:meth:`survmeta.results.PoolResult.leave1out` and :meth:`~survmeta.results.PoolResult.cumul`
re-pool the same question with the same engine, priors, level and seed, dropping each pooled
comparison in turn or adding them in order (by year unless an order is given). The subsets are
those of :mod:`survmeta.living.sweep` (the ``sensitivity`` command's leave-one-out and
cumulative variants).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from survmeta.errors import SurvmetaError

__all__ = ["Reanalysis", "ReanalysisRow", "cumul", "leave1out"]

_COLUMNS = ("label", "study", "k", "hr", "hr_lower", "hr_upper", "mu", "tau", "tau_lower",
            "tau_upper", "p_hr_below_1")


@dataclass(frozen=True)
class ReanalysisRow:
    """One re-pooled subset.

    Attributes
    ----------
    label : str
        ``"without <study>"`` (leave-one-out) or ``"+ <study>"`` (cumulative).
    study : str
        Key of the comparison left out or added.
    k : int
        Comparisons pooled.
    hr, hr_lower, hr_upper : float
        Posterior median pooled HR and its equal-tailed interval at ``level``.
    mu : float
        Posterior median pooled log HR.
    tau, tau_lower, tau_upper : float
        Posterior median of tau and its equal-tailed interval.
    p_hr_below_1 : float
        Posterior probability that HR < 1.
    """

    label: str
    study: str
    k: int
    hr: float
    hr_lower: float
    hr_upper: float
    mu: float
    tau: float
    tau_lower: float
    tau_upper: float
    p_hr_below_1: float


@dataclass(frozen=True)
class Reanalysis:
    """Leave-one-out or cumulative re-pooling of one question.

    Attributes
    ----------
    kind : {"leave-one-out", "cumulative"}
    question : str
        Question id.
    engine : str
        Engine of the original result (and of every refit).
    priors : tuple of str
        ``(tau prior, mu prior)`` specs.
    level : float
        Interval level.
    rows : tuple of ReanalysisRow
        One per subset, in the order fitted.
    results : tuple of PoolResult
        The refits themselves (same order as ``rows``).
    """

    kind: str
    question: str
    engine: str
    priors: tuple[str, str]
    level: float
    rows: tuple[ReanalysisRow, ...]
    results: tuple[Any, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per subset, the columns of :class:`ReanalysisRow` (numbers unrounded)."""
        df = pd.DataFrame([[getattr(r, c) for c in _COLUMNS] for r in self.rows],
                          columns=list(_COLUMNS))
        df.attrs["level"] = self.level
        df.attrs["kind"] = self.kind
        return df

    def summary(self) -> pd.DataFrame:
        """Readable table: HR [interval], tau and P(HR < 1) per subset, as strings."""
        from survmeta._format import fmt_hr, fmt_level, fmt_prob

        head = f"HR [{fmt_level(self.level)} CrI]"
        df = pd.DataFrame({
            "subset": [r.label for r in self.rows],
            "k": [r.k for r in self.rows],
            head: [f"{fmt_hr(r.hr)} [{fmt_hr(r.hr_lower)}, {fmt_hr(r.hr_upper)}]"
                   for r in self.rows],
            "tau": [f"{r.tau:.3f}" for r in self.rows],
            "P(HR<1)": [fmt_prob(r.p_hr_below_1) for r in self.rows],
        })
        return df.set_index("subset")

    def to_dict(self) -> dict:
        """JSON-ready description (no refits)."""
        return {"kind": self.kind, "question": self.question, "engine": self.engine,
                "priors": {"tau": self.priors[0], "mu": self.priors[1]}, "level": self.level,
                "rows": [{c: _plain(getattr(r, c)) for c in _COLUMNS} for r in self.rows]}


def _plain(x):
    if isinstance(x, (np.floating, float)):
        return None if not math.isfinite(float(x)) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    return x


def _refit(result, rows: pd.DataFrame):
    from survmeta.pooling import pool_question

    return pool_question(rows.reset_index(drop=True), result.question, engine=result.engine,
                         tau_prior=result.priors["tau"], mu_prior=result.priors["mu"],
                         level=result.level, seed=result.seed)


def _row(label: str, study: str, fit) -> ReanalysisRow:
    hr, tau, mu = fit.stats["hr"], fit.stats["tau"], fit.stats["mu"]
    return ReanalysisRow(label, study, fit.k, float(hr.median), float(hr.eti.lower),
                         float(hr.eti.upper), float(mu.median), float(tau.median),
                         float(tau.eti.lower), float(tau.eti.upper), float(fit.p_hr_below_1))


def _base_rows(result) -> pd.DataFrame:
    if result.engine not in ("exact", "mcmc"):
        raise SurvmetaError(f"question {result.id}: leave1out/cumul re-pool one question; "
                            f"a {result.engine!r} result cannot be re-pooled alone")
    extra = [c for c in ("theta_mean", "theta_lower", "theta_upper", "weight")
             if c in result.effects]
    return result.effects.drop(columns=extra).reset_index(drop=True)


def _finish(kind, result, rows, fits) -> Reanalysis:
    return Reanalysis(kind, result.id, result.engine,
                      (str(result.priors["tau"]), str(result.priors["mu"])),
                      result.level, tuple(rows), tuple(fits))


def leave1out(result) -> Reanalysis:
    """Re-pool ``result``'s question once without each pooled comparison.

    Parameters
    ----------
    result : PoolResult
        An ``exact`` or ``mcmc`` result with at least two comparisons.

    Returns
    -------
    Reanalysis
        ``kind = "leave-one-out"``, one row per comparison in the order pooled.
    """
    from survmeta.living.sweep import _loo

    base = _base_rows(result)
    if len(base) < 2:
        raise SurvmetaError(f"question {result.id}: leave-one-out needs at least two comparisons")
    rows, fits = [], []
    for v in _loo(base, str(result.priors["tau"]), str(result.priors["mu"])):
        fit = _refit(result, v.rows)
        rows.append(_row(v.variant, str(v.study), fit))
        fits.append(fit)
    return _finish("leave-one-out", result, rows, fits)


def _order(base: pd.DataFrame, order) -> np.ndarray:
    from survmeta.living.sweep import _year_order

    if order is None or (isinstance(order, str) and order == "year"):
        return _year_order(base)
    if isinstance(order, str):
        if order not in base:
            raise SurvmetaError(f"cumul: no column {order!r} to order by")
        return np.argsort(base[order].to_numpy(), kind="stable")
    wanted = list(order)
    pos = {}
    for col in ("key", "study", "label"):
        if col in base:
            for i, v in enumerate(base[col]):
                pos.setdefault(str(v), i)
    try:
        idx = [pos[str(w)] for w in wanted]
    except KeyError as exc:
        raise SurvmetaError(f"cumul: {exc.args[0]!r} is not a pooled comparison") from None
    if sorted(idx) != list(range(len(base))):
        raise SurvmetaError("cumul: the order must name every pooled comparison once")
    return np.asarray(idx)


def cumul(result, order: str | Sequence[str] | None = "year") -> Reanalysis:
    """Re-pool ``result``'s question adding its comparisons one at a time.

    Parameters
    ----------
    result : PoolResult
        An ``exact`` or ``mcmc`` result.
    order : "year", a column name, or a sequence of keys / studies / labels
        The order of adding (default: by year, unknown years last, ties as pooled).

    Returns
    -------
    Reanalysis
        ``kind = "cumulative"``, row ``n`` pools the first ``n`` comparisons.
    """
    base = _base_rows(result)
    idx = _order(base, order)
    rows, fits = [], []
    for n in range(1, len(base) + 1):
        added = base.iloc[idx[n - 1]]
        fit = _refit(result, base.iloc[idx[:n]])
        rows.append(_row(f"+ {added['key']}", str(added["key"]), fit))
        fits.append(fit)
    return _finish("cumulative", result, rows, fits)
