"""Turn a parsed registry document into records, collecting every problem.

Each ``build_*`` function reads one table with the readers of
:mod:`survmeta.registry.fields`, applies the rules of
:mod:`survmeta.registry.validate`, and returns a record. A value that is
wrong is left as None in the record and a problem is recorded, so reading
goes on and every problem is found in one pass; a record built from a
registry with errors is never handed out (the loader raises instead).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, TypeVar, cast

from survmeta.registry import schema
from survmeta.registry.context import Where
from survmeta.registry.schema import did_you_mean
from survmeta.registry.fields import (
    check_keys,
    describe,
    read_bool,
    read_bound,
    read_choice,
    read_ci,
    read_id,
    read_int,
    read_level,
    read_number,
    read_p,
    read_sided,
    read_str,
    read_str_list,
    read_table,
)
from survmeta.registry.records import (
    Arm,
    Comparison,
    DirectEffect,
    Certainty,
    EventFraction,
    FollowUp,
    LogRank,
    Measure,
    Outcome,
    Question,
    Direction,
    Registry,
    ReportedHR,
    RiskOfBias,
    Study,
    TimeUnit,
)
from survmeta.registry.rob_tools import ROB_TOOLS
from survmeta.registry.km import build_km, check_km_arm, check_km_comparison
from survmeta.registry.plausibility import check_plausibility
from survmeta.registry.validate import (
    check_arm_labels,
    check_arm_totals,
    check_ci,
    check_duplicate_ids,
    check_effect_range,
    check_logrank_range,
    check_events,
    check_measures,
    check_outcome_events,
    check_hr_centring,
    check_hr_p,
    check_one_sided_hr_ci,
    check_question_refs,
    check_subgroups,
    check_total_events,
    check_unused_questions,
)

__all__ = ["build_registry", "build_question", "build_study", "build_comparison",
           "build_arm", "build_hr", "build_outcome", "build_risk_of_bias", "known_methods"]

_T = TypeVar("_T")


def _required(value: _T | None) -> _T:
    """A required field's value as read, for a record's non-optional field.

    The readers return None only after recording a problem, and a registry
    with problems is never handed out (the loader raises), so a record that
    reaches a caller holds the value; until then it may hold None.
    """
    return cast(_T, value)


def build_registry(doc: dict, root: Where) -> Registry:
    """Read the whole document.

    Parameters
    ----------
    doc : dict
        As returned by :func:`tomllib.loads`.
    root : Where
        The document root (location ``()``), carrying the problem list.

    Returns
    -------
    Registry
        Meaningful only when no error was recorded.
    """
    check_keys(root, doc, ("schema_version",), ("question", "study"))
    version = _read_schema_version(root, doc)
    questions = [(build_question(w, t), w) for w, t in _tables(root, doc, "question")]
    studies = [(build_study(w, t), w) for w, t in _tables(root, doc, "study")]
    comparisons = [pair for (_, pairs), _ in studies for pair in pairs]
    outcomes = [(o, _entry_where(w, "outcome", i, {})) for (s, _), w in studies
                for i, o in enumerate(s.outcomes)]

    check_duplicate_ids(((q.id, w) for q, w in questions), "question")
    check_duplicate_ids(((s.id, w) for (s, _), w in studies), "study")
    question_ids = {q.id for q, _ in questions if q.id is not None}
    check_question_refs(comparisons, question_ids)
    check_question_refs(outcomes, question_ids)
    # A question whose measure could not be read is left out (its error is reported once).
    check_measures([q for q, w in questions if q.id is not None
                    and _raw_at(doc, w.loc).get("measure", "hr") in schema.MEASURES],
                   comparisons, outcomes)
    check_unused_questions(((q.id, w) for q, w in questions),
                           {c.question for c, _ in comparisons if c.question is not None}
                           | {o.question for o, _ in outcomes if o.question is not None})
    check_plausibility([q for q, _ in questions], [(s, w) for (s, _), w in studies], comparisons,
                       {id(c): _raw_at(doc, w.loc) for c, w in comparisons})
    acknowledged = apply_acknowledgements(comparisons, root.problems,
                                          [(s, w) for (s, _), w in studies])
    return Registry(
        schema_version=_required(version),
        questions=tuple(q for q, _ in questions),
        studies=tuple(s for (s, _), _ in studies),
        path=root.path,
        acknowledged=tuple(acknowledged),
    )


def _raw_at(doc: dict, loc: tuple):
    """The parsed table at document location ``loc`` (``{}`` if it is not a table)."""
    node = doc
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return {}
    return node if isinstance(node, dict) else {}


def apply_acknowledgements(comparisons, problems: list, studies=()) -> list:
    """Move the warnings each comparison (or study) acknowledges out of ``problems``.

    A warning is acknowledged when it belongs to the comparison and its
    field is listed in the comparison's ``acknowledged``; a study's
    ``acknowledged`` covers the warnings about the study's own fields
    (``doi``, ``citation``). Errors are never acknowledged. An acknowledged
    field with no warning to acknowledge is itself a warning (the
    acknowledgement is stale or mistyped).

    Returns
    -------
    list of Problem
        The acknowledged warnings, removed from ``problems`` (in place).
    """
    moved = []
    owners = [(c, w) for c, w in comparisons] + [(s, w.ids()) for s, w in studies]
    for comp, where in owners:
        if not comp.acknowledged:
            continue
        comparison_id = where.comparison if isinstance(comp, Comparison) else None
        mine = [p for p in problems
                if p.severity == "warning" and p.study == where.study
                and p.comparison == comparison_id and p.field in comp.acknowledged]
        for p in mine:
            problems.remove(p)
        moved.extend(mine)
        found = {p.field for p in mine}
        for name in comp.acknowledged:
            if name not in found:
                where.warn("acknowledged", f'"{name}" is acknowledged, but check finds no warning '
                                           "about it: remove it from acknowledged")
    return moved


def _read_schema_version(root: Where, doc: dict) -> int | None:
    version = read_int(root, doc, "schema_version")
    if version is not None and version != schema.SCHEMA_VERSION:
        root.error("schema_version", f"unsupported schema_version {version}: this version of "
                                     f"survmeta reads schema_version = {schema.SCHEMA_VERSION}")
        return None
    return version


def _tables(parent: Where, table: dict, key: str):
    """``(Where, table)`` for each entry of the array of tables ``[[key]]``.

    A value that is not an array of tables is reported and yields nothing.
    """
    if key not in table:
        return []
    value = table[key]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        header = ".".join(k for k in parent.loc if isinstance(k, str)) + "." + key if parent.loc else key
        parent.error(key, f"must be an array of tables, written [[{header}]], got {describe(value)}")
        return []
    return [(_entry_where(parent, key, i, t), t) for i, t in enumerate(value)]


def _entry_where(parent: Where, key: str, i: int, table: dict) -> Where:
    """Where of the ``i``-th ``[[key]]`` entry.

    Studies and comparisons are named by their id (``#i`` when it has none);
    the fields of a question are prefixed ``question.``, those of a
    single-group outcome ``outcome.`` (within its study).
    """
    raw = table.get("id")
    name = raw if isinstance(raw, str) and raw.strip() else f"#{i + 1}"
    where = Where(parent.problems, parent.index, parent.path, loc=parent.loc + (key, i),
                  study=parent.study, comparison=parent.comparison)
    if key == "study":
        return where.ids(study=name)
    if key == "comparison":
        return where.ids(comparison=name)
    if key == "outcome":
        # Fields of a single-group outcome read "outcome.events"; the line tells which one.
        return replace(where, prefix=key)
    return Where(where.problems, where.index, where.path, loc=where.loc, prefix=key)


def build_question(where: Where, t: dict) -> Question:
    """One ``[[question]]`` table.

    ``experimental`` and ``reference`` are required for a hazard-ratio
    question (``measure = "hr"``, the default) and may be left out of a
    single-group one (stored as ``""``).
    """
    check_keys(where, t, schema.QUESTION_REQUIRED, schema.QUESTION_OPTIONAL)
    measure = cast("Measure", read_choice(where, t, "measure", schema.MEASURES) or "hr")
    groups = {}
    for key in ("experimental", "reference"):
        if key in t:
            groups[key] = read_str(where, t, key)
        elif measure == "hr" and "measure" not in t:
            where.error(key, "missing required field (a hazard-ratio question needs both groups; "
                             'set measure = "proportion" or "median" for a single-group question)')
            groups[key] = None
        else:
            groups[key] = ""
    return Question(
        id=_required(read_id(where, t)),
        title=_required(read_str(where, t, "title")),
        experimental=_required(groups["experimental"]),
        reference=_required(groups["reference"]),
        outcome=_required(read_str(where, t, "outcome")),
        notes=read_str(where, t, "notes"),
        line=where.line(),
        group=read_id(where, t, "group"),
        certainty=_sub(where, t, "certainty", build_certainty),
        measure=measure,
    )


def build_certainty(where: Where, t: dict) -> Certainty | None:
    """The rater's GRADE judgement ``certainty = { rating, reasons, indirectness }``.

    ``rating`` is one of :data:`~survmeta.registry.schema.CERTAINTY_RATINGS` (a misspelt
    one gets the closest suggested); ``reasons`` an array of strings; ``indirectness`` a note.
    """
    check_keys(where, t, schema.CERTAINTY_REQUIRED, schema.CERTAINTY_OPTIONAL)
    rating = read_choice(where, t, "rating", schema.CERTAINTY_RATINGS)
    reasons = read_str_list(where, t, "reasons")
    indirectness = read_str(where, t, "indirectness")
    if rating is None:
        return None
    return Certainty(rating=rating, reasons=reasons or (), indirectness=indirectness)


def build_study(where: Where, t: dict) -> tuple[Study, list[tuple[Comparison, Where]]]:
    """One ``[[study]]`` table and its comparisons.

    Returns
    -------
    (Study, list of (Comparison, Where))
        The comparisons are also returned with their locations for the
        registry-wide checks.
    """
    check_keys(where, t, schema.STUDY_REQUIRED, schema.STUDY_OPTIONAL)
    n = read_int(where, t, "n", minimum=1)
    follow_up = _sub(where, t, "follow_up", build_follow_up)
    pairs = [(build_comparison(w, c), w) for w, c in _tables(where, t, "comparison")]
    risk_of_bias = _sub(where, t, "risk_of_bias", build_risk_of_bias)
    if risk_of_bias is not None:
        # A comparison without its own assessment shares the study's.
        pairs = [(c if c.risk_of_bias is not None else replace(c, risk_of_bias=risk_of_bias), w)
                 for c, w in pairs]
    if follow_up is not None:
        # A comparison without its own follow-up shares the study's.
        pairs = [(c if c.follow_up is not None else replace(c, follow_up=follow_up), w)
                 for c, w in pairs]
    check_duplicate_ids(((c.id, w) for c, w in pairs), "comparison")
    outcome_pairs = [(build_outcome(w, o), w) for w, o in _tables(where, t, "outcome")]
    check_duplicate_ids(((o.id, w) for o, w in outcome_pairs), "outcome")
    check_subgroups(pairs)
    for comp, w in pairs:
        check_arm_totals(w, comp, n)
    study = Study(
        id=_required(read_id(where, t)),
        citation=_required(read_str(where, t, "citation")),
        year=_read_year(where, t),
        design=read_choice(where, t, "design", schema.DESIGNS),
        population=read_str(where, t, "population"),
        n=n,
        doi=read_str(where, t, "doi"),
        source=read_str(where, t, "source"),
        notes=read_str(where, t, "notes"),
        definitions=read_str_list(where, t, "definitions") or (),
        follow_up=follow_up,
        comparisons=tuple(c for c, _ in pairs),
        line=where.line(),
        acknowledged=_read_acknowledged(where, t, schema.STUDY_ACKNOWLEDGEABLE, "study"),
        outcomes=tuple(o for o, _ in outcome_pairs),
        risk_of_bias=risk_of_bias,
    )
    return study, pairs


def _read_year(where: Where, t: dict) -> int | None:
    year = read_int(where, t, "year")
    lo, hi = schema.YEAR_RANGE
    if year is not None and not lo <= year <= hi:
        where.error("year", f"{year} is outside {lo}..{hi}")
        return None
    return year


def build_comparison(where: Where, t: dict) -> Comparison:
    """One ``[[study.comparison]]`` table."""
    check_keys(where, t, schema.COMPARISON_REQUIRED, schema.COMPARISON_OPTIONAL)
    sided = read_sided(where, t)
    experimental = _sub(where, t, "experimental", build_arm)
    reference = _sub(where, t, "reference", build_arm)
    check_arm_labels(where, experimental, reference)
    _warn_sided_without_p(where, t)
    total_events = read_int(where, t, "total_events", minimum=1)
    check_total_events(where, total_events, experimental, reference)
    rmst_horizon = read_number(where, t, "rmst_horizon", positive=True)
    check_km_comparison(where, experimental, reference, rmst_horizon)
    return Comparison(
        id=_required(read_id(where, t)),
        study_id=_required(where.study),
        question=_required(read_id(where, t, "question")),
        endpoint=_required(read_str(where, t, "endpoint")),
        quote=_required(read_str(where, t, "quote")),
        location=_required(read_str(where, t, "location")),
        experimental=experimental,
        reference=reference,
        population=read_str(where, t, "population"),
        p=read_p(where, t, "p", sided),
        hr=_sub(where, t, "hr", build_hr),
        logrank=_sub(where, t, "logrank", build_logrank),
        chisq=read_number(where, t, "chisq", nonnegative=True),
        total_events=total_events,
        follow_up=_sub(where, t, "follow_up", build_follow_up),
        event_fraction=_sub(where, t, "event_fraction", build_event_fraction),
        effect=_sub(where, t, "effect", build_effect),
        direction=cast("Direction | None", read_choice(where, t, "direction", schema.DIRECTIONS)),
        subgroup_of=read_id(where, t, "subgroup_of"),
        status=read_str(where, t, "status"),
        time_unit=cast("TimeUnit", read_choice(where, t, "time_unit", schema.TIME_UNITS) or "months"),
        derived=read_str_list(where, t, "derived") or (),
        method=_read_method(where, t),
        notes=read_str(where, t, "notes"),
        acknowledged=_read_acknowledged(where, t),
        line=where.line(),
        oligo_max_lesions=read_int(where, t, "oligo_max_lesions", minimum=1),
        oligo_max_sites=read_int(where, t, "oligo_max_sites", minimum=1),
        time_origin=read_choice(where, t, "time_origin", schema.TIME_ORIGINS),
        therapy_line=read_int(where, t, "line", minimum=1),
        rmst_horizon=rmst_horizon,
        risk_of_bias=_sub(where, t, "risk_of_bias", build_risk_of_bias),
    )


#: Keys of ``[[study.outcome]]`` each kind requires, and the keys it may not have.
_OUTCOME_KEYS = {
    "proportion": (("events", "n"), ("median", "ci", "level", "unit")),
    "median": (("median",), ("events",)),
}


def build_outcome(where: Where, t: dict) -> Outcome:
    """One ``[[study.outcome]]`` table: a proportion or a median of one group.

    A proportion needs ``events`` (0 allowed) and ``n``; a median needs
    ``median`` (a number or ``"NR"``), optionally ``ci`` (its upper bound may
    be ``"NR"``), ``level``, ``n`` and ``unit``.
    """
    check_keys(where, t, schema.OUTCOME_REQUIRED, schema.OUTCOME_OPTIONAL)
    kind = read_choice(where, t, "kind", schema.OUTCOME_KINDS)
    if kind is not None:
        needed, foreign = _OUTCOME_KEYS[kind]
        for key in needed:
            if key not in t:
                where.error(key, f'missing required field (a {kind} outcome needs '
                                 f'{" and ".join(needed)})')
        for key in foreign:
            if key in t:
                where.error(key, f'is not a field of a {kind} outcome')
    events = read_int(where, t, "events", minimum=0)
    n = read_int(where, t, "n", minimum=1)
    median = read_bound(where, "median", t["median"], allow_nr=True) if "median" in t else None
    ci = read_ci(where, t)
    outcome = Outcome(
        study_id=_required(where.study),
        question=_required(read_id(where, t, "question")),
        kind=_required(cast("Literal['proportion', 'median'] | None", kind)),
        quote=_required(read_str(where, t, "quote")),
        location=_required(read_str(where, t, "location")),
        id=read_id(where, t) if "id" in t else None,
        group=read_str(where, t, "group"),
        events=events,
        n=n,
        median=median,
        ci=ci,
        ci_level=_level_or_default(where, t),
        unit=cast("TimeUnit", read_choice(where, t, "unit", schema.TIME_UNITS) or "months"),
        notes=read_str(where, t, "notes"),
        line=where.line(),
    )
    check_ci(where, "ci", ci, median, "median", allow_equal_bounds=True)
    check_outcome_events(where, events, n)
    return outcome


def _read_acknowledged(where: Where, t: dict, known=schema.ACKNOWLEDGEABLE,
                       what: str = "comparison") -> tuple[str, ...]:
    """``acknowledged = ["hr.p", ...]``: known field paths, no repeats, with ``notes``."""
    names = read_str_list(where, t, "acknowledged")
    if not names:
        return ()
    ok = []
    for name in names:
        if name not in known:
            where.error("acknowledged", f'"{name}" is not a field of a {what} that a warning '
                                        f"can be about{did_you_mean(name, known)}")
        elif name in ok:
            where.error("acknowledged", f'"{name}" is listed twice')
        else:
            ok.append(name)
    if "notes" not in t:
        where.error("acknowledged", "acknowledging a warning needs notes saying why the "
                                    "discrepancy is known and how the numbers are used")
    return tuple(ok)


def _sub(where: Where, t: dict, key: str, build):
    """Build the sub-table ``key`` with ``build`` if present and a table."""
    table = read_table(where, t, key)
    return None if table is None else build(where.at(key), table)


def _warn_sided_without_p(where: Where, t: dict) -> None:
    if "sided" in t and "p" not in t:
        where.warn("sided", "sided applies to p, but no p is given")


def known_methods() -> tuple[str, ...] | None:
    """Reconstruction method ids, if the reconstruction package defines them."""
    try:
        from survmeta.reconstruction import METHODS
    except ImportError:
        return None
    return tuple(METHODS)


def _read_method(where: Where, t: dict) -> str | None:
    methods = known_methods()
    if methods is None:
        return read_str(where, t, "method")
    return read_choice(where, t, "method", methods)


def build_arm(where: Where, t: dict) -> Arm:
    """An arm (``experimental`` or ``reference``), inline or as a sub-table."""
    check_keys(where, t, schema.ARM_REQUIRED, schema.ARM_OPTIONAL)
    median = (read_bound(where, "median", t["median"], allow_nr=True)
              if "median" in t else None)
    ci = read_ci(where, t)
    arm = Arm(
        label=_required(read_str(where, t, "label")),
        n=read_int(where, t, "n", minimum=1),
        events=read_int(where, t, "events", minimum=1),
        median=median,
        ci=ci,
        ci_level=_level_or_default(where, t),
        expected=read_number(where, t, "expected", positive=True),
        km=_sub(where, t, "km", build_km),
    )
    check_ci(where, "ci", ci, median, "median", allow_equal_bounds=True)
    check_events(where, arm)
    check_km_arm(where, arm.n, arm.events, arm.km)
    return arm


def _level_or_default(where: Where, t: dict) -> float:
    level = read_level(where, t)
    return 0.95 if level is None else level


def build_hr(where: Where, t: dict) -> ReportedHR:
    """A reported hazard ratio ``hr = { estimate, ci, level, adjusted, p, sided }``."""
    check_keys(where, t, schema.HR_REQUIRED, schema.HR_OPTIONAL)
    estimate = (read_bound(where, "estimate", t["estimate"], allow_nr=False)
                if "estimate" in t else None)
    ci = read_ci(where, t)
    level = _level_or_default(where, t)
    p = read_p(where, t, "p", read_sided(where, t))
    if check_ci(where, "ci", ci, estimate, "estimate", allow_equal_bounds=False):
        check_one_sided_hr_ci(where, "ci", estimate, ci)
        check_hr_centring(where, "ci", estimate, ci)
        check_hr_p(where, "p", estimate, ci, level, p)
    _warn_sided_without_p(where, t)
    return ReportedHR(
        estimate=_required(estimate),
        ci=ci,
        level=level,
        adjusted=read_bool(where, t, "adjusted"),
        p=p,
    )


def build_logrank(where: Where, t: dict) -> LogRank:
    """Log-rank ``{ o_minus_e, variance }`` for the experimental arm."""
    check_keys(where, t, schema.LOGRANK_REQUIRED, ())
    logrank = LogRank(
        o_minus_e=_required(read_number(where, t, "o_minus_e")),
        variance=_required(read_number(where, t, "variance", positive=True)),
    )
    check_logrank_range(where, logrank.o_minus_e, logrank.variance)
    return logrank


def build_effect(where: Where, t: dict) -> DirectEffect:
    """A log HR given directly: ``effect = { log_hr, se }``."""
    check_keys(where, t, schema.EFFECT_REQUIRED, ())
    effect = DirectEffect(
        log_hr=_required(read_number(where, t, "log_hr")),
        se=_required(read_number(where, t, "se", positive=True)),
    )
    check_effect_range(where, effect.log_hr, effect.se)
    return effect


def build_follow_up(where: Where, t: dict) -> FollowUp | None:
    """Median follow-up ``follow_up = { median, unit, kind }`` (unit months unless stated)."""
    check_keys(where, t, schema.FOLLOW_UP_REQUIRED, schema.FOLLOW_UP_OPTIONAL)
    median = read_number(where, t, "median", positive=True)
    unit = read_choice(where, t, "unit", schema.FOLLOW_UP_UNITS) or "months"
    kind = read_choice(where, t, "kind", schema.FOLLOW_UP_KINDS)
    if median is None:
        return None
    return FollowUp(median=median, unit=unit, kind=kind)


def build_event_fraction(where: Where, t: dict) -> EventFraction | None:
    """A reviewer's event-fraction range ``event_fraction = { low, high, reason }``.

    ``low`` and ``high`` are shares of patients with an event, ``0 < low < high <= 1``;
    ``reason`` says why the population differs from the calibration trials.
    """
    check_keys(where, t, schema.EVENT_FRACTION_REQUIRED, ())
    low = read_number(where, t, "low", positive=True)
    high = read_number(where, t, "high", positive=True)
    reason = read_str(where, t, "reason")
    ok = True
    for key, value in (("low", low), ("high", high)):
        if value is not None and value > 1:
            where.error(key, f"an event fraction is a share of patients, at most 1, got {t[key]}"
                             + (f" (write {value / 100:g} for {value:g}%)" if value <= 100 else ""))
            ok = False
    if ok and low is not None and high is not None and not low < high:
        where.error("high", f"must be above low ({low:g}), got {high:g}")
        ok = False
    if not ok or low is None or high is None or reason is None:
        return None
    return EventFraction(low=low, high=high, reason=reason)


def build_risk_of_bias(where: Where, t: dict) -> RiskOfBias | None:
    """A risk-of-bias assessment ``risk_of_bias = { tool, domains, overall, notes }``.

    The tool, each domain key and each judgement must come from the tool's
    vocabulary (:mod:`survmeta.registry.rob_tools`), with the closest match
    suggested on a miss; a Newcastle-Ottawa domain is a star count from 0 to
    its maximum. A domain left out is a warning (the assessment is
    incomplete), an unknown one an error.
    """
    check_keys(where, t, schema.RISK_OF_BIAS_REQUIRED, schema.RISK_OF_BIAS_OPTIONAL)
    name = read_choice(where, t, "tool", ROB_TOOLS)
    notes = read_str(where, t, "notes")
    table = read_table(where, t, "domains")
    if name is None:
        return None
    tool = ROB_TOOLS[name]
    overall = read_choice(where, t, "overall", tool.overall)
    domains: list[tuple[str, str | int]] = []
    ok = overall is not None or "overall" not in t
    if table is not None:
        dw = where.at("domains")
        for key in table:
            if key not in tool.keys:
                listed = ", ".join(f'"{k}"' for k in tool.keys)
                dw.error(key, f'"{key}" is not a {tool.name} domain (one of {listed})'
                              f"{did_you_mean(key, tool.keys)}")
                ok = False
        for domain in tool.domains:
            if domain.key not in table:
                dw.warn(domain.key, f'{tool.name} domain "{domain.key}" ({domain.name}) is not '
                                    "judged")
                continue
            value: str | int | None
            if domain.max_stars is not None:
                value = read_int(dw, table, domain.key, minimum=0)
                if value is not None and value > domain.max_stars:
                    dw.error(domain.key, f"{tool.name} {domain.name} scores 0 to "
                                         f"{domain.max_stars} stars, got {value}")
                    value = None
            else:
                value = read_choice(dw, table, domain.key, tool.judgements)
            if value is None:
                ok = False
            else:
                domains.append((domain.key, value))
    if not ok or overall is None:
        return None
    return RiskOfBias(tool=name, domains=tuple(domains), overall=overall, notes=notes)
