"""``acknowledged = [...]``: a comparison acknowledges a warning it is known to trip.

The base registry's Zhou 2023 record is given the bone-metastasis numbers of
Zhou 2023 (Front Immunol 14:1089026, Results): adjusted HR 1.505 (95% CI
1.036-2.186) printed with P = 0.0195, while the CI implies a Wald p of 0.032.
"""

from __future__ import annotations

import json

import pytest

from survmeta.cli import main
from survmeta.errors import RegistryError
from survmeta.registry import load_registry_text

from .conftest import edit, line_of

BONE_HR = 'hr = { estimate = 1.505, ci = [1.036, 2.186], level = 0.95, adjusted = true, p = "0.0195" }'
NOTES = 'notes = "The CI implies a Wald p of 0.032, not the printed 0.0195; HR and CI used."'


def bone(base: str, extra: str = "") -> str:
    """The base registry with the bone-metastasis HR (and ``extra`` lines) in pfs1_line_second."""
    text = edit(base, 'hr = { estimate = 2.33, ci = [1.21, 4.47], level = 0.95, adjusted = true, '
                      'p = "0.011" }', BONE_HR + ("\n" + extra if extra else ""))
    return text.replace("2.33 (1.21,4.47) 0.011", "1.505 (1.036, 2.186) 0.0195")


def test_unacknowledged_discrepancy_warns(base, problems_of):
    (problem,) = problems_of(bone(base))
    assert (problem.field, problem.severity) == ("hr.p", "warning")


def test_acknowledged_warning_is_kept_aside(base, problems_of):
    text = bone(base, f'acknowledged = ["hr.p"]\n{NOTES}')
    assert problems_of(text) == []
    registry = load_registry_text(text, "studies.toml")
    assert registry.warnings == ()
    (ack,) = registry.acknowledged
    assert (ack.field, ack.comparison, ack.line) == ("hr.p", "pfs1_line_second",
                                                     line_of(text, "hr = {"))
    assert registry.comparison("zhou2023/pfs1_line_second").acknowledged == ("hr.p",)


def test_acknowledging_another_field_keeps_the_warning(base, problems_of):
    text = bone(base, f'acknowledged = ["hr.ci"]\n{NOTES}')
    problems = problems_of(text)
    assert {(p.field, p.severity) for p in problems} == {("hr.p", "warning"),
                                                         ("acknowledged", "warning")}
    stale = next(p for p in problems if p.field == "acknowledged")
    assert '"hr.ci" is acknowledged, but check finds no warning about it' in stale.message
    assert stale.line == line_of(text, "acknowledged =")


def test_stale_acknowledgement_warns(base, problems_of):
    text = edit(base, 'p = "0.011" }', f'p = "0.011" }}\nacknowledged = ["hr.p"]\n{NOTES}')
    (problem,) = problems_of(text)
    assert (problem.field, problem.severity) == ("acknowledged", "warning")


@pytest.mark.parametrize("value, message", [
    ('["hr.pp"]', '"hr.pp" is not a field of a comparison that a warning can be about '
                  '(did you mean "hr.p"?)'),
    ('["hr.p", "hr.p"]', '"hr.p" is listed twice'),
    ('"hr.p"', "must be an array of strings"),
])
def test_bad_acknowledged_is_an_error(base, value, message):
    text = bone(base, f"acknowledged = {value}\n{NOTES}")
    with pytest.raises(RegistryError) as info:
        load_registry_text(text, "studies.toml")
    errors = [p for p in info.value.problems if p.severity == "error"]
    assert any(p.field == "acknowledged" and message in p.message for p in errors), errors


def test_acknowledging_needs_notes(base):
    text = bone(base, 'acknowledged = ["hr.p"]')
    with pytest.raises(RegistryError) as info:
        load_registry_text(text, "studies.toml")
    (error,) = [p for p in info.value.problems if p.severity == "error"]
    assert error.field == "acknowledged" and "needs notes" in error.message


def test_errors_are_never_acknowledged(base):
    text = bone(base, f'acknowledged = ["hr.estimate"]\n{NOTES}')
    text = text.replace("estimate = 1.505", "estimate = 5.2")
    with pytest.raises(RegistryError) as info:
        load_registry_text(text, "studies.toml")
    assert any(p.field == "hr.estimate" and p.severity == "error" for p in info.value.problems)


def test_check_strict_passes_and_lists_the_acknowledged(tmp_path, base, capsys):
    path = tmp_path / "studies.toml"
    path.write_text(bone(base, f'acknowledged = ["hr.p"]\n{NOTES}'), encoding="utf-8")
    assert main(["check", "--strict", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "Acknowledged in the registry" in out
    assert "comparison pfs1_line_second, hr.p: warning: printed p 0.0195 disagrees" in out
    assert main(["check", "--format", "json", "--strict", str(path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is True and report["problems"] == []
    assert [a["field"] for a in report["acknowledged"]] == ["hr.p"]
