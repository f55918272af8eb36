"""Single-group questions in ``pool()`` (issue 18): pooled proportions and medians.

The numbers are those of :func:`survmeta.exact.pool_proportions` and
:func:`survmeta.exact.pool_medians` called directly on the same outcomes (their own
tests pin them to metafor); here the point is that ``pool()`` hands them the right data.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from survmeta.exact import pool_medians, pool_proportions
from survmeta.pooling import pool, pool_single_arm_question
from survmeta.registry import load_registry_text
from survmeta.results import Diagnostics, SingleArmResult

#: pool() must hand the engines exactly the registry's numbers.
TOL = 1e-12

TEXT = '''
schema_version = 1

[[question]]
id = "resp"
title = "Response to rechallenge"
outcome = "objective response"
measure = "proportion"

[[question]]
id = "pfs"
title = "Median PFS on rechallenge"
outcome = "PFS on rechallenge"
measure = "median"

[[question]]
id = "empty"
title = "No outcome yet"
outcome = "objective response"
measure = "proportion"

[[study]]
id = "a2020"
citation = "A B, et al. Title. J. 2020."
year = 2020
design = "retrospective cohort"
population = "rechallenged"

[[study.outcome]]
question = "resp"
kind = "proportion"
events = 5
n = 59
quote = "5 responders of 59"
location = "Abstract"

[[study.outcome]]
question = "pfs"
kind = "median"
median = 2.6
ci = [1.6, 2.8]
n = 59
quote = "median PFS 2.6 months (95% CI 1.6-2.8)"
location = "Abstract"

[[study]]
id = "b2019"
citation = "C D, et al. Title. J. 2019."
year = 2019
design = "retrospective cohort"
population = "rechallenged"

[[study.outcome]]
question = "resp"
kind = "proportion"
events = 0
n = 13
quote = "ORR of 0%"
location = "Abstract"

[[study.outcome]]
question = "pfs"
kind = "median"
median = 81
ci = [41, 112]
n = 35
unit = "days"
quote = "Median PFS 81 d (95% CI 41-112 d)"
location = "Abstract"

[[study]]
id = "c2021"
citation = "E F, et al. Title. J. 2021."
year = 2021
design = "case series"
population = "rechallenged"

[[study.outcome]]
question = "resp"
kind = "proportion"
events = 11
n = 21
quote = "11 (52.4%) had an objective response"
location = "Abstract"

[[study.outcome]]
question = "pfs"
kind = "median"
median = 1.5
ci = [0.8, 2.6]
n = 14
quote = "median PFS 1.5 months (95% CI 0.8-2.6)"
location = "Abstract"
'''

DAYS_PER_MONTH = 365.25 / 12


@pytest.fixture(scope="module")
def registry():
    return load_registry_text(TEXT, "studies.toml")


@pytest.fixture(scope="module")
def pooled(registry):
    return pool(registry)


def test_pool_carries_the_single_group_questions(pooled):
    assert len(pooled) == 0  # no hazard-ratio question
    assert list(pooled.single_arm) == ["resp", "pfs"]
    assert all(isinstance(r, SingleArmResult) for r in pooled.single_arm.values())
    assert [s["id"] for s in pooled.skipped] == ["empty"]
    assert pooled.skipped[0]["reason"] == "no single-group outcome"


def test_proportion_matches_pool_proportions(pooled):
    got = pooled.single_arm["resp"]
    ref = pool_proportions([5, 0, 11], [59, 13, 21], labels=["a2020", "b2019", "c2021"])
    assert got.measure == "proportion" and got.k == 3 and got.n == 93
    assert got.pool.proportion == pytest.approx(ref.proportion, abs=TOL)
    assert got.pool.proportion_ci == pytest.approx(ref.proportion_ci, abs=TOL)
    assert got.pool.proportion_pi == pytest.approx(ref.proportion_pi, abs=TOL)
    row = got.sof_row()
    assert row["unit"] == "%"
    assert row["estimate"] == pytest.approx(100 * ref.proportion, abs=TOL)
    assert (row["lower"], row["upper"]) == pytest.approx(
        (100 * ref.proportion_ci[0], 100 * ref.proportion_ci[1]), abs=TOL)


def test_median_matches_pool_medians_in_months(pooled):
    got = pooled.single_arm["pfs"]
    ref = pool_medians([2.6, 81 / DAYS_PER_MONTH, 1.5],
                       [1.6, 41 / DAYS_PER_MONTH, 0.8], [2.8, 112 / DAYS_PER_MONTH, 2.6],
                       n=[59, 35, 14], labels=["a2020", "b2019", "c2021"], time_unit="months")
    assert got.measure == "median" and got.k == 3 and got.n == 108
    lm, rl = got.pool.log_median, ref.log_median
    assert (lm.median, lm.lower, lm.upper) == pytest.approx((rl.median, rl.lower, rl.upper),
                                                             abs=TOL)
    assert (lm.pi_lower, lm.pi_upper) == pytest.approx((rl.pi_lower, rl.pi_upper), abs=TOL)
    assert got.pool.time_unit == "months"
    assert any("b2019: printed in days, converted to months" in n for n in got.notes)
    assert got.sof_row()["estimate"] == pytest.approx(rl.median, abs=TOL)


def test_summary_of_findings_rows_on_the_natural_scale(pooled):
    sof = pooled.summary_of_findings().set_index("question")
    assert list(sof.index) == ["resp", "pfs"]
    assert list(sof["measure"]) == ["proportion", "median"]
    assert list(sof["unit"]) == ["%", "months"]
    assert sof["hr"].isna().all()
    resp = pooled.single_arm["resp"].pool
    assert sof.loc["resp", "predict_upper"] == pytest.approx(100 * resp.proportion_pi[1], abs=TOL)
    assert sof.loc["resp", "k"] == 3 and sof.loc["resp", "n"] == 93
    assert pooled.summary_of_findings(single_arm=False).empty
    # equal-tailed intervals only: a table of shortest intervals leaves them out
    assert pooled.summary_of_findings(interval="hdi").empty


def test_to_dict_keeps_them_through_json(pooled):
    data = json.loads(json.dumps(pooled.to_dict()))
    by_id = {r["question"]["id"]: r for r in data["single_arm"]}
    assert by_id["resp"]["measure"] == "proportion" and by_id["resp"]["k"] == 3
    assert by_id["resp"]["summary"]["estimate"] == pytest.approx(
        100 * pooled.single_arm["resp"].pool.proportion, abs=TOL)
    assert by_id["pfs"]["pool"]["time_unit"] == "months"
    assert by_id["pfs"]["question"]["measure"] == "median"


def test_one_question_by_name(registry):
    res = pool(registry, question="pfs")
    assert list(res.single_arm) == ["pfs"] and len(res) == 0


def test_nothing_to_pool_for_a_named_empty_question(registry):
    from survmeta.errors import SurvmetaError

    with pytest.raises(SurvmetaError, match="empty"):
        pool(registry, question="empty")
    assert pool_single_arm_question(registry, "empty") is None


def test_unknown_engine_is_a_clear_error(registry):
    from survmeta.errors import SurvmetaError

    with pytest.raises(SurvmetaError, match="engine must be"):
        pool_single_arm_question(registry, "resp", engine="stan")


def test_exact_engine_is_recorded(pooled):
    sa = pooled.single_arm["resp"]
    assert (sa.engine, sa.diagnostics, sa.posterior) == ("exact", Diagnostics(), None)
    assert sa.to_dict()["engine"] == "exact" and sa.to_dict()["diagnostics"] == {}


def test_summary_text(pooled):
    text = pooled.single_arm["resp"].summary()
    p = pooled.single_arm["resp"].pool
    assert text.startswith("resp (proportion; k = 3)")
    assert f"{100 * p.proportion:.1f}%" in text
    text = pooled.single_arm["pfs"].summary()
    assert "log-median (exact)" in text and "converted to months" in text


def test_effect_table_has_no_single_arm():
    """Eight schools (Rubin 1981) as an effect table: hazard-ratio pooling only."""
    import pandas as pd

    table = pd.DataFrame({"study": [f"s{i}" for i in range(8)],
                          "log_hr": np.array([28, 8, -3, 7, -1, 1, 18, 12]) / 10,
                          "se": np.array([15, 10, 16, 11, 9, 11, 10, 18]) / 10})
    res = pool(table)
    assert res.single_arm == {}
    sof = res.summary_of_findings()
    assert set(sof["measure"]) == {"hr"}
    assert np.allclose(sof["estimate"], sof["hr"]) and (sof["unit"] == "HR").all()
    assert "single_arm" not in res.to_dict()
    assert all(math.isfinite(x) for x in sof["hr"])


def test_print_summary_lists_them(pooled, capsys):
    pooled.print_summary()
    out = capsys.readouterr().out
    assert "resp (proportion; k = 3)" in out and "pfs (median; k = 3)" in out
