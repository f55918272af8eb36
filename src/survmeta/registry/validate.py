"""Validation rules that look at more than one key.

The readers in :mod:`survmeta.registry.fields` check each value on its own
(type, sign, vocabulary). The rules here relate values to each other: a CI
and its estimate, events and n, the two arms of a comparison, and ids across
the whole registry. Each rule records problems through a
:class:`~survmeta.registry.context.Where`; none raises.

The CI-centring warning
-----------------------
A hazard ratio's Wald CI is symmetric on the log scale, so the log estimate
should sit halfway between the log bounds. Following metafor's ``conv.wald``
(which flags a row when the estimate is off the midpoint by more than 10% of
the CI width), :func:`check_hr_centring` warns when::

    |log(est) - (log(lo) + log(hi)) / 2| > 0.1 * (log(hi) - log(lo)) + slack

where ``slack`` is the largest displacement the printed rounding alone can
cause: half a unit in the last printed decimal of each number (at least two
decimals are assumed), taken on the log scale, for the estimate plus the mean
of the two bounds. A mistyped bound or an HR paired with the wrong CI trips
the rule; a correct HR rounded to two decimals does not.

The p-value warning
-------------------
A hazard ratio's printed p should be the Wald p its CI implies::

    SE = (log(hi) - log(lo)) / (2 z_level),   z = |log(est)| / SE,   p = 2 (1 - Phi(z))

:func:`check_hr_p` warns when the printed ``hr.p`` cannot be that p. The
tolerance comes from the rounding alone: every printed number stands for any
value within half a unit of its last printed decimal (at least two decimals
for the HR and its bounds, as for the centring rule; as many as printed for
p). The implied p is computed over that whole box (``z`` is largest with the
largest ``|log est|`` and the narrowest CI, smallest with the smallest
``|log est|`` and the widest CI), and the warning fires only when that range
and the printed p's own rounding range do not meet. Rounding therefore can
never trip it (Zhou 2023: 2.33 (1.21, 4.47) p 0.011 and 0.45 (0.21, 0.97)
p 0.04 pass), while a p from another test does (Zhou 2023, bone metastasis:
1.505 (1.036, 2.186) implies p 0.031-0.033, printed 0.0195). A p printed as
a bound ("<0.001") warns only when the whole implied range is beyond the
bound; a one-sided p is compared as its two-sided equivalent.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from statistics import NormalDist
from typing import Iterable

from survmeta.registry.context import Where
from survmeta.registry.records import NR, Arm, Comparison, Outcome, PValue, Question
from survmeta.registry.schema import LOG_HR_LIMIT, SE_RANGE, did_you_mean

__all__ = [
    "CENTRING_TOLERANCE",
    "centring_discrepancy",
    "check_ci",
    "check_hr_centring",
    "check_hr_p",
    "check_effect_range",
    "check_logrank_range",
    "effect_range_problems",
    "check_one_sided_hr_ci",
    "implied_p_range",
    "printed_p_range",
    "check_events",
    "check_outcome_events",
    "check_measures",
    "check_arm_labels",
    "check_duplicate_ids",
    "check_question_refs",
    "check_subgroups",
    "check_unused_questions",
    "check_arm_totals",
    "check_total_events",
]

#: Fraction of the log-CI width the log estimate may be off the midpoint (metafor's ``cifac``).
CENTRING_TOLERANCE = 0.1


def _fmt(x) -> str:
    return "NR" if x is NR else f"{x:g}"


def check_ci(where: Where, key: str, ci, estimate, estimate_key: str, *,
             allow_equal_bounds: bool) -> bool:
    """Bounds in order and the estimate inside them.

    Parameters
    ----------
    where : Where
        The table holding the CI (an arm or ``hr``).
    key : str
        Field name of the CI (``"ci"``).
    ci : tuple or None
        ``(lower, upper)``; the upper bound may be :data:`NR` (infinite).
    estimate : float or NR or None
        The point estimate the CI belongs to, if given.
    estimate_key : str
        Field of the estimate (``"median"`` or ``"estimate"``); an estimate
        outside the CI is reported on it.
    allow_equal_bounds : bool
        Whether ``lower == upper`` may stand (a Kaplan-Meier median CI can
        collapse; a hazard ratio CI cannot).

    Returns
    -------
    bool
        True when no error was found.
    """
    if ci is None:
        return True
    lower, upper = ci
    if upper is not NR and (lower > upper or (lower == upper and not allow_equal_bounds)):
        where.error(key, f"CI bounds out of order: lower {_fmt(lower)} is not below upper {_fmt(upper)}")
        return False
    if estimate is None:
        return True
    below = estimate is not NR and estimate < lower
    above = upper is not NR and (estimate is NR or estimate > upper)
    if below or above:
        where.error(estimate_key, f"{_fmt(estimate)} lies outside its CI "
                                  f"[{_fmt(lower)}, {_fmt(upper)}]")
        return False
    return True


def check_one_sided_hr_ci(where: Where, key: str, estimate, ci) -> bool:
    """An HR CI with an "NR" upper bound needs its lower bound below the estimate.

    The SE then comes from the lower half-width alone,
    ``(log est - log lower) / z``, which is zero (an infinitely precise
    estimate) when the lower bound equals the estimate.

    Returns
    -------
    bool
        True when no error was found.
    """
    if estimate is None or ci is None or ci[1] is not NR or ci[0] < estimate:
        return True
    where.error(key, f'lower bound {_fmt(ci[0])} is not below the HR {_fmt(estimate)}: with an '
                     '"NR" upper bound the SE comes from the lower half-width alone, which is '
                     "zero here; check the numbers")
    return False


def effect_range_problems(log_hr: float | None, se: float | None) -> list[tuple[str, str]]:
    """``(field, message)`` for a log HR or SE that no pooling can use.

    Limits: ``|log HR| <= LOG_HR_LIMIT`` and ``SE_RANGE[0] <= SE <= SE_RANGE[1]``
    (see :mod:`survmeta.registry.schema`). Shared by ``effect = {...}`` and
    the effects CSV.
    """
    out = []
    if log_hr is not None and abs(log_hr) > LOG_HR_LIMIT:
        out.append(("log_hr", f"|log HR| = {abs(log_hr):g} is beyond {LOG_HR_LIMIT:g} (an HR of "
                              f"e^{LOG_HR_LIMIT:g}): check that it is a log hazard ratio"))
    lo, hi = SE_RANGE
    if se is not None and se < lo:
        out.append(("se", f"{se:g} is below {lo:g}: no study is that precise (it would take "
                          "trillions of events); check the value"))
    elif se is not None and se > hi:
        out.append(("se", f"{se:g} is above {hi:g}: the 95% interval would span e^-{1.96 * hi:g} "
                          "to e^{:g}; check that it is the SE of the log HR (not a variance or "
                          "a CI width)".format(1.96 * hi)))
    return out


def check_effect_range(where: Where, log_hr: float | None, se: float | None) -> None:
    """Errors for an ``effect = { log_hr, se }`` outside the poolable range."""
    for key, message in effect_range_problems(log_hr, se):
        where.error(key, message)


def check_logrank_range(where: Where, o_minus_e: float | None, variance: float | None) -> None:
    """Errors for a log-rank O - E and V whose Peto estimate cannot be pooled.

    The estimate is ``(O - E) / V`` with SE ``1 / sqrt(V)``.
    """
    if variance is None:
        return
    log_hr = None if o_minus_e is None else o_minus_e / variance
    for key, message in effect_range_problems(log_hr, 1.0 / math.sqrt(variance)):
        field = "variance" if key == "se" else "o_minus_e"
        where.error(field, f"the Peto estimate (O - E) / V, SE 1 / sqrt(V): {message}")


def _printed_decimals(x: float) -> int:
    """Decimals of the shortest representation of ``x``, at least 2."""
    exponent = Decimal(repr(float(x))).normalize().as_tuple().exponent
    return max(2, -int(exponent))


def _rounding_slack(x: float) -> float:
    """Largest log-scale displacement half a unit in the last printed decimal of ``x`` can cause.

    The unrounded value lies in ``[x - u, x + u]``; the larger log distance
    is ``log(x / (x - u))`` (``u < x`` for any positive printed number).
    """
    half_unit = 0.5 * 10.0 ** (-_printed_decimals(x))
    return -math.log1p(-half_unit / x)


def centring_discrepancy(estimate: float, lower: float, upper: float) -> tuple[float, float]:
    """How far a log HR is off the middle of its log CI, and what is tolerated.

    Parameters
    ----------
    estimate, lower, upper : float
        Hazard ratio and CI bounds as printed (positive, lower < upper).

    Returns
    -------
    (distance, tolerance) : tuple of float
        ``|log est - midpoint|`` and
        ``CENTRING_TOLERANCE * log-width + rounding slack``; the CI is
        called off-centre when ``distance > tolerance``.
    """
    lo, hi = math.log(lower), math.log(upper)
    distance = abs(math.log(estimate) - (lo + hi) / 2)
    slack = _rounding_slack(estimate) + (_rounding_slack(lower) + _rounding_slack(upper)) / 2
    return distance, CENTRING_TOLERANCE * (hi - lo) + slack


def check_hr_centring(where: Where, key: str, estimate, ci) -> None:
    """Warn when a hazard ratio is not near the log-scale middle of its CI."""
    if estimate is None or ci is None or ci[1] is NR or not ci[0] < ci[1]:
        return
    distance, tolerance = centring_discrepancy(estimate, ci[0], ci[1])
    if distance > tolerance:
        width = math.log(ci[1]) - math.log(ci[0])
        where.warn(key, f"CI [{_fmt(ci[0])}, {_fmt(ci[1])}] is not centred on the estimate "
                        f"{_fmt(estimate)} on the log scale (off by {distance / width:.0%} of its "
                        f"width; more than {CENTRING_TOLERANCE:.0%} plus rounding): check the "
                        "numbers, or the CI is not a Wald interval")


def check_events(where: Where, arm: Arm) -> None:
    """Events cannot exceed the number of patients."""
    if arm.events is not None and arm.n is not None and arm.events > arm.n:
        where.error("events", f"events ({arm.events}) exceed n ({arm.n})")


def check_outcome_events(where: Where, events: int | None, n: int | None) -> None:
    """The events of a single-group proportion cannot exceed its n."""
    if events is not None and n is not None and events > n:
        where.error("events", f"events ({events}) exceed n ({n})")


def check_measures(questions: Iterable[Question], comparisons: Iterable[tuple[Comparison, Where]],
                   outcomes: Iterable[tuple[Outcome, Where]]) -> None:
    """Each entry must suit its question's ``measure``.

    A comparison (two arms, a hazard ratio) belongs under an ``"hr"``
    question; a proportion outcome under a ``"proportion"`` question and a
    median outcome under a ``"median"`` one. Unknown questions are reported
    by :func:`check_question_refs`.
    """
    measure = {q.id: q.measure for q in questions}
    for comp, where in comparisons:
        m = measure.get(comp.question)
        if m is not None and m != "hr":
            where.error("question", f'question "{comp.question}" pools {m}s (measure = "{m}"): '
                                    "a two-arm comparison belongs under a hazard-ratio question; "
                                    "write a single-group result as [[study.outcome]]")
    for out, where in outcomes:
        m = measure.get(out.question)
        if m is None or out.kind is None or m == out.kind:
            continue
        wanted = "hazard ratios" if m == "hr" else f"{m}s"
        where.error("question", f'a {out.kind} outcome under question "{out.question}", which '
                                f'pools {wanted} (measure = "{m}")')


def check_arm_labels(where: Where, experimental: Arm | None, reference: Arm | None) -> None:
    """The two arms of a comparison must be different groups."""
    if experimental is None or reference is None:
        return
    if experimental.label is None or reference.label is None:
        return
    if experimental.label.strip().lower() == reference.label.strip().lower():
        where.at("reference").error(
            "label", f'same label as experimental.label ("{reference.label}"): '
            "a comparison needs two different groups")


def check_duplicate_ids(entries: Iterable[tuple[str | None, Where]], kind: str) -> None:
    """Report every id that was already used by an earlier entry.

    Parameters
    ----------
    entries : iterable of (id, Where)
        In file order; None ids (already reported) are skipped.
    kind : str
        ``"question"``, ``"study"`` or ``"comparison"``, for the message.
    """
    first: dict[str, Where] = {}
    for ident, where in entries:
        if ident is None:
            continue
        if ident in first:
            earlier = first[ident].line("id")
            at = f" (first used on line {earlier})" if earlier is not None else ""
            where.error("id", f'duplicate {kind} id "{ident}"{at}')
        else:
            first[ident] = where


def check_question_refs(comparisons: Iterable[tuple[Comparison | Outcome, Where]],
                        question_ids: set[str]) -> None:
    """Each comparison (or single-group outcome) must name a question defined in the registry."""
    for comp, where in comparisons:
        if comp.question is not None and comp.question not in question_ids:
            where.error("question", f'unknown question "{comp.question}"'
                                    f"{did_you_mean(comp.question, sorted(question_ids))}")


def check_subgroups(comparisons: list[tuple[Comparison, Where]]) -> None:
    """``subgroup_of`` must name another comparison of the same study, without cycles."""
    ids = {c.id for c, _ in comparisons if c.id is not None}
    parent = {c.id: c.subgroup_of for c, _ in comparisons if c.id is not None}
    for comp, where in comparisons:
        ref = comp.subgroup_of
        if ref is None:
            continue
        if ref == comp.id:
            where.error("subgroup_of", "a comparison cannot be a subgroup of itself")
        elif ref not in ids:
            where.error("subgroup_of", f'no comparison "{ref}" in this study'
                                       f"{did_you_mean(ref, sorted(ids))}")
        elif _in_cycle(comp.id, parent):
            where.error("subgroup_of", f'subgroup_of chain starting at "{comp.id}" loops back to it')


def _in_cycle(start: str, parent: dict) -> bool:
    seen = set()
    node = parent.get(start)
    while node is not None and node not in seen:
        if node == start:
            return True
        seen.add(node)
        node = parent.get(node)
    return False


def check_unused_questions(questions: Iterable[tuple[str | None, Where]], used: set[str]) -> None:
    """Warn about a question no comparison refers to."""
    for qid, where in questions:
        if qid is not None and qid not in used:
            where.warn("id", f'no comparison refers to question "{qid}"')


def check_arm_totals(where: Where, comp: Comparison, study_n: int | None) -> None:
    """Warn when the arms of a comparison hold more patients than the study."""
    arms = (comp.experimental, comp.reference)
    ns = [a.n for a in arms if a is not None and a.n is not None]
    if study_n is None or len(ns) < len(arms):
        return
    total = sum(ns)
    if total > study_n:
        where.at("experimental").warn(
            "n", f"the arms hold {total} patients, more than the study's n = {study_n}")


def check_total_events(where: Where, total_events: int | None, experimental: Arm | None,
                       reference: Arm | None) -> None:
    """Total events cannot exceed the patients of both arms; they should match the arms' events.

    An error when ``total_events`` is above the sum of the arms' ``n`` (both
    known); a warning when both arms print their events and these do not add
    up to ``total_events``.
    """
    if total_events is None or experimental is None or reference is None:
        return
    arms = (experimental, reference)
    ns = [a.n for a in arms if a.n is not None]
    if len(ns) == len(arms):
        n = sum(ns)
        if total_events > n:
            where.error("total_events", f"total events ({total_events}) exceed the patients of "
                                        f"both arms ({experimental.n} + {reference.n} = {n})")
            return
    events = [a.events for a in arms if a.events is not None]
    if len(events) == len(arms):
        d = sum(events)
        if d != total_events:
            where.warn("total_events", f"total events ({total_events}) differ from the arms' events "
                                       f"({experimental.events} + {reference.events} = {d})")


def _z_of_level(level: float) -> float:
    """Normal quantile of a two-sided confidence level (1.959964 for 0.95)."""
    return NormalDist().inv_cdf(1.0 - (1.0 - level) / 2.0)


def _two_sided_p(z: float) -> float:
    """``2 (1 - Phi(|z|))`` without scipy (the registry layer stays light)."""
    return math.erfc(abs(z) / math.sqrt(2.0))


_P_NUMBER = re.compile(r"(\d*\.?\d+(?:[eE][-+]?\d+)?)")


def _half_unit_of_text(text: str, value: float) -> float:
    """Half a unit in the last decimal of a p-value as printed ("0.0195" -> 0.00005)."""
    m = _P_NUMBER.search(text or "")
    try:
        exponent = Decimal(m.group(1) if m else repr(float(value))).as_tuple().exponent
    except InvalidOperation:
        exponent = Decimal(repr(float(value))).as_tuple().exponent
    return 0.5 * 10.0 ** int(exponent)


def printed_p_range(p: PValue) -> tuple[float, float] | None:
    """The two-sided p-values a printed p can stand for, or None for "NS".

    "=": the value plus or minus half a unit in its last printed decimal;
    "<": (0, bound]; ">": [bound, 1]. A one-sided p is turned into its
    two-sided equivalent ``2 min(p, 1 - p)``.
    """
    if p.value is None or p.relation == "NS":
        return None
    v = float(p.value)
    if p.relation == "<":
        lo, hi = 0.0, v
    elif p.relation == ">":
        lo, hi = v, 1.0
    else:
        u = _half_unit_of_text(p.text, v)
        lo, hi = max(0.0, v - u), min(1.0, v + u)
    if p.sided == 1:
        if hi <= 0.5:
            lo, hi = 2 * lo, 2 * hi
        elif lo >= 0.5:
            lo, hi = 2 * (1 - hi), 2 * (1 - lo)
        else:
            lo, hi = min(2 * lo, 2 * (1 - hi)), 1.0
    return lo, hi


def implied_p_range(estimate: float, lower: float, upper: float,
                    level: float = 0.95) -> tuple[float, float] | None:
    """Range of the two-sided Wald p implied by a printed HR and CI.

    Every printed number may be off by half a unit in its last printed
    decimal (at least two decimals); the range covers every combination.
    None when the rounding leaves the CI without a usable width.

    Returns
    -------
    (p_low, p_high) : tuple of float
    """
    z_level = _z_of_level(level)

    def box(x: float) -> tuple[float, float]:
        u = 0.5 * 10.0 ** (-_printed_decimals(x))
        return x - u, x + u

    e_lo, e_hi = box(estimate)
    l_lo, l_hi = box(lower)
    h_lo, h_hi = box(upper)
    if e_lo <= 0 or h_lo <= l_hi:
        return None
    width_min = math.log(h_lo) - math.log(l_hi)
    width_max = math.inf if l_lo <= 0 else math.log(h_hi) - math.log(l_lo)
    log_e = (math.log(e_lo), math.log(e_hi))
    abs_max = max(abs(x) for x in log_e)
    abs_min = 0.0 if log_e[0] <= 0 <= log_e[1] else min(abs(x) for x in log_e)
    z_max = abs_max / (width_min / (2 * z_level))
    z_min = abs_min / (width_max / (2 * z_level))
    return _two_sided_p(z_max), _two_sided_p(z_min)


def _p_text(x: float) -> str:
    """A p-value to three significant digits (``0.0319``, ``0.734``, ``1.2e-05``)."""
    return f"{x:.3g}"


def check_hr_p(where: Where, key: str, estimate, ci, level, p: PValue | None) -> None:
    """Warn when an HR's printed p disagrees with the Wald p its CI implies.

    See the module docstring ("The p-value warning") for the tolerance.
    Skipped when the CI has an "NR" bound, the p is "NS", or the numbers are
    incomplete.
    """
    if (p is None or estimate is None or ci is None or ci[1] is NR or level is None
            or not ci[0] < ci[1]):
        return
    printed = printed_p_range(p)
    implied = implied_p_range(estimate, ci[0], ci[1], level)
    if printed is None or implied is None:
        return
    if implied[0] <= printed[1] and printed[0] <= implied[1]:
        return
    z_level = _z_of_level(level)
    se = (math.log(ci[1]) - math.log(ci[0])) / (2 * z_level)
    point = _two_sided_p(math.log(estimate) / se)
    sided = " (one-sided)" if p.sided == 1 else ""
    where.warn(key, f"printed p {p.text}{sided} disagrees with the Wald p implied by the HR "
                    f"{_fmt(estimate)} and its CI [{_fmt(ci[0])}, {_fmt(ci[1])}] "
                    f"(z = log(HR)/SE, SE from the CI: p = {_p_text(point)}; "
                    f"{_p_text(implied[0])} to {_p_text(implied[1])} allowing for the rounding "
                    "of the printed numbers): check the numbers, or the p comes from another "
                    "test (e.g. a log-rank test)")
