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

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "validation" / "comparisons.csv"
SCRIPT = ROOT / "validation" / "validate_reconstruction.py"
CALIBRATION = ROOT / "src" / "survmeta" / "reconstruct" / "calibration.json"

with DATA.open(newline="", encoding="utf-8") as _f:
    ROWS = list(csv.DictReader(_f))
IDS = [r["id"] for r in ROWS]


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


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_row_has_citation_location_source_quote(row):
    for col in ("trial", "citation", "location", "source", "quote", "endpoint", "experimental", "reference"):
        assert row[col].strip(), f"{row['id']}: empty {col}"
    assert row["year"].strip().isdigit()


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_no_lung_cancer(row):
    text = " ".join(row[c] for c in ("trial", "cancer", "citation", "notes")).lower()
    for word in ("lung", "nsclc", "sclc", "mesothelioma"):
        assert word not in text, f"{row['id']} mentions {word!r}"


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_hr_inside_ci_and_centred_on_log_scale(row):
    hr, lo, hi = float(row["hr"]), float(row["hr_lower"]), float(row["hr_upper"])
    assert 0 < lo < hr < hi
    level = float(row["hr_level"])
    assert 0.5 < level < 1
    centre = (math.log(lo) + math.log(hi)) / 2
    # rounding of the printed numbers moves the log-centre by at most this much
    tol = 0.5 * (_half_ulp(row["hr_lower"]) / lo + _half_ulp(row["hr_upper"]) / hi) + _half_ulp(row["hr"]) / hr
    assert abs(centre - math.log(hr)) <= tol + 1e-9, (row["id"], math.exp(centre), hr)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_medians_positive_and_inside_their_cis(row):
    for arm in ("exp", "ref"):
        m = _num(row[f"median_{arm}"])
        assert m is not None and m > 0, f"{row['id']}: median_{arm}"
        lo, hi = _num(row[f"median_{arm}_lower"]), _num(row[f"median_{arm}_upper"])
        if lo is not None:
            assert 0 < lo <= m
        if hi is not None:
            assert m <= hi


@pytest.mark.parametrize("row", ROWS, ids=IDS)
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


def test_calibration_matches_script():
    mod = _script()
    computed = mod.compute(DATA)["calibration"]
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


def test_reconstruction_hides_the_reported_hr():
    mod = _script()
    for row in mod.load_rows(DATA):
        assert row.comparison.hr is None
        se_level = float(row.raw["hr_level"])
        assert row.se_reported > 0 and norm.ppf(0.5 + se_level / 2) > 0
