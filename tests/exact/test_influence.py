"""Q-profile interval for tau^2, influence diagnostics and Baujat coordinates against
metafor 3.8-1 on dat.bcg.

R (``tests/reference/metafor_influence.R``, output ``metafor_influence.Rout``)::

    dat <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
    r <- rma(yi, vi, data = dat)                  # also method = "DL" and "EE"
    confint(r); confint(r, control = list(tol = 1e-12))
    influence(r)
    baujat(rma(yi, vi, data = dat, method = "EE"))

printed with 17 significant digits (and with ``digits = 6`` beside them). Note that
survmeta takes SEs, metafor variances.
"""

import numpy as np
import pytest

from _exact_data import bcg_log_rr
from _rref import rref
from survmeta.errors import SurvmetaError
from survmeta.exact import baujat, confint_tau2, influence

R = rref("metafor_influence")
PRINTED = 5e-5   # metafor's default confint() printout has 4 decimals
UNIROOT = 1.3e-4  # confint()'s default uniroot(tol = .Machine$double.eps^0.25 = 1.2e-4) stops
                  # that close to the root in tau^2 (on dat.bcg 2.3e-5 off on the lower bound)
ROOT = 1e-9      # against confint(control = list(tol = 1e-12)): the roots themselves
CLOSED = 1e-10   # DL and EE fits: closed forms, rounding only
ITER = 1e-5      # REML fits: metafor's Fisher scoring stops at a 1e-5 change in tau^2, which
                 # moves its leave-one-out tau^2 and what follows by up to 2e-6 (relative)


@pytest.fixture(scope="module")
def bcg():
    yi, vi = bcg_log_rr()
    return yi, np.sqrt(vi)


def _fields(ci):
    return {"tau2": ci.tau2, "tau2.lb": ci.tau2_lower, "tau2.ub": ci.tau2_upper, "tau": ci.tau,
            "tau.lb": ci.tau_lower, "tau.ub": ci.tau_upper, "I2": ci.I2, "I2.lb": ci.I2_lower,
            "I2.ub": ci.I2_upper, "H2": ci.H2, "H2.lb": ci.H2_lower, "H2.ub": ci.H2_upper}


def test_confint_reml_printed(bcg):
    """``confint(rma(yi, vi, data = dat))``: tau^2 0.3132 [0.1197, 1.1115],
    tau 0.5597 [0.3460, 1.0543], I^2 92.22% [81.92, 97.68], H^2 12.86 [5.53, 43.07]."""
    ci = confint_tau2(*bcg)
    assert (ci.tau2, ci.tau2_lower, ci.tau2_upper) == pytest.approx((0.3132, 0.1197, 1.1115),
                                                                    abs=PRINTED)
    assert (ci.tau, ci.tau_lower, ci.tau_upper) == pytest.approx((0.5597, 0.3460, 1.0543),
                                                                 abs=PRINTED)
    assert (ci.I2, ci.I2_lower, ci.I2_upper) == pytest.approx((92.22, 81.92, 97.68), abs=0.005)
    assert (ci.H2, ci.H2_lower, ci.H2_upper) == pytest.approx((12.86, 5.53, 43.07), abs=0.005)
    assert not ci.ci_null and not ci.upper_at_max


@pytest.mark.parametrize("method", ["REML", "DL"])
def test_confint_default_and_tight_roots(bcg, method):
    ci = _fields(confint_tau2(*bcg, method=method))
    est = ITER if method == "REML" else CLOSED
    for key, got in ci.items():
        tol = est if key in ("tau2", "tau", "I2", "H2") else ROOT
        assert got == pytest.approx(R[f"ci.{method}.tight.{key}"], rel=tol), key
    for key in ("tau2.lb", "tau2.ub"):
        assert ci[key] == pytest.approx(R[f"ci.{method}.{key}"], abs=UNIROOT), key


def test_confint_level(bcg):
    """``confint(r, level = 0.90)``."""
    ci = _fields(confint_tau2(*bcg, level=0.90))
    for key in ("tau2.lb", "tau2.ub", "I2.lb", "I2.ub", "H2.lb", "H2.ub"):
        assert ci[key] == pytest.approx(R[f"ci.REML.90.{key}"], rel=ROOT), key


def test_confint_lower_bound_at_zero(bcg):
    """Trials 1, 2, 3, 4, 7, 10: tau^2 = 0 and Q(0) between the chi^2 quantiles, so the
    lower bound is 0 and the upper a root (metafor: 0.1326)."""
    y, s = bcg
    idx = np.array([1, 2, 3, 4, 7, 10]) - 1
    ci = confint_tau2(y[idx], s[idx])
    for key, got in _fields(ci).items():
        assert got == pytest.approx(R[f"ci.sub.{key}"], rel=ROOT, abs=1e-12), key
    assert ci.ci_null == bool(R["ci.sub.null"]) is False


def test_confint_null_set():
    """``confint(rma(c(0.1, 0.1, 0.1001), c(0.1, 0.1, 0.1)))``: both bounds 0 ("the CIs are
    therefore equal to the null/empty set")."""
    ci = confint_tau2([0.1, 0.1, 0.1001], np.sqrt([0.1, 0.1, 0.1]))
    for key, got in _fields(ci).items():
        assert got == pytest.approx(R[f"ci.null.{key}"], abs=1e-12), key
    assert ci.ci_null is bool(R["ci.null.null"]) is True


def test_confint_refuses_what_metafor_refuses(bcg):
    with pytest.raises(SurvmetaError, match="common-effect"):
        confint_tau2(*bcg, method="FE")
    with pytest.raises(SurvmetaError, match="two studies"):
        confint_tau2([0.1], [0.2])
    with pytest.raises(SurvmetaError, match="level"):
        confint_tau2(*bcg, level=95)


COLUMNS = ("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight", "dfbs")


@pytest.mark.parametrize("method", ["REML", "DL", "EE"])
def test_influence_matches_metafor(bcg, method):
    """Every column of ``influence(rma(yi, vi, data = dat, method = m))``, and its ``inf``
    flag (none for REML and DL; trials 4, 6 and 8 under EE)."""
    frame = influence(*bcg, method=method).to_frame()
    assert list(frame.columns) == [*COLUMNS, "inf"]
    tol = ITER if method == "REML" else CLOSED
    for i in range(len(frame)):
        for col in COLUMNS:
            want = R[f"inf.{method}.{i + 1}.{col}"]
            assert frame[col].iloc[i] == pytest.approx(want, rel=tol, abs=1e-12), (i, col)
        assert (frame["inf"].iloc[i] == "*") == bool(R[f"inf.{method}.{i + 1}.inf"]), i
    flagged = list(frame.index[frame["inf"] == "*"])
    assert flagged == (["4", "6", "8"] if method == "EE" else [])


def test_influence_printed_digits(bcg):
    """First row of the printed ``influence(res)`` (REML, digits = 6): rstudent -0.218142,
    dffits -0.040708, cook.d 0.001717, cov.r 1.116449, tau2.del 0.336157, QE.del 151.582573,
    hat 0.050595, weight 5.059483, dfbs -0.040266."""
    row = influence(*bcg).to_frame().iloc[0]
    printed = (-0.218142, -0.040708, 0.001717, 1.116449, 0.336157, 151.582573, 0.050595,
               5.059483, -0.040266)
    for col, want in zip(COLUMNS, printed):
        assert row[col] == pytest.approx(want, abs=5e-7), col


def test_influence_labels_and_result_is_frozen(bcg):
    res = influence(*bcg, labels=[f"t{i}" for i in range(13)])
    assert res.to_frame().index[0] == "t0"
    with pytest.raises(AttributeError):
        res.method = "DL"
    with pytest.raises(SurvmetaError, match="labels"):
        influence(*bcg, labels=["a"])
    with pytest.raises(SurvmetaError, match="two studies"):
        influence([0.1], [0.2])


@pytest.mark.parametrize("method", ["EE", "REML"])
def test_baujat_matches_metafor(bcg, method):
    """``baujat(rma(yi, vi, data = dat, method = m))`` returned coordinates."""
    b = baujat(*bcg, method=method)
    tol = CLOSED if method == "EE" else ITER
    for i in range(13):
        assert b.x[i] == pytest.approx(R[f"baujat.{method}.{i + 1}.x"], rel=tol), i
        assert b.y[i] == pytest.approx(R[f"baujat.{method}.{i + 1}.y"], rel=tol), i


def test_baujat_x_sums_to_q_under_common_effect(bcg):
    """Under the common-effect model the x coordinates are the contributions to Q."""
    b = baujat(*bcg)
    assert b.x.sum() == pytest.approx(152.23300808237329, rel=1e-12)
