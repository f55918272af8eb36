"""Frequentist companions against metafor's documented output on dat.bcg."""

import numpy as np
import pytest

from _exact_data import BCG_YEAR, bcg_log_rr
from survmeta.errors import SurvmetaError
from survmeta.exact import cumul, leave1out, rma

PRINTED = 5e-5   # metafor prints 4 decimals: half a unit in the last place
STORED = 1e-6    # metafor's own tests store full-precision values; its REML
                 # Fisher scoring stops at a 1e-5 change, so compare at 1e-6


@pytest.fixture(scope="module")
def bcg():
    yi, vi = bcg_log_rr()
    return yi, np.sqrt(vi)


def test_reml_matches_metafor_readme(bcg):
    """metafor README.md (``rma(yi, vi, data=dat)`` printed output): tau^2 0.3132
    (SE 0.1664), tau 0.5597, I^2 92.22%, H^2 12.86, Q(df=12) = 152.2330; estimate
    -0.7145, se 0.1798, z -3.9744, CI -1.0669 to -0.3622."""
    r = rma(*bcg, method="REML")
    assert r.tau2 == pytest.approx(0.3132, abs=PRINTED)
    assert r.tau2_se == pytest.approx(0.1664, abs=PRINTED)
    assert r.tau == pytest.approx(0.5597, abs=PRINTED)
    assert r.I2 == pytest.approx(92.22, abs=0.005)
    assert r.H2 == pytest.approx(12.86, abs=0.005)
    assert r.Q == pytest.approx(152.2330, abs=PRINTED)
    assert r.Q_df == 12
    assert r.estimate == pytest.approx(-0.7145, abs=PRINTED)
    assert r.se == pytest.approx(0.1798, abs=PRINTED)
    assert r.stat == pytest.approx(-3.9744, abs=PRINTED)
    assert (r.ci_lower, r.ci_upper) == pytest.approx((-1.0669, -0.3622), abs=PRINTED)


def test_reml_tau2_matches_metafor_tests(bcg):
    """metafor tests/testthat/test_misc_influence.r: tau2 = 0.313243325980895,
    QE = 152.233008082373."""
    r = rma(*bcg)
    assert r.tau2 == pytest.approx(0.313243325980895, rel=STORED)
    assert r.Q == pytest.approx(152.233008082373, rel=1e-12)


def test_knha_matches_metafor_readme(bcg):
    """metafor README.md, ``rma(yi, vi, data=dat, test="knha")``: se 0.1808, t -3.9522,
    df 12, p 0.0019, CI -1.1084 to -0.3206; ``predict(res, transf=exp, digits=2)``:
    prediction interval 0.14 to 1.76."""
    r = rma(*bcg, test="knha")
    assert r.se == pytest.approx(0.1808, abs=PRINTED)
    assert r.stat == pytest.approx(-3.9522, abs=PRINTED)
    assert r.df == 12
    assert r.pval == pytest.approx(0.0019, abs=PRINTED)
    assert (r.ci_lower, r.ci_upper) == pytest.approx((-1.1084, -0.3206), abs=PRINTED)
    assert np.exp([r.pi_lower, r.pi_upper]) == pytest.approx([0.14, 1.76], abs=0.005)


def test_dl_and_fe_match_metafor_tests(bcg):
    """metafor tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r (checked there
    against Stata's metan): DL estimate -0.7141, CI -1.0644 to -0.3638, z -3.9952,
    tau2 0.3088, I2 92.1173; FE estimate -0.4303, CI -0.5097 to -0.3509, z -10.6247."""
    r = rma(*bcg, method="DL")
    assert r.estimate == pytest.approx(-0.7141, abs=PRINTED)
    assert (r.ci_lower, r.ci_upper) == pytest.approx((-1.0644, -0.3638), abs=PRINTED)
    assert r.stat == pytest.approx(-3.9952, abs=PRINTED)
    assert r.tau2 == pytest.approx(0.3088, abs=PRINTED)
    assert r.I2 == pytest.approx(92.1173, abs=PRINTED)
    f = rma(*bcg, method="FE")
    assert f.estimate == pytest.approx(-0.4303, abs=PRINTED)
    assert (f.ci_lower, f.ci_upper) == pytest.approx((-0.5097, -0.3509), abs=PRINTED)
    assert f.stat == pytest.approx(-10.6247, abs=PRINTED)
    assert f.tau2 == 0.0


def test_pm_and_ml_solve_their_estimating_equations(bcg):
    """No printed metafor values for PM/ML on dat.bcg were found; check the defining
    equations instead: PM makes the generalised Q equal k - 1 (Paule & Mandel 1982),
    ML zeroes the ML score in tau^2."""
    y, s = bcg
    v = s ** 2
    pm = rma(y, s, method="PM").tau2
    w = 1 / (v + pm)
    mu = np.sum(w * y) / np.sum(w)
    assert np.sum(w * (y - mu) ** 2) == pytest.approx(len(y) - 1, rel=1e-10)
    ml = rma(y, s, method="ML").tau2
    w = 1 / (v + ml)
    mu = np.sum(w * y) / np.sum(w)
    assert np.sum(w ** 2 * (y - mu) ** 2) == pytest.approx(np.sum(w), rel=1e-10)


def test_leave1out_matches_metafor_tests(bcg):
    """metafor tests/testthat/test_misc_influence.r, first row of ``leave1out(res)``."""
    out = leave1out(*bcg).iloc[0]
    expected = {"estimate": -0.707083788031436, "se": 0.189961024702717,
                "stat": -3.72225717953459, "pval": 0.000197449759023198,
                "ci_lower": -1.07940055491509, "ci_upper": -0.334767021147788,
                "Q": 151.582572747109, "Q_p": 7.0778599767807e-27,
                "tau2": 0.336156745300306, "I2": 93.2259349111223, "H2": 14.762184698253}
    for name, value in expected.items():
        assert out[name] == pytest.approx(value, rel=1e-5), name


def test_cumul_matches_metafor_tests(bcg):
    """metafor tests/testthat/test_misc_cumul.r, ``cumul(res, order=year)$estimate``
    (6 decimals); tolerance 1e-5 relative because metafor's REML iterations stop at a
    1e-5 change in tau^2, which moves some stored values by ~2e-6."""
    out = cumul(*bcg, order=BCG_YEAR)
    expected = [-0.889311, -1.325003, -0.97208, -1.001094, -1.101424, -0.973464, -0.901251,
                -0.788566, -0.865607, -0.785211, -0.708206, -0.794768, -0.714532]
    assert out["estimate"].to_numpy() == pytest.approx(expected, rel=1e-5)


def test_invalid_arguments(bcg):
    with pytest.raises(SurvmetaError, match="unknown method"):
        rma(*bcg, method="XX")
    with pytest.raises(SurvmetaError, match="unknown test"):
        rma(*bcg, test="t")
    with pytest.raises(SurvmetaError, match="positive"):
        rma([0.1, 0.2], [0.1, 0.0])
