"""The ``follow_up`` and ``event_fraction`` fields (docs/registry.md, *Follow-up and event
fraction*): read into records, shared from the study, and every slip located."""

from __future__ import annotations

import pytest

from survmeta.registry import check_text, load_registry_text
from survmeta.registry.records import EventFraction, FollowUp

from .conftest import BASE, edit, line_of

ANCHOR = 'derived = ["reference.n: 63 with acquired resistance minus 52 with oligo-progression"]'


def test_fields_are_read_and_the_study_follow_up_is_shared():
    text = edit(BASE, "n = 125\n", 'n = 125\nfollow_up = { median = 2.5, unit = "years" }\n')
    text = edit(text, ANCHOR, ANCHOR + '\nevent_fraction = { low = 0.5, high = 0.9, reason = "PFS" }')
    reg = load_registry_text(text, "r.toml")
    c = reg.comparison("heo2021/os_oligo_vs_multi")
    assert c.follow_up == FollowUp(2.5, "years", None)
    assert reg.study("heo2021").follow_up == c.follow_up
    assert reg.comparison("heo2021/os_oligo_subset").follow_up == c.follow_up
    assert reg.comparison("zhou2023/pfs1_line_second").follow_up is None
    assert c.event_fraction == EventFraction(0.5, 0.9, "PFS")


def test_comparison_follow_up_overrides_the_study():
    text = edit(BASE, "n = 125\n", 'n = 125\nfollow_up = { median = 30 }\n')
    text = edit(text, ANCHOR, ANCHOR + '\nfollow_up = { median = 12.5, kind = "reverse KM" }')
    reg = load_registry_text(text, "r.toml")
    assert reg.comparison("heo2021/os_oligo_vs_multi").follow_up == FollowUp(12.5, "months", "reverse KM")
    assert reg.comparison("heo2021/os_oligo_subset").follow_up == FollowUp(30.0, "months", None)


@pytest.mark.parametrize("new, field, message", [
    ('follow_up = { median = 0 }', "follow_up.median", "must be positive"),
    ('follow_up = { median = 12, unit = "month" }', "follow_up.unit", 'did you mean "months"'),
    ('follow_up = { median = 12, kind = "reverse-KM" }', "follow_up.kind", 'did you mean "reverse KM"'),
    ('event_fraction = { low = 0.5, high = 90, reason = "x" }', "event_fraction.high",
     "write 0.9 for 90%"),
    ('event_fraction = { low = 0.8, high = 0.5, reason = "x" }', "event_fraction.high",
     "must be above low"),
    ('event_fraction = { low = 0.5, high = 0.8 }', "event_fraction.reason", "missing required field"),
])
def test_slips_are_located(new, field, message):
    text = edit(BASE, ANCHOR, ANCHOR + "\n" + new)
    problems = check_text(text, "r.toml")
    assert len(problems) == 1
    (p,) = problems
    assert p.severity == "error"
    assert (p.study, p.comparison, p.field) == ("heo2021", "os_oligo_vs_multi", field)
    assert p.line == line_of(text, new.split(" =")[0] + " =", line_of(text, ANCHOR))
    assert message in p.message
