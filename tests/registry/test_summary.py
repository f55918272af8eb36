"""Short citations and the per-study rows of ``survmeta check``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from survmeta.cli import main
from survmeta.registry import load_registry, load_registry_text
from survmeta.registry.records import Study
from survmeta.registry.summary import first_author, short_citation, study_rows

REPO = Path(__file__).resolve().parents[2]


def study(citation: str, sid: str = "s1", year: int | None = 2021) -> Study:
    return Study(id=sid, citation=citation, year=year, design="rct", population="test")


@pytest.mark.parametrize("citation, expected", [
    # the seed citations (studies.toml)
    ("Heo JY, Yoo SH, Suh KJ, et al. Clinical pattern of failure ... Sci Rep. 2021;11:2514.",
     "Heo et al. (2021)"),
    ("Passaro A, et al. Managing Resistance to Immune Checkpoint Inhibitors in Lung Cancer.",
     "Passaro et al. (2021)"),
    # no author list: the study id, never a title fragment with "et al."
    ("Immunotherapy after ALK-TKI resistance in ALK-rearranged NSCLC, stratified by PD-L1 "
     "expression. Transl Lung Cancer Res. 2025;14(6):2197-2209.", "s1 (2021)"),
    ("Outcomes in NSCLC. J Test. 2020;1:1.", "s1 (2021)"),
    ("WHO. Guidelines for lung cancer. 2020.", "s1 (2021)"),
    ("", "s1 (2021)"),
    # one author: no "et al."
    ("Smith A. A single-author paper. J Test. 2020;1:1.", "Smith (2021)"),
    # particles, hyphens, apostrophes, hyphenated initials
    ("van der Berg A, Jones B. Title. J Test.", "van der Berg et al. (2021)"),
    ("O'Brien ME, et al. Title.", "O'Brien et al. (2021)"),
    ("Smith-Jones AB et al. Title.", "Smith-Jones et al. (2021)"),
    ("Kim J-Y, Lee S. Title.", "Kim et al. (2021)"),
])
def test_short_citation(citation, expected):
    assert short_citation(study(citation)) == expected


def test_short_citation_without_year():
    assert short_citation(study("Title only.", sid="x", year=None)) == "x"
    assert first_author(None) is None


def test_study_rows_of_the_base_registry(base):
    rows = study_rows(load_registry_text(base, "studies.toml"))
    assert rows == [
        {"id": "heo2021", "year": 2021, "citation": "Heo et al. (2021)",
         "design": "retrospective cohort", "outcomes": 0, "comparisons": 2, "poolable": 1},
        {"id": "zhou2023", "year": 2023, "citation": "Zhou et al. (2023)",
         "design": "retrospective cohort", "outcomes": 0, "comparisons": 1, "poolable": 1},
    ]


def test_check_json_lists_the_studies(tmp_path, base, capsys):
    path = tmp_path / "studies.toml"
    path.write_text(base, encoding="utf-8")
    assert main(["check", "--format", "json", str(path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in report["summary"]["by_study"]] == ["heo2021", "zhou2023"]
    assert report["acknowledged"] == []


def test_check_reports_each_of_the_five_seed_papers(capsys):
    """Issue 2: ``survmeta check`` on the bundled registry reports each of the five seed papers
    (and, since issue 19, the ten published studies registered beyond them; since issue 18,
    six single-arm rechallenge series with single-group outcomes)."""
    path = REPO / "studies.toml"
    assert main(["check", "--strict", str(path)]) == 0
    out = capsys.readouterr().out
    registry = load_registry(path)
    rows = study_rows(registry)
    assert len(rows) == 21
    assert sum(r["outcomes"] for r in rows) == 15
    for row in rows:
        line = next(x for x in out.splitlines() if x.startswith(row["id"] + " "))
        assert row["citation"] in line and row["design"] in line
        assert line.split()[-2:] == [str(row["comparisons"]), str(row["poolable"])]
    # the ALK-TKI 2025 citation names a topic, not authors
    assert next(r for r in rows if r["id"] == "alk_tki2025")["citation"] == "alk_tki2025 (2025)"
    # poolable per study adds up to the per-question counts of the summary line
    assert sum(r["poolable"] for r in rows) == sum(
        int(x.rsplit(" ", 1)[1])
        for x in out.splitlines()[0].split("per question: ")[1].split(";")[0].split(", "))
    # single-group outcomes per question, after the comparisons
    assert out.splitlines()[0].endswith("; single-group outcomes per question: "
                                        "rechallenge_response 6, rechallenge_pfs_median 7, "
                                        "oligo_share_acquired 2")
