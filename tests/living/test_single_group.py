"""Sensitivity, diff and add for the bundled single-group questions (issue 18, item 4).

The reference numbers are direct calls of the exact engines on the reduced data
(:func:`survmeta.exact.pool_proportions`, :func:`survmeta.exact.pool_medians`), which
tests/exact/test_proportions.py and tests/exact/test_medians.py check against metafor
(tests/reference/metafor_proportions.Rout, metafor_medians.Rout). The sweep must give the
same numbers as those calls, so the tolerance is :data:`SAME`.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from survmeta._format import fmt_num, fmt_pct
from survmeta.cli import main
from survmeta.cli._output import dumps_json
from survmeta.errors import SurvmetaError
from survmeta.exact import pool_medians, pool_proportions
from survmeta.exact.medians import MU_PRIOR as MEDIAN_MU, TAU_PRIOR as MEDIAN_TAU
from survmeta.living import sensitivity
from survmeta.living.diff import (
    _p_is,
    _prob_text,
    compare_registries,
    describe_changes,
    diff_results,
)
from survmeta.living.single_sweep import SINGLE_COLUMNS, single_tau_grid
from survmeta.pooling import pool
from survmeta.results import DAYS_PER_UNIT
from survmeta.registry import load

REGISTRY = Path(__file__).resolve().parents[2] / "studies.toml"
#: The sweep and the direct call run the same arithmetic on the same data.
SAME = 1e-12
SINGLE = ["rechallenge_response", "rechallenge_pfs_median", "oligo_share_acquired"]


def _without_study(text: str, sid: str) -> str:
    blocks = re.split(r"(?m)^(?=\[\[study\]\]\n)", text)
    return "".join(b for b in blocks if f'\nid = "{sid}"\n' not in b)


@pytest.fixture(scope="module")
def registry():
    return load(REGISTRY)


@pytest.fixture(scope="module")
def proportion_table():
    return sensitivity(REGISTRY, "rechallenge_response")


@pytest.fixture(scope="module")
def median_table():
    return sensitivity(REGISTRY, "rechallenge_pfs_median")


def _close(row, est, lo, hi, tau, tau_lo, tau_hi):
    got = [row.estimate, row.lower, row.upper, row.tau, row.tau_lower, row.tau_upper]
    want = [est, lo, hi, tau, tau_lo, tau_hi]
    assert got == pytest.approx(want, rel=SAME, abs=SAME)


# ---------------------------------------------------------------------------
# sensitivity
# ---------------------------------------------------------------------------
def test_proportion_leave_one_out_equals_direct_pooling(registry, proportion_table):
    outs = registry.outcomes("rechallenge_response")
    keys = [f"{o.study_id}/{o.id}" for o in outs]
    loo = proportion_table[proportion_table.analysis == "leave-one-out"]
    assert list(loo["study"]) == keys and (loo["k"] == len(outs) - 1).all()
    assert (proportion_table["measure"] == "proportion").all()
    assert (proportion_table["unit"] == "%").all()
    for i, row in enumerate(loo.itertuples()):
        keep = [o for j, o in enumerate(outs) if j != i]
        p = pool_proportions([o.events for o in keep], [o.n for o in keep],
                             labels=[o.study_id for o in keep], companions=False)
        _close(row, 100 * p.proportion, 100 * p.proportion_ci[0], 100 * p.proportion_ci[1],
               p.tau_median, *p.tau_ci)


def test_proportion_base_is_the_pooled_answer(proportion_table):
    base = proportion_table[proportion_table.analysis == "base"].iloc[0]
    sa = pool(REGISTRY, question="rechallenge_response").single_arm["rechallenge_response"]
    row = sa.sof_row()
    assert (base.estimate, base.lower, base.upper) == pytest.approx(
        (row["estimate"], row["lower"], row["upper"]), rel=SAME)
    assert f"{base.estimate:.1f} [{base.lower:.1f}, {base.upper:.1f}]" == "9.7 [2.8, 26.8]"


def test_proportion_prior_rows_use_the_scaled_grid(registry, proportion_table):
    grid = single_tau_grid("proportion")
    assert grid == ("halfnormal(0.5)", "halfnormal(1)", "halfnormal(2)", "halfcauchy(1)")
    pri = proportion_table[proportion_table.analysis == "prior"]
    assert list(pri["tau_prior"]) == [t for t in grid if t != "halfnormal(1)"]
    outs = registry.outcomes("rechallenge_response")
    row = pri.iloc[1]
    p = pool_proportions([o.events for o in outs], [o.n for o in outs], tau_prior=row.tau_prior,
                         companions=False)
    _close(row, 100 * p.proportion, 100 * p.proportion_ci[0], 100 * p.proportion_ci[1],
           p.tau_median, *p.tau_ci)


def test_median_leave_one_out_equals_direct_pooling(registry, median_table):
    outs = registry.outcomes("rechallenge_pfs_median")
    assert {o.ci_level for o in outs} == {0.95} and all(o.ci is not None for o in outs)
    loo = median_table[median_table.analysis == "leave-one-out"]
    assert (median_table["unit"] == "months").all() and len(loo) == len(outs)

    def months(o, v):  # as survmeta pool: 365.25 / 12 days per month
        return float(v) * DAYS_PER_UNIT[o.unit] / DAYS_PER_UNIT["months"]
    for i, row in enumerate(loo.itertuples()):
        keep = [o for j, o in enumerate(outs) if j != i]
        res = pool_medians([months(o, o.median) for o in keep], [months(o, o.ci[0]) for o in keep],
                           [months(o, o.ci[1]) for o in keep], n=[o.n for o in keep],
                           labels=[f"{o.study_id}/{o.id}" for o in keep])
        lm = res.log_median
        assert row.study == f"{outs[i].study_id}/{outs[i].id}"
        _close(row, lm.median, lm.lower, lm.upper, lm.tau, lm.tau_lower, lm.tau_upper)
        assert (row.tau_prior, row.mu_prior) == (MEDIAN_TAU, MEDIAN_MU)


def test_median_prior_grid_is_the_hr_grid():
    assert single_tau_grid("median") == ("halfnormal(0.25)", "halfnormal(0.5)", "halfnormal(1)",
                                         "halfcauchy(0.5)")


def test_too_few_studies_for_leave_one_out(tmp_path, capsys):
    reg = tmp_path / "studies.toml"
    reg.write_text(_without_study(REGISTRY.read_text(encoding="utf-8"), "hosoya2021"),
                   encoding="utf-8")
    with pytest.raises(SurvmetaError, match="at least 2 pooled series, it has 1"):
        sensitivity(reg, "oligo_share_acquired", priors=False)
    assert main(["sensitivity", str(reg), "--question", "oligo_share_acquired", "--loo"]) == 2
    err = capsys.readouterr().err
    assert "leave-one-out needs at least 2" in err and "Traceback" not in err


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_cli_sensitivity_shapes(fmt, capsys):
    assert main(["sensitivity", str(REGISTRY), "--question", "oligo_share_acquired",
                 "--format", fmt]) == 0
    out = capsys.readouterr().out
    df = pd.DataFrame(json.loads(out)) if fmt == "json" else pd.read_csv(io.StringIO(out))
    assert list(df.columns) == list(SINGLE_COLUMNS)
    assert list(df["analysis"]) == ["base", "leave-one-out", "leave-one-out", "prior", "prior",
                                    "prior"]
    assert set(df["measure"]) == {"proportion"} and set(df["unit"]) == {"%"}


def test_cli_sensitivity_text_names_measure_and_unit(capsys):
    assert main(["sensitivity", str(REGISTRY), "--question", "oligo_share_acquired",
                 "--priors"]) == 0
    out = capsys.readouterr().out
    assert "pooled proportion (percent)" in out and "tau on the logit scale" in out
    assert "leave-one-out" not in out


def test_cli_sensitivity_refuses_hr_only_analyses(capsys):
    assert main(["sensitivity", str(REGISTRY), "--question", "oligo_share_acquired",
                 "--cumulative"]) == 2
    err = capsys.readouterr().err
    assert "--cumulative" in err and "single-group" in err and "Traceback" not in err


# ---------------------------------------------------------------------------
# diff
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    """The bundled registry without wang2025 (old) and as it is (new)."""
    old_path = tmp_path_factory.mktemp("diff") / "old.toml"
    old_path.write_text(_without_study(REGISTRY.read_text(encoding="utf-8"), "wang2025"),
                        encoding="utf-8")
    old_reg, new_reg = load(old_path), load(REGISTRY)
    old = pool(old_reg, question=SINGLE)
    new = pool(new_reg, question=SINGLE)
    return old, new, compare_registries(old_reg, new_reg)


def _value(sa) -> str:
    r = sa.sof_row()
    if sa.measure == "proportion":
        return f"{fmt_pct(r['estimate'])} [{fmt_pct(r['lower'], sign=False)}, " \
               f"{fmt_pct(r['upper'], sign=False)}]"
    return f"{fmt_num(r['estimate'], 1)} [{fmt_num(r['lower'], 1)}, {fmt_num(r['upper'], 1)}]"


def test_diff_sentences_registry(two_versions):
    old, new, changes = two_versions
    table = diff_results(old, new, changes)
    words = dict(zip(table["question"], describe_changes(table)))
    q = "rechallenge_response"
    a, b = old.single_arm[q], new.single_arm[q]
    row = table.set_index("question").loc[q]
    assert row.measure == "proportion" and row.unit == "%"
    assert row.est_new == b.sof_row()["estimate"]
    assert words[q] == (f"{q}: 1 outcome added (wang2025/response_rechallenge); pooled proportion "
                        f"went from {_value(a)} to {_value(b)} (k 5 -> 6); tau went from "
                        f"{fmt_num(a.sof_row()['tau'])} to {fmt_num(b.sof_row()['tau'])}")
    assert _value(b) == "9.7% [2.8, 26.8]"
    q = "rechallenge_pfs_median"
    a, b = old.single_arm[q], new.single_arm[q]
    assert (f"pooled median went from {_value(a)} to {_value(b)} months (k 6 -> 7)") in words[q]
    assert words["oligo_share_acquired"] == (
        f"oligo_share_acquired: unchanged: pooled proportion "
        f"{_value(new.single_arm['oligo_share_acquired'])}, k = 2")


def test_diff_table_numbers(two_versions):
    old, new, changes = two_versions
    table = diff_results(old, new, changes).set_index("question")
    for q in SINGLE:
        r = table.loc[q]
        for side, res in (("old", old.single_arm[q]), ("new", new.single_arm[q])):
            sof = res.sof_row()
            assert (r[f"est_{side}"], r[f"est_{side}_lower"], r[f"est_{side}_upper"],
                    r[f"tau_{side}"]) == (sof["estimate"], sof["lower"], sof["upper"], sof["tau"])
        assert pd.isna(r["hr_new"]) and pd.isna(r["p_new"])


def test_diff_question_added_and_removed(two_versions):
    old, new, _ = two_versions
    o, n = old.to_dict(), new.to_dict()
    o["single_arm"] = [b for b in o["single_arm"] if b["question"]["id"] != "oligo_share_acquired"]
    words = describe_changes(o, n)
    added = next(w for w in words if w.startswith("oligo_share_acquired"))
    assert added.startswith(f"oligo_share_acquired: new question: pooled proportion "
                            f"{_value(new.single_arm['oligo_share_acquired'])} (95% interval) "
                            "from 2 outcomes")
    removed = next(w for w in describe_changes(n, o) if w.startswith("oligo_share_acquired"))
    assert removed == (f"oligo_share_acquired: no longer pooled (was pooled proportion "
                       f"{_value(new.single_arm['oligo_share_acquired'])}, k = 2); 2 outcomes "
                       "removed (heo2021/oligo_share_ar; hosoya2021/oligo_share_ar)")


def test_diff_saved_json_files(two_versions, tmp_path, capsys):
    old, new, _ = two_versions
    a, b = tmp_path / "old.json", tmp_path / "new.json"
    a.write_text(dumps_json(old.to_dict()), encoding="utf-8")
    b.write_text(dumps_json(new.to_dict()), encoding="utf-8")
    assert main(["diff", str(a), str(b), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    q = "rechallenge_response"
    want = (f"{q}: 1 outcome added (wang2025/response_rechallenge); pooled proportion went from "
            f"{_value(old.single_arm[q])} to {_value(new.single_arm[q])} (k 5 -> 6)")
    assert any(s.startswith(want) for s in out["changes"])
    assert {r["question"]: r["measure"] for r in out["questions"]}["rechallenge_pfs_median"] \
        == "median"
    assert main(["diff", str(a), str(b), "--format", "csv"]) == 0
    csv = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(csv["question"]) == SINGLE and "est_new" in csv.columns
    assert main(["diff", str(a), str(b)]) == 0
    assert "pooled median went from" in capsys.readouterr().out


def test_hr_probabilities_never_print_as_one():
    assert _p_is(0.9957) == "> 0.99" and _p_is(0.004) == "< 0.01" and _p_is(0.9) == "= 0.90"
    assert _prob_text(0.9996, 0.98) == (">0.999", "0.980")
    assert _prob_text(0.99, 0.97) == ("0.99", "0.97")


# ---------------------------------------------------------------------------
# add
# ---------------------------------------------------------------------------
def test_add_names_single_group_outcomes(tmp_path, capsys):
    text = REGISTRY.read_text(encoding="utf-8")
    reg = tmp_path / "studies.toml"
    reg.write_text(_without_study(text, "wang2025"), encoding="utf-8")
    block = next(b for b in re.split(r"(?m)^(?=\[\[study\]\]\n)", text)
                 if '\nid = "wang2025"\n' in b)
    src = tmp_path / "wang.toml"
    src.write_text(block, encoding="utf-8")
    assert main(["add", str(reg), "--from", str(src)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == (f"{reg}: added study wang2025 with 2 single-group outcomes "
                           "(wang2025/response_rechallenge, wang2025/pfs_rechallenge)")
