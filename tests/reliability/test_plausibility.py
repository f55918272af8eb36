"""Plausibility warnings of ``check`` (issue 15): valid values that look like a slip.

Each warning must name file, line, study, comparison and field, say how to
acknowledge it, fail ``--strict``, and disappear when acknowledged.
"""

from __future__ import annotations

from statistics import NormalDist

import pytest

from survmeta.registry import check_text, load_registry_text

from .conftest import BASE, S1_HR_LINE, edit

S1_HR = "hr = { estimate = 0.60, ci = [0.40, 0.90] }"
S2_CITATION = 'citation = "Jones C, White D. J Test. 2021;2:2."'


def warnings(text: str) -> list:
    problems = check_text(text, "studies.toml")
    assert not [p for p in problems if p.severity == "error"], problems
    return [p for p in problems if p.severity == "warning"]


def only(text: str):
    (w,) = warnings(text)
    return w


def test_the_base_registry_has_no_warning():
    assert warnings(BASE) == []


@pytest.mark.parametrize("level", [0.8, 0.9, 0.95, 0.975, 0.99])
def test_usual_levels_pass(level):
    assert warnings(edit(S1_HR, f"hr = {{ estimate = 0.60, ci = [0.40, 0.90], level = {level} }}")) == []


def test_an_alpha_typed_as_the_level_warns_with_the_se_factor():
    # SE from a 5% CI is z(0.975) / z(0.525) = 1.959964 / 0.062707 = 31.3 times the 95% SE:
    # log(0.9/0.4) / (2 * 0.062707) = 6.466 instead of 0.2069.
    w = only(edit(S1_HR, "hr = { estimate = 0.60, ci = [0.40, 0.90], level = 0.05 }"))
    assert (w.path, w.line, w.study, w.comparison, w.field) == (
        "studies.toml", S1_HR_LINE, "s1", "c1", "hr.level")
    factor = NormalDist().inv_cdf(0.975) / NormalDist().inv_cdf(0.525)
    assert round(factor) == 31
    assert f"SE {round(factor)} times" in w.message
    assert "then write level = 0.95" in w.message
    assert 'acknowledged = ["hr.level"]' in w.message


@pytest.mark.parametrize("level, below", [(0.5, False), (0.85, False), (0.4, True), (0.999, False)])
def test_other_levels_warn(level, below):
    w = only(edit('experimental = { label = "drug", n = 50 }',
                  f'experimental = {{ label = "drug", n = 50, median = 5.0, ci = [3.0, 8.0], '
                  f"level = {level} }}"))
    assert w.field == "experimental.level"
    assert ("below 0.5" in w.message) is below


def test_same_doi_across_study_ids_warns_on_the_later_study():
    text = edit(S2_CITATION, S2_CITATION + '\ndoi = "https://doi.org/10.1000/XYZ"')
    text = edit('citation = "Smith A, Brown B. J Test. 2020;1:1."',
                'citation = "Smith A, Brown B. J Test. 2020;1:1."\ndoi = "10.1000/xyz"', text)
    w = only(text)
    assert (w.study, w.comparison, w.field) == ("s2", None, "doi")
    assert w.line == text.splitlines().index('doi = "https://doi.org/10.1000/XYZ"') + 1
    assert "same DOI as study s1 (line 13)" in w.message
    assert 'acknowledge it on the study: acknowledged = ["doi"]' in w.message


def test_identical_citation_across_study_ids_warns():
    w = only(edit(S2_CITATION, 'citation = "Smith A,  Brown B. J Test. 2020;1:1."'))
    assert (w.study, w.field) == ("s2", "citation") and "same citation as study s1" in w.message


def test_a_study_acknowledges_an_overlapping_cohort():
    text = edit(S2_CITATION, 'citation = "Smith A, Brown B. J Test. 2020;1:1."\n'
                'acknowledged = ["citation"]\nnotes = "A second cohort reported in the same paper."')
    registry = load_registry_text(text, "studies.toml")
    assert registry.warnings == ()
    assert [p.field for p in registry.acknowledged] == ["citation"]


def test_a_stale_study_acknowledgement_warns():
    w = only(edit(S2_CITATION, S2_CITATION + '\nacknowledged = ["doi"]\nnotes = "n"'))
    assert (w.study, w.field) == ("s2", "acknowledged")


def test_an_unknown_study_acknowledgement_is_an_error():
    problems = check_text(edit(S2_CITATION, S2_CITATION + '\nacknowledged = ["hr.p"]\nnotes = "n"'))
    assert any(p.severity == "error" and p.field == "acknowledged" and "field of a study" in p.message
               for p in problems)


def test_arms_the_wrong_way_round_warn():
    text = edit('experimental = { label = "drug", n = 50 }\nreference = { label = "placebo", n = 50 }',
                'experimental = { label = "Placebo", n = 50 }\nreference = { label = "other", n = 50 }')
    w = only(text)
    assert (w.study, w.comparison, w.field) == ("s1", "c1", "experimental.label")
    assert '"Placebo" is the reference group of question q1' in w.message


def test_reference_label_equal_to_the_experimental_group_warns():
    w = only(edit('reference = { label = "placebo", n = 50 }', 'reference = { label = "drug ", n = 50 }',
                  BASE.replace('experimental = { label = "drug", n = 50 }',
                               'experimental = { label = "drug A", n = 50 }', 1)))
    assert w.field == "reference.label"


@pytest.mark.parametrize("reported", [
    "hr = { estimate = 0.60, ci = [0.40, 0.90] }",
    "effect = { log_hr = -0.51, se = 0.21 }",
    "logrank = { o_minus_e = -5.0, variance = 10.0 }",
])
def test_a_direction_contradicting_the_estimate_warns(reported):
    w = only(edit(S1_HR, reported + '\ndirection = "favours reference"'))
    assert (w.study, w.comparison, w.field) == ("s1", "c1", "direction")
    assert "contradicts" in w.message and "favours experimental" in w.message


def test_an_agreeing_direction_passes():
    assert warnings(edit(S1_HR, S1_HR + '\ndirection = "favours experimental"')) == []


def test_a_one_sided_p_above_one_half_may_contradict_the_direction():
    # one-sided p 0.8: the estimate lies against the tested direction (docs/registry.md, p-values)
    text = edit(S1_HR, 'hr = { estimate = 1.30, ci = [0.80, 2.10] }\np = "0.8"\nsided = 1\n'
                       'direction = "favours experimental"')
    assert [w.field for w in warnings(text)] == []


@pytest.mark.parametrize("p, bound, says_nothing", [
    ('"<1"', True, True), ('"≤1"', True, True), ('"<0.8"', True, False), ('"<0.05"', False, False),
])
def test_p_bounds_that_say_little_warn(p, bound, says_nothing):
    text = edit(S1_HR, f"p = {p}\ndirection = \"favours experimental\"\ntotal_events = 60")
    found = [w for w in warnings(text) if w.field == "p"]
    assert bool(found) is bound
    if found:
        assert ("says nothing" in found[0].message) is says_nothing
        assert found[0].line == S1_HR_LINE


def test_an_hr_p_bound_of_one_warns_on_hr_p():
    w = only(edit(S1_HR, 'hr = { estimate = 0.60, ci = [0.40, 0.90], p = "<1" }'))
    assert w.field == "hr.p"


@pytest.mark.parametrize("slip, field", [
    ("hr = { estimate = 0.60, ci = [0.40, 0.90], level = 0.05 }", "hr.level"),
    (S1_HR + '\ndirection = "favours reference"', "direction"),
    ('hr = { estimate = 0.60, ci = [0.40, 0.90], p = "<1" }', "hr.p"),
])
def test_each_comparison_warning_fails_strict_and_can_be_acknowledged(slip, field, write, run):
    path = write(edit(S1_HR, slip))
    code, _, err = run("check", path, "--strict")
    assert code == 2 and f"{path}:" in err and f"study s1, comparison c1, {field}: warning:" in err
    ack = edit(S1_HR, slip + f'\nacknowledged = ["{field}"]\nnotes = "As printed in the paper."')
    path = write(ack)
    code, out, err = run("check", path, "--strict")
    assert code == 0, err
    assert "Acknowledged in the registry" in out


def test_the_bundled_registry_passes_strict(run):
    from pathlib import Path

    code, _, err = run("check", Path(__file__).resolve().parents[2] / "studies.toml", "--strict")
    assert code == 0, err


def test_the_warnings_are_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "registry.md").read_text(encoding="utf-8")
    for phrase in ("an unusual CI level", "the same paper twice", "arms the wrong way round",
                   "a direction contradicting the estimate", "a p-value bound that says",
                   "a p-value implausibly far from the HR or the medians"):
        assert phrase in doc, phrase
