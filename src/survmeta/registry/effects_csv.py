"""Effect sizes given directly, as a CSV of ``study,estimate,se[,question]``.

For users who already have log hazard ratios and standard errors. The file
needs a header row naming its columns (any order):

``study`` (required)
    The study's label as it should be printed, e.g. ``Heffron (2003)`` or
    ``Müller et al., 2010``: any printable text. The study's id (used in
    ``"study/comparison"`` keys and saved results) is the label itself when
    the label is a valid id (letters, digits, ``_ - .``), otherwise a slug of
    it (``Heffron-2003``, ``Muller-et-al-2010``), made unique with ``-2``,
    ``-3``, ... when two labels give the same slug. Tables and figures show
    the label (:func:`study_labels`).
``estimate`` (required)
    The log hazard ratio, experimental vs reference.
``se`` (required)
    Its standard error, > 0.
``question`` (optional)
    Question id; ``effects`` when the column is absent or the cell empty.
``year`` (optional)
    Publication year, 1900..2100.

Blank lines and lines starting with ``#`` are skipped. Each data row becomes
one comparison (id = its question id) carrying a
:class:`~survmeta.registry.records.DirectEffect`; rows of the same study are
grouped under one :class:`~survmeta.registry.records.Study` whose ``citation``
is the label; the result is an :class:`EffectsRegistry`. Questions are
created as they appear (title = id, arms "experimental" / "reference",
outcome "as given"). What a CSV cannot say (citation beyond the id, design,
population) is left None.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import unicodedata
from dataclasses import dataclass, replace

from survmeta.errors import Problem, RegistryError
from survmeta.registry.load import read_text
from survmeta.registry.records import Arm, Comparison, DirectEffect, Question, Registry, Study
from survmeta.registry.validate import effect_range_problems
from survmeta.registry.schema import ID_RULE, SCHEMA_VERSION, YEAR_RANGE, did_you_mean, is_valid_id

__all__ = ["check_effects_csv", "load_effects_csv", "parse_effects_csv", "DEFAULT_QUESTION",
           "EffectsRegistry", "slug", "study_labels"]

REQUIRED_COLUMNS = ("study", "estimate", "se")
OPTIONAL_COLUMNS = ("question", "year")
#: Question id of rows that name none.
DEFAULT_QUESTION = "effects"


@dataclass(frozen=True)
class EffectsRegistry(Registry):
    """A registry read from an effects CSV.

    Each study's ``citation`` is its label exactly as the file prints it; the
    study ``id`` may be a slug of it (see the module docstring).
    """


def study_labels(registry: Registry) -> dict[str, str]:
    """Study id -> the label to show in tables and figures.

    Parameters
    ----------
    registry : Registry

    Returns
    -------
    dict
        For an :class:`EffectsRegistry`, the label as printed in the CSV; for
        a TOML registry, the study id itself.
    """
    if isinstance(registry, EffectsRegistry):
        return {s.id: s.citation for s in registry.studies}
    return {s.id: s.id for s in registry.studies}


def slug(label: str) -> str:
    """A valid id made from a printable label.

    Accents are dropped (NFKD decomposition, then ASCII only), every run of
    characters other than ASCII letters, digits and ``_`` becomes ``-``, and
    leading or trailing ``-`` and ``_`` are removed: ``"Heffron (2003)"`` ->
    ``"Heffron-2003"``, ``"Müller et al., 2010"`` -> ``"Muller-et-al-2010"``.

    Parameters
    ----------
    label : str

    Returns
    -------
    str
        The slug; ``"study"`` when the label has no ASCII letter or digit.
    """
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    out = re.sub(r"[^A-Za-z0-9_]+", "-", ascii_text).strip("-_")
    return out or "study"


def _assign_ids(labels: list[str]) -> dict[str, str]:
    """Label -> unique study id: the label when it is a valid id, else its slug (-2, -3, ...)."""
    taken = {lab for lab in labels if is_valid_id(lab)}
    ids: dict[str, str] = {}
    for lab in labels:
        if lab in ids:
            continue
        if is_valid_id(lab):
            ids[lab] = lab
            continue
        base = slug(lab)
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate)
        ids[lab] = candidate
    return ids


class _Row:
    """One data row: its line, cells by column name, and the problem sink."""

    def __init__(self, path: str | None, line: int, cells: dict[str, str], problems: list[Problem]):
        self.path, self.line, self.cells, self.problems = path, line, cells, problems
        study = cells.get("study", "").strip()
        # a label that cannot be printed is named with escapes (\x07) in messages
        self.study = (study if study.isprintable() else repr(study)[1:-1]) or None

    def error(self, column: str, message: str) -> None:
        self.problems.append(Problem(message, path=self.path, line=self.line,
                                     study=self.study, field=column))


def _header_problems(header: list[str], path: str | None) -> list[Problem]:
    """Missing, unknown or repeated columns of the header (line 1 of the data)."""
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    problems = []
    for name in header:
        if name not in known:
            problems.append(Problem(f'unknown column "{name}"{did_you_mean(name, known)}; '
                                    f"expected study,estimate,se[,question][,year]",
                                    path=path, line=1, field=name or "(empty)"))
        elif header.count(name) > 1:
            problems.append(Problem(f'column "{name}" appears {header.count(name)} times',
                                    path=path, line=1, field=name))
    for name in REQUIRED_COLUMNS:
        if name not in header:
            problems.append(Problem("missing required column (the first row must be a header "
                                    "naming study,estimate,se[,question])",
                                    path=path, line=1, field=name))
    return list({p.format(): p for p in problems}.values())


def _number(row: _Row, column: str, *, positive: bool = False) -> float | None:
    text = row.cells.get(column, "").strip()
    if not text:
        row.error(column, "missing value")
        return None
    try:
        value = float(text)
    except ValueError:
        row.error(column, f'must be a number, got "{text}"')
        return None
    if not math.isfinite(value):
        row.error(column, f"must be finite, got {text}")
        return None
    if positive and value <= 0:
        row.error(column, f"must be positive, got {text}")
        return None
    return value


def _ident(row: _Row, column: str, default: str | None) -> str | None:
    text = row.cells.get(column, "").strip()
    if not text:
        if default is None:
            row.error(column, "missing value")
        return default
    if not is_valid_id(text):
        row.error(column, f'"{text}" is not a valid id: {ID_RULE}')
        return None
    return text


def _year(row: _Row) -> int | None:
    text = row.cells.get("year", "").strip()
    if not text:
        return None
    lo, hi = YEAR_RANGE
    if not text.isdigit() or not lo <= int(text) <= hi:
        row.error("year", f'must be a year in {lo}..{hi}, got "{text}"')
        return None
    return int(text)


def _label(row: _Row) -> str | None:
    """The study label of a row: any printable text (None, with a problem, otherwise)."""
    text = row.cells.get("study", "").strip()
    if not text:
        row.error("study", "missing value")
        return None
    bad = sorted({c for c in text if not c.isprintable()})
    if bad:
        shown = ", ".join(f"U+{ord(c):04X}" for c in bad)
        row.error("study", f"contains a non-printable character ({shown}); a study label may "
                           "be any printable text")
        return None
    return text


def _comparison(row: _Row, raw: str) -> Comparison | None:
    """The comparison a data row stands for (None if the row has errors).

    Its ``study_id`` is the label as printed; ids are assigned afterwards,
    once every label is known.
    """
    before = len(row.problems)
    study = _label(row)
    question = _ident(row, "question", DEFAULT_QUESTION)
    log_hr = _number(row, "estimate")
    se = _number(row, "se", positive=True)
    for key, message in effect_range_problems(log_hr, se):
        row.error("estimate" if key == "log_hr" else "se", message)
    if len(row.problems) > before or study is None or question is None or log_hr is None or se is None:
        return None  # the readers return None only after recording a problem
    return Comparison(
        id=question, study_id=study, question=question, endpoint="as given", quote=raw,
        location=f"line {row.line}", experimental=Arm(label="experimental"),
        reference=Arm(label="reference"), effect=DirectEffect(log_hr=log_hr, se=se),
        line=row.line,
    )


def _rows(text: str):
    """``(line, cells)`` for the header and data rows; blank and ``#`` lines skipped."""
    reader = csv.reader(io.StringIO(text))
    for cells in reader:
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        yield reader.line_num, [c.strip() for c in cells]


def parse_effects_csv(text: str, path: str | None = None) -> tuple[Registry | None, list[Problem]]:
    """Read effects CSV ``text``.

    Parameters
    ----------
    text : str
        The file content.
    path : str, optional
        Name used in messages.

    Returns
    -------
    (Registry or None, list of Problem)
        The registry is None when any problem was found.
    """
    rows = list(_rows(text))
    if not rows:
        return None, [Problem("empty file: expected a header row study,estimate,se[,question]",
                              path=path, line=1)]
    header_line, header = rows[0]
    problems = _header_problems(header, path)
    if problems:
        return None, problems
    comparisons: list[Comparison] = []
    years: dict[str, int] = {}
    seen: dict[tuple, int] = {}
    for line, cells in rows[1:]:
        row = _Row(path, line, dict(zip(header, cells)), problems)
        if len(cells) != len(header):
            hint = ('; a cell that contains a comma needs double quotes, e.g. '
                    '"Müller et al., 2010"' if len(cells) > len(header) else "")
            row.error(header[min(len(cells), len(header)) - 1],
                      f"expected {len(header)} columns, got {len(cells)}{hint}")
            continue
        comp = _comparison(row, ",".join(cells))
        year = _year(row)
        if comp is None:
            continue
        if (comp.study_id, comp.question) in seen:
            row.error("question", f'study "{comp.study_id}" already has an effect for question '
                                  f'"{comp.question}" (line {seen[comp.study_id, comp.question]})')
            continue
        seen[comp.study_id, comp.question] = line
        if year is not None:
            years.setdefault(comp.study_id, year)
        comparisons.append(comp)
    if problems:
        return None, problems
    if not comparisons:
        return None, [Problem("no data rows after the header", path=path, line=header_line)]
    return _registry(comparisons, years, path), []


def _registry(comparisons: list[Comparison], years: dict[str, int], path: str | None) -> Registry:
    """Group comparisons into studies and create their questions, in order of appearance.

    ``comparisons`` carry the printed label as ``study_id``; here each label
    gets its id and becomes the study's ``citation``.
    """
    labels = list(dict.fromkeys(c.study_id for c in comparisons))
    ids = _assign_ids(labels)
    comparisons = [replace(c, study_id=ids[c.study_id]) for c in comparisons]
    years = {ids[lab]: y for lab, y in years.items()}
    citation = {ids[lab]: lab for lab in labels}
    question_ids = list(dict.fromkeys(c.question for c in comparisons))
    questions = tuple(
        Question(id=q, title=q, experimental="experimental", reference="reference",
                 outcome="as given", line=next(c.line for c in comparisons if c.question == q))
        for q in question_ids
    )
    study_ids = list(dict.fromkeys(c.study_id for c in comparisons))
    studies = tuple(
        Study(id=s, citation=citation[s], year=years.get(s), design=None, population=None,
              comparisons=tuple(c for c in comparisons if c.study_id == s),
              line=next(c.line for c in comparisons if c.study_id == s))
        for s in study_ids
    )
    return EffectsRegistry(schema_version=SCHEMA_VERSION, questions=questions, studies=studies,
                           path=path)


def check_effects_csv(path: str | os.PathLike) -> list[Problem]:
    """Every problem in an effects CSV file (empty when it is clean)."""
    text, problems = read_text(path)
    return problems if text is None else parse_effects_csv(text, str(path))[1]


def load_effects_csv(path: str | os.PathLike) -> Registry:
    """Load ``study,estimate,se[,question]`` rows as a :class:`Registry`.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    Registry
        One study per distinct study id, one comparison per row.

    Raises
    ------
    RegistryError
        With every problem (file:line and column), when there is any.
    """
    text, problems = read_text(path)
    if text is None:
        raise RegistryError(problems)
    registry, problems = parse_effects_csv(text, str(path))
    if registry is None:
        raise RegistryError(problems)
    return registry
