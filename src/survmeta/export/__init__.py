"""Export the pooled comparisons for other meta-analysis software.

* :func:`to_metafor` gives a tidy table with metafor's ``yi``, ``vi`` (the
  squared SE) and ``sei`` columns, so that in R
  ``rma(yi, vi, data = read.csv("effects.csv"))`` pools a question's rows.
* :func:`to_revman` gives generic inverse-variance rows laid out like RevMan's
  analysis-data export: one row per study, the log HR as ``GIV Mean`` and its SE
  as ``GIV SE``, one analysis per question. RevMan documents no file import for a
  generic inverse-variance analysis; ``docs/review.md`` quotes what it documents.
* :func:`write_export` writes either table as CSV, atomically.

The rows are those :func:`survmeta.pool` pools (:func:`survmeta.pooling.select_rows`):
one comparison per study and question, subgroups and comparisons that are
not poolable left out. The values are the effect table's: ``yi`` is its
``log_hr`` and ``sei`` its ``se``, unrounded.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from survmeta.errors import SurvmetaError

__all__ = ["FORMATS", "METAFOR_COLUMNS", "REVMAN_COLUMNS", "export_table", "pooled_rows",
           "to_metafor", "to_revman", "write_export"]

#: The export layouts ``survmeta export --format`` offers.
FORMATS = ("metafor", "revman")


def _metafor_columns() -> tuple[str, ...]:
    from survmeta.registry.schema import COMPARABILITY_FIELDS

    head = ("study", "study_id", "comparison", "question", "endpoint", "year", "method",
            "approximate", "n", "n_experimental", "n_reference", "yi", "vi", "sei")
    return head + tuple(f for f in COMPARABILITY_FIELDS if f not in head)


#: Columns of :func:`to_metafor`, in order (the comparability fields last).
METAFOR_COLUMNS = _metafor_columns()

#: Columns of :func:`to_revman`, in order: the names of RevMan's analysis "data rows" CSV.
REVMAN_COLUMNS = ("Analysis group", "Analysis number", "Analysis name", "Subgroup", "Study",
                  "Study year", "GIV Mean", "GIV SE", "Experimental N", "Control N", "Footnotes")


def pooled_rows(source, questions=None) -> pd.DataFrame:
    """The pooled comparisons of each question, with what an export needs.

    Parameters
    ----------
    source : Registry, str, os.PathLike or pandas.DataFrame
        A registry, the path of a ``studies.toml`` or effects CSV, or an effect
        table (as :func:`survmeta.pooling.effect_table` takes).
    questions : str or list of str, optional
        Question ids, in the order wanted. Default: every question, in registry
        order; questions with no pooled comparison are then skipped.

    Returns
    -------
    pandas.DataFrame
        The effect table's pooled rows (one per study and question), plus
        ``study_label`` (the author-year label the report prints, or the
        effect table's label), ``question_title``, ``question_number`` (1-based,
        in registry order) and the arm sizes ``n_experimental`` and
        ``n_reference`` as the paper printed them (missing when not).

    Raises
    ------
    SurvmetaError
        For an unknown question id, a named question with no pooled
        comparison, or when nothing at all would be exported.
    """
    from survmeta.pooling import _wanted_questions, effect_table, select_rows
    from survmeta.registry import Registry, load

    if isinstance(source, (str, os.PathLike)):
        if not Path(source).exists():
            raise SurvmetaError(f"{source}: no such file")
        source = load(Path(source))
    labels, arms = {}, {}
    if isinstance(source, Registry):
        from survmeta.registry.summary import printed_arms
        from survmeta.report.content import author_year_study_labels

        labels = author_year_study_labels(source)
        arms = printed_arms(source)
    effects, known = effect_table(source)
    wanted = _wanted_questions(questions, known)
    number = {q: i + 1 for i, q in enumerate(known)}
    parts = []
    for q in wanted:
        rows, _, _ = select_rows(effects, q)
        if rows.empty:
            if questions is not None:
                raise SurvmetaError(f"question {q!r} has no pooled comparison to export")
            continue
        rows = rows.copy()
        rows["question_title"] = known[q].get("title") or q
        rows["question_number"] = number[q]
        parts.append(rows)
    if not parts:
        raise SurvmetaError("no question has a pooled comparison to export")
    out = pd.concat(parts, ignore_index=True)
    out["study_label"] = [labels.get(s) or (lab if isinstance(lab, str) and lab else s)
                          for s, lab in zip(out["study"], out.get("label", out["study"]))]
    keys = out["key"] if "key" in out else out["study"] + "/" + out["comparison"]
    out["n_experimental"] = pd.array([_count(arms.get(k, {}).get("n_experimental"))
                                      for k in keys], dtype="Int64")
    out["n_reference"] = pd.array([_count(arms.get(k, {}).get("n_reference"))
                                   for k in keys], dtype="Int64")
    return out


def _count(v):
    """An arm size as an integer, or None (not printed, or not a number)."""
    if v is None or isinstance(v, bool):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return int(x) if math.isfinite(x) and x == int(x) else None


def _column(rows: pd.DataFrame, name: str):
    return rows[name] if name in rows else pd.Series([None] * len(rows), index=rows.index)


def to_metafor(source, questions=None) -> pd.DataFrame:
    """The pooled comparisons as a tidy table for R's metafor.

    Parameters
    ----------
    source, questions
        As :func:`pooled_rows`.

    Returns
    -------
    pandas.DataFrame
        One row per pooled comparison, columns :data:`METAFOR_COLUMNS`:
        ``yi`` the log HR, ``sei`` its SE and ``vi = sei**2``; ``study`` the
        author-year label, ``study_id`` the registry id; the question id,
        endpoint, year, reconstruction ``method`` and ``approximate`` flag; the
        total and per-arm sizes; and the comparability fields
        (:data:`survmeta.registry.schema.COMPARABILITY_FIELDS`). Select a
        question's rows before pooling them (``subset = question == "..."``).
    """
    rows = pooled_rows(source, questions)
    sei = rows["se"].astype(float)
    out = pd.DataFrame({
        "study": rows["study_label"],
        "study_id": rows["study"],
        "comparison": _column(rows, "comparison"),
        "question": rows["question"],
        "endpoint": _column(rows, "endpoint"),
        "year": pd.array([_count(y) for y in _column(rows, "year")], dtype="Int64"),
        "method": _column(rows, "method"),
        "approximate": _column(rows, "approximate"),
        "n": pd.array([_count(v) for v in _column(rows, "n")], dtype="Int64"),
        "n_experimental": rows["n_experimental"],
        "n_reference": rows["n_reference"],
        "yi": rows["log_hr"].astype(float),
        "vi": sei * sei,
        "sei": sei,
    })
    for f in METAFOR_COLUMNS:
        if f not in out:
            out[f] = _column(rows, f).array
    return out[list(METAFOR_COLUMNS)]


def to_revman(source, questions=None) -> pd.DataFrame:
    """The pooled comparisons as generic inverse-variance rows in RevMan's export layout.

    Parameters
    ----------
    source, questions
        As :func:`pooled_rows`.

    Returns
    -------
    pandas.DataFrame
        One row per pooled comparison, columns :data:`REVMAN_COLUMNS`: one
        analysis per question (``Analysis number`` its place in the registry,
        ``Analysis name`` its title; ``Analysis group`` 1 throughout), no
        subgroups within an analysis (``Subgroup`` empty), ``Study`` the
        author-year label, ``Study year``, ``GIV Mean`` the log HR and
        ``GIV SE`` its SE (ratio measures go into RevMan on the log scale),
        the arm sizes where the paper printed them, and a footnote naming how
        the log HR was obtained.
    """
    rows = pooled_rows(source, questions)
    notes = []
    for method, approx in zip(_column(rows, "method"), _column(rows, "approximate")):
        note = f"log HR by survmeta method {method}" if isinstance(method, str) and method else ""
        if note and approx is not None and bool(approx):
            note += " (approximate)"
        notes.append(note)
    out = pd.DataFrame({
        "Analysis group": 1,
        "Analysis number": rows["question_number"].astype(int),
        "Analysis name": rows["question_title"],
        "Subgroup": "",
        "Study": rows["study_label"],
        "Study year": pd.array([_count(y) for y in _column(rows, "year")], dtype="Int64"),
        "GIV Mean": rows["log_hr"].astype(float),
        "GIV SE": rows["se"].astype(float),
        "Experimental N": rows["n_experimental"],
        "Control N": rows["n_reference"],
        "Footnotes": notes,
    })
    return out[list(REVMAN_COLUMNS)]


def export_table(source, format: str, questions=None) -> pd.DataFrame:
    """:func:`to_metafor` or :func:`to_revman`, by ``format`` (one of :data:`FORMATS`)."""
    if format not in FORMATS:
        raise SurvmetaError(f"unknown export format {format!r}; choose one of {', '.join(FORMATS)}")
    return (to_metafor if format == "metafor" else to_revman)(source, questions)


def write_export(table: pd.DataFrame, path=None) -> str:
    """Write an export table as CSV (UTF-8, no index) and return the text.

    With ``path``, the file is written atomically (a temporary file in the same
    folder, then a rename: never a half-written file); without, nothing is
    written. Numbers are written in full (``repr``), so they read back
    unchanged.
    """
    text = table.to_csv(index=False, lineterminator="\n")
    if path is not None:
        from survmeta._io import atomic_write_text

        atomic_write_text(path, text)
    return text
