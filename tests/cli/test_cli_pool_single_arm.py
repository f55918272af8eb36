"""``survmeta pool`` / ``check`` / ``list`` with the bundled single-group questions (issue 18).

The pooled numbers printed are those of :func:`survmeta.pooling.pool` (which calls
:func:`survmeta.exact.pool_proportions` / :func:`survmeta.exact.pool_medians`; see
tests/pooling/test_single_arm_pool.py).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from survmeta.cli import main
from survmeta.pooling import pool

REGISTRY = Path(__file__).resolve().parents[2] / "studies.toml"
QUESTIONS = ["rechallenge_response", "rechallenge_pfs_median", "oligo_share_acquired"]
#: CSV and JSON carry the full floats.
TOL = 1e-9


@pytest.fixture(scope="module")
def direct():
    return pool(REGISTRY, question=QUESTIONS)


def _args(fmt):
    out = ["pool", str(REGISTRY), "--format", fmt]
    for q in QUESTIONS:
        out += ["--question", q]
    return out


def test_text_shows_the_single_group_table(direct, capsys):
    assert main(_args("table")) == 0
    out = capsys.readouterr().out
    assert "Single-group questions" in out
    for q in QUESTIONS:
        row = direct.single_arm[q].sof_row()
        line = next(x for x in out.splitlines() if x.startswith(q + " "))
        assert f"{row['estimate']:.1f}" in line
        assert f"[{row['lower']:.1f}, {row['upper']:.1f}]" in line
        assert row["unit"] in line
    assert "converted to months" in out
    # --question implies the detail: the companions are printed too
    assert "GLMM (ML), logit" in out and "log-median (REML)" in out


def test_json_has_the_pools(direct, capsys):
    assert main(_args("json")) == 0
    data = json.loads(capsys.readouterr().out)
    got = {r["question"]["id"]: r for r in data["single_arm"]}
    assert list(got) == QUESTIONS
    p = direct.single_arm["rechallenge_response"].pool
    assert got["rechallenge_response"]["summary"]["estimate"] == pytest.approx(
        100 * p.proportion, abs=TOL)
    assert got["rechallenge_response"]["k"] == 6
    assert got["rechallenge_pfs_median"]["k"] == 7


def test_csv_has_one_row_per_question(direct, capsys):
    assert main(_args("csv")) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("question")
    assert list(frame.index) == QUESTIONS
    lm = direct.single_arm["rechallenge_pfs_median"].pool.log_median
    assert frame.loc["rechallenge_pfs_median", "estimate"] == pytest.approx(lm.median, abs=TOL)
    assert frame.loc["rechallenge_pfs_median", "unit"] == "months"
    assert frame.loc["oligo_share_acquired", "n"] == 109


def test_check_and_list_count_outcomes(capsys):
    assert main(["check", str(REGISTRY)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "15 single-group outcomes" in first
    assert first.endswith("rechallenge_response 6, rechallenge_pfs_median 7, "
                          "oligo_share_acquired 2")
    assert main(["list", str(REGISTRY)]) == 0
    out = capsys.readouterr().out
    assert ("15 single-group outcome(s), not listed above: oligo_share_acquired 2, "
            "rechallenge_pfs_median 7, rechallenge_response 6") in out
