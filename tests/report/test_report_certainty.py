"""The report's GRADE parts: the "Certainty (GRADE)" column of the summary of findings, the
"Small-study effects" section and a "Certainty inputs" table per question.

Small-study numbers on dat.bcg are metafor 3.8-1's (``tests/reference/metafor_smallstudy.Rout``:
``regtest(r)`` z = -0.8033, p = 0.4218; ``ranktest(r)`` Kendall's tau = 0.0256, p = 0.9524,
for ``r <- rma(yi, vi)`` on ``escalc(measure = "RR", ...)`` of dat.bcg), printed here to two
and three decimals (the p-values to four, as metafor prints them: ``fmt_pval``); I^2 92% is
``rma(yi, vi)``'s 92.22% (``metafor_bcg.Rout``) rounded.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survmeta.pooling import pool
from survmeta.registry import load_registry
from survmeta.report import write_report
from survmeta.report.content import certainty_table, primary_sof_table, small_study_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exact"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "grade"))
from _exact_data import BCG_CPOS, BCG_TPOS, bcg_log_rr  # noqa: E402
from _grade_data import REGISTRY  # noqa: E402


@pytest.fixture(scope="module")
def bcg_set():
    yi, vi = bcg_log_rr()
    frame = pd.DataFrame({"study": [f"trial{i + 1}" for i in range(yi.size)], "log_hr": yi,
                          "se": np.sqrt(vi), "question": "bcg", "events": BCG_TPOS + BCG_CPOS})
    few = pd.DataFrame({"study": ["a", "b", "c"], "log_hr": [-0.4, -0.1, -0.6],
                        "se": [0.2, 0.3, 0.25], "question": "few"})
    return pool(pd.concat([frame, few], ignore_index=True))


def test_small_study_table_has_metafors_numbers_or_the_reason(bcg_set):
    t = small_study_table(bcg_set).set_index("Question")
    assert t.loc["bcg", "Egger's test"] == "z = -0.80, p = 0.4218"
    assert t.loc["bcg", "Begg's test"] == "Kendall's \u03c4 = 0.026, p = 0.9524"
    assert t.loc["bcg", "Trim-and-fill"].startswith("L0: ")
    assert t.loc["few", "Egger's test"].startswith("not run: k = 3 < 10")


def test_certainty_inputs_table(bcg_set):
    t = dict(certainty_table(bcg_set["bcg"]).itertuples(index=False))
    assert t["Inconsistency"].startswith("I\u00b2 92% (REML)")
    assert t["Publication bias"].startswith("Egger p = 0.4218; Begg p = 0.9524")
    assert f"{int(BCG_TPOS.sum() + BCG_CPOS.sum())} events, at least 300" in t["Imprecision"]
    assert t["Risk of bias"] == "not recorded" and t["Certainty (rater)"] == "not rated"


def test_report_carries_the_sections_and_the_rating(tmp_path):
    path = tmp_path / "studies.toml"
    path.write_text(REGISTRY, encoding="utf-8")
    reg = load_registry(path)
    ps = pool(reg)
    sof = primary_sof_table(ps).set_index("k")
    assert list(primary_sof_table(ps)["Certainty (GRADE)"]) == ["low", "not rated"]
    assert "Certainty (GRADE)" in sof.columns
    page = write_report(ps, reg, tmp_path / "out", fmt="md", figures=(), layout="single")
    text = page.read_text(encoding="utf-8")
    assert "## Small-study effects" in text and "not run: k = 2: the small-study tests" in text
    assert text.count("### Certainty inputs") == 2
    assert "| Imprecision |" in text and "175 events, below 300" in text
    assert "| Certainty (rater) | low (risk of bias: retrospective cohorts; imprecision) |" in text
    assert "| Indirectness | oligo-progression \\<= 3 or \\<= 5 lesions |" in text  # Markdown escapes <
