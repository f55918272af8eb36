"""``survmeta check`` and ``survmeta list`` through :func:`survmeta.cli.main`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from survmeta.cli import main

from .conftest import edit, line_of

REPO = Path(__file__).resolve().parents[2]
BASE_SUMMARY = ("2 studies, 3 comparisons, 2 questions; poolable comparisons per question: "
                "oligo_vs_systemic 1, pfs1_line 1")
#: One row per study after the summary (issue 2: "reports each of the five papers"):
#: heo2021 has os_oligo_vs_multi (poolable) and a not-poolable subset; zhou2023 one comparison.
BASE_STUDIES = (
    "study     year  citation            design                comparisons  poolable\n"
    "heo2021   2021  Heo et al. (2021)   retrospective cohort            2         1\n"
    "zhou2023  2023  Zhou et al. (2023)  retrospective cohort            1         1\n"
)


@pytest.fixture
def registry_file(tmp_path, base):
    path = tmp_path / "studies.toml"
    path.write_text(base, encoding="utf-8")
    return path


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_check_valid_prints_one_line_summary(registry_file, capsys):
    assert main(["check", str(registry_file)]) == 0
    out, err = capsys.readouterr()
    assert out == f"{registry_file}: {BASE_SUMMARY}\n\n{BASE_STUDIES}"
    assert err == ""


def test_check_defaults_to_studies_toml(registry_file, capsys, monkeypatch):
    monkeypatch.chdir(registry_file.parent)
    assert main(["check"]) == 0
    assert capsys.readouterr().out == f"studies.toml: {BASE_SUMMARY}\n\n{BASE_STUDIES}"


def test_check_warnings_pass_unless_strict(registry_file, base, capsys):
    _write(registry_file, edit(base, "ci = [1.21, 4.47]", "ci = [1.21, 3.47]"))
    line = line_of(registry_file.read_text(), "hr = {")
    assert main(["check", str(registry_file)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{registry_file}: 2 studies")
    assert err.startswith(f"{registry_file}:{line}: study zhou2023, comparison pfs1_line_second, "
                          "hr.ci: warning: CI [1.21, 3.47] is not centred")
    # the mistyped bound also makes the printed p 0.011 disagree with the CI (the p rule)
    assert err.splitlines()[1].startswith(f"{registry_file}:{line}: study zhou2023, comparison "
                                          "pfs1_line_second, hr.p: warning: printed p 0.011 disagrees")
    assert main(["check", "--strict", str(registry_file)]) == 2
    assert "0 errors, 2 warnings; warnings fail the check with --strict" in capsys.readouterr().err


def test_check_invalid_lists_every_problem_and_exits_2(registry_file, base, capsys):
    text = edit(base, "year = 2021", "year = 1850")
    text = edit(text, "median = 8.8,", "median = -8.8,")
    _write(registry_file, text)
    assert main(["check", str(registry_file)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{registry_file}:{line_of(text, 'year = 1850')}: study heo2021, year: 1850 is outside 1900..2100",
        f"{registry_file}:{line_of(text, 'median = -8.8')}: study heo2021, comparison "
        "os_oligo_vs_multi, reference.median: must be positive, got -8.8",
        f"{registry_file}: invalid registry: 2 errors, 0 warnings",
    ]


def test_check_syntax_error_has_line_and_column(registry_file, base, capsys):
    _write(registry_file, edit(base, "year = 2021", "year = = 2021"))
    assert main(["check", str(registry_file)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == (f"{registry_file}:{line_of(registry_file.read_text(), 'year = =')}: "
                                   "TOML syntax error: Invalid value (column 8)")
    assert "Traceback" not in err


def test_check_missing_file(tmp_path, capsys):
    missing = tmp_path / "nope.toml"
    assert main(["check", str(missing)]) == 2
    assert capsys.readouterr().err.splitlines()[0] == f"{missing}: no such file"


def test_check_json(registry_file, base, capsys):
    assert main(["check", "--format", "json", str(registry_file)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is True and report["problems"] == []
    assert report["summary"]["poolable"] == {"oligo_vs_systemic": 1, "pfs1_line": 1}
    assert (report["summary"]["studies"], report["summary"]["comparisons"]) == (2, 3)

    _write(registry_file, edit(base, "n = 11,", "n = 11, events = 12,"))
    assert main(["check", "--format", "json", str(registry_file)]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and report["summary"] is None
    (problem,) = report["problems"]
    assert (problem["field"], problem["severity"], problem["comparison"]) == (
        "reference.events", "error", "os_oligo_vs_multi")


def test_check_effects_csv(tmp_path, capsys):
    path = _write(tmp_path / "effects.csv", "study,estimate,se\nzhou2023,0.85,0.33\n")
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().out == (f"{path}: 1 study, 1 comparison, 1 question; "
                                       "poolable comparisons per question: effects 1\n\n"
                                       "study     year  citation  design  comparisons  poolable\n"
                                       "zhou2023        zhou2023                    1         1\n")


def _listed(capsys, fmt, path):
    assert main(["list", "--format", fmt, str(path)]) == 0
    return capsys.readouterr().out


def test_list_json_one_row_per_comparison(registry_file, capsys):
    rows = json.loads(_listed(capsys, "json", registry_file))
    assert [(r["study"], r["year"], r["comparison"], r["question"]) for r in rows] == [
        ("heo2021", 2021, "os_oligo_vs_multi", "oligo_vs_systemic"),
        ("heo2021", 2021, "os_oligo_subset", "oligo_vs_systemic"),
        ("zhou2023", 2023, "pfs1_line_second", "pfs1_line"),
    ]
    assert [r["reported"] for r in rows] == ["medians+CI, p", "nothing to estimate from",
                                             "HR+CI, HR p, medians+CI, p"]
    assert rows[1]["subgroup_of"] == "os_oligo_vs_multi"
    assert rows[1]["status"] == "not poolable: no numbers printed for the subset"


def test_list_csv_and_table(registry_file, capsys):
    rows = list(csv.DictReader(io.StringIO(_listed(capsys, "csv", registry_file))))
    assert [r["comparison"] for r in rows] == ["os_oligo_vs_multi", "os_oligo_subset",
                                               "pfs1_line_second"]
    table = _listed(capsys, "table", registry_file).splitlines()
    assert table[0].split() == ["study", "year", "comparison", "question", "endpoint",
                                "subgroup_of", "status", "reported"]
    # 100 columns by default: long cells cut and marked '~', said on a last line; in full
    # with --wide
    assert len(table) == 5 and "not poolable:" in table[2] and max(map(len, table)) <= 100
    assert table[-1].startswith("(long cells cut to fit 100 columns")
    assert main(["list", "--wide", str(registry_file)]) == 0
    wide = capsys.readouterr().out.splitlines()
    assert len(wide) == 4 and "not poolable: no numbers printed for..." in wide[2]


def test_list_refuses_an_invalid_registry(registry_file, base, capsys):
    _write(registry_file, edit(base, 'question = "pfs1_line"', 'question = "pfs1_lines"'))
    assert main(["list", str(registry_file)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    line = line_of(registry_file.read_text(), 'question = "pfs1_lines"')
    assert (f"{registry_file}:{line}: study zhou2023, comparison pfs1_line_second, question: "
            'unknown question "pfs1_lines"') in err


@pytest.mark.skipif(not (REPO / "studies.toml").exists(), reason="bundled registry not present")
def test_bundled_registry_passes_check(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    assert main(["check", "--strict"]) == 0
    assert capsys.readouterr().out.startswith("studies.toml: 21 studies, 56 comparisons, 15 single-group outcomes, ")
