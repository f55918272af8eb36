"""The ``km`` block of an arm (docs/registry.md, *Kaplan-Meier curves*): read, cleaned and every
slip located. The numbers are made up for the rules, not taken from a paper."""

from __future__ import annotations

import pytest

from survmeta.registry import check, load_registry
from survmeta.registry.km import SURVIVAL_JITTER, parse_points_csv

REGISTRY = '''\
schema_version = 1

[[question]]
id = "q"
title = "A vs B"
experimental = "A"
reference = "B"
outcome = "OS"

[[study]]
id = "s1"
citation = "Example study"
year = 2020
design = "rct"
population = "synthetic"

[[study.comparison]]
id = "os"
question = "q"
endpoint = "OS"
quote = "Figure 2"
location = "Figure 2"

[study.comparison.experimental]
label = "A"
n = 100

[study.comparison.experimental.km]
points = [[0, 1.0], [3, 0.9], [6, 0.7], [12, 0.5], [18, 0.4]]
at_risk = { times = [0, 6, 12], n = [100, 68, 45] }
location = "Figure 2A"
digitiser = "WebPlotDigitizer 4.6"

[study.comparison.reference]
label = "B"
n = 99

[study.comparison.reference.km]
csv = "ref.csv"
scale = "percent"
total_events = 60
'''

CSV = "time,survival\n0,100\n3,85\n6,60\n12,40\n18,30\n"


def _write(tmp_path, registry=REGISTRY, csv=CSV):
    (tmp_path / "ref.csv").write_text(csv, encoding="utf-8")
    path = tmp_path / "studies.toml"
    path.write_text(registry, encoding="utf-8")
    return path


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_inline_and_csv_curves_are_read(tmp_path):
    reg = load_registry(_write(tmp_path))
    c = reg.comparison("s1/os")
    e, r = c.experimental.km, c.reference.km
    assert e.times == (0, 3, 6, 12, 18) and e.survival == (1.0, 0.9, 0.7, 0.5, 0.4)
    assert e.at_risk.times == (0, 6, 12) and e.at_risk.n == (100, 68, 45)
    assert (e.location, e.digitiser, e.source) == ("Figure 2A", "WebPlotDigitizer 4.6", None)
    # percent scale: divided by 100
    assert r.survival == pytest.approx((1.0, 0.85, 0.6, 0.4, 0.3), abs=1e-12)
    assert (r.scale, r.source, r.total_events, r.at_risk) == ("percent", "ref.csv", 60, None)
    assert reg.warnings == ()


def test_webplotdigitizer_export_is_read():
    # WebPlotDigitizer's dataset export: the dataset name, then X,Y, then the points
    text = "Dataset 1,\nX,Y\n0.0012345,0.99871\n2.5000001,0.91\n"
    assert [(t, s) for t, s, _ in parse_points_csv(text)] == [(0.0012345, 0.99871), (2.5000001, 0.91)]
    assert [line for *_, line in parse_points_csv("0,1\n1,0.9\n")] == [1, 2]


def test_jitter_is_cleaned_and_said(tmp_path):
    text = REGISTRY.replace("[[0, 1.0], [3, 0.9], [6, 0.7], [12, 0.5], [18, 0.4]]",
                            "[[0, 1.004], [3, 0.9], [2.95, 0.91], [6, 0.7], [12, 0.5], [13, 0.51], [18, 0.4]]")
    path = _write(tmp_path, text)
    reg = load_registry(path)
    km = reg.comparison("s1/os").experimental.km
    assert km.times == (0, 2.95, 3, 6, 12, 13, 18)
    assert km.survival == pytest.approx((1.0, 0.91, 0.9, 0.7, 0.5, 0.5, 0.4))
    assert km.cleaned == 3 and km.largest_change == pytest.approx(0.01)
    (w,) = reg.warnings
    assert w.field == "experimental.km.points" and w.line == _line(text, "points = ")
    assert "3 of 7 points" in w.message and "1 out of order" in w.message
    assert "2 above an earlier point or above 1 lowered (by at most 0.01" in w.message
    assert "heavy cleaning" in w.message  # 3 of 7 is more than 20%


@pytest.mark.parametrize("old, new, field, message", [
    ("[3, 0.9], [6, 0.7]", "[3, 0.9], [6, 0.95]", "experimental.km.points",
     "the curve rises from 0.9 to 0.95 at time 6"),
    ("[[0, 1.0], [3, 0.9]", "[[0, 1.1], [3, 0.9]", "experimental.km.points", "survival 1.1 is above 1"),
    ("[[0, 1.0], [3, 0.9]", "[[0, 100], [3, 90]", "experimental.km.points",
     'write scale = "percent"'),
    ("[12, 0.5], [18, 0.4]", "[12, 0.5], [4, 0.45], [18, 0.4]", "experimental.km.points",
     "times out of order: 4 comes after 12"),
    ("[[0, 1.0], [3, 0.9]", "[[0, 1.0], [-3, 0.9]", "experimental.km.points", "time -3 is negative"),
    ("[[0, 1.0], [3, 0.9], [6, 0.7], [12, 0.5], [18, 0.4]]", "[[0, 1.0], [3]]",
     "experimental.km.points", "point 2 must be [time, survival]"),
    ("n = [100, 68, 45]", "n = [100, 70, 75]", "experimental.km.at_risk.n",
     "at-risk counts cannot grow: 75 at time 12 after 70"),
    ("n = [100, 68, 45]", "n = [101, 68, 45]", "experimental.km.at_risk.n",
     "the first at-risk count (101) is not the arm's n (100)"),
    ("times = [0, 6, 12]", "times = [0, 12, 6]", "experimental.km.at_risk.times",
     "times must increase: 6 after 12"),
    ("times = [0, 6, 12]", "times = [1, 6, 12]", "experimental.km.at_risk.times", "must start at time 0"),
    ("n = [100, 68, 45]", "n = [100, 68]", "experimental.km.at_risk.n", "2 counts for 3 times"),
    ('scale = "percent"', 'scale = "percentage"', "reference.km.scale", 'did you mean "percent"'),
    ("total_events = 60", "total_events = 120", "reference.km.total_events",
     "120 events exceed the arm's n (99)"),
    ('digitiser = "WebPlotDigitizer 4.6"', 'digitizer = "x"', "experimental.km.digitizer",
     'unknown key "digitizer" (did you mean "digitiser"?)'),
    ('csv = "ref.csv"', 'csv = "missing.csv"', "reference.km.csv", 'no such file "missing.csv"'),
    ('csv = "ref.csv"', 'csv = "ref.csv"\npoints = [[0, 1], [1, 0.5], [2, 0.2]]', "reference.km",
     "exactly one of them"),
])
def test_bad_curves_are_located_errors(tmp_path, old, new, field, message):
    assert old in REGISTRY
    text = REGISTRY.replace(old, new, 1)
    problems = [p for p in check(_write(tmp_path, text)) if p.severity == "error"]
    assert [p.field for p in problems] == [field], problems
    assert message in problems[0].message
    assert problems[0].study == "s1" and problems[0].comparison == "os"
    assert problems[0].line is not None


@pytest.mark.parametrize("csv, message", [
    ("time,survival\n0,100\n3,eighty\n", 'ref.csv line 3: "eighty" is not a number'),
    ("time,survival\n0,100\n3,80,1\n", "ref.csv line 3: expected two columns"),
    ("time,survival\n0,100\n3,80\n6,90\n", "ref.csv line 4: the curve rises from 0.8 to 0.9"),
    ("time,survival\n", "ref.csv: no data rows"),
])
def test_bad_csv_names_its_line(tmp_path, csv, message):
    text = REGISTRY
    problems = [p for p in check(_write(tmp_path, text, csv)) if p.severity == "error"]
    assert [p.field for p in problems] == ["reference.km.csv"]
    assert message in problems[0].message
    assert problems[0].line == _line(text, 'csv = "ref.csv"')


def test_survival_jitter_above_one_is_cleaned_not_refused(tmp_path):
    csv = f"0,{100 * (1 + SURVIVAL_JITTER / 2):g}\n3,85\n6,60\n12,40\n18,30\n"
    reg = load_registry(_write(tmp_path, csv=csv))
    assert reg.comparison("s1/os").reference.km.survival[0] == 1.0
    assert [w.field for w in reg.warnings] == ["reference.km.csv"]


def test_rmst_horizon_beyond_a_curve_is_an_error(tmp_path):
    text = REGISTRY.replace('location = "Figure 2"\n', 'location = "Figure 2"\nrmst_horizon = 24\n', 1)
    (p,) = check(_write(tmp_path, text))
    assert p.field == "rmst_horizon" and "beyond the shorter curve (its last point is at 18)" in p.message
    reg = load_registry(_write(tmp_path, text.replace("rmst_horizon = 24", "rmst_horizon = 12")))
    assert reg.comparison("s1/os").rmst_horizon == 12


def test_one_arm_only_and_total_events_disagreeing_are_warned(tmp_path):
    text = REGISTRY.replace("label = \"B\"\nn = 99\n", "label = \"B\"\nn = 99\nevents = 61\n")
    problems = check(_write(tmp_path, text))
    assert [(p.severity, p.field) for p in problems] == [("warning", "reference.km.total_events")]
    assert "60 events, but the arm's events are 61" in problems[0].message
