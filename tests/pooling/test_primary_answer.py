"""What a reviewer reads first: question groups, the summary of findings, mixed endpoints.

Numbers are checked against the objects they summarise (the effect table, the pooled result)
and a closed form: a one-study question's row is ``exp(log HR +- z SE)`` with
``z = Phi^-1(0.975)`` and ``P(HR < 1) = Phi(-log HR / SE)``. Tolerance EXACT = 1e-12.
"""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import pytest
from scipy.stats import norm

from survmeta.cli import main
from survmeta.errors import SurvmetaError
from survmeta.pooling import hierarchical_links, pool

REGISTRY = Path(__file__).resolve().parents[2] / "studies.toml"
EXACT = 1e-12


@pytest.fixture(scope="module")
def results():
    return pool(REGISTRY)


@pytest.fixture(scope="module")
def first_screen():
    """Exit code and standard output of ``survmeta pool studies.toml --no-hierarchical``, run
    once for the tests that read the default first screen."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["pool", str(REGISTRY), "--no-hierarchical"])
    return code, out.getvalue()


def test_groups_link_only_related_questions(results):
    """The bundled registry: each group's pooled questions are linked, and only those;
    oligo_vs_systemic is its group's only pooled question and the ALK question is in no group,
    so neither is linked. Expected groups are read from the registry itself."""
    from survmeta.registry import load_registry

    reg = load_registry(REGISTRY)
    group_of = {q.id: q.group for q in reg.questions}
    links = hierarchical_links(list(results.values()))
    fits = {g: sorted(r.id for r in rs) for g, rs in links.fits.items()}
    expected: dict = {}
    for qid in results:
        if group_of[qid] is not None:
            expected.setdefault(group_of[qid], []).append(qid)
    expected = {g: sorted(qs) for g, qs in expected.items() if len(qs) >= 2}
    assert fits == expected
    assert {"rechallenge", "pfs1_prognostic_factors", "treatment_after_progression"} <= set(fits)
    assert len(fits["pfs1_prognostic_factors"]) == 9
    assert links.alone == {
        "oligo_vs_systemic": "the only pooled question of group progression_pattern",
        "immunotherapy_after_alk_tki": "in no question group"}
    merged = hierarchical_links(list(results.values()), ["rechallenge", "progression_pattern"])
    assert sorted(r.id for r in merged.fits["rechallenge+progression_pattern"]) == sorted(
        fits["rechallenge"] + ["oligo_vs_systemic"])
    with pytest.raises(SurvmetaError, match="no pooled question in group"):
        hierarchical_links(list(results.values()), ["nonexistent"])


def test_summary_of_findings_rows(results):
    sof = results.summary_of_findings().set_index("question")
    one = results["pfs1_bone_metastasis_vs_none"]
    y, se = float(one.effects["log_hr"].iloc[0]), float(one.effects["se"].iloc[0])
    z = norm.ppf(0.975)
    row = sof.loc["pfs1_bone_metastasis_vs_none"]
    assert row["basis"] == "one study" and row["k"] == 1
    assert row["hr"] == pytest.approx(math.exp(y), abs=EXACT)
    assert row["hr_lower"] == pytest.approx(math.exp(y - z * se), abs=EXACT)
    assert row["hr_upper"] == pytest.approx(math.exp(y + z * se), abs=EXACT)
    assert row["p_hr_below_1"] == pytest.approx(norm.cdf(-y / se), abs=EXACT)
    assert math.isnan(row["tau"]) and math.isnan(row["predict_lower"])
    pooled = results["oligo_vs_systemic"]
    row = sof.loc["oligo_vs_systemic"]
    assert row["basis"] == "pooled" and row["k"] == pooled.k > 1
    assert (row["hr"], row["hr_lower"], row["hr_upper"]) == (
        pooled.stats["hr"].median, *pooled.stats["hr"].eti.as_tuple())
    assert row["tau"] == pooled.stats["tau"].median


def test_mixed_endpoints_warn_and_split(results):
    r = results["oligo_vs_systemic"]
    assert any(w.startswith("pools different endpoints") for w in r.diagnostics.warnings)
    sub = r.subgroups()
    assert {"OS after progression", "PFS on ICI rechallenge"} <= {g.name for g in sub.groups}
    # one study per subgroup: the frequentist subgroup estimates are the studies' own, so
    # Q_between is the weighted sum of squares about their weighted mean (closed form)
    import numpy as np

    y = r.effects["log_hr"].to_numpy(float)
    w = 1 / r.effects["se"].to_numpy(float) ** 2
    assert len(set(r.effects["endpoint"])) == len(y)  # one study per endpoint here
    q = float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))
    assert sub.q_between == pytest.approx(q, rel=1e-9)
    assert not any(w.startswith("pools different")
                   for w in results["rechallenge_acquired_vs_primary"].diagnostics.warnings)


def test_first_screen_is_short_narrow_and_names_the_primary_analysis(first_screen, results):
    code, out = first_screen
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Primary analysis: exact Bayesian random-effects model")
    assert len(lines) <= 50  # 23 pooled questions and their notes
    assert max(len(x) for x in lines) <= 100
    n_single = sum(r.k == 1 for r in results.values())
    assert out.count(f"One study ({n_single} of {len(results)} questions)") == 1
    row = next(x for x in lines if x.startswith("pfs1_bone_metastasis_vs_none"))
    sof = results.summary_of_findings().set_index("question").loc["pfs1_bone_metastasis_vs_none"]
    assert f"{sof['hr']:.2f} [{sof['hr_lower']:.2f}, {sof['hr_upper']:.2f}]" in row
    assert "one study" in row
    assert "WARNING oligo_vs_systemic pools different endpoints" in out.replace("\n    ", " ")


def test_interval_kind_leads_the_first_screen(results, capsys, first_screen):
    """--interval hdi: the pooled rows show the shortest intervals of the result (stats['hr']
    ['hdi'], the log-HR shortest interval exponentiated), and the headers name the kind."""
    sof_e = results.summary_of_findings()
    sof_h = results.summary_of_findings(interval="hdi")
    assert set(sof_e["interval"]) == {"eti"} and set(sof_h["interval"]) == {"hdi"}
    r = results["oligo_vs_systemic"]
    row = sof_h[sof_h["question"] == "oligo_vs_systemic"].iloc[0]
    assert math.isclose(row["hr_lower"], r.stats["hr"].hdi.lower, rel_tol=EXACT)
    assert math.isclose(row["predict_upper"], r.stats["predict_hr"].hdi.upper, rel_tol=EXACT)
    assert math.exp(r.stats["mu"].hdi.lower) == pytest.approx(row["hr_lower"], rel=EXACT)
    one = sof_h[sof_h["basis"] == "one study"].iloc[0]  # its own CI, whatever the kind
    same = sof_e[sof_e["question"] == one["question"]].iloc[0]
    assert (one["hr_lower"], one["hr_upper"]) == (same["hr_lower"], same["hr_upper"])
    with pytest.raises(ValueError, match="'eti' or 'hdi'"):
        results.summary_of_findings(interval="shortest")

    assert main(["pool", str(REGISTRY), "--no-hierarchical", "--interval", "hdi"]) == 0
    out = capsys.readouterr().out
    assert "95% shortest intervals" in out and "CrI (HDI)" in out and "PI (HDI)" in out
    line = next(ln for ln in out.splitlines() if ln.startswith("oligo_vs_systemic "))
    assert f"[{row['hr_lower']:.2f}, {row['hr_upper']:.2f}]" in line
    code, out = first_screen  # the default interval kind
    assert code == 0 and "CrI (ETI)" in out and "CrI (HDI)" not in out
