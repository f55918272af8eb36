"""Reconstruction methods: from what a paper printed to a log hazard ratio and its SE.

One function per method. Each takes a validated
:class:`~survmeta.registry.records.Comparison` and returns an :class:`Estimate`
(log HR of the experimental arm versus the reference arm, its standard error,
and what was assumed), or raises :class:`NotApplicable` with the reason when
the comparison's data do not allow that method. Numbers that cannot be right
(a negative variance, a CI in the wrong order, a level outside (0, 1)) raise
:class:`~survmeta.errors.SurvmetaError`.

Method ids, in the default selection order (:data:`METHODS`):

========================  ===================================================
``direct``                log HR and SE given directly
``hr_ci``                 reported HR with a CI of any level
``hr_p``                  reported HR with a p-value
``logrank_oe``            log-rank O - E and its variance V
``observed_expected``     observed and expected events per arm
``km_ipd``                Cox model of patient data reconstructed from both
                          arms' digitised Kaplan-Meier curves (Guyot 2012;
                          :mod:`survmeta.reconstruction.km_effect`)
``joint``                 one likelihood over everything printed: medians,
                          p-value (its digits as an interval, bounds
                          censored), V from events, total events, follow-up,
                          median CIs or group sizes with an event fraction
                          (:mod:`survmeta.reconstruction.joint`)
``chisq``                 log-rank chi-square statistic, V from events per arm
``p_events``              p-value with events per arm
``p_total_events``        p-value with total events (allocation from the
                          group sizes, 1:1 when they are unknown)
``median_ratio_ci``       ratio of medians, SE from the per-arm median CIs
``median_ratio_events``   ratio of medians, SE from events per arm
``median_ratio_p``        ratio of medians, SE from the p-value
``p_patients``            p-value with patients instead of events (SE is a
                          lower bound; never chosen by default)
========================  ===================================================

Which p-value each method uses
------------------------------
A comparison can carry two p-values: ``p``, the test of the two groups (a
log-rank test, unadjusted), and ``hr.p``, the reported HR's own test (a Wald
or Cox test, often of an adjusted model). They are not interchangeable:

========================  ===================================================
``hr_p``                  ``hr.p``; without it the comparison's ``p``, but only
                          for an HR not marked adjusted (with a warning)
``p_events``,             the comparison's ``p`` only: V comes from the
``p_total_events``,       events (or patients) of the two groups, so the test
``p_patients``            must be the two-group (log-rank) test; an adjusted
                          model's ``hr.p`` is never borrowed
``median_ratio_p``        the comparison's ``p`` only: the median ratio is an
                          unadjusted contrast of the two groups
all others                no p-value (``chisq`` uses the chi-square itself)
========================  ===================================================

A method that needs the comparison's ``p`` when only ``hr.p`` is printed is
not applicable and says so. Every estimate built from a p-value states which
one in its assumptions (``p-value used: ...``).

Large p-values
--------------
``hr_p`` and ``median_ratio_p`` take ``SE = |log HR| / z``. For a two-sided p
above :data:`LARGE_P` (0.3), ``z < 1.04`` and the SE is at least as large as
``|log HR|`` itself and grows without bound as ``p -> 1`` (``z -> 0``): any
error in ``log HR`` (the rounding of the printed HR or medians, and for the
median ratio its own approximation error) passes into the SE amplified by
``1/z``, and the SE's relative sensitivity to p, ``d log SE / dp = 1 / (2 z
phi(z))``, exceeds 2 per unit of p (a p printed as 0.3 instead of 0.35 moves
the SE by about 10%) and rises steeply beyond. Such estimates get the flag
``unstable_large_p`` and a warning; they are not refused, since the SE is
large (the estimate carries little weight), but a reviewer should know it
rests on shaky ground (e.g. ALK-TKI 2025, PD-L1 negative: medians 1.5 vs 2.9
months, p = 0.68, SE 1.6).

SE floor from the trial size
----------------------------
The opposite failure: ``median_ratio_p`` with medians that barely differ
(crossing curves: the medians do not carry the HR) gives ``|log HR| / z`` far
below anything the trial could support, the more so the smaller p (POLO: n
92 vs 62, medians 19.0 vs 19.2 months, p = 0.3487; printed HR 0.83, 95% CI
0.56-1.22, SE 0.199; SE from the medians and p 0.011).
``median_ratio_ci`` can do the same with narrow median CIs. Asymptotically,
under proportional hazards, no estimate of a log HR from ``n_e`` vs ``n_r``
patients has a smaller SE than :func:`se_floor`, ``sqrt(1/n_e + 1/n_r)`` (at
most one event per patient; see there for the approximation behind it).
When both group sizes are reported and the method's SE is below it, these two
methods use the floor as the SE, flag ``se_floor``, state the original SE as
an assumption and keep it in ``inputs["se_unfloored"]``. Without both group
sizes there is no floor (none is invented). ``median_ratio_events`` needs no
floor: its ``sqrt(1/d_e + 1/d_r)`` is at least the floor whenever ``d <= n``
in each arm.

Flags
-----
========================  ===================================================
``p_bound``               p printed as a bound ("P<0.001"); the bound is used
``conservative``          the bound understates the evidence (with p_bound)
``one_sided_ci``          one CI bound "NR": SE from the other bound alone
``se_lower_bound``        ``p_patients``: SE from patients, a lower bound
``unstable_large_p``      SE ``|log HR|/z`` from a two-sided p > :data:`LARGE_P`
``se_floor``              SE raised to the trial-size bound :func:`se_floor`
========================  ===================================================

Methods that compute the same point estimate and differ only in the SE form a
*family* (:data:`FAMILIES`): the three median ratios share
``log(median_r / median_e)``; ``chisq`` and ``p_events`` share
``sign z / sqrt(V)`` with V from events per arm. The calibrated extra error
belongs to the point estimate, so it is estimated and stored per family.

References
----------
.. [Parmar1998] Parmar MKB, Torri V, Stewart L. Extracting summary statistics to
   perform meta-analyses of the published literature for survival endpoints.
   Stat Med. 1998;17:2815-2834.
.. [Tierney2007] Tierney JF, Stewart LA, Ghersi D, Burdett S, Sydes MR. Practical
   methods for incorporating summary time-to-event data into meta-analysis.
   Trials. 2007;8:16.
.. [Michiels2005] Michiels S, Piedbois P, Burdett S, Syz N, Stewart L, Pignon JP.
   Meta-analysis when only the median survival times are known: a comparison
   with individual patient data results. Int J Technol Assess Health Care.
   2005;21:119-125.
.. [Collett2015] Collett D. Modelling Survival Data in Medical Research. 3rd ed.
   Boca Raton: Chapman and Hall/CRC; 2015 (the log-rank and Cox score
   statistics and their variance; the number of events needed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from scipy.stats import norm

from survmeta.errors import SurvmetaError, check_level
from survmeta.registry.records import NR, Arm, Comparison, PValue, _NotReached

__all__ = [
    "APPROXIMATE",
    "DEFAULT_ORDER",
    "LARGE_P",
    "Z_LARGE_P",
    "EXACT",
    "Estimate",
    "METHODS",
    "METHOD_FUNCTIONS",
    "METHOD_TITLES",
    "NotApplicable",
    "chisq",
    "direct",
    "hr_ci",
    "hr_p",
    "logrank_oe",
    "median_ratio_ci",
    "median_ratio_events",
    "median_ratio_p",
    "observed_expected",
    "FAMILIES",
    "family_of",
    "median_log_ratio",
    "p_events",
    "p_patients",
    "p_total_events",
    "run_method",
    "se_floor",
    "z_from_level",
    "z_from_p",
]

#: Two-sided p above which an SE of ``|log HR| / z`` is flagged ``unstable_large_p``
#: (module docstring, "Large p-values").
LARGE_P: float = 0.3

#: The normal deviate of :data:`LARGE_P`: ``Phi^{-1}(1 - 0.3/2) = 1.0364``.
Z_LARGE_P: float = float(norm.isf(LARGE_P / 2.0))

#: Every method id; the order is the default selection order, except that
#: ``p_patients`` is never selected by default (see :data:`DEFAULT_ORDER`).
METHODS: tuple[str, ...] = (
    "direct",
    "hr_ci",
    "hr_p",
    "logrank_oe",
    "observed_expected",
    "km_ipd",
    "joint",
    "chisq",
    "p_events",
    "p_total_events",
    "median_ratio_ci",
    "median_ratio_events",
    "median_ratio_p",
    "p_patients",
)

#: The order the selector tries methods in when none is given. ``p_patients``
#: is left out: its SE comes from patients, not events, and is only a lower
#: bound, so it is kept as an alternative and chosen only when asked for.
DEFAULT_ORDER: tuple[str, ...] = tuple(m for m in METHODS if m != "p_patients")

#: Methods that use a reported HR or log-rank statistics as they stand.
EXACT: frozenset[str] = frozenset({"direct", "hr_ci", "hr_p", "logrank_oe", "observed_expected"})

#: Approximate methods: their SE gets the calibrated extra error SD.
APPROXIMATE: frozenset[str] = frozenset(METHODS) - EXACT

#: Approximate methods grouped by the point estimate they share (the extra
#: error of an approximation belongs to its point estimate, not to its SE):
#: family id -> member method ids. Every approximate method is in one family.
FAMILIES: dict[str, tuple[str, ...]] = {
    "median_ratio": ("median_ratio_ci", "median_ratio_events", "median_ratio_p"),
    "p_value_events": ("chisq", "p_events"),
    "p_value_total_events": ("p_total_events",),
    "p_value_patients": ("p_patients",),
}


def family_of(method: str) -> str | None:
    """The family id of an approximate method (None for an exact one)."""
    for fam, members in FAMILIES.items():
        if method in members:
            return fam
    return None


#: One-line description of each method, for tables and explanations.
METHOD_TITLES: dict[str, str] = {
    "direct": "log HR and SE given directly",
    "hr_ci": "reported HR with its confidence interval",
    "hr_p": "reported HR with its p-value",
    "logrank_oe": "log-rank O - E and variance V",
    "observed_expected": "observed and expected events per arm",
    "km_ipd": "Cox model of patient data reconstructed from the digitised Kaplan-Meier curves",
    "joint": "joint likelihood of everything printed (medians, p-value, V from events, "
             "follow-up or group sizes)",
    "chisq": "log-rank chi-square with V from events per arm",
    "p_events": "p-value with V from events",
    "p_total_events": "p-value with V from total events and the allocation ratio",
    "median_ratio_ci": "ratio of medians (exponential arms), SE from the median CIs",
    "median_ratio_events": "ratio of medians (exponential arms), SE from events per arm",
    "median_ratio_p": "ratio of medians (exponential arms), SE from the p-value",
    "p_patients": "p-value with V from patients instead of events (SE is a lower bound)",
}


class NotApplicable(Exception):
    """The comparison's data do not allow a method.

    Parameters
    ----------
    reason : str
        Why, in words a reviewer understands ("median not reached in the
        reference arm").
    missing : bool
        True when the method's input was simply not reported (no HR, no
        events); False when it was reported but cannot be used (``NS``, a
        median ``NR``, no direction). The selector states the second kind
        as the reason a comparison has no estimate.
    """

    def __init__(self, reason: str, missing: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.missing = missing


@dataclass(frozen=True)
class Estimate:
    """A reconstructed log hazard ratio (experimental vs reference) and its SE.

    Attributes
    ----------
    log_hr, se : float
        The estimate and its sampling SE (without any calibrated extra error).
    method : str
        Method id (one of :data:`METHODS`).
    inputs : dict
        The reported numbers the method used, JSON-friendly ("NR" as a string).
    assumptions, flags, warnings : tuple of str
        Sentences stating what was assumed; short codes (``"p_bound"``,
        ``"conservative"``, ``"one_sided_ci"``, ``"se_lower_bound"``,
        ``"unstable_large_p"``, ``"se_floor"``: module docstring, "Flags");
        sentences a reviewer should read.
    p_relation, p_bound : str or None, float or None
        For an estimate from an inequality ("P<0.001"): ``"<"`` and the bound.
    se_extra : float or None
        The estimate's own extra SD beyond sampling, when the method computes
        one per comparison (``joint``: the posterior SD); None means the
        calibrated extra SD of the method's family applies.
    """

    log_hr: float
    se: float
    method: str
    inputs: dict = field(default_factory=dict)
    assumptions: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    p_relation: str | None = None
    p_bound: float | None = None
    se_extra: float | None = None

    @property
    def approximate(self) -> bool:
        return self.method in APPROXIMATE

    @property
    def hr(self) -> float:
        return math.exp(self.log_hr)


# ---------------------------------------------------------------------------
# helpers


def _bad(comparison: Comparison, what: str) -> SurvmetaError:
    return SurvmetaError(f"comparison {comparison.key}: {what}")


def _is_nr(x) -> bool:
    return x is NR


def _show(x):
    return "NR" if x is NR else x


def _positive(comparison: Comparison, name: str, x) -> float:
    try:
        value = float(x)
    except (TypeError, ValueError):
        raise _bad(comparison, f"{name} must be a number, got {x!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise _bad(comparison, f"{name} must be a positive finite number, got {x!r}")
    return value


def z_from_level(level: float) -> float:
    """Normal quantile of a two-sided confidence level.

    ``z = Phi^{-1}(1 - (1 - level) / 2)``; 1.959964 for 95%, 2.053749 for 96%,
    2.276769 for 97.72% (Tierney 2007).

    Raises
    ------
    SurvmetaError
        When ``level`` is not in (0, 1) (a level of 95 instead of 0.95).
    """
    try:
        level = float(level)
    except (TypeError, ValueError):
        raise SurvmetaError(f"confidence level must be a number in (0, 1), got {level!r}") from None
    level = check_level(level, "confidence level")
    return float(norm.ppf(1.0 - (1.0 - level) / 2.0))


def z_from_p(p: float, sided: int = 2) -> float:
    """Absolute normal deviate of a p-value.

    Two-sided: ``|z| = Phi^{-1}(1 - p/2)``. One-sided: ``|z| = |Phi^{-1}(1 - p)|``,
    the same as a two-sided ``2 min(p, 1 - p)`` (Tierney 2007: a
    one-sided p is doubled before use). For a one-sided p above 0.5 the
    signed deviate ``Phi^{-1}(1 - p)`` is negative: the estimate points
    against the tested direction, which the p-value methods apply to the
    sign (see :func:`p_events`).

    Raises
    ------
    SurvmetaError
        When ``p`` is not in (0, 1] or ``sided`` is not 1 or 2.
    """
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise SurvmetaError(f"p-value must be a number in (0, 1], got {p!r}") from None
    if not (0.0 < p <= 1.0) or not math.isfinite(p):
        raise SurvmetaError(f"p-value must be in (0, 1], got {p!r}")
    if sided == 2:
        return float(norm.isf(p / 2.0))
    if sided == 1:
        return abs(float(norm.isf(p)))
    raise SurvmetaError(f"p-value sidedness must be 1 or 2, got {sided!r}")


def se_floor(n_e: float, n_r: float) -> float:
    """The smallest SE a log HR from a trial of ``n_e`` vs ``n_r`` patients can have.

    With ``N = n_e + n_r`` patients, ``D <= N`` events and a fraction ``r =
    n_e / N`` allocated to the experimental arm, the information about the
    log HR in the log-rank / Cox score test under proportional hazards near
    the null is ``V = D r (1 - r)`` (Collett 2015; the ``V`` of
    :func:`p_total_events`), so::

        Var(log HR) >= 1 / (D r (1 - r)) >= 1 / (N r (1 - r)) = 1/n_e + 1/n_r
        SE_floor     = sqrt(1/n_e + 1/n_r)        (2 / sqrt(N) for 1:1)

    The same bound holds under the exponential model the median ratios
    assume: the MLE of ``log lambda`` in an arm with ``d`` events has
    variance ``1/d >= 1/n``, so ``Var(log HR) = 1/d_e + 1/d_r >= 1/n_e +
    1/n_r``. ``V = D r (1 - r)`` takes the share of the experimental arm in
    every risk set to stay at ``r``; without that, the score information
    ``sum p_j (1 - p_j)`` is still at most ``D / 4``, so ``SE >= 2 /
    sqrt(N)`` holds for any allocation, and the floor exceeds it by the
    factor ``N / (2 sqrt(n_e n_r))`` (1.02 for 3:2, 1.06 for 2:1). It is
    also the SE of :func:`p_patients` (V from patients instead of events),
    flagged ``se_lower_bound`` there for the same reason. Used by
    :func:`median_ratio_p` and :func:`median_ratio_ci` (module docstring,
    "SE floor from the trial size").

    Parameters
    ----------
    n_e, n_r : float
        Patients in the experimental and reference arms (positive).

    Returns
    -------
    float
        ``sqrt(1/n_e + 1/n_r)``.

    Raises
    ------
    SurvmetaError
        When a group size is not a positive finite number.

    References
    ----------
    Collett D. Modelling Survival Data in Medical Research. 3rd ed. Chapman
    and Hall/CRC; 2015.
    """
    for name, n in (("n_e", n_e), ("n_r", n_r)):
        try:
            ok = math.isfinite(float(n)) and float(n) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise SurvmetaError(f"group size {name} must be a positive finite number, got {n!r}")
    return math.sqrt(1.0 / float(n_e) + 1.0 / float(n_r))


def _floor_se(notes: _Notes, se: float, inputs: dict) -> float:
    """Raise ``se`` to :func:`se_floor` of the group sizes when both are reported.

    Below the floor: returns the floor, flags ``se_floor``, states the
    original SE as an assumption and keeps it in ``inputs["se_unfloored"]``
    (with the group sizes in ``inputs["n"]``). Otherwise (at or above the
    floor, or a group size not reported) returns ``se`` unchanged.
    """
    c = notes.comparison
    n_e, n_r = c.experimental.n, c.reference.n
    if n_e is None or n_r is None or not math.isfinite(se):
        return se
    ne = _positive(c, "experimental.n", n_e)
    nr = _positive(c, "reference.n", n_r)
    floor = se_floor(ne, nr)
    if not se < floor:
        return se
    notes.used.extend(["experimental.n", "reference.n"])
    notes.add("flags", "se_floor")
    notes.add(
        "assumptions",
        f"SE raised to the trial-size bound sqrt(1/n_e + 1/n_r) = {floor:.4f} "
        f"(n {ne:g} vs {nr:g}) from {se:.4f}: a log HR from this many patients (at most one "
        "event each) cannot have a smaller SE (asymptotically, under proportional hazards)",
    )
    inputs["n"] = [ne, nr]
    inputs["se_unfloored"] = se
    return floor


@dataclass
class _Notes:
    """Collects assumptions, flags and warnings while a method runs."""

    comparison: Comparison
    assumptions: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    used: list = field(default_factory=list)  # registry fields used
    p_relation: str | None = None
    p_bound: float | None = None

    def add(self, kind: str, text: str) -> None:
        target = getattr(self, kind)
        if text not in target:
            target.append(text)

    def finish(self, method: str, log_hr: float, se: float, inputs: dict) -> Estimate:
        for entry in self.comparison.derived:
            derived_field = entry.partition(":")[0].strip()
            for u in self.used:
                if (
                    derived_field == u
                    or derived_field.startswith(u + ".")
                    or u.startswith(derived_field + ".")
                ):
                    self.add("assumptions", f"uses derived {derived_field}")
        if not (math.isfinite(log_hr) and math.isfinite(se) and se > 0):
            raise NotApplicable(
                f"the reported numbers give log HR {log_hr!r} with SE {se!r}, not a usable estimate"
            )
        return Estimate(
            log_hr=float(log_hr),
            se=float(se),
            method=method,
            inputs=inputs,
            assumptions=tuple(self.assumptions),
            flags=tuple(self.flags),
            warnings=tuple(self.warnings),
            p_relation=self.p_relation,
            p_bound=self.p_bound,
        )


def _hr_test_p(comparison: Comparison) -> tuple[PValue, str]:
    """The p-value of a reported HR: its own (``hr.p``), else the comparison's.

    The caller (:func:`hr_p`) refuses the comparison's p for an adjusted HR.
    """
    c = comparison
    if c.hr is not None and c.hr.p is not None:
        return c.hr.p, "hr.p"
    if c.p is not None:
        return c.p, "p"
    raise NotApplicable("no p-value reported", missing=True)


def _comparison_p(comparison: Comparison) -> tuple[PValue, str]:
    """The comparison-level p-value (the two-group test), never the HR's own.

    The p-value methods built on events, patients or medians need the test
    of the two groups as they stand (a log-rank test). A reported HR's own
    p (``hr.p``) tests a Cox model, usually adjusted for other factors, so it
    is not borrowed: with only ``hr.p`` printed these methods do not apply.
    """
    c = comparison
    if c.p is not None:
        return c.p, "p"
    if c.hr is not None and c.hr.p is not None:
        model = "an adjusted Cox model" if c.hr.adjusted else "the Cox model of the HR"
        raise NotApplicable(
            f"only the HR's own p-value is reported (hr.p = {c.hr.p.text}), a test of {model}; "
            "this method needs the comparison's p-value (the log-rank test of the two groups)"
        )
    raise NotApplicable("no p-value reported", missing=True)


def _say_which_p(notes: _Notes, pv: PValue, name: str) -> None:
    """Record which printed p-value a method used (and, if so, which it left aside)."""
    c = notes.comparison
    if name == "hr.p":
        notes.add("assumptions", f"p-value used: the HR's own p (hr.p = {pv.text})")
        return
    notes.add(
        "assumptions",
        f"p-value used: the comparison's p (p = {pv.text}), the test of the two groups",
    )
    if c.hr is not None and c.hr.p is not None:
        notes.add(
            "assumptions",
            f"the HR's own p (hr.p = {c.hr.p.text}) is not used: it tests "
            + ("an adjusted Cox model" if c.hr.adjusted else "the Cox model of the HR")
            + ", not the two groups as they stand",
        )


def _warn_large_p(notes: _Notes, pv: PValue, z: float, what: str) -> None:
    """Flag an SE of ``|log HR| / z`` from a large p (two-sided p > :data:`LARGE_P`).

    ``what`` names the numbers the log HR comes from ("HR", "medians").
    """
    if z < Z_LARGE_P:
        notes.add("flags", "unstable_large_p")
        notes.add(
            "warnings",
            f"p = {pv.text} is large (two-sided p > {LARGE_P:g}, z = {z:.2f} < "
            f"{Z_LARGE_P:.2f}): the SE |log HR|/z exceeds |log HR| and is dominated by the "
            f"rounding of p and of the {what}; it grows without bound as p approaches 1",
        )


def _z_of(notes: _Notes, pv: PValue, name: str) -> tuple[float, float]:
    """|z| of a printed p-value and the p used, with the honesty rules.

    "=": the value as printed. "<": the bound, flagged ``p_bound`` and
    ``conservative`` (|z| is understated, so the estimate is pulled towards
    no effect or its SE overstated). "NS" and ">": not usable.
    """
    notes.used.append(name)
    _say_which_p(notes, pv, name)
    if pv.relation == "NS" or pv.value is None:
        raise NotApplicable(f"p-value printed as {pv.text!r} (not significant) gives no test statistic")
    if pv.relation == ">":
        raise NotApplicable(
            f"p-value printed only as {pv.text!r}: a lower bound on p gives no usable test statistic"
        )
    p = float(pv.value)
    if pv.relation == "<" and p >= 1:
        raise NotApplicable(f"p-value printed as {pv.text!r}: every p-value is below 1, so the "
                            "bound gives no test statistic")
    if pv.relation == "<":
        notes.add("flags", "p_bound")
        notes.add("flags", "conservative")
        notes.p_relation = "<"
        notes.p_bound = p
        notes.add(
            "assumptions",
            f"p printed as {pv.text!r}: the bound {p:g} is used in place of the unknown p, "
            "which understates the evidence (conservative)",
        )
    if pv.sided == 1:
        if p > 0.5 and pv.relation == "<":
            raise NotApplicable(
                f"one-sided p printed only as {pv.text!r}: a bound above 0.5 does not say on "
                "which side of the null the estimate lies"
            )
        if p > 0.5:
            notes.add(
                "warnings",
                f"one-sided p = {p:g} above 0.5: the estimate points against the tested direction",
            )
        notes.add(
            "assumptions",
            f"one-sided p read as stated: two-sided equivalent {min(2 * p, 2 * (1 - p)):g}",
        )
    else:
        notes.add("assumptions", "p-value taken as two-sided, as printed")
    return z_from_p(p, pv.sided), p


def _against_tested_direction(pv: PValue | None) -> bool:
    """A one-sided p above 0.5: the estimate lies against the tested direction."""
    return (
        pv is not None
        and pv.sided == 1
        and pv.relation == "="
        and pv.value is not None
        and pv.value > 0.5
    )


def _direction_sign(notes: _Notes, pv: PValue | None = None) -> tuple[int, str]:
    """Sign of the log HR for methods whose statistic has no sign.

    Returns -1 when the experimental arm does better (HR < 1), +1 otherwise,
    with a sentence saying where the direction came from: the stated
    ``direction``, else the reported HR, else the medians (the arm with the
    longer median, or with a median not reached, does better).

    With a one-sided p-value ``pv`` the stated ``direction`` is the direction
    the test tested. A one-sided p above 0.5 means the estimate points the
    other way (the signed deviate ``Phi^{-1}(1 - p)`` is negative), so the
    sign is flipped and the flip recorded as an assumption. A direction taken
    from the reported HR or the medians is the observed one and is not
    flipped.
    """
    c = notes.comparison
    from_medians = _median_direction(c)
    if c.direction is not None:
        sign = -1 if c.direction == "favours experimental" else 1
        notes.used.append("direction")
        how = f"direction as stated ({c.direction})"
        if pv is not None and pv.value is not None and _against_tested_direction(pv):
            sign = -sign
            how = (
                f"one-sided p = {pv.value:g} above 0.5 against the tested direction "
                f"({c.direction}): the estimate points the other way, so its sign is flipped "
                f"(z = Phi^-1(1 - p) = {float(norm.isf(pv.value)):.4f} in the tested direction)"
            )
        if from_medians is not None and from_medians[0] != sign:
            notes.add("warnings", f"stated direction ({c.direction}) disagrees with the medians")
        return sign, how
    if c.hr is not None and c.hr.estimate != 1.0:
        notes.used.append("hr.estimate")
        return (-1 if c.hr.estimate < 1.0 else 1), "direction from the reported HR"
    if from_medians is not None:
        notes.used.extend(["experimental.median", "reference.median"])
        me, mr = c.experimental.median, c.reference.median
        if (isinstance(me, (int, float)) and isinstance(mr, (int, float))
                and max(me, mr) / min(me, mr) < CLOSE_MEDIANS):
            notes.add(
                "warnings",
                f"the direction comes from medians less than {CLOSE_MEDIANS - 1:.0%} apart "
                f"({me:g} vs {mr:g}): its sign is uncertain; record the paper's stated "
                "direction if it gives one",
            )
        return from_medians
    raise NotApplicable(
        "no direction: the paper gives no direction, HR or differing medians for the p-value"
    )


#: Medians closer than this ratio give an uncertain direction: in the 100 validation
#: comparisons (docs/validation.md, *Held-out check*) the sign taken from medians less than
#: 10% apart was wrong in 8 of 21 (3 more printed HR 1.00), from medians further apart in
#: 1 of 76.
CLOSE_MEDIANS = 1.10


def _median_direction(c: Comparison) -> tuple[int, str] | None:
    me, mr = c.experimental.median, c.reference.median
    if me is None or mr is None or (me is NR and mr is NR):
        return None
    if isinstance(me, _NotReached):
        return -1, "direction from the medians (experimental median not reached)"
    if isinstance(mr, _NotReached):
        return 1, "direction from the medians (reference median not reached)"
    if me == mr:
        return None
    if me > mr:
        return -1, "direction from the medians (longer median in the experimental arm)"
    return 1, "direction from the medians (longer median in the reference arm)"


def _events(c: Comparison) -> tuple[float, float]:
    d_e, d_r = c.experimental.events, c.reference.events
    if d_e is None or d_r is None:
        raise NotApplicable("events per arm not reported", missing=True)
    return _positive(c, "experimental.events", d_e), _positive(c, "reference.events", d_r)


def _medians(c: Comparison) -> tuple[float, float]:
    me, mr = c.experimental.median, c.reference.median
    if me is None or mr is None:
        raise NotApplicable("median not reported for both arms", missing=True)
    for arm, m in (("experimental", me), ("reference", mr)):
        if m is NR:
            raise NotApplicable(
                f"median not reached in the {arm} arm: the median ratio is not available"
            )
    return _positive(c, "experimental.median", me), _positive(c, "reference.median", mr)


_EXPONENTIAL = (
    "exponential survival in both arms (constant hazards), so the HR equals "
    "median(reference) / median(experimental)"
)


# ---------------------------------------------------------------------------
# methods


def direct(comparison: Comparison) -> Estimate:
    """Log HR and SE given directly (``effect = {log_hr, se}``).

    ``log HR`` and ``SE`` are taken as they stand (e.g. from another
    meta-analysis or an effects CSV). No formula; no reference needed.
    """
    c = comparison
    if c.effect is None:
        raise NotApplicable("no log HR + SE given directly", missing=True)
    notes = _Notes(c, used=["effect"])
    log_hr = float(c.effect.log_hr)
    if not math.isfinite(log_hr):
        raise _bad(c, f"effect.log_hr must be finite, got {c.effect.log_hr!r}")
    se = _positive(c, "effect.se", c.effect.se)
    notes.add("assumptions", "log HR and SE used as given")
    return notes.finish("direct", log_hr, se, {"log_hr": log_hr, "se": se})


def hr_ci(comparison: Comparison) -> Estimate:
    """Reported HR with a confidence interval of any level.

    Formula (Parmar 1998; Tierney 2007), with
    ``z = Phi^{-1}(1 - (1 - level)/2)``::

        log HR = log(HR)
        SE     = (log U - log L) / (2 z)

    When one bound is "NR" (or missing) the SE is taken one-sidedly from the
    other: ``SE = (log HR - log L) / z`` or ``(log U - log HR) / z``, flagged
    ``one_sided_ci``. A CI not centred on the HR on the log scale gets a
    warning (the half-widths differ by more than 10%).
    """
    c = comparison
    if c.hr is None:
        raise NotApplicable("no HR reported", missing=True)
    if c.hr.ci is None:
        raise NotApplicable("HR reported without a confidence interval", missing=True)
    notes = _Notes(c, used=["hr.estimate", "hr.ci", "hr.level"])
    est = _positive(c, "hr.estimate", c.hr.estimate)
    lo, hi = c.hr.ci
    level = c.hr.level
    z = z_from_level(level)
    inputs = {"hr": est, "ci": [_show(lo), _show(hi)], "level": level}
    if (lo is NR or lo is None) and (hi is NR or hi is None):
        raise NotApplicable("both CI bounds not reported")
    if level != 0.95:
        notes.add("assumptions", f"{level:.4g} CI read as stated (z = {z:.4f})")
    notes.add("assumptions", "CI symmetric on the log scale (Wald interval)")
    if lo is NR or lo is None or hi is NR or hi is None:
        notes.add("flags", "one_sided_ci")
        if hi is NR or hi is None:
            lo = _positive(c, "hr.ci lower bound", lo)
            if not lo < est:
                raise _bad(c, f"hr.ci lower bound {lo:g} is not below the HR {est:g}")
            se = (math.log(est) - math.log(lo)) / z
            notes.add("assumptions", "upper CI bound not reported: SE from the lower bound alone")
        else:
            hi = _positive(c, "hr.ci upper bound", hi)
            if not hi > est:
                raise _bad(c, f"hr.ci upper bound {hi:g} is not above the HR {est:g}")
            se = (math.log(hi) - math.log(est)) / z
            notes.add("assumptions", "lower CI bound not reported: SE from the upper bound alone")
        return notes.finish("hr_ci", math.log(est), se, inputs)
    lo = _positive(c, "hr.ci lower bound", lo)
    hi = _positive(c, "hr.ci upper bound", hi)
    if not lo < hi:
        raise _bad(c, f"hr.ci bounds out of order: [{lo:g}, {hi:g}]")
    if not lo <= est <= hi:
        raise _bad(c, f"HR {est:g} outside its CI [{lo:g}, {hi:g}]")
    se = (math.log(hi) - math.log(lo)) / (2.0 * z)
    lower_half = math.log(est) - math.log(lo)
    upper_half = math.log(hi) - math.log(est)
    if abs(lower_half - upper_half) > 0.1 * max(lower_half, upper_half):
        notes.add(
            "warnings",
            f"CI not centred on the HR on the log scale (half-widths {lower_half:.3f} and "
            f"{upper_half:.3f}): SE from the full width",
        )
    return notes.finish("hr_ci", math.log(est), se, inputs)


def hr_p(comparison: Comparison) -> Estimate:
    """Reported HR with a p-value (two- or one-sided).

    Formula (Tierney 2007)::

        log HR = log(HR)
        SE     = |log HR| / z,   z = Phi^{-1}(1 - p/2)

    (one-sided p: ``z = Phi^{-1}(1 - p)``, i.e. the two-sided ``2p``). The
    HR's own p is used when printed. Without it, the comparison's p is used
    for an HR not marked adjusted (an assumption, with a warning); for an
    adjusted HR (``hr.adjusted = true``) it is not, because that p is usually
    a univariable log-rank test of a different contrast (e.g. Zhou 2023,
    EGFR/ALK/ROS1: adjusted HR p = 0.73, log-rank p = 0.0145). "P<0.001" uses
    the bound (SE overstated: flagged conservative). A two-sided p above
    :data:`LARGE_P` is flagged ``unstable_large_p``. An HR of exactly 1 or
    p = 1 gives 0/0: not applicable.
    """
    c = comparison
    if c.hr is None:
        raise NotApplicable("no HR reported", missing=True)
    notes = _Notes(c, used=["hr.estimate"])
    est = _positive(c, "hr.estimate", c.hr.estimate)
    if c.hr.p is None and c.p is not None and c.hr.adjusted:
        raise NotApplicable(
            "adjusted HR without a p-value of its own: the comparison's p-value is usually a "
            "univariable (log-rank) test, not a test of the adjusted HR"
        )
    pv, name = _hr_test_p(c)
    z, p = _z_of(notes, pv, name)
    if name == "p":
        notes.add("assumptions", "the comparison's p-value taken as the test of the reported HR")
        notes.add(
            "warnings",
            "the HR has no p-value of its own: the comparison's p-value is used as its test; "
            "if that p comes from another test (e.g. a univariable log-rank test), the SE is off",
        )
    if est == 1.0:
        raise NotApplicable("HR of exactly 1: log HR 0 and the SE |log HR|/z is undefined")
    if z == 0.0:
        raise NotApplicable("p of 1: z = 0 and the SE |log HR|/z is undefined")
    notes.add("assumptions", "the p-value comes from a Wald or log-rank test of the same HR")
    _warn_large_p(notes, pv, z, "HR")
    se = abs(math.log(est)) / z
    return notes.finish(
        "hr_p", math.log(est), se, {"hr": est, "p": pv.text, "sided": pv.sided, "z": z}
    )


def logrank_oe(comparison: Comparison) -> Estimate:
    """Log-rank O - E and its variance V for the experimental arm.

    Formula (Parmar 1998; Tierney 2007;
    Peto one-step estimate)::

        log HR = (O - E) / V
        SE     = 1 / sqrt(V)
    """
    c = comparison
    if c.logrank is None:
        raise NotApplicable("no log-rank O - E and V reported", missing=True)
    notes = _Notes(c, used=["logrank"])
    oe = float(c.logrank.o_minus_e)
    if not math.isfinite(oe):
        raise _bad(c, f"logrank.o_minus_e must be finite, got {c.logrank.o_minus_e!r}")
    v = _positive(c, "logrank.variance", c.logrank.variance)
    return notes.finish(
        "logrank_oe", oe / v, 1.0 / math.sqrt(v), {"o_minus_e": oe, "variance": v}
    )


def observed_expected(comparison: Comparison) -> Estimate:
    """Observed and expected events per arm (log-rank table).

    Formula (Parmar 1998, indirect estimation from O and E per arm; Tierney
    2007, "observed and expected events given")::

        log HR = log[(O_e / E_e) / (O_r / E_r)]
        SE     = sqrt(1/E_e + 1/E_r)

    ``O`` is ``events`` and ``E`` is ``expected`` of each arm. The variance
    is the inverse of ``V = 1 / (1/E_e + 1/E_r)``, the approximation to the
    log-rank variance from expected counts.
    """
    c = comparison
    e, r = c.experimental, c.reference
    if e.expected is None or r.expected is None:
        raise NotApplicable("expected events per arm not reported", missing=True)
    oe_, or_ = _events(c)
    ee = _positive(c, "experimental.expected", e.expected)
    er = _positive(c, "reference.expected", r.expected)
    notes = _Notes(
        c,
        used=["experimental.events", "reference.events", "experimental.expected", "reference.expected"],
    )
    log_hr = math.log((oe_ / ee) / (or_ / er))
    se = math.sqrt(1.0 / ee + 1.0 / er)
    return notes.finish(
        "observed_expected",
        log_hr,
        se,
        {"observed": [oe_, or_], "expected": [ee, er]},
    )


def _variance_from_events(notes: _Notes) -> tuple[float, dict]:
    """Log-rank V from events per arm: ``V = d_e d_r / (d_e + d_r)``."""
    de, dr = _events(notes.comparison)
    notes.used.extend(["experimental.events", "reference.events"])
    notes.add(
        "assumptions",
        "log-rank variance approximated from events per arm, V = d_e d_r / (d_e + d_r)",
    )
    return de * dr / (de + dr), {"events": [de, dr]}


def chisq(comparison: Comparison) -> Estimate:
    """Log-rank chi-square statistic (1 df) with V from events per arm.

    Formula (Parmar 1998; Tierney 2007)::

        z      = sqrt(chi2)
        V      = d_e d_r / (d_e + d_r)
        log HR = sign * z / sqrt(V)      (O - E = sign * z sqrt(V))
        SE     = 1 / sqrt(V)

    The sign comes from the stated direction, the reported HR or the medians.
    """
    c = comparison
    if c.chisq is None:
        raise NotApplicable("no log-rank chi-square reported", missing=True)
    x2 = float(c.chisq)
    if not math.isfinite(x2) or x2 < 0:
        raise _bad(c, f"chisq must be a non-negative number, got {c.chisq!r}")
    notes = _Notes(c, used=["chisq"])
    v, inputs = _variance_from_events(notes)
    z = math.sqrt(x2)
    sign = 1
    if z > 0:
        sign, how = _direction_sign(notes)
        notes.add("assumptions", how)
    return notes.finish(
        "chisq", sign * z / math.sqrt(v), 1.0 / math.sqrt(v), {"chisq": x2, "z": z, **inputs}
    )


def _from_p_and_v(notes: _Notes, method: str, v: float, inputs: dict) -> Estimate:
    c = notes.comparison
    pv, name = _comparison_p(c)
    z, p = _z_of(notes, pv, name)
    sign = 1
    if z > 0:
        sign, how = _direction_sign(notes, pv)
        notes.add("assumptions", how)
    notes.add("assumptions", "the p-value comes from a log-rank (or equivalent) test")
    return notes.finish(
        method,
        sign * z / math.sqrt(v),
        1.0 / math.sqrt(v),
        {"p": pv.text, "sided": pv.sided, "z": z, **inputs},
    )


def p_events(comparison: Comparison) -> Estimate:
    """p-value with events per arm (Parmar 1998; Tierney 2007).

    Formula, with ``z = Phi^{-1}(1 - p/2)`` (one-sided: two-sided 2p)::

        V      = d_e d_r / (d_e + d_r)       (events per arm)
        O - E  = sign * z * sqrt(V)
        log HR = (O - E) / V = sign * z / sqrt(V)
        SE     = 1 / sqrt(V)

    ``p`` is the comparison's p-value only (the log-rank test of the two
    groups), never a reported HR's own ``hr.p`` (the same holds for
    :func:`p_total_events` and :func:`p_patients`).

    With only the total number of events see :func:`p_total_events`. The
    sign is the stated direction, else the reported HR, else the medians;
    with none of them the p-value gives no estimate. With a one-sided p the
    stated direction is the tested one: a one-sided p above 0.5 flips the
    sign (the estimate points against the tested direction; ``z =
    Phi^{-1}(1 - p)`` is negative), recorded as an assumption.
    """
    notes = _Notes(comparison)
    v, inputs = _variance_from_events(notes)
    return _from_p_and_v(notes, "p_events", v, inputs)


def p_total_events(comparison: Comparison) -> Estimate:
    """p-value with the total number of events (Tierney 2007).

    Formula, with ``z = Phi^{-1}(1 - p/2)``, total events ``D`` and the
    allocation ``n_e:n_r`` (the group sizes)::

        V      = D n_e n_r / (n_e + n_r)^2     (D/4 for 1:1 allocation)
        log HR = sign * z / sqrt(V)
        SE     = 1 / sqrt(V)

    When the group sizes are not both reported, equal allocation (``V =
    D/4``) is assumed and recorded. The sign is found as for
    :func:`p_events` (including the flip for a one-sided p above 0.5).
    """
    c = comparison
    if c.total_events is None:
        raise NotApplicable("total events not reported", missing=True)
    d = _positive(c, "total_events", c.total_events)
    notes = _Notes(c, used=["total_events"])
    n_e, n_r = c.experimental.n, c.reference.n
    if n_e is not None and n_r is not None:
        ne = _positive(c, "experimental.n", n_e)
        nr = _positive(c, "reference.n", n_r)
        notes.used.extend(["experimental.n", "reference.n"])
        v = d * ne * nr / (ne + nr) ** 2
        notes.add(
            "assumptions",
            f"log-rank variance from total events and the allocation {ne:g}:{nr:g}, "
            "V = D n_e n_r / (n_e + n_r)^2 (events split as the patients are)",
        )
        inputs = {"total_events": d, "n": [ne, nr]}
    else:
        v = d / 4.0
        notes.add(
            "assumptions",
            "group sizes not reported for both arms: equal (1:1) allocation assumed, V = D/4",
        )
        inputs = {"total_events": d, "n": None}
    return _from_p_and_v(notes, "p_total_events", v, inputs)


def p_patients(comparison: Comparison) -> Estimate:
    """p-value with patients in place of events (SE is a lower bound).

    Formula: as :func:`p_events` with patients instead of events (Tierney
    2007 warns against it), allocation ``n_e:n_r`` and ``N = n_e + n_r``::

        V      = N n_e n_r / (n_e + n_r)^2 = n_e n_r / (n_e + n_r)
        log HR = sign * z / sqrt(V),   SE = 1 / sqrt(V)

    There are at least as many patients as events, so V is overstated: the
    SE is a lower bound and |log HR| is understated. Flagged
    ``se_lower_bound``; never chosen by default.
    """
    c = comparison
    n_e, n_r = c.experimental.n, c.reference.n
    if n_e is None or n_r is None:
        raise NotApplicable("group sizes not reported for both arms", missing=True)
    ne = _positive(c, "experimental.n", n_e)
    nr = _positive(c, "reference.n", n_r)
    notes = _Notes(c, used=["experimental.n", "reference.n"])
    notes.add("flags", "se_lower_bound")
    notes.add(
        "assumptions",
        "V from patients instead of events, V = N n_e n_r / (n_e + n_r)^2: the SE is a lower "
        "bound and |log HR| is understated",
    )
    notes.add("warnings", "SE from patients, not events: a lower bound, not for pooling")
    v = ne * nr / (ne + nr)
    return _from_p_and_v(notes, "p_patients", v, {"n": [ne, nr]})


def _log_median_se(c: Comparison, which: str, arm: Arm, median: float, notes: _Notes) -> float:
    """SE of log(median) of one arm from its CI (log scale)."""
    if arm.ci is None:
        raise NotApplicable(f"no CI for the {which} median", missing=True)
    lo, hi = arm.ci
    z = z_from_level(arm.ci_level)
    notes.used.append(f"{which}.ci")
    if arm.ci_level != 0.95:
        notes.add("assumptions", f"{which} median CI level {arm.ci_level:.4g} read as stated")
    if lo is NR or lo is None:
        raise NotApplicable(f"lower CI bound of the {which} median not reported")
    lo = _positive(c, f"{which}.ci lower bound", lo)
    if not lo <= median:
        raise _bad(c, f"{which} median {median:g} below its CI lower bound {lo:g}")
    if hi is NR or hi is None:
        notes.add("flags", "one_sided_ci")
        notes.add(
            "assumptions",
            f"upper CI bound of the {which} median not reached: SE from the lower bound alone",
        )
        se = (math.log(median) - math.log(lo)) / z
    else:
        hi = _positive(c, f"{which}.ci upper bound", hi)
        if not median <= hi:
            raise _bad(c, f"{which} median {median:g} above its CI upper bound {hi:g}")
        se = (math.log(hi) - math.log(lo)) / (2.0 * z)
    if se <= 0:
        raise NotApplicable(f"the {which} median CI has zero width on the log scale")
    return se


def median_log_ratio(comparison: Comparison) -> float:
    """The point estimate the median-ratio methods share: ``log(median_r / median_e)``.

    Raises :class:`NotApplicable` when a median is missing or not reached.
    """
    me, mr = _medians(comparison)
    return math.log(mr) - math.log(me)


def median_ratio_ci(comparison: Comparison) -> Estimate:
    """Ratio of medians under exponential arms, SE from the per-arm median CIs.

    Formula (Michiels 2005; Tierney 2007 notes the exponential assumption)::

        log HR = log(median_r) - log(median_e)
        se_arm = (log U - log L) / (2 z_level)      per arm
        SE     = sqrt(se_e^2 + se_r^2)

    Upper bound "NR": ``se_arm = (log median - log L) / z_level``, flagged
    ``one_sided_ci``. A median "NR" makes the ratio unavailable.

    With both group sizes reported the SE is at least :func:`se_floor`,
    ``sqrt(1/n_e + 1/n_r)``; a smaller SE (median CIs narrower than the
    trial allows) is raised to it and flagged ``se_floor``, the original kept
    in ``inputs["se_unfloored"]`` (module docstring, "SE floor from the trial
    size").
    """
    c = comparison
    me, mr = _medians(c)
    notes = _Notes(c, used=["experimental.median", "reference.median"])
    notes.add("assumptions", _EXPONENTIAL)
    notes.add("assumptions", "median CIs symmetric on the log scale")
    se_e = _log_median_se(c, "experimental", c.experimental, me, notes)
    se_r = _log_median_se(c, "reference", c.reference, mr, notes)
    inputs = {
        "medians": [me, mr],
        "ci_experimental": [_show(x) for x in c.experimental.ci or ()],  # both read by _log_median_se
        "ci_reference": [_show(x) for x in c.reference.ci or ()],
        "levels": [c.experimental.ci_level, c.reference.ci_level],
        "se_log_median": [se_e, se_r],
    }
    se = _floor_se(notes, math.sqrt(se_e**2 + se_r**2), inputs)
    return notes.finish("median_ratio_ci", math.log(mr) - math.log(me), se, inputs)


def median_ratio_events(comparison: Comparison) -> Estimate:
    """Ratio of medians under exponential arms, SE from events per arm.

    Formula (Michiels 2005; exponential MLE ``lambda = d / T`` has
    ``Var(log lambda) = 1/d``)::

        log HR = log(median_r) - log(median_e)
        SE     = sqrt(1/d_e + 1/d_r)

    No trial-size floor is applied: with ``d_e <= n_e`` and ``d_r <= n_r``
    this SE is already at least :func:`se_floor` ``sqrt(1/n_e + 1/n_r)``.
    """
    c = comparison
    me, mr = _medians(c)
    de, dr = _events(c)
    notes = _Notes(
        c, used=["experimental.median", "reference.median", "experimental.events", "reference.events"]
    )
    notes.add("assumptions", _EXPONENTIAL)
    return notes.finish(
        "median_ratio_events",
        math.log(mr) - math.log(me),
        math.sqrt(1.0 / de + 1.0 / dr),
        {"medians": [me, mr], "events": [de, dr]},
    )


def median_ratio_p(comparison: Comparison) -> Estimate:
    """Ratio of medians under exponential arms, SE from the p-value.

    Formula (Michiels 2005, with Tierney 2007's HR + p step)::

        log HR = log(median_r) - log(median_e)
        SE     = |log HR| / z,   z = Phi^{-1}(1 - p/2)

    ``p`` is the comparison's p-value only (the two-group, log-rank test):
    the median ratio is unadjusted, so an adjusted model's ``hr.p`` is never
    used; with only ``hr.p`` printed the method does not apply. A two-sided
    p above :data:`LARGE_P` is flagged ``unstable_large_p`` (module
    docstring, "Large p-values"). Equal medians (log HR 0) or p = 1 give
    0/0: not applicable.

    With both group sizes reported the SE is at least :func:`se_floor`,
    ``sqrt(1/n_e + 1/n_r)``: medians that barely differ (crossing curves)
    give ``|log HR| / z`` far below what the trial can support, the more so
    the smaller p (POLO, n 92 vs 62, medians 19.0 vs 19.2, p = 0.3487: SE
    0.011 against 0.199 from the printed HR's CI), so a smaller SE is
    raised to the floor and flagged ``se_floor``, the original kept in
    ``inputs["se_unfloored"]`` (module docstring, "SE floor from the trial
    size"). Without both group sizes: no floor.
    """
    c = comparison
    me, mr = _medians(c)
    notes = _Notes(c, used=["experimental.median", "reference.median"])
    notes.add("assumptions", _EXPONENTIAL)
    pv, name = _comparison_p(c)
    z, p = _z_of(notes, pv, name)
    log_hr = math.log(mr) - math.log(me)
    if log_hr == 0.0:
        raise NotApplicable("equal medians: log HR 0 and the SE |log HR|/z is undefined")
    if z == 0.0:
        raise NotApplicable("p of 1: z = 0 and the SE |log HR|/z is undefined")
    if c.direction is not None:
        expected_negative = (c.direction == "favours experimental") != _against_tested_direction(pv)
        if (log_hr < 0) != expected_negative:
            notes.add("warnings", f"the medians disagree with the stated direction ({c.direction})")
    notes.add("assumptions", "the p-value tests the same contrast as the median ratio")
    _warn_large_p(notes, pv, z, "medians")
    inputs = {"medians": [me, mr], "p": pv.text, "sided": pv.sided, "z": z}
    se = _floor_se(notes, abs(log_hr) / z, inputs)
    return notes.finish("median_ratio_p", log_hr, se, inputs)


def _km_ipd(comparison: Comparison) -> Estimate:
    """Patient data reconstructed from the curves (:func:`survmeta.reconstruction.km_effect.km_ipd`)."""
    from survmeta.reconstruction.km_effect import km_ipd

    return km_ipd(comparison)


def _joint(comparison: Comparison) -> Estimate:
    """The joint model (:func:`survmeta.reconstruction.joint.joint`) with the bundled calibration."""
    from survmeta.reconstruction.joint import joint

    return joint(comparison)


#: Method id -> function.
METHOD_FUNCTIONS: dict[str, Callable[[Comparison], Estimate]] = {
    "direct": direct,
    "hr_ci": hr_ci,
    "hr_p": hr_p,
    "logrank_oe": logrank_oe,
    "observed_expected": observed_expected,
    "km_ipd": _km_ipd,
    "joint": _joint,
    "chisq": chisq,
    "p_events": p_events,
    "p_total_events": p_total_events,
    "median_ratio_ci": median_ratio_ci,
    "median_ratio_events": median_ratio_events,
    "median_ratio_p": median_ratio_p,
    "p_patients": p_patients,
}


def run_method(method: str, comparison: Comparison) -> Estimate:
    """Run one method by id; an unknown id raises SurvmetaError listing the known ones."""
    try:
        fn = METHOD_FUNCTIONS[method]
    except KeyError:
        raise SurvmetaError(
            f"unknown reconstruction method {method!r}; known: {', '.join(METHODS)}"
        ) from None
    return fn(comparison)
