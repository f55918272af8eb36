"""Subgroup analysis (survmeta.subgroups) pinned to metafor and to closed forms.

metafor 3.8-1 on dat.bcg by allocation (tests/reference/metafor_subgroups.R, its output
metafor_subgroups.Rout), the script::

    fits <- lapply(split(dat, dat$alloc), function(d) rma(yi, vi, data = d, method = m))
    est <- sapply(fits, function(r) as.numeric(coef(r))); se <- sapply(fits, function(r) r$se)
    comp <- rma(est, sei = se, method = "EE")   # comp$QE, comp$QEp: the test

Tolerances: REML's iterations (metafor stops at 1e-10 in tau^2): 1e-6; DL is closed-form:
1e-10. Monte Carlo tolerance of the posterior difference with 20,000 independent draws per
subgroup: 4 SE of a quantile, about 0.01 on the log scale here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survmeta.errors import SurvmetaError
from survmeta.exact import bayesmeta
from survmeta.subgroups import subgroup_analysis

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exact"))
from _exact_data import bcg_log_rr  # noqa: E402
from _rref import rref  # noqa: E402

#: dat.bcg$alloc, as R prints it (dput(as.character(dat.bcg$alloc))).
ALLOC = ["random", "random", "random", "random", "alternate", "alternate", "random", "random",
         "random", "systematic", "systematic", "systematic", "systematic"]


def _bcg() -> pd.DataFrame:
    yi, vi = bcg_log_rr()
    return pd.DataFrame({"log_hr": yi, "se": np.sqrt(vi), "alloc": ALLOC,
                         "key": [f"trial{i + 1}" for i in range(13)]})


@pytest.mark.parametrize("method, tol", [("REML", 1e-6), ("DL", 1e-10)])
def test_test_for_subgroup_differences_matches_metafor(method, tol):
    ref = rref("metafor_subgroups")
    res = subgroup_analysis(_bcg(), by="alloc", method=method, draws=2000)
    assert [g.name for g in res.groups] == ["random", "alternate", "systematic"]
    for g in res.groups:
        assert g.k == ref[f"sub.{method}.{g.name}.k"]
        assert g.freq_estimate == pytest.approx(ref[f"sub.{method}.{g.name}.estimate"], abs=tol)
        assert g.freq_se == pytest.approx(ref[f"sub.{method}.{g.name}.se"], abs=tol)
    assert res.q_between == pytest.approx(ref[f"sub.{method}.between.Q"], abs=10 * tol)
    assert res.df == ref[f"sub.{method}.between.df"]
    assert res.p_between == pytest.approx(ref[f"sub.{method}.between.p"], abs=10 * tol)


def test_subgroup_posteriors_are_the_exact_engine_and_the_difference_is_their_convolution():
    """Each subgroup's interval is bayesmeta on its rows; the difference of independent
    posteriors has median near the difference of means and P(< 0) matching a direct
    computation from the two exact CDFs on a grid."""
    df = _bcg()
    res = subgroup_analysis(df, by="alloc", draws=20000, seed=7)
    rnd = df[df.alloc == "random"]
    post = bayesmeta(rnd.log_hr.to_numpy(), rnd.se.to_numpy(), tau_prior="halfnormal(0.5)",
                     mu_prior="normal(0, 4)")
    assert res.groups[0].mu == pytest.approx(float(post.quantile("mu", 0.5)), abs=1e-12)
    alt = df[df.alloc == "alternate"]
    post2 = bayesmeta(alt.log_hr.to_numpy(), alt.se.to_numpy(), tau_prior="halfnormal(0.5)",
                      mu_prior="normal(0, 4)")
    grid = np.linspace(-4, 4, 4001)
    f1 = np.gradient(np.asarray(post.cdf("mu", grid), float), grid)
    c2 = np.asarray(post2.cdf("mu", grid), float)
    # P(mu2 - mu1 < 0) = int f1(x) P(mu2 < x) dx
    p = float(np.trapezoid(f1 * c2, grid))
    assert res.differences[0].p_below_0 == pytest.approx(p, abs=0.01)


def test_one_subgroup_is_refused():
    df = _bcg().assign(alloc="random")
    with pytest.raises(SurvmetaError, match="only one subgroup"):
        subgroup_analysis(df, by="alloc")
    with pytest.raises(SurvmetaError, match="no column"):
        subgroup_analysis(df, by="nothing")


def test_time_origin_mix_is_a_located_warning():
    """Rows counting survival from progression and from rechallenge: a warning naming both."""
    import pandas as pd

    from survmeta.pooling import mixed_time_origins

    eff = pd.DataFrame({"key": ["a/os", "b/pfs", "c/os", "d/os"],
                        "time_origin": ["progression", "rechallenge", None, "progression"]})
    assert mixed_time_origins(eff) == {"progression": ["a/os", "d/os"],
                                       "rechallenge": ["b/pfs"], "": ["c/os"]}
    # one stated origin and unstated rows: no mix
    assert mixed_time_origins(eff.iloc[[0, 2, 3]]) == {}
    assert mixed_time_origins(eff.drop(columns="time_origin")) == {}


def test_bundled_oligo_question_warns_on_time_origins():
    from pathlib import Path

    from survmeta.pooling import pool

    res = pool(Path(__file__).resolve().parents[2] / "studies.toml",
               question="oligo_vs_systemic")
    (w,) = [w for w in res["oligo_vs_systemic"].diagnostics.warnings
            if w.startswith("counts survival from different time origins")]
    assert "progression (heo2021/os_oligo_vs_multi)" in w
    assert "rechallenge (xu2023/pfs_oligo_vs_systemic_after_ar)" in w
