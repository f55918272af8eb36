"""Rhodes et al. (2015) predictive distributions for the heterogeneity tau^2.

Rhodes KM, Turner RM, Higgins JPT. Predictive distributions were developed for
the extent of heterogeneity in meta-analyses of continuous outcome data.
*Journal of Clinical Epidemiology* 68(1):52-60, 2015 (doi:10.1016/j.jclinepi.2014.08.012).
From meta-analyses of **standardized mean differences** in the Cochrane
Database of Systematic Reviews they derived log-Student-t predictive
distributions, with 5 degrees of freedom, for tau^2: ``log(tau^2) ~ t_5(location,
scale)``, by outcome type and type of comparison (Table 3), and for two medical
areas (respiratory diseases, Table A.3.1; cancer, Table A.3.2). The general
setting without covariates has location -3.44 and scale 2.59 (start of their
Sec. 3.3).

The values are the ones tabulated in the ``RhodesEtAlParameters`` array of the
R package bayesmeta 3.4 (source file ``R/bayesmeta.R``, which cites the same
tables); bayesmeta's ``RhodesEtAlPrior()`` gives the same densities. The paper
itself could not be consulted, so they are checked against that transcription
and against the structure of the paper's model, in which the location is a sum
of an outcome, a comparison and an area effect: in the transcription every
location is such a sum to within the rounding of the printed values (+-0.01)
except two cells, which are left out (asking for them is an error rather than
a possibly wrong prior):

* mental health outcomes, non-pharmacological comparisons, Table 3: bayesmeta
  has -3.85, the additive structure gives -2.85;
* internal and external structure-related outcomes, pharmacological vs
  placebo / control, cancer (Table A.3.2): bayesmeta has -0.13, the structure
  gives +0.13 (a sign).

These distributions are on the scale of standardized mean differences; for log
hazard ratios they are not calibrated (the Turner et al. 2015 priors, derived
for log odds ratios, are closer). They are offered for parity with bayesmeta.

Accuracy: a log-t density on tau^2 is infinite at tau = 0 and puts prior mass of
order 1 / (5 |log tau|^5) below any small tau; the exact engine's grid stops at
tau = 1e-12 times the median standard error, so with these priors its results
are accurate to about 1e-5 (relative) rather than 1e-9 (tests/priors/test_priors_rhodes.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from survmeta.errors import SurvmetaError

#: outcome types of Table 3: (short key, full name)
OUTCOMES: tuple[tuple[str, str], ...] = (
    ("obstetric", "obstetric outcome"),
    ("resource-use", "resource use and hospital stay / process"),
    ("internal", "internal and external structure-related outcome"),
    ("general-health", "general physical health and adverse event and pain and quality of "
                       "life / functioning"),
    ("signs-symptoms", "signs / symptoms reflecting continuation / end of condition and "
                       "infection / onset of new acute / chronic disease"),
    ("mental-health", "mental health outcome"),
    ("biological-markers", "biological marker"),
    ("subjective", "various subjectively measured outcomes"),
)

#: comparison types: (short key, full name)
COMPARISONS: tuple[tuple[str, str], ...] = (
    ("pharma-vs-placebo", "pharmacological vs. placebo / control"),
    ("pharma-vs-pharma", "pharmacological vs. pharmacological"),
    ("nonpharma", "non-pharmacological (any)"),
)

#: medical areas: (short key, table)
AREAS: tuple[tuple[str, str], ...] = (
    ("other", "Table 3"),
    ("respiratory", "Table A.3.1"),
    ("cancer", "Table A.3.2"),
)

# location of log(tau^2): [area][comparison][outcome], orders as above
_LOCATION = (
    ((-4.13, -2.55, -2.43, -3.16, -3.00, -2.99, -3.41, -2.76),
     (-4.40, -2.83, -2.70, -3.44, -3.27, -3.27, -3.68, -3.03),
     (-3.99, -2.41, -2.29, -3.02, -2.86, None, -3.27, -2.62)),
    ((-6.03, -4.46, -4.33, -5.07, -4.90, -4.90, -5.31, -4.66),
     (-6.31, -4.73, -4.61, -5.34, -5.18, -5.17, -5.59, -4.94),
     (-5.89, -4.32, -4.19, -4.93, -4.76, -4.76, -5.17, -4.52)),
    ((-1.57, 0.01, None, -0.60, -0.44, -0.43, -0.85, -0.20),
     (-1.85, -0.27, -0.14, -0.88, -0.71, -0.71, -1.13, -0.48),
     (-1.43, 0.15, 0.27, -0.46, -0.30, -0.29, -0.71, -0.06)),
)
# scale of log(tau^2), same layout
_SCALE = (
    ((2.34, 2.73, 2.50, 2.50, 2.50, 2.16, 2.83, 2.58),
     (2.31, 2.70, 2.46, 2.44, 2.47, 2.14, 2.78, 2.59),
     (2.11, 2.57, 2.32, 2.27, 2.33, 1.93, 2.66, 2.41)),
    ((2.36, 2.74, 2.51, 2.51, 2.50, 2.17, 2.83, 2.59),
     (2.31, 2.70, 2.46, 2.45, 2.47, 2.14, 2.78, 2.59),
     (2.21, 2.57, 2.33, 2.28, 2.33, 1.94, 2.66, 2.41)),
    ((2.45, 2.83, 2.61, 2.61, 2.60, 2.28, 2.93, 2.68),
     (2.41, 2.79, 2.56, 2.55, 2.57, 2.25, 2.87, 2.68),
     (2.24, 2.68, 2.45, 2.40, 2.46, 2.08, 2.78, 2.53)),
)

#: the general setting (no covariates), Rhodes et al. 2015 Sec. 3.3
MARGINAL = (-3.44, 2.59)
#: degrees of freedom of the log-t distributions
DF = 5.0


@dataclass(frozen=True)
class RhodesPrior:
    """One setting of Rhodes et al. (2015): ``log(tau^2) ~ t_df(location, scale)``.

    Attributes
    ----------
    outcome, comparison, area : str
        Full names (``"any"`` for the general setting).
    location, scale, df : float
    """

    outcome: str
    comparison: str
    area: str
    location: float
    scale: float
    df: float = DF


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
    valid = ", ".join(f"{key!r}" for key, _ in table)
    raise SurvmetaError(f"unknown Rhodes {what} {name!r}; valid {what}s: {valid}")


def rhodes_parameters(outcome: str, comparison: str | None = None,
                      area: str = "other") -> RhodesPrior:
    """Look up the log-t parameters of ``log(tau^2)``.

    Parameters
    ----------
    outcome : str
        Outcome type: a short key (e.g. ``"mental-health"``), the full name of
        Table 3, or a unique prefix; ``"any"`` for the general setting.
    comparison : str, optional
        ``"pharma-vs-placebo"``, ``"pharma-vs-pharma"`` or ``"nonpharma"``
        (any comparison involving a non-pharmacological intervention); not
        given with outcome ``"any"``.
    area : str
        ``"other"`` (Table 3, default), ``"respiratory"`` or ``"cancer"``.

    Returns
    -------
    RhodesPrior

    Raises
    ------
    SurvmetaError
        For an unknown or ambiguous name, and for the one cell left out (see
        the module docstring).
    """
    if _norm(outcome) == "any":
        if comparison is not None and _norm(comparison) != "any":
            raise SurvmetaError("Rhodes prior: the general setting is rhodes(any), without a "
                                "comparison type")
        return RhodesPrior("any", "any", "any", *MARGINAL)
    if comparison is None:
        raise SurvmetaError("Rhodes prior: give an outcome and a comparison type, e.g. "
                            "rhodes(mental-health, pharma-vs-placebo), or rhodes(any)")
    i = _match(outcome, OUTCOMES, "outcome")
    j = _match(comparison, COMPARISONS, "comparison")
    a = _match(area, AREAS, "area")
    location = _LOCATION[a][j][i]
    if location is None:
        raise SurvmetaError(
            f"Rhodes prior: the location for outcome '{OUTCOMES[i][0]}', comparison "
            f"'{COMPARISONS[j][0]}', area '{AREAS[a][0]}' could not be verified (the "
            "transcribed table breaks the paper's additive model there; see "
            "survmeta.exact.rhodes); give the prior explicitly as "
            f"logt_tau2(location, {_SCALE[a][j][i]}, 5)")
    return RhodesPrior(OUTCOMES[i][1], COMPARISONS[j][1], AREAS[a][0], location,
                       _SCALE[a][j][i])
