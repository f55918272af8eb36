"""``survmeta.export``: metafor and RevMan tables of the bundled registry's pooled rows.

The values are the effect table's own (``survmeta.pooling.effect_table``, rows by
``select_rows``), so the checks are exact: ``yi`` is ``log_hr``, ``sei`` is ``se``
and ``vi`` is ``sei**2``, and a CSV reads back to the same floats.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from survmeta.errors import SurvmetaError
from survmeta.export import (
    METAFOR_COLUMNS,
    REVMAN_COLUMNS,
    export_table,
    pooled_rows,
    to_metafor,
    to_revman,
    write_export,
)
from survmeta.pooling import effect_table, select_rows
from survmeta.registry import load
from survmeta.registry.schema import COMPARABILITY_FIELDS
from survmeta.report.content import author_year_study_labels

STUDIES = Path(__file__).resolve().parents[2] / "studies.toml"


@pytest.fixture(scope="module")
def pooled():
    """Question id -> its pooled rows, as ``survmeta pool`` selects them."""
    effects, questions = effect_table(STUDIES)
    out = {q: select_rows(effects, q)[0] for q in questions}
    return {q: rows for q, rows in out.items() if not rows.empty}


@pytest.fixture(scope="module")
def metafor():
    return to_metafor(STUDIES)


@pytest.fixture(scope="module")
def revman():
    return to_revman(STUDIES)


def test_metafor_rows_are_the_pooled_comparisons(metafor, pooled):
    assert len(metafor) == sum(len(rows) for rows in pooled.values())
    assert list(metafor["question"].unique()) == list(pooled)
    for q, rows in pooled.items():
        mine = metafor[metafor["question"] == q].reset_index(drop=True)
        assert list(mine["study_id"]) == list(rows["study"])
        assert list(mine["comparison"]) == list(rows["comparison"])
        assert mine["yi"].tolist() == rows["log_hr"].astype(float).tolist()
        assert mine["sei"].tolist() == rows["se"].astype(float).tolist()
    assert (metafor["vi"] == metafor["sei"] ** 2).all()


def test_metafor_columns_and_labels(metafor):
    assert tuple(metafor.columns) == METAFOR_COLUMNS
    assert set(COMPARABILITY_FIELDS) <= set(metafor.columns)
    for col in ("study", "comparison", "question", "endpoint", "time_origin", "year", "method",
                "approximate", "yi", "vi", "sei"):
        assert col in metafor.columns
    labels = author_year_study_labels(load(STUDIES))
    assert metafor["study"].tolist() == [labels.get(s, s) for s in metafor["study_id"]]
    heo = metafor[metafor["study_id"] == "heo2021"].iloc[0]
    assert heo["study"] == "Heo 2021" and heo["year"] == 2021
    assert heo["n_experimental"] == 52 and heo["n_reference"] == 11 and heo["n"] == 63


def test_revman_rows(revman, metafor, pooled):
    assert tuple(revman.columns) == REVMAN_COLUMNS
    assert len(revman) == len(metafor)
    assert revman["GIV Mean"].tolist() == metafor["yi"].tolist()
    assert revman["GIV SE"].tolist() == metafor["sei"].tolist()
    assert revman["Study"].tolist() == metafor["study"].tolist()
    assert revman["Experimental N"].equals(metafor["n_experimental"].rename("Experimental N"))
    _, questions = effect_table(STUDIES)
    titles = {questions[q]["title"] for q in pooled}
    assert set(revman["Analysis name"]) == titles
    # one analysis per question, numbered by the question's place in the registry
    order = list(questions)
    assert revman.groupby("Analysis number")["Analysis name"].nunique().eq(1).all()
    first = revman[revman["Analysis name"] == questions["oligo_vs_systemic"]["title"]]
    assert set(first["Analysis number"]) == {order.index("oligo_vs_systemic") + 1}
    assert first["Footnotes"].str.startswith("log HR by survmeta method ").all()


def test_csv_reads_back_the_same_numbers(metafor):
    back = pd.read_csv(io.StringIO(write_export(metafor)))
    assert back["yi"].tolist() == metafor["yi"].tolist()
    assert back["vi"].tolist() == metafor["vi"].tolist()
    assert back["sei"].tolist() == metafor["sei"].tolist()
    assert len(back) == len(metafor)


def test_selected_questions_in_order():
    table = to_metafor(STUDIES, ["rechallenge_acquired_vs_primary", "oligo_vs_systemic"])
    assert list(table["question"].unique()) == ["rechallenge_acquired_vs_primary",
                                                "oligo_vs_systemic"]
    assert len(table) == 5


def test_write_export_is_atomic_and_complete(tmp_path, revman):
    path = tmp_path / "revman.csv"
    text = write_export(revman, path)
    assert path.read_text(encoding="utf-8") == text
    assert [p.name for p in tmp_path.iterdir()] == ["revman.csv"]


def test_bad_question_and_empty_question():
    with pytest.raises(SurvmetaError, match="unknown question 'nope'"):
        to_revman(STUDIES, ["nope"])
    with pytest.raises(SurvmetaError, match="site_lung_vs_other.*no pooled comparison"):
        pooled_rows(STUDIES, ["site_lung_vs_other"])
    with pytest.raises(SurvmetaError, match="unknown export format"):
        export_table(STUDIES, "stata")
    with pytest.raises(SurvmetaError, match="no such file"):
        to_metafor(STUDIES.with_name("missing.toml"))


def test_effects_csv_and_frame(tmp_path):
    """An effects CSV (no registry): labels as printed, arm sizes missing."""
    path = tmp_path / "effects.csv"
    path.write_text("study,estimate,se,question\nSmith 2020,-0.5,0.2,q\nLee 2019,0.1,0.3,q\n",
                    encoding="utf-8")
    table = to_metafor(path)
    assert table["study"].tolist() == ["Smith 2020", "Lee 2019"]
    assert table["yi"].tolist() == [-0.5, 0.1]
    assert table["vi"].tolist() == [0.2 ** 2, 0.3 ** 2]
    assert table["n_experimental"].isna().all()
    rev = to_revman(path)
    assert rev["GIV SE"].tolist() == [0.2, 0.3] and rev["Analysis number"].tolist() == [1, 1]
