"""Risk-of-bias tools: their domains and judgement vocabularies.

A comparison (or a study, for all its comparisons) may carry a risk-of-bias
assessment made with one of four published tools::

    risk_of_bias = { tool = "ROBINS-I", domains = { confounding = "serious", ... },
                     overall = "serious", notes = "..." }

Each tool's domains are keyed by a short name; :attr:`Domain.name` is the
tool's published domain name and :attr:`Domain.label` the column label
robvis uses (``D1``, ``D2``, ...). Judgements are written in lower case as
the tools word them. The Newcastle-Ottawa Scale (cohort version) scores
stars per domain (selection 0-4, comparability 0-2, outcome 0-3) and rates
the study good / fair / poor overall (the AHRQ thresholds).

Sources: Sterne et al., BMJ 2019;366:l4898 (RoB 2); Sterne et al., BMJ
2016;355:i4919 (ROBINS-I); Hayden et al., Ann Intern Med 2013;158:280-6
(QUIPS); Wells et al., the Newcastle-Ottawa Scale, Ottawa Hospital Research
Institute.

Only the standard library is used.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Domain", "RobTool", "ROB_TOOLS", "JUDGEMENT_LEVEL", "judgement_level",
           "nos_star_level"]


@dataclass(frozen=True)
class Domain:
    """One domain of a risk-of-bias tool.

    Attributes
    ----------
    key : str
        Key in ``domains = { ... }``.
    label : str
        Short column label (``"D1"``).
    name : str
        The tool's published domain name.
    max_stars : int or None
        For the Newcastle-Ottawa Scale, the most stars the domain can score;
        None for tools rated by judgement.
    """

    key: str
    label: str
    name: str
    max_stars: int | None = None


@dataclass(frozen=True)
class RobTool:
    """A risk-of-bias tool.

    Attributes
    ----------
    name : str
        As written in ``tool = "..."``.
    domains : tuple of Domain
        In the tool's order.
    judgements : tuple of str
        Judgements a domain may take (empty for star-scored domains).
    overall : tuple of str
        Judgements the overall rating may take.
    """

    name: str
    domains: tuple[Domain, ...]
    judgements: tuple[str, ...]
    overall: tuple[str, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        """Domain keys in order."""
        return tuple(d.key for d in self.domains)

    def domain(self, key: str) -> Domain:
        """The domain with ``key``."""
        for d in self.domains:
            if d.key == key:
                return d
        raise KeyError(key)


def _domains(*rows: tuple[str, str] | tuple[str, str, int]) -> tuple[Domain, ...]:
    return tuple(Domain(row[0], f"D{i}", row[1], row[2] if len(row) == 3 else None)
                 for i, row in enumerate(rows, start=1))


ROB2 = RobTool(
    "RoB 2",
    _domains(
        ("randomisation", "Bias arising from the randomization process"),
        ("deviations", "Bias due to deviations from intended interventions"),
        ("missing_data", "Bias due to missing outcome data"),
        ("measurement", "Bias in measurement of the outcome"),
        ("reported_result", "Bias in selection of the reported result"),
    ),
    ("low", "some concerns", "high"),
    ("low", "some concerns", "high"),
)

ROBINS_I = RobTool(
    "ROBINS-I",
    _domains(
        ("confounding", "Bias due to confounding"),
        ("selection", "Bias in selection of participants into the study"),
        ("classification", "Bias in classification of interventions"),
        ("deviations", "Bias due to deviations from intended interventions"),
        ("missing_data", "Bias due to missing data"),
        ("measurement", "Bias in measurement of outcomes"),
        ("reported_result", "Bias in selection of the reported result"),
    ),
    ("low", "moderate", "serious", "critical", "no information"),
    ("low", "moderate", "serious", "critical", "no information"),
)

QUIPS = RobTool(
    "QUIPS",
    _domains(
        ("participation", "Study participation"),
        ("attrition", "Study attrition"),
        ("prognostic_factor", "Prognostic factor measurement"),
        ("outcome_measurement", "Outcome measurement"),
        ("confounding", "Study confounding"),
        ("analysis", "Statistical analysis and reporting"),
    ),
    ("low", "moderate", "high"),
    ("low", "moderate", "high"),
)

NOS = RobTool(
    "NOS",
    _domains(
        ("selection", "Selection", 4),
        ("comparability", "Comparability", 2),
        ("outcome", "Outcome", 3),
    ),
    (),
    ("good", "fair", "poor"),
)

#: The tools by the name written in ``tool = "..."``.
ROB_TOOLS: dict[str, RobTool] = {t.name: t for t in (ROB2, ROBINS_I, QUIPS, NOS)}

#: Each judgement's traffic-light level: 0 low (green), 1 some concerns / moderate (yellow),
#: 2 high / serious (red), 3 critical (dark red), None no information (grey).
JUDGEMENT_LEVEL: dict[str, int | None] = {
    "low": 0, "good": 0,
    "some concerns": 1, "moderate": 1, "fair": 1,
    "high": 2, "serious": 2, "poor": 2,
    "critical": 3,
    "no information": None,
}

#: NOS stars at or above which a domain counts as good / fair (AHRQ thresholds).
_NOS_THRESHOLDS = {"selection": (3, 2), "comparability": (1, 1), "outcome": (2, 2)}


def nos_star_level(key: str, stars: int) -> int:
    """Traffic-light level of a Newcastle-Ottawa domain's star count.

    Good (0) at selection >= 3, comparability >= 1, outcome >= 2; fair (1) at
    selection 2; poor (2) below, following the AHRQ conversion.
    """
    good, fair = _NOS_THRESHOLDS[key]
    return 0 if stars >= good else 1 if stars >= fair else 2


def judgement_level(value: str | int, domain_key: str | None = None) -> int | None:
    """Traffic-light level of a judgement (or of NOS stars for ``domain_key``)."""
    if isinstance(value, int):
        if domain_key is None:
            raise ValueError("a star count needs its NOS domain")
        return nos_star_level(domain_key, value)
    return JUDGEMENT_LEVEL[value]
