"""Frequentist companions at the edges, against metafor 3.8-1.

The R script is ``tests/reference/metafor_edge_cases.R``; its printed output,
committed as ``tests/reference/metafor_edge_cases.Rout``, holds every number
used here (``REF`` lines, 17 significant digits).
"""

import math

import numpy as np
import pytest

from _rref import rref
from survmeta.exact import cumul, leave1out, rma

R = rref("metafor_edge_cases")
TIGHT = 1e-12   # closed-form quantities: rounding only
ITER = 1e-6     # iterative tau^2 estimators stop at metafor's own tolerance

IDENT_Y = np.log([0.75, 0.75, 0.75])
IDENT_SE = np.array([0.1, 0.2, 0.15])

FIELDS = {"b": "estimate", "se": "se", "zval": "stat", "pval": "pval", "ci.lb": "ci_lower",
          "ci.ub": "ci_upper", "tau2": "tau2", "QE": "Q", "QEp": "Q_p", "I2": "I2", "H2": "H2"}


def _same(got, want, tol=TIGHT):
    if math.isnan(want):
        return math.isnan(got)
    if math.isinf(want):
        return got == want
    return got == pytest.approx(want, abs=tol)


@pytest.mark.parametrize("method", ["REML", "DL", "PM", "ML"])
def test_identical_estimates_knha_gives_metafors_zero_width_answer(method):
    """Identical estimates (HR 0.75, 0.75, 0.75) with Knapp-Hartung: the weighted
    residual sum of squares is 0, so the scaled SE is 0. metafor::

        yi <- log(c(0.75, 0.75, 0.75)); sei <- c(0.1, 0.2, 0.15)
        r <- rma(yi, sei = sei, method = m, test = "knha"); predict(r)

    prints se 0, tval -Inf, p < .0001, ci.lb = ci.ub = -0.2877, tau^2 0, Q 0 (p 1),
    I^2 0%, H^2 1 and a zero-width prediction interval."""
    r = rma(IDENT_Y, IDENT_SE, method=method, test="knha")
    for key, name in FIELDS.items():
        assert _same(getattr(r, name), R[f"ident.{method}.knha.{key}"]), name
    assert _same(r.pi_lower, R[f"ident.{method}.knha.pred.pi.lb"])
    assert _same(r.pi_upper, R[f"ident.{method}.knha.pred.pi.ub"])


def test_identical_estimates_at_zero_give_nan_statistic():
    """``rma(c(0, 0), sei = c(0.1, 0.2), test = "knha")``: 0/0, so zval and pval NaN."""
    r = rma([0.0, 0.0], [0.1, 0.2], test="knha")
    assert math.isnan(r.stat) and math.isnan(r.pval)
    assert r.se == R["zero.knha.se"] and r.ci_lower == R["zero.knha.ci.lb"] == 0.0


def test_leave1out_and_cumul_with_identical_estimates():
    """``leave1out(r)`` and ``cumul(r)`` of the Knapp-Hartung fit above: every
    leave-one-out subset has identical estimates (se 0, -Inf, p 0); the first
    cumulative step is one study (z-test, se 0.1), the later ones zero-width."""
    loo = leave1out(IDENT_Y, IDENT_SE, test="knha")
    cum = cumul(IDENT_Y, IDENT_SE, test="knha")
    for table, prefix in ((loo, "ident.l1o.knha"), (cum, "ident.cumul.knha")):
        for i in range(3):
            row = table.iloc[i]
            for key, name in (("estimate", "estimate"), ("se", "se"), ("zval", "stat"),
                              ("pval", "pval"), ("ci.lb", "ci_lower"), ("ci.ub", "ci_upper")):
                assert _same(float(row[name]), R[f"{prefix}.{i + 1}.{key}"]), (prefix, i, name)


def test_pool_and_sensitivity_survive_identical_estimates(tmp_path):
    """The front doors that used to stop with ZeroDivisionError: the Knapp-Hartung
    interval of the REML companion is metafor's zero-width one."""
    from survmeta.living import sensitivity
    from survmeta.pooling import pool

    path = tmp_path / "ident.csv"
    path.write_text("study,estimate,se,year\n" + "".join(
        f"S{i},{float(y)!r},{float(s)!r},{2000 + i}\n" for i, (y, s) in enumerate(zip(IDENT_Y, IDENT_SE))))
    res = pool(str(path))["effects"]
    lo, hi = res.frequentist["REML"]["knha_ci"]
    assert lo == hi == pytest.approx(R["ident.REML.knha.ci.lb"], abs=TIGHT)
    table = sensitivity(str(path), "effects", priors=False, methods=False)
    reml = table[table["engine"] == "REML"]
    assert len(reml) == 6 and np.allclose(reml["hr"], 0.75)


@pytest.mark.parametrize("method", ["REML", "FE"])
def test_one_study_heterogeneity_as_metafor(method):
    """``rma(0.1, sei = 0.2, method = m)`` for m in REML, EE prints
    ``Q(df = 0) = 0.0000, p-val = 1.0000``, I^2 0.00%, H^2 1.00 and the z-test
    (estimate 0.1, se 0.2, z 0.5, p 0.6171, CI -0.2920 to 0.4920)."""
    r = rma([0.1], [0.2], method=method)
    ref = "k1.REML" if method == "REML" else "k1.EE"
    for key, name in FIELDS.items():
        assert _same(getattr(r, name), R[f"{ref}.{key}"]), name
    assert r.Q_df == 0


def test_one_study_knha_falls_back_to_z_with_a_note():
    """``rma(0.1, sei = 0.2, test = "knha")``: metafor warns 'Setting argument
    test="z" since k=1.' and reports the z-test."""
    assert R["k1.REML.knha.test_is_z"] == 1
    r = rma([0.1], [0.2], test="knha")
    assert r.test == "z" and r.stat_name == "z" and r.df is None
    for key, name in FIELDS.items():
        assert _same(getattr(r, name), R[f"k1.REML.knha.{key}"]), name
    assert len(r.notes) == 1 and "z-test" in r.notes[0]
    assert r.to_dict()["notes"] == list(r.notes)


def test_two_studies_knha_and_its_leave1out():
    """``r <- rma(c(-0.3, 0.1), sei = c(0.2, 0.3), test = "knha")`` prints estimate
    -0.1625, se 0.1900, tval -0.8553 (df 1), p 0.5495, CI -2.5765 to 2.2515;
    ``leave1out(r)`` fits one study per row and gives z-test values
    (0.1, 0.3, p 0.7389, CI -0.4880 to 0.6880 = ``rma(0.1, sei = 0.3)``), with
    Qp 1, I^2 0 and H^2 1."""
    y, s = [-0.3, 0.1], [0.2, 0.3]
    r = rma(y, s, test="knha")
    for key, name in FIELDS.items():
        assert _same(getattr(r, name), R[f"k2.REML.knha.{key}"], ITER), name
    assert R["k2.l1o.knha.1.pval"] == R["k2.l1o.z.1.pval"]
    loo = leave1out(y, s, test="knha")
    for i in range(2):
        row = loo.iloc[i]
        for key, name in (("estimate", "estimate"), ("se", "se"), ("pval", "pval"),
                          ("ci.lb", "ci_lower"), ("ci.ub", "ci_upper"), ("I2", "I2"),
                          ("H2", "H2"), ("QEp", "Q_p")):
            assert _same(float(row[name]), R[f"k2.l1o.knha.{i + 1}.{key}"]), (i, name)
    assert loo.attrs["notes"] and "z-test" in loo.attrs["notes"][0]
    assert leave1out(y, s).attrs["notes"] == []


def test_common_effect_model_has_no_prediction_interval():
    """``predict(rma(c(-0.3, 0.1), sei = c(0.2, 0.3), method = "EE"))`` has columns
    pred, se, ci.lb, ci.ub only (pred -0.1769, CI -0.5031 to 0.1492); the REML fit's
    prediction interval is there."""
    assert R["k2.EE.pred.has_pi"] == 0
    f = rma([-0.3, 0.1], [0.2, 0.3], method="FE")
    assert f.pi_lower is None and f.pi_upper is None
    assert _same(f.estimate, R["k2.EE.pred.pred"])
    assert _same(f.ci_lower, R["k2.EE.pred.ci.lb"]) and _same(f.ci_upper, R["k2.EE.pred.ci.ub"])
    r = rma([-0.3, 0.1], [0.2, 0.3])
    assert _same(r.pi_lower, R["k2.REML.pred.pi.lb"], ITER)
    assert _same(r.pi_upper, R["k2.REML.pred.pi.ub"], ITER)
