"""A report above the size threshold is paged: a summary page linking one page per question.

The registry is generated with invented numbers (three questions, two studies
each, reported HRs); the thresholds are lowered so that a small registry is
above them. Every link of every page written must reach a file (or an anchor)
that exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import survmeta.report as report

QUESTIONS = ("q1", "Q1", "q2")  # "q1" and "Q1" differ only by case


def _registry_text() -> str:
    out = ["schema_version = 1", ""]
    for q in QUESTIONS:
        out += ["[[question]]", f'id = "{q}"', f'title = "Question {q}"', 'experimental = "drug"',
                'reference = "placebo"', 'outcome = "OS"', ""]
    hrs = ("0.60, ci = [0.40, 0.90]", "0.80, ci = [0.50, 1.28]")
    for i, q in enumerate(QUESTIONS):
        for j, hr in enumerate(hrs):
            out += ["[[study]]", f'id = "s{i}{j}"', f'citation = "Author {i}{j}. J Test. 2020;{i}:{j}."',
                    f"year = {2010 + j}", 'design = "rct"', 'population = "adults"', "",
                    "[[study.comparison]]", 'id = "c1"', f'question = "{q}"', 'endpoint = "OS"',
                    'quote = "invented"', 'location = "Table 1"',
                    'experimental = { label = "drug", n = 50 }',
                    'reference = { label = "placebo", n = 50 }', f"hr = {{ estimate = {hr} }}", ""]
    return "\n".join(out)


@pytest.fixture
def registry(tmp_path) -> Path:
    path = tmp_path / "studies.toml"
    path.write_text(_registry_text(), encoding="utf-8")
    return path


@pytest.fixture
def small_threshold(monkeypatch):
    monkeypatch.setattr(report, "PAGED_QUESTIONS", 2)


_LINK = re.compile(r'(?:href|src)="([^"]+)"|\]\(([^)]+)\)')


def _links(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    return [a or b for a, b in _LINK.findall(text) if not (a or b).startswith("data:")]


def _check_links(page: Path) -> list[Path]:
    """Every link of ``page`` resolves; returns the pages it links to."""
    reached = []
    ids = set(re.findall(r'id="([^"]+)"', page.read_text(encoding="utf-8")))
    for link in _links(page):
        target, _, anchor = link.partition("#")
        if not target:
            assert anchor in ids, (page, link)
            continue
        path = (page.parent / target).resolve()
        assert path.is_file(), (page, link)
        reached.append(path)
    return reached


@pytest.mark.parametrize("fmt, ext", [("html", "html"), ("md", "md")])
def test_above_the_threshold_the_report_is_paged_with_working_links(
        registry, tmp_path, small_threshold, fmt, ext):
    from survmeta.cli import main

    out = tmp_path / "out"
    assert main(["report", str(registry), "--out", str(out), "--format", fmt,
                 "--no-hierarchical"]) == 0
    index = out / f"report.{ext}"
    pages = sorted(p.name for p in (out / "questions").iterdir())
    assert pages == sorted([f"q1.{ext}", f"Q1-2.{ext}", f"q2.{ext}"])
    assert len({p.lower() for p in pages}) == 3  # distinct on a case-insensitive file system
    linked = _check_links(index)
    assert sorted(p.name for p in linked if p.parent.name == "questions") == pages
    text = index.read_text(encoding="utf-8")
    assert "Summary of findings" in text and "Reproducibility" in text
    assert "Pooled estimates of" not in text  # the question sections live on their own pages
    for name in pages:
        page = out / "questions" / name
        back = _check_links(page)
        assert index.resolve() in back
        body = page.read_text(encoding="utf-8")
        assert "Pooled estimates of" in body and "Forest plot" in body
        if fmt == "html":
            assert body.count('<img alt="') == 3  # forest, posterior, tau (k = 2)
        else:
            assert sum(1 for p in back if p.suffix == ".png") == 3


def test_each_question_page_holds_its_own_numbers(registry, tmp_path, small_threshold):
    from survmeta.pooling import pool
    from survmeta.registry import load_registry
    from survmeta.report.content import author_year_study_labels

    reg = load_registry(registry)
    results = pool(reg, hierarchical=False)
    index = report.write_report(results, reg, tmp_path, fmt="md", figures=())
    assert index == tmp_path / "report.md"
    for qid, name in zip(QUESTIONS, ("q1", "Q1-2", "q2")):
        body = (tmp_path / "questions" / f"{name}.md").read_text(encoding="utf-8")
        assert f"## {qid}: Question {qid}" in body
        # both studies of the question, by their labels, and no study of another question
        i = QUESTIONS.index(qid)
        lab = author_year_study_labels(reg)
        assert lab[f"s{i}0"] == f"s{i}0 2010"  # "Author 00." is no author list: id and year
        assert f"| {lab[f's{i}0']} |" in body and f"| {lab[f's{i}1']} |" in body
        assert all(f"| {lab[f's{j}0']} |" not in body for j in range(3) if j != i)
        assert "0.6 [0.4, 0.9]" in body and "0.8 [0.5, 1.28]" in body  # the registry's numbers


def test_below_the_threshold_the_report_is_one_page(registry, tmp_path):
    from survmeta.cli import main

    out = tmp_path / "out"
    assert main(["report", str(registry), "--out", str(out), "--no-hierarchical"]) == 0
    assert [p.name for p in out.iterdir()] == ["report.html"]
    assert "Pooled estimates of q2" in (out / "report.html").read_text(encoding="utf-8")


def test_the_layout_can_be_chosen(registry, tmp_path):
    from survmeta.cli import main

    out = tmp_path / "out"
    assert main(["report", str(registry), "--out", str(out), "--layout", "paged",
                 "--no-hierarchical"]) == 0
    assert (out / "questions" / "q2.html").is_file()
    _check_links(out / "report.html")


def test_the_threshold_counts_questions_and_estimates(monkeypatch):
    class R:
        def __init__(self, k):
            self.k = k

    class P(dict):
        pass

    monkeypatch.setattr(report, "PAGED_QUESTIONS", 2)
    monkeypatch.setattr(report, "PAGED_ESTIMATES", 10)
    assert not report.is_paged(P(a=R(5), b=R(5)))          # 2 questions, 10 estimates
    assert report.is_paged(P(a=R(1), b=R(1), c=R(1)))      # 3 questions
    assert report.is_paged(P(a=R(6), b=R(5)))              # 11 estimates
    assert not report.is_paged(P(a=R(1), b=R(1), c=R(1)), "single")
    with pytest.raises(ValueError, match="unknown report layout"):
        report.is_paged(P(), "book")
