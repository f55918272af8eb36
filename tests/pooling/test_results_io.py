"""Saved results read back: `PoolSet.from_dict(json.load(...))` round-trips (issue 13).

The reference is the in-memory result the file was written from: a loaded result must give
the same summaries, and write the same JSON again.
"""

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from survmeta.cli import main
from survmeta.errors import SurvmetaError
from survmeta.results import SCHEMA_VERSION, PoolResult, PoolSet
from survmeta.results_io import SavedPoolResult

ROOT = Path(__file__).resolve().parents[2]
#: Relative agreement of two runs of the exact engine's root finders (quantiles converge to ~1e-14).
ROOT_TOL = 1e-12
REGISTRY = ROOT / "studies.toml"
MINI = ROOT / "tests" / "living" / "data" / "mini.toml"
#: `survmeta pool tests/living/data/mini.toml --no-hierarchical --save ...` as written before
#: schema version 2 (no schema_version field; intervals only under eti95 / hdi95)
SAVED_V1 = Path(__file__).parent / "data" / "saved_v1_mini.json"


def _save(tmp_path, registry, name="saved.json", *extra):
    path = tmp_path / name
    assert main(["pool", str(registry), "--no-hierarchical", "--save", str(path), *extra]) == 0
    return path


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """The bundled registry pooled with the exact engine and saved, as users do."""
    tmp = tmp_path_factory.mktemp("saved")
    path = _save(tmp, REGISTRY)
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def test_bundled_registry_round_trips(bundled):
    assert bundled["schema_version"] == SCHEMA_VERSION == 2
    loaded = PoolSet.from_dict(bundled)
    assert loaded.to_dict() == bundled
    assert json.loads(json.dumps(loaded.to_dict())) == bundled
    assert list(loaded) == [q["id"] for q in bundled["questions"]]
    assert all(isinstance(r, SavedPoolResult) for r in loaded.values())
    one = bundled["questions"][0]
    assert PoolResult.from_dict(one).to_dict() == one


def test_loaded_answers_as_the_pooled_result(bundled, capsys):
    from survmeta.pooling import pool
    from survmeta.registry import load_registry

    pooled = pool(load_registry(REGISTRY), hierarchical=False)
    loaded = PoolSet.from_dict(bundled)
    pd.testing.assert_frame_equal(loaded.summary(), pooled.summary())
    for kind in ("eti", "hdi"):
        pd.testing.assert_frame_equal(loaded.summary_of_findings(kind),
                                      pooled.summary_of_findings(kind))
    qid = "oligo_vs_systemic"
    pd.testing.assert_frame_equal(loaded[qid].summary(), pooled[qid].summary())
    assert loaded[qid].summary_text() == pooled[qid].summary_text()
    loaded.print_summary()
    from_file = capsys.readouterr().out
    pooled.print_summary()
    assert from_file == capsys.readouterr().out
    assert "read from saved results, schema 2" in repr(loaded[qid])


def test_level_is_a_field_and_intervals_carry_no_level(tmp_path):
    d = json.loads(_save(tmp_path, MINI, "l90.json", "--level", "0.9").read_text())
    q = d["questions"][0]
    assert q["level"] == 0.9
    assert q["hr"]["eti"] == q["hr"]["eti90"] and q["hr"]["hdi"] == q["hr"]["hdi90"]  # deprecated
    assert q["studies"][0]["shrunken"]["eti"] == q["studies"][0]["shrunken"]["eti90"]
    loaded = PoolSet.from_dict(d)
    assert loaded.to_dict() == d
    assert loaded[q["id"]].level == 0.9
    assert loaded[q["id"]].summary().attrs["level"] == 0.9


def test_schema_1_file_is_read(tmp_path):
    v1 = json.loads(SAVED_V1.read_text(encoding="utf-8"))
    assert "schema_version" not in v1 and "eti" not in v1["questions"][0]["hr"]
    loaded = PoolSet.from_dict(v1)
    r = loaded["oligo_vs_systemic"]
    assert r.schema_version == 1
    assert list(r.stats["hr"].eti.as_tuple()) == v1["questions"][0]["hr"]["eti95"]
    assert list(r.stats["tau"].hdi.as_tuple()) == v1["questions"][0]["tau"]["hdi95"]
    # written again as schema 2: the same numbers, the new keys added beside the old
    now = json.loads(_save(tmp_path, MINI).read_text())
    again = loaded.to_dict()
    assert again["schema_version"] == 2
    # The schema-1 file was written before the vectorised mixture quantiles
    # (exact.marginals.mixture_summaries): a fresh pool agrees with it to the root finders'
    # tolerance, not bit for bit.
    for a, b in zip(again["questions"], now["questions"]):
        for block in ("mu", "hr", "tau", "predict", "predict_hr"):
            assert a[block].keys() == b[block].keys()
            for key, value in a[block].items():
                expected = b[block][key]
                assert value == (expected if expected is None
                                 else pytest.approx(expected, rel=ROOT_TOL, abs=ROOT_TOL))
        assert a["p_hr_below_1"] == pytest.approx(b["p_hr_below_1"], rel=ROOT_TOL)
    sof = loaded.summary_of_findings()
    assert math.isnan(sof.loc[0, "n"])  # schema 1 did not record study sizes


def test_what_is_not_saved_is_a_clear_error(bundled, tmp_path):
    r = PoolSet.from_dict(bundled)["oligo_vs_systemic"]
    assert r.posterior is None and r.exact is None
    for call in (lambda: r.plot_posterior(), lambda: r.plot_tau(),
                 lambda: r.to_netcdf(tmp_path / "x.nc")):
        with pytest.raises(SurvmetaError, match="oligo_vs_systemic: the saved results .* hold "
                                                "summaries only: posterior draws"):
            call()
    with pytest.raises(SurvmetaError, match="fit it again"):
        PoolSet.from_dict({**bundled, "hierarchical": {"mu": 0.1}}).hierarchical.posterior


def test_a_newer_schema_or_a_malformed_file_is_refused(bundled):
    with pytest.raises(SurvmetaError, match="schema version 3; this version of survmeta reads "
                                            "versions 1 to 2"):
        PoolSet.from_dict({**bundled, "schema_version": 3})
    with pytest.raises(SurvmetaError, match="not a positive integer"):
        PoolSet.from_dict({**bundled, "schema_version": "2"})
    with pytest.raises(SurvmetaError, match='question 1 of the "questions" list is not as'):
        PoolSet.from_dict({"questions": [{"id": "q1", "hr": 3}]})
    with pytest.raises(SurvmetaError, match="pool --save"):
        PoolSet.from_dict({"nope": 1})
    partial = {"id": "q", "level": 0.95, "hr": {"median": 0.5, "eti95": [0.3, 0.9]},
               "tau": {"median": 0.2, "eti95": [0.0, 1.0]}, "p_hr_below_1": 0.99, "k": 2}
    r = PoolResult.from_dict(partial)
    assert r.k == 2 and r.stats["hr"].eti.as_tuple() == (0.3, 0.9)
    with pytest.raises(SurvmetaError, match="q: the saved results lack mu, .*needed for summary"):
        r.summary()
