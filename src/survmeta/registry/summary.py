"""Plain summaries of a registry, for ``survmeta check`` and ``survmeta list``."""

from __future__ import annotations

import re

from survmeta.registry.records import Arm, Comparison, Registry, Study

__all__ = ["counts_for_pooling", "poolable_counts", "registry_summary", "summary_line",
           "reported_summary", "listing_rows", "short_citation", "first_author", "author_year",
           "author_year_labels", "printed_arms",
           "study_rows", "study_table"]

#: Lower-case particles that may start or sit inside a surname ("van der Berg A").
_PARTICLES = ("van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "du",
              "la", "le", "al", "el", "ter", "ten")

#: A capitalised surname word: "Heo", "O'Brien", "Smith-Jones", "McDonald", "Ørsted".
_SURNAME_WORD = r"[^\W\d_][^\W\d_'’]*(?:['’-][^\W\d_]+)*"

#: Vancouver-style first author at the start of a citation: surname words, then 1-3
#: capital initials (optionally hyphenated, "J-Y"), then "," (more authors follow),
#: "." (a single author) or " et al".
_FIRST_AUTHOR = re.compile(
    rf"^\s*(?P<surname>(?:(?:{'|'.join(_PARTICLES)})\s+)*{_SURNAME_WORD}"
    rf"(?:\s+(?:(?:{'|'.join(_PARTICLES)})\s+)*{_SURNAME_WORD})?)"
    r"\s+(?P<initials>[A-Z](?:-?[A-Z]){0,2})"
    r"(?P<after>\s*,|\.|\s+et\s+al\b)"
)


def counts_for_pooling(comp: Comparison) -> bool:
    """Whether a comparison enters pooling: not marked "not poolable" and not a subgroup."""
    return comp.poolable and comp.subgroup_of is None


def poolable_counts(registry: Registry) -> dict[str, int]:
    """Number of poolable comparisons per question, in question order.

    Parameters
    ----------
    registry : Registry

    Returns
    -------
    dict
        ``question id -> count`` (questions without any poolable comparison
        count 0).
    """
    return {q.id: sum(counts_for_pooling(c) for c in registry.comparisons(q.id))
            for q in registry.questions}


def outcome_counts(registry: Registry) -> dict[str, int]:
    """Number of single-group outcomes per single-group question, in question order.

    Parameters
    ----------
    registry : Registry

    Returns
    -------
    dict
        ``question id -> count`` for the questions whose ``measure`` is
        ``"proportion"`` or ``"median"`` (0 when no outcome refers to one).
    """
    return {q.id: len(registry.outcomes(q.id)) for q in registry.questions if q.measure != "hr"}


def registry_summary(registry: Registry) -> dict:
    """Counts of studies, comparisons and questions, and poolable comparisons per question."""
    return {
        "path": registry.path,
        "studies": len(registry.studies),
        "comparisons": len(registry.comparisons()),
        "questions": len(registry.questions),
        "poolable": poolable_counts(registry),
        "outcomes": len(registry.outcomes()),
        "outcomes_per_question": outcome_counts(registry),
        "warnings": len(registry.warnings),
        "by_study": study_rows(registry),
    }


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def summary_line(summary: dict, name: str) -> str:
    """One line: ``NAME: 5 studies, 31 comparisons, 9 questions; poolable comparisons per question: q1 3, ...``."""
    single = summary.get("outcomes_per_question") or {}
    per_question = ", ".join(f"{q} {n}" for q, n in summary["poolable"].items()
                             if q not in single) or "none"
    n_outcomes = summary.get("outcomes", 0)
    outcomes = (f"{_plural(n_outcomes, 'single-group outcome')}, "
                if n_outcomes or single else "")
    line = (f"{name}: {_plural(summary['studies'], 'study', 'studies')}, "
            f"{_plural(summary['comparisons'], 'comparison')}, {outcomes}"
            f"{_plural(summary['questions'], 'question')}; "
            f"poolable comparisons per question: {per_question}")
    if single:
        line += "; single-group outcomes per question: " + ", ".join(
            f"{q} {n}" for q, n in single.items())
    return line


def _arms_summary(arms: tuple[Arm | None, Arm | None], attr: str) -> bool:
    return all(a is not None and getattr(a, attr) is not None for a in arms)


def reported_summary(comp: Comparison) -> str:
    """What a comparison reports, in words: ``"medians+CI, p"``, ``"HR+CI"``, ...

    Parameters
    ----------
    comp : Comparison

    Returns
    -------
    str
        Comma-separated items, or ``"nothing to estimate from"``.
    """
    arms = (comp.experimental, comp.reference)
    items = []
    if comp.effect is not None:
        items.append("log HR+SE")
    if comp.hr is not None:
        items.append("HR+CI" if comp.hr.ci is not None else "HR")
        if comp.hr.p is not None:
            items.append("HR p")
    if comp.logrank is not None:
        items.append("log-rank O-E+V")
    if comp.chisq is not None:
        items.append("chi-square")
    if _arms_summary(arms, "median"):
        items.append("medians+CI" if _arms_summary(arms, "ci") else "medians")
    if _arms_summary(arms, "events"):
        items.append("events")
    if comp.total_events is not None:
        items.append("total events")
    if comp.p is not None:
        items.append("p")
    if comp.direction is not None:
        items.append("direction")
    return ", ".join(items) or "nothing to estimate from"


def listing_rows(registry: Registry) -> list[dict]:
    """One row per comparison for ``survmeta list``, in file order."""
    years = {s.id: s.year for s in registry.studies}
    return [
        {
            "study": c.study_id,
            "year": years.get(c.study_id),
            "comparison": c.id,
            "question": c.question,
            "endpoint": c.endpoint,
            "subgroup_of": c.subgroup_of or "",
            "status": c.status or "",
            "reported": reported_summary(c),
        }
        for c in registry.comparisons()
    ]


def first_author(citation: str | None) -> tuple[str, bool] | None:
    """The first author's surname, when the citation starts with an author list.

    Parameters
    ----------
    citation : str or None
        As written in the registry (Vancouver style: ``"Heo JY, Yoo SH, et al. ..."``).

    Returns
    -------
    (surname, more) or None
        ``more`` is True when other authors follow (a comma or "et al." after
        the first author). None when the citation does not start with an
        author (``"Immunotherapy after ALK-TKI resistance ..."``), so no name
        is made up from a title.
    """
    if not citation:
        return None
    m = _FIRST_AUTHOR.match(citation)
    if m is None:
        return None
    surname = m.group("surname")
    words = surname.split()
    # A title that happens to end in capitals ("Outcomes in NSCLC.") is not an author:
    # every word of a surname is capitalised or a known particle.
    if not all(w[0].isupper() or w in _PARTICLES for w in words) or not words[-1][0].isupper():
        return None
    return surname, m.group("after").strip() != "."


def short_citation(study: Study) -> str:
    """``"Heo et al. (2021)"``, ``"Smith (2020)"``, or ``"<study id> (<year>)"``.

    The first author's surname (with "et al." when more authors follow) is
    used only when the citation starts with an author list; otherwise (a
    citation that names a topic or a title) the study id stands in, so a
    sentence never reads "Immunotherapy after ... et al.".
    """
    author = first_author(study.citation)
    year = f" ({study.year})" if study.year is not None else ""
    if author is None:
        return f"{study.id}{year}"
    surname, more = author
    return f"{surname}{' et al.' if more else ''}{year}"


def author_year(study: Study) -> str:
    """``"Heo 2021"``: the first author's surname and the year, as forest plots label a study.

    The study id stands in for the surname when the citation does not start
    with an author (see :func:`first_author`), and alone when there is no
    year either; a year already in the id is not repeated.
    """
    author = first_author(study.citation)
    year = "" if study.year is None else str(study.year)
    if author is None:
        return study.id if not year or year in study.id else f"{study.id} {year}"
    return f"{author[0]} {year}".strip()


def author_year_labels(studies) -> dict[str, str]:
    """Study id -> :func:`author_year` label, made unique: ``"Heo 2021"``.

    Parameters
    ----------
    studies : Registry or iterable of Study
        The studies to label together (a registry's ``studies``).

    Returns
    -------
    dict
        When two or more studies share a label (the same first author and
        year), each of them gets its id added: ``"Heo 2021 (heo2021a)"``.
    """
    studies = list(getattr(studies, "studies", studies))
    labels = {s.id: author_year(s) for s in studies}
    counts: dict[str, int] = {}
    for lab in labels.values():
        counts[lab] = counts.get(lab, 0) + 1
    return {sid: (f"{lab} ({sid})" if counts[lab] > 1 and lab != sid else lab)
            for sid, lab in labels.items()}


def printed_arms(registry: Registry) -> dict[str, dict]:
    """``"study/comparison"`` -> what the paper printed for it, per arm and for the comparison.

    Keys of each dict: ``median_experimental``, ``median_reference`` (a
    number or ``NR``), ``n_experimental``, ``n_reference``,
    ``events_experimental``, ``events_reference``, ``total_events`` and ``p``
    (the comparison's p-value as printed, else the reported HR's; a string).
    None where the paper printed nothing. These feed the forest plot's
    ``columns=`` (``"medians"``, ``"arm_n"``, ``"events"``, ``"p"``).
    """
    out = {}
    for c in registry.comparisons():
        e, r = c.experimental, c.reference
        p = c.p if c.p is not None else (c.hr.p if c.hr is not None else None)
        out[str(c.key)] = {
            "median_experimental": e.median, "median_reference": r.median,
            "n_experimental": e.n, "n_reference": r.n,
            "events_experimental": e.events, "events_reference": r.events,
            "total_events": c.total_events,
            "p": None if p is None else p.text,
        }
    return out


def study_rows(registry: Registry) -> list[dict]:
    """One row per study for ``survmeta check``: id, year, short citation, design, counts.

    ``comparisons`` counts every comparison of the study; ``poolable`` those
    that enter pooling (:func:`counts_for_pooling`: not marked "not
    poolable" and not a subgroup), as in the per-question counts.
    """
    return [
        {
            "id": s.id,
            "year": s.year,
            "citation": short_citation(s),
            "design": s.design,
            "outcomes": len(s.outcomes),
            "comparisons": len(s.comparisons),
            "poolable": sum(counts_for_pooling(c) for c in s.comparisons),
        }
        for s in registry.studies
    ]


def study_table(rows: list[dict]) -> str:
    """The study rows as an aligned plain-text table (header, one line per study)."""
    header: tuple[str, ...] = ("study", "year", "citation", "design", "comparisons", "poolable")
    keys: tuple[str, ...] = ("id", "year", "citation", "design", "comparisons", "poolable")
    numeric = {1, 4, 5}
    if any(r.get("outcomes") for r in rows):  # the column only when some study has outcomes
        header = header[:4] + ("outcomes",) + header[4:]
        keys = keys[:4] + ("outcomes",) + keys[4:]
        numeric = {1, 4, 5, 6}
    cells = [header] + [tuple("" if r.get(k) is None else str(r[k]) for k in keys) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        parts = [cell.rjust(w) if i in numeric else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)
