"""Swapping the arms negates the log HR and keeps the SE, for every method.

Property-based (hypothesis). Swapping experimental and reference turns a
printed HR into 1/HR with CI (1/U, 1/L), negates O - E (same V), flips the
stated direction and exchanges every per-arm number; each method must then
return exactly ``-log HR`` with the same SE. Tolerance ``SWAP = 1e-9``
(floating-point only: the identity is exact in real arithmetic).
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from recbuild import comparison, pval

from survmeta.reconstruction import methods as M
from survmeta.reconstruction.methods import NotApplicable
from survmeta.registry.records import NR, Arm, Comparison, DirectEffect, LogRank, ReportedHR

SWAP = 1e-9


def _inv(b):
    return NR if b is NR else 1.0 / b


def swap(c: Comparison) -> Comparison:
    """The same comparison with the arms exchanged."""
    hr = c.hr
    if hr is not None:
        ci = None if hr.ci is None else (_inv(hr.ci[1]), _inv(hr.ci[0]))
        hr = dataclasses.replace(hr, estimate=1.0 / hr.estimate, ci=ci)
    direction = {
        "favours experimental": "favours reference",
        "favours reference": "favours experimental",
        None: None,
    }[c.direction]
    return dataclasses.replace(
        c,
        experimental=c.reference,
        reference=c.experimental,
        hr=hr,
        logrank=None if c.logrank is None else LogRank(-c.logrank.o_minus_e, c.logrank.variance),
        effect=None if c.effect is None else DirectEffect(-c.effect.log_hr, c.effect.se),
        direction=direction,
    )


positive = st.floats(min_value=0.05, max_value=20.0)


@st.composite
def arms(draw):
    median = draw(st.one_of(st.floats(1.0, 60.0), st.just(NR)))
    lo_f = draw(st.floats(0.3, 0.95))
    hi = draw(st.one_of(st.floats(1.05, 3.0), st.just(NR)))
    ci = (
        None
        if median is NR
        else (median * lo_f, NR if hi is NR else median * hi)
    )
    return Arm(
        "a",
        n=draw(st.integers(20, 600)),
        events=draw(st.integers(5, 20)),
        median=median,
        ci=ci,
        ci_level=draw(st.sampled_from([0.95, 0.90, 0.96])),
        expected=draw(st.floats(2.0, 300.0)),
    )


@st.composite
def comparisons(draw):
    e, r = draw(arms()), draw(arms())
    e = dataclasses.replace(e, n=e.n + 20, events=e.events + draw(st.integers(0, 200)))
    theta = draw(st.floats(-2.0, 2.0).filter(lambda x: abs(x) > 1e-3))
    import math

    hr_est = math.exp(theta)
    lower = draw(st.one_of(st.floats(0.05, 0.95), st.just(NR)))
    upper = draw(st.one_of(st.floats(1.05, 20.0), st.just(NR)))
    if lower is NR and upper is NR:
        upper = 2.0
    ci = (NR if lower is NR else hr_est * lower, NR if upper is NR else hr_est * upper)
    p_text = draw(st.sampled_from(["0.04", "<0.001", "0.3", "0.0001", "0.9"]))
    sided = draw(st.sampled_from([1, 2]))
    return comparison(
        e,
        r,
        hr=ReportedHR(hr_est, ci=ci, level=draw(st.sampled_from([0.95, 0.9772]))),
        p=pval(p_text, sided=sided),
        logrank=LogRank(o_minus_e=draw(st.floats(-30, 30)), variance=draw(st.floats(1.0, 80.0))),
        chisq=draw(st.floats(0.0, 25.0)),
        total_events=draw(st.one_of(st.none(), st.integers(10, 400))),
        effect=DirectEffect(theta, draw(st.floats(0.01, 2.0))),
        direction=draw(st.sampled_from(["favours experimental", "favours reference", None])),
    )


@pytest.mark.parametrize("method", M.METHODS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c=comparisons())
def test_swapping_arms_negates_log_hr_and_keeps_se(method, c):
    fn = M.METHOD_FUNCTIONS[method]
    try:
        a = fn(c)
    except NotApplicable:
        with pytest.raises(NotApplicable):
            fn(swap(c))
        return
    b = fn(swap(c))
    assert b.log_hr == pytest.approx(-a.log_hr, abs=SWAP)
    assert b.se == pytest.approx(a.se, rel=SWAP)
    assert set(b.flags) == set(a.flags)


def test_swap_is_exercised_for_every_method():
    """Guard against a property test that never reaches a method: each method
    applies to at least one fixed comparison built like the strategy's."""
    e = Arm("e", n=100, events=40, median=12.0, ci=(8.0, 18.0), expected=45.0)
    r = Arm("r", n=100, events=55, median=8.0, ci=(6.0, 11.0), expected=50.0)
    c = comparison(
        e, r, hr=ReportedHR(0.7, ci=(0.5, 0.98)), p=pval("0.04"),
        logrank=LogRank(-5.0, 20.0), chisq=4.2, total_events=95, effect=DirectEffect(-0.3, 0.15),
        direction="favours experimental",
    )
    # km_ipd needs digitised curves, which this comparison has none of: its swap is checked in
    # tests/km/test_km_ipd.py (test_swapping_arms_negates_the_km_ipd_estimate)
    for method in [m for m in M.METHODS if m != "km_ipd"]:
        a, b = M.run_method(method, c), M.run_method(method, swap(c))
        assert b.log_hr == pytest.approx(-a.log_hr, abs=SWAP), method
        assert b.se == pytest.approx(a.se, rel=SWAP), method
