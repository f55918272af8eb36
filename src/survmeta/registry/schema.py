"""The registry format: known keys, required keys and vocabularies.

Everything the loader needs to know about which keys may appear where lives
here, so :mod:`survmeta.registry.load` and ``docs/registry.md`` describe the
same format.
"""

from __future__ import annotations

import difflib
from typing import Iterable

__all__ = [
    "SCHEMA_VERSION",
    "TOP_KEYS",
    "QUESTION_REQUIRED",
    "QUESTION_OPTIONAL",
    "STUDY_REQUIRED",
    "STUDY_OPTIONAL",
    "COMPARISON_REQUIRED",
    "COMPARISON_OPTIONAL",
    "OUTCOME_REQUIRED",
    "OUTCOME_OPTIONAL",
    "OUTCOME_KINDS",
    "MEASURES",
    "ARM_REQUIRED",
    "ARM_OPTIONAL",
    "HR_REQUIRED",
    "HR_OPTIONAL",
    "LOGRANK_REQUIRED",
    "FOLLOW_UP_REQUIRED",
    "FOLLOW_UP_OPTIONAL",
    "FOLLOW_UP_UNITS",
    "FOLLOW_UP_KINDS",
    "EVENT_FRACTION_REQUIRED",
    "EFFECT_REQUIRED",
    "CERTAINTY_REQUIRED",
    "CERTAINTY_OPTIONAL",
    "CERTAINTY_RATINGS",
    "ACKNOWLEDGEABLE",
    "STUDY_ACKNOWLEDGEABLE",
    "DESIGNS",
    "DIRECTIONS",
    "TIME_UNITS",
    "TIME_ORIGINS",
    "COMPARABILITY_FIELDS",
    "NOT_POOLABLE",
    "YEAR_RANGE",
    "LOG_HR_LIMIT",
    "SE_RANGE",
    "NR_TEXT",
    "ID_RULE",
    "is_valid_id",
    "closest",
    "did_you_mean",
]

#: The only schema version this release reads.
SCHEMA_VERSION = 1

TOP_KEYS = ("schema_version", "question", "study")

QUESTION_REQUIRED = ("id", "title", "outcome")
QUESTION_OPTIONAL = ("notes", "group", "measure", "certainty", "experimental", "reference")
#: What a question pools: two-arm hazard ratios (the default), single-group proportions or
#: single-group median survival times. ``experimental`` and ``reference`` are required for "hr".
MEASURES = ("hr", "proportion", "median")

STUDY_REQUIRED = ("id", "citation", "year", "design", "population")
STUDY_OPTIONAL = ("n", "doi", "source", "notes", "definitions", "follow_up", "comparison",
                  "outcome", "acknowledged", "risk_of_bias")

#: A single-group outcome ``[[study.outcome]]``; the keys each kind needs are checked by kind.
OUTCOME_REQUIRED = ("question", "kind", "quote", "location")
OUTCOME_OPTIONAL = ("id", "group", "events", "n", "median", "ci", "level", "unit", "notes")
#: ``kind`` of a single-group outcome: ``"proportion"`` (events of n) under a proportion
#: question, ``"median"`` (a median time with its CI) under a median question.
OUTCOME_KINDS = ("proportion", "median")

COMPARISON_REQUIRED = (
    "id",
    "question",
    "endpoint",
    "quote",
    "location",
    "experimental",
    "reference",
)
COMPARISON_OPTIONAL = (
    "population",
    "p",
    "sided",
    "hr",
    "logrank",
    "chisq",
    "total_events",
    "follow_up",
    "event_fraction",
    "effect",
    "direction",
    "subgroup_of",
    "status",
    "time_unit",
    "derived",
    "method",
    "notes",
    "acknowledged",
    "oligo_max_lesions",
    "oligo_max_sites",
    "time_origin",
    "line",
    "rmst_horizon",
    "risk_of_bias",
)

ARM_REQUIRED = ("label",)
ARM_OPTIONAL = ("n", "events", "median", "ci", "level", "expected", "km")

HR_REQUIRED = ("estimate",)
HR_OPTIONAL = ("ci", "level", "adjusted", "p", "sided")

LOGRANK_REQUIRED = ("o_minus_e", "variance")

FOLLOW_UP_REQUIRED = ("median",)
FOLLOW_UP_OPTIONAL = ("unit", "kind")
#: Units a follow-up may be printed in (years too: papers often give follow-up in years).
FOLLOW_UP_UNITS = ("months", "weeks", "days", "years")
#: How a median follow-up was estimated, as papers say it.
FOLLOW_UP_KINDS = ("reverse KM", "survivors", "all patients")

EVENT_FRACTION_REQUIRED = ("low", "high", "reason")
EFFECT_REQUIRED = ("log_hr", "se")

#: A question's ``certainty = { rating, reasons, indirectness }``: the rater's GRADE judgement,
#: recorded as given (survmeta never rates certainty itself).
CERTAINTY_REQUIRED = ("rating",)
CERTAINTY_OPTIONAL = ("reasons", "indirectness")
#: The four GRADE levels of certainty of the evidence.
CERTAINTY_RATINGS = ("high", "moderate", "low", "very low")
RISK_OF_BIAS_REQUIRED = ("tool", "domains", "overall")
RISK_OF_BIAS_OPTIONAL = ("notes",)

#: Field paths of a comparison that ``acknowledged`` may name: every field a
#: warning can be about (``hr.p``, ``hr.ci``, ``total_events``, ``experimental.n``, ...).
ACKNOWLEDGEABLE = tuple(
    [k for k in COMPARISON_REQUIRED + COMPARISON_OPTIONAL
     if k not in ("id", "acknowledged", "notes", "experimental", "reference", "hr", "logrank",
                  "effect", "event_fraction", "risk_of_bias")]
    + [f"hr.{k}" for k in HR_REQUIRED + HR_OPTIONAL]
    + [f"{arm}.{k}" for arm in ("experimental", "reference") for k in ARM_REQUIRED + ARM_OPTIONAL]
    + [f"logrank.{k}" for k in LOGRANK_REQUIRED]
    + [f"effect.{k}" for k in EFFECT_REQUIRED]
    + [f"follow_up.{k}" for k in FOLLOW_UP_REQUIRED + FOLLOW_UP_OPTIONAL]
    # the digitised Kaplan-Meier curve of an arm (survmeta.registry.km)
    + [f"{arm}.km.{k}" for arm in ("experimental", "reference")
       for k in ("points", "csv", "total_events", "at_risk.times")]
)

#: Fields of a study that its ``acknowledged`` may name (the same-paper warnings).
STUDY_ACKNOWLEDGEABLE = ("doi", "citation")

#: Study designs, as the ``design`` key spells them.
DESIGNS = (
    "rct",
    "prospective cohort",
    "retrospective cohort",
    "case series",
    "registry",
    "review",
    "meta-analysis",
    "pooled analysis",
)

DIRECTIONS = ("favours experimental", "favours reference")
TIME_UNITS = ("months", "weeks", "days")

#: Where a comparison's survival time is counted from (``time_origin``): diagnosis of the
#: cancer, randomisation, the start of the ICI whose resistance the question is about, the
#: progression (resistance) on it, the start of the next treatment after that progression, or
#: the start of the ICI rechallenge.
TIME_ORIGINS = ("diagnosis", "randomisation", "ici start", "progression", "next treatment",
                "rechallenge")

#: Comparison fields that describe what makes studies comparable (moderators and subsets);
#: each is also a column of the effect table.
COMPARABILITY_FIELDS = ("oligo_max_lesions", "oligo_max_sites", "time_origin", "line")

#: A ``status`` starting with this (case-insensitive) keeps a comparison out of pooling.
NOT_POOLABLE = "not poolable"

#: Plausible publication years (inclusive).
YEAR_RANGE = (1900, 2100)

#: Largest |log HR| a comparison may give (an HR of e^100; beyond it the HR and its interval
#: cannot be printed or pooled).
LOG_HR_LIMIT = 100.0

#: Smallest and largest SE of a log HR that can be pooled. Below 1e-6 no trial can be (it
#: would take about 4e12 events); above 100 the 95% interval spans e^+-196.
SE_RANGE = (1e-6, 100.0)

#: How "not reached" is written for a median or an upper CI bound.
NR_TEXT = "NR"


#: How an id may be written, for messages.
ID_RULE = 'use letters, digits, "_", "-" or ".", starting with a letter or digit'


def is_valid_id(value: str) -> bool:
    """Whether ``value`` can be an id (it is used in ``"study/comparison"`` keys).

    Parameters
    ----------
    value : str

    Returns
    -------
    bool
        True for ASCII letters, digits, ``_``, ``-`` and ``.``, starting with
        a letter or digit.
    """
    return bool(value) and value[0].isascii() and value[0].isalnum() and all(
        c.isascii() and (c.isalnum() or c in "_-.") for c in value
    )


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word`` (difflib ratio >= 0.6), if any.

    Parameters
    ----------
    word : str
        What the user wrote.
    candidates : iterable of str
        What would have been valid.

    Returns
    -------
    str or None
    """
    matches = difflib.get_close_matches(str(word), list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``' (did you mean "x"?)'`` for the closest candidate, else ``''``."""
    best = closest(word, candidates)
    return f' (did you mean "{best}"?)' if best is not None else ""
