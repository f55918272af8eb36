"""The held-out check of the shipped calibration (validation/score_holdout.py).

Closed forms: the exact (Clopper-Pearson) 95% interval of k = n successes is
``[0.025^(1/n), 1]`` and of k = 0 is ``[0, 1 - 0.025^(1/n)]``; the interval
tests are those of docs/validation.md (*Method*). Tolerance ``EXACT = 1e-12``.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "validation" / "score_holdout.py"
HOLDOUT = ROOT / "data" / "validation" / "holdout.csv"
DATA = ROOT / "data" / "validation" / "comparisons.csv"
EXACT = 1e-12


def _script():
    spec = importlib.util.spec_from_file_location("score_holdout", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


H = _script()


@pytest.fixture(scope="module")
def result():
    return H.compute(HOLDOUT)


def test_at_least_20_held_out_rows():
    with HOLDOUT.open(newline="", encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) >= 20


def test_held_out_trials_are_not_in_the_calibration_set():
    H.check_disjoint(HOLDOUT, DATA)  # raises otherwise


def test_overlap_is_refused_with_the_trial_named(tmp_path, capsys):
    with DATA.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        first = next(reader)
        fields = reader.fieldnames
    bad = tmp_path / "overlap.csv"
    with bad.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerow({**first, "trial": first["trial"].upper() + " "})  # same trial, other spelling
    with pytest.raises(H.HoldoutError, match=first["trial"].upper()):
        H.check_disjoint(bad, DATA)
    assert H.main(["--data", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_trial_key():
    assert H.trial_key("CheckMate 025") == H.trial_key("checkmate-025") == "checkmate025"
    assert H.trial_key("PRODIGE 4/ACCORD 11") == "prodige4accord11"


def test_clopper_pearson_closed_form():
    n = 40
    lo, hi = H.Coverage(n, n).interval()
    assert lo == pytest.approx(0.025 ** (1 / n), abs=1e-9) and hi == 1.0
    lo, hi = H.Coverage(0, n).interval()
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / n), abs=1e-9)
    assert H.Coverage(38, 40).share == 0.95


def test_interval_checks_closed_form():
    """d = 0.25; se 0.1, extra 0.1, se_rep 0.1: printed half-width 1.96 * sqrt(0.02) = 0.277
    covers it; net half-width 1.96 * sqrt(0.01) = 0.196 does not; method error 0.196 does not."""
    s = H.Scored("x", "median_ratio_p", est=0.25, se=0.1, extra=0.1, target=0.0, se_reported=0.1)
    assert s.d == 0.25 and s.family == "median_ratio"
    assert s.in_printed and not s.in_net and not s.in_method_error
    t = H.Scored("y", "hr_ci", est=0.1, se=0.1, extra=0.0, target=0.0, se_reported=0.1)
    assert t.family == "exact" and t.in_printed and not t.in_net
    st = H.stats([s, t])
    assert st.n == 2 and st.bias == pytest.approx(0.175, abs=EXACT)
    assert (st.printed.k, st.net.k) == (2, 0)
    assert (st.method_error.k, st.method_error.n) == (0, 1)  # exact methods carry no extra


def test_scores_with_the_shipped_calibration(result):
    """Every row is reconstructed with the reported HR hidden, by an approximate method, with
    the extra SD calibration.json gives that method."""
    from survmeta.reconstruct.calibration import load_calibration

    cal = load_calibration()
    assert result["best"], "no held-out row reconstructed"
    for s in result["best"]:
        assert s.family != "exact", s.row
        assert s.extra == cal[s.method].extra_sd, s.row
    ids = {s.row for s in result["best"]} | {i for i, _ in result["unscored"]}
    assert ids == {r.id for r in result["rows"]}
    assert all(why for _, why in result["unscored"])


def test_docs_block_is_the_script_output(result):
    """docs/validation.md pastes the script's report under *Held-out check*."""
    doc = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    block = doc.split("## Held-out check", 1)[1].split("```", 2)[1].strip("\n")
    assert block == H.report_text(result, "data/validation/holdout.csv")
