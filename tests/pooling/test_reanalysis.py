"""PoolResult.leave1out() and PoolResult.cumul(): each row equals pooling that subset directly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from survmeta.errors import SurvmetaError
from survmeta.living.reanalysis import Reanalysis
from survmeta.pooling import pool, pool_question

STUDIES = Path(__file__).resolve().parents[2] / "studies.toml"
QUESTION = "oligo_vs_systemic"
# The refit and the direct fit run the same deterministic exact engine with the same seed.
TOL = 1e-12


@pytest.fixture(scope="module")
def result():
    return pool(STUDIES, question=QUESTION)[QUESTION]


def _direct(result, rows):
    base = result.effects.drop(columns=["theta_mean", "theta_lower", "theta_upper", "weight"])
    return pool_question(base.iloc[rows].reset_index(drop=True), result.question,
                         tau_prior=result.priors["tau"], mu_prior=result.priors["mu"],
                         level=result.level, seed=result.seed)


def _same(row, fit):
    np.testing.assert_allclose(
        [row.hr, row.hr_lower, row.hr_upper, row.tau, row.p_hr_below_1],
        [fit.stats["hr"].median, *fit.stats["hr"].eti.as_tuple(), fit.stats["tau"].median,
         fit.p_hr_below_1], rtol=TOL, atol=TOL)
    assert row.k == fit.k


def test_leave1out_equals_pooling_each_subset(result):
    loo = result.leave1out()
    assert isinstance(loo, Reanalysis) and loo.kind == "leave-one-out"
    assert [r.study for r in loo.rows] == list(result.effects["key"])
    for i, row in enumerate(loo.rows):
        _same(row, _direct(result, [j for j in range(result.k) if j != i]))


def test_cumul_by_year_equals_pooling_each_prefix(result):
    cum = result.cumul()
    years = result.effects["year"].astype(float).to_numpy()
    order = np.argsort(years, kind="stable")
    assert [r.study for r in cum.rows] == list(result.effects["key"].iloc[order])
    for n, row in enumerate(cum.rows, start=1):
        _same(row, _direct(result, list(order[:n])))


def test_cumul_in_a_given_order(result):
    keys = list(result.effects["key"])[::-1]
    cum = result.cumul(order=keys)
    assert [r.study for r in cum.rows] == keys
    _same(cum.rows[0], _direct(result, [result.k - 1]))
    with pytest.raises(SurvmetaError, match="not a pooled comparison"):
        result.cumul(order=["nobody"])
    with pytest.raises(SurvmetaError, match="every pooled comparison once"):
        result.cumul(order=keys[:1])


def test_frame_summary_dict(result):
    loo = result.leave1out()
    frame = loo.to_frame()
    assert len(frame) == result.k and frame.attrs["level"] == result.level
    assert frame["hr"].tolist() == [r.hr for r in loo.rows]
    text = loo.summary()
    assert "HR [95% CrI]" in text.columns and "P(HR<1)" in text.columns
    assert not any(v in ("1.000", "0.000") for v in text["P(HR<1)"])
    d = json.loads(json.dumps(loo.to_dict()))
    assert d["kind"] == "leave-one-out" and len(d["rows"]) == result.k
    with pytest.raises(AttributeError):
        loo.kind = "cumulative"  # type: ignore[misc]


def test_one_comparison_has_no_leave_one_out(result):
    one = _direct(result, [0])
    with pytest.raises(SurvmetaError, match="at least two"):
        one.leave1out()
    assert len(one.cumul().rows) == 1
