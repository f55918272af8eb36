"""Loading: records built from the base registry, file handling, dispatch by suffix."""

from __future__ import annotations

import pytest

from survmeta.errors import RegistryError
from survmeta.registry import (
    NR,
    Arm,
    PValue,
    Registry,
    ReportedHR,
    check,
    load,
    load_registry,
    load_registry_text,
)
from survmeta.registry import convert

from .conftest import edit, line_of


@pytest.fixture
def registry(base) -> Registry:
    return load_registry_text(base, "studies.toml")


def test_questions_and_studies_in_file_order(registry, base):
    assert [q.id for q in registry.questions] == ["oligo_vs_systemic", "pfs1_line"]
    assert [s.id for s in registry.studies] == ["heo2021", "zhou2023"]
    assert registry.questions[1].line == line_of(base, "[[question]]", line_of(base, "outcome ="))
    assert registry.studies[1].line == line_of(base, "[[study]]", line_of(base, "n = 125"))
    assert (registry.path, registry.schema_version, registry.warnings) == ("studies.toml", 1, ())


def test_inline_arms_with_nr_bounds(registry):
    # Heo 2021 abstract: 18.9 months [95% CI, 10.6-NR] (n = 52) vs 8.8 [5.7-NR] (n = 11)
    comp = registry.comparison("heo2021/os_oligo_vs_multi")
    assert comp.experimental == Arm(label="oligo-progression", n=52, median=18.9, ci=(10.6, NR))
    assert comp.reference.ci == (5.7, NR) and comp.reference.ci_level == 0.95
    assert comp.p == PValue(text="0.04", value=0.04, relation="=", sided=2)
    assert comp.derived == ("reference.n: 63 with acquired resistance minus 52 with oligo-progression",)
    assert (comp.time_unit, comp.hr, comp.subgroup_of, comp.poolable) == ("months", None, None, True)


def test_reported_hr_and_sub_table_arms(registry, base):
    # Zhou 2023 Table 2: second line 5.34 (3.25, 8.77) vs first line 9.66 (6.51, 12.91),
    # adjusted HR 2.33 (1.21, 4.47), P = 0.011
    comp = registry.comparison("zhou2023/pfs1_line_second")
    assert comp.hr == ReportedHR(estimate=2.33, ci=(1.21, 4.47), level=0.95, adjusted=True,
                                 p=PValue(text="0.011", value=0.011, relation="=", sided=2))
    assert comp.experimental == Arm(label="second line", median=5.34, ci=(3.25, 8.77))
    assert comp.reference == Arm(label="first line", median=9.66, ci=(6.51, 12.91))
    assert comp.study_id == "zhou2023" and comp.key == "zhou2023/pfs1_line_second"
    assert comp.line == line_of(base, "[[study.comparison]]", line_of(base, 'id = "zhou2023"'))


def test_subgroup_and_status(registry):
    comp = registry.comparison("heo2021/os_oligo_subset")
    assert comp.subgroup_of == "os_oligo_vs_multi"
    assert comp.poolable is False


def test_levels_sidedness_and_optional_blocks(base):
    text = edit(base, 'p = "0.0303"', 'p = "<0.05"\nsided = 1\ntime_unit = "weeks"\n'
                'logrank = { o_minus_e = -3.1, variance = 7.2 }\neffect = { log_hr = 0.85, se = 0.33 }\n'
                "chisq = 4.7")
    text = edit(text, "level = 0.95,", "level = 0.9,")
    text = edit(text, 'label = "second line"\n', 'label = "second line"\nlevel = 0.9\nn = 40\nevents = 31\n')
    comp = load_registry_text(text).comparison("zhou2023/pfs1_line_second")
    assert comp.p == PValue(text="<0.05", value=0.05, relation="<", sided=1)
    assert (comp.hr.level, comp.experimental.ci_level, comp.time_unit) == (0.9, 0.9, "weeks")
    assert (comp.experimental.n, comp.experimental.events) == (40, 31)
    assert (comp.logrank.o_minus_e, comp.logrank.variance, comp.chisq) == (-3.1, 7.2, 4.7)
    assert (comp.effect.log_hr, comp.effect.se) == (0.85, 0.33)


def test_hr_with_nr_upper_bound_is_valid(base):
    text = edit(base, "ci = [1.21, 4.47]", 'ci = [1.21, "NR"]')
    assert load_registry_text(text).comparison("zhou2023/pfs1_line_second").hr.ci == (1.21, NR)


def test_median_nr_with_open_ci_is_valid(base):
    text = edit(base, "median = 18.9,", 'median = "NR",')
    assert load_registry_text(text).comparison("heo2021/os_oligo_vs_multi").experimental.median is NR


def test_method_checked_against_reconstruction_methods(base, monkeypatch):
    text = edit(base, 'p = "0.0303"', 'p = "0.0303"\nmethod = "hr_cl"')
    monkeypatch.setattr(convert, "known_methods", lambda: ("hr_ci", "hr_p"))
    with pytest.raises(RegistryError, match=r'method: "hr_cl" is not one of .*did you mean "hr_ci"'):
        load_registry_text(text, "studies.toml")
    monkeypatch.setattr(convert, "known_methods", lambda: None)
    assert load_registry_text(text).comparison("zhou2023/pfs1_line_second").method == "hr_cl"


def test_load_registry_from_file_and_by_suffix(tmp_path, base):
    path = tmp_path / "studies.toml"
    path.write_text(base, encoding="utf-8")
    assert load_registry(path) == load(str(path))
    assert load_registry(path).path == str(path)
    assert check(path) == []


def test_byte_order_mark_is_ignored(tmp_path, base):
    path = tmp_path / "studies.toml"
    path.write_bytes(b"\xef\xbb\xbf" + base.encode("utf-8"))
    assert [s.id for s in load_registry(path).studies] == ["heo2021", "zhou2023"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.toml", None, "no such file"),
        ("latin1.toml", b"title = \"caf\xe9\"\n", "not UTF-8 text"),
        ("studies.yaml", b"x: 1\n", "unsupported file type"),
    ],
)
def test_unreadable_files(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    (problem,) = check(path)
    assert message in problem.message and problem.path == str(path)
    with pytest.raises(RegistryError, match=message):
        load(path)


def test_directory_is_reported(tmp_path):
    folder = tmp_path / "dir.toml"
    folder.mkdir()
    (problem,) = check(folder)
    assert "is a directory" in problem.message


def test_registry_error_lists_errors_not_warnings(base):
    text = edit(base, "ci = [1.21, 4.47]", "ci = [1.21, 3.47]")  # centring and hr.p warnings
    text = edit(text, "year = 2021", "year = 1850")              # error
    with pytest.raises(RegistryError) as info:
        load_registry_text(text, "studies.toml")
    assert [p.severity for p in info.value.problems] == ["error", "warning", "warning"]
    assert "warning" not in str(info.value) and "1900..2100" in str(info.value)
