"""A comparison's p implausibly far from its HR or its medians (issue 15, last plausibility bullet).

The rules and their tolerances are in survmeta.registry.p_plausibility; the
expected values are closed forms stated in each test, and the published
trials of data/validation/ (which print an HR with its CI, medians, group
sizes and a p) must pass both rules.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from statistics import NormalDist

import pytest

from survmeta.registry import check_text
from survmeta.registry.p_plausibility import (
    HR_Z_GAP,
    MEDIAN_Z_FACTOR,
    MEDIAN_Z_MARGIN,
    median_z_max,
    z_of_p,
)

from .conftest import S1_HR_LINE, edit

REPO = Path(__file__).resolve().parents[2]
S1_HR = "hr = { estimate = 0.60, ci = [0.40, 0.90] }"
ARMS = 'experimental = { label = "drug", n = 50 }\nreference = { label = "placebo", n = 50 }'


def _problems(text: str) -> list:
    problems = check_text(text, "studies.toml")
    assert not [p for p in problems if p.severity == "error"], problems
    return problems


def _p_warnings(text: str) -> list:
    return [p for p in _problems(text) if p.severity == "warning" and p.field == "p"]


def _medians(m_e: str, m_r: str, p: str, n: int = 50) -> str:
    arms = (f'experimental = {{ label = "drug", n = {n}, median = {m_e} }}\n'
            f'reference = {{ label = "placebo", n = {n}, median = {m_r} }}')
    return edit(S1_HR, f'p = "{p}"', edit(ARMS, arms))


def test_z_max_of_two_medians_is_the_closed_form():
    # 10 and 9.5 read as 10.00 and 9.50: the largest ratio within rounding is 10.005 / 9.495;
    # V_max = 50 * 50 / 100 = 25.
    assert median_z_max(10, 9.5, 50, 50) == pytest.approx(5 * math.log(10.005 / 9.495), rel=1e-12)
    assert median_z_max(10, 9.5, 50, 50) == pytest.approx(0.2616, abs=1e-4)


def test_close_medians_with_a_tiny_p_warn_located():
    # allowed z: 2 * 0.2616 + 3 = 3.52; "<0.0001" means z >= z(0.0001) = 3.89.
    (w,) = _p_warnings(_medians("10", "9.5", "<0.0001"))
    assert (w.path, w.line, w.study, w.comparison, w.field) == (
        "studies.toml", S1_HR_LINE, "s1", "c1", "p")
    assert "z at least 3.89" in w.message and "at most z = 0.26" in w.message
    assert "up to 2 z + 3 = 3.52" in w.message
    assert 'acknowledged = ["p"]' in w.message


@pytest.mark.parametrize("p", ["0.001", "0.0005", "0.04", "0.5", ">0.0001", "NS"])
def test_close_medians_with_a_p_the_rule_allows_pass(p):
    # z(0.0015) = 3.17 and z(0.00055) = 3.46 (0.001 and 0.0005 read to their rounding) are
    # below 3.52;
    # a ">" bound and "NS" set no lower limit on p.
    assert _p_warnings(_medians("10", "9.5", p)) == []


def test_the_median_threshold_is_where_the_rule_says():
    # 10 vs 9.5, 50 per arm: allowed z = 2 * 0.2616 + 3 = 3.523, i.e. p = 2 Phi(-3.523)
    # = 0.000427. A p a fifth below it warns, a quarter above it does not.
    allowed = MEDIAN_Z_FACTOR * median_z_max(10, 9.5, 50, 50) + MEDIAN_Z_MARGIN
    p_at = 2 * NormalDist().cdf(-allowed)
    assert p_at == pytest.approx(0.000427, abs=1e-6)
    assert _p_warnings(_medians("10", "9.5", f"{p_at * 0.8:.6f}"))
    assert _p_warnings(_medians("10", "9.5", f"{p_at * 1.25:.6f}")) == []


def test_a_p_below_double_precision_of_one_keeps_its_z():
    # 1 - 1e-300 / 2 is 1.0 in floating point; scipy's upper-tail quantile gives the z.
    from scipy.stats import norm

    assert z_of_p(1e-300) == pytest.approx(norm.isf(0.5e-300), rel=1e-9)
    (w,) = _p_warnings(_medians("10", "9.5", "1e-300"))
    # "1e-300" stands for 0.5e-300 to 1.5e-300 (half a unit of its last digit)
    assert f"z {norm.isf(0.75e-300):.2f} to {norm.isf(0.25e-300):.2f}" in w.message


def test_medians_without_group_sizes_or_not_reached_are_not_compared():
    text = _medians("10", "9.5", "<0.0001").replace(", n = 50", "")
    assert _p_warnings(text) == []
    assert _p_warnings(_medians('"NR"', "9.5", "<0.0001")) == []


def test_a_p_far_from_an_unadjusted_hr_warns():
    # HR 0.95 (0.90-1.01): implied z at most |log 0.945| / (log(1.005 / 0.905) / (2 * 1.96))
    # = 2.11; P = 0.001 stands for 0.0005-0.0015, z 3.17-3.48: 1.06 apart, beyond 1.
    z_hi = abs(math.log(0.945)) / (math.log(1.005 / 0.905) / (2 * NormalDist().inv_cdf(0.975)))
    assert z_of_p(0.0015) - z_hi == pytest.approx(1.06, abs=0.005)
    (w,) = _p_warnings(edit(S1_HR, 'hr = { estimate = 0.95, ci = [0.90, 1.01] }\np = "0.001"'))
    assert (w.line, w.study, w.comparison, w.field) == (S1_HR_LINE + 1, "s1", "c1", "p")
    assert "1.06 apart in z" in w.message and 'acknowledged = ["p"]' in w.message


def test_the_same_p_as_the_hrs_own_p_is_the_exact_rule():
    # hr.p is checked with the rounding alone (validate.check_hr_p): it warns too.
    problems = _problems(edit(S1_HR, 'hr = { estimate = 0.95, ci = [0.90, 1.01], p = "0.001" }'))
    assert [p.field for p in problems if p.severity == "warning"] == ["hr.p"]


@pytest.mark.parametrize("p", ["0.01", "0.004", "<0.05", "0.02"])
def test_a_p_near_the_hrs_implied_p_passes(p):
    # HR 0.60 (0.40-0.90): z = log(1/0.6) / 0.2069 = 2.47 (p 0.0135); within 1 in z of each.
    assert _p_warnings(edit(S1_HR, S1_HR + f'\np = "{p}"')) == []


def test_an_adjusted_hr_is_not_compared_with_the_comparisons_p():
    text = edit(S1_HR, 'hr = { estimate = 0.95, ci = [0.90, 1.01], adjusted = true }\np = "0.001"')
    assert _p_warnings(text) == []


def test_the_warning_fails_strict_and_can_be_acknowledged(write, run):
    slip = _medians("10", "9.5", "<0.0001")
    path = write(slip)
    code, _, err = run("check", path, "--strict")
    assert code == 2 and f"{path}:{S1_HR_LINE}: study s1, comparison c1, p: warning:" in err
    path = write(edit('p = "<0.0001"', 'p = "<0.0001"\nacknowledged = ["p"]\n'
                      'notes = "Crossing survival curves: the medians are close."', slip))
    code, out, err = run("check", path, "--strict")
    assert code == 0, err
    assert "Acknowledged in the registry" in out and "implausibly small for medians" in out


def _validation_rows():
    rows = []
    for name in ("comparisons.csv", "holdout.csv"):
        with open(REPO / "data" / "validation" / name, newline="", encoding="utf-8") as fh:
            rows += list(csv.DictReader(fh))
    return rows


def _toml_value(text: str) -> str:
    return '"NR"' if text.strip().upper() == "NR" else text


def _row_registry(row: dict) -> str:
    def arm(label, n, median):
        parts = [f'label = "{label}"']
        if row[n]:
            parts.append(f"n = {int(row[n])}")
        if row[median]:
            parts.append(f"median = {_toml_value(row[median])}")
        return "{ " + ", ".join(parts) + " }"

    hr = (f"hr = {{ estimate = {row['hr']}, ci = [{_toml_value(row['hr_lower'])}, "
          f"{_toml_value(row['hr_upper'])}], level = {row['hr_level'] or 0.95} }}")
    comp = (f"experimental = {arm('e', 'n_exp', 'median_exp')}\n"
            f"reference = {arm('r', 'n_ref', 'median_ref')}\n{hr}\np = \"{row['p_text']}\"\n"
            f"sided = {row['p_sided'] or 2}\n")
    return edit(ARMS + "\n" + S1_HR, comp)


def test_published_trials_pass_both_rules():
    # 101 trials printing an HR with its CI and a p (mostly log-rank); 92 also print both
    # medians and group sizes. None is a slip, so none may warn.
    rows = _validation_rows()
    assert len(rows) == 101
    compared = 0
    for row in rows:
        assert _p_warnings(_row_registry(row)) == [], row["id"]
        compared += bool(row["n_exp"] and row["n_ref"] and row["median_exp"] and row["median_ref"])
    assert compared >= 90


def test_the_rule_is_documented():
    doc = (REPO / "docs" / "registry.md").read_text(encoding="utf-8")
    assert "a p-value implausibly far from the HR or the medians" in doc
    assert f"more than {HR_Z_GAP:g} apart" in doc.replace("**", "")
    assert f"{MEDIAN_Z_FACTOR:g} z_max + {MEDIAN_Z_MARGIN:g}" in doc.replace("**", "")
