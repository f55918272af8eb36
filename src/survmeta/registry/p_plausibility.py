"""Plausibility of a comparison's p-value against its HR or its two medians.

A comparison's ``p`` (usually a log-rank test) and what else the paper printed
for it measure the same difference, so a p far from what those numbers allow
is usually a slip: a p copied from another row, a misplaced decimal, a HR
paired with the wrong p. Both rules below compare on the z scale
(``z = Phi^-1(1 - p/2)``, two-sided), over every value the printed numbers
can stand for (half a unit in their last printed decimal, at least two
decimals for HRs and medians; as many as printed for p).

**p against an unadjusted HR and its CI** (:func:`check_p_vs_hr`). The HR
and its CI imply a Wald z, ``|log HR| / SE`` with
``SE = (log hi - log lo) / (2 z_level)``; for an unadjusted HR a log-rank
or score p is asymptotically the same test. Warned when the printed p's z
range and the implied z range are more than :data:`HR_Z_GAP` apart. On the
101 published trials of ``data/validation/`` (a Cox HR with a log-rank p,
often stratified) the largest gap is 0.49; HR 0.95 (0.90-1.01) printed with
P = 0.001 is 1.06 apart (implied z at most 2.11, printed at least 3.17). An
HR marked ``adjusted = true`` is not compared (its p is usually
univariable), nor is a p printed as ``">"``, ``"NS"``, or an HR's own
``hr.p`` (checked exactly by :func:`survmeta.registry.validate.check_hr_p`).

**p against the two medians** (:func:`check_p_vs_medians`). Under
exponential arms with proportional hazards the HR is the inverse median
ratio, and the log-rank information is at most ``V_max = n_e n_r / N``
(every patient an event), so the log-rank z is at most about
``z_max = sqrt(V_max) |log(m_e / m_r)|`` (the largest ratio the rounding of
the medians allows). Two things make a real z larger: the median ratio is a
noisy estimate of the HR (under exponential arms the median-based z differs
from the log-rank z with SD about 1.04: ``var(log median) = 1 / (n log(2)^2)``
against ``1 / n`` for the efficient estimate), and non-exponential hazards
(a Weibull shape ``k`` makes ``log HR = k log(median ratio)``). Warned when
the smallest z the printed p can stand for exceeds
``MEDIAN_Z_FACTOR * z_max + MEDIAN_Z_MARGIN`` = ``2 z_max + 3`` (shapes up to
2, three SDs of noise). Medians 10 vs 9.5 with 50 patients per arm allow
z_max = 0.26 and so at most 3.52: P < 0.0001 (z 3.89) warns, P = 0.001
(z 3.29) does not. On the 92 trials of ``data/validation/`` with both
medians and group sizes, the largest ``z - 2 z_max`` is 1.22. Crossing
survival curves (common with immunotherapy) can give a small p with close
medians: acknowledge the warning then.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from survmeta.registry.context import Where
from survmeta.registry.records import Comparison, PValue, _NotReached
from survmeta.registry.validate import _printed_decimals, implied_p_range, printed_p_range

__all__ = ["HR_Z_GAP", "MEDIAN_Z_FACTOR", "MEDIAN_Z_MARGIN", "check_p_vs_hr",
           "check_p_vs_medians", "median_z_max", "z_of_p"]

#: Largest gap (z units) between a comparison's p and an unadjusted HR's implied z.
HR_Z_GAP = 1.0
#: The median rule allows z up to MEDIAN_Z_FACTOR * z_max + MEDIAN_Z_MARGIN.
MEDIAN_Z_FACTOR = 2.0
MEDIAN_Z_MARGIN = 3.0


def z_of_p(p: float) -> float:
    """Two-sided z of a p-value, ``-Phi^-1(p / 2)`` (``inf`` for p = 0).

    Computed from the lower tail so that a p below 1e-16 (``"1e-300"``) keeps
    its z instead of rounding ``1 - p / 2`` to 1.
    """
    if p <= 0:
        return math.inf
    if p >= 1:
        return 0.0
    return -NormalDist().inv_cdf(p / 2.0)


def _printed_z_range(p: PValue | None) -> tuple[float, float] | None:
    """(smallest, largest) z the printed p can stand for; None for "NS", ">" and no p."""
    if p is None or p.relation in ("NS", ">"):
        return None
    rng = printed_p_range(p)
    if rng is None:
        return None
    return z_of_p(rng[1]), z_of_p(rng[0])


def _how() -> str:
    return ('; if the numbers are as printed, acknowledge it on the comparison: '
            'acknowledged = ["p"], with notes saying why')


def check_p_vs_hr(where: Where, comp: Comparison) -> None:
    """Warn when the comparison's p is far from the z of an unadjusted HR and its CI.

    See the module docstring for the rule and its tolerance.
    """
    hr = comp.hr
    if hr is None or hr.adjusted is True or hr.ci is None:
        return
    lo, hi = hr.ci
    if isinstance(lo, _NotReached) or isinstance(hi, _NotReached):
        return
    printed = _printed_z_range(comp.p)
    if printed is None or comp.p is None or not lo < hi:
        return
    implied = implied_p_range(hr.estimate, lo, hi, hr.level)
    if implied is None:
        return
    z_lo, z_hi = z_of_p(implied[1]), z_of_p(implied[0])
    gap = max(printed[0] - z_hi, z_lo - printed[1])
    if gap <= HR_Z_GAP:
        return
    where.warn("p", f"p {comp.p.text} (z {_z(printed)}) is far from the HR {hr.estimate:g} "
                    f"[{lo:g}, {hi:g}] (z = |log HR| / SE, SE from the CI: "
                    f"{_z((z_lo, z_hi))} allowing for the rounding): {gap:.2f} apart in z, more "
                    f"than the {HR_Z_GAP:g} a log-rank p and an unadjusted HR's CI differ by; "
                    "check the p, the HR and its CI (an adjusted HR: adjusted = true)" + _how())


def _z(r: tuple[float, float]) -> str:
    lo, hi = r
    if math.isinf(hi):
        return f"at least {lo:.2f}"
    return f"{lo:.2f}" if abs(hi - lo) < 0.005 else f"{lo:.2f} to {hi:.2f}"


def median_z_max(m_e: float, m_r: float, n_e: int, n_r: int) -> float:
    """``sqrt(n_e n_r / N) * |log(m_e / m_r)|``, the ratio at its largest within the rounding."""
    def box(x: float) -> tuple[float, float]:
        u = 0.5 * 10.0 ** (-_printed_decimals(x))
        return max(x - u, x / 2), x + u  # x / 2: a positive lower end for tiny medians

    (e_lo, e_hi), (r_lo, r_hi) = box(m_e), box(m_r)
    ratio = max(abs(math.log(e_hi / r_lo)), abs(math.log(e_lo / r_hi)))
    return math.sqrt(n_e * n_r / (n_e + n_r)) * ratio


def check_p_vs_medians(where: Where, comp: Comparison) -> None:
    """Warn when the comparison's p is far smaller than the two medians and group sizes allow.

    See the module docstring for the rule and its tolerance.
    """
    e, r = comp.experimental, comp.reference
    if e is None or r is None:
        return
    m_e, m_r, n_e, n_r = e.median, r.median, e.n, r.n
    if not (isinstance(m_e, (int, float)) and isinstance(m_r, (int, float))
            and isinstance(n_e, int) and isinstance(n_r, int) and min(m_e, m_r, n_e, n_r) > 0):
        return  # a median not reached or not printed, or a group size missing
    printed = _printed_z_range(comp.p)
    if printed is None or comp.p is None:
        return
    z_max = median_z_max(m_e, m_r, n_e, n_r)
    allowed = MEDIAN_Z_FACTOR * z_max + MEDIAN_Z_MARGIN
    if printed[0] <= allowed:
        return
    where.warn("p", f"p {comp.p.text} (z {_z(printed)}) is implausibly small for medians "
                    f"{e.median:g} vs {r.median:g} with {e.n} and {r.n} patients: exponential "
                    f"arms with every patient an event give at most z = {z_max:.2f} "
                    "(sqrt(n_e n_r / N) |log median ratio|), and the rule allows up to "
                    f"{MEDIAN_Z_FACTOR:g} z + {MEDIAN_Z_MARGIN:g} = {allowed:.2f}; check the p, "
                    "the medians and the group sizes (crossing survival curves can explain it)"
                    + _how())
