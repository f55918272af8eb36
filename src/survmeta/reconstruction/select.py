"""The selector and the effect table.

:func:`estimate_comparison` runs every method on one comparison and picks
one; :func:`reconstruct` does so for a whole registry and returns the effect
table of ``docs/architecture.md``.

Selection rule
--------------
1. A method forced globally (``force=``) wins; then one forced for the
   comparison in the registry (``method = "..."``). A forced method that does
   not apply leaves the comparison without an estimate, with the reason: it
   is never silently replaced.
2. Otherwise the first method, in ``method_order`` (default
   :data:`~survmeta.reconstruction.methods.DEFAULT_ORDER`: reported HR first,
   median ratios last), that applies. ``p_patients`` is not in the default
   order (its SE is a lower bound); list it in ``method_order`` or force it
   to use it.

Every other method that applies is kept in ``alternatives``.

Calibration
-----------
An approximate estimate's SE gets the calibrated extra error SD of its
method (``se = sqrt(se_sampling^2 + se_extra^2)``,
:mod:`survmeta.reconstruction.calibration`). With ``correct_shrinkage=True``
an approximate estimate whose method has a calibrated shrinkage ``b`` is
divided by ``b`` (log HR and sampling SE) and gets the extra SD of corrected
estimates instead; it is flagged ``shrinkage_corrected``. The correction is
off by default: it removes the bias of large effects in the validation set but
over-corrects moderate ones (docs/validation.md, *Bias*), so it is offered as
an option and as a sensitivity analysis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from survmeta.errors import SurvmetaError
from survmeta.reconstruction.calibration import MethodCalibration, correct_shrinkage, load_calibration
from survmeta.reconstruction.methods import (
    APPROXIMATE,
    DEFAULT_ORDER,
    METHODS,
    Estimate,
    NotApplicable,
    run_method,
)
from survmeta.registry.records import Comparison, Registry

from survmeta.settings import Z95  # noqa: E402  (the 95% interval of the effect table)

#: Columns of the effect table, in order (docs/architecture.md).
COLUMNS: tuple[str, ...] = (
    "study",
    "comparison",
    "key",
    "question",
    "endpoint",
    "year",
    "design",
    "n",
    "subgroup_of",
    "log_hr",
    "se",
    "se_sampling",
    "se_extra",
    "hr",
    "hr_lower",
    "hr_upper",
    "method",
    "approximate",
    "flags",
    "p_relation",
    "p_bound",
    "alternatives",
    "assumptions",
    "warnings",
    "poolable",
    "reason",
    "oligo_max_lesions",
    "oligo_max_sites",
    "time_origin",
    "line",
    "rob_tool",
    "rob_overall",
)

_P_PATIENTS_NOTE = (
    "p_patients also applies but is not used by default: its variance counts patients "
    "instead of events, so its SE is only a lower bound"
)


def _check_method(method: str, where: str) -> str:
    if method not in METHODS:
        raise SurvmetaError(
            f"{where}: unknown reconstruction method {method!r}; known methods: {', '.join(METHODS)}"
        )
    return method


def parse_method_order(method_order) -> tuple[str, ...]:
    """Validate a method order (sequence or comma-separated string)."""
    if method_order is None:
        return DEFAULT_ORDER
    if isinstance(method_order, str):
        items = [m.strip() for m in method_order.split(",") if m.strip()]
    else:
        items = list(method_order)
    if not items:
        raise SurvmetaError(f"method order is empty; known methods: {', '.join(METHODS)}")
    seen = []
    for m in items:
        _check_method(m, "method order")
        if m in seen:
            raise SurvmetaError(f"method order: {m!r} listed twice")
        seen.append(m)
    return tuple(seen)


@dataclass
class Selection:
    """The outcome of the selector for one comparison.

    Attributes
    ----------
    comparison : Comparison
    chosen : Estimate or None
        The estimate used (None when no method applies, or the forced one
        does not).
    candidates : dict
        Every method id -> its :class:`Estimate` or the :class:`NotApplicable`
        explaining why not, in :data:`METHODS` order.
    alternatives : list of dict
        ``{"method", "log_hr", "se"}`` for the other methods that apply
        (``se`` includes the calibrated extra error, as in the table).
    reason : str or None
        Why there is no estimate (None when there is one).
    why : str
        Why the chosen method was chosen (or why none was).
    order : tuple of str
        The method order used.
    forced : str or None
        The forced method, if any; ``forced_by`` says by what.
    se_extra : float
        Calibrated extra SD added to the chosen estimate's SE (0 if exact or
        uncalibrated); ``calibrated`` is False for an uncalibrated
        approximate method.
    extras : dict
        Method id -> ``(se_extra, calibrated)`` for every method that applies.
    """

    comparison: Comparison
    chosen: Estimate | None
    candidates: dict
    alternatives: list
    reason: str | None
    why: str
    order: tuple
    forced: str | None = None
    forced_by: str | None = None
    se_extra: float = 0.0
    calibrated: bool = True
    calibration: dict = field(default_factory=dict, repr=False)
    extras: dict = field(default_factory=dict, repr=False)

    @property
    def estimates(self) -> dict[str, Estimate]:
        """The methods that apply, in :data:`METHODS` order."""
        return {m: e for m, e in self.candidates.items() if isinstance(e, Estimate)}

    @property
    def se(self) -> float:
        """SE of the chosen estimate including the extra error (NaN if none)."""
        if self.chosen is None:
            return math.nan
        return math.sqrt(self.chosen.se**2 + self.se_extra**2)


def _extra(method: str, calibration: dict[str, MethodCalibration]) -> tuple[float, bool]:
    """(se_extra, calibrated) for a method."""
    if method not in APPROXIMATE:
        return 0.0, True
    entry = calibration.get(method)
    if entry is None:
        return 0.0, False
    return entry.extra_sd, True


def _calibrated(est: Estimate, calibration: dict[str, MethodCalibration],
                shrinkage: bool) -> tuple[Estimate, float, bool]:
    """(estimate, se_extra, calibrated): the estimate corrected for shrinkage when asked and known."""
    if est.se_extra is not None:  # the method computed its own (joint: the posterior SD)
        return est, est.se_extra, True
    se_extra, calibrated = _extra(est.method, calibration)
    entry = calibration.get(est.method)
    if not shrinkage or est.method not in APPROXIMATE or entry is None or entry.shrinkage is None:
        return est, se_extra, calibrated
    sh = entry.shrinkage
    log_hr, se, se_extra = correct_shrinkage(est.log_hr, est.se, sh)
    lo, hi = sh.log_hr_range
    warnings = est.warnings
    if not lo <= log_hr <= hi:
        warnings += (
            f"the shrinkage correction is extrapolated: the corrected HR {math.exp(log_hr):.2f} "
            f"lies outside the reported HRs it was calibrated on ({math.exp(lo):.2f}-"
            f"{math.exp(hi):.2f})",
        )
    corrected = replace(
        est,
        log_hr=log_hr,
        se=se,
        inputs={**est.inputs, "log_hr_uncorrected": est.log_hr, "se_uncorrected": est.se},
        assumptions=est.assumptions + (
            f"the log HR and its sampling SE are divided by b = {sh.b:.3f} (SE {sh.se:.3f}), the "
            f"shrinkage towards HR = 1 of this method's estimates in {sh.n} validation trials "
            f"(overall survival in randomised trials outside lung cancer, reported HR "
            f"{math.exp(lo):.2f}-{math.exp(hi):.2f}); the uncertainty of b enters the extra SD (delta "
            f"method), as if independent across studies",
        ),
        flags=est.flags + ("shrinkage_corrected",),
        warnings=warnings,
    )
    return corrected, se_extra, True


def _and(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _or(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def _reported_inputs(c: Comparison) -> list[str]:
    """What a comparison reports that a method could use, as short noun phrases."""
    arms = (c.experimental, c.reference)
    both = lambda attr: all(getattr(a, attr) is not None for a in arms)  # noqa: E731
    one = lambda attr: any(getattr(a, attr) is not None for a in arms)  # noqa: E731
    items = []
    if c.hr is not None:
        items.append("an HR" if (c.hr.ci is not None or c.hr.p is not None)
                     else "an HR without a CI or p-value")
    if c.p is not None or (c.hr is not None and c.hr.p is not None):
        items.append("a p-value")
    if c.direction is not None:
        items.append("a direction")
    if c.chisq is not None:
        items.append("a log-rank chi-square")
    if both("events"):
        items.append("events per arm")
    elif one("events"):
        items.append("events for one arm")
    if c.total_events is not None:
        items.append("total events")
    if both("expected"):
        items.append("expected events")
    if both("n"):
        items.append("group sizes")
    if both("median"):
        items.append("both medians" + (" with CIs" if both("ci") else ""))
    elif one("median"):
        items.append("one median")
    return items


def _needed_inputs(c: Comparison) -> str:
    """What else would give an estimate, given what the comparison reports."""
    arms = (c.experimental, c.reference)
    has_p = c.p is not None or (c.hr is not None and c.hr.p is not None)
    has_medians = all(a.median is not None for a in arms)
    if c.hr is not None and c.hr.ci is None and c.hr.p is None:
        return "an SE for the HR needs its CI or a p-value"
    if has_p:
        return "an SE needs events per arm, total events, both medians or an HR"
    if has_medians:
        return "an SE for the ratio of medians needs their CIs, events per arm or a p-value"
    if c.chisq is not None or any(a.events is not None for a in arms) or c.total_events is not None:
        return "an estimate needs a p-value or chi-square together with events per arm"
    return "an estimate needs an HR, a p-value with events, or both medians"


def _no_estimate_reason(candidates: dict, order: tuple, comparison: Comparison) -> str:
    """One short sentence saying why the methods in ``order`` give no estimate.

    A reported input that cannot be used ("NS", a median not reached, no
    direction) is stated with the methods it stops. When every method simply
    lacks an input, the sentence says what *is* reported and what an SE would
    need; the per-method list of missing inputs is in :func:`explain`.
    """
    by_reason: dict[str, list[str]] = {}
    for m in order:
        res = candidates[m]
        if isinstance(res, NotApplicable) and not res.missing:
            by_reason.setdefault(res.reason, []).append(m)
    if not by_reason:
        reported = _reported_inputs(comparison)
        if not reported:
            text = "no estimate: nothing usable is reported (no HR, p-value, events or medians)"
        else:
            single = len(reported) == 1 and reported[0].startswith(("a ", "an ", "one "))
            verb = "is" if single else "are"
            text = f"no estimate: only {_and(reported)} {verb} reported; {_needed_inputs(comparison)}"
    else:
        text = "no estimate: " + "; ".join(
            f"{reason} ({', '.join(ms)})" for reason, ms in by_reason.items()
        )
    if "p_patients" not in order and isinstance(candidates.get("p_patients"), Estimate):
        text += f"; {_P_PATIENTS_NOTE}"
    return text


def estimate_comparison(
    comparison: Comparison,
    method_order=None,
    force: str | None = None,
    calibration: dict[str, MethodCalibration] | None = None,
    correct_shrinkage: bool = False,
) -> Selection:
    """Run every method on a comparison and pick one.

    Parameters
    ----------
    comparison : Comparison
    method_order : sequence of str or comma-separated str, optional
        Order of preference; default :data:`DEFAULT_ORDER`.
    force : str, optional
        Use this method (overrides ``comparison.method`` and the order).
    calibration : dict, optional
        Calibration entries; default the bundled file.
    correct_shrinkage : bool
        Divide approximate estimates by their method's calibrated shrinkage
        (module docstring, *Calibration*); chosen and alternatives alike.

    Returns
    -------
    Selection

    Raises
    ------
    SurvmetaError
        Unknown method ids (the message lists the known ones), or reported
        numbers no method can accept (a CI in the wrong order, ...).
    """
    order = parse_method_order(method_order)
    cal = load_calibration() if calibration is None else calibration
    forced, forced_by = None, None
    if force is not None:
        forced, forced_by = _check_method(force, "force"), "globally"
    elif comparison.method is not None:
        forced = _check_method(comparison.method, f"comparison {comparison.key}, method")
        forced_by = "by the registry (method = ...)"

    candidates: dict = {}
    extras: dict[str, tuple[float, bool]] = {}
    for m in METHODS:
        try:
            est = run_method(m, comparison)
        except NotApplicable as exc:
            candidates[m] = exc
            continue
        est, extra, calibrated = _calibrated(est, cal, correct_shrinkage)
        candidates[m] = est
        extras[m] = (extra, calibrated)

    chosen: Estimate | None = None
    reason: str | None = None
    if forced is not None:
        res = candidates[forced]
        if isinstance(res, Estimate):
            chosen = res
            why = f"{forced} forced {forced_by}"
        else:
            reason = f"forced method {forced} does not apply: {res.reason}"
            why = f"{forced} forced {forced_by}, but it does not apply"
    else:
        for m in order:
            if isinstance(candidates[m], Estimate):
                chosen = candidates[m]
                break
        if chosen is not None:
            skipped = [m for m in order[: order.index(chosen.method)]]
            why = f"{chosen.method} is the first method in the order that the reported data allow"
            if skipped:
                why += f" (earlier in the order, {', '.join(skipped)} did not apply)"
        else:
            reason = _no_estimate_reason(candidates, order, comparison)
            why = "no method in the order applies"

    se_extra, calibrated = (0.0, True) if chosen is None else extras[chosen.method]
    alternatives = []
    for m, est in candidates.items():
        if isinstance(est, Estimate) and (chosen is None or m != chosen.method):
            alternatives.append(
                {"method": m, "log_hr": est.log_hr, "se": math.sqrt(est.se**2 + extras[m][0]**2)}
            )
    return Selection(
        comparison=comparison,
        chosen=chosen,
        candidates=candidates,
        alternatives=alternatives,
        reason=reason,
        why=why,
        order=order,
        forced=forced,
        forced_by=forced_by,
        se_extra=se_extra,
        calibrated=calibrated,
        calibration=cal,
        extras=extras,
    )


def _row(study, comparison: Comparison, sel: Selection) -> dict:
    ne, nr = comparison.experimental.n, comparison.reference.n
    n = float(ne + nr) if ne is not None and nr is not None else math.nan
    rob = getattr(comparison, "risk_of_bias", None)
    row = {
        "study": study.id,
        "comparison": comparison.id,
        "key": comparison.key,
        "question": comparison.question,
        "endpoint": comparison.endpoint,
        "year": study.year,
        "design": study.design,
        "n": n,
        "subgroup_of": comparison.subgroup_of,
        "log_hr": math.nan,
        "se": math.nan,
        "se_sampling": math.nan,
        "se_extra": math.nan,
        "hr": math.nan,
        "hr_lower": math.nan,
        "hr_upper": math.nan,
        "method": None,
        "approximate": False,
        "flags": (),
        "p_relation": None,
        "p_bound": math.nan,
        "alternatives": list(sel.alternatives),
        "assumptions": (),
        "warnings": (),
        "poolable": False,
        "reason": sel.reason,
        # Comparability fields (registry), for moderators and `sensitivity --subset`:
        "oligo_max_lesions": getattr(comparison, "oligo_max_lesions", None),
        "oligo_max_sites": getattr(comparison, "oligo_max_sites", None),
        "time_origin": getattr(comparison, "time_origin", None),
        "line": getattr(comparison, "therapy_line", None),
        # Risk of bias (registry; the domain judgements are on comparison.risk_of_bias):
        "rob_tool": rob.tool if rob is not None else None,
        "rob_overall": rob.overall if rob is not None else None,
    }
    if not comparison.poolable:
        # The registry keeps it out of pooling; show everything that could be computed.
        row["reason"] = comparison.status
        row["alternatives"] = _all_estimates(sel)
        return row
    est = sel.chosen
    if est is None:
        return row
    se = sel.se
    flags = list(est.flags)
    if not sel.calibrated:
        flags.append("uncalibrated")
    row.update(
        log_hr=est.log_hr,
        se=se,
        se_sampling=est.se,
        se_extra=sel.se_extra,
        hr=math.exp(est.log_hr),
        hr_lower=math.exp(est.log_hr - Z95 * se),
        hr_upper=math.exp(est.log_hr + Z95 * se),
        method=est.method,
        approximate=est.method in APPROXIMATE,
        flags=tuple(flags),
        p_relation=est.p_relation,
        p_bound=math.nan if est.p_bound is None else float(est.p_bound),
        assumptions=est.assumptions,
        warnings=est.warnings,
        poolable=True,
        reason=None,
    )
    return row


def _all_estimates(sel: Selection) -> list[dict]:
    out = []
    for m, est in sel.estimates.items():
        extra = sel.extras[m][0] if m in sel.extras else _extra(m, sel.calibration)[0]
        out.append({"method": m, "log_hr": est.log_hr, "se": math.sqrt(est.se**2 + extra**2)})
    return out


def reconstruct(
    registry: Registry,
    question: str | None = None,
    method_order=None,
    force: str | None = None,
    correct_shrinkage: bool = False,
) -> pd.DataFrame:
    """The effect table: one row per comparison, in registry order.

    Parameters
    ----------
    registry : Registry
        A validated registry (:func:`survmeta.registry.load_registry`).
    question : str, optional
        Only the comparisons of this question.
    method_order : sequence of str or comma-separated str, optional
        Order of preference of the methods (default :data:`DEFAULT_ORDER`).
    force : str, optional
        Use this method for every comparison (a comparison where it does not
        apply gets no estimate and says why).
    correct_shrinkage : bool
        Divide approximate estimates by their method's calibrated shrinkage
        towards HR = 1 (module docstring, *Calibration*); flagged
        ``shrinkage_corrected``. Off by default.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`COLUMNS` (docs/architecture.md, "Effect table").
        Not-poolable rows have NaN ``log_hr``/``se`` and a ``reason``.

    Raises
    ------
    SurvmetaError
        Unknown question or method ids.
    """
    if question is not None:
        known = [q.id for q in registry.questions]
        if question not in known:
            raise SurvmetaError(
                f"unknown question {question!r}; known questions: {', '.join(known) or '(none)'}"
            )
    order = parse_method_order(method_order)
    if force is not None:
        _check_method(force, "force")
    cal = load_calibration()
    rows = []
    for study in registry.studies:
        for c in study.comparisons:
            if question is not None and c.question != question:
                continue
            try:
                sel = estimate_comparison(c, method_order=order, force=force, calibration=cal,
                                          correct_shrinkage=correct_shrinkage)
            except (ArithmeticError, ValueError) as exc:
                _refuse(registry.path, c, f"the numbers cannot be reconstructed ({exc}): check "
                                          "them (a CI level near 0, a value on the wrong scale)")
            if c.poolable and sel.chosen is not None:
                _check_usable(registry.path, c, sel.chosen.method, sel.chosen.log_hr, sel.se)
            rows.append(_row(study, c, sel))
    return _frame(rows)


def _check_usable(path, c: Comparison, method: str, log_hr: float, se: float) -> None:
    """Refuse an estimate that no pooling can use, naming where it comes from.

    Valid registry values can still combine into a log HR or SE outside
    :data:`~survmeta.registry.schema.LOG_HR_LIMIT` / :data:`~survmeta.registry.schema.SE_RANGE`
    (a CI level near 0, medians of 1e-300 and 1e300): the HR, its interval
    and the pooling weights would overflow or be meaningless.
    """
    from survmeta.registry.schema import LOG_HR_LIMIT, SE_RANGE

    lo, hi = SE_RANGE
    if math.isfinite(log_hr) and math.isfinite(se) and abs(log_hr) <= LOG_HR_LIMIT and lo <= se <= hi:
        return
    _refuse(path, c, f"method {method} gives log HR {log_hr:.4g} with SE {se:.4g}, outside what "
                     f"can be pooled (|log HR| at most {LOG_HR_LIMIT:g}, SE in {lo:g}..{hi:g}): "
                     "check the numbers it uses (a CI level, a median or a variance typed on the "
                     "wrong scale)")


def _refuse(path, c: Comparison, message: str):
    """Raise a located :class:`~survmeta.errors.RegistryError` about comparison ``c``."""
    from survmeta.errors import Problem, RegistryError

    raise RegistryError([Problem(message, path=path, line=c.line, study=c.study_id,
                                 comparison=c.id, field="method")]) from None


_FLOAT_COLUMNS = ("n", "log_hr", "se", "se_sampling", "se_extra", "hr", "hr_lower", "hr_upper",
                  "p_bound")


def _frame(rows: list[dict]) -> pd.DataFrame:
    """Effect-table DataFrame with stable dtypes (floats, bool, int year, objects)."""
    data: dict[str, Any] = {}
    for col in COLUMNS:  # numeric columns as arrays, not a Series each
        values = [r[col] for r in rows]
        if col in _FLOAT_COLUMNS:
            data[col] = np.array([np.nan if v is None else v for v in values], dtype=float)
        elif col == "poolable":
            data[col] = np.array([bool(v) for v in values], dtype=bool)
        elif col == "approximate":  # no estimate: not approximate
            data[col] = np.array([v is not None and bool(v) for v in values], dtype=bool)
        elif col in ("year", "oligo_max_lesions", "oligo_max_sites", "line"):
            data[col] = pd.array(values, dtype="Int64")  # nullable: effects CSVs carry no year
        else:
            data[col] = pd.Series(values, dtype=object)  # no str inference: stays object
    return pd.DataFrame(data, columns=list(COLUMNS))
