"""The held-out check of the shipped calibration (validation/score_holdout.py).

Closed forms: the exact (Clopper-Pearson) 95% interval of k = n successes is
``[0.025^(1/n), 1]`` and of k = 0 is ``[0, 1 - 0.025^(1/n)]``; the interval
tests are those of docs/validation.md (*Method*). Tolerance ``EXACT = 1e-12``.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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
    H.check_disjoint(H.V.load_rows(HOLDOUT), HOLDOUT, DATA)  # raises otherwise


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
        H.check_disjoint(H.V.load_rows(bad), bad, DATA)
    assert H.main(["--data", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    # the same publication under another trial name is caught by its DOI
    assert first["doi"]
    alias = tmp_path / "alias.csv"
    with alias.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerow({**first, "trial": "Study 999", "doi": first["doi"].upper()})
    with pytest.raises(H.HoldoutError, match=r"Study 999 \(doi "):
        H.check_disjoint(H.V.load_rows(alias), alias, DATA)


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


def test_clopper_pearson_interior_is_the_beta_quantiles():
    """Clopper & Pearson (1934): for k of n, [Beta(0.025; k, n - k + 1), Beta(0.975; k + 1,
    n - k)]; for 49 of 50, 0.8935-0.9995."""
    from scipy.stats import beta

    lo, hi = H.Coverage(49, 50).interval()
    assert lo == pytest.approx(beta.ppf(0.025, 49, 2), abs=1e-9)
    assert hi == pytest.approx(beta.ppf(0.975, 50, 1), abs=1e-9)
    assert (round(lo, 4), round(hi, 4)) == (0.8935, 0.9995)


def _result(k_in: int, n: int) -> dict:
    """n rows of which k_in lie inside both intervals (d = 0) and the rest outside (d = 1)."""
    rows = [H.Scored(f"r{i}", "median_ratio_p", est=0.0 if i < k_in else 1.0, se=0.1, extra=0.1,
                     target=0.0, se_reported=0.05) for i in range(n)]
    return {"best": rows}


@pytest.mark.parametrize(("k", "n", "verdict"), [(49, 50, "met"), (50, 50, "NOT met"),
                                                 (45, 50, "met"), (44, 50, "NOT met")])
def test_coverage_target_bounds_are_inclusive(k, n, verdict):
    """The target is 90-98% inclusive: 49/50 and 45/50 meet it, 50/50 and 44/50 do not."""
    text = H.targets(_result(k, n))
    printed = next(line for line in text.splitlines() if "read literally" in line)
    net = next(line for line in text.splitlines() if "net of the shared" in line)
    assert printed.split(" -> ", 1)[1].startswith(f"{verdict} ("), printed
    assert net.split(" -> ", 1)[1] == verdict, net


@pytest.mark.parametrize(("column", "value", "message"), [
    ("hr", "abc", "hr: not a number"),
    ("hr_level", "95", "hr_level: a level in (0, 1)"),
    ("p_sided", "x", "p_sided: 1 or 2"),
    ("p_text", "p<<", "p_text: a p-value"),
    ("n_exp", "12a", "n_exp: a whole number"),
    ("hr_upper", "0.5", "hr, hr_lower, hr_upper: need 0 < lower < hr < upper"),
])
def test_bad_input_names_file_line_row_and_column(tmp_path, capsys, column, value, message):
    with HOLDOUT.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        row, fields = next(reader), reader.fieldnames
    bad = tmp_path / "bad.csv"
    with bad.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerow({**row, column: value})
    assert H.main(["--data", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}:2: row {row['id']!r}: {message}"), err
    assert "Traceback" not in err


def test_missing_column_empty_file_and_unreadable_file_exit_2(tmp_path, capsys):
    with HOLDOUT.open(newline="", encoding="utf-8") as f:
        header = f.readline()
    no_trial = tmp_path / "no_trial.csv"
    no_trial.write_text(header.replace("trial,", "", 1), encoding="utf-8")
    empty = tmp_path / "empty.csv"
    empty.write_text(header, encoding="utf-8")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe")
    for path, message in ((no_trial, "missing columns: trial"), (empty, "no comparisons"),
                          (binary, "cannot be read"), (tmp_path / "absent.csv", "cannot be read")):
        assert H.main(["--data", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {path}") and message in err, err


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
    from survmeta.reconstruction.calibration import load_calibration

    cal = load_calibration()
    assert result["best"], "no held-out row reconstructed"
    for s in result["best"]:
        assert s.family != "exact", s.row
        assert s.extra == cal[s.method].extra_sd, s.row
    assert all(why for _, why in result["unscored"])


def test_docs_joint_block_is_the_script_output(result):
    """docs/validation.md pastes the joint model's held-out report under its subsection."""
    doc = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    block = doc.split("### The joint model on the held-out rows", 1)[1].split("```", 2)[1].strip("\n")
    assert block == H.joint_report_text(result)


def test_docs_block_is_the_script_output(result):
    """docs/validation.md pastes the script's report under *Held-out check*."""
    doc = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    block = doc.split("## Held-out check", 1)[1].split("```", 2)[1].strip("\n")
    assert block == H.report_text(result, "data/validation/holdout.csv")
