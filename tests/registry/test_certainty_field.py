"""``[[question]] certainty = { rating, reasons, indirectness }`` (docs/registry.md, *Certainty*):
the rater's GRADE judgement, read as written and every slip located."""

from __future__ import annotations

import pytest

from survmeta.registry import check_text, load_registry_text
from survmeta.registry.records import Certainty

from .conftest import BASE, edit, line_of

ANCHOR = 'outcome = "survival after progression"\n'


def test_certainty_is_read_as_written():
    text = edit(BASE, ANCHOR, ANCHOR + 'certainty = { rating = "very low", reasons = '
                '["risk of bias: retrospective cohorts", "imprecision"], indirectness = '
                '"oligo-progression defined as <= 3 or <= 5 lesions" }\n')
    reg = load_registry_text(text, "r.toml")
    assert reg.question("oligo_vs_systemic").certainty == Certainty(
        "very low", ("risk of bias: retrospective cohorts", "imprecision"),
        "oligo-progression defined as <= 3 or <= 5 lesions")
    assert reg.question("pfs1_line").certainty is None


def test_rating_alone_is_enough():
    text = edit(BASE, ANCHOR, ANCHOR + 'certainty = { rating = "low" }\n')
    assert load_registry_text(text, "r.toml").question("oligo_vs_systemic").certainty == \
        Certainty("low")


@pytest.mark.parametrize("new, field, message", [
    ('certainty = { rating = "moderat" }', "question.certainty.rating", 'did you mean "moderate"'),
    ('certainty = { rating = "verylow" }', "question.certainty.rating", 'did you mean "very low"'),
    ('certainty = { reasons = ["x"] }', "question.certainty.rating", "missing required field"),
    ('certainty = { rating = "low", reason = ["x"] }', "question.certainty.reason",
     'did you mean "reasons"'),
    ('certainty = { rating = "low", reasons = "x" }', "question.certainty.reasons",
     "must be an array of strings"),
    ('certainty = "low"', "question.certainty", "must be a table"),
])
def test_slips_are_located(new, field, message):
    text = edit(BASE, ANCHOR, ANCHOR + new + "\n")
    problems = [p for p in check_text(text, "r.toml") if p.severity == "error"]
    assert len(problems) == 1, problems
    (p,) = problems
    assert p.field == field
    assert p.line == line_of(text, "certainty =")
    assert message in p.message
