"""Plausibility warnings: values that are valid but look like a typing slip.

The rules in :mod:`survmeta.registry.validate` refuse what cannot be right.
The rules here warn about what is allowed but usually wrong, because each of
them changes the pooled answer without any other sign:

* **an unusual CI level** (``level = 0.05``: the alpha typed as the level
  turns a 95% CI into a 5% one and the SE grows about 31-fold: 0.11 becomes
  3.58 for HR 0.60 (0.40-0.90)). Warned when a level is below 0.5 or not one
  of :data:`USUAL_LEVELS`.
* **the same paper twice**: two study ids with the same DOI or the same
  citation would be pooled as two studies.
* **arms the wrong way round**: an arm label equal to the *other* arm of the
  question (``experimental.label`` equal to the question's ``reference``).
* **a direction contradicting the estimate**: ``direction = "favours
  experimental"`` with a reported HR above 1 (or ``effect.log_hr`` /
  ``logrank.o_minus_e`` above 0), and the reverse.
* **a p-value bound that says (almost) nothing**: ``"<1"`` holds for every
  p and gives no estimate; a two-sided bound from 0.5 up ("<0.8") leaves the
  estimate almost unconstrained.
* **a p-value implausibly far from the HR or the medians**: see
  :mod:`survmeta.registry.p_plausibility`.

Every warning names the file, line, study, comparison and field and says how
to acknowledge it (``acknowledged = ["<field>"]`` with ``notes``, on the
comparison, or on the study for ``doi`` and ``citation``). Nothing here
imports anything heavy.
"""

from __future__ import annotations

import math
import re

from survmeta.registry.context import Where
from survmeta.registry.p_plausibility import check_p_vs_hr, check_p_vs_medians
from survmeta.registry.records import Comparison, PValue, Study

__all__ = ["USUAL_LEVELS", "check_plausibility", "check_levels", "check_same_paper",
           "check_arm_orientation", "check_direction", "check_p_bounds", "normalise_doi"]

#: CI levels papers use; any other level (or one below 0.5) gets a warning.
USUAL_LEVELS = (0.8, 0.9, 0.95, 0.975, 0.99)


def _how(field: str, on: str = "comparison") -> str:
    return (f'; if it is right, acknowledge it on the {on}: acknowledged = ["{field}"], with '
            "notes saying why")


def check_levels(where: Where, table: dict | None, key_prefix: str) -> None:
    """Warn about a ``level`` written in ``table`` that is below 0.5 or unusual.

    Parameters
    ----------
    where : Where
        The comparison.
    table : dict or None
        The raw sub-table (``hr``, ``experimental``, ``reference``); a level
        left out (the default 0.95) is never warned about.
    key_prefix : str
        Its key in the comparison.
    """
    if not isinstance(table, dict) or "level" not in table:
        return
    level = table["level"]
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        return  # an error already
    if any(abs(level - u) < 1e-9 for u in USUAL_LEVELS):
        return
    usual = ", ".join(f"{u:g}" for u in USUAL_LEVELS)
    field = f"{key_prefix}.level"
    if level < 0.5:
        hint = (f" (is {level:g} the alpha? then write level = {1 - level:g})"
                if 1 - level in USUAL_LEVELS or round(1 - level, 6) in USUAL_LEVELS else "")
        factor = _se_factor(level)
        effect = (f"makes the SE {factor:.0f} times what a 95% CI of the same width gives"
                  if factor < 1e6 else "gives an SE without bound")
        what = f"CI level {level:g} is below 0.5{hint}: a CI this narrow {effect}"
    else:
        what = f"CI level {level:g} is not one papers usually print ({usual})"
    where.at(key_prefix).warn("level", what + _how(field))


def _se_factor(level: float) -> float:
    """z(0.95) / z(level): how much larger the SE from a CI of ``level`` is."""
    from statistics import NormalDist

    nd = NormalDist()
    z = nd.inv_cdf(0.5 + level / 2)
    return nd.inv_cdf(0.975) / z if z > 0 else math.inf  # level 1e-300: z is 0 in floats


def normalise_doi(doi: str) -> str:
    """A DOI without resolver prefix, spaces or case (``https://doi.org/10.1/X`` -> ``10.1/x``)."""
    d = doi.strip().lower()
    d = re.sub(r"^(https?://)?(dx\.)?doi\.org/", "", d)
    d = re.sub(r"^doi:\s*", "", d)
    return d.strip()


def _normalise_citation(citation: str) -> str:
    return re.sub(r"\s+", " ", citation).strip().lower()


def check_same_paper(studies: list[tuple[Study, Where]]) -> None:
    """Warn when two study ids share a DOI or an identical citation.

    The later study is warned about, naming the earlier one and its line.
    """
    for key, norm in (("doi", normalise_doi), ("citation", _normalise_citation)):
        first: dict[str, tuple[Study, Where]] = {}
        for study, where in studies:
            value = getattr(study, key)
            if not value or study.id is None:
                continue
            k = norm(value)
            if not k:
                continue
            if k in first and first[k][0].id != study.id:
                other, other_where = first[k]
                line = other_where.line(key)
                at = f" (line {line})" if line is not None else ""
                what = "DOI" if key == "doi" else "citation"
                where.warn(key, f'same {what} as study {other.id}{at}: the same paper under two '
                                "ids is pooled twice; merge them, or if they are distinct reports "
                                "(overlapping cohorts), say so" + _how(key, on="study"))
            else:
                first.setdefault(k, (study, where))


def _label(text: str | None) -> str | None:
    return None if text is None else re.sub(r"\s+", " ", text).strip().lower()


def check_arm_orientation(where: Where, comp: Comparison, questions: dict) -> None:
    """Warn when an arm's label is the question's other arm (arms entered the wrong way round)."""
    q = questions.get(comp.question)
    if q is None or comp.experimental is None or comp.reference is None:
        return
    q_exp, q_ref = _label(q.experimental), _label(q.reference)
    if q_exp == q_ref:
        return
    for arm_key, arm, other in (("experimental", comp.experimental, q_ref),
                                ("reference", comp.reference, q_exp)):
        if other is not None and _label(arm.label) == other:
            side = "reference" if arm_key == "experimental" else "experimental"
            where.at(arm_key).warn(
                "label", f'"{arm.label}" is the {side} group of question {q.id}: the arms look '
                "entered the wrong way round (HR = hazard(experimental) / hazard(reference) of "
                "the question); swap them (and invert the HR and its CI)"
                + _how(f"{arm_key}.label"))


def _reported_sign(comp: Comparison) -> tuple[int, str] | None:
    """Sign of the reported log HR (-1: experimental better) and where it comes from."""
    if comp.hr is not None and comp.hr.estimate is not None and comp.hr.estimate != 1:
        return (-1 if comp.hr.estimate < 1 else 1), f"the reported HR {comp.hr.estimate:g}"
    if comp.effect is not None and comp.effect.log_hr:
        return (-1 if comp.effect.log_hr < 0 else 1), f"effect.log_hr {comp.effect.log_hr:g}"
    if comp.logrank is not None and comp.logrank.o_minus_e:
        return ((-1 if comp.logrank.o_minus_e < 0 else 1),
                f"logrank.o_minus_e {comp.logrank.o_minus_e:g}")
    return None


def check_direction(where: Where, comp: Comparison) -> None:
    """Warn when ``direction`` contradicts a reported HR, log HR or O - E.

    A one-sided p above 0.5 says the estimate lies against the tested
    direction, so the contradiction is expected and not warned about.
    """
    if comp.direction is None:
        return
    p = comp.p
    if p is not None and p.sided == 1 and p.value is not None and p.value > 0.5:
        return
    reported = _reported_sign(comp)
    if reported is None:
        return
    sign, source = reported
    stated = -1 if comp.direction == "favours experimental" else 1
    if sign != stated:
        shows = "favours experimental" if sign < 0 else "favours reference"
        where.warn("direction", f'"{comp.direction}" contradicts {source}, which {shows}: check '
                                "the direction, or the orientation of the HR" + _how("direction"))


def check_p_bounds(where: Where, key: str, p: PValue | None) -> None:
    """Warn about a two-sided "<" bound of 0.5 or more (``"<1"`` gives no estimate at all)."""
    if p is None or p.relation != "<" or p.value is None or p.sided == 1:
        return
    field = where.field(key)
    if p.value >= 1:
        what = (f'p printed as "{p.text}": every p-value is below 1, so the bound says nothing '
                "and gives no estimate; check the source (perhaps \"<0.1\" or \"<0.01\")")
    elif p.value >= 0.5:
        what = (f'p printed as "{p.text}": a bound this large leaves the estimate almost '
                "unconstrained (it is used as if p were the bound, conservatively); check the "
                "source")
    else:
        return
    where.warn(key, what + _how(field))


def check_plausibility(questions: list, studies: list, comparisons: list[tuple[Comparison, Where]],
                       raw: dict) -> None:
    """Run every plausibility rule over a read registry.

    Parameters
    ----------
    questions : list of Question
        The questions read (ids may be None where they had errors).
    studies : list of (Study, Where)
    comparisons : list of (Comparison, Where)
    raw : dict
        ``id(Comparison) -> raw table`` for the CI-level rule (which needs to
        know whether a level was written).
    """
    by_id = {q.id: q for q in questions if q.id is not None}
    check_same_paper(studies)
    for comp, where in comparisons:
        table = raw.get(id(comp), {})
        for key in ("hr", "experimental", "reference"):
            check_levels(where, table.get(key), key)
        check_arm_orientation(where, comp, by_id)
        check_direction(where, comp)
        check_p_bounds(where, "p", comp.p)
        check_p_vs_hr(where, comp)
        check_p_vs_medians(where, comp)
        if comp.hr is not None:
            check_p_bounds(where.at("hr"), "p", comp.hr.p)
