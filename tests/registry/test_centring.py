"""The HR-CI centring warning (metafor ``conv.wald``'s rule plus a rounding allowance)."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from survmeta.registry.validate import CENTRING_TOLERANCE, centring_discrepancy

# Adjusted HRs printed by Zhou 2023 (Front Immunol 14:1089026), Results and Table 2.
SEED_HRS = [
    (2.33, 1.21, 4.47),     # second-line immunotherapy
    (0.45, 0.21, 0.97),     # PD-L1 >= 50%
    (1.505, 1.036, 2.186),  # bone metastasis
    (1.12, 0.58, 2.15),     # EGFR/ALK/ROS1 mutation
    (0.91, 0.51, 1.61),     # PD-L1 1-49%
    (1.59, 0.78, 3.24),     # subsequent line
]


@pytest.mark.parametrize("estimate, lower, upper", SEED_HRS)
def test_seed_hazard_ratios_are_centred(estimate, lower, upper):
    distance, tolerance = centring_discrepancy(estimate, lower, upper)
    assert distance <= tolerance


def test_metafor_rule_without_rounding():
    # 2.0 (1.1, 2.5): log-midpoint 0.5058 vs log 2 = 0.6931, 22.8% of the log width 0.8210;
    # metafor flags anything above 10% (cifac = 0.1).
    distance, tolerance = centring_discrepancy(2.0, 1.1, 2.5)
    width = math.log(2.5 / 1.1)
    assert distance / width == pytest.approx(0.2281, abs=5e-4)
    assert distance > tolerance
    assert tolerance == pytest.approx(CENTRING_TOLERANCE * width, abs=0.01)  # slack is small


def test_mistyped_upper_bound_warns():
    # 2.33 (1.21, 3.47) instead of (1.21, 4.47)
    distance, tolerance = centring_discrepancy(2.33, 1.21, 3.47)
    assert distance > tolerance


@given(log_hr=st.floats(-3, 3), se=st.floats(0.05, 1.5), decimals=st.sampled_from([2, 3]))
def test_exact_wald_ci_rounded_as_printed_never_warns(log_hr, se, decimals):
    z = 1.959963984540054  # standard normal 0.975 quantile
    est, lo, hi = (round(math.exp(log_hr + k * z * se), decimals) for k in (0, -1, 1))
    assume(0 < lo < est < hi)
    distance, tolerance = centring_discrepancy(est, lo, hi)
    assert distance <= tolerance
