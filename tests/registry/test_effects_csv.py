"""The effects CSV: ``study,estimate,se[,question][,year]`` rows as a registry.

Input effects are the Wald log HR and SE of adjusted HRs printed by Zhou 2023
(Front Immunol 14:1089026, Table 2): 2.33 (1.21, 4.47) and 0.45 (0.21, 0.97);
the loader must hand them back unchanged (compared with a relative tolerance
of 1e-12, i.e. exact up to float text round-trip).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from survmeta.errors import RegistryError
from survmeta.registry import DirectEffect, check, load, load_effects_csv
from survmeta.registry.effects_csv import slug, study_labels

Z975 = 1.959963984540054


def _wald(hr, lo, hi):
    return math.log(hr), (math.log(hi) - math.log(lo)) / (2 * Z975)


LINE2 = _wald(2.33, 1.21, 4.47)
PDL1 = _wald(0.45, 0.21, 0.97)


def _write(tmp_path, text, name="effects.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_become_studies_with_direct_effects(tmp_path):
    path = _write(tmp_path, "study,estimate,se,question,year\n"
                            f"zhou2023,{LINE2[0]!r},{LINE2[1]!r},line,2023\n"
                            "# a comment line\n\n"
                            f"zhou2023,{PDL1[0]!r},{PDL1[1]!r},pdl1,\n"
                            f"other,{PDL1[0]!r},{PDL1[1]!r},,\n")
    registry = load_effects_csv(path)
    assert [s.id for s in registry.studies] == ["zhou2023", "other"]
    assert [q.id for q in registry.questions] == ["line", "pdl1", "effects"]
    q = registry.question("effects")
    assert (q.title, q.experimental, q.reference, q.outcome) == ("effects", "experimental",
                                                                "reference", "as given")
    comp = registry.comparison("zhou2023/line")
    assert comp.effect.log_hr == pytest.approx(LINE2[0], rel=1e-12)
    assert comp.effect.se == pytest.approx(LINE2[1], rel=1e-12)
    assert (comp.line, comp.question, comp.location) == (2, "line", "line 2")
    assert registry.comparison("zhou2023/pdl1").line == 5
    assert registry.study("zhou2023").year == 2023 and registry.study("other").year is None
    assert isinstance(registry.comparison("other/effects").effect, DirectEffect)
    assert load(path) == registry and check(path) == []


def test_header_order_is_free_and_question_optional(tmp_path):
    path = _write(tmp_path, f"se,study,estimate\n{LINE2[1]!r},zhou2023,{LINE2[0]!r}\n")
    comp = load_effects_csv(path).comparison("zhou2023/effects")
    assert comp.effect.se == pytest.approx(LINE2[1], rel=1e-12)


@pytest.mark.parametrize(
    "text, line, column, message",
    [
        ("zhou2023,0.85,0.33\n", 1, "study", "missing required column"),
        ("study,estimat,se\nzhou2023,0.85,0.33\n", 1, "estimat",
         'unknown column "estimat" (did you mean "estimate"?)'),
        ("study,estimate,se\nzhou2023,0.85,0\n", 2, "se", "must be positive, got 0"),
        ("study,estimate,se\nzhou2023,0.85,-0.33\n", 2, "se", "must be positive"),
        ("study,estimate,se\nzhou2023,big,0.33\n", 2, "estimate", 'must be a number, got "big"'),
        ("study,estimate,se\nzhou2023,inf,0.33\n", 2, "estimate", "must be finite"),
        ("study,estimate,se\n,0.85,0.33\n", 2, "study", "missing value"),
        ("study,estimate,se\nzhou\x072023,0.85,0.33\n", 2, "study", "non-printable character (U+0007)"),
        ("study,estimate,se,question\nzhou2023,0.85,0.33,line 2\n", 2, "question", "is not a valid id"),
        ("study,estimate,se\nMüller et al., 2010,0.85,0.33\n", 2, "se",
         "expected 3 columns, got 4; a cell that contains a comma needs double quotes"),
        ("study,estimate,se\nzhou2023,0.85\n", 2, "estimate", "expected 3 columns, got 2"),
        ("study,estimate,se,year\nzhou2023,0.85,0.33,23\n", 2, "year", "must be a year in 1900..2100"),
        ("study,estimate,se\nzhou2023,0.85,0.33\nzhou2023,0.2,0.4\n", 3, "question",
         'already has an effect for question "effects" (line 2)'),
        ("study,estimate,se\n", 1, None, "no data rows"),
        ("", 1, None, "empty file"),
    ],
)
def test_bad_rows_name_line_and_column(tmp_path, text, line, column, message):
    path = _write(tmp_path, text)
    problems = check(path)
    hits = [p for p in problems if message in p.message]
    assert hits, [p.format() for p in problems]
    assert (hits[0].line, hits[0].field, hits[0].path) == (line, column, str(path))
    with pytest.raises(RegistryError):
        load_effects_csv(path)


def test_every_bad_row_is_reported(tmp_path):
    path = _write(tmp_path, "study,estimate,se\na,x,0.3\nb,0.2,0\nc,0.1,0.2\n")
    problems = check(path)
    assert [(p.line, p.study, p.field) for p in problems] == [(2, "a", "estimate"), (3, "b", "se")]
    assert problems[0].format() == f'{path}:2: study a, estimate: must be a number, got "x"'


def test_printable_labels_are_kept_and_get_slug_ids(tmp_path):
    """Any printable label is accepted; the id is the label when valid, else a unique slug."""
    path = _write(tmp_path, "study,estimate,se,year\n"
                            "Heffron (2003),-0.3,0.2,2003\n"
                            '"Müller et al., 2010",-0.1,0.25,2010\n'
                            "Muller et al 2010,0.1,0.3,\n"
                            "Muller-et-al-2010,0.2,0.3,\n"
                            "zhou2023,0.05,0.3,2023\n")
    registry = load_effects_csv(path)
    ids = [s.id for s in registry.studies]
    # the valid-id label keeps its id; the two labels slugging to it get -2 and -3
    assert ids == ["Heffron-2003", "Muller-et-al-2010-2", "Muller-et-al-2010-3",
                   "Muller-et-al-2010", "zhou2023"]
    assert [s.citation for s in registry.studies] == [
        "Heffron (2003)", "Müller et al., 2010", "Muller et al 2010", "Muller-et-al-2010", "zhou2023"]
    assert study_labels(registry)["Muller-et-al-2010-2"] == "Müller et al., 2010"
    assert registry.study("Heffron-2003").year == 2003
    assert registry.comparison("Heffron-2003/effects").effect.log_hr == -0.3
    assert check(path) == []


def test_slug():
    assert slug("Heffron (2003)") == "Heffron-2003"
    assert slug("Müller et al., 2010") == "Muller-et-al-2010"
    assert slug("Ω") == "study"


def test_duplicate_label_names_the_label(tmp_path):
    path = _write(tmp_path, "study,estimate,se\nHeffron (2003),0.1,0.2\nHeffron (2003),0.2,0.3\n")
    (p,) = check(path)
    assert (p.line, p.study, p.field) == (3, "Heffron (2003)", "question")
    assert 'study "Heffron (2003)" already has an effect for question "effects" (line 2)' in p.message


def test_toml_registry_labels_are_its_ids():
    registry = load(Path(__file__).resolve().parents[2] / "studies.toml")
    assert study_labels(registry) == {s.id: s.id for s in registry.studies}
