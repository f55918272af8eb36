"""Every validation rule, each on the base registry with one line broken.

Each case names the edit, the field and line the problem must point at, a
fragment of the message, and its severity. The numbers written into the
broken lines are deliberate corruptions of the seed values in ``conftest``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from survmeta.errors import RegistryError
from survmeta.registry import load_registry_text

from .conftest import edit, line_of


@dataclass(frozen=True)
class Case:
    id: str
    old: str
    new: str
    field: str | None
    line: str  # needle: the expected line is the first containing it (after ``after``)
    message: str
    severity: str = "error"
    study: str | None = None
    comparison: str | None = None
    after: str | None = None


H = "heo2021"
Z = "zhou2023"
C1 = "os_oligo_vs_multi"
C2 = "os_oligo_subset"
C3 = "pfs1_line_second"
HEO_REF = 'reference = { label = "multi-progression", n = 11, median = 8.8, ci = [5.7, "NR"] }'

CASES = [
    # TOML syntax, with line and column
    Case("toml-syntax", "year = 2021", "year = = 2021", None, "year = = 2021",
         "TOML syntax error: Invalid value (column 8)"),
    Case("toml-duplicate-key", "n = 125", "n = 125\nn = 126", None, "n = 126",
         "TOML syntax error: Cannot overwrite a value"),
    # missing required fields
    Case("missing-study-field", 'citation = "Heo JY, Yoo SH, Suh KJ, et al. Sci Rep. 2021;11:2514."\n',
         "", "citation", "[[study]]", "missing required field", study=H),
    Case("missing-comparison-field", 'quote = "a subset"\n', "", "quote", "[[study.comparison]]",
         "missing required field", study=H, comparison=C2, after=f'id = "{C1}"'),
    Case("missing-arm-label-subtable", 'label = "first line"\n', "", "reference.label",
         "[study.comparison.reference]", "missing required field", study=Z, comparison=C3),
    Case("missing-arm-label-inline", 'experimental = { label = "oligo-progression" }',
         "experimental = { }", "experimental.label", "experimental = { }",
         "missing required field", study=H, comparison=C2),
    Case("missing-hr-estimate", "hr = { estimate = 2.33, ", "hr = { ", "hr.estimate", "hr = {",
         "missing required field", study=Z, comparison=C3),
    Case("missing-question-field", 'outcome = "PFS1"\n', "", "question.outcome", "[[question]]",
         "missing required field", after='outcome = "survival after progression"'),
    Case("missing-schema-version", "schema_version = 1\n", "", "schema_version", "",
         "missing required field"),
    # wrong types
    Case("type-year", "year = 2021", 'year = "2021"', "year", 'year = "2021"',
         'must be an integer, got string "2021"', study=H),
    Case("type-arm-n-float", "n = 52,", "n = 52.0,", "experimental.n", "n = 52.0,",
         "must be an integer, got number 52.0", study=H, comparison=C1),
    Case("type-quote", 'quote = "a subset"', "quote = 3", "quote", "quote = 3",
         "must be a string, got integer 3", study=H, comparison=C2),
    Case("type-hr-adjusted", "adjusted = true", 'adjusted = "yes"', "hr.adjusted", "hr = {",
         "must be true or false", study=Z, comparison=C3),
    Case("type-arm-not-table", HEO_REF, 'reference = "multi-progression"', "reference",
         'reference = "multi-progression"', "must be a table", study=H, comparison=C1),
    Case("type-derived-element", "derived = [", "derived = [1, ", "derived", "derived = [",
         "element 1 must be a non-empty string", study=H, comparison=C1),
    Case("type-ci-length", "ci = [3.25, 8.77]", "ci = [3.25, 5.34, 8.77]", "experimental.ci",
         "ci = [3.25, 5.34, 8.77]", "must be an array of two bounds", study=Z, comparison=C3),
    Case("type-invalid-id", f'id = "{C2}"', 'id = "os/oligo"', "id", 'id = "os/oligo"',
         "is not a valid id", study=H, comparison="os/oligo"),
    # unknown keys, with the closest known key
    Case("unknown-comparison-key", 'endpoint = "PFS1"', 'endpiont = "PFS1"', "endpiont",
         'endpiont = "PFS1"', 'unknown key "endpiont" (did you mean "endpoint"?)',
         study=Z, comparison=C3),
    Case("unknown-subtable-key", "median = 9.66  # months", "medain = 9.66  # months",
         "reference.medain", "medain = 9.66", 'unknown key "medain" (did you mean "median"?)',
         study=Z, comparison=C3),
    Case("unknown-inline-key", "median = 18.9,", "medan = 18.9,", "experimental.medan",
         "medan = 18.9,", 'did you mean "median"?', study=H, comparison=C1),
    Case("unknown-top-key", "schema_version = 1", "schema_version = 1\nquestions = 2", "questions",
         "questions = 2", 'unknown key "questions" (did you mean "question"?)'),
    # duplicate ids
    Case("duplicate-question", 'id = "pfs1_line"', 'id = "oligo_vs_systemic"', "question.id",
         'id = "oligo_vs_systemic"', 'duplicate question id "oligo_vs_systemic" (first used on line 4)',
         after='outcome = "survival after progression"'),
    Case("duplicate-study", f'id = "{Z}"', f'id = "{H}"', "id", f'id = "{H}"',
         'duplicate study id "heo2021" (first used on line 18)', study=H, after="citation = \"Heo"),
    Case("duplicate-comparison", f'id = "{C2}"', f'id = "{C1}"', "id", f'id = "{C1}"',
         f'duplicate comparison id "{C1}"', study=H, comparison=C1, after='location = "Abstract"'),
    # references
    Case("unknown-question", 'question = "pfs1_line"', 'question = "pfs1_lines"', "question",
         'question = "pfs1_lines"', 'unknown question "pfs1_lines" (did you mean "pfs1_line"?)',
         study=Z, comparison=C3),
    Case("unknown-subgroup", f'subgroup_of = "{C1}"', 'subgroup_of = "os_oligo_vs_mult"',
         "subgroup_of", "subgroup_of =", f'no comparison "os_oligo_vs_mult" in this study (did you mean "{C1}"?)',
         study=H, comparison=C2),
    Case("subgroup-other-study", f'subgroup_of = "{C1}"', f'subgroup_of = "{C3}"', "subgroup_of",
         "subgroup_of =", f'no comparison "{C3}" in this study', study=H, comparison=C2),
    Case("subgroup-self", f'subgroup_of = "{C1}"', f'subgroup_of = "{C2}"', "subgroup_of",
         "subgroup_of =", "cannot be a subgroup of itself", study=H, comparison=C2),
    # CIs and estimates
    Case("arm-ci-order", "ci = [3.25, 8.77]", "ci = [8.77, 3.25]", "experimental.ci",
         "ci = [8.77, 3.25]", "CI bounds out of order: lower 8.77 is not below upper 3.25",
         study=Z, comparison=C3),
    Case("hr-ci-order", "ci = [1.21, 4.47]", "ci = [4.47, 1.21]", "hr.ci", "hr = {",
         "CI bounds out of order", study=Z, comparison=C3),
    Case("hr-ci-zero-width", "ci = [1.21, 4.47]", "ci = [2.33, 2.33]", "hr.ci", "hr = {",
         "lower 2.33 is not below upper 2.33", study=Z, comparison=C3),
    Case("median-outside-ci", "median = 5.34", "median = 53.4", "experimental.median",
         "median = 53.4", "53.4 lies outside its CI [3.25, 8.77]", study=Z, comparison=C3),
    Case("hr-outside-ci", "estimate = 2.33", "estimate = 5.2", "hr.estimate", "hr = {",
         "5.2 lies outside its CI [1.21, 4.47]", study=Z, comparison=C3),
    Case("nr-median-finite-ci", 'median = 18.9, ci = [10.6, "NR"]', 'median = "NR", ci = [10.6, 30.0]',
         "experimental.median", 'median = "NR"', "NR lies outside its CI [10.6, 30]",
         study=H, comparison=C1),
    Case("hr-ci-not-centred", "ci = [1.21, 4.47]", "ci = [1.21, 3.47]", "hr.ci", "hr = {",
         "is not centred on the estimate 2.33 on the log scale", severity="warning",
         study=Z, comparison=C3),
    # p-values
    Case("p-above-one", 'p = "0.04"', 'p = "1.4"', "p", 'p = "1.4"', "outside (0, 1]",
         study=H, comparison=C1),
    Case("p-zero-number", 'p = "0.0303"', "p = 0", "p", "p = 0", "outside (0, 1]",
         study=Z, comparison=C3),
    Case("p-unparsable", 'p = "0.04"', 'p = "0.o4"', "p", 'p = "0.o4"', 'cannot read p-value "0.o4"',
         study=H, comparison=C1),
    Case("hr-p-above-one", 'p = "0.011"', "p = 2", "hr.p", "hr = {", "outside (0, 1]",
         study=Z, comparison=C3),
    Case("sided-invalid", 'p = "0.0303"', 'p = "0.0303"\nsided = 3', "sided", "sided = 3",
         "must be 1 or 2, got integer 3", study=Z, comparison=C3),
    Case("hr-sided-invalid", "adjusted = true,", "adjusted = true, sided = 0,", "hr.sided", "hr = {",
         "must be 1 or 2", study=Z, comparison=C3),
    # signs and counts
    Case("median-negative", "median = 8.8,", "median = -8.8,", "reference.median", "median = -8.8",
         "must be positive, got -8.8", study=H, comparison=C1),
    Case("arm-n-zero", "n = 11,", "n = 0,", "reference.n", "n = 0,", "must be positive, got 0",
         study=H, comparison=C1),
    Case("study-n-negative", "n = 125", "n = -125", "n", "n = -125", "must be positive", study=H),
    Case("events-zero", 'label = "second line"\n', 'label = "second line"\nevents = 0\n',
         "experimental.events", "events = 0", "must be positive, got 0", study=Z, comparison=C3),
    Case("events-above-n", "n = 11,", "n = 11, events = 12,", "reference.events", "events = 12",
         "events (12) exceed n (11)", study=H, comparison=C1),
    Case("logrank-variance", 'p = "0.0303"', 'p = "0.0303"\nlogrank = { o_minus_e = -3.1, variance = 0 }',
         "logrank.variance", "logrank =", "must be positive, got 0", study=Z, comparison=C3),
    Case("effect-se", 'p = "0.0303"', 'p = "0.0303"\neffect = { log_hr = 0.85, se = -0.3 }',
         "effect.se", "effect =", "must be positive", study=Z, comparison=C3),
    Case("total-events-zero", 'p = "0.04"', 'p = "0.04"\ntotal_events = 0', "total_events",
         "total_events =", "must be positive, got 0", study=H, comparison=C1),
    Case("total-events-not-integer", 'p = "0.04"', 'p = "0.04"\ntotal_events = 40.0',
         "total_events", "total_events =", "must be an integer, got number 40.0",
         study=H, comparison=C1),
    # Heo 2021: the arms hold 52 + 11 = 63 patients, so 70 events cannot be right
    Case("total-events-above-n", 'p = "0.04"', 'p = "0.04"\ntotal_events = 70', "total_events",
         "total_events =", "total events (70) exceed the patients of both arms (52 + 11 = 63)",
         study=H, comparison=C1),
    Case("chisq-negative", 'p = "0.0303"', 'p = "0.0303"\nchisq = -4.7', "chisq", "chisq =",
         "must not be negative", study=Z, comparison=C3),
    # "NR" where it cannot stand
    Case("nr-as-n", "n = 52,", 'n = "NR",', "experimental.n", 'n = "NR"',
         'must be an integer, got string "NR"', study=H, comparison=C1),
    Case("nr-as-hr", "estimate = 2.33", 'estimate = "NR"', "hr.estimate", "hr = {",
         'cannot be "NR"', study=Z, comparison=C3),
    Case("nr-lower-bound", 'ci = [5.7, "NR"]', 'ci = ["NR", "NR"]', "reference.ci", 'ci = ["NR"',
         'the lower bound cannot be "NR"', study=H, comparison=C1),
    Case("text-as-bound", 'ci = [5.7, "NR"]', 'ci = [5.7, "not reached"]', "reference.ci",
         '"not reached"', 'the upper bound must be a number or "NR"', study=H, comparison=C1),
    # levels
    Case("hr-level-percent", "level = 0.95", "level = 95", "hr.level", "hr = {",
         "must be between 0 and 1, got 95 (write 0.95 for 95%)", study=Z, comparison=C3),
    Case("arm-level-one", 'label = "second line"\n', 'label = "second line"\nlevel = 1.0\n',
         "experimental.level", "level = 1.0", "must be between 0 and 1", study=Z, comparison=C3),
    # vocabularies and extras
    Case("year-range", "year = 2021", "year = 1850", "year", "year = 1850", "outside 1900..2100",
         study=H),
    Case("design-vocabulary", 'design = "retrospective cohort"\npopulation = "advanced lung',
         'design = "retrospective cohrt"\npopulation = "advanced lung', "design", "cohrt",
         'did you mean "retrospective cohort"?', study=Z),
    Case("direction-vocabulary", 'p = "0.04"', 'p = "0.04"\ndirection = "favors experimental"',
         "direction", "direction =", 'did you mean "favours experimental"?', study=H, comparison=C1),
    Case("time-unit-vocabulary", 'p = "0.04"', 'p = "0.04"\ntime_unit = "years"', "time_unit",
         "time_unit =", '"years" is not one of "months", "weeks", "days"', study=H, comparison=C1),
    Case("schema-version", "schema_version = 1", "schema_version = 2", "schema_version",
         "schema_version", "unsupported schema_version 2"),
    Case("identical-labels", 'label = "first line"', 'label = "second line"', "reference.label",
         'label = "second line"', "same label as experimental.label", study=Z, comparison=C3,
         after="[study.comparison.reference]"),
    # warnings
    Case("unused-question", 'question = "pfs1_line"', 'question = "oligo_vs_systemic"', "question.id",
         'id = "pfs1_line"', 'no comparison refers to question "pfs1_line"', severity="warning"),
    Case("arms-exceed-study-n", "n = 52,", "n = 152,", "experimental.n", "n = 152,",
         "the arms hold 163 patients, more than the study's n = 125", severity="warning",
         study=H, comparison=C1),
    Case("sided-without-p", 'adjusted = true, p = "0.011"', "adjusted = true, sided = 1", "hr.sided",
         "hr = {", "sided applies to p, but no p is given", severity="warning", study=Z, comparison=C3),
]


def _expected_line(text: str, case: Case) -> int:
    if not case.line:
        return 1
    start = line_of(text, case.after) if case.after else 1
    return line_of(text, case.line, start)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_names_line_and_field(base, problems_of, case):
    text = edit(base, case.old, case.new)
    problems = problems_of(text)
    line = _expected_line(text, case)
    matching = [p for p in problems if p.field == case.field and case.message in p.message]
    assert matching, f"no problem with field {case.field!r} and {case.message!r} in:\n" + "\n".join(
        p.format() for p in problems)
    problem = matching[0]
    assert problem.line == line
    assert problem.severity == case.severity
    assert (problem.study, problem.comparison) == (case.study, case.comparison)
    assert problem.format().startswith(f"studies.toml:{line}: ")


@pytest.mark.parametrize("case", [c for c in CASES if c.severity == "error"],
                         ids=[c.id for c in CASES if c.severity == "error"])
def test_errors_stop_loading(base, case):
    text = edit(base, case.old, case.new)
    with pytest.raises(RegistryError) as info:
        load_registry_text(text, "studies.toml")
    assert any(case.message in p.message for p in info.value.problems)


@pytest.mark.parametrize("case", [c for c in CASES if c.severity == "warning"],
                         ids=[c.id for c in CASES if c.severity == "warning"])
def test_warnings_do_not_stop_loading(base, case):
    registry = load_registry_text(edit(base, case.old, case.new), "studies.toml")
    assert any(case.message in w.message for w in registry.warnings)


def test_base_registry_is_clean(base, problems_of):
    assert problems_of(base) == []


def test_every_problem_is_reported_at_once(base, problems_of):
    text = edit(base, "year = 2021", 'year = "2021"')
    text = edit(text, "median = 8.8,", "median = -8.8,")
    text = edit(text, 'question = "pfs1_line"', 'question = "pfs1_lines"')
    problems = [p for p in problems_of(text) if p.severity == "error"]
    assert [p.field for p in problems] == ["year", "reference.median", "question"]
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_message_format_matches_issue(base, problems_of):
    text = edit(base, "median = 8.8,", "median = -8.8,")
    (problem,) = problems_of(text)
    line = line_of(text, "median = -8.8")
    assert problem.format() == (f"studies.toml:{line}: study heo2021, comparison os_oligo_vs_multi, "
                                "reference.median: must be positive, got -8.8")


def test_question_not_an_array_of_tables(problems_of):
    text = 'schema_version = 1\nquestion = "oligo_vs_systemic"\n'
    (problem,) = problems_of(text)
    assert (problem.line, problem.field) == (2, "question")
    assert "must be an array of tables, written [[question]]" in problem.message


def test_comparison_with_nothing_to_estimate_is_valid(base, problems_of):
    # os_oligo_subset reports only labels: the reconstruction, not the loader, says so
    registry = load_registry_text(base, "studies.toml")
    comp = registry.comparison("heo2021/os_oligo_subset")
    assert (comp.p, comp.hr, comp.experimental.median) == (None, None, None)


def test_total_events_loads_and_may_equal_the_patients(base):
    registry = load_registry_text(edit(base, 'p = "0.04"', 'p = "0.04"\ntotal_events = 63'),
                                  "studies.toml")
    assert registry.comparison("heo2021/os_oligo_vs_multi").total_events == 63
    assert registry.comparison("heo2021/os_oligo_subset").total_events is None


def test_total_events_disagreeing_with_the_arms_events_warns(base, problems_of):
    text = edit(base, "n = 52,", "n = 52, events = 30,")
    text = edit(text, "n = 11,", "n = 11, events = 9,")
    text = edit(text, 'p = "0.04"', 'p = "0.04"\ntotal_events = 40')
    (problem,) = problems_of(text)
    assert (problem.field, problem.severity) == ("total_events", "warning")
    assert problem.line == line_of(text, "total_events = 40")
    assert "total events (40) differ from the arms' events (30 + 9 = 39)" in problem.message
    assert problems_of(edit(text, "total_events = 40", "total_events = 39")) == []
