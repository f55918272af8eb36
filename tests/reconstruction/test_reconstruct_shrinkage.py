"""The optional shrinkage correction of approximate estimates.

Expected numbers are closed forms of the measurement model
``est ~ N(b * theta, se^2 + s^2)`` rearranged as
``est / b ~ N(theta, (se / b)^2 + s_c^2)`` (calibration.py): log HR and
sampling SE divided by ``b``, the extra SD replaced by that of corrected
estimates, plus the delta-method term of the SE of ``b``,
``(log_hr_c * se_b / b)^2``. The median ratio of ``rich()`` is log(8/12) (exponential arms,
Michiels 2005). Tolerance ``EXACT = 1e-12`` (the same arithmetic).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from recbuild import comparison, pval

from survmeta.errors import SurvmetaError
from survmeta.reconstruction import estimate_comparison, explain, reconstruct
from survmeta.reconstruction import select as sel_mod
from survmeta.registry import load_registry
from survmeta.reconstruction.calibration import (
    MethodCalibration,
    Shrinkage,
    correct_shrinkage,
    load_calibration,
)
from survmeta.registry.records import Arm, Question, Registry, ReportedHR, Study
from survmeta.reconstruction.methods import DEFAULT_ORDER

#: The single methods in their default order (the joint model aside): these tests are about them.
SINGLE = tuple(m for m in DEFAULT_ORDER if m != "joint")

EXACT = 1e-12
ROOT = Path(__file__).resolve().parents[2]

B, B_SE, S_C = 0.8, 0.05, 0.15
SHRINK = Shrinkage(b=B, se=B_SE, extra_sd=S_C, n=50, log_hr_range=(math.log(0.5), math.log(1.5)))
CAL = {
    m: MethodCalibration(m, 0.1, 50, "validation set", "median_ratio", SHRINK)
    for m in ("median_ratio_ci", "median_ratio_events", "median_ratio_p")
}


def rich(**kw):
    e = Arm("e", n=100, events=40, median=12.0, ci=(8.0, 18.0))
    r = Arm("r", n=100, events=55, median=8.0, ci=(6.0, 11.0))
    return comparison(e, r, hr=ReportedHR(0.7, ci=(0.5, 0.98)), p=pval("0.04"), **kw)


def registry(*comps):
    study = Study(id="s1", citation="Doe J. J Test. 2020;1:1.", year=2020, design="rct",
                  population="test", comparisons=tuple(comps))
    q = Question(id="q1", title="q1", experimental="E", reference="R", outcome="OS")
    return Registry(schema_version=1, questions=(q,), studies=(study,))


def test_correct_shrinkage_closed_form():
    log_hr, se, extra = correct_shrinkage(-0.4, 0.2, SHRINK)
    assert log_hr == pytest.approx(-0.4 / B, abs=EXACT)
    assert se == pytest.approx(0.2 / B, abs=EXACT)
    assert extra == pytest.approx(math.sqrt(S_C**2 + (-0.4 / B * B_SE / B) ** 2), abs=EXACT)


def test_uncertainty_of_b_grows_with_the_corrected_log_hr():
    """Delta method: Var(est/b) = (est/b)^2 (se_b/b)^2 from b alone; zero at the null."""
    assert correct_shrinkage(0.0, 0.2, SHRINK)[2] == S_C
    small, large = (correct_shrinkage(x, 0.2, SHRINK)[2] for x in (-0.2, -1.0))
    assert S_C < small < large
    no_se = Shrinkage(b=B, se=0.0, extra_sd=S_C, n=50, log_hr_range=SHRINK.log_hr_range)
    assert correct_shrinkage(-1.0, 0.2, no_se)[2] == S_C


def test_selector_divides_median_ratios_and_keeps_the_uncorrected_numbers():
    c = rich(method="median_ratio_ci")
    raw = estimate_comparison(c, calibration=CAL)
    cor = estimate_comparison(c, calibration=CAL, correct_shrinkage=True)
    assert raw.chosen.log_hr == pytest.approx(math.log(8 / 12), abs=EXACT)
    assert "shrinkage_corrected" not in raw.chosen.flags and raw.se_extra == 0.1
    assert cor.chosen.log_hr == pytest.approx(math.log(8 / 12) / B, abs=EXACT)
    assert cor.chosen.se == pytest.approx(raw.chosen.se / B, abs=EXACT)
    extra_c = math.hypot(S_C, math.log(8 / 12) / B * B_SE / B)
    assert cor.se_extra == pytest.approx(extra_c, abs=EXACT)
    assert cor.se == pytest.approx(math.hypot(raw.chosen.se / B, extra_c), abs=EXACT)
    assert "shrinkage_corrected" in cor.chosen.flags
    assert cor.chosen.inputs["log_hr_uncorrected"] == raw.chosen.log_hr
    assert cor.chosen.inputs["se_uncorrected"] == raw.chosen.se
    assert any("b = 0.800" in a for a in cor.chosen.assumptions)
    # alternatives are corrected alike: median_ratio_events, same point estimate
    alt = {a["method"]: a for a in cor.alternatives}
    raw_alt = {a["method"]: a for a in raw.alternatives}
    assert alt["median_ratio_events"]["log_hr"] == pytest.approx(
        raw_alt["median_ratio_events"]["log_hr"] / B, abs=EXACT)
    # the reported HR is exact: never corrected
    assert alt["hr_ci"] == raw_alt["hr_ci"]


def test_exact_method_and_uncalibrated_shrinkage_are_untouched():
    c = rich()  # hr_ci chosen
    assert estimate_comparison(c, calibration=CAL, correct_shrinkage=True).chosen == \
        estimate_comparison(c, calibration=CAL).chosen
    no_shrink = {m: MethodCalibration(m, 0.1, 7, "x", "median_ratio") for m in CAL}
    sel = estimate_comparison(rich(method="median_ratio_ci"), calibration=no_shrink,
                              correct_shrinkage=True)
    assert "shrinkage_corrected" not in sel.chosen.flags and sel.se_extra == 0.1


def test_extrapolated_correction_is_warned():
    e = Arm("e", median=30.0, ci=(20.0, 45.0))
    r = Arm("r", median=8.0, ci=(6.0, 11.0))  # HR 8/30 = 0.27, corrected 0.19: outside 0.5-1.5
    sel = estimate_comparison(comparison(e, r), method_order=SINGLE, calibration=CAL,
                              correct_shrinkage=True)
    assert sel.chosen.method == "median_ratio_ci"
    assert any("extrapolated" in w for w in sel.chosen.warnings)
    inside = estimate_comparison(rich(method="median_ratio_ci"), calibration=CAL,
                                 correct_shrinkage=True)
    assert not any("extrapolated" in w for w in inside.chosen.warnings)


def test_effect_table_and_explain_with_the_correction(monkeypatch):
    monkeypatch.setattr(sel_mod, "load_calibration", lambda: CAL)
    reg = registry(rich(method="median_ratio_ci"))
    raw = reconstruct(reg).iloc[0]
    cor = reconstruct(reg, correct_shrinkage=True).iloc[0]
    assert cor["log_hr"] == pytest.approx(raw["log_hr"] / B, abs=EXACT)
    assert cor["se_sampling"] == pytest.approx(raw["se_sampling"] / B, abs=EXACT)
    assert cor["se_extra"] == pytest.approx(math.hypot(S_C, cor["log_hr"] * B_SE / B), abs=EXACT)
    assert cor["hr"] == pytest.approx(math.exp(raw["log_hr"] / B), rel=EXACT)
    assert "shrinkage_corrected" in cor["flags"]
    text = explain(reg, "s1/c1", correct_shrinkage=True)
    assert "divided by b = 0.800" in text and "divided by 0.80" in text


def test_shrinkage_schema_is_checked(tmp_path):
    entry = {"extra_sd": 0.1, "n": 50, "source": "x",
             "shrinkage": {"b": 0.8, "se": 0.05, "extra_sd": 0.12, "n": 50,
                           "log_hr_range": [-0.6, 0.4]}}
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"methods": {"median_ratio_p": entry}}))
    assert load_calibration(good)["median_ratio_p"].shrinkage == Shrinkage(0.8, 0.05, 0.12, 50,
                                                                           (-0.6, 0.4))
    for bad_value, match in ((0.0, "positive"), ("x", "numeric")):
        bad = tmp_path / f"bad{match}.json"
        broken = json.loads(json.dumps(entry))
        broken["shrinkage"]["b"] = bad_value
        bad.write_text(json.dumps({"methods": {"median_ratio_p": broken}}))
        with pytest.raises(SurvmetaError, match=match):
            load_calibration(bad)
    swapped = json.loads(json.dumps(entry))
    swapped["shrinkage"]["log_hr_range"] = [0.4, -0.6]
    bad = tmp_path / "swapped.json"
    bad.write_text(json.dumps({"methods": {"median_ratio_p": swapped}}))
    with pytest.raises(SurvmetaError, match="log_hr_range"):
        load_calibration(bad)


def test_bundled_calibration_shrinks_median_ratios_towards_the_null():
    """docs/validation.md, Bias: b < 1 for the median ratios, more than 2 SEs below 1."""
    cal = load_calibration()
    sh = cal["median_ratio_p"].shrinkage
    assert sh is not None and sh == cal["median_ratio_ci"].shrinkage == cal["median_ratio_events"].shrinkage
    assert 0 < sh.b < 1 and (1 - sh.b) > 2 * sh.se
    assert sh.log_hr_range[0] < 0 < sh.log_hr_range[1]


def test_cli_flag_reaches_the_table(capsys):
    from survmeta.cli import main

    studies = str(ROOT / "studies.toml")
    assert main(["reconstruct", studies, "--format", "json"]) == 0
    raw = {(r["study"], r["comparison"]): r for r in json.loads(capsys.readouterr().out)}
    assert main(["reconstruct", studies, "--format", "json", "--correct-shrinkage"]) == 0
    cor = {(r["study"], r["comparison"]): r for r in json.loads(capsys.readouterr().out)}
    b = load_calibration()["median_ratio_p"].shrinkage.b
    median_rows = [k for k, r in raw.items() if r["method"] and r["method"].startswith("median_ratio")]
    assert median_rows
    for k in median_rows:
        assert cor[k]["log_hr"] == pytest.approx(raw[k]["log_hr"] / b, abs=1e-9)
        assert "shrinkage_corrected" in cor[k]["flags"]
    for k, r in raw.items():
        if r["method"] == "hr_ci":
            assert cor[k]["log_hr"] == r["log_hr"]


def test_correction_on_an_effect_table_is_an_error(tmp_path, capsys):
    """A reconstructed effect table or an effects CSV cannot be corrected: an error, never a no-op."""
    from survmeta.cli import main
    from survmeta.pooling import pool

    effects = reconstruct(load_registry(ROOT / "studies.toml"))
    with pytest.raises(SurvmetaError, match="already reconstructed"):
        pool(effects, correct_shrinkage=True)
    csv_path = tmp_path / "effects.csv"
    csv_path.write_text("study,estimate,se\na,-0.5,0.2\nb,-0.3,0.25\n")
    assert main(["pool", "--effects", str(csv_path), "--format", "csv"]) == 0
    capsys.readouterr()
    for argv in (["pool", "--effects", str(csv_path)], ["pool", str(csv_path)],
                 ["sensitivity", str(csv_path), "--question", "pooled", "--methods"]):
        assert main(argv + ["--correct-shrinkage"]) == 2, argv
        err = capsys.readouterr().err
        assert "effects CSV" in err and "Traceback" not in err


def test_pooled_results_record_and_describe_the_correction():
    """The methods paragraph names the factor applied (the bundled b) and its population."""
    from survmeta.pooling import pool
    from survmeta.report.methods_text import methods_paragraph

    reg = load_registry(ROOT / "studies.toml")
    b = load_calibration()["median_ratio_p"].shrinkage.b
    plain = pool(reg, question="oligo_vs_systemic")
    cor = pool(reg, question="oligo_vs_systemic", correct_shrinkage=True)
    assert cor.meta["correct_shrinkage"] and not plain.meta["correct_shrinkage"]
    text, _ = methods_paragraph(cor)
    assert f"b = {b:.2f}" in text and "outside lung cancer" in text
    assert "shrinkage" not in methods_paragraph(plain)[0]
    # the pooled log HR moves away from the null (both studies are median ratios)
    assert cor["oligo_vs_systemic"].stats["hr"].median < plain["oligo_vs_systemic"].stats["hr"].median


def test_explain_says_when_the_se_was_floored():
    """POLO-like medians (19.2 vs 19.0 months, p = 0.3487, n 92 vs 62; Kindler 2022), with the
    single methods; the joint model's sampling SE is never below the floor either (V is at most
    one event per patient)."""
    c = comparison(Arm("e", n=92, median=19.2), Arm("r", n=62, median=19.0), p=pval("0.3487"))
    text = explain(registry(c), "s1/c1", method_order=SINGLE)
    assert "se_floor" in estimate_comparison(c, method_order=SINGLE).chosen.flags
    assert "raised to that bound" in text
    assert estimate_comparison(c).chosen.se >= math.sqrt(1 / 92 + 1 / 62)
