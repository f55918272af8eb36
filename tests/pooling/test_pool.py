"""The pooling front door and `survmeta pool`, wired to the exact engine.

The exact engine itself is pinned to bayesmeta's published numbers in
tests/exact; here the reference is that engine called directly on the same
rows, so these tests check the wiring (row selection, priors, summaries, JSON
contract, CLI), not the numerics again.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from survmeta.cli import main
from survmeta.exact import bayesmeta
from survmeta.pooling import pool
from survmeta.registry import load_registry

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = ROOT / "studies.toml"

# Eight schools (Rubin 1981; Gelman et al., BDA3 Table 5.2).
SCHOOLS_Y = [28, 8, -3, 7, -1, 1, 18, 12]
SCHOOLS_S = [15, 10, 16, 11, 9, 11, 10, 18]


@pytest.fixture(scope="module")
def bundled():
    return pool(load_registry(REGISTRY))


def test_bundled_registry_pools_the_oligo_question_from_four_studies(bundled):
    r = bundled["oligo_vs_systemic"]
    assert r.k == 4
    assert set(r.effects["study"]) == {"heo2021", "xu2023", "cancers2020_opd", "chai2021"}
    direct = bayesmeta(r.effects["log_hr"], r.effects["se"], tau_prior="halfnormal(0.5)",
                       mu_prior="normal(0, 4)")
    assert r.stats["mu"].median == pytest.approx(direct.median("mu"), abs=1e-9)
    assert r.stats["hr"].eti.upper == pytest.approx(direct.eti("hr", 0.95)[1], abs=1e-9)
    assert r.p_hr_below_1 == pytest.approx(direct.prob_below(1.0, scale="hr"), abs=1e-9)


def test_subgroups_and_unpoolable_rows_are_listed_not_pooled(bundled):
    alk = bundled["immunotherapy_after_alk_tki"]
    assert list(alk.effects["comparison"]) == ["pfs_overall"]
    assert set(alk.excluded["comparison"]) == {"pfs_pdl1_positive", "pfs_pdl1_negative",
                                               "pfs_pdl1_positive_rebiopsy"}
    skipped = {s["id"] for s in bundled.skipped}
    assert "site_extrathoracic_vs_thoracic" in skipped


def test_json_contract_per_question(bundled):
    d = json.loads(json.dumps(bundled.to_dict()))
    q = next(x for x in d["questions"] if x["id"] == "oligo_vs_systemic")
    for key in ("id", "k", "engine", "priors", "mu", "tau", "hr", "predict", "p_hr_below_1",
                "studies", "diagnostics"):
        assert key in q, key
    for block in ("mu", "tau", "hr", "predict"):
        assert set(q[block]) == {"mean", "median", "sd", "eti", "hdi", "eti95", "hdi95"}
        lo, hi = q[block]["eti"]
        assert lo < q[block]["median"] < hi
        assert q[block]["eti95"] == q[block]["eti"] and q[block]["hdi95"] == q[block]["hdi"]
    assert d["schema_version"] == 2 and q["level"] == 0.95
    assert {"id", "log_hr", "se", "method", "shrunken"} <= set(q["studies"][0])
    # exp is monotone: the HR's median is exp of the log HR's median
    assert q["hr"]["median"] == pytest.approx(np.exp(q["mu"]["median"]), rel=1e-6)


def test_same_seed_same_draws():
    a = pool(REGISTRY, question="oligo_vs_systemic", seed=7)["oligo_vs_systemic"]
    b = pool(REGISTRY, question="oligo_vs_systemic", seed=7)["oligo_vs_systemic"]
    np.testing.assert_array_equal(a.posterior["posterior"]["mu"].values,
                                  b.posterior["posterior"]["mu"].values)


def test_cli_pool_effects_csv_matches_engine(tmp_path, capsys):
    csv = tmp_path / "schools.csv"
    csv.write_text("study,estimate,se\n" + "".join(
        f"school{i + 1},{y},{s}\n" for i, (y, s) in enumerate(zip(SCHOOLS_Y, SCHOOLS_S))))
    code = main(["pool", "--effects", str(csv), "--tau-prior", "uniform(0, 50)",
                 "--mu-prior", "flat", "--format", "json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    (q,) = out["questions"]
    assert q["k"] == 8
    direct = bayesmeta(SCHOOLS_Y, SCHOOLS_S, tau_prior="uniform(0, 50)", mu_prior="flat")
    assert q["mu"]["mean"] == pytest.approx(direct.mean("mu"), abs=1e-9)


def test_cli_pool_save_writes_json(tmp_path, capsys):
    target = tmp_path / "results.json"
    assert main(["pool", str(REGISTRY), "--question", "oligo_vs_systemic",
                 "--save", str(target)]) == 0
    saved = json.loads(target.read_text())
    assert [q["id"] for q in saved["questions"]] == ["oligo_vs_systemic"]
    assert "pooled HR" in capsys.readouterr().out


def test_cli_pool_unknown_question_is_a_clear_error(capsys):
    assert main(["pool", str(REGISTRY), "--question", "oligo_vs_sistemic"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'oligo_vs_systemic'" in err
    assert "Traceback" not in err


def test_cli_pool_bad_prior_is_a_clear_error(capsys):
    assert main(["pool", str(REGISTRY), "--tau-prior", "halfnormal(-1)"]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.mcmc
def test_hierarchical_results_are_read_per_question_from_the_shared_fit():
    """Wiring of the hierarchical fit: each question's summary comes from its own mu[question].
    Three questions of one group (pfs1_prognostic_factors) give one fit; a question of another
    group is pooled but not linked."""
    res = pool(REGISTRY, question=["pfs1_female_vs_male", "oligo_vs_systemic",
                                   "pfs1_bone_metastasis_vs_none", "pfs1_pdl1_high_vs_negative"],
               hierarchical=True, mcmc_options={"draws": 300, "tune": 300, "chains": 2})
    hier = res.hierarchical
    assert list(hier) == ["pfs1_female_vs_male", "pfs1_bone_metastasis_vs_none",
                          "pfs1_pdl1_high_vs_negative"]
    assert set(hier.by_fit()) == {"pfs1_prognostic_factors"}
    assert res.meta["hierarchical_links"]["not_linked"] == {
        "oligo_vs_systemic": "the only pooled question of group progression_pattern"}
    post = hier["pfs1_female_vs_male"].posterior["posterior"]
    for qid, r in hier.items():
        assert r.engine == "hierarchical"
        mu = post["mu"].sel(question=qid).values
        assert r.stats["mu"].mean == pytest.approx(float(mu.mean()), abs=1e-12)
        assert r.p_hr_below_1 == pytest.approx(float((np.exp(mu) < 1).mean()), abs=1e-12)
        assert r.diagnostics.r_hat_max is not None and isinstance(r.diagnostics.warnings, tuple)
    assert "hierarchical" in res.to_dict()


def test_common_effect_companion_of_one_study_is_its_own_estimate(tmp_path):
    """Closed form: with one study and a flat mu prior, tau = 0 gives mu | y ~ N(y, s^2)."""
    csv = tmp_path / "one.csv"
    csv.write_text("study,estimate,se\nonly,-0.4,0.25\n")
    r = pool(csv, mu_prior="flat")["effects"]
    ce = r.common_effect.hr
    assert ce.median == pytest.approx(np.exp(-0.4), rel=1e-6)
    assert ce.eti.lower == pytest.approx(np.exp(-0.4 - 1.959964 * 0.25), rel=1e-5)
    assert ce.eti.upper == pytest.approx(np.exp(-0.4 + 1.959964 * 0.25), rel=1e-5)
    # the random-effects interval is wider: it adds the heterogeneity the tau prior allows
    assert r.stats["hr"].eti.upper > ce.eti.upper
    assert any(n.startswith("one study") for n in r.notes)
    assert r.to_dict()["common_effect"]["hr"]["median"] == pytest.approx(ce.median)


def test_subgroup_of_an_unpoolable_parent_says_so():
    from survmeta.pooling import select_rows

    import pandas as pd

    rows = pd.DataFrame([
        dict(question="q", study="s", comparison="all", key="s/all", poolable=False,
             reason="no direction", subgroup_of=None, log_hr=np.nan, se=np.nan),
        dict(question="q", study="s", comparison="sub", key="s/sub", poolable=True,
             reason=None, subgroup_of="all", log_hr=-0.3, se=0.2),
    ])
    pooled, excluded, _ = select_rows(rows, "q")
    assert len(pooled) == 0
    assert "s/all has no estimate" in excluded.set_index("key").loc["s/sub", "reason"]


def test_nested_subgroup_names_the_comparison_pooled_for_its_patients(bundled):
    """alk_tki2025: re-biopsy is a subgroup of PD-L1-positive, itself a subgroup of overall."""
    reasons = bundled["immunotherapy_after_alk_tki"].excluded.set_index("comparison")["reason"]
    assert reasons["pfs_pdl1_positive_rebiopsy"] == (
        "subgroup of alk_tki2025/pfs_pdl1_positive (itself a subgroup of alk_tki2025/pfs_overall); "
        "alk_tki2025/pfs_overall is pooled instead")


def test_hr_scale_moments_are_not_reported(bundled):
    """exp(prediction) has no finite variance under these priors; only medians and intervals."""
    q = bundled["oligo_vs_systemic"].to_dict()
    assert q["predict_hr"]["sd"] is None and q["hr"]["mean"] is None
    assert q["hr"]["median"] == pytest.approx(np.exp(q["mu"]["median"]), rel=1e-6)


def test_cli_refuses_registry_and_effects_together(tmp_path, capsys):
    csv = tmp_path / "e.csv"
    csv.write_text("study,estimate,se\na,-0.5,0.2\n")
    assert main(["pool", str(REGISTRY), "--effects", str(csv)]) == 2
    assert "not both" in capsys.readouterr().err


def test_cli_unwritable_save_path_is_a_clear_error(tmp_path, capsys):
    code = main(["pool", str(REGISTRY), "--question", "oligo_vs_systemic",
                 "--save", str(tmp_path / "missing-dir" / "r.json")])
    assert code == 2
    err = capsys.readouterr().err
    assert "No such file or directory" in err and "Traceback" not in err


def test_mcmc_refuses_an_improper_tau_prior(capsys):
    assert main(["pool", str(REGISTRY), "--question", "oligo_vs_systemic", "--engine", "mcmc",
                 "--tau-prior", "flat"]) == 2
    assert "needs a proper prior on tau" in capsys.readouterr().err


@pytest.mark.mcmc
def test_cli_pool_mcmc_with_nutpie_matches_engine(tmp_path, capsys):
    pytest.importorskip("nutpie")
    csv = tmp_path / "schools.csv"
    csv.write_text("study,estimate,se\n" + "".join(
        f"school{i + 1},{y},{s}\n" for i, (y, s) in enumerate(zip(SCHOOLS_Y, SCHOOLS_S))))
    code = main(["pool", "--effects", str(csv), "--engine", "mcmc", "--sampler", "nutpie",
                 "--tau-prior", "halfnormal(10)", "--mu-prior", "flat", "--format", "json"])
    assert code == 0
    (q,) = json.loads(capsys.readouterr().out)["questions"]
    assert q["engine"] == "mcmc" and q["diagnostics"]["divergences"] == 0
    direct = bayesmeta(SCHOOLS_Y, SCHOOLS_S, tau_prior="halfnormal(10)", mu_prior="flat")
    # within 3 Monte Carlo standard errors (posterior SD / sqrt(smallest bulk ESS))
    mcse = q["mu"]["sd"] / np.sqrt(q["diagnostics"]["ess_bulk_min"])
    assert abs(q["mu"]["mean"] - direct.mean("mu")) <= 3 * mcse


def test_cli_pool_nutpie_missing_is_a_clear_error(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "nutpie", None)  # import nutpie -> ImportError
    code = main(["pool", str(REGISTRY), "--question", "oligo_vs_systemic", "--engine", "mcmc",
                 "--sampler", "nutpie", "--no-hierarchical"])
    assert code == 2
    err = capsys.readouterr().err
    assert "pip install 'survmeta[nutpie]'" in err and "Traceback" not in err


# Printed labels (item 3 of issue 20): the rows are eight schools again, so the
# reference is the engine called directly on the same numbers.
LABELS = ["Heffron (2003)", "Müller et al., 2010", "O'Brien & Ng 2011", "Zhou 2023",
          "Smith [a]", "Smith [b]", "Lee, 2019", "Ω trial"]


def _labelled_csv(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("study,estimate,se\n" + "".join(
        f'"{lab}",{y},{s}\n' for lab, y, s in zip(LABELS, SCHOOLS_Y, SCHOOLS_S)), encoding="utf-8")
    return path


def test_cli_pool_effects_accepts_printed_labels(tmp_path, capsys):
    path = _labelled_csv(tmp_path)
    assert main(["pool", "--effects", str(path), "--tau-prior", "uniform(0, 50)",
                 "--mu-prior", "flat", "--format", "json"]) == 0
    (q,) = json.loads(capsys.readouterr().out)["questions"]
    assert [s["label"] for s in q["studies"]] == LABELS
    assert [s["id"] for s in q["studies"]] == ["Heffron-2003", "Muller-et-al-2010", "O-Brien-Ng-2011",
                                               "Zhou-2023", "Smith-a", "Smith-b", "Lee-2019", "trial"]
    direct = bayesmeta(SCHOOLS_Y, SCHOOLS_S, tau_prior="uniform(0, 50)", mu_prior="flat")
    assert q["mu"]["mean"] == pytest.approx(direct.mean("mu"), abs=1e-9)
    assert q["tau"]["median"] == pytest.approx(direct.median("tau"), abs=1e-9)
    # the table shows the printed labels
    assert main(["pool", "--effects", str(path), "--no-hierarchical", "--detail"]) == 0
    table = capsys.readouterr().out
    for lab in LABELS:
        assert lab in table


def test_labels_same_numbers_through_csv_and_dataframe(tmp_path):
    import pandas as pd

    via_csv = pool(_labelled_csv(tmp_path))["effects"]
    frame = pd.DataFrame({"study": LABELS, "log_hr": SCHOOLS_Y, "se": SCHOOLS_S})
    via_frame = pool(frame)["effects"]
    assert list(via_csv.study_summary()["label"]) == list(via_frame.study_summary()["label"]) == LABELS
    np.testing.assert_allclose(via_csv.study_summary()["shrunken_hr"],
                               via_frame.study_summary()["shrunken_hr"], rtol=1e-12)
    assert via_csv.stats["mu"].median == pytest.approx(via_frame.stats["mu"].median, rel=1e-12)


def test_cli_pool_effects_non_printable_label_is_located(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("study,estimate,se\nHeffron (2003),0.1,0.2\nZhou\x072023,0.2,0.3\n")
    assert main(["pool", "--effects", str(path)]) == 2
    err = capsys.readouterr().err
    assert (f"{path}:3: study Zhou\\x072023, study: contains a non-printable character (U+0007)"
            in err)
    assert "Traceback" not in err


def test_forest_plot_shows_printed_labels(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    fig = pool(_labelled_csv(tmp_path))["effects"].plot_forest()
    texts = {t.get_text() for t in fig.findobj(Text)}
    plt.close(fig)
    assert set(LABELS) <= texts


def test_cli_pool_json_carries_modes_map_and_ml(tmp_path, capsys):
    """The JSON's point estimates are the exact engine's (pinned in tests/exact/test_modes.py)."""
    csv = tmp_path / "schools.csv"
    csv.write_text("study,estimate,se\n" + "".join(
        f"school{i + 1},{y},{s}\n" for i, (y, s) in enumerate(zip(SCHOOLS_Y, SCHOOLS_S))))
    assert main(["pool", "--effects", str(csv), "--tau-prior", "halfcauchy(5)",
                 "--mu-prior", "normal(0, 20)", "--format", "json"]) == 0
    (q,) = json.loads(capsys.readouterr().out)["questions"]
    pe = q["point_estimates"]
    direct = bayesmeta(SCHOOLS_Y, SCHOOLS_S, tau_prior="halfcauchy(5)", mu_prior="normal(0, 20)")
    assert pe["mode"]["tau"] == pytest.approx(direct.mode("tau"), abs=1e-12)
    assert pe["mode"]["mu"] == pytest.approx(direct.mode("mu"), abs=1e-12)
    assert pe["mode"]["predict"] == pytest.approx(direct.mode("predict"), abs=1e-12)
    m, ml = direct.map_estimates(), direct.ml_estimates()
    assert (pe["MAP"]["joint"]["tau"], pe["MAP"]["joint"]["mu"]) == pytest.approx(
        (m.joint.tau, m.joint.mu), abs=1e-12)
    assert (pe["ML"]["joint"]["tau"], pe["ML"]["marginal"]["mu"]) == pytest.approx(
        (ml.joint.tau, ml.marginal.mu), abs=1e-12)
    # eight schools: the likelihood is largest at tau = 0 (metafor's ML and REML tau^2 are 0)
    assert pe["ML"]["joint"]["tau"] == 0.0 and pe["ML"]["marginal"]["tau"] == 0.0
