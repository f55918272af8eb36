"""What a reviewer reads first: question groups, the summary of findings, mixed endpoints.

Numbers are checked against the objects they summarise (the effect table, the pooled result)
and a closed form: a one-study question's row is ``exp(log HR +- z SE)`` with
``z = Phi^-1(0.975)`` and ``P(HR < 1) = Phi(-log HR / SE)``. Tolerance EXACT = 1e-12.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from scipy.stats import norm

from survmeta.cli import main
from survmeta.errors import SurvmetaError
from survmeta.pool import hierarchical_links, pool

REGISTRY = Path(__file__).resolve().parents[1] / "studies.toml"
EXACT = 1e-12


@pytest.fixture(scope="module")
def results():
    return pool(REGISTRY)


def test_groups_link_only_related_questions(results):
    """The bundled registry: rechallenge links its two pooled questions, the Zhou 2023 PFS1
    factors their nine; oligo_vs_systemic is its group's only pooled question and the ALK
    question is in no group, so neither is linked."""
    links = hierarchical_links(list(results.values()))
    fits = {g: sorted(r.id for r in rs) for g, rs in links.fits.items()}
    assert fits["rechallenge"] == ["interval_treatment_before_rechallenge",
                                   "rechallenge_acquired_vs_primary"]
    assert len(fits["pfs1_prognostic_factors"]) == 9
    assert set(fits) == {"rechallenge", "pfs1_prognostic_factors"}
    assert links.alone == {
        "oligo_vs_systemic": "the only pooled question of group progression_pattern",
        "immunotherapy_after_alk_tki": "in no question group"}
    merged = hierarchical_links(list(results.values()), ["rechallenge", "progression_pattern"])
    assert sorted(r.id for r in merged.fits["rechallenge+progression_pattern"]) == [
        "interval_treatment_before_rechallenge", "oligo_vs_systemic",
        "rechallenge_acquired_vs_primary"]
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
    assert row["basis"] == "pooled" and row["k"] == 2
    assert (row["hr"], row["hr_lower"], row["hr_upper"]) == (
        pooled.stats["hr"]["median"], *pooled.stats["hr"]["eti"])
    assert row["tau"] == pooled.stats["tau"]["median"]


def test_mixed_endpoints_warn_and_split(results):
    r = results["oligo_vs_systemic"]
    assert any(w.startswith("pools different endpoints") for w in r.diagnostics["warnings"])
    sub = r.subgroups()
    assert [g.name for g in sub.groups] == ["OS after progression", "PFS on ICI rechallenge"]
    # one study per subgroup: the frequentist subgroup estimates are the studies' own, so
    # Q_between is the squared difference over the summed variances (closed form)
    e = r.effects.set_index("endpoint")
    y1, y2 = e.loc["OS after progression", "log_hr"], e.loc["PFS on ICI rechallenge", "log_hr"]
    s1, s2 = e.loc["OS after progression", "se"], e.loc["PFS on ICI rechallenge", "se"]
    assert sub.q_between == pytest.approx((y1 - y2) ** 2 / (s1**2 + s2**2), rel=1e-9)
    assert not any(w.startswith("pools different")
                   for w in results["rechallenge_acquired_vs_primary"].diagnostics["warnings"])


def test_first_screen_is_short_narrow_and_names_the_primary_analysis(capsys, results):
    assert main(["pool", str(REGISTRY), "--no-hierarchical"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("Primary analysis: exact Bayesian random-effects model")
    assert len(lines) <= 40
    assert max(len(x) for x in lines) <= 100
    assert out.count("One study (12 of 13 questions)") == 1
    row = next(x for x in lines if x.startswith("pfs1_bone_metastasis_vs_none"))
    sof = results.summary_of_findings().set_index("question").loc["pfs1_bone_metastasis_vs_none"]
    assert f"{sof['hr']:.2f} [{sof['hr_lower']:.2f}, {sof['hr_upper']:.2f}]" in row
    assert "one study" in row
    assert "WARNING oligo_vs_systemic pools different endpoints" in out.replace("\n    ", " ")
