"""Meta-regression (``rma_mods``) against metafor 3.8-1 on dat.bcg.

Reference: tests/reference/metafor_metareg.R, e.g.
``rma(yi, vi, mods = ~ ablat + year, data = dat, method = "REML")``,
``rma(yi, vi, mods = ~ ablat, data = dat)``, ``rma(yi, vi, mods = ~ factor(alloc),
data = dat)`` and each with ``test = "knha"``; ``dat`` is
``escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)``.
"""

import math

import numpy as np
import pytest

from _exact_data import BCG_ABLAT, BCG_ALLOC, BCG_YEAR, bcg_log_rr
from _rref import REFERENCE, rdata, rref
from survmeta.errors import SurvmetaError
from survmeta.exact import moderator_matrix, rma_mods

STORED = 1e-6   # relative; the script iterates REML/ML to a 1e-12 change in tau^2
PRINTED = 5e-5  # half a unit in metafor's 4th printed decimal

MODS = {
    "ablat_year": lambda: {"ablat": BCG_ABLAT, "year": BCG_YEAR.astype(float)},
    "ablat": lambda: {"ablat": BCG_ABLAT},
    "alloc": lambda: {"alloc": BCG_ALLOC},
}
CASES = [(m, meth, test) for m in MODS for meth in ("REML", "ML", "DL", "EE")
         for test in ("z",)] + [(m, "REML", "knha") for m in MODS]


@pytest.fixture(scope="module")
def bcg():
    yi, vi = bcg_log_rr()
    return yi, np.sqrt(vi)


def _close(got, want, tol=STORED):
    if want is None or (isinstance(want, float) and math.isnan(want)):
        assert got is None
    else:
        assert got == pytest.approx(want, rel=tol, abs=tol)


def test_moderator_data_are_metafors():
    d = rdata("metafor_metareg")
    assert tuple(BCG_ABLAT) == d["ablat"]
    assert tuple(BCG_YEAR) == d["year"]
    levels = sorted(set(BCG_ALLOC))
    assert tuple(float(levels.index(a) + 1) for a in BCG_ALLOC) == d["alloc"]


@pytest.mark.parametrize("mods,method,test", CASES)
def test_matches_metafor(bcg, mods, method, test):
    key = f"mr.{mods}.{method}" + (".knha" if test == "knha" else "")
    ref = rref("metafor_metareg")
    r = rma_mods(*bcg, MODS[mods](), method=method, test=test)
    for j, c in enumerate(r.coefficients):
        pre = f"{key}.b{j}"
        for attr, name in [("estimate", "b"), ("se", "se"), ("stat", "zval"), ("pval", "pval"),
                           ("ci_lower", "ci.lb"), ("ci_upper", "ci.ub")]:
            _close(getattr(c, attr), ref[f"{pre}.{name}"])
    _close(r.tau2, ref[f"{key}.tau2"])
    if method == "EE":
        assert r.tau2_se is None
    else:
        _close(r.tau2_se, ref[f"{key}.se.tau2"])
    _close(r.R2, ref[f"{key}.R2"], tol=1e-5)
    _close(r.QE, ref[f"{key}.QE"], tol=1e-10)
    _close(r.QE_p, ref[f"{key}.QEp"])
    _close(r.QM, ref[f"{key}.QM"])
    _close(r.QM_p, ref[f"{key}.QMp"])
    assert r.QM_df == ref[f"{key}.QMdf1"]
    if test == "knha":
        assert r.QM_df2 == ref[f"{key}.QMdf2"] == r.df
    else:
        assert r.QM_df2 is None and math.isnan(ref[f"{key}.QMdf2"])
    _close(r.I2, ref[f"{key}.I2"], tol=1e-5)
    _close(r.H2, ref[f"{key}.H2"], tol=1e-5)


def test_printed_ablat_year_reml(bcg):
    """metafor's printout of ``rma(yi, vi, mods = ~ ablat + year, data = dat,
    control = list(threshold = 1e-12))`` (tests/reference/metafor_metareg.Rout):
    tau^2 0.1108 (SE 0.0845), I^2 71.98%, R^2 64.63%, QE(df = 10) = 28.3251,
    QM(df = 2) = 12.2045, ablat -0.0280 (se 0.0102). With metafor's default
    convergence threshold (1e-5) it prints QM = 12.2043, the other numbers alike."""
    r = rma_mods(*bcg, {"ablat": BCG_ABLAT, "year": BCG_YEAR}, method="REML")
    assert r.names == ("intrcpt", "ablat", "year")
    assert r.tau2 == pytest.approx(0.1108, abs=PRINTED)
    assert r.tau2_se == pytest.approx(0.0845, abs=PRINTED)
    assert r.I2 == pytest.approx(71.98, abs=0.005)
    assert r.R2 == pytest.approx(64.63, abs=0.005)
    assert (r.QE, r.QE_df) == (pytest.approx(28.3251, abs=PRINTED), 10)
    assert (r.QM, r.QM_df) == (pytest.approx(12.2045, abs=PRINTED), 2)
    assert r.coef("ablat").estimate == pytest.approx(-0.0280, abs=PRINTED)
    assert r.coef("ablat").se == pytest.approx(0.0102, abs=PRINTED)


def test_array_input_and_names(bcg):
    a = rma_mods(*bcg, BCG_ABLAT, names=["ablat"])
    b = rma_mods(*bcg, {"ablat": BCG_ABLAT})
    assert a == b
    assert rma_mods(*bcg, BCG_ABLAT).names == ("intrcpt", "x1")
    fit, se = a.predict([[0.0], [40.0]])
    assert fit[0] == pytest.approx(a.coefficients[0].estimate)
    assert se[0] == pytest.approx(a.coefficients[0].se)
    assert fit[1] == pytest.approx(a.coefficients[0].estimate + 40 * a.coefficients[1].estimate)
    d = a.to_dict()
    assert d["coefficients"][1]["name"] == "ablat" and d["R2"] == a.R2


def test_factor_coding():
    X, names = moderator_matrix({"alloc": BCG_ALLOC})
    assert names == ("alloc[random]", "alloc[systematic]")
    assert X.shape == (13, 2) and X[:, 0].sum() == 7 and X[:, 1].sum() == 4


@pytest.mark.parametrize("kwargs,match", [
    ({"mods": np.ones(13)}, "collinear"),
    ({"mods": np.arange(13.0), "method": "PM"}, "unknown method"),
    ({"mods": np.arange(13.0), "test": "t"}, "unknown test"),
    ({"mods": np.arange(12.0)}, "one row per study"),
    ({"mods": {"alloc": ["a"] * 13}}, "one level"),
    ({"mods": np.arange(13.0), "names": ["a", "b"]}, "2 names for 1"),
])
def test_bad_input(bcg, kwargs, match):
    with pytest.raises(SurvmetaError, match=match):
        rma_mods(*bcg, **kwargs)


def test_too_few_studies():
    with pytest.raises(SurvmetaError, match="more than 2 studies"):
        rma_mods([0.1, 0.2], [0.1, 0.2], [1.0, 2.0])


@pytest.mark.parametrize("mods,method,test", [c for c in CASES if c[0] != "alloc"])
def test_print_matches_metafor_line_for_line(bcg, mods, method, test):
    """``print(rma(yi, vi, mods = ..., ...))`` as metafor_metareg.Rout shows it, down to the
    significance codes (factor terms are named ``alloc[random]`` here, R's
    ``factor(alloc)random``, so the factor model is left out)."""
    import re

    rout = (REFERENCE / "metafor_metareg.Rout").read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=(?:Mixed-Effects|Fixed-Effects))", rout)[1:]
    r_order = [(m, meth, t) for m in MODS for meth, t in
               [("REML", "z"), ("ML", "z"), ("DL", "z"), ("EE", "z"), ("REML", "knha")]]
    want = blocks[r_order.index((mods, method, test))].split("\n---")[0].rstrip("\n")
    got = str(rma_mods(*bcg, MODS[mods](), method=method, test=test)).split("\n---")[0]
    assert got.rstrip("\n") == want
