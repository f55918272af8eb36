"""Studies are labelled by first author and year ("Heo 2021") in forest plots and report tables,
with the study id added where two studies share a label."""

import textwrap

import pytest
from matplotlib.text import Text

from survmeta import plotting
from survmeta.pooling import pool
from survmeta.registry import load_registry
from survmeta.registry.summary import author_year, author_year_labels
from survmeta.report.content import build_document, estimates_table, author_year_study_labels

TOML = textwrap.dedent('''
    schema_version = 1

    [[question]]
    id = "q"
    title = "Drug A vs drug B"
    experimental = "drug A"
    reference = "drug B"
    outcome = "OS"

    [[study]]
    id = "smith2020a"
    citation = "Smith AB, Jones C, et al. A first trial of drug A. J Onc. 2020;1:1-9."
    year = 2020
    design = "retrospective cohort"
    population = "NSCLC"

    [[study.comparison]]
    id = "os"
    question = "q"
    endpoint = "OS"
    quote = "HR as printed"
    location = "Abstract"
    experimental = { label = "drug A", n = 50 }
    reference = { label = "drug B", n = 50 }
    hr = { estimate = 0.70, ci = [0.50, 0.98] }

    [[study]]
    id = "smith2020b"
    citation = "Smith AB, Lee D. A second trial of drug A. Lung. 2020;2:10-19."
    year = 2020
    design = "retrospective cohort"
    population = "NSCLC"

    [[study.comparison]]
    id = "os"
    question = "q"
    endpoint = "OS"
    quote = "HR as printed"
    location = "Abstract"
    experimental = { label = "drug A", n = 40 }
    reference = { label = "drug B", n = 40 }
    hr = { estimate = 0.80, ci = [0.55, 1.16] }

    [[study]]
    id = "heo2021"
    citation = "Heo JY, Yoo SH, Suh KJ, et al. Clinical pattern of failure. Sci Rep. 2021;11:2514."
    year = 2021
    design = "retrospective cohort"
    population = "NSCLC"

    [[study.comparison]]
    id = "os"
    question = "q"
    endpoint = "OS"
    quote = "HR as printed"
    location = "Abstract"
    experimental = { label = "drug A", n = 30 }
    reference = { label = "drug B", n = 30 }
    hr = { estimate = 0.60, ci = [0.35, 1.03] }

    [[study]]
    id = "topic2019"
    citation = "Immunotherapy after progression: a cohort. Clin Lung. 2019;3:1-5."
    year = 2019
    design = "retrospective cohort"
    population = "NSCLC"

    [[study.comparison]]
    id = "os"
    question = "q"
    endpoint = "OS"
    quote = "HR as printed"
    location = "Abstract"
    experimental = { label = "drug A", n = 20 }
    reference = { label = "drug B", n = 20 }
    hr = { estimate = 0.90, ci = [0.45, 1.80] }
''')

EXPECTED = {"smith2020a": "Smith 2020 (smith2020a)", "smith2020b": "Smith 2020 (smith2020b)",
            "heo2021": "Heo 2021", "topic2019": "topic2019"}


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    path = tmp_path_factory.mktemp("labels") / "studies.toml"
    path.write_text(TOML, encoding="utf-8")
    return load_registry(path)


@pytest.fixture(scope="module")
def result(registry):
    return pool(registry, hierarchical=False)["q"]


def test_labels_from_the_citation(registry):
    by_id = {s.id: s for s in registry.studies}
    assert author_year(by_id["heo2021"]) == "Heo 2021"
    assert author_year(by_id["smith2020a"]) == "Smith 2020"
    assert author_year(by_id["topic2019"]) == "topic2019"  # a title, not an author; year in the id
    # the same first author and year: each gets its id
    assert author_year_labels(registry) == EXPECTED
    assert author_year_study_labels(registry) == EXPECTED


def test_forest_rows_are_labelled(registry, result):
    fig = plotting.plot_forest(result, labels=author_year_study_labels(registry))
    texts = {t.get_text() for t in fig.findobj(Text)}
    for sid in result.effects["study"]:
        assert EXPECTED[sid] in texts
    assert "smith2020a" not in texts and "heo2021" not in texts


def test_estimates_table_labels_and_numbers(registry, result):
    table = estimates_table(result, labels=author_year_study_labels(registry))
    assert list(table["Study"]) == [EXPECTED[s] for s in result.effects["study"]]
    # each labelled row keeps its own study's numbers
    hrs = dict(zip(table["Study"], table["HR [95% CI]"]))
    assert hrs["Smith 2020 (smith2020a)"].startswith("0.70 [0.50, 0.98]")
    assert hrs["Smith 2020 (smith2020b)"].startswith("0.80 [0.55, 1.16]")
    assert hrs["Heo 2021"].startswith("0.60 [0.35, 1.03]")


def test_report_uses_the_labels(registry):
    ps = pool(registry, hierarchical=False)
    doc = build_document(ps, registry, figures=())
    table = next(b.table for b in doc if b.kind == "table" and b.name == "estimates_q")
    assert set(table["Study"]) == set(EXPECTED.values())
