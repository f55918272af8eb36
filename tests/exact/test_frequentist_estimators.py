"""Every tau^2 estimator and its SE against metafor 3.8-1 on dat.bcg.

R (``tests/reference/metafor_bcg.R``, output ``metafor_bcg.Rout``)::

    dat <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
    r <- rma(yi, vi, data = dat, method = m)   # m in REML DL PM ML HE SJ HS EB EE
    r$tau2; r$se.tau2; predict(r)

printed with 17 significant digits. Note that survmeta takes SEs, metafor variances.
"""

import math

import numpy as np
import pytest

from _exact_data import BCG_YEAR, bcg_log_rr
from _rref import REFERENCE, rref
from survmeta.exact import cumul, leave1out, rma

R = rref("metafor_bcg")
CLOSED = 1e-10   # closed-form estimators (DL, HE, SJ, HS, FE): rounding only
ITER = 1e-6      # REML, ML: metafor's Fisher scoring stops at a 1e-5 change in tau^2;
                 # survmeta solves to 1e-13, relative differences stay below 1e-6 here
ROOT = 2e-4      # PM: solves Q_gen(tau^2) = k - 1, survmeta to 1e-13; metafor's uniroot()
                 # stops at tol = .Machine$double.eps^0.25 = 1.2e-4, on dat.bcg 2.5e-5 from
                 # the root (relative 8e-5 on tau^2, 6e-5 on its SE)

TOL = {"DL": CLOSED, "HE": CLOSED, "SJ": CLOSED, "HS": CLOSED, "FE": CLOSED,
       "REML": ITER, "ML": ITER, "PM": ROOT, "EB": ITER}
FIELDS = {"b": "estimate", "se": "se", "zval": "stat", "ci.lb": "ci_lower", "ci.ub": "ci_upper",
          "tau2": "tau2", "se.tau2": "tau2_se", "QE": "Q", "I2": "I2", "H2": "H2"}


@pytest.fixture(scope="module")
def bcg():
    yi, vi = bcg_log_rr()
    return yi, np.sqrt(vi)


@pytest.mark.parametrize("method", ["REML", "DL", "PM", "ML", "HE", "SJ", "HS", "EB", "FE"])
def test_estimator_matches_metafor(bcg, method):
    r = rma(*bcg, method=method)
    key = "EE" if method == "FE" else method
    tol = TOL[method]
    for ref, name in FIELDS.items():
        want, got = R[f"bcg.{key}.{ref}"], getattr(r, name)
        if math.isnan(want):
            assert got is None, name
        else:
            assert got == pytest.approx(want, rel=tol, abs=tol * 1e-3), name
    assert r.pval == pytest.approx(R[f"bcg.{key}.pval"], rel=max(tol, 1e-8) * 100)
    if method != "FE":
        assert r.pi_lower == pytest.approx(R[f"bcg.{key}.pred.pi.lb"], rel=tol)
        assert r.pi_upper == pytest.approx(R[f"bcg.{key}.pred.pi.ub"], rel=tol)


def test_eb_is_the_pm_root(bcg):
    """Without moderators, EB's estimating equation is Paule-Mandel's; survmeta's root
    solves it to 1e-12 (metafor's PM value, 0.318094, to about 1e-3 in Q; its EB
    iteration lands within 1e-7 of the root)."""
    y, s = bcg
    pm = rma(y, s, method="PM").tau2
    assert rma(y, s, method="EB").tau2 == pm
    w = 1 / (s ** 2 + pm)
    q = np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2)
    assert q == pytest.approx(len(y) - 1, rel=1e-12)


def test_knha_matches_metafor(bcg):
    r = rma(*bcg, test="knha")
    for ref, name in (("se", "se"), ("zval", "stat"), ("ci.lb", "ci_lower"), ("ci.ub", "ci_upper")):
        assert getattr(r, name) == pytest.approx(R[f"bcg.REML.knha.{ref}"], rel=ITER), name


def test_leave1out_and_cumul_match_metafor(bcg):
    """``leave1out(r)`` and ``cumul(r, order = dat$year)`` of the REML fit."""
    loo = leave1out(*bcg)
    cum = cumul(*bcg, order=BCG_YEAR)
    for table, prefix in ((loo, "bcg.l1o"), (cum, "bcg.cumul")):
        for i in range(len(table)):
            for name in ("estimate", "se", "tau2"):
                want = R[f"{prefix}.{i + 1}.{name}"]
                # REML stops at a 1e-5 change in tau^2 in metafor (tau^2 near 0.08 in step 4)
                assert table.iloc[i][name] == pytest.approx(want, rel=1e-5, abs=1e-5), (prefix, i)


@pytest.mark.parametrize("method", ["HE", "SJ", "HS", "EB"])
def test_new_estimators_in_leave1out_and_cumul(bcg, method):
    """The estimators are selectable wherever ``method`` is: each row is an ``rma`` fit."""
    y, s = bcg
    loo = leave1out(y, s, method=method)
    assert loo.iloc[0]["tau2"] == rma(y[1:], s[1:], method=method).tau2
    cum = cumul(y, s, method=method)
    assert cum.iloc[-1]["tau2"] == rma(y, s, method=method).tau2


def test_published_metafor_numbers_agree_with_the_regenerated_output():
    """The values quoted in test_frequentist.py from metafor's README and its testthat
    files (dat.bcg) are also in metafor_bcg.Rout, so regenerate.sh covers them."""
    assert R["bcg.REML.tau2"] == pytest.approx(0.313243325980895, rel=1e-12)
    assert R["bcg.REML.QE"] == pytest.approx(152.233008082373, rel=1e-12)
    assert R["bcg.REML.knha.ci.lb"] == pytest.approx(-1.1084, abs=5e-5)
    assert R["bcg.DL.b"] == pytest.approx(-0.7141, abs=5e-5)
    assert R["bcg.EE.b"] == pytest.approx(-0.4303, abs=5e-5)
    assert R["bcg.l1o.1.estimate"] == pytest.approx(-0.707083788031436, rel=1e-10)
    assert R["bcg.cumul.13.estimate"] == pytest.approx(-0.714532, abs=5e-7)


def test_every_reference_script_has_its_output():
    scripts = sorted(p.stem for p in REFERENCE.glob("*.R"))
    assert scripts == ["bayesmeta_bmr", "bayesmeta_engine", "metafor_bcg", "metafor_edge_cases",
                       "metafor_export", "metafor_influence", "metafor_medians", "metafor_metareg",
                       "metafor_metareg_oligo", "metafor_proportions", "metafor_pval",
                       "metafor_smallstudy",
                       "metafor_subgroups", "stats_binomtest", "survival_cox",
                       "survival_reconstructkm"]
    first = {"metafor": "metafor 3.8.1", "survival": "survival 3.5.3", "stats": "R 4.2.2"}
    for stem in scripts:
        text = (REFERENCE / f"{stem}.Rout").read_text(encoding="utf-8")
        assert "Error" not in text
        if stem.startswith("bayesmeta_"):   # R CMD BATCH output: R's banner, then the script
            assert text.lstrip().startswith("R version 4.2.2")
            version = text.split('> print(packageVersion("bayesmeta"))\n', 1)[1].split("\n")[0]
            assert version[:4] == "[1] " and version[5:-1] == "3.3"   # quotes depend on locale
        else:
            assert text.startswith(first[stem.split("_")[0]])
