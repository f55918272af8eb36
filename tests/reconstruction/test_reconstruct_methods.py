"""The reconstruction methods, one by one.

Sources of the expected numbers
-------------------------------
The worked examples of Parmar 1998 (Stat Med 17:2815-34) and Tierney 2007
(Trials 8:16, and its spreadsheet) were not available as text, apart from the
two printed results checked in test_published_examples.py, so the tests here do
not claim to reproduce published numbers. Every expected value is a closed form
of the formulas those papers give:

* CI: ``SE = (log U - log L) / (2 z)``, ``z = Phi^{-1}(1 - (1 - level)/2)``;
* HR + p: ``SE = |log HR| / z``, ``z = Phi^{-1}(1 - p/2)``;
* O - E, V: ``log HR = (O - E)/V``, ``SE = 1/sqrt(V)``;
* p + events: ``V = d_e d_r/(d_e + d_r)`` (``D/4`` for equal events);
* medians (Michiels 2005): ``log HR = log(m_r/m_e)``.

Quantiles used as literals are from standard normal tables: Phi^{-1}(0.975)
= 1.959964, Phi^{-1}(0.98) = 2.053749, Phi^{-1}(0.9886) = 2.276769.
Tolerances: ``EXACT = 1e-9`` for algebraic identities computed the same way,
``ROUNDTRIP = 1e-6`` as issue 3 asks, ``TABLE = 1e-6`` for table quantiles
printed to 6 decimals.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from recbuild import comparison, pval
from scipy.stats import norm

from survmeta.errors import SurvmetaError
from survmeta.reconstruction import methods as M
from survmeta.reconstruction.methods import NotApplicable
from survmeta.registry.records import NR, Arm, DirectEffect, LogRank, ReportedHR

EXACT = 1e-9
ROUNDTRIP = 1e-6
TABLE = 1e-6


# -- quantiles ---------------------------------------------------------------


@pytest.mark.parametrize(
    "level, z",
    [(0.95, 1.959964), (0.96, 2.053749), (0.9772, 2.276769), (0.90, 1.644854), (0.99, 2.575829)],
)
def test_z_from_level_matches_normal_table(level, z):
    assert M.z_from_level(level) == pytest.approx(z, abs=TABLE)


def test_level_outside_unit_interval_is_an_error():
    with pytest.raises(SurvmetaError, match="level must be between 0 and 1, got 95"):
        M.z_from_level(95)


def test_z_from_p_two_and_one_sided():
    assert M.z_from_p(0.05) == pytest.approx(1.959964, abs=TABLE)
    # a one-sided p of 0.025 is the two-sided 0.05
    assert M.z_from_p(0.025, sided=1) == pytest.approx(1.959964, abs=TABLE)


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5, float("nan")])
def test_p_outside_range_is_an_error(p):
    with pytest.raises(SurvmetaError):
        M.z_from_p(p)


# -- direct --------------------------------------------------------------------


def test_direct_uses_the_given_numbers():
    est = M.direct(comparison(effect=DirectEffect(log_hr=-0.2, se=0.1)))
    assert (est.log_hr, est.se, est.method) == (-0.2, 0.1, "direct")


def test_direct_rejects_non_positive_se():
    with pytest.raises(SurvmetaError, match="effect.se"):
        M.direct(comparison(effect=DirectEffect(log_hr=-0.2, se=0.0)))


# -- hr_ci -----------------------------------------------------------------------


@pytest.mark.parametrize("theta, se", [(-0.2877, 0.1), (0.5, 0.35), (0.0, 0.05), (-1.3, 0.8)])
def test_hr_ci_95_round_trips(theta, se):
    """A 95% CI built from (log HR, SE) gives back the SE to 1e-6 (issue 3)."""
    z = norm.ppf(0.975)
    ci = (math.exp(theta - z * se), math.exp(theta + z * se))
    est = M.hr_ci(comparison(hr=ReportedHR(math.exp(theta), ci=ci)))
    assert est.log_hr == pytest.approx(theta, abs=ROUNDTRIP)
    assert est.se == pytest.approx(se, abs=ROUNDTRIP)
    assert est.flags == ()


@pytest.mark.parametrize("level, z_table", [(0.96, 2.053749), (0.9772, 2.276769)])
def test_hr_ci_non_95_level_gives_the_se_its_level_implies(level, z_table):
    """HR 0.8 with a CI of half-width 0.4 on the log scale: SE = 0.4 / z(level)."""
    ci = (0.8 * math.exp(-0.4), 0.8 * math.exp(0.4))
    est = M.hr_ci(comparison(hr=ReportedHR(0.8, ci=ci, level=level)))
    assert est.se == pytest.approx(0.4 / z_table, abs=TABLE)
    # read as 95% it would be 0.4 / 1.959964: the level matters
    assert abs(est.se - 0.4 / 1.959964) > 0.005
    assert any("read as stated" in a for a in est.assumptions)


def test_hr_ci_upper_bound_nr_is_one_sided():
    """SE = (log HR - log L)/z when U is NR."""
    est = M.hr_ci(comparison(hr=ReportedHR(0.6, ci=(0.4, NR))))
    assert est.se == pytest.approx((math.log(0.6) - math.log(0.4)) / 1.959964, abs=TABLE)
    assert "one_sided_ci" in est.flags


def test_hr_ci_lower_bound_nr_is_one_sided():
    est = M.hr_ci(comparison(hr=ReportedHR(1.5, ci=(NR, 2.5))))
    assert est.se == pytest.approx((math.log(2.5) - math.log(1.5)) / 1.959964, abs=TABLE)
    assert "one_sided_ci" in est.flags


def test_hr_ci_both_bounds_nr_not_applicable():
    with pytest.raises(NotApplicable):
        M.hr_ci(comparison(hr=ReportedHR(1.5, ci=(NR, NR))))


def test_hr_ci_bounds_out_of_order_is_an_error():
    with pytest.raises(SurvmetaError, match="out of order"):
        M.hr_ci(comparison(hr=ReportedHR(0.7, ci=(0.9, 0.5))))


def test_hr_ci_asymmetric_ci_warns():
    est = M.hr_ci(comparison(hr=ReportedHR(0.5, ci=(0.45, 0.9))))
    assert any("not centred" in w for w in est.warnings)


# -- hr_p ----------------------------------------------------------------------


def test_hr_p_closed_form():
    """HR 0.5, p = 0.05: SE = log 2 / 1.959964 = 0.353653."""
    est = M.hr_p(comparison(hr=ReportedHR(0.5, p=pval("0.05"))))
    assert est.log_hr == pytest.approx(-math.log(2), abs=EXACT)
    assert est.se == pytest.approx(math.log(2) / 1.959964, abs=TABLE)


def test_hr_p_uses_the_comparison_p_when_the_hr_has_none():
    est = M.hr_p(comparison(hr=ReportedHR(0.5), p=pval("0.05")))
    assert est.se == pytest.approx(math.log(2) / 1.959964, abs=TABLE)
    assert any("comparison's p-value" in a for a in est.assumptions)


@pytest.mark.parametrize("method", ["hr_p", "median_ratio_p"])
def test_se_falls_as_p_falls_with_fixed_estimate(method):
    ps = [0.5, 0.2, 0.05, 0.01, 0.001, 1e-6]
    ses = []
    for p in ps:
        c = comparison(
            Arm("e", median=12.0), Arm("r", median=8.0), hr=ReportedHR(0.7), p=pval(str(p))
        )
        est = getattr(M, method)(c)
        ses.append(est.se)
    assert all(a > b for a, b in zip(ses, ses[1:])), ses


@pytest.mark.parametrize("method", ["hr_p", "p_events", "median_ratio_p"])
def test_one_sided_p_doubles(method):
    """A one-sided p of 0.01 gives the same estimate as a two-sided 0.02."""
    kw = dict(hr=ReportedHR(0.7), direction="favours experimental")
    e, r = Arm("e", events=40, median=12.0), Arm("r", events=50, median=8.0)
    one = getattr(M, method)(comparison(e, r, p=pval("0.01", sided=1), **kw))
    two = getattr(M, method)(comparison(e, r, p=pval("0.02"), **kw))
    assert one.log_hr == pytest.approx(two.log_hr, abs=EXACT)
    assert one.se == pytest.approx(two.se, abs=EXACT)
    assert any("one-sided" in a for a in one.assumptions)


def test_p_bound_is_used_flagged_and_kept():
    """'P<0.001' uses 0.001, is flagged conservative and keeps the bound."""
    exact = M.hr_p(comparison(hr=ReportedHR(0.5, p=pval("0.001"))))
    bound = M.hr_p(comparison(hr=ReportedHR(0.5, p=pval("<0.001"))))
    assert bound.se == pytest.approx(exact.se, abs=EXACT)
    assert {"p_bound", "conservative"} <= set(bound.flags)
    assert (bound.p_relation, bound.p_bound) == ("<", 0.001)
    assert exact.p_relation is None and "p_bound" not in exact.flags


@pytest.mark.parametrize("text", ["NS", ">0.05"])
def test_ns_or_lower_bound_p_gives_no_estimate(text):
    with pytest.raises(NotApplicable, match="p-value"):
        M.hr_p(comparison(hr=ReportedHR(0.5), p=pval(text)))


def test_hr_p_with_p_one_or_hr_one_is_undefined():
    with pytest.raises(NotApplicable, match="undefined"):
        M.hr_p(comparison(hr=ReportedHR(0.5, p=pval("1"))))
    with pytest.raises(NotApplicable, match="undefined"):
        M.hr_p(comparison(hr=ReportedHR(1.0, p=pval("0.3"))))


# -- log-rank ------------------------------------------------------------------


def test_logrank_oe_closed_form():
    """O - E = -10, V = 40: log HR = -0.25, SE = 1/sqrt(40)."""
    est = M.logrank_oe(comparison(logrank=LogRank(o_minus_e=-10.0, variance=40.0)))
    assert est.log_hr == pytest.approx(-0.25, abs=EXACT)
    assert est.se == pytest.approx(1 / math.sqrt(40), abs=EXACT)


def test_observed_expected_closed_form():
    """O = 30/50, E = 40/40: HR = (30/40)/(50/40) = 0.6, var = 1/40 + 1/40."""
    c = comparison(Arm("e", events=30, expected=40.0), Arm("r", events=50, expected=40.0))
    est = M.observed_expected(c)
    assert est.log_hr == pytest.approx(math.log(0.6), abs=EXACT)
    assert est.se == pytest.approx(math.sqrt(2 / 40), abs=EXACT)


def test_chisq_agrees_with_p_events():
    """chi2 = z^2 and p = 2(1 - Phi(z)) carry the same information."""
    z = 2.3
    e, r = Arm("e", events=45), Arm("r", events=55)
    a = M.chisq(comparison(e, r, chisq=z**2, direction="favours experimental"))
    b = M.p_events(comparison(e, r, p=pval(repr(float(2 * norm.sf(z)))), direction="favours experimental"))
    assert a.log_hr == pytest.approx(b.log_hr, abs=ROUNDTRIP)
    assert a.se == pytest.approx(b.se, abs=EXACT)
    assert a.log_hr < 0


# -- p + events / patients ----------------------------------------------------


def test_p_events_equal_events_is_tierney_d_over_4():
    """Equal events d/2 per arm: V = D/4, log HR = -z * 2/sqrt(D), SE = 2/sqrt(D)."""
    d = 100
    c = comparison(Arm("e", events=50), Arm("r", events=50), p=pval("0.05"),
                   direction="favours experimental")
    est = M.p_events(c)
    assert est.se == pytest.approx(2 / math.sqrt(d), abs=EXACT)
    assert est.log_hr == pytest.approx(-1.959964 * 2 / math.sqrt(d), abs=TABLE)


def test_p_events_unequal_events():
    """V = d_e d_r/(d_e + d_r) = 30*60/90 = 20."""
    c = comparison(Arm("e", events=30), Arm("r", events=60), p=pval("0.05"),
                   direction="favours reference")
    est = M.p_events(c)
    assert est.se == pytest.approx(1 / math.sqrt(20), abs=EXACT)
    assert est.log_hr > 0


def test_p_without_direction_gives_no_estimate():
    c = comparison(Arm("e", events=30), Arm("r", events=60), p=pval("0.01"))
    with pytest.raises(NotApplicable, match="no direction"):
        M.p_events(c)


def test_direction_from_medians_and_nr_median():
    e, r = Arm("e", events=30, median=NR), Arm("r", events=60, median=9.0)
    est = M.p_events(comparison(e, r, p=pval("0.01")))
    assert est.log_hr < 0
    assert any("medians" in a for a in est.assumptions)


def test_direction_from_close_medians_is_flagged_uncertain():
    """Medians less than 10% apart (EMBRACA: 19.3 vs 19.5 months, reported HR 0.848) give the
    sign with a warning; medians further apart, a stated direction or an NR median do not."""
    def warned(e, r, **kw):
        est = M.p_events(comparison(e, r, p=pval("0.17"), **kw))
        return any("sign is uncertain" in w for w in est.warnings)

    close = (Arm("e", events=216, median=19.3), Arm("r", events=108, median=19.5))
    assert warned(*close)
    assert not warned(*close, direction="favours experimental")
    assert not warned(Arm("e", events=216, median=19.3), Arm("r", events=108, median=17.5))
    assert not warned(Arm("e", events=216, median=NR), Arm("r", events=108, median=19.5))
    # the threshold is on the ratio, whichever arm is longer
    assert warned(Arm("e", events=216, median=10.9), Arm("r", events=108, median=10.0))
    assert not warned(Arm("e", events=216, median=11.0), Arm("r", events=108, median=10.0))


def test_p_patients_is_a_flagged_lower_bound():
    """With n >= events, V from patients is larger, so the SE is smaller."""
    e, r = Arm("e", n=100, events=30), Arm("r", n=100, events=60)
    c = comparison(e, r, p=pval("0.01"), direction="favours experimental")
    pat, ev = M.p_patients(c), M.p_events(c)
    assert "se_lower_bound" in pat.flags
    assert pat.se == pytest.approx(1 / math.sqrt(50), abs=EXACT)
    assert pat.se < ev.se


def test_derived_input_is_an_assumption():
    e, r = Arm("e", n=52), Arm("r", n=11)
    c = comparison(e, r, p=pval("0.04"), direction="favours experimental",
                   derived=("reference.n: 63 minus 52",))
    assert "uses derived reference.n" in M.p_patients(c).assumptions


# -- medians -------------------------------------------------------------------


def test_median_ratio_ci_closed_form():
    """Medians 12 (8-18) vs 8 (6-10.6): log HR = log(8/12); SE from log widths / (2*1.959964)."""
    e = Arm("e", median=12.0, ci=(8.0, 18.0))
    r = Arm("r", median=8.0, ci=(6.0, 10.6))
    est = M.median_ratio_ci(comparison(e, r))
    se_e = math.log(18 / 8) / (2 * 1.959964)
    se_r = math.log(10.6 / 6) / (2 * 1.959964)
    assert est.log_hr == pytest.approx(math.log(8 / 12), abs=EXACT)
    assert est.se == pytest.approx(math.hypot(se_e, se_r), abs=TABLE)


def test_median_ratio_ci_upper_nr_is_one_sided():
    e = Arm("e", median=18.9, ci=(10.6, NR))
    r = Arm("r", median=8.8, ci=(5.7, 12.0))
    est = M.median_ratio_ci(comparison(e, r))
    se_e = math.log(18.9 / 10.6) / 1.959964
    se_r = math.log(12.0 / 5.7) / (2 * 1.959964)
    assert est.se == pytest.approx(math.hypot(se_e, se_r), abs=TABLE)
    assert "one_sided_ci" in est.flags


@pytest.mark.parametrize("method", ["median_ratio_ci", "median_ratio_events", "median_ratio_p"])
def test_median_nr_makes_the_ratio_unavailable(method):
    e = Arm("e", median=NR, ci=(10.0, NR), events=20)
    r = Arm("r", median=8.0, ci=(6.0, 11.0), events=30)
    with pytest.raises(NotApplicable, match="not reached"):
        getattr(M, method)(comparison(e, r, p=pval("0.01")))


def test_median_ratio_events_closed_form():
    e, r = Arm("e", median=10.0, events=40), Arm("r", median=5.0, events=60)
    est = M.median_ratio_events(comparison(e, r))
    assert est.log_hr == pytest.approx(math.log(0.5), abs=EXACT)
    assert est.se == pytest.approx(math.sqrt(1 / 40 + 1 / 60), abs=EXACT)


def test_median_ratio_p_equal_medians_is_undefined():
    e, r = Arm("e", median=10.0), Arm("r", median=10.0)
    with pytest.raises(NotApplicable, match="undefined"):
        M.median_ratio_p(comparison(e, r, p=pval("0.2")))


def test_unknown_method_lists_known_ones():
    with pytest.raises(SurvmetaError, match="known: direct, hr_ci"):
        M.run_method("median", comparison())


def test_method_table_is_consistent():
    assert set(M.METHOD_FUNCTIONS) == set(M.METHODS) == set(M.METHOD_TITLES)
    assert "p_patients" not in M.DEFAULT_ORDER
    assert M.APPROXIMATE | M.EXACT == set(M.METHODS)


# -- p + total events (Tierney 2007: V = D n_e n_r / (n_e + n_r)^2, D/4 for 1:1) ----------


def test_p_total_events_equal_allocation_is_d_over_4():
    """D = 100, group sizes unknown: V = 100/4 = 25, SE = 0.2, log HR = -1.959964 * 0.2."""
    c = comparison(p=pval("0.05"), total_events=100, direction="favours experimental")
    est = M.p_total_events(c)
    assert est.se == pytest.approx(0.2, abs=EXACT)
    assert est.log_hr == pytest.approx(-1.959964 * 0.2, abs=TABLE)
    assert any("1:1" in a and "assumed" in a for a in est.assumptions)
    assert est.approximate


def test_p_total_events_unequal_allocation():
    """D = 90, n 200:100: V = 90 * 200 * 100 / 300^2 = 20, SE = 1/sqrt(20)."""
    c = comparison(Arm("e", n=200), Arm("r", n=100), p=pval("0.05"), total_events=90,
                   direction="favours reference")
    est = M.p_total_events(c)
    assert est.se == pytest.approx(1 / math.sqrt(20), abs=EXACT)
    assert est.log_hr == pytest.approx(1.959964 / math.sqrt(20), abs=TABLE)
    assert any("200:100" in a for a in est.assumptions)


def test_p_total_events_matches_p_events_when_events_split_as_patients():
    """Events split 2:1 like the patients (60/30 of 90, n 200:100): both give V = 20."""
    c = comparison(Arm("e", n=200, events=60), Arm("r", n=100, events=30), p=pval("0.01"),
                   total_events=90, direction="favours experimental")
    a, b = M.p_total_events(c), M.p_events(c)
    assert a.se == pytest.approx(b.se, abs=EXACT)
    assert a.log_hr == pytest.approx(b.log_hr, abs=EXACT)


def test_p_total_events_needs_total_events():
    with pytest.raises(NotApplicable, match="total events not reported") as info:
        M.p_total_events(comparison(p=pval("0.05"), direction="favours experimental"))
    assert info.value.missing


def test_p_total_events_is_after_p_events_in_the_order():
    order = M.DEFAULT_ORDER
    assert order.index("p_total_events") == order.index("p_events") + 1
    assert M.family_of("p_total_events") == "p_value_total_events"


# -- hr_p with an adjusted HR --------------------------------------------------------


def test_hr_p_does_not_use_the_comparison_p_for_an_adjusted_hr():
    """Zhou 2023 (EGFR/ALK/ROS1): adjusted HR 1.12, its own p 0.73, log-rank p 0.0145.
    Without the HR's own p, the log-rank p must not stand in for it."""
    c = comparison(hr=ReportedHR(1.12, adjusted=True), p=pval("0.0145"))
    with pytest.raises(NotApplicable, match="adjusted HR without a p-value of its own") as info:
        M.hr_p(c)
    assert not info.value.missing
    # with its own p the adjusted HR is used: SE = log(1.12) / Phi^-1(1 - 0.73/2)
    own = M.hr_p(comparison(hr=ReportedHR(1.12, adjusted=True, p=pval("0.73")), p=pval("0.0145")))
    assert own.se == pytest.approx(math.log(1.12) / norm.isf(0.365), abs=EXACT)


def test_hr_p_fallback_for_an_unadjusted_hr_warns():
    est = M.hr_p(comparison(hr=ReportedHR(0.5, adjusted=False), p=pval("0.05")))
    assert est.se == pytest.approx(math.log(2) / 1.959964, abs=TABLE)
    assert any("no p-value of its own" in w for w in est.warnings)


# -- one-sided p above 0.5 ------------------------------------------------------------


def test_one_sided_p_above_half_flips_the_stated_direction():
    """One-sided p = 0.9 testing 'favours experimental': z = Phi^-1(1 - 0.9) = -1.281552
    in the tested direction, so log HR = +1.281552 / sqrt(V), V = 40*50/90."""
    e, r = Arm("e", events=40), Arm("r", events=50)
    c = comparison(e, r, p=pval("0.9", sided=1), direction="favours experimental")
    est = M.p_events(c)
    v = 40 * 50 / 90
    assert est.log_hr == pytest.approx(1.281552 / math.sqrt(v), abs=TABLE)
    assert est.se == pytest.approx(1 / math.sqrt(v), abs=EXACT)
    assert any("sign is flipped" in a for a in est.assumptions)
    # the same as a one-sided p = 0.1 testing the other direction
    other = M.p_events(comparison(e, r, p=pval("0.1", sided=1), direction="favours reference"))
    assert est.log_hr == pytest.approx(other.log_hr, abs=EXACT)


def test_one_sided_p_above_half_does_not_flip_an_observed_direction():
    """Direction from the medians is the observed one: no flip."""
    e, r = Arm("e", events=40, median=12.0), Arm("r", events=50, median=8.0)
    est = M.p_events(comparison(e, r, p=pval("0.9", sided=1)))
    assert est.log_hr < 0
    assert not any("flipped" in a for a in est.assumptions)


def test_one_sided_p_bound_above_half_gives_no_side():
    e, r = Arm("e", events=40), Arm("r", events=50)
    with pytest.raises(NotApplicable, match="does not say on which side"):
        M.p_events(comparison(e, r, p=pval("<0.9", sided=1), direction="favours experimental"))


# -- families ---------------------------------------------------------------------------


def test_every_approximate_method_is_in_exactly_one_family():
    """The single approximate methods share a calibrated extra SD per family; the joint model
    computes its own per comparison (its posterior SD) and belongs to none, as does km_ipd (its
    extra SD per case of what the arms print, from its simulation calibration)."""
    members = [m for ms in M.FAMILIES.values() for m in ms]
    assert sorted(members) == sorted(M.APPROXIMATE - {"joint", "km_ipd"})
    assert len(members) == len(set(members))


@pytest.mark.parametrize("method", M.FAMILIES["median_ratio"])
def test_median_family_shares_the_point_estimate(method):
    """log(m_r/m_e) = log(8/12) for every median-ratio method (Michiels 2005)."""
    e = Arm("e", median=12.0, ci=(8.0, 18.0), events=40)
    r = Arm("r", median=8.0, ci=(6.0, 11.0), events=55)
    c = comparison(e, r, p=pval("0.04"))
    assert M.run_method(method, c).log_hr == pytest.approx(math.log(8 / 12), abs=EXACT)
    assert M.median_log_ratio(c) == pytest.approx(math.log(8 / 12), abs=EXACT)


# -- which p-value each method uses ------------------------------------------------------

#: Methods whose statistic is the two-group (log-rank) test: the comparison's p only.
COMPARISON_P_METHODS = ("p_events", "p_total_events", "p_patients", "median_ratio_p")


def zhou_pdl1_high(**kw):
    """Zhou 2023 (Front Immunol 14:1089026) Table 2, PD-L1 >= 50% vs negative: medians 16.39 vs
    5.72 months, n 34 vs 49, adjusted HR 0.45 (0.21-0.97) with its own p 0.04 and no pairwise
    log-rank p (the table's 0.0039 tests three PD-L1 groups)."""
    e = Arm("PD-L1 >= 50%", n=34, median=16.39, ci=(10.93, 21.86))
    r = Arm("PD-L1 negative", n=49, median=5.72, ci=(4.4, 9.86))
    return comparison(e, r, hr=ReportedHR(0.45, ci=(0.21, 0.97), adjusted=True, p=pval("0.04")), **kw)


@pytest.mark.parametrize("method", COMPARISON_P_METHODS)
def test_p_methods_never_borrow_the_hr_p(method):
    """With only the adjusted HR's p printed, the median/event p-value methods do not apply."""
    c = zhou_pdl1_high(total_events=60)
    with pytest.raises(NotApplicable, match=r"only the HR's own p-value is reported \(hr.p = 0.04\)"
                       ) as info:
        M.run_method(method, dataclasses.replace(
            c, experimental=dataclasses.replace(c.experimental, events=20),
            reference=dataclasses.replace(c.reference, events=40)))
    assert not info.value.missing  # stated as the reason, not as "not reported"
    assert "log-rank test of the two groups" in info.value.reason


def test_median_ratio_p_uses_the_comparison_p_when_printed():
    """Same record with a two-group p = 0.04: SE = |log(5.72/16.39)| / Phi^-1(0.98)."""
    est = M.median_ratio_p(zhou_pdl1_high(p=pval("0.04")))
    assert est.log_hr == pytest.approx(math.log(5.72 / 16.39), abs=EXACT)
    assert est.se == pytest.approx(abs(math.log(5.72 / 16.39)) / 2.053749, abs=TABLE)
    assert "p-value used: the comparison's p (p = 0.04), the test of the two groups" in est.assumptions
    assert any(a.startswith("the HR's own p (hr.p = 0.04) is not used: it tests an adjusted Cox")
               for a in est.assumptions)


def test_every_method_states_which_p_it_uses():
    """Audit: a comparison printing both p = 0.03 (log-rank) and hr.p = 0.011 (Cox)."""
    e = Arm("e", n=100, events=40, median=12.0, ci=(8.0, 18.0))
    r = Arm("r", n=100, events=55, median=8.0, ci=(6.0, 11.0))
    c = comparison(e, r, hr=ReportedHR(0.7, ci=(0.5, 0.98), adjusted=True, p=pval("0.011")),
                   p=pval("0.03"), total_events=95, chisq=4.7)
    used = {}
    for method in M.METHODS:
        try:
            est = M.run_method(method, c)
        except NotApplicable:
            continue
        used[method] = [a for a in est.assumptions if a.startswith("p-value used:")]
    assert used["hr_p"] == ["p-value used: the HR's own p (hr.p = 0.011)"]
    for method in COMPARISON_P_METHODS:
        assert used[method] == ["p-value used: the comparison's p (p = 0.03), the test of the two groups"]
    for method in ("hr_ci", "chisq", "median_ratio_ci", "median_ratio_events"):
        assert used[method] == [], method


# -- large p: SE = |log HR| / z is unstable ------------------------------------------------


def test_large_p_threshold_is_z_1_04():
    """Two-sided p = 0.3 <-> z = Phi^-1(0.85) = 1.036433 (normal table)."""
    assert M.LARGE_P == 0.3
    assert M.Z_LARGE_P == pytest.approx(1.036433, abs=TABLE)


def test_alk_tki_pdl1_negative_is_flagged_unstable():
    """ALK-TKI 2025 (Transl Lung Cancer Res 14:2197), PD-L1 negative: medians 1.5 vs 2.9 months,
    P = 0.68. log HR = log(2.9/1.5) = 0.659246, z = Phi^-1(0.66) = 0.412463, SE = 1.598320."""
    c = comparison(Arm("immunotherapy", median=1.5), Arm("non-immunotherapy", median=2.9),
                   p=pval("0.68"))
    est = M.median_ratio_p(c)
    assert est.log_hr == pytest.approx(math.log(2.9 / 1.5), abs=EXACT)
    assert est.se == pytest.approx(0.659246 / 0.412463, abs=1e-5)  # TABLE-rounded quantile
    assert "unstable_large_p" in est.flags
    (warning,) = est.warnings
    assert warning.startswith("p = 0.68 is large (two-sided p > 0.3, z = 0.41 < 1.04)")
    assert "rounding of p and of the medians" in warning


@pytest.mark.parametrize("p, flagged", [("0.29", False), ("0.3", False), ("0.31", True),
                                        ("0.2", True)])
def test_large_p_flag_at_the_threshold(p, flagged):
    # "0.2" is one-sided below: two-sided 0.4 > 0.3
    sided = 1 if p == "0.2" else 2
    c = comparison(Arm("e", median=12.0), Arm("r", median=8.0), hr=ReportedHR(0.7),
                   p=pval(p, sided=sided), direction="favours experimental")
    for method in ("hr_p", "median_ratio_p"):
        est = M.run_method(method, c)
        assert ("unstable_large_p" in est.flags) == flagged, (method, p)


def test_large_p_does_not_flag_methods_whose_se_ignores_p():
    """p_events: SE = 1/sqrt(V) does not depend on p."""
    est = M.p_events(comparison(Arm("e", events=40), Arm("r", events=50), p=pval("0.68"),
                                direction="favours experimental"))
    assert "unstable_large_p" not in est.flags


# -- SE floor from the trial size: SE >= sqrt(1/n_e + 1/n_r) --------------------------------
#
# Expected numbers are closed forms: the floor sqrt(1/n_e + 1/n_r) (= 1/sqrt(N r (1 - r)),
# the inverse root of the log-rank information with one event per patient; Collett,
# Modelling Survival Data), |log(m_r/m_e)| / Phi^-1(1 - p/2) for median_ratio_p, and
# hypot of (log U - log L) / (2 * 1.959964) per arm for median_ratio_ci.


def test_se_floor_closed_form():
    """sqrt(1/n_e + 1/n_r); 2/sqrt(N) for 1:1 allocation; 1/sqrt(N r (1 - r)) in general."""
    assert M.se_floor(92, 62) == pytest.approx(math.sqrt(1 / 92 + 1 / 62), abs=EXACT)
    assert M.se_floor(92, 62) == pytest.approx(0.164312, abs=TABLE)  # the same, to 6 decimals
    assert M.se_floor(77, 77) == pytest.approx(2 / math.sqrt(154), abs=EXACT)
    n, r = 154, 92 / 154
    assert M.se_floor(92, 62) == pytest.approx(1 / math.sqrt(n * r * (1 - r)), abs=EXACT)


@pytest.mark.parametrize("ne, nr", [(0, 10), (10, -1), (float("nan"), 10), (10, None)])
def test_se_floor_rejects_non_positive_group_sizes(ne, nr):
    with pytest.raises(SurvmetaError, match="group size"):
        M.se_floor(ne, nr)


def polo(ne=92, nr=62, p="0.3487"):
    """POLO final OS (Kindler 2022, J Clin Oncol 40:3929): olaparib n = 92 vs placebo n = 62,
    medians 19.0 vs 19.2 months, P = .3487; printed HR 0.83 (0.56-1.22), i.e. SE
    (log 1.22 - log 0.56) / (2 * 1.959964) = 0.1987. Crossing curves: the medians barely differ."""
    return comparison(Arm("olaparib", n=ne, median=19.0), Arm("placebo", n=nr, median=19.2),
                      p=pval(p))


def test_median_ratio_p_polo_is_raised_to_the_floor():
    """|log(19.2/19.0)| / Phi^-1(1 - 0.3487/2) = 0.011174 < sqrt(1/92 + 1/62) = 0.164312."""
    est = M.median_ratio_p(polo())
    unfloored = abs(math.log(19.2 / 19.0)) / norm.isf(0.3487 / 2)
    assert unfloored == pytest.approx(0.011174, abs=TABLE)
    assert est.log_hr == pytest.approx(math.log(19.2 / 19.0), abs=EXACT)  # point estimate kept
    assert est.se == pytest.approx(math.sqrt(1 / 92 + 1 / 62), abs=EXACT)
    assert est.inputs["se_unfloored"] == pytest.approx(unfloored, abs=EXACT)
    assert est.inputs["n"] == [92, 62]
    assert "se_floor" in est.flags
    assert "unstable_large_p" in est.flags  # p = 0.3487 > 0.3: both flags, independently
    (text,) = [a for a in est.assumptions if a.startswith("SE raised")]
    assert text.startswith(
        "SE raised to the trial-size bound sqrt(1/n_e + 1/n_r) = 0.1643 (n 92 vs 62) from 0.0112"
    )


def test_median_ratio_p_close_medians_small_p_is_raised_to_the_floor():
    """Same medians with p = 0.01: |log(19.2/19.0)| / 2.575829 = 0.004065, raised to 0.164312."""
    est = M.median_ratio_p(polo(p="0.01"))
    assert est.inputs["se_unfloored"] == pytest.approx(math.log(19.2 / 19.0) / 2.575829, abs=TABLE)
    assert est.se == pytest.approx(math.sqrt(1 / 92 + 1 / 62), abs=EXACT)
    assert est.flags == ("se_floor",)


@pytest.mark.parametrize("ne, nr", [(None, None), (92, None), (None, 62)])
def test_median_ratio_p_without_both_group_sizes_has_no_floor(ne, nr):
    """No n, no floor: SE stays |log(19.2/19.0)| / Phi^-1(1 - 0.3487/2)."""
    est = M.median_ratio_p(polo(ne, nr))
    assert est.se == pytest.approx(abs(math.log(19.2 / 19.0)) / norm.isf(0.3487 / 2), abs=EXACT)
    assert "se_floor" not in est.flags
    assert "se_unfloored" not in est.inputs and "n" not in est.inputs
    assert not any(a.startswith("SE raised") for a in est.assumptions)


def test_median_ratio_p_above_the_floor_is_unchanged():
    """Medians 12 vs 8, p = 0.04: SE = log 1.5 / 2.053749 = 0.197428 > sqrt(2/100) = 0.141421."""
    e, r = Arm("e", median=12.0), Arm("r", median=8.0)
    with_n = M.median_ratio_p(comparison(dataclasses.replace(e, n=100),
                                         dataclasses.replace(r, n=100), p=pval("0.04")))
    without_n = M.median_ratio_p(comparison(e, r, p=pval("0.04")))
    assert with_n.se == pytest.approx(math.log(1.5) / 2.053749, abs=TABLE)
    assert with_n == without_n  # same SE, flags, assumptions and inputs
    assert "se_floor" not in with_n.flags


def test_median_ratio_ci_narrow_median_cis_are_raised_to_the_floor():
    """Medians 10 (9.5-10.5) vs 9 (8.6-9.4), n 50 vs 50: SE = hypot(log(10.5/9.5),
    log(9.4/8.6)) / (2 * 1.959964) = 0.034155 < sqrt(1/50 + 1/50) = 0.2."""
    e = Arm("e", n=50, median=10.0, ci=(9.5, 10.5))
    r = Arm("r", n=50, median=9.0, ci=(8.6, 9.4))
    est = M.median_ratio_ci(comparison(e, r))
    unfloored = math.hypot(math.log(10.5 / 9.5), math.log(9.4 / 8.6)) / (2 * 1.959964)
    assert est.se == pytest.approx(0.2, abs=EXACT)
    assert est.inputs["se_unfloored"] == pytest.approx(unfloored, abs=TABLE)
    assert est.log_hr == pytest.approx(math.log(9 / 10), abs=EXACT)
    assert est.flags == ("se_floor",)
    assert any(a.startswith("SE raised to the trial-size bound sqrt(1/n_e + 1/n_r) = 0.2000 "
                            "(n 50 vs 50) from 0.0342") for a in est.assumptions)
    # without the group sizes: the CI-based SE as it stands
    bare = M.median_ratio_ci(comparison(dataclasses.replace(e, n=None), r))
    assert bare.se == pytest.approx(unfloored, abs=TABLE)
    assert bare.flags == () and "se_unfloored" not in bare.inputs


def test_median_ratio_ci_above_the_floor_is_unchanged():
    """12 (8-18) vs 8 (6-10.6), n 100 vs 100: SE 0.2527 (as in the closed-form test) > 0.1414."""
    e = Arm("e", n=100, median=12.0, ci=(8.0, 18.0))
    r = Arm("r", n=100, median=8.0, ci=(6.0, 10.6))
    est = M.median_ratio_ci(comparison(e, r))
    se = math.hypot(math.log(18 / 8), math.log(10.6 / 6)) / (2 * 1.959964)
    assert est.se == pytest.approx(se, abs=TABLE)
    assert est == M.median_ratio_ci(comparison(dataclasses.replace(e, n=None),
                                               dataclasses.replace(r, n=None)))


def test_floor_on_a_derived_group_size_says_so():
    c = dataclasses.replace(polo(), derived=("reference.n: 154 minus 92",))
    assert "uses derived reference.n" in M.median_ratio_p(c).assumptions


@given(ne=st.integers(1, 5000), nr=st.integers(1, 5000), data=st.data())
@settings(max_examples=300, deadline=None)
def test_median_ratio_events_is_never_below_the_floor(ne, nr, data):
    """sqrt(1/d_e + 1/d_r) >= sqrt(1/n_e + 1/n_r) whenever d_e <= n_e and d_r <= n_r (exact:
    floating-point division and sqrt are monotone), so it needs no floor and gets no flag."""
    de = data.draw(st.integers(1, ne))
    dr = data.draw(st.integers(1, nr))
    est = M.median_ratio_events(comparison(Arm("e", n=ne, events=de, median=12.0),
                                           Arm("r", n=nr, events=dr, median=8.0)))
    assert est.se >= M.se_floor(ne, nr)
    assert "se_floor" not in est.flags


@given(ne=st.integers(1, 5000), nr=st.integers(1, 5000),
       me=st.floats(1.0, 60.0), ratio=st.floats(0.2, 5.0).filter(lambda x: abs(x - 1) > 1e-6),
       p=st.floats(1e-8, 0.99))
@settings(max_examples=300, deadline=None)
def test_median_ratio_p_se_is_the_larger_of_its_own_and_the_floor(ne, nr, me, ratio, p):
    """SE = max(|log HR| / z, sqrt(1/n_e + 1/n_r)); flagged exactly when the floor is taken."""
    c = comparison(Arm("e", n=ne, median=me), Arm("r", n=nr, median=me * ratio),
                   p=pval(repr(p)))
    est = M.median_ratio_p(c)
    own = abs(M.median_log_ratio(c)) / M.z_from_p(p)
    floor = M.se_floor(ne, nr)
    assert est.se == pytest.approx(max(own, floor), rel=EXACT)
    assert ("se_floor" in est.flags) == (own < floor)


def test_se_floor_is_the_p_patients_se():
    """p_patients: V = n_e n_r / (n_e + n_r), SE = 1/sqrt(V) = sqrt(1/n_e + 1/n_r): the same bound."""
    c = comparison(Arm("e", n=92), Arm("r", n=62), p=pval("0.04"), direction="favours experimental")
    assert M.p_patients(c).se == pytest.approx(M.se_floor(92, 62), abs=EXACT)
