"""Validated registry records.

These frozen dataclasses are the contract between the registry loader
(:mod:`survmeta.registry.load`) and everything downstream (reconstruction,
pooling, reports). They hold exactly what a paper printed, typed, with the
line in the source file each record starts on so later stages can point back
to it. Nothing here computes an effect size.

Conventions
-----------
* Arms are named for the question's orientation: the hazard ratio of a
  comparison is ``hazard(experimental) / hazard(reference)``.
* A value printed as "not reached" is the singleton :data:`NR`.
* Times are in ``Comparison.time_unit`` (months unless stated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Union

if TYPE_CHECKING:
    from survmeta.registry.km import KMCurve


class _NotReached:
    """Singleton for a median or CI bound printed as "not reached" (NR)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NR"

    def __str__(self) -> str:
        return "NR"

    def __reduce__(self):
        return (_NotReached, ())


NR = _NotReached()

Bound = Union[float, _NotReached]

#: Which way a comparison's printed HR points, and the unit of its times.
Direction = Literal["favours experimental", "favours reference"]
TimeUnit = Literal["months", "weeks", "days"]


@dataclass(frozen=True)
class PValue:
    """A p-value as printed.

    Attributes
    ----------
    text : str
        Exactly as printed ("0.003", "<0.001", "NS").
    value : float or None
        The number in the text (the bound for "<0.001"); None for "NS".
    relation : {"=", "<", ">", "NS"}
        "=" for an exact value, "<"/">" for an inequality, "NS" for
        "not significant" with no number.
    sided : {1, 2}
        Two-sided unless the paper says one-sided.
    """

    text: str
    value: float | None
    relation: Literal["=", "<", ">", "NS"]
    sided: int = 2

    @property
    def is_exact(self) -> bool:
        return self.relation == "="


@dataclass(frozen=True)
class Arm:
    """One group of a comparison, as reported."""

    label: str
    n: int | None = None
    events: int | None = None
    median: Bound | None = None
    ci: tuple[Bound, Bound] | None = None
    ci_level: float = 0.95
    expected: float | None = None  # expected events under H0 (log-rank table)
    km: "KMCurve | None" = None  # digitised Kaplan-Meier curve (survmeta.registry.km)


@dataclass(frozen=True)
class ReportedHR:
    """A hazard ratio printed by the paper, experimental vs reference."""

    estimate: float
    ci: tuple[Bound, Bound] | None = None
    level: float = 0.95
    adjusted: bool | None = None
    p: PValue | None = None


@dataclass(frozen=True)
class LogRank:
    """Log-rank O - E and its variance V for the experimental arm."""

    o_minus_e: float
    variance: float


@dataclass(frozen=True)
class DirectEffect:
    """A log HR and SE given directly (another meta-analysis, a CSV)."""

    log_hr: float
    se: float


@dataclass(frozen=True)
class FollowUp:
    """The median follow-up a paper prints for a comparison (or the whole study).

    Attributes
    ----------
    median : float
        The median follow-up, in ``unit``.
    unit : {"months", "weeks", "days", "years"}
    kind : str or None
        How it was estimated, as the paper says: ``"reverse KM"`` (potential
        follow-up), ``"survivors"`` (among patients still alive or censored),
        ``"all patients"`` or None when the paper does not say.
    """

    median: float
    unit: str = "months"
    kind: str | None = None


@dataclass(frozen=True)
class EventFraction:
    """A reviewer's range for the share of patients with an event by the analysis.

    Replaces the calibrated event-fraction prior of the joint reconstruction
    (:mod:`survmeta.reconstruction.joint`) for populations unlike the calibration
    trials. ``low`` and ``high`` are read as a 95% range on the log scale.
    """

    low: float
    high: float
    reason: str


@dataclass(frozen=True)
class RiskOfBias:
    """A risk-of-bias assessment ``risk_of_bias = { tool, domains, overall, notes }``.

    ``domains`` holds ``(key, judgement)`` pairs in the tool's order (see
    :mod:`survmeta.registry.rob_tools`); a Newcastle-Ottawa judgement is a
    star count (int). Domains the registry leaves out are absent.
    """

    tool: str
    domains: tuple[tuple[str, str | int], ...] = ()
    overall: str | None = None
    notes: str | None = None

    def judgement(self, key: str) -> str | int | None:
        """The judgement of domain ``key``, None when not given."""
        return dict(self.domains).get(key)


@dataclass(frozen=True)
class Comparison:
    """One comparison of two groups on one time-to-event endpoint."""

    id: str
    study_id: str
    question: str
    endpoint: str
    quote: str
    location: str
    experimental: Arm
    reference: Arm
    population: str | None = None
    p: PValue | None = None
    hr: ReportedHR | None = None
    logrank: LogRank | None = None
    chisq: float | None = None  # log-rank chi-square statistic, 1 df
    total_events: int | None = None  # events in both arms together, when only the total is printed
    follow_up: FollowUp | None = None  # median follow-up (the study's when the comparison has none)
    event_fraction: EventFraction | None = None  # reviewer's event-fraction range for the joint model
    effect: DirectEffect | None = None
    direction: Direction | None = None
    subgroup_of: str | None = None
    status: str | None = None  # "not poolable: <why>" keeps it out of pooling
    time_unit: TimeUnit = "months"
    derived: tuple[str, ...] = ()
    method: str | None = None  # forces a reconstruction method
    notes: str | None = None
    acknowledged: tuple[str, ...] = ()  # fields whose check warnings are known and explained in notes
    line: int | None = None  # line of the [[study.comparison]] header
    # What makes studies comparable (docs/registry.md, "Comparability fields"):
    oligo_max_lesions: int | None = None  # oligo-progression: at most this many progressing lesions
    oligo_max_sites: int | None = None  # oligo-progression: at most this many progressing sites/organs
    time_origin: str | None = None  # survival counted from: one of schema.TIME_ORIGINS
    therapy_line: int | None = None  # line of therapy of the initial ICI (registry key `line`)
    rmst_horizon: float | None = None  # horizon of the RMST difference from Kaplan-Meier curves
    risk_of_bias: RiskOfBias | None = None  # the comparison's own or its study's assessment

    @property
    def key(self) -> str:
        """``"study/comparison"``, unique within a registry."""
        return f"{self.study_id}/{self.id}"

    @property
    def poolable(self) -> bool:
        """False when the registry marks the comparison as not poolable."""
        return self.status is None or not self.status.lower().startswith("not poolable")


@dataclass(frozen=True)
class Certainty:
    """The rater's GRADE judgement of a question's evidence, as recorded in the registry.

    survmeta never rates certainty: this is the reviewer's judgement, shown next to the
    GRADE inputs (:mod:`survmeta.grade`) that inform it.

    Attributes
    ----------
    rating : {"high", "moderate", "low", "very low"}
    reasons : tuple of str
        Why the rating (e.g. "downgraded for imprecision: CrI crosses 1").
    indirectness : str or None
        The rater's note on indirectness (population, intervention, outcome).
    """

    rating: str
    reasons: tuple[str, ...] = ()
    indirectness: str | None = None


@dataclass(frozen=True)
class Outcome:
    """A single-group result (``[[study.outcome]]``): a proportion or a median time.

    Attributes
    ----------
    study_id, question : str
        The study it comes from and the question it answers.
    kind : {"proportion", "median"}
        ``"proportion"``: ``events`` of ``n`` patients; ``"median"``: ``median``
        (or :data:`NR`) with ``ci`` at ``ci_level`` in ``unit``.
    quote, location : str
        The sentence the numbers come from and where it is in the paper.
    id : str or None
        Optional id, unique among the outcomes of a study.
    group : str or None
        The group the result is for, as the paper names it.
    line : int or None
        Line of the ``[[study.outcome]]`` header.
    """

    study_id: str
    question: str
    kind: Literal["proportion", "median"]
    quote: str
    location: str
    id: str | None = None
    group: str | None = None
    events: int | None = None
    n: int | None = None
    median: Bound | None = None
    ci: tuple[Bound, Bound] | None = None
    ci_level: float = 0.95
    unit: TimeUnit = "months"
    notes: str | None = None
    line: int | None = None


#: What a question pools (``measure``).
Measure = Literal["hr", "proportion", "median"]


@dataclass(frozen=True)
class Question:
    """A clinical question; fixes the orientation of every HR under it.

    ``experimental`` and ``reference`` are empty for a single-group question
    (``measure`` ``"proportion"`` or ``"median"``), which has no second group.
    """

    id: str
    title: str
    experimental: str
    reference: str
    outcome: str
    notes: str | None = None
    line: int | None = None
    group: str | None = None  # related questions share heterogeneity in the hierarchical model
    certainty: Certainty | None = None  # the rater's GRADE judgement (never computed)
    measure: Measure = "hr"  # what it pools: hazard ratios, proportions or median times


@dataclass(frozen=True)
class Study:
    """One paper and every comparison extracted from it."""

    id: str
    citation: str
    year: int | None  # None in a registry read from an effects CSV
    design: str | None
    population: str | None
    n: int | None = None
    doi: str | None = None
    source: str | None = None  # file name of the source document
    notes: str | None = None
    definitions: tuple[str, ...] = ()  # definitions the paper contributes (e.g. resistance)
    follow_up: FollowUp | None = None  # median follow-up printed for the whole study
    comparisons: tuple[Comparison, ...] = ()
    line: int | None = None
    acknowledged: tuple[str, ...] = ()  # study fields whose warnings are known (doi, citation)
    outcomes: tuple[Outcome, ...] = ()  # single-group results ([[study.outcome]])
    risk_of_bias: RiskOfBias | None = None  # applies to comparisons without their own


@dataclass(frozen=True)
class Registry:
    """A validated registry: questions and studies, in file order."""

    schema_version: int
    questions: tuple[Question, ...]
    studies: tuple[Study, ...]
    path: str | None = None
    warnings: tuple = field(default=(), compare=False)
    #: Warnings a comparison acknowledges (``acknowledged = [...]``): kept for the
    #: record, not counted as warnings (they do not fail ``check --strict``).
    acknowledged: tuple = field(default=(), compare=False)

    def comparisons(self, question: str | None = None) -> list[Comparison]:
        """All comparisons in file order, optionally for one question."""
        return [
            c
            for s in self.studies
            for c in s.comparisons
            if question is None or c.question == question
        ]

    def outcomes(self, question: str | None = None) -> list[Outcome]:
        """All single-group outcomes in file order, optionally for one question."""
        return [
            o
            for s in self.studies
            for o in s.outcomes
            if question is None or o.question == question
        ]

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)

    def study(self, sid: str) -> Study:
        for s in self.studies:
            if s.id == sid:
                return s
        raise KeyError(sid)

    def comparison(self, key: str) -> Comparison:
        """Look up ``"study/comparison"``."""
        sid, _, cid = key.partition("/")
        for c in self.study(sid).comparisons:
            if c.id == cid:
                return c
        raise KeyError(key)
