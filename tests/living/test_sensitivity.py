"""Sensitivity sweeps: metafor's leave1out/cumul on dat.bcg, wiring, executors, the command."""

from __future__ import annotations

from pathlib import Path
import io
import json
import math

import numpy as np
import pandas as pd
import pytest

from survmeta.cli import main
from survmeta.errors import SurvmetaError
from survmeta.living import PRIOR_GRID_MU, PRIOR_GRID_TAU, Progress, sensitivity
from survmeta.pooling import pool_question, select_rows, effect_table

REPO = Path(__file__).resolve().parents[2]

#: dat.bcg (metafor; Colditz et al. 1994): author, year, tpos, tneg, cpos, cneg.
BCG = (
    ("Aronson", 1948, 4, 119, 11, 128),
    ("Ferguson & Simes", 1949, 6, 300, 29, 274),
    ("Rosenthal et al", 1960, 3, 228, 11, 209),
    ("Hart & Sutherland", 1977, 62, 13536, 248, 12619),
    ("Frimodt-Moller et al", 1973, 33, 5036, 47, 5761),
    ("Stein & Aronson", 1953, 180, 1361, 372, 1079),
    ("Vandiviere et al", 1973, 8, 2537, 10, 619),
    ("TPT Madras", 1980, 505, 87886, 499, 87892),
    ("Coetzee & Berjak", 1968, 29, 7470, 45, 7232),
    ("Rosenthal et al", 1961, 17, 1699, 65, 1600),
    ("Comstock et al", 1974, 186, 50448, 141, 27197),
    ("Comstock & Webster", 1969, 5, 2493, 3, 2338),
    ("Comstock et al", 1976, 27, 16886, 29, 17825),
)

#: metafor tests/testthat/test_misc_cumul.r: cumul(rma(yi, vi), order=year, transf=exp)$estimate
#: for escalc(measure="RR") on dat.bcg, printed to 6 decimals.
METAFOR_CUMUL_EXP = (0.410939, 0.265802, 0.378296, 0.367477, 0.332398, 0.377772, 0.406061,
                     0.454496, 0.420796, 0.456024, 0.492527, 0.451686, 0.489421)
#: metafor tests/testthat/test_misc_influence.r: leave1out(rma(yi, vi))[1], trial 1 (Aronson) left out.
METAFOR_LOO_1 = {"estimate": -0.707083788031436, "ci_lower": -1.07940055491509,
                 "ci_upper": -0.334767021147788, "tau2": 0.336156745300306}
#: metafor prints leave1out/cumul to 4 decimals; its REML iterations stop when tau^2 changes by
#: less than 1e-5, which moves the estimates by about 1e-6, so these tolerances are far tighter
#: than the printed precision but looser than the stopping rule's effect.
TOL_CUMUL = 5e-6
TOL_LOO = 1e-6


def bcg_effects() -> pd.DataFrame:
    rows = []
    for author, year, a, b, c, d in BCG:
        yi = math.log((a / (a + b)) / (c / (c + d)))
        vi = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
        rows.append({"study": f"{author} {year}", "comparison": "tb", "year": year,
                     "log_hr": yi, "se": math.sqrt(vi), "question": "bcg"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def bcg_sweep() -> pd.DataFrame:
    return sensitivity(bcg_effects(), "bcg", priors=False, methods=False, progress=False)


def test_cumulative_reml_rows_match_metafor_cumul(bcg_sweep):
    reml = bcg_sweep[(bcg_sweep.analysis == "cumulative") & (bcg_sweep.engine == "REML")]
    assert list(reml["k"]) == list(range(1, 14))
    np.testing.assert_allclose(reml["hr"].to_numpy(), METAFOR_CUMUL_EXP, rtol=0, atol=TOL_CUMUL)
    # ties (two 1973 trials) are added in data order, as R's order() does
    assert list(reml["study"])[7:9] == ["Frimodt-Moller et al 1973/tb", "Vandiviere et al 1973/tb"]


def test_leave_one_out_reml_row_matches_metafor_leave1out(bcg_sweep):
    row = bcg_sweep[(bcg_sweep.analysis == "leave-one-out") & (bcg_sweep.engine == "REML")].iloc[0]
    assert row["study"] == "Aronson 1948/tb" and row["k"] == 12
    assert math.log(row["hr"]) == pytest.approx(METAFOR_LOO_1["estimate"], abs=TOL_LOO)
    assert math.log(row["hr_lower"]) == pytest.approx(METAFOR_LOO_1["ci_lower"], abs=TOL_LOO)
    assert math.log(row["hr_upper"]) == pytest.approx(METAFOR_LOO_1["ci_upper"], abs=TOL_LOO)
    assert row["tau"] ** 2 == pytest.approx(METAFOR_LOO_1["tau2"], abs=TOL_LOO)


def test_bayesian_rows_are_the_pooling_engine_on_the_same_rows(bcg_sweep):
    """Wiring: each variant equals pool_question on the rows it names (exact engine, same seed)."""
    effects, questions = effect_table(bcg_effects())
    rows, _, _ = select_rows(effects, "bcg")
    exact = bcg_sweep[bcg_sweep.engine == "exact"].set_index("variant")
    base = pool_question(rows, questions["bcg"], draws=0)
    assert exact.loc["all comparisons", "hr"] == base.stats["hr"].median
    without = pool_question(rows[rows.study != "TPT Madras 1980"].reset_index(drop=True),
                            questions["bcg"], draws=0)
    assert exact.loc["without TPT Madras 1980/tb", "hr"] == without.stats["hr"].median
    assert exact.loc["without TPT Madras 1980/tb", "p_hr_below_1"] == without.p_hr_below_1
    first3 = rows[rows.year <= 1953].reset_index(drop=True)  # 1948, 1949, 1953
    three = pool_question(first3, questions["bcg"], draws=0)
    assert exact.loc["+ Stein & Aronson 1953/tb (1953)", "tau_upper"] == three.stats["tau"].eti.upper
    assert exact.loc["+ Stein & Aronson 1953/tb (1953)", "tau_lower"] == three.stats["tau"].eti.lower
    reml = bcg_sweep[bcg_sweep.engine == "REML"]
    assert reml["tau_lower"].isna().all() and reml["tau_upper"].isna().all()


def test_columns_and_counts(bcg_sweep):
    assert list(bcg_sweep.columns) == ["analysis", "variant", "changed", "engine", "k", "hr",
                                       "hr_lower", "hr_upper", "tau", "tau_lower", "tau_upper",
                                       "p_hr_below_1", "note", "tau_prior", "mu_prior", "study", "year"]
    counts = bcg_sweep.groupby(["analysis", "engine"]).size().to_dict()
    assert counts == {("base", "exact"): 1, ("leave-one-out", "exact"): 13, ("leave-one-out", "REML"): 13,
                      ("cumulative", "exact"): 13, ("cumulative", "REML"): 13}


def test_prior_grid_and_subsets():
    effects = bcg_effects()
    effects["design"] = ["rct" if y < 1970 else "prospective cohort" for y in effects["year"]]
    df = sensitivity(effects, "bcg", loo=False, cumulative=False, methods=False,
                     subsets=[{"design": "rct"}, lambda t: t["year"] >= 1970], progress=False,
                     tau_grid=PRIOR_GRID_TAU[:4])
    prior = df[df.analysis == "prior"]
    assert len(prior) == 4 * len(PRIOR_GRID_MU) - 1  # the primary pair is the base row
    assert set(prior["tau_prior"]) == set(PRIOR_GRID_TAU[:4])
    subset = df[df.analysis == "subset"].set_index("variant")
    assert subset.loc["design = rct", "k"] == 7
    assert subset.loc["<lambda>", "k"] == 6
    with pytest.raises(SurvmetaError, match="no column 'desing'"):
        sensitivity(effects, "bcg", loo=False, cumulative=False, priors=False, methods=False,
                    subsets={"desing": "rct"}, progress=False)


def test_method_variants_use_the_alternatives():
    effects, _ = effect_table(REPO / "tests" / "living" / "data" / "mini.toml")
    df = sensitivity(effects, "oligo_vs_systemic", loo=False, cumulative=False, priors=False,
                     progress=False)
    method = df[df.analysis == "method"]
    gamma = effects.set_index("key").loc["gamma2023/os"]
    alt_methods = {a["method"] for a in gamma["alternatives"]} - {gamma["method"]}
    assert {f"gamma2023/os via {m}" for m in alt_methods} <= set(method["variant"])
    assert "approximate estimates excluded" in set(method["variant"])
    excl = method.set_index("variant").loc["approximate estimates excluded"]
    q = effects[effects.question == "oligo_vs_systemic"]
    assert excl["k"] == int(sum(not a for a in q["approximate"]))


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_executors_give_the_serial_table(executor, bcg_sweep):
    df = sensitivity(bcg_effects(), "bcg", priors=False, methods=False, executor=executor,
                     progress=False)
    pd.testing.assert_frame_equal(df, bcg_sweep)


def test_dask_local_cluster(bcg_sweep):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False) as cluster, \
            distributed.Client(cluster) as client:
        df = sensitivity(bcg_effects(), "bcg", priors=False, methods=False, executor=client,
                         progress=False)
    pd.testing.assert_frame_equal(df, bcg_sweep)


def test_progress_bar_only_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = Progress(4, "sweep", stream=stream)
        for _ in range(4):
            bar.update()
        bar.close()
    assert tty.getvalue().endswith("\rsweep: 4/4 [" + "#" * 30 + "]\n")
    assert pipe.getvalue() == ""


def test_command_runs_every_analysis_on_the_seed_question(capsys, tmp_path):
    """Issue 6, done-when: `survmeta sensitivity` runs every analysis on oligo_vs_systemic."""
    figure = tmp_path / "loo.png"
    assert main(["sensitivity", str(REPO / "studies.toml"), "--question", "oligo_vs_systemic",
                 "--format", "json", "--quiet", "--plot", str(figure)]) == 0
    rows = json.loads(capsys.readouterr().out)
    analyses = {r["analysis"] for r in rows}
    assert {"base", "leave-one-out", "cumulative", "prior"} <= analyses
    assert sum(r["analysis"] == "prior" for r in rows) == len(PRIOR_GRID_TAU) * len(PRIOR_GRID_MU) - 1
    assert figure.stat().st_size > 0 and (tmp_path / "loo-cumulative.png").stat().st_size > 0
    assert all(r["hr_lower"] <= r["hr"] <= r["hr_upper"] for r in rows if r["hr"] is not None)


def test_command_subset_flag(capsys):
    assert main(["sensitivity", str(REPO / "tests" / "living" / "data" / "mini.toml"),
                 "--question", "oligo_vs_systemic", "--subset", "endpoint=OS", "--format", "csv",
                 "--quiet"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(df["analysis"]) == ["base", "subset"]
    assert df.loc[1, "k"] == 2
    assert main(["sensitivity", str(REPO / "studies.toml"), "--question", "nope", "--quiet"]) == 2
    assert "unknown question" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# tau_lower; variants that cannot be fitted; automatic subsets from pooled rows
# ---------------------------------------------------------------------------
def test_tau_interval_of_an_uninformative_study_is_the_prior_quantiles():
    """Closed form: one study of SE 100 barely informs tau (its marginal variance 100^2 + 4^2 + tau^2
    changes by under 1e-3 for tau < 3), so tau's posterior is its half-normal(0.5) prior to about
    1e-4, whose p-quantile is 0.5 * Phi^-1((1 + p) / 2): the 95% interval is
    [0.5 Phi^-1(0.5125), 0.5 Phi^-1(0.9875)] and the median 0.5 Phi^-1(0.75)."""
    from scipy.stats import norm

    effects = pd.DataFrame({"study": ["solo"], "log_hr": [-0.2], "se": [100.0], "question": ["q"]})
    df = sensitivity(effects, "q", cumulative=False, priors=False, progress=False)
    base = df[df.analysis == "base"].iloc[0]
    assert base["tau_lower"] == pytest.approx(0.5 * norm.ppf(0.5125), rel=1e-4)
    assert base["tau"] == pytest.approx(0.5 * norm.ppf(0.75), rel=1e-4)
    assert base["tau_upper"] == pytest.approx(0.5 * norm.ppf(0.9875), rel=1e-4)
    # leaving out the only comparison cannot be fitted: listed, k = 0, NaN numbers, the reason
    loo = df[df.analysis == "leave-one-out"]
    assert len(loo) == 1  # no REML companion for it
    row = loo.iloc[0]
    assert (row["variant"], row["engine"], row["k"]) == ("without solo/effect", "exact", 0)
    assert row[["hr", "hr_lower", "hr_upper", "tau", "tau_lower", "tau_upper",
                "p_hr_below_1"]].isna().all()
    assert row["note"] == "solo/effect is the only pooled comparison: nothing left to pool"


def _approximate_bcg(flags) -> pd.DataFrame:
    effects = bcg_effects()
    effects["approximate"] = flags
    return effects


@pytest.mark.parametrize("n_approx", [0, 4, 13])
def test_approximate_estimates_excluded_is_always_listed(n_approx):
    effects = _approximate_bcg([i < n_approx for i in range(13)])
    df = sensitivity(effects, "bcg", loo=False, cumulative=False, priors=False, progress=False)
    (row,) = df[df.variant == "approximate estimates excluded"].itertuples(index=False)
    assert row.k == 13 - n_approx
    base = df[df.analysis == "base"].iloc[0]
    if n_approx == 0:
        assert row.hr == base["hr"] and row.tau_lower == base["tau_lower"]
        assert row.note.startswith("no approximate estimate among the pooled comparisons")
    elif n_approx == 13:
        assert math.isnan(row.hr) and math.isnan(row.tau) and math.isnan(row.p_hr_below_1)
        assert row.note.startswith("every pooled comparison is an approximate estimate")
    else:
        effects_, questions = effect_table(effects)
        kept = select_rows(effects_, "bcg")[0].iloc[n_approx:].reset_index(drop=True)
        direct = pool_question(kept, questions["bcg"], draws=0)
        assert row.hr == direct.stats["hr"].median and row.note is None
        assert row.changed.startswith("left out 4 approximate estimate(s): Aronson 1948/tb, ")


def test_seed_question_methods_lists_the_excluded_variant(capsys):
    """The reported case: --methods on oligo_vs_systemic lists the variant whatever its k."""
    assert main(["sensitivity", str(REPO / "studies.toml"), "--question", "oligo_vs_systemic",
                 "--methods", "--format", "csv", "--quiet"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    (row,) = df[df.variant == "approximate estimates excluded"].itertuples(index=False)
    effects, _ = effect_table(REPO / "studies.toml")
    pooled = select_rows(effects, "oligo_vs_systemic")[0]
    assert row.k == int((~pooled["approximate"].astype(bool)).sum())
    if row.k == 0:
        assert math.isnan(row.hr) and "nothing left to pool" in row.note
    else:
        assert row.hr > 0


def test_automatic_subsets_come_from_pooled_rows_only():
    effects = bcg_effects()
    effects["endpoint"] = ["TB" if y < 1970 else "TB death" for y in effects["year"]]
    effects["poolable"] = True
    extra = effects.iloc[[0]].assign(study="Unpoolable 1990", endpoint="TB (from diagnosis)",
                                     design="rct", log_hr=math.nan, se=math.nan, poolable=False,
                                     reason="not significant, no direction")
    effects = pd.concat([effects, extra], ignore_index=True)
    df = sensitivity(effects, "bcg", loo=False, cumulative=False, priors=False, methods=False,
                     subsets="auto", progress=False)
    subset = df[df.analysis == "subset"].set_index("variant")
    assert list(subset.index) == ["endpoint = TB", "endpoint = TB death"]  # no design: not a column
    assert subset.loc["endpoint = TB", "k"] == 7 and subset.loc["endpoint = TB death", "k"] == 6
    assert subset["note"].isna().all()
    # asked for explicitly, a subset with nothing to pool is a k = 0 row saying why
    df = sensitivity(effects, "bcg", loo=False, cumulative=False, priors=False, methods=False,
                     subsets=[{"endpoint": "TB (from diagnosis)"}, {"endpoint": "OS"}], progress=False)
    rows = df[df.analysis == "subset"].set_index("variant")
    assert list(rows["k"]) == [0, 0] and rows["hr"].isna().all()
    assert rows.loc["endpoint = TB (from diagnosis)", "note"] == (
        "no comparison with endpoint = TB (from diagnosis) can be pooled "
        "(Unpoolable 1990/tb: not significant, no direction)")
    assert rows.loc["endpoint = OS", "note"] == "no comparison of bcg has endpoint = OS"


def test_seed_question_default_run_has_no_empty_automatic_subset(capsys):
    assert main(["sensitivity", str(REPO / "studies.toml"), "--question", "oligo_vs_systemic",
                 "--format", "json", "--quiet"]) == 0
    rows = json.loads(capsys.readouterr().out)
    subsets = [r for r in rows if r["analysis"] == "subset"]
    effects, _ = effect_table(REPO / "studies.toml")
    pooled = select_rows(effects, "oligo_vs_systemic")[0]
    endpoints = set(pooled["endpoint"])
    assert {r["variant"] for r in subsets if r["variant"].startswith("endpoint = ")} == (
        {f"endpoint = {e}" for e in endpoints} if len(endpoints) > 1 else set())
    assert all(r["k"] > 0 and r["note"] is None for r in subsets)


def test_shrinkage_variant_is_the_pooling_of_the_corrected_table():
    """From a registry, --methods adds the analysis with the shrinkage correction switched."""
    path = REPO / "studies.toml"
    q = "oligo_vs_systemic"
    df = sensitivity(path, q, loo=False, cumulative=False, priors=False, progress=False)
    (row,) = df[df.variant == "shrinkage correction on"].itertuples(index=False)
    corrected, questions = effect_table(path, correct_shrinkage=True)
    rows = select_rows(corrected, q)[0]
    direct = pool_question(rows, questions[q], draws=0)
    assert row.hr == direct.stats["hr"].median and row.k == len(rows)
    moved = [k for k, f in zip(rows["key"], rows["flags"]) if "shrinkage_corrected" in f]
    assert moved and all(k in row.changed for k in moved)
    # with the correction in the primary analysis, the variant switches it off
    df2 = sensitivity(path, q, loo=False, cumulative=False, priors=False, progress=False,
                      correct_shrinkage=True)
    base = df2[df2.analysis == "base"].iloc[0]
    assert base.hr == direct.stats["hr"].median
    (off,) = df2[df2.variant == "shrinkage correction off"].itertuples(index=False)
    assert off.hr == df[df.analysis == "base"].iloc[0].hr
    # an effect table is already reconstructed: no such variant
    effects, _ = effect_table(path)
    df3 = sensitivity(effects, q, loo=False, cumulative=False, priors=False, progress=False)
    assert not df3.variant.str.startswith("shrinkage correction").any()
