"""Typed parts of a PoolResult (issue 13): BayesFactors, CommonEffect, Diagnostics, Prior.

Each writes exactly the saved form it replaces; the values of a known fit are those saved in
``tests/pooling/data/saved_v1_mini.json`` (written by the dict-based results), read back.
"""

import json
from pathlib import Path

import pytest

from survmeta.priors import parse_prior
from survmeta.results import BayesFactors, CommonEffect, Diagnostics, PoolResult, PoolSet
from survmeta.summaries import ParameterSummary

SAVED_V1 = Path(__file__).parent / "data" / "saved_v1_mini.json"
#: the saved file's numbers are read back unchanged
EXACT = 0.0


def _saved():
    with SAVED_V1.open(encoding="utf-8") as f:
        return json.load(f)


def test_bayes_factors_round_trip_and_values():
    q = _saved()["questions"][0]
    bf = BayesFactors.from_dict(q["bayes_factors"])
    assert bf.bf01_mu0 == pytest.approx(0.8914478052436184, abs=EXACT)
    assert bf.bf01_tau0 == pytest.approx(2.066444566187751, abs=EXACT)
    assert len(bf.notes) == 1 and bf.notes[0].startswith("BF01")
    assert bf.to_dict() == q["bayes_factors"]
    missing = {"mu=0": None, "mu=0 note": "no BF under a flat prior", "tau=0": 1.5, "note": "x"}
    assert BayesFactors.from_dict(missing).to_dict() == missing
    assert list(BayesFactors.from_dict(missing).to_dict()) == list(missing)


def test_common_effect_round_trip_v1_keys():
    q = _saved()["questions"][0]
    ce = CommonEffect.from_dict(q["common_effect"], q["level"])
    assert ce.mu.median == pytest.approx(-0.5078498681638938, abs=EXACT)
    assert ce.mu.eti.lower == pytest.approx(-0.7594129397552943, abs=EXACT)
    assert ce.mu.eti.level == ce.hr.hdi.level == q["level"]
    out = ce.to_dict(q["level"])
    for name in ("mu", "hr"):
        for key, value in q["common_effect"][name].items():
            assert out[name][key] == value
        assert out[name]["eti"] == out[name]["eti95"]
    assert out["p_hr_below_1"] == q["common_effect"]["p_hr_below_1"]


def test_diagnostics_round_trip_exact_and_mcmc():
    exact = {"warnings": ["pools different endpoints: ..."], "method": "quadrature over tau"}
    d = Diagnostics.from_dict(exact)
    assert not d.is_mcmc and d.warnings == ("pools different endpoints: ...",)
    assert d.to_dict() == exact and list(d.to_dict()) == list(exact)
    mcmc = {"r_hat_max": 1.01, "ess_bulk_min": 800.0, "ess_tail_min": 600.0,
            "groups": {"mu": {"r_hat": 1.01, "ess_bulk": 800.0}}, "divergences": 0,
            "treedepth_hits": 0, "chains": 4, "draws": 1000, "rank_alpha": 0.01,
            "warnings": [], "ess_note": None}
    d = Diagnostics.from_dict(mcmc)
    assert d.is_mcmc and d.chains == 4 and d.divergences == 0
    assert d.to_dict() == mcmc
    assert d.with_warnings("w").warnings == ("w",)


def test_priors_are_prior_objects_and_print_as_their_spec():
    loaded = PoolSet.from_dict(_saved())
    r = next(iter(loaded.values()))
    assert r.priors["tau"] == parse_prior(str(r.priors["tau"]), "tau")
    assert str(r.priors["mu"]) == _saved()["questions"][0]["priors"]["mu"]
    assert r.to_dict()["priors"] == _saved()["questions"][0]["priors"]


def test_words_for_a_prior_go_to_prior_notes():
    q = _saved()["questions"][0]
    q["priors"] = {"mu": "normal(0, 4)", "tau": "shared across questions: log tau_pop ~ N(0, 1)"}
    r = PoolSet.from_dict({**_saved(), "questions": [q]})[q["id"]]
    assert "tau" not in r.priors and r.prior_notes["tau"].startswith("shared across")
    assert r.prior_text("tau") == q["priors"]["tau"]
    assert r.to_dict()["priors"] == q["priors"]


def test_stats_are_parameter_summaries_with_the_saved_numbers():
    """Each ``stats`` entry is a ParameterSummary holding the saved block's numbers at the saved
    level; HR-scale moments saved as null are NaN and written back as null."""
    import math

    q = _saved()["questions"][0]
    r = PoolSet.from_dict(_saved())[q["id"]]
    for name in ("mu", "hr", "tau", "predict", "predict_hr"):
        s = r.stats[name]
        assert isinstance(s, ParameterSummary) and s.name == name
        assert s.median == pytest.approx(q[name]["median"], abs=EXACT)
        assert list(s.eti.as_tuple()) == q[name]["eti95"]
        assert s.eti.level == s.hdi.level == q["level"]
        assert s.hdi.kind == "hdi"
        if q[name].get("mean") is None:
            assert math.isnan(s.mean)
        assert r.to_dict()[name]["mean"] == q[name].get("mean")


def test_mapping_stats_are_converted_on_construction():
    """PoolResult(stats={name: {"mean", "median", "sd", "eti", "hdi"}}) stores the same records
    as passing ParameterSummary objects, and writes the same saved form."""
    r = next(iter(PoolSet.from_dict(_saved()).values()))
    as_blocks = {name: s.block() for name, s in r.stats.items()}
    rebuilt = PoolResult(question=r.question, engine=r.engine, effects=r.effects,
                         stats=as_blocks, probabilities=r.probabilities, priors=r.priors,
                         level=r.level)
    # (compared through their dicts: NaN moments are unequal to themselves)
    assert {n: s.to_dict() for n, s in rebuilt.stats.items()} == {
        n: s.to_dict() for n, s in r.stats.items()}
    assert all(isinstance(s, ParameterSummary) for s in rebuilt.stats.values())
    assert rebuilt.to_dict()["hr"] == r.to_dict()["hr"]
    # and the HR's moments can be blanked without touching its median or intervals
    blank = r.stats["mu"].without_moments()
    assert blank.median == r.stats["mu"].median and blank.eti == r.stats["mu"].eti
    assert blank.block()["mean"] is None and blank.block()["sd"] is None
