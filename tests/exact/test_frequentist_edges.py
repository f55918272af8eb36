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
    from survmeta.pool import pool

    path = tmp_path / "ident.csv"
    path.write_text("study,estimate,se,year\n" + "".join(
        f"S{i},{float(y)!r},{float(s)!r},{2000 + i}\n" for i, (y, s) in enumerate(zip(IDENT_Y, IDENT_SE))))
    res = pool(str(path))["effects"]
    lo, hi = res.frequentist["REML"]["knha_ci"]
    assert lo == hi == pytest.approx(R["ident.REML.knha.ci.lb"], abs=TIGHT)
    table = sensitivity(str(path), "effects", priors=False, methods=False)
    reml = table[table["engine"] == "REML"]
    assert len(reml) == 6 and np.allclose(reml["hr"], 0.75)
