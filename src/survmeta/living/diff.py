"""What changed between two versions of a review.

:func:`diff_results` compares two pooled analyses question by question (which
comparisons were added, removed or edited; old and new pooled HR, interval,
tau and P(HR < 1)); :func:`describe_changes` says it in words. :func:`diff_since`
is the front door used by ``survmeta diff``: the registry now against an
earlier version of it, given as a git revision of the file, an older registry
file, or a results file saved by ``survmeta pool --save``. Both sides are
pooled with the same engine, priors and seed (with saved results: those the
file records, for the questions it covers), so every difference comes from the
data.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survmeta._format import fmt_hr, fmt_level, fmt_num, fmt_pct, fmt_prob
from survmeta.errors import RegistryError, SurvmetaError

__all__ = [
    "DiffReport",
    "compare_registries",
    "describe_changes",
    "diff_saved",
    "diff_since",
    "diff_results",
    "load_since",
]

#: Fields of a pooled study entry (``PoolResult.to_dict()["studies"]``) that
#: identify an edit when no registry is at hand.
_STUDY_FIELDS = ("log_hr", "se", "se_extra", "method", "approximate", "flags", "year", "endpoint")

DIFF_COLUMNS = (
    "question", "status", "k_old", "k_new", "added", "removed", "edited",
    "hr_old", "hr_old_lower", "hr_old_upper", "hr_new", "hr_new_lower", "hr_new_upper",
    "tau_old", "tau_new", "p_old", "p_new", "level", "engine_old", "engine_new",
    "not_pooled", "measure", "unit", "est_old", "est_old_lower", "est_old_upper",
    "est_new", "est_new_lower", "est_new_upper",
)
#: Columns of a diff table that only single-group questions fill.
SINGLE_DIFF_COLUMNS = ("unit", "est_old", "est_old_lower", "est_old_upper", "est_new",
                       "est_new_lower", "est_new_upper")

#: Rows of a diff table whose question was compared (statuses).
STATUSES = ("added", "removed", "now pooled", "no longer pooled", "changed", "unchanged")


# ---------------------------------------------------------------------------
# comparing registries
# ---------------------------------------------------------------------------
def _plain(obj) -> dict:
    d = dataclasses.asdict(obj)
    d.pop("line", None)
    return d


def _changed_fields(old: dict, new: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            out.append(prefix + key)
    return out


def compare_registries(old, new) -> dict[str, dict[str, list[str]]]:
    """Comparisons added, removed and edited per question.

    Parameters
    ----------
    old, new : Registry
        Two versions of a registry.

    Returns
    -------
    dict
        ``{question: {"added": [key, ...], "removed": [...], "edited": [...]}}``
        where a key is ``"study/comparison"`` and an edited entry reads
        ``"study/comparison (field, field)"``: any field of the comparison, or
        of its study (``study.year``), changed. The single-group entries
        (``[[study.outcome]]``) of a proportion or median question are keyed
        ``"study/outcome"`` (``"study"`` for an outcome without an id), as
        :attr:`survmeta.results.SingleArmResult.keys`.
    """
    def index(reg):
        out = {}
        for s in reg.studies:
            sd = _plain(s)
            sd.pop("comparisons", None)
            sd.pop("outcomes", None)
            for c in s.comparisons:
                out[c.key] = (c.question, _plain(c), sd)
            for o in getattr(s, "outcomes", ()):
                key = f"{o.study_id}/{o.id}" if o.id else o.study_id
                out[key] = (o.question, _plain(o), sd)
        return out

    a, b = index(old), index(new)
    result: dict[str, dict[str, list[str]]] = {}

    def slot(q):
        return result.setdefault(q, {"added": [], "removed": [], "edited": []})

    for key, (q, comp, study) in b.items():
        if key not in a or a[key][0] != q:
            slot(q)["added"].append(key)
            continue
        fields = _changed_fields(a[key][1], comp) + _changed_fields(a[key][2], study, "study.")
        if fields:
            slot(q)["edited"].append(f"{key} ({', '.join(fields)})")
    for key, (q, _, _) in a.items():
        if key not in b or b[key][0] != q:
            slot(q)["removed"].append(key)
    return result


# ---------------------------------------------------------------------------
# comparing results
# ---------------------------------------------------------------------------
def _as_dict(results) -> dict:
    if results is None:
        return {"questions": []}
    if hasattr(results, "to_dict") and not isinstance(results, dict):
        results = results.to_dict()
    if not isinstance(results, dict) or not isinstance(results.get("questions"), list):
        raise SurvmetaError("not a saved pooled analysis: expected the JSON written by "
                            "`survmeta pool --save` (a \"questions\" list)")
    return results


def _as_set(results):
    """A :class:`~survmeta.results.PoolSet` of either side: pooled now, or read from saved form."""
    from survmeta.results import PoolSet
    from survmeta.results_io import pool_set_from_dict

    if isinstance(results, PoolSet):
        return results
    return pool_set_from_dict(_as_dict(results))


def _studies(r) -> dict[str, dict]:
    """``"study/comparison" -> fields`` of the comparisons a result pooled."""
    if "studies" in getattr(r, "missing", ()):
        return {}
    e = r.effects.rename(columns={"study": "id"})
    return {f"{s['id']}/{s['comparison']}": s for s in e.to_dict(orient="records")}


def _summary(r) -> dict[str, Any]:
    """What the diff compares of one pooled result (a PoolResult, pooled now or loaded)."""
    hr = r.stats["hr"]
    lo, hi = hr.eti.as_tuple()
    return {
        "k": r.k,
        "hr": float(hr.median),
        "lower": float(lo),
        "upper": float(hi),
        "tau": float(r.stats["tau"].median),
        "p": float(r.p_hr_below_1),
        "level": float(r.level),
        "engine": r.engine,
        "studies": _studies(r),
    }


def _summaries(results) -> dict[str, dict[str, Any]]:
    """:func:`_summary` of every question of a PoolSet, by id (single-group ones too)."""
    out = {qid: _summary(r) for qid, r in results.items()}
    for qid, r in getattr(results, "single_arm", {}).items():
        out.setdefault(qid, _single_summary(r))
    return out


def _single_summary(r) -> dict[str, Any]:
    """What the diff compares of a single-group question (pooled now, or saved)."""
    row = r.sof_row()
    saved = getattr(r, "saved", None)
    keys = list(saved.get("keys") or ()) if saved is not None else list(r.keys)
    return {
        "k": int(r.k),
        "measure": r.measure,
        "unit": str(row.get("unit") or ""),
        "basis": str(row.get("basis") or "pooled"),
        "estimate": float(row["estimate"]),
        "lower": float(row["lower"]),
        "upper": float(row["upper"]),
        "tau": float(row["tau"]),
        "level": float(r.level),
        "engine": "exact",
        "studies": {k: {} for k in keys},
    }


def _study_changes(old: dict, new: dict) -> dict[str, list[str]]:
    added = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    edited = []
    for k in new:
        if k in old:
            fields = [f for f in _STUDY_FIELDS if _norm(old[k].get(f)) != _norm(new[k].get(f))]
            if fields:
                edited.append(f"{k} ({', '.join(fields)})")
    return {"added": added, "removed": removed, "edited": edited}


def _norm(v):
    if isinstance(v, (list, tuple)):
        return tuple(_norm(x) for x in v)
    if isinstance(v, float):
        return None if math.isnan(v) else round(v, 12)
    return v


def _not_pooled(results) -> dict[str, str]:
    """``"study/comparison" -> reason`` for every comparison an analysis did not pool."""
    out = {}
    excluded = [e for r in results.values() if len(r.excluded)
                for e in r.excluded.to_dict(orient="records")]
    for q in results.skipped:
        if isinstance(q, dict):
            excluded += list(q.get("excluded") or ())
    for e in excluded:
        if isinstance(e, dict) and "study" in e and "comparison" in e:
            out[f"{e['study']}/{e['comparison']}"] = str(e.get("reason", ""))
    return out


def _skipped_ids(results) -> set[str]:
    return {s["id"] for s in results.skipped if isinstance(s, dict) and "id" in s}


def _close(a: dict, b: dict) -> bool:
    keys = ("estimate", "lower", "upper", "tau") if "measure" in a else ("hr", "lower", "upper",
                                                                         "tau", "p")

    def same(x: float, y: float) -> bool:
        return (math.isnan(x) and math.isnan(y)) or abs(x - y) <= 1e-9 * max(1.0, abs(x))
    return a["k"] == b["k"] and all(same(a[k], b[k]) for k in keys)


def diff_results(old, new, changes: dict | None = None) -> pd.DataFrame:
    """Compare two pooled analyses, one row per question.

    Parameters
    ----------
    old, new : PoolSet or dict
        Pooled analyses, or their saved form (``PoolSet.to_dict()``, the JSON
        of ``survmeta pool --save``).
    changes : dict, optional
        Comparisons added/removed/edited per question, as
        :func:`compare_registries` returns; default: derived from the pooled
        studies of each side (a change to a comparison that is not pooled is
        then not seen).

    Returns
    -------
    pandas.DataFrame
        Columns ``question``, ``status`` (``added``: a question the old side
        does not have; ``removed``: one the new side does not have; ``now
        pooled`` / ``no longer pooled``: a question the other side lists under
        ``skipped``, with nothing to pool; ``changed``; ``unchanged``),
        ``k_old``, ``k_new``, ``added``, ``removed``, ``edited``
        (lists of ``"study/comparison"``), ``hr_old``, ``hr_old_lower``,
        ``hr_old_upper``, ``hr_new``, ``hr_new_lower``, ``hr_new_upper``
        (posterior median and equal-tailed interval), ``tau_old``,
        ``tau_new`` (posterior medians), ``p_old``, ``p_new`` (P(HR < 1)),
        ``level``, ``engine_old``, ``engine_new``, ``not_pooled``,
        ``measure`` (``hr``, ``proportion`` or ``median``). Numbers of a side
        where the question is not pooled are NaN (``k`` 0).

        A single-group question (:attr:`~survmeta.results.PoolSet.single_arm`)
        has its pooled value in ``est_old``, ``est_old_lower``,
        ``est_old_upper``, ``est_new``, ``est_new_lower``, ``est_new_upper``
        (posterior median and credible interval on the natural scale, from
        :meth:`~survmeta.results.SingleArmResult.sof_row`) in ``unit`` (``%``
        or ``months``), tau (logit or log-median scale) in ``tau_old`` /
        ``tau_new``, and NaN in the HR columns; an HR question has NaN in the
        ``est_*`` columns.
    """
    old_s, new_s = _as_set(old), _as_set(new)
    a = _summaries(old_s)
    b = _summaries(new_s)
    # questions a side knows but could not pool (``PoolSet.skipped``)
    old_skipped, new_skipped = _skipped_ids(old_s), _skipped_ids(new_s)
    not_pooled = _not_pooled(new_s)
    order = list(b) + [q for q in a if q not in b]
    if changes:
        order += [q for q in changes if q not in order]
    rows = []
    nan = float("nan")
    for qid in order:
        o, n = a.get(qid), b.get(qid)
        if changes is not None:
            ch = changes.get(qid, {"added": [], "removed": [], "edited": []})
        else:
            ch = _study_changes(o["studies"] if o else {}, n["studies"] if n else {})
        if o is None and n is None:
            status = "changed" if any(ch.values()) else "unchanged"
        elif o is None:
            status = "now pooled" if qid in old_skipped else "added"
        elif n is None:
            status = "no longer pooled" if qid in new_skipped else "removed"
        elif any(ch.values()) or not _close(o, n):
            status = "changed"
        else:
            status = "unchanged"
        side = n or o or {}
        single = "measure" in side
        rows.append({
            "question": qid,
            "status": status,
            "k_old": o["k"] if o else 0,
            "k_new": n["k"] if n else 0,
            "added": list(ch["added"]),
            "removed": list(ch["removed"]),
            "edited": list(ch["edited"]),
            "hr_old": o["hr"] if o and not single else nan,
            "hr_old_lower": o["lower"] if o and not single else nan,
            "hr_old_upper": o["upper"] if o and not single else nan,
            "hr_new": n["hr"] if n and not single else nan,
            "hr_new_lower": n["lower"] if n and not single else nan,
            "hr_new_upper": n["upper"] if n and not single else nan,
            "tau_old": o["tau"] if o else nan,
            "tau_new": n["tau"] if n else nan,
            "p_old": o["p"] if o and not single else nan,
            "p_new": n["p"] if n and not single else nan,
            "level": (n or o or {"level": 0.95})["level"],
            "engine_old": o["engine"] if o else None,
            "engine_new": n["engine"] if n else None,
            "not_pooled": {k: not_pooled[k] for k in ch["added"] if k in not_pooled},
            "measure": side.get("measure", "hr"),
            "unit": side.get("unit") if single else None,
            "est_old": o["estimate"] if o and single else nan,
            "est_old_lower": o["lower"] if o and single else nan,
            "est_old_upper": o["upper"] if o and single else nan,
            "est_new": n["estimate"] if n and single else nan,
            "est_new_lower": n["lower"] if n and single else nan,
            "est_new_upper": n["upper"] if n and single else nan,
            "basis_old": o.get("basis") if o else None,
            "basis_new": n.get("basis") if n else None,
        })
    table = pd.DataFrame(rows, columns=list(DIFF_COLUMNS))
    # what the single-group sentences name (a median of medians when nothing had an interval)
    table.attrs["basis"] = {r["question"]: (r["basis_old"], r["basis_new"]) for r in rows}
    return table


# ---------------------------------------------------------------------------
# words
# ---------------------------------------------------------------------------
def _hr_text(hr: float, lo: float, hi: float) -> str:
    return f"{fmt_hr(hr)} [{fmt_hr(lo)}, {fmt_hr(hi)}]"


def _prob_text(a: float, b: float) -> tuple[str, str]:
    """Both probabilities with enough decimals to tell them apart (2 or 3); beyond 3
    decimals ``">0.999"`` / ``"<0.001"`` (:func:`survmeta._format.fmt_prob`)."""
    extreme = any(round(x, 2) in (0.0, 1.0) for x in (a, b))
    digits = 3 if extreme or (round(a, 2) == round(b, 2) and abs(a - b) >= 5e-4) else 2
    return fmt_prob(a, digits), fmt_prob(b, digits)


def _p_is(p: float) -> str:
    """``"= 0.97"``, or ``"> 0.99"`` / ``"< 0.01"`` beyond two decimals."""
    text = fmt_prob(p, 2)
    return f"{text[0]} {text[1:]}" if text[0] in "<>" else f"= {text}"


def _count(keys: list[str], verb: str, noun: str = "comparison") -> str | None:
    if not keys:
        return None
    noun = noun if len(keys) == 1 else f"{noun}s"
    return f"{len(keys)} {noun} {verb} ({'; '.join(keys)})"


def _interval_words(row, pct: str) -> str:
    old_in = row.hr_old_lower <= 1 <= row.hr_old_upper
    new_in = row.hr_new_lower <= 1 <= row.hr_new_upper
    if old_in and new_in:
        return f"the {pct} interval still includes 1"
    if not old_in and not new_in:
        return f"the {pct} interval still excludes 1"
    if old_in:
        return f"the {pct} interval no longer includes 1"
    return f"the {pct} interval now includes 1"


def _added_words(row) -> list[str]:
    """The added comparisons, those that are not pooled said apart with the reason."""
    skipped = dict(getattr(row, "not_pooled", None) or {})
    pooled = [k for k in row.added if k not in skipped]
    out = [p for p in (_count(pooled, "added"),) if p]
    for key, reason in skipped.items():
        out.append(f"{key} added, not pooled: {reason}")
    return out


def _sentence(row, basis: tuple | None = None) -> str:
    if getattr(row, "measure", "hr") in ("proportion", "median"):
        return _single_sentence(row, basis)
    pct = fmt_level(row.level)
    parts = [p for p in (*_added_words(row), _count(row.removed, "removed"),
                         _count(row.edited, "edited")) if p]
    if row.status in ("added", "now pooled"):
        lead = "new question" if row.status == "added" else "now pooled (nothing to pool before)"
        return "; ".join([
            f"{row.question}: {lead}: pooled HR "
            f"{_hr_text(row.hr_new, row.hr_new_lower, row.hr_new_upper)} ({pct} interval) from "
            f"{row.k_new} comparison{'s' if row.k_new != 1 else ''}",
            f"tau {fmt_num(row.tau_new)}", f"P(HR < 1) {_p_is(row.p_new)}", *parts])
    if row.status in ("removed", "no longer pooled"):
        lead = "no longer pooled" if row.status == "removed" else "nothing left to pool"
        return "; ".join([
            f"{row.question}: {lead} (was HR "
            f"{_hr_text(row.hr_old, row.hr_old_lower, row.hr_old_upper)}, k = {row.k_old})", *parts])
    if np.isnan(row.hr_old) and np.isnan(row.hr_new):
        return f"{row.question}: " + "; ".join(parts + ["nothing to pool before or after"])
    old = _hr_text(row.hr_old, row.hr_old_lower, row.hr_old_upper)
    new = _hr_text(row.hr_new, row.hr_new_lower, row.hr_new_upper)
    was, now = getattr(row, "engine_old", None), getattr(row, "engine_new", None)
    engine = (f"the engine changed from {was} to {now}"
              if isinstance(was, str) and isinstance(now, str) and was != now else None)
    if row.status == "unchanged":
        return "; ".join([f"{row.question}: unchanged: pooled HR {new}, k = {row.k_new}, "
                          f"P(HR < 1) {_p_is(row.p_new)}"] + ([engine] if engine else []))
    if old == new:
        parts.append(f"the pooled HR stayed at {new}")
    else:
        parts.append(f"the pooled HR moved from {old} to {new}")
    parts.append(_interval_words(row, pct))
    pa, pb = _prob_text(row.p_old, row.p_new)
    if pa == pb:
        parts.append(f"P(HR < 1) stayed at {pb}")
    else:
        parts.append(f"P(HR < 1) {'rose' if row.p_new > row.p_old else 'fell'} from {pa} to {pb}")
    ta, tb = fmt_num(row.tau_old), fmt_num(row.tau_new)
    parts.append(f"tau stayed at {tb}" if ta == tb else f"tau went from {ta} to {tb}")
    if row.k_old != row.k_new:
        parts.append(f"k went from {row.k_old} to {row.k_new}")
    if engine:
        parts.append(engine)
    return f"{row.question}: " + "; ".join(parts)


def _single_value(measure: str, est: float, lo: float, hi: float) -> str:
    """``9.7% [2.8, 26.8]`` (a proportion, in percent) or ``3.1 [2.0, 4.6]`` (a median)."""
    if measure == "proportion":
        return f"{fmt_pct(est)} [{fmt_pct(lo, sign=False)}, {fmt_pct(hi, sign=False)}]"
    return f"{fmt_num(est, 1)} [{fmt_num(lo, 1)}, {fmt_num(hi, 1)}]"


def _single_sentence(row, basis: tuple | None = None) -> str:
    """A single-group question in words: the pooled proportion or median, old and new."""
    measure = row.measure
    months = f" {row.unit}" if measure == "median" and row.unit else ""
    noun = "outcome"
    parts = [p for p in (_count([k for k in row.added], "added", noun),
                         _count(row.removed, "removed", noun),
                         _count(row.edited, "edited", noun)) if p]
    old_basis, new_basis = basis or (None, None)

    def what(b) -> str:
        if measure == "proportion":
            return "pooled proportion"
        return "median of medians" if b == "median of medians" else "pooled median"

    pct = fmt_level(row.level)
    k_new = f"{row.k_new} outcome{'s' if row.k_new != 1 else ''}"
    if row.status in ("added", "now pooled"):
        lead = "new question" if row.status == "added" else "now pooled (nothing to pool before)"
        new = _single_value(measure, row.est_new, row.est_new_lower, row.est_new_upper)
        return "; ".join([f"{row.question}: {lead}: {what(new_basis)} {new}{months} ({pct} "
                          f"interval) from {k_new}", f"tau {fmt_num(row.tau_new)}", *parts])
    if row.status in ("removed", "no longer pooled"):
        lead = "no longer pooled" if row.status == "removed" else "nothing left to pool"
        old = _single_value(measure, row.est_old, row.est_old_lower, row.est_old_upper)
        return "; ".join([f"{row.question}: {lead} (was {what(old_basis)} {old}{months}, "
                          f"k = {row.k_old})", *parts])
    if np.isnan(row.est_old) and np.isnan(row.est_new):
        return f"{row.question}: " + "; ".join(parts + ["nothing to pool before or after"])
    old = _single_value(measure, row.est_old, row.est_old_lower, row.est_old_upper)
    new = _single_value(measure, row.est_new, row.est_new_lower, row.est_new_upper)
    if row.status == "unchanged":
        return f"{row.question}: unchanged: {what(new_basis)} {new}{months}, k = {row.k_new}"
    ks = (f"k {row.k_old} -> {row.k_new}" if row.k_old != row.k_new else f"k = {row.k_new}")
    if old_basis != new_basis and None not in (old_basis, new_basis):
        parts.append(f"{what(old_basis)} {old}{months} before, {what(new_basis)} {new}{months} "
                     f"now ({ks})")
    elif old == new:
        parts.append(f"{what(new_basis)} stayed at {new}{months} ({ks})")
    else:
        parts.append(f"{what(new_basis)} went from {old} to {new}{months} ({ks})")
    ta, tb = fmt_num(row.tau_old), fmt_num(row.tau_new)
    parts.append(f"tau stayed at {tb}" if ta == tb else f"tau went from {ta} to {tb}")
    return f"{row.question}: " + "; ".join(parts)


def describe_changes(table_or_old, new=None, changes: dict | None = None) -> list[str]:
    """The changes in words, one sentence per question.

    Parameters
    ----------
    table_or_old : pandas.DataFrame or PoolSet or dict
        A table from :func:`diff_results`, or the old analysis (then ``new``
        is required).
    new : PoolSet or dict, optional
        The new analysis.
    changes : dict, optional
        Passed to :func:`diff_results`.

    Returns
    -------
    list of str
        E.g. ``"oligo_vs_systemic: 1 comparison added (delta2025/os); the
        pooled HR moved from 0.52 [0.31, 0.88] to 0.58 [0.40, 0.83]; the 95%
        interval still excludes 1; P(HR < 1) fell from 0.99 to 0.97; ..."``
    """
    if isinstance(table_or_old, pd.DataFrame):
        table = table_or_old
    else:
        if new is None:
            raise SurvmetaError("describe_changes needs a diff table, or both the old and new results")
        table = diff_results(table_or_old, new, changes)
    basis = table.attrs.get("basis") or {}
    return [_sentence(row, basis.get(row.question)) for row in table.itertuples(index=False)]


# ---------------------------------------------------------------------------
# the old side: a git revision, an older registry, or saved results
# ---------------------------------------------------------------------------
def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise SurvmetaError("git is not installed, so a revision cannot be read; "
                            "give an older registry or a saved results file instead") from None


def registry_at_revision(path, rev: str) -> tuple[str, str]:
    """Text of a registry file at a git revision, and a name for messages.

    Parameters
    ----------
    path : str or path-like
        The registry in a git working tree.
    rev : str
        Any git revision (``HEAD~1``, a tag, a commit).

    Returns
    -------
    (text, name)

    Raises
    ------
    SurvmetaError
        When the file is not in a git repository, the revision is unknown, or
        the file does not exist at that revision.
    """
    path = Path(path).resolve()
    top = _git(["rev-parse", "--show-toplevel"], path.parent)
    if top.returncode != 0:
        raise SurvmetaError(f"--since {rev}: not a file, and {path.name} is not in a git repository "
                            "(so it is not a revision either); give a git revision of the registry, "
                            "an older registry file, or a results file saved by `survmeta pool --save`")
    root = Path(top.stdout.strip())
    rel = path.relative_to(root.resolve()).as_posix()
    verify = _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root)
    if verify.returncode != 0:
        raise SurvmetaError(f"--since {rev}: no such file, and not a revision of the git repository "
                            f"at {root}")
    shown = _git(["show", f"{rev}:{rel}"], root)
    if shown.returncode != 0:
        raise SurvmetaError(f"--since {rev}: {rel} does not exist at revision {rev}")
    return shown.stdout, f"{rel}@{rev}"


def read_saved(path) -> dict:
    """The parsed JSON of a results file saved by ``survmeta pool --save``.

    Raises
    ------
    SurvmetaError
        When the file cannot be read, is not JSON, or holds no ``"questions"`` list.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SurvmetaError(f"{path}: not a JSON results file ({exc})") from None
    except RecursionError:
        raise SurvmetaError(f"{path}: not a JSON results file (nested too deeply)") from None
    except OSError as exc:
        raise SurvmetaError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        return _as_dict(data)
    except SurvmetaError as exc:
        raise SurvmetaError(f"{path}: {exc}") from None


def diff_saved(old_path, new_path) -> DiffReport:
    """Compare two results files saved by ``survmeta pool --save``, as they are (no re-pooling).

    Both files are read with :meth:`survmeta.results.PoolSet.from_dict` (schema versions 1
    and 2) and compared question by question (:func:`diff_results`); the comparisons added,
    removed or edited are those of the pooled studies each file records.

    Parameters
    ----------
    old_path, new_path : str or path-like
        The earlier and the later saved results.

    Returns
    -------
    DiffReport
        ``since`` is ``old_path``; ``notes`` say when the two files were pooled at different
        levels or with different priors (the differences then include that choice).
    """
    from survmeta.results import PoolSet

    sides = []
    for path in (old_path, new_path):
        data = read_saved(path)
        try:
            sides.append((data, PoolSet.from_dict(data)))
        except SurvmetaError as exc:
            raise SurvmetaError(f"{path}: {exc}") from None
    (old_d, old), (new_d, new) = sides
    notes = []
    levels = sorted({r.level for s in (old, new) for r in s.values()})
    if len(levels) > 1:
        notes.append("the files were pooled at different levels ("
                     + ", ".join(f"{x:g}" for x in levels) + "), so their intervals differ in kind")
    both = [q for q in new if q in old]
    if any(old[q].priors_dict() != new[q].priors_dict() for q in both):
        notes.append("some questions were pooled with different priors in the two files, so "
                     "the differences include the change of prior")
    table = diff_results(old, new)
    return DiffReport(table, describe_changes(table), old_d, new_d, str(old_path), notes)


def load_since(path, since) -> tuple[str, Any, str]:
    """Read the old side of a diff.

    Parameters
    ----------
    path : str or path-like
        The current registry.
    since : str or path-like
        A results JSON (``survmeta pool --save``), an older registry TOML, or
        a git revision of ``path``.

    Returns
    -------
    (kind, value, name)
        ``("results", dict, name)`` or ``("registry", Registry, name)``.
    """
    from survmeta.registry import load_registry, load_registry_text

    candidate = Path(since)
    if candidate.is_file():
        if candidate.suffix.lower() == ".json":
            return "results", read_saved(candidate), str(since)
        return "registry", load_registry(candidate), str(since)
    text, name = registry_at_revision(path, str(since))
    return "registry", load_registry_text(text, name), name


@dataclass
class DiffReport:
    """Result of :func:`diff_since`.

    Attributes
    ----------
    table : pandas.DataFrame
        :func:`diff_results` table.
    sentences : list of str
        :func:`describe_changes` of it.
    old, new : dict
        Both pooled analyses in saved form.
    since : str
        What the registry was compared with.
    """

    table: pd.DataFrame
    sentences: list[str]
    old: dict
    new: dict
    since: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"since": self.since, "changes": list(self.sentences),
                "questions": self.table.to_dict(orient="records"), "notes": list(self.notes)}


def _saved_settings(q: dict, meta: dict, fallback: dict | None = None) -> dict:
    """Engine, priors, level, seed (and MCMC draws/chains) recorded for a saved question."""
    from survmeta.pooling import DEFAULT_MU_PRIOR, DEFAULT_SEED, DEFAULT_TAU_PRIOR

    base = fallback or {}
    pri = q.get("priors") or {}
    engine = q.get("engine") or meta.get("engine") or base.get("engine") or "exact"
    out = {
        "engine": engine,
        "tau_prior": pri.get("tau") or base.get("tau_prior") or DEFAULT_TAU_PRIOR,
        "mu_prior": pri.get("mu") or base.get("mu_prior") or DEFAULT_MU_PRIOR,
        "level": float(q.get("level") or meta.get("level") or base.get("level") or 0.95),
        "seed": q.get("seed", meta.get("seed", base.get("seed", DEFAULT_SEED))),
        "mcmc": {},
    }
    diag = q.get("diagnostics") or {}
    if engine == "mcmc":  # the sampler's draws and chains, so the Monte Carlo error is alike
        out["mcmc"] = {k: int(diag[k]) for k in ("draws", "chains")
                       if isinstance(diag.get(k), (int, float)) and diag[k] > 0}
    elif not q and base:
        out["mcmc"] = dict(base.get("mcmc") or {})
    return out


def _names(ids: list[str], shown: int = 5) -> str:
    return ", ".join(ids[:shown]) + (f", ... ({len(ids) - shown} more)" if len(ids) > shown else "")


def _pool_saved_like(registry, old: dict, engine: str | None = None,
                     mcmc_options: dict | None = None) -> tuple[dict, list[str]]:
    """Pool ``registry`` as the saved results ``old`` were pooled.

    Only the questions the saved results cover (pooled or listed as skipped)
    are pooled; each with the engine, priors, level and seed recorded for it
    (``engine`` overrides the saved engine). Returns the pooled analysis in
    saved form and notes for the reader.
    """
    from survmeta.pooling import (
        ENGINES,
        effect_table,
        pool_registry_question,
        pool_single_arm_question,
        select_rows,
    )

    meta = old.get("meta") or {}
    saved = {q["id"]: _saved_settings(q, meta) for q in old["questions"]}
    first = next(iter(saved.values()), None)
    for s in old.get("skipped") or ():  # no priors are recorded for a question with nothing to pool
        if isinstance(s, dict) and s.get("id") not in saved:
            saved[s["id"]] = _saved_settings({}, meta, first)
    effects, questions = effect_table(registry)
    single_saved = {b["question"]["id"]: b for b in old.get("single_arm") or ()
                    if isinstance(b, dict) and isinstance(b.get("question"), dict)}
    measures = {q.id: q.measure for q in registry.questions}
    blocks, skipped, others, engines = [], [], [], {}
    single_blocks = []
    for qid in questions:
        if measures.get(qid, "hr") != "hr" and qid in single_saved:
            # re-pooled at the saved level (exact engine, the measure's default priors)
            level = float((single_saved[qid].get("pool") or {}).get("level") or 0.95)
            sa = pool_single_arm_question(registry, qid, level=level)
            if sa is None:
                skipped.append({"id": qid, "reason": "no single-group outcome", "excluded": []})
            else:
                single_blocks.append(sa.to_dict())
            continue
        if qid not in saved:
            others.append((qid, len(select_rows(effects, qid)[0]) > 0))
            continue
        opts = saved[qid]
        used = engine or opts["engine"]
        if used not in ENGINES:
            raise SurvmetaError(
                f"question {qid} was saved with the {opts['engine']} engine, which diff cannot "
                f"refit; choose one with --engine ({' or '.join(ENGINES)})")
        if used != opts["engine"]:
            engines.setdefault((opts["engine"], used), []).append(qid)
        mcmc = dict(opts["mcmc"]) if used == opts["engine"] else {}
        mcmc.update(mcmc_options or {})
        res, skip = pool_registry_question(
            effects, questions[qid], engine=used, tau_prior=opts["tau_prior"],
            mu_prior=opts["mu_prior"], level=opts["level"], seed=opts["seed"], draws=0,
            mcmc_options=mcmc if used == "mcmc" else None)
        if res is None:
            skipped.append(skip)
        else:
            blocks.append(res.to_dict())
    notes = []
    if others:
        n, poolable = len(others), [q for q, ok in others if ok]
        some = f" ({len(poolable)} with comparisons to pool)" if len(poolable) != n else ""
        notes.append(f"{n} other question{'s' if n != 1 else ''}{some} not in the saved results, so "
                     "not compared (the file was saved for a selection of questions, or they were "
                     f"added since): {_names(poolable or [q for q, _ in others])}")
    for (was, now), qids in engines.items():
        which = "the saved results" if len(qids) == len([q for q in saved if q in questions]) \
            else f"{len(qids)} saved question{'s' if len(qids) != 1 else ''} ({_names(qids)})"
        notes.append(f"engine changed: {which} were pooled with the {was} engine, the registry now "
                     f"with the {now} engine, so the differences include the change of engine "
                     "(and Monte Carlo error), not only the edits")
    keys = {(o["tau_prior"], o["mu_prior"], o["level"], o["seed"]) for q, o in saved.items()
            if q in questions and any(b["id"] == q for b in old["questions"])}
    if len(keys) > 1:
        notes.append("the saved questions used different priors; each was re-pooled with its own")
    used_engines = sorted({b["engine"] for b in blocks})
    new_meta = {"engine": used_engines[0] if len(used_engines) == 1 else None,
                "level": meta.get("level"), "seed": meta.get("seed")}
    from survmeta.results import SCHEMA_VERSION

    out = {"schema_version": SCHEMA_VERSION, "questions": blocks, "skipped": skipped,
           "meta": new_meta}
    if single_blocks:
        out["single_arm"] = single_blocks
    return out, notes


def diff_since(path, since, engine: str | None = None, tau_prior: str | None = None,
               mu_prior: str | None = None, seed: int | None = None, level: float | None = None,
               mcmc_options: dict | None = None) -> DiffReport:
    """Compare the pooled results of a registry now with those of an earlier version.

    Parameters
    ----------
    path : str or path-like
        The registry (``studies.toml``).
    since : str or path-like
        A git revision of ``path`` (``HEAD~1``, a tag), an older registry
        file, or a results JSON saved by ``survmeta pool --save``.
    engine : {"exact", "mcmc"}, optional
        Engine. With saved results the default is the engine each question
        was saved with (``"engine"`` of the question, else ``meta.engine``),
        and a different one is reported in ``notes``; with a git revision or
        an older registry both sides are pooled with it (default ``"exact"``).
    tau_prior, mu_prior, seed, level : optional
        Pooling settings for both sides of a registry comparison (default:
        the ``survmeta pool`` defaults). Saved results are re-pooled with the
        settings they record; these are then ignored (with a note).
    mcmc_options : dict, optional
        Sampler options for the MCMC engine; with saved MCMC results the
        recorded draws and chains are reused unless given here.

    Returns
    -------
    DiffReport
        With saved results only the questions they cover are compared; the
        others are counted in ``notes``.
    """
    from survmeta.pooling import DEFAULT_MU_PRIOR, DEFAULT_SEED, DEFAULT_TAU_PRIOR, ENGINES, pool
    from survmeta.registry import load_registry

    if engine is not None and engine not in ENGINES:
        raise SurvmetaError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    registry = load_registry(path)
    kind, old_value, name = load_since(path, since)
    notes: list[str] = []
    if kind == "results":
        old = old_value
        if any(v is not None for v in (tau_prior, mu_prior, seed, level)):
            notes.append("pooling options given on the command line are ignored with saved results: "
                         "the registry is re-pooled with the priors, level and seed the file records")
        new, more = _pool_saved_like(registry, old, engine, mcmc_options)
        notes += more
        changes = None
    else:
        engine = engine or "exact"
        opts = dict(engine=engine, tau_prior=tau_prior or DEFAULT_TAU_PRIOR,
                    mu_prior=mu_prior or DEFAULT_MU_PRIOR,
                    seed=DEFAULT_SEED if seed is None else seed, level=level or 0.95,
                    mcmc_options=mcmc_options)
        old = _pool_or_empty(old_value, opts, name)
        new = pool(registry, **opts).to_dict()
        changes = compare_registries(old_value, registry)
        if engine == "mcmc":
            notes.append("both sides were pooled with MCMC (same seed); small differences can be "
                         "Monte Carlo error")
    table = diff_results(old, new, changes)
    return DiffReport(table, describe_changes(table), old, new, name, notes)


def _pool_or_empty(registry, opts: dict, name: str) -> dict:
    from survmeta.pooling import pool

    try:
        return pool(registry, **opts).to_dict()
    except RegistryError:
        raise
    except SurvmetaError as exc:
        raise SurvmetaError(f"{name}: cannot pool the earlier version: {exc}") from None
