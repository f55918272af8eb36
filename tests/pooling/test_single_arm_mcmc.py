"""Single-group questions pooled with ``engine="mcmc"`` (issue 18): the PyMC models through
``pool()`` and ``survmeta pool --engine mcmc``.

The bundled questions ``rechallenge_response`` (a proportion, k = 6) and
``rechallenge_pfs_median`` (a median, k = 7, one study printed in days) are pooled with both
engines. The MCMC fit's pooled logit or log median (the posterior median of mu) and its
credible limits must lie within ``N_MCSE`` Monte Carlo standard errors of the exact
engine's, the MCSE being the one arviz-stats reports for the fit's own draws
(``arviz_stats.mcse(..., method="quantile", prob=p)``). The exact engines themselves are
pinned to metafor and bayesmeta in tests/exact/; the PyMC models alone are compared with
them in tests/models/test_single_arm.py.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import arviz_stats as azs
import numpy as np
import pytest
from scipy import special

from survmeta.cli import main
from survmeta.pooling import pool, pool_single_arm_question
from survmeta.registry import load

pytestmark = pytest.mark.mcmc

REGISTRY = Path(__file__).resolve().parents[2] / "studies.toml"
PROP, MED = "rechallenge_response", "rechallenge_pfs_median"
SEED = 20260301
#: Short runs: 2 chains x 1000 draws after 1000 tuning steps.
OPTIONS = {"draws": 1000, "tune": 1000, "chains": 2}
#: Agreement with the exact engine: within 4 Monte Carlo standard errors (arviz-stats).
N_MCSE = 4.0
#: Values carried through unchanged (the same numbers in two places): floating-point only.
CLOSED = 1e-12
PROBS = (0.025, 0.5, 0.975)


@pytest.fixture(scope="module")
def both():
    reg = load(REGISTRY)
    exact = pool(reg, question=[PROP, MED])
    mcmc = pool(reg, question=[PROP, MED], engine="mcmc", seed=SEED, mcmc_options=OPTIONS)
    return exact, mcmc


def _mcse(post, p):
    return float(azs.mcse(post["posterior"]["mu"], method="quantile", prob=p))


def _mu_quantiles(post):
    return np.quantile(post["posterior"]["mu"].values, PROBS)


def test_engine_and_diagnostics_are_recorded(both):
    _, mcmc = both
    for q in (PROP, MED):
        sa = mcmc.single_arm[q]
        assert sa.engine == "mcmc"
        d = sa.diagnostics
        assert d.is_mcmc and d.r_hat_max is not None and d.ess_bulk_min is not None
        assert d.chains == OPTIONS["chains"] and d.draws == OPTIONS["draws"]
        assert sa.posterior is not None
        assert not any("exact engine" in n for n in sa.notes)
        out = json.loads(json.dumps(sa.to_dict(), default=float))
        assert out["engine"] == "mcmc" and out["diagnostics"]["divergences"] == d.divergences
    assert mcmc.single_arm[PROP].pool.engine == "mcmc"
    assert mcmc.single_arm[MED].pool.log_median.engine == "mcmc"
    assert "Bayesian by MCMC" in mcmc.single_arm[PROP].summary()
    assert "log-median (mcmc)" in mcmc.single_arm[MED].summary()


def test_pooled_proportion_within_mcse_of_exact(both):
    exact, mcmc = both
    e, m = exact.single_arm[PROP].pool, mcmc.single_arm[PROP]
    want = (e.mu_ci[0], e.mu_median, e.mu_ci[1])
    got = _mu_quantiles(m.posterior)
    for p, g, w in zip(PROBS, got, want):
        assert abs(g - w) <= N_MCSE * _mcse(m.posterior, p), (p, g, w)
    # the pool's fields are those draws' summaries on the natural scale
    assert m.pool.proportion == pytest.approx(special.expit(got[1]), abs=CLOSED)
    assert m.pool.proportion_ci == pytest.approx(tuple(special.expit(got[[0, 2]])), abs=CLOSED)
    assert m.sof_row()["estimate"] == pytest.approx(100 * m.pool.proportion, abs=CLOSED)


def test_pooled_median_within_mcse_of_exact(both):
    exact, mcmc = both
    e, m = exact.single_arm[MED].pool.log_median, mcmc.single_arm[MED]
    want = np.log([e.lower, e.median, e.upper])
    got = _mu_quantiles(m.posterior)
    for p, g, w in zip(PROBS, got, want):
        assert abs(g - w) <= N_MCSE * _mcse(m.posterior, p), (p, g, w)
    assert m.pool.log_median.median == pytest.approx(math.exp(got[1]), abs=CLOSED)
    assert m.sof_row()["unit"] == "months"


def test_companions_are_the_same_with_either_engine(both):
    exact, mcmc = both
    ce, cm = exact.single_arm[PROP].pool.companions, mcmc.single_arm[PROP].pool.companions
    assert [c.to_dict() for c in cm] == [c.to_dict() for c in ce]
    me, mm = exact.single_arm[MED].pool, mcmc.single_arm[MED].pool
    assert mm.mm == me.mm and mm.wm == me.wm and mm.studies == me.studies
    assert mm.log_median.freq_median == me.log_median.freq_median


def test_same_seed_same_numbers():
    reg = load(REGISTRY)
    opts = {"draws": 100, "tune": 100, "chains": 2}
    a = pool_single_arm_question(reg, PROP, engine="mcmc", seed=7, mcmc_options=opts)
    b = pool_single_arm_question(reg, PROP, engine="mcmc", seed=7, mcmc_options=opts)
    assert a.pool.proportion == b.pool.proportion and a.pool.proportion_pi == b.pool.proportion_pi


def test_failed_checks_become_warnings_and_notes():
    # 2 chains x 50 draws: the ESS checks (400) cannot pass
    sa = pool_single_arm_question(load(REGISTRY), MED, engine="mcmc", seed=SEED,
                                  mcmc_options={"draws": 50, "tune": 50, "chains": 2})
    warnings = sa.diagnostics.warnings
    assert any("ESS" in w for w in warnings)
    assert [n for n in sa.notes if n.startswith("MCMC: ")] == [f"MCMC: {w}" for w in warnings]


def test_bad_sampler_option_is_a_clear_error():
    from survmeta.errors import SurvmetaError

    with pytest.raises(SurvmetaError, match="MCMC options"):
        pool_single_arm_question(load(REGISTRY), PROP, engine="mcmc",
                                 mcmc_options={"not_an_option": 1})


def test_cli_engine_mcmc_json(capsys):
    args = ["pool", str(REGISTRY), "--question", PROP, "--engine", "mcmc", "--seed", "7",
            "--draws", "200", "--chains", "2", "--format", "json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    (row,) = data["single_arm"]
    assert row["engine"] == "mcmc" and row["pool"]["engine"] == "mcmc"
    direct = pool_single_arm_question(load(REGISTRY), PROP, engine="mcmc", seed=7,
                                      mcmc_options={"draws": 200, "chains": 2})
    assert row["summary"]["estimate"] == pytest.approx(100 * direct.pool.proportion, abs=1e-9)


def test_cli_engine_mcmc_table_and_csv(capsys):
    base = ["pool", str(REGISTRY), "--question", MED, "--engine", "mcmc", "--seed", "7",
            "--draws", "200", "--chains", "2"]
    assert main(base + ["--format", "table"]) == 0
    out = capsys.readouterr().out
    assert "Single-group questions (Bayesian by MCMC;" in out and "log-median (mcmc)" in out
    assert main(base + ["--format", "csv"]) == 0
    assert MED in capsys.readouterr().out


def test_saved_results_keep_the_engine(both):
    from survmeta.results_io import SavedSingleArmResult

    _, mcmc = both
    saved = SavedSingleArmResult(json.loads(json.dumps(mcmc.single_arm[PROP].to_dict(),
                                                       default=float)))
    assert saved.engine == "mcmc"
    assert SavedSingleArmResult({"question": {"id": "x"}}).engine == "exact"
