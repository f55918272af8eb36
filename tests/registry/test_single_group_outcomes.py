"""Single-group outcomes (docs/registry.md, *Single-group outcomes*): ``[[study.outcome]]``
proportions and medians under questions with ``measure = "proportion" | "median"``, read into
records, and every slip located."""

from __future__ import annotations

import pytest

from survmeta.registry import check_text, load_registry_text
from survmeta.registry.records import NR, Outcome

REGISTRY = '''\
schema_version = 1

[[question]]
id = "oligo_share"
title = "Share of acquired resistance that is oligo-progression"
outcome = "oligo-progression"
measure = "proportion"

[[question]]
id = "rechallenge_pfs"
title = "PFS on ICI rechallenge"
outcome = "PFS"
measure = "median"

[[question]]
id = "hr_q"
title = "OS, A vs B"
experimental = "A"
reference = "B"
outcome = "OS"

[[study]]
id = "s1"
citation = "Author A. A series. J 2020"
year = 2020
design = "case series"
population = "NSCLC"

[[study.comparison]]
id = "os"
question = "hr_q"
endpoint = "OS"
quote = "HR 0.5 (0.3, 0.9)"
location = "Table 2"
experimental = { label = "A" }
reference = { label = "B" }
hr = { estimate = 0.5, ci = [0.3, 0.9] }

[[study.outcome]]
question = "oligo_share"
kind = "proportion"
events = 12
n = 20
group = "acquired resistance"
quote = "12 of 20 patients had oligo-progression"
location = "Results, p. 3"

[[study.outcome]]
id = "pfs"
question = "rechallenge_pfs"
kind = "median"
median = 3.1
ci = [2.0, "NR"]
n = 20
unit = "months"
quote = "median PFS 3.1 months (95% CI 2.0-NR)"
location = "Figure 2"
'''

PROPORTION = 'events = 12\n'
MEDIAN = 'median = 3.1\n'


def _edit(old: str, new: str, text: str = REGISTRY) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _line(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), start=1) if needle in ln)


def test_outcomes_are_read_into_records():
    reg = load_registry_text(REGISTRY, "r.toml")
    assert [q.measure for q in reg.questions] == ["proportion", "median", "hr"]
    assert reg.question("oligo_share").experimental == ""
    prop, med = reg.outcomes()
    assert prop == Outcome(study_id="s1", question="oligo_share", kind="proportion",
                           quote="12 of 20 patients had oligo-progression",
                           location="Results, p. 3", group="acquired resistance", events=12,
                           n=20, line=_line(REGISTRY, "[[study.outcome]]"))
    assert med.kind == "median" and med.id == "pfs"
    assert med.median == 3.1 and med.ci == (2.0, NR) and med.n == 20 and med.unit == "months"
    assert reg.outcomes("rechallenge_pfs") == [med]
    assert reg.study("s1").outcomes == (prop, med)
    assert len(reg.comparisons()) == 1
    assert not check_text(REGISTRY, "r.toml")


def test_zero_and_all_events_and_an_nr_median_are_allowed():
    text = _edit(PROPORTION, "events = 0\n")
    assert load_registry_text(text).outcomes()[0].events == 0
    text = _edit(PROPORTION, "events = 20\n")
    assert load_registry_text(text).outcomes()[0].events == 20
    text = _edit('ci = [2.0, "NR"]\n', "", _edit(MEDIAN, 'median = "NR"\n'))
    assert load_registry_text(text).outcomes()[1].median is NR


def test_a_question_without_a_measure_is_a_hazard_ratio_question():
    reg = load_registry_text(REGISTRY)
    assert reg.question("hr_q").measure == "hr"


@pytest.mark.parametrize("old, new, field, message", [
    (PROPORTION, "events = 21\n", "outcome.events", "events (21) exceed n (20)"),
    (PROPORTION, "events = -1\n", "outcome.events", "-1"),
    (MEDIAN, "median = 1.5\n", "outcome.median", "1.5 lies outside its CI [2, NR]"),
    ('ci = [2.0, "NR"]\n', "ci = [2.0, 3.0]\n", "outcome.median", "3.1 lies outside its CI [2, 3]"),
    ('ci = [2.0, "NR"]\n', "ci = [4.0, 2.0]\n", "outcome.ci", "CI bounds out of order"),
    ('ci = [2.0, "NR"]\n', 'ci = ["NR", 4.0]\n', "outcome.ci", 'cannot be "NR"'),
    ('question = "oligo_share"\n', 'question = "rechallenge_pfs"\n', "outcome.question",
     'a proportion outcome under question "rechallenge_pfs", which pools medians'),
    ('question = "rechallenge_pfs"\n', 'question = "hr_q"\n', "outcome.question",
     'a median outcome under question "hr_q", which pools hazard ratios'),
    ('question = "oligo_share"\n', 'question = "oligo_shares"\n', "outcome.question",
     'unknown question "oligo_shares" (did you mean "oligo_share"?)'),
    ('question = "hr_q"\n', 'question = "oligo_share"\n', "question",
     'question "oligo_share" pools proportions'),
    ('kind = "proportion"\n', 'kind = "proportions"\n', "outcome.kind", 'did you mean "proportion"'),
    (PROPORTION, "", "outcome.events", "a proportion outcome needs events and n"),
    ('quote = "12 of 20 patients had oligo-progression"\n', "", "outcome.quote",
     "missing required field"),
    ('group = "acquired resistance"\n', 'group = "x"\nmedian = 2.0\n', "outcome.median",
     "is not a field of a proportion outcome"),
    ('unit = "months"\n', 'unit = "month"\n', "outcome.unit", 'did you mean "months"'),
    ('measure = "median"\n', 'measure = "medians"\n', "question.measure", 'did you mean "median"'),
    ('title = "OS, A vs B"\nexperimental = "A"\n', 'title = "OS, A vs B"\n', "question.experimental",
     "a hazard-ratio question needs both groups"),
])
def test_slips_are_located(old, new, field, message):
    text = _edit(old, new)
    errors = [p for p in check_text(text, "r.toml") if p.severity == "error"]
    assert len(errors) == 1, [p.format() for p in errors]
    (p,) = errors
    assert p.field == field
    assert message in p.message
    assert p.path == "r.toml" and p.line is not None
    if field.startswith("outcome"):
        assert p.study == "s1"
        header = [i for i, ln in enumerate(text.splitlines(), start=1) if ln == "[[study.outcome]]"]
        assert p.line >= header[0]


def test_duplicate_outcome_ids_in_a_study():
    text = _edit('question = "oligo_share"\n', 'id = "pfs"\nquestion = "oligo_share"\n')
    (p,) = [p for p in check_text(text) if p.severity == "error"]
    assert p.field == "outcome.id" and 'duplicate outcome id "pfs"' in p.message


def test_a_question_used_only_by_outcomes_is_not_unused():
    assert not [p for p in check_text(REGISTRY) if "no comparison refers" in p.message]
    text = REGISTRY.split("[[study.outcome]]")[0]
    unused = [p for p in check_text(text) if "no comparison refers" in p.message]
    assert len(unused) == 2


def test_the_documented_single_group_example_is_valid():
    from pathlib import Path
    import re

    doc = (Path(__file__).resolve().parents[2] / "docs" / "registry.md").read_text(encoding="utf-8")
    section = doc.split("### Single-group outcomes")[1]
    (example,) = re.findall(r"```\n(.*?)```", section, flags=re.S)[:1]
    question, outcomes = example.split("[[study.outcome]]", 1)
    text = (REGISTRY.split("[[study]]")[0].replace('''[[question]]
id = "oligo_share"
title = "Share of acquired resistance that is oligo-progression"
outcome = "oligo-progression"
measure = "proportion"
''', question) + "[[study]]" + REGISTRY.split("[[study]]")[1].split("[[study.outcome]]")[0]
            + "[[study.outcome]]" + outcomes)
    reg = load_registry_text(text)
    assert [o.kind for o in reg.outcomes()] == ["proportion", "median"]
