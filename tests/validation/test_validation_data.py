"""Integrity of the reconstruction validation set and of the shipped calibration."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
from scipy.stats import norm

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "validation" / "comparisons.csv"
HOLDOUT = ROOT / "data" / "validation" / "holdout.csv"
SCRIPT = ROOT / "validation" / "validate_reconstruction.py"
CALIBRATION = ROOT / "src" / "survmeta" / "reconstruction" / "calibration.json"

with DATA.open(newline="", encoding="utf-8") as _f:
    ROWS = list(csv.DictReader(_f))
IDS = [r["id"] for r in ROWS]
with HOLDOUT.open(newline="", encoding="utf-8") as _f:
    HOLDOUT_ROWS = list(csv.DictReader(_f))

#: The per-row checks hold for the calibration set and the held-out set alike.
ALL_ROWS = ROWS + HOLDOUT_ROWS
ALL_IDS = IDS + [f"holdout-{r['id']}" for r in HOLDOUT_ROWS]


def _decimals(text: str) -> int:
    text = text.strip()
    return len(text.split(".")[1]) if "." in text else 0


def _half_ulp(text: str) -> float:
    """Half a unit in the last printed place."""
    return 0.5 * 10 ** (-_decimals(text))


def _num(text: str):
    text = text.strip()
    if text == "" or text.upper() == "NR":
        return None
    return float(text)


def test_at_least_20_rows():
    assert len(ROWS) >= 20, f"only {len(ROWS)} comparisons in {DATA.name}"


def test_ids_unique():
    assert len(set(IDS)) == len(IDS)
    held = [r["id"] for r in HOLDOUT_ROWS]
    assert len(set(held)) == len(held)


def test_same_columns_in_both_files():
    assert list(HOLDOUT_ROWS[0]) == list(ROWS[0])


@pytest.mark.parametrize("row", ALL_ROWS, ids=ALL_IDS)
def test_row_has_citation_location_source_quote(row):
    for col in ("trial", "citation", "location", "source", "quote", "endpoint", "experimental", "reference"):
        assert row[col].strip(), f"{row['id']}: empty {col}"
    assert not row["year"].strip() or row["year"].strip().isdigit()  # empty when not seen


#: Numeric columns that must be read in the row's quote.
QUOTED = ("n_exp", "n_ref", "events_exp", "events_ref", "events_total", "median_exp",
          "median_exp_lower", "median_exp_upper", "median_ref", "median_ref_lower",
          "median_ref_upper", "hr", "hr_lower", "hr_upper", "p_text", "followup_median")


def _quoted_text(quote: str) -> str:
    """The quote with decimal points written as '.': Lancet's middle dot, and the mis-encoded
    '?\u00a1\u00e8' of one re-posted abstract (RESORCE, said in its notes); thousands
    separators dropped."""
    return quote.replace("\u00b7", ".").replace("?\u00a1\u00e8", ".").replace(",", "")


@pytest.mark.parametrize("row", ALL_ROWS, ids=ALL_IDS)
def test_every_number_stands_in_the_quote(row):
    """Each number of the row was read in the quoted text (trailing zeros as printed)."""
    import re

    text = _quoted_text(row["quote"])
    missing = []
    for col in QUOTED:
        value = row[col].strip().lstrip("<>= ")
        if not value or value == "NR":
            continue
        forms = {value, value.lstrip("0") or value}
        if "." in value:
            forms.add(value.rstrip("0").rstrip("."))
        # not inside a longer number ("68" is not in "0.68" or "168"); zeros may follow only
        # after a decimal point ("4.6" stands in "4.60", "13" not in "130")
        tail = r"0*(?![\d])" if "." in value else r"(?![\d.]\d)(?!\d)"
        if not any(re.search(rf"(?<![\d.]){re.escape(f)}{tail}", text) for f in forms):
            missing.append(f"{col}={value}")
    assert not missing, f"{row['id']}: not in the quote: {missing}"


@pytest.mark.parametrize("row", ALL_ROWS, ids=ALL_IDS)
def test_no_lung_cancer(row):
    text = " ".join(row[c] for c in ("trial", "cancer", "citation", "notes")).lower()
    for word in ("lung", "nsclc", "sclc", "mesothelioma"):
        assert word not in text, f"{row['id']} mentions {word!r}"


@pytest.mark.parametrize("row", ALL_ROWS, ids=ALL_IDS)
def test_hr_inside_ci_and_centred_on_log_scale(row):
    hr, lo, hi = float(row["hr"]), float(row["hr_lower"]), float(row["hr_upper"])
    assert 0 < lo < hr < hi
    level = float(row["hr_level"])
    assert 0.5 < level < 1
    centre = (math.log(lo) + math.log(hi)) / 2
    # rounding of the printed numbers moves the log-centre by at most this much
    tol = 0.5 * (_half_ulp(row["hr_lower"]) / lo + _half_ulp(row["hr_upper"]) / hi) + _half_ulp(row["hr"]) / hr
    assert abs(centre - math.log(hr)) <= tol + 1e-9, (row["id"], math.exp(centre), hr)


@pytest.mark.parametrize("row", ALL_ROWS, ids=ALL_IDS)
def test_medians_positive_and_inside_their_cis(row):
    for arm in ("exp", "ref"):
        m = _num(row[f"median_{arm}"])
        assert m is not None and m > 0, f"{row['id']}: median_{arm}"
        lo, hi = _num(row[f"median_{arm}_lower"]), _num(row[f"median_{arm}_upper"])
        if lo is not None:
            assert 0 < lo <= m
        if hi is not None:
            assert m <= hi


@pytest.mark.parametrize("row", ALL_ROWS, ids=ALL_IDS)
def test_counts_and_p(row):
    for col in ("n_exp", "n_ref", "events_exp", "events_ref"):
        if row[col].strip():
            assert int(row[col]) > 0
    for arm in ("exp", "ref"):
        if row[f"n_{arm}"].strip() and row[f"events_{arm}"].strip():
            assert int(row[f"events_{arm}"]) <= int(row[f"n_{arm}"])
    assert row["p_sided"] in ("1", "2")
    p = row["p_text"].strip().lstrip("<>=").strip()
    assert 0 < float(p) < 1


@pytest.mark.parametrize("row", ALL_ROWS, ids=ALL_IDS)
def test_events_total(row):
    """The total events, when printed, is a positive integer, at most the patients randomised
    and the sum of the per-arm events when those are printed too."""
    text = row["events_total"].strip()
    if not text:
        return
    assert text.isdigit() and int(text) > 0, f"{row['id']}: events_total={text!r}"
    total = int(text)
    if row["n_exp"].strip() and row["n_ref"].strip():
        assert total <= int(row["n_exp"]) + int(row["n_ref"]), row["id"]
    if row["events_exp"].strip() and row["events_ref"].strip():
        assert total == int(row["events_exp"]) + int(row["events_ref"]), row["id"]


def test_usable_by_a_median_ratio_method():
    """At least 20 rows give both medians and a p-value or median CIs."""
    usable = [
        r for r in ROWS
        if _num(r["median_exp"]) and _num(r["median_ref"])
        and (r["p_text"].strip() or (_num(r["median_exp_lower"]) and _num(r["median_ref_lower"])))
    ]
    assert len(usable) >= 20


def _script():
    spec = importlib.util.spec_from_file_location("validate_reconstruction", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def computed():
    """One run of the validation script's computation, shared by the tests below."""
    mod = _script()
    return mod, mod.compute(DATA)


def test_calibration_matches_script(computed):
    mod, result = computed
    computed = result["calibration"]
    shipped = json.loads(CALIBRATION.read_text(encoding="utf-8"))
    assert shipped["generated_by"] == "validation/validate_reconstruction.py"
    assert shipped["data_sha256"] == computed["data_sha256"], "calibration.json is stale: rerun the script"
    assert set(shipped["methods"]) == set(computed["methods"])
    for m, entry in shipped["methods"].items():
        got = computed["methods"][m]
        places = _decimals(repr(entry["extra_sd"]))
        assert round(got["extra_sd"], places) == pytest.approx(entry["extra_sd"], abs=10 ** -(places + 3))
        assert got["n"] == entry["n"]
        assert entry["source"] == "data/validation/comparisons.csv"
        assert entry["family"] == got["family"]
        assert entry.get("shrinkage") == got.get("shrinkage")  # both rounded by the script


def test_joint_calibration_matches_script(computed):
    """calibration.json's "joint" entry is what the script fits on comparisons.csv."""
    mod, result = computed
    shipped = json.loads(CALIBRATION.read_text(encoding="utf-8"))
    assert shipped["joint"] == result["calibration"]["joint"]


def test_docs_joint_block_is_the_script_output(computed):
    """docs/validation.md pastes the joint model's report under *Joint model*."""
    mod, result = computed
    doc = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    block = doc.split("## Joint model", 1)[1].split("```", 2)[1].strip("\n")
    assert block == mod.joint_report_text(result)


def test_docs_results_block_is_the_script_output(computed):
    """docs/validation.md pastes the script's report under *Results*; its numbers are that run's."""
    mod, result = computed
    doc = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    block = doc.split("## Results", 1)[1].split("```", 2)[1].strip("\n")
    assert block == mod.report_text(result, "data/validation/comparisons.csv")


def test_calibration_is_one_value_per_family():
    """Methods sharing a point estimate share the extra SD (and the rows behind it)."""
    from survmeta.reconstruction.methods import FAMILIES

    shipped = json.loads(CALIBRATION.read_text(encoding="utf-8"))["methods"]
    for family, members in FAMILIES.items():
        entries = [shipped[m] for m in members if m in shipped]
        assert entries == [] or len(entries) == len(members), family
        assert len({(e["extra_sd"], e["n"], e["family"]) for e in entries}) <= 1, family
    # the median-ratio family: every row prints both medians, so all rows count
    assert shipped["median_ratio_events"]["n"] == len(ROWS)


def test_best_available_uses_what_the_package_applies():
    """The script's in-sample extra SD per best-available row is the selector's, with the
    calibration read through survmeta.reconstruction.calibration."""
    from survmeta.reconstruction.calibration import load_calibration
    from survmeta.reconstruction.select import estimate_comparison

    mod = _script()
    result = mod.compute(DATA, applied_calibration=load_calibration(CALIBRATION))
    rows = {r.id: r for r in result["rows"]}
    cal = load_calibration(CALIBRATION)
    for r in result["best"]:
        sel = estimate_comparison(rows[r.row].comparison, method_order=mod.J.OLD_ORDER,
                                  calibration=cal)
        extra = sel.se_extra
        assert mod.covered(r, extra) == (abs(r.d) <= mod.Z95 * sel.se)
        assert (r.method in cal) == (extra > 0)


# -- the estimators, on closed forms ---------------------------------------------------------
#
# d = (0.3, 0.1, -0.1, 0.1): mean d^2 = (0.09 + 3 * 0.01)/4 = 0.03, so RMS = sqrt(0.03);
# bias = mean d = 0.1; d - 0.1 = (0.2, 0, -0.2, 0), so SD about the bias = sqrt(0.08/4)
# = sqrt(0.02), and RMS^2 = bias^2 + SD^2 = 0.01 + 0.02. With se_est = 0.25, se_rep = 0.15,
# se_est^2 - se_rep^2 = 0.04 > 0.03, so the Hausman extra^2 is truncated at 0; with equal
# SEs it is the RMS; the independent MoM subtracts 0.0625 + 0.0225 and is 0.
# Tolerance EXACT = 1e-12 (same arithmetic); the ML optimiser to 1e-5.

EXACT = 1e-12


def _results(mod, se_est, se_rep):
    return [mod.Result(f"r{i}", "m", d, se_est, 0.0, se_rep) for i, d in enumerate((0.3, 0.1, -0.1, 0.1))]


def test_rms_bias_and_sd_closed_form():
    mod = _script()
    res = _results(mod, 0.2, 0.2)
    fam = mod.summarise_family("median_ratio", res, shipped=True)
    assert fam.rms == pytest.approx(math.sqrt(0.03), abs=EXACT)
    assert fam.bias == pytest.approx(0.1, abs=EXACT)
    assert fam.sd == pytest.approx(math.sqrt(0.02), abs=EXACT)
    assert fam.rms**2 == pytest.approx(fam.bias**2 + fam.sd**2, abs=EXACT)


def test_hausman_estimators_closed_form():
    mod = _script()
    # equal SEs: no sampling part left in Var(d), so the Hausman moments give the RMS
    same = _results(mod, 0.2, 0.2)
    assert mod.extra_sd_hausman(same) == pytest.approx(math.sqrt(0.03), abs=EXACT)
    # the ML of d ~ N(0, extra^2) is also the RMS
    assert mod.extra_sd_hausman_ml(same) == pytest.approx(math.sqrt(0.03), abs=1e-5)
    # se_est^2 - se_rep^2 = 0.04 > mean d^2 = 0.03: truncated at 0
    wider = _results(mod, 0.25, 0.15)
    assert mod.extra_sd_hausman(wider) == 0.0
    # independent model subtracts both variances: 0.03 - 0.085 < 0 -> 0
    assert mod.extra_sd_mom_independent(wider) == 0.0
    # se_est^2 - se_rep^2 = 0.0125 - 0.0025 = 0.01: extra^2 = 0.03 - 0.01 = 0.02
    mild = _results(mod, math.sqrt(0.0125), 0.05)
    assert mod.extra_sd_hausman(mild) == pytest.approx(math.sqrt(0.02), abs=EXACT)


def test_reconstruction_hides_the_reported_hr():
    mod = _script()
    for row in mod.load_rows(DATA):
        assert row.comparison.hr is None
        se_level = float(row.raw["hr_level"])
        assert row.se_reported > 0 and norm.ppf(0.5 + se_level / 2) > 0


# Shrinkage and the net coverage check, closed forms.
#
# reported t = (-0.5, -0.2, 0.1, 0.4), estimate e = (-0.4, -0.1, 0.1, 0.3):
# sum t e = 0.2 + 0.02 + 0.01 + 0.12 = 0.35, sum t^2 = 0.25 + 0.04 + 0.01 + 0.16 = 0.46,
# so b = 0.35 / 0.46; residuals e - b t, SE of b = sqrt(sum r^2 / (n - 1) / sum t^2).


def test_shrinkage_fit_and_entry_closed_form():
    mod = _script()
    t = (-0.5, -0.2, 0.1, 0.4)
    e = (-0.4, -0.1, 0.1, 0.3)
    res = [mod.Result(f"r{i}", "m", y, 0.2, x, 0.1) for i, (x, y) in enumerate(zip(t, e))]
    b, se = mod.shrinkage_fit(res)
    assert b == pytest.approx(0.35 / 0.46, abs=EXACT)
    resid = sum((y - b * x) ** 2 for x, y in zip(t, e))
    assert se == pytest.approx(math.sqrt(resid / 3 / 0.46), abs=EXACT)
    entry = mod.shrinkage_entry(res)

    def b_without(i):  # the fit without row i, leave-one-out
        tt = [x for j, x in enumerate(t) if j != i]
        ee = [y for j, y in enumerate(e) if j != i]
        return sum(x * y for x, y in zip(tt, ee)) / sum(x * x for x in tt)

    rms = math.sqrt(sum((e[i] / b_without(i) - t[i]) ** 2 for i in range(4)) / 4)
    assert entry["extra_sd"] == pytest.approx(rms, abs=0.5e-4)  # rounded to PRECISION = 4
    assert entry["log_hr_range"] == [-0.5, 0.4] and entry["n"] == 4


def test_net_coverage_subtracts_the_shared_sampling_variance():
    """Hausman: Var(est - rep) = se^2 + extra^2 - se_rep^2 when the printed SE is right."""
    mod = _script()
    # se^2 + extra^2 - se_rep^2 = 0.04 + 0.01 - 0.04 = 0.01: half-width 1.96 * 0.1
    r_in = mod.Result("a", "m", 0.19, 0.2, 0.0, 0.2)
    r_out = mod.Result("b", "m", 0.20, 0.2, 0.0, 0.2)
    assert mod.covered_net(r_in, 0.1) and not mod.covered_net(r_out, 0.1)
    # the plain interval (se^2 + extra^2) covers both
    assert mod.covered(r_in, 0.1) and mod.covered(r_out, 0.1)
    # printed variance below the reported one: empty interval, only d = 0 covered
    assert not mod.covered_net(mod.Result("c", "m", 0.01, 0.05, 0.0, 0.2), 0.05)


def test_dilution_check_closed_form():
    """Independent errors: the slope is divided by the reliability var(t) - mean se_rep^2."""
    mod = _script()
    t = (-0.5, -0.2, 0.1, 0.4)
    e = (-0.4, -0.1, 0.1, 0.3)
    res = [mod.Result(f"r{i}", "m", y, 0.2, x, 0.1, se_floor=0.15 if i else None)
           for i, (x, y) in enumerate(zip(t, e))]
    d = mod.dilution_check(res)
    mt, me = sum(t) / 4, sum(e) / 4
    var_t = sum((x - mt) ** 2 for x in t) / 3
    cov = sum((x - mt) * (y - me) for x, y in zip(t, e)) / 3
    assert d["slope"] == pytest.approx(cov / var_t, abs=EXACT)
    assert d["slope_if_independent"] == pytest.approx(cov / (var_t - 0.01), abs=EXACT)
    assert d["mean_d2"] == pytest.approx((0.01 + 0.01 + 0 + 0.01) / 4, abs=EXACT)
    # the bound uses the rows with a floor (3 of 4): 0.15^2 + 0.1^2
    assert d["n_floor"] == 3
    assert d["var_d_if_independent"] == pytest.approx(0.0225 + 0.01, abs=EXACT)
    assert d["mean_d2_floor_rows"] == pytest.approx((0.01 + 0 + 0.01) / 3, abs=EXACT)
