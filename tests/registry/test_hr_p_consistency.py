"""The HR p-value warning: a printed ``hr.p`` against the Wald p its CI implies.

Closed form: ``SE = (log U - log L) / (2 z_level)``, ``z = |log HR| / SE``,
``p = 2 (1 - Phi(z))`` (``z_level`` = Phi^{-1}(0.975) = 1.959964). Seed numbers are Zhou 2023 (Front Immunol 14:1089026), Results and
Table 2. Tolerances: ``P_TOL = 5e-5`` for a p computed from the closed form
(the message prints p to three significant digits); ``FLOAT = 1e-12`` where
the same p is computed by scipy here and by ``math.erfc`` in the checker.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.stats import norm

from survmeta.registry.pvalues import parse_p
from survmeta.registry.validate import implied_p_range, printed_p_range

from .conftest import edit, line_of

P_TOL = 5e-5
FLOAT = 1e-12
#: Phi^{-1}(0.975), exact (the checker's own quantile), not the 6-decimal table value
Z975 = float(norm.isf(0.025))

#: Zhou 2023 adjusted HRs with the p printed beside them.
CONSISTENT = [
    (2.33, 1.21, 4.47, "0.011"),    # second-line immunotherapy
    (0.45, 0.21, 0.97, "0.04"),     # PD-L1 >= 50%
    (1.12, 0.58, 2.15, "0.73"),     # EGFR/ALK/ROS1 (Table 2's multivariate p)
    (0.91, 0.51, 1.61, "0.746"),    # PD-L1 1-49%
    (1.59, 0.78, 3.24, "0.202"),    # subsequent line
]


def wald_p(est: float, lo: float, hi: float) -> float:
    se = (math.log(hi) - math.log(lo)) / (2 * Z975)
    return 2 * norm.sf(abs(math.log(est)) / se)


def disagrees(est, lo, hi, p_text, sided=2) -> bool:
    implied = implied_p_range(est, lo, hi)
    printed = printed_p_range(parse_p(p_text, sided=sided))
    return not (implied[0] <= printed[1] and printed[0] <= implied[1])


@pytest.mark.parametrize("est, lo, hi, p", CONSISTENT)
def test_seed_hrs_with_their_printed_p_do_not_warn(est, lo, hi, p):
    assert not disagrees(est, lo, hi, p)


def test_closed_form_of_the_seed_p_values():
    assert wald_p(2.33, 1.21, 4.47) == pytest.approx(0.0112, abs=P_TOL)
    assert wald_p(0.45, 0.21, 0.97) == pytest.approx(0.0408, abs=P_TOL)
    assert wald_p(1.505, 1.036, 2.186) == pytest.approx(0.0319, abs=P_TOL)


def test_bone_metastasis_p_disagrees_with_its_ci():
    # 1.505 (1.036, 2.186): Wald p 0.0319, whatever the rounding 0.0316 to 0.0322; printed 0.0195
    low, high = implied_p_range(1.505, 1.036, 2.186)
    assert low <= wald_p(1.505, 1.036, 2.186) <= high
    assert (low, high) == pytest.approx((0.0316, 0.0322), abs=1e-4)
    assert disagrees(1.505, 1.036, 2.186, "0.0195")


def test_the_range_contains_the_unrounded_p():
    # 2.33 (1.21, 4.47): the printed numbers stand for 2.325-2.335, 1.205-1.215, 4.465-4.475
    low, high = implied_p_range(2.33, 1.21, 4.47)
    for est in (2.325, 2.335):
        for lo in (1.205, 1.215):
            for hi in (4.465, 4.475):
                # FLOAT: scipy's norm.sf and math.erfc differ in the last bits
                assert low - FLOAT <= wald_p(est, lo, hi) <= high + FLOAT


def test_printed_p_range_follows_the_printed_decimals():
    assert printed_p_range(parse_p("0.04")) == pytest.approx((0.035, 0.045), abs=1e-12)
    assert printed_p_range(parse_p("0.0195")) == pytest.approx((0.01945, 0.01955), abs=1e-12)
    assert printed_p_range(parse_p("0.040")) == pytest.approx((0.0395, 0.0405), abs=1e-12)
    assert printed_p_range(parse_p("<0.001")) == (0.0, 0.001)
    assert printed_p_range(parse_p(">0.05")) == (0.05, 1.0)
    assert printed_p_range(parse_p("NS")) is None
    # one-sided 0.0056 is two-sided 0.0112 (Tierney 2007: a one-sided p is doubled)
    assert printed_p_range(parse_p("0.0056", sided=1)) == pytest.approx((0.0111, 0.0113), abs=1e-12)


def test_bounds_and_one_sided_p():
    assert not disagrees(2.33, 1.21, 4.47, "<0.05")
    assert disagrees(2.33, 1.21, 4.47, "<0.001")      # implied 0.011 is not below 0.001
    assert disagrees(2.33, 1.21, 4.47, ">0.05")
    assert not disagrees(2.33, 1.21, 4.47, "0.0056", sided=1)
    assert disagrees(2.33, 1.21, 4.47, "0.011", sided=1)  # one-sided 0.011 is two-sided 0.022


@given(log_hr=st.floats(-3, 3), se=st.floats(0.05, 1.5), decimals=st.sampled_from([2, 3]),
       p_decimals=st.sampled_from([2, 3, 4]))
def test_exact_wald_numbers_rounded_as_printed_never_warn(log_hr, se, decimals, p_decimals):
    est, lo, hi = (round(math.exp(log_hr + k * Z975 * se), decimals) for k in (0, -1, 1))
    assume(0 < lo < est < hi)
    p = 2 * norm.sf(abs(log_hr) / se)
    p_text = f"{p:.{p_decimals}f}"
    if float(p_text) == 0:
        p_text = f"<{10 ** -p_decimals:.{p_decimals}f}"
    elif float(p_text) > 1:
        p_text = "1"
    assert not disagrees(est, lo, hi, p_text)


def test_check_warns_on_hr_p(base, problems_of):
    text = edit(base, 'p = "0.011"', 'p = "0.11"')
    (problem,) = problems_of(text)
    assert (problem.field, problem.severity) == ("hr.p", "warning")
    assert (problem.study, problem.comparison) == ("zhou2023", "pfs1_line_second")
    assert problem.line == line_of(text, "hr = {")
    assert "printed p 0.11 disagrees with the Wald p implied by the HR 2.33" in problem.message
    assert "p = 0.0112" in problem.message


def test_check_skips_a_ci_with_nr_and_ns(base, problems_of):
    assert problems_of(edit(base, 'p = "0.011"', 'p = "NS"')) == []
    text = edit(base, "ci = [1.21, 4.47], level = 0.95, adjusted = true, p = \"0.011\"",
                "ci = [1.21, \"NR\"], level = 0.95, adjusted = true, p = \"0.5\"")
    assert [p for p in problems_of(text) if p.field == "hr.p"] == []


def test_other_levels_use_their_quantile(base, problems_of):
    # the same numbers read as a 99% CI: Phi^{-1}(0.995) = 2.575829 (normal tables),
    # SE = log(4.47/1.21)/(2*2.575829) = 0.25366, z = log(2.33)/SE = 3.3347, p = 0.000854
    text = edit(base, "level = 0.95", "level = 0.99")
    (problem,) = [p for p in problems_of(text) if p.field == "hr.p"]
    assert "p = 0.000854" in problem.message
