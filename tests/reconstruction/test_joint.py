"""The joint reconstruction (survmeta.reconstruction.joint) against closed forms.

Each test names the closed form it checks. With the error terms of the model made negligible
(``s_z`` tiny, V known exactly) the joint posterior reduces to quantities that can be written
down: the printed p-value's digits as a uniform interval of |z|, a censored p as the bound plus
an exponential excess, a median ratio alone as the median-ratio estimate with its calibrated
extra SD. Tolerances: GRID = 2e-4 on the log scale (the posterior is integrated on a
2001-point grid over its support, spacing about 1e-4 to 1e-3 here).
"""

from __future__ import annotations

import math

import pytest
from scipy.stats import norm

from survmeta.reconstruction import methods as M
from survmeta.reconstruction.joint import (
    JointCalibration,
    VRoute,
    follow_up_v0,
    joint,
    joint_posterior,
    load_joint_calibration,
    p_interval,
)
from survmeta.reconstruction.select import estimate_comparison
from survmeta.registry.records import NR, Arm, EventFraction, FollowUp

from recbuild import comparison, pval

GRID = 2e-4

#: A calibration with negligible error terms: V from events exactly, |z| to 1e-4.
SHARP = JointCalibration(s_mr=0.1, s_z=1e-4, kappa=0.5,
                         routes={"events": VRoute(0.0, 0.0, 7), "patients": VRoute(math.log(0.7), 0.0, 45)})


def _z(p: float) -> float:
    return float(norm.isf(p / 2))


@pytest.mark.parametrize("text, expected", [
    ("0.003", (0.0025, 0.0035)),
    ("0.04", (0.035, 0.045)),
    ("0.30", (0.295, 0.305)),
    ("1e-5", (5e-6, 1.5e-5)),
])
def test_p_interval_is_the_printed_digits(text, expected):
    """P = 0.003 means p in [0.0025, 0.0035]: half a unit of the last printed digit either side."""
    lo, hi = p_interval(pval(text))
    assert lo == pytest.approx(expected[0], rel=1e-12)
    assert hi == pytest.approx(expected[1], rel=1e-12)


def test_exact_p_with_events_is_uniform_in_z():
    """V = d_e d_r / (d_e + d_r) known and s_z -> 0: |log HR| sqrt(V) is uniform on the z interval
    of the printed digits, so the posterior mean is its midpoint / sqrt(V) and the sampling SE
    1 / sqrt(V); p_events (z of the printed p itself) lies inside that interval."""
    c = comparison(Arm("e", n=200, events=120), Arm("r", n=200, events=150), p=pval("0.012"),
                   direction="favours experimental")
    post = joint_posterior(c, SHARP)
    v = 120 * 150 / 270
    za, zb = _z(0.0125), _z(0.0115)
    assert post.mean == pytest.approx(-(za + zb) / 2 / math.sqrt(v), abs=GRID)
    assert post.sd == pytest.approx((zb - za) / math.sqrt(12 * v), abs=GRID)
    assert post.se_sampling == pytest.approx(1 / math.sqrt(v), rel=1e-9)
    pe = M.p_events(c)
    assert abs(pe.log_hr - post.mean) < (zb - za) / 2 / math.sqrt(v)
    assert pe.se == pytest.approx(post.se_sampling, rel=1e-9)


def test_censored_p_is_bound_plus_exponential_excess():
    """P < 0.001 with V known and s_z -> 0: |z| = z_c + Exp(kappa), so E|log HR| = (z_c + kappa) /
    sqrt(V), not z_c / sqrt(V) (the bound taken as the value, as p_events does)."""
    c = comparison(Arm("e", n=300, events=200), Arm("r", n=300, events=220), p=pval("<0.001"),
                   direction="favours experimental")
    post = joint_posterior(c, SHARP)
    v = 200 * 220 / 420
    zc = _z(0.001)
    assert post.mean == pytest.approx(-(zc + SHARP.kappa) / math.sqrt(v), abs=GRID)
    assert post.sd == pytest.approx(SHARP.kappa / math.sqrt(v), abs=GRID)
    assert "p_bound_censored" in post.flags
    assert abs(M.p_events(c).log_hr) == pytest.approx(zc / math.sqrt(v), rel=1e-9)


def test_median_ratio_alone_is_todays_median_ratio_estimate():
    """Without a p-value the joint posterior is N(log(m_r / m_e), s_mr^2) and the sampling SE is
    median_ratio_ci's: the estimate and its total SE equal the selector's median_ratio_ci row with
    the calibrated extra SD (the bundled calibration; s_mr is that family's extra SD)."""
    cal = load_joint_calibration()
    c = comparison(Arm("e", n=100, median=12.0, ci=(9.0, 15.5)),
                   Arm("r", n=100, median=8.0, ci=(6.5, 10.0)))
    est = joint(c, cal)
    old = estimate_comparison(c, force="median_ratio_ci")
    assert est.log_hr == pytest.approx(math.log(8 / 12), abs=GRID)
    assert est.se == pytest.approx(old.chosen.se, rel=1e-12)
    assert est.se_extra == pytest.approx(cal.s_mr, abs=GRID)
    assert math.hypot(est.se, est.se_extra) == pytest.approx(old.se, abs=GRID)


def test_medians_and_p_combine_as_a_product():
    """Medians + p + group sizes with V fixed (route SD 0) and s_z -> 0: |h| sqrt(V) is uniform
    on the z interval and the sign is weighted by N(y; h, s_mr^2), so
    E[h] = int_{+-} h N(y; h, s_mr^2) dh / int_{+-} N(y; h, s_mr^2) dh over the two intervals
    +-[z_a, z_b] / sqrt(V), computed here by adaptive quadrature (scipy.integrate.quad)."""
    from scipy.integrate import quad

    s_mr = 0.3
    cal = JointCalibration(s_mr=s_mr, s_z=1e-4, kappa=0.5,
                           routes={"patients": VRoute(math.log(0.7), 0.0, 45)})
    c = comparison(Arm("e", n=150, median=10.0), Arm("r", n=150, median=7.0), p=pval("0.02"))
    post = joint_posterior(c, cal)
    v = 0.7 * 150 * 150 / 300
    a, b = _z(0.025) / math.sqrt(v), _z(0.015) / math.sqrt(v)
    y = math.log(7 / 10)
    dens = lambda h: math.exp(-0.5 * ((y - h) / s_mr) ** 2)  # noqa: E731
    num = quad(lambda h: h * dens(h), a, b)[0] + quad(lambda h: h * dens(h), -b, -a)[0]
    den = quad(dens, a, b)[0] + quad(dens, -b, -a)[0]
    assert post.mean == pytest.approx(num / den, abs=GRID)
    assert post.se_sampling == pytest.approx(1 / math.sqrt(v), rel=1e-9)
    assert "direction_from_medians" in post.flags and "v_patients" in post.flags


def test_near_equal_medians_widen_instead_of_picking_a_sign():
    """Medians 10.0 vs 10.3 with P = 0.01 and no stated direction: the median ratio hardly says
    which side, so the posterior keeps mass on both (flag sign_uncertain) and its SD exceeds the
    half-width it would have with the sign known."""
    e, r = Arm("e", n=200, median=10.3), Arm("r", n=200, median=10.0)
    free = joint_posterior(comparison(e, r, p=pval("0.01")), load_joint_calibration())
    signed = joint_posterior(comparison(e, r, p=pval("0.01"), direction="favours experimental"),
                             load_joint_calibration())
    assert "sign_uncertain" in free.flags
    assert free.p_minority > 0.05
    assert signed.p_minority == 0.0
    assert free.sd > 2 * signed.sd


def test_event_fraction_override_sets_the_prior_of_v():
    """event_fraction = {low, high}: log f ~ N((log low + log high)/2, ((log high - log low) /
    (2 * 1.96))^2); a range of width 0 in effect (0.5-0.5001) makes V = 0.5 n_e n_r / N exactly."""
    c = comparison(Arm("e", n=80, median=9.0), Arm("r", n=80, median=6.0), p=pval("0.03"),
                   event_fraction=EventFraction(0.5, 0.5001, "small cohort"))
    post = joint_posterior(c, load_joint_calibration())
    assert post.se_sampling == pytest.approx(1 / math.sqrt(0.50005 * 40), rel=1e-3)
    assert post.inputs["v_event_fraction"] == [0.5, 0.5001]


def test_follow_up_v0_closed_form():
    """Exponential arms, potential follow-up uniform on [F/2, 3F/2]: the share with an event is
    1 - (exp(-lambda F/2) - exp(-3 lambda F/2)) / (lambda F), lambda = ln 2 / median."""
    c = comparison(Arm("e", n=100, median=12.0), Arm("r", n=120, median=8.0),
                   follow_up=FollowUp(2.0, "years"))
    v0, inputs = follow_up_v0(c)
    f = 24.0

    def share(m):
        lam = math.log(2) / m
        return 1 - (math.exp(-lam * f / 2) - math.exp(-lam * 3 * f / 2)) / (lam * f)

    de, dr = 100 * share(12.0), 120 * share(8.0)
    assert inputs["expected_events"] == pytest.approx([de, dr], rel=1e-12)
    assert v0 == pytest.approx(de * dr / (de + dr), rel=1e-12)


def test_v_is_at_most_one_event_per_patient():
    """The prior of V is truncated at n_e n_r / N: an event fraction range above 1 in effect
    (0.99-1.0) gives a sampling SE of at least sqrt(1/n_e + 1/n_r)."""
    c = comparison(Arm("e", n=50, median=9.0), Arm("r", n=50, median=6.0), p=pval("0.03"),
                   event_fraction=EventFraction(0.99, 1.0, "all died"))
    post = joint_posterior(c, load_joint_calibration())
    assert post.se_sampling >= math.sqrt(1 / 50 + 1 / 50) - 1e-12


def test_not_applicable_without_v_or_medians():
    c = comparison(Arm("e"), Arm("r"), p=pval("0.01"), direction="favours experimental")
    with pytest.raises(M.NotApplicable, match="cannot be formed"):
        joint(c)


def test_median_not_reached_gives_the_sign_only():
    """A median NR in the experimental arm gives no ratio but the sign: HR < 1."""
    c = comparison(Arm("e", n=100, median=NR), Arm("r", n=100, median=8.0), p=pval("0.02"))
    post = joint_posterior(c, load_joint_calibration())
    assert post.grid[post.density > 0].max() < 0
    assert "direction_from_medians" in post.flags


def test_selector_prefers_joint_without_a_printed_hr():
    """Default order: the joint model for medians + p + group sizes, the single methods kept as
    alternatives; a printed HR with its CI still wins."""
    e, r = Arm("e", n=120, median=10.0, ci=(8.0, 12.5)), Arm("r", n=118, median=7.0, ci=(5.5, 8.8))
    sel = estimate_comparison(comparison(e, r, p=pval("0.004")))
    assert sel.chosen.method == "joint"
    assert {a["method"] for a in sel.alternatives} >= {"median_ratio_ci", "median_ratio_p"}
    assert sel.se_extra == pytest.approx(sel.chosen.se_extra)
    from survmeta.registry.records import ReportedHR

    sel = estimate_comparison(comparison(e, r, p=pval("0.004"), hr=ReportedHR(0.7, (0.55, 0.89))))
    assert sel.chosen.method == "hr_ci"


def test_medians_contradicting_the_p_value_warn():
    """Medians 10 vs 9.5 (HR about 0.95) beside P < 0.0001 in 400 patients: 3 SD apart, warned."""
    c = comparison(Arm("e", n=200, median=10.0), Arm("r", n=200, median=9.5), p=pval("<0.0001"),
                   direction="favours experimental")
    est = joint(c)
    assert any("disagree" in w for w in est.warnings)

