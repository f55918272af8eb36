"""Plain summaries of a registry, for ``survmeta check`` and ``survmeta list``."""

from __future__ import annotations

from survmeta.registry.records import Arm, Comparison, Registry

__all__ = ["counts_for_pooling", "poolable_counts", "registry_summary", "summary_line",
           "reported_summary", "listing_rows"]


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


def registry_summary(registry: Registry) -> dict:
    """Counts of studies, comparisons and questions, and poolable comparisons per question."""
    return {
        "path": registry.path,
        "studies": len(registry.studies),
        "comparisons": len(registry.comparisons()),
        "questions": len(registry.questions),
        "poolable": poolable_counts(registry),
        "warnings": len(registry.warnings),
    }


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def summary_line(summary: dict, name: str) -> str:
    """One line: ``NAME: 5 studies, 31 comparisons, 9 questions; poolable comparisons per question: q1 3, ...``."""
    per_question = ", ".join(f"{q} {n}" for q, n in summary["poolable"].items()) or "none"
    return (f"{name}: {_plural(summary['studies'], 'study', 'studies')}, "
            f"{_plural(summary['comparisons'], 'comparison')}, "
            f"{_plural(summary['questions'], 'question')}; "
            f"poolable comparisons per question: {per_question}")


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
