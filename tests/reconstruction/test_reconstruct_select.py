"""The selector, the effect table, the calibration and the CLI.

Expected numbers are closed forms (see test_reconstruct_methods.py); the
table's 95% interval uses Phi^{-1}(0.975) = 1.959964 (normal table).
Tolerance ``EXACT = 1e-9`` (same arithmetic), ``TABLE = 1e-6``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import pytest
from recbuild import comparison, pval

from survmeta.errors import SurvmetaError
from survmeta.reconstruction import COLUMNS, DEFAULT_ORDER, METHODS, estimate_comparison, explain, reconstruct
from survmeta.reconstruction import calibration as cal_mod
from survmeta.reconstruction import select as sel_mod
from survmeta.reconstruction.calibration import MethodCalibration, load_calibration
from survmeta.registry.records import NR, Arm, Question, Registry, ReportedHR, Study

EXACT = 1e-9
TABLE = 1e-6
ROOT = Path(__file__).resolve().parents[2]


def rich(**kw):
    """HR + CI, p, events and medians with CIs: many methods apply."""
    e = Arm("e", n=100, events=40, median=12.0, ci=(8.0, 18.0))
    r = Arm("r", n=100, events=55, median=8.0, ci=(6.0, 11.0))
    return comparison(e, r, hr=ReportedHR(0.7, ci=(0.5, 0.98)), p=pval("0.04"), **kw)


def registry(*comps, questions=("q1",)):
    study = Study(id="s1", citation="Doe J, Roe R. J Test. 2020;1:1.", year=2020,
                  design="rct", population="test", comparisons=tuple(comps))
    qs = tuple(Question(id=q, title=f"question {q}", experimental="E", reference="R",
                        outcome="OS") for q in questions)
    return Registry(schema_version=1, questions=qs, studies=(study,))


@pytest.fixture
def no_calibration(monkeypatch):
    monkeypatch.setattr(sel_mod, "load_calibration", lambda: {})


# -- order and forcing ------------------------------------------------------------


def test_default_order_prefers_reported_hr_and_keeps_alternatives(no_calibration):
    s = estimate_comparison(rich())
    assert s.chosen.method == "hr_ci"
    alt = {a["method"] for a in s.alternatives}
    assert {"hr_p", "p_events", "median_ratio_ci", "median_ratio_events", "median_ratio_p",
            "p_patients"} <= alt
    assert "hr_ci" not in alt


def test_method_order_overrides_default(no_calibration):
    s = estimate_comparison(rich(), method_order="median_ratio_ci,hr_ci")
    assert s.chosen.method == "median_ratio_ci"


def test_registry_method_forces_and_global_force_wins(no_calibration):
    c = rich(method="p_events")
    assert estimate_comparison(c).chosen.method == "p_events"
    assert estimate_comparison(c, force="median_ratio_events").chosen.method == "median_ratio_events"


def test_forced_method_that_does_not_apply_gives_no_estimate(no_calibration):
    s = estimate_comparison(rich(), force="logrank_oe")
    assert s.chosen is None
    assert "forced method logrank_oe does not apply" in s.reason


@pytest.mark.parametrize("kw", [dict(method_order="hr_ci,bogus"), dict(force="bogus")])
def test_unknown_method_ids_list_the_known_ones(kw, no_calibration):
    with pytest.raises(SurvmetaError, match="known methods: " + ", ".join(METHODS)):
        estimate_comparison(rich(), **kw)


def test_unknown_registry_method_names_the_comparison(no_calibration):
    with pytest.raises(SurvmetaError, match="comparison s1/c1"):
        estimate_comparison(rich(method="bogus"))


def test_p_patients_is_never_chosen_by_default(no_calibration):
    """Only p, direction and group sizes: the joint model is chosen (V from the group sizes and
    an event fraction); p_patients applies but is not used, even in the order without the joint
    model."""
    c = comparison(Arm("e", n=80), Arm("r", n=70), p=pval("0.01"),
                   direction="favours experimental")
    assert estimate_comparison(c).chosen.method == "joint"
    s = estimate_comparison(c, method_order=[m for m in DEFAULT_ORDER if m != "joint"])
    assert s.chosen is None
    assert "p_patients" in s.reason and "lower bound" in s.reason
    assert [a["method"] for a in s.alternatives] == ["joint", "p_patients"]
    asked = estimate_comparison(c, method_order=[m for m in METHODS if m != "joint"])
    assert asked.chosen.method == "p_patients"
    assert "se_lower_bound" in asked.chosen.flags


def test_ns_gives_a_reason_not_an_estimate(no_calibration):
    c = comparison(Arm("e", events=30), Arm("r", events=40), p=pval("NS"))
    s = estimate_comparison(c)
    assert s.chosen is None and "not significant" in s.reason


def test_median_nr_reason(no_calibration):
    c = comparison(Arm("e", median=NR, ci=(9.0, NR)), Arm("r", median=8.0, ci=(6.0, 11.0)))
    s = estimate_comparison(c)
    assert s.chosen is None and "not reached" in s.reason


# -- the effect table ----------------------------------------------------------------


def test_columns_are_those_of_the_architecture_contract(no_calibration):
    doc = (ROOT / "docs" / "architecture.md").read_text()
    section = doc.split("### Effect table", 1)[1].split("###", 1)[0]
    documented = []
    for line in section.splitlines():
        if line.startswith("| `"):
            documented += re.findall(r"`([a-z_]+)`", line.split("|")[1])
    df = reconstruct(registry(rich()))
    assert list(df.columns) == list(COLUMNS)
    assert set(documented) == set(COLUMNS)


def test_row_numbers(no_calibration):
    df = reconstruct(registry(rich()))
    row = df.iloc[0]
    assert row["method"] == "hr_ci" and bool(row["poolable"])
    se = (math.log(0.98) - math.log(0.5)) / (2 * 1.959964)
    assert row["se"] == pytest.approx(se, abs=TABLE)
    assert row["se_extra"] == 0.0 and row["se_sampling"] == row["se"]
    assert row["hr_lower"] == pytest.approx(math.exp(math.log(0.7) - 1.959964 * row["se"]), abs=EXACT)
    assert row["hr_upper"] == pytest.approx(math.exp(math.log(0.7) + 1.959964 * row["se"]), abs=EXACT)
    assert row["n"] == 200.0 and row["key"] == "s1/c1"
    assert not row["approximate"]


def test_p_bound_row_is_recorded(no_calibration):
    c = comparison(hr=ReportedHR(0.5), p=pval("<0.001"))
    row = reconstruct(registry(c)).iloc[0]
    assert row["method"] == "hr_p"
    assert {"p_bound", "conservative"} <= set(row["flags"])
    assert row["p_relation"] == "<" and row["p_bound"] == 0.001


def test_status_not_poolable_keeps_nan_reason_and_alternatives(no_calibration):
    c = rich(status="not poolable: three-group p-value")
    row = reconstruct(registry(c)).iloc[0]
    assert not row["poolable"]
    assert math.isnan(row["log_hr"]) and math.isnan(row["se"])
    assert row["reason"] == "not poolable: three-group p-value"
    assert "hr_ci" in {a["method"] for a in row["alternatives"]}


def test_subgroups_are_rows_with_parent_and_question_filter(no_calibration):
    parent = rich(id="all")
    sub = rich(id="sub", subgroup_of="all", question="q2")
    df = reconstruct(registry(parent, sub, questions=("q1", "q2")))
    assert list(df["comparison"]) == ["all", "sub"]
    assert df.iloc[1]["subgroup_of"] == "all"
    only = reconstruct(registry(parent, sub, questions=("q1", "q2")), question="q2")
    assert list(only["comparison"]) == ["sub"]
    with pytest.raises(SurvmetaError, match="known questions: q1, q2"):
        reconstruct(registry(parent, questions=("q1", "q2")), question="q3")


# -- calibration -----------------------------------------------------------------------


def test_calibrated_extra_sd_is_added_in_quadrature(monkeypatch):
    cal = {"median_ratio_ci": MethodCalibration("median_ratio_ci", 0.2, 25, "validation set")}
    monkeypatch.setattr(sel_mod, "load_calibration", lambda: cal)
    c = rich(method="median_ratio_ci")
    row = reconstruct(registry(c)).iloc[0]
    assert row["se_extra"] == 0.2
    assert row["se"] == pytest.approx(math.hypot(row["se_sampling"], 0.2), abs=EXACT)
    assert "uncalibrated" not in row["flags"] and row["approximate"]
    # the reported HR is exact: no extra error whatever the calibration says
    assert reconstruct(registry(rich())).iloc[0]["se_extra"] == 0.0


def test_uncalibrated_approximate_method_is_flagged(no_calibration):
    row = reconstruct(registry(rich(method="median_ratio_ci"))).iloc[0]
    assert row["se_extra"] == 0.0 and "uncalibrated" in row["flags"]


def test_calibration_file_missing_and_malformed(tmp_path):
    assert load_calibration(tmp_path / "none.json") == {}
    good = tmp_path / "cal.json"
    good.write_text(json.dumps({"methods": {"p_events": {"extra_sd": 0.1, "n": 20, "source": "x"}},
                                "generated_by": "test", "date": "2025-01-01"}))
    assert load_calibration(good)["p_events"].extra_sd == 0.1
    bad = tmp_path / "bad.json"
    bad.write_text('{"methods": {"p_events": {"extra_sd": -1}}}')
    with pytest.raises(SurvmetaError, match="extra_sd"):
        load_calibration(bad)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(SurvmetaError, match="invalid JSON"):
        load_calibration(broken)
    assert cal_mod.CALIBRATION_PATH.name == "calibration.json"


# -- explain ------------------------------------------------------------------------------


def test_explain_lists_inputs_candidates_choice_and_paragraph(no_calibration, monkeypatch):
    monkeypatch.setattr("survmeta.reconstruction.select.load_calibration", lambda: {})
    c = rich(quote="HR 0.70 (95% CI 0.50-0.98)", location="Table 2")
    text = explain(registry(c), "s1/c1")
    assert '"HR 0.70 (95% CI 0.50-0.98)"' in text and "Table 2" in text
    for m in METHODS:
        assert f" {m}: " in text
    assert "Choice: hr_ci" in text
    assert "For a methods section:" in text and "Parmar" in text
    assert "lower bound" in text  # why p_patients is not used


def test_explain_unknown_key_suggests_close_keys(no_calibration):
    with pytest.raises(SurvmetaError, match="did you mean: s1/c1"):
        explain(registry(rich()), "s1/c2")


def test_explain_median_methods_cite_michiels(no_calibration):
    text = explain(registry(rich(method="median_ratio_ci")), "s1/c1")
    assert "Michiels" in text and "exponential" in text


# -- CLI on the bundled registry -----------------------------------------------------------

STUDIES = ROOT / "studies.toml"


def _load_seed():
    if not STUDIES.exists():
        pytest.skip("studies.toml not present yet")
    try:
        from survmeta.registry import load_registry
    except ImportError:
        pytest.skip("survmeta.registry.load_registry not present yet")
    return load_registry(STUDIES)


def test_every_seed_comparison_reconstructs_or_says_why():
    reg = _load_seed()
    df = reconstruct(reg)
    assert len(df) == len(reg.comparisons()) > 0
    for _, row in df.iterrows():
        if row["poolable"]:
            assert math.isfinite(row["log_hr"]) and row["se"] > 0, row["key"]
            assert row["method"] in METHODS
        else:
            assert isinstance(row["reason"], str) and row["reason"], row["key"]
            assert math.isnan(row["log_hr"])
    assert df["poolable"].any()
    assert "p_patients" not in set(df["method"].dropna())


def test_cli_reconstruct_and_explain(capsys):
    _load_seed()
    from survmeta.cli import main

    assert main(["reconstruct", str(STUDIES), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {"study", "comparison", "log_hr", "se", "hr", "hr_lower", "hr_upper",
                     "method", "flags", "alternatives", "reason"} <= set(rows[0])
    assert main(["reconstruct", str(STUDIES)]) == 0
    out = capsys.readouterr().out
    assert "not poolable" in out
    assert main(["reconstruct", str(STUDIES), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("study,comparison,question,endpoint,log_hr")
    key = rows[0]["study"] + "/" + rows[0]["comparison"]
    assert main(["explain", str(STUDIES), key]) == 0
    assert "For a methods section:" in capsys.readouterr().out
    assert main(["explain", str(STUDIES), key + "x"]) == 2
    assert "did you mean" in capsys.readouterr().err
    assert main(["reconstruct", str(STUDIES), "--method-order", "hr_ci,nope"]) == 2
    assert "known methods" in capsys.readouterr().err


def test_registry_forced_method_reaches_the_table(no_calibration):
    c = dataclasses.replace(rich(), method="median_ratio_events")
    assert reconstruct(registry(c)).iloc[0]["method"] == "median_ratio_events"


def test_survmeta_reconstruct_is_the_function_after_the_subpackage_is_imported(no_calibration):
    """``import survmeta.reconstruction`` leaves ``survmeta.reconstruct`` the function."""
    import survmeta
    import survmeta.reconstruction  # noqa: F401

    df = survmeta.reconstruct(registry(rich()))
    assert list(df.columns) == list(COLUMNS)
    assert df.iloc[0]["method"] == "hr_ci"


# -- short reasons ------------------------------------------------------------------------------


def test_only_p_and_direction_gives_a_short_reason(no_calibration):
    """As zhou2023/os_lung_progression: a p-value and a direction, nothing for an SE."""
    c = comparison(p=pval("0.0041"), direction="favours reference")
    s = estimate_comparison(c)
    assert s.chosen is None
    assert s.reason == ("no estimate: only a p-value and a direction are reported; an SE needs "
                        "events per arm, total events, both medians or an HR")
    # the per-method detail stays in explain
    text = explain(registry(c), "s1/c1")
    assert "events per arm not reported" in text and "total events not reported" in text


@pytest.mark.parametrize("kw, expected", [
    (dict(), "no estimate: nothing usable is reported (no HR, p-value, events or medians)"),
    (dict(hr=ReportedHR(0.7)),
     "no estimate: only an HR without a CI or p-value is reported; an SE for the HR needs its CI "
     "or a p-value"),
    (dict(experimental=Arm("e", median=12.0), reference=Arm("r", median=8.0)),
     "no estimate: only both medians are reported; an SE for the ratio of medians needs their "
     "CIs, events per arm or a p-value"),
])
def test_short_reason_says_what_is_reported(no_calibration, kw, expected):
    assert estimate_comparison(comparison(**kw)).reason == expected


def test_seed_reasons_are_short():
    reg = _load_seed()
    df = reconstruct(reg)
    for reason in df.loc[~df["poolable"], "reason"]:
        assert len(reason) <= 250, reason


# -- calibration by family -----------------------------------------------------------------------


def test_bundled_calibration_is_per_family():
    cal = load_calibration()
    from survmeta.reconstruction.methods import FAMILIES

    for family, members in FAMILIES.items():
        entries = [cal[m] for m in members if m in cal]
        if not entries:
            continue
        assert len(entries) == len(members), f"{family}: only some members calibrated"
        assert len({(e.extra_sd, e.n) for e in entries}) == 1, family
        assert {e.family for e in entries} == {family}


def test_median_ratio_events_gets_the_family_extra_sd():
    """The three median-ratio methods share log(m_r/m_e), so they get one extra SD."""
    cal = load_calibration()
    values = {m: cal[m].extra_sd for m in ("median_ratio_ci", "median_ratio_events", "median_ratio_p")}
    assert len(set(values.values())) == 1
    s = estimate_comparison(rich(method="median_ratio_events"))
    assert s.calibrated and s.se_extra == values["median_ratio_events"]
    assert s.se == pytest.approx(math.hypot(math.sqrt(1 / 40 + 1 / 55), s.se_extra), abs=EXACT)


def test_calibration_family_field_is_read(tmp_path):
    path = tmp_path / "cal.json"
    path.write_text(json.dumps({"methods": {"p_events": {"extra_sd": 0.1, "n": 20, "source": "x",
                                                         "family": "p_value_events"}}}))
    assert load_calibration(path)["p_events"].family == "p_value_events"
    path.write_text(json.dumps({"methods": {"p_events": {"extra_sd": 0.1, "family": 3}}}))
    with pytest.raises(SurvmetaError, match="family"):
        load_calibration(path)


def test_uncalibrated_family_is_flagged(monkeypatch):
    """A family left out of the file (fewer than MIN_ROWS validation rows): no extra SD, flagged."""
    cal = {m: MethodCalibration(m, 0.125, 21, "x", "median_ratio")
           for m in ("median_ratio_ci", "median_ratio_events", "median_ratio_p")}
    monkeypatch.setattr(sel_mod, "load_calibration", lambda: cal)
    row = reconstruct(registry(rich(method="p_events"))).iloc[0]
    assert row["se_extra"] == 0.0 and "uncalibrated" in row["flags"]
    row = reconstruct(registry(rich(method="median_ratio_events"))).iloc[0]
    assert row["se_extra"] == 0.125 and "uncalibrated" not in row["flags"]


# -- explain: short citation and large p -----------------------------------------------------


def _one_study_registry(c, citation, sid="s1", year=2025):
    study = Study(id=sid, citation=citation, year=year, design="retrospective cohort",
                  population="test", comparisons=(dataclasses.replace(c, study_id=sid),))
    q = Question(id="q1", title="question q1", experimental="E", reference="R", outcome="PFS")
    return Registry(schema_version=1, questions=(q,), studies=(study,))


def test_explain_citation_without_authors_uses_the_study_id(no_calibration):
    """ALK-TKI 2025's citation names a topic: no "Immunotherapy after ... et al."."""
    c = comparison(Arm("immunotherapy", median=5.3), Arm("non-immunotherapy", median=2.5),
                   p=pval("0.009"), endpoint="PFS")
    reg = _one_study_registry(c, "Immunotherapy after ALK-TKI resistance in ALK-rearranged NSCLC, "
                                 "stratified by PD-L1 expression. Transl Lung Cancer Res. 2025;14(6):"
                                 "2197-2209.", sid="alk_tki2025")
    text = explain(reg, "alk_tki2025/c1")
    assert "For alk_tki2025 (2025), PFS, immunotherapy vs non-immunotherapy," in text
    assert "Immunotherapy after ALK-TKI resistance in ALK-rearranged NSCLC et al." not in text
    assert " et al. (2025)" not in text


def test_explain_citation_with_authors_uses_the_first_surname(no_calibration):
    text = explain(registry(rich()), "s1/c1")   # citation "Doe J, Roe R. J Test. 2020;1:1."
    assert "For Doe et al. (2020), OS, e vs r," in text


def test_explain_shows_the_large_p_warning(no_calibration):
    """ALK-TKI 2025, PD-L1 negative: medians 1.5 vs 2.9 months, P = 0.68."""
    c = comparison(Arm("immunotherapy", median=1.5), Arm("non-immunotherapy", median=2.9),
                   p=pval("0.68"))
    text = explain(registry(c), "s1/c1")
    assert "Choice: median_ratio_p" in text
    assert "[unstable_large_p]" in text
    assert "Warnings: p = 0.68 is large (two-sided p > 0.3, z = 0.41 < 1.04)" in text
    assert "The p-value was large (p = 0.68, z = 0.41)" in text
    row = reconstruct(registry(c)).iloc[0]
    assert "unstable_large_p" in row["flags"]


def test_forced_median_ratio_p_with_only_the_adjusted_hr_p_is_refused(no_calibration):
    """The user review's reproduction: zhou2023/pfs1_pdl1_high --force median_ratio_p."""
    reg = _load_seed()
    text = explain(reg, "zhou2023/pfs1_pdl1_high", force="median_ratio_p")
    assert ("Choice: none. Forced method median_ratio_p does not apply: only the HR's own p-value "
            "is reported (hr.p = 0.04), a test of an adjusted Cox model") in text
    row = reconstruct(reg, force="median_ratio_p").set_index("key").loc["zhou2023/pfs1_pdl1_high"]
    assert not row["poolable"] and "hr.p = 0.04" in row["reason"]


def test_approximate_is_a_boolean_column():
    """``effects.approximate`` is a bool column: False for rows without an estimate, and an
    effects CSV's words (true/false, 1/0) become booleans."""
    import pandas as pd

    from survmeta.pooling import effect_table

    effects, _ = effect_table(Path(__file__).resolve().parents[2] / "studies.toml")
    assert effects["approximate"].dtype == bool
    assert not effects.loc[effects["log_hr"].isna(), "approximate"].any()
    given = pd.DataFrame({"study": ["a", "b", "c"], "log_hr": [0.1, -0.2, 0.0],
                          "se": [0.2, 0.3, 0.25], "approximate": ["True", "false", None]})
    table, _ = effect_table(given)
    assert table["approximate"].dtype == bool
    assert table["approximate"].tolist() == [True, False, False]
    with pytest.raises(SurvmetaError, match="'approximate'"):
        effect_table(given.assign(approximate=["maybe", "no", "yes"]))
