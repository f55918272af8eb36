"""Turner et al. (2015) predictive distributions for the heterogeneity tau^2.

Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT. Predictive distributions
for between-study heterogeneity and simple methods for their application in
Bayesian meta-analysis. *Statistics in Medicine* 34(6):984-998, 2015, Table IV.
The table gives, per outcome type and type of intervention comparison, the mean
and standard deviation of ``log(tau^2)`` of a log-normal predictive distribution
for the between-study variance of **log odds ratios** (meta-analyses of binary
outcomes in the Cochrane Database of Systematic Reviews). The values are the
ones tabulated in the ``TurnerEtAlParameters`` array of the R package bayesmeta
(source file ``R/bayesmeta.R``), which cites the same table; the "any"/"any"
marginal setting (mean -2.56, SD 1.74) is the one of p. 993 of the paper.

Using these distributions for log hazard ratios is an approximation: the
scale of log HRs is close to that of log ORs for rare events, but the
distributions were not derived from time-to-event meta-analyses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from survmeta.errors import SurvmetaError

#: outcome types of Table IV: (short key, full name)
OUTCOMES: tuple[tuple[str, str], ...] = (
    ("all-cause-mortality", "all-cause mortality"),
    ("obstetric", "obstetric outcomes"),
    ("cause-specific-mortality", "cause-specific mortality / major morbidity event / "
     "composite (mortality or morbidity)"),
    ("resource-use", "resource use / hospital stay / process"),
    ("surgical", "surgical / device related success / failure"),
    ("withdrawals", "withdrawals / drop-outs"),
    ("internal", "internal / structure-related outcomes"),
    ("general-health", "general physical health indicators"),
    ("adverse-events", "adverse events"),
    ("infection", "infection / onset of new disease"),
    ("signs-symptoms", "signs / symptoms reflecting continuation / end of condition"),
    ("pain", "pain"),
    ("quality-of-life", "quality of life / functioning (dichotomized)"),
    ("mental-health", "mental health indicators"),
    ("biological-markers", "biological markers (dichotomized)"),
    ("subjective", "subjective outcomes (various)"),
)

#: intervention comparison types of Table IV: (short key, full name)
COMPARISONS: tuple[tuple[str, str], ...] = (
    ("pharma-vs-placebo", "pharmacological vs. placebo / control"),
    ("pharma-vs-pharma", "pharmacological vs. pharmacological"),
    ("nonpharma-vs-placebo", "non-pharmacological vs. placebo / control"),
    ("nonpharma-vs-pharma", "non-pharmacological vs. pharmacological"),
    ("nonpharma-vs-nonpharma", "non-pharmacological vs. non-pharmacological"),
)

# Means of log(tau^2), one tuple per comparison type (order of COMPARISONS),
# each in the order of OUTCOMES.
_MEANS = (
    (-3.95, -3.52, -3.71, -2.34, -2.14, -2.99, -2.71, -2.29, -1.87, -2.49, -2.06, -1.83,
     -2.54, -2.12, -1.77, -2.70),
    (-4.18, -3.75, -3.95, -2.58, -2.37, -3.23, -2.94, -2.53, -2.10, -2.73, -2.29, -2.06,
     -2.78, -2.35, -2.00, -2.93),
    (-4.17, -3.74, -3.93, -2.56, -2.36, -3.21, -2.93, -2.51, -2.10, -2.71, -2.28, -2.05,
     -2.77, -2.34, -1.99, -2.92),
    (-2.92, -2.49, -2.68, -1.31, -1.11, -1.96, -1.67, -1.26, -0.84, -1.46, -1.03, -0.80,
     -1.51, -1.09, -0.74, -1.67),
    (-3.50, -3.08, -3.27, -1.90, -1.69, -2.55, -2.26, -1.85, -1.43, -2.05, -1.61, -1.38,
     -2.10, -1.67, -1.33, -2.26),
)
# Standard deviations of log(tau^2), same layout.
_SDS = (
    (1.34, 1.74, 1.74, 1.74, 1.74, 1.74, 1.74, 1.53, 1.52, 1.52, 1.51, 1.52, 1.54, 1.53,
     1.52, 1.52),
    (1.41, 1.79, 1.79, 1.79, 1.79, 1.79, 1.79, 1.58, 1.58, 1.58, 1.58, 1.58, 1.60, 1.60,
     1.58, 1.58),
    (1.55, 1.91, 1.91, 1.91, 1.91, 1.91, 1.92, 1.72, 1.71, 1.71, 1.71, 1.71, 1.73, 1.72,
     1.71, 1.71),
    (1.02, 1.50, 1.51, 1.50, 1.50, 1.51, 1.51, 1.25, 1.24, 1.24, 1.24, 1.25, 1.27, 1.27,
     1.24, 1.25),
    (1.26, 1.68, 1.68, 1.68, 1.68, 1.68, 1.68, 1.46, 1.45, 1.45, 1.45, 1.45, 1.47, 1.47,
     1.45, 1.45),
)

#: the marginal setting (no covariates), Turner et al. 2015 p. 993
MARGINAL = (-2.56, 1.74)


@dataclass(frozen=True)
class TurnerPrior:
    """One row of Turner et al. (2015) Table IV.

    Attributes
    ----------
    outcome, comparison : str
        Full outcome and comparison type names (``"any"`` for the marginal setting).
    mu, sigma : float
        Mean and SD of ``log(tau^2)``.
    """

    outcome: str
    comparison: str
    mu: float
    sigma: float


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _match(name: str, table: tuple[tuple[str, str], ...], what: str) -> int:
    """Index of ``name`` in ``table`` by short key, full name, or unique prefix."""
    wanted = _norm(name)
    for i, (key, full) in enumerate(table):
        if wanted in (_norm(key), _norm(full)):
            return i
    hits = [i for i, (key, full) in enumerate(table)
            if wanted and (_norm(key).startswith(wanted) or _norm(full).startswith(wanted))]
    if len(hits) == 1:
        return hits[0]
    valid = ", ".join(f"{key!r} ({full})" for key, full in table)
    raise SurvmetaError(f"unknown Turner {what} {name!r}; valid {what}s: {valid}")


def turner_parameters(outcome: str, comparison: str) -> TurnerPrior:
    """Look up the log-normal parameters of ``log(tau^2)``.

    Parameters
    ----------
    outcome : str
        Outcome type: a short key (e.g. ``"all-cause-mortality"``), the full name
        of Table IV, or a unique prefix; ``"any"`` for the marginal setting.
    comparison : str
        Comparison type, e.g. ``"pharma-vs-placebo"`` or
        ``"pharmacological vs. placebo / control"``; ``"any"`` with outcome ``"any"``.

    Returns
    -------
    TurnerPrior

    Raises
    ------
    SurvmetaError
        For an unknown or ambiguous name; the message lists the valid names.
    """
    if _norm(outcome) == "any" or _norm(comparison) == "any":
        if _norm(outcome) != "any" or _norm(comparison) != "any":
            raise SurvmetaError("Turner prior: 'any' must be used for both the outcome "
                                "and the comparison (the marginal setting)")
        return TurnerPrior("any", "any", *MARGINAL)
    i = _match(outcome, OUTCOMES, "outcome")
    j = _match(comparison, COMPARISONS, "comparison")
    return TurnerPrior(OUTCOMES[i][1], COMPARISONS[j][1], _MEANS[j][i], _SDS[j][i])
