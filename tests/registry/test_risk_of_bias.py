"""Risk-of-bias entries (docs/registry.md, *Risk of bias*): read into records, every slip
located with a closest-match suggestion, study entries applied to their comparisons, and the
``rob_tool`` / ``rob_overall`` effect-table columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from survmeta.registry import check, check_text, load_registry, load_registry_text
from survmeta.registry.rob_tools import ROB_TOOLS

from .conftest import BASE, edit, line_of

ROOT = Path(__file__).resolve().parents[2]
ANCHOR = 'derived = ["reference.n: 63 with acquired resistance minus 52 with oligo-progression"]'
ROBINS = ('risk_of_bias = { tool = "ROBINS-I", overall = "serious", domains = { '
          'confounding = "serious", selection = "moderate", classification = "low", '
          'deviations = "low", missing_data = "no information", measurement = "low", '
          'reported_result = "moderate" } }')
NOS = ('risk_of_bias = { tool = "NOS", overall = "fair", domains = { selection = 2, '
       'comparability = 1, outcome = 3 } }')
STUDY_ANCHOR = "n = 125"


def _with(entry: str) -> str:
    return edit(BASE, ANCHOR, ANCHOR + "\n" + entry)


def test_entry_is_read():
    reg = load_registry_text(_with(ROBINS), "r.toml")
    rob = reg.comparison("heo2021/os_oligo_vs_multi").risk_of_bias
    assert rob.tool == "ROBINS-I" and rob.overall == "serious"
    assert [k for k, _ in rob.domains] == list(ROB_TOOLS["ROBINS-I"].keys)
    assert rob.judgement("missing_data") == "no information"
    assert reg.comparison("zhou2023/pfs1_line_second").risk_of_bias is None


def test_nos_stars_are_read():
    rob = load_registry_text(_with(NOS), "r.toml").comparison("heo2021/os_oligo_vs_multi").risk_of_bias
    assert rob.domains == (("selection", 2), ("comparability", 1), ("outcome", 3))


def test_study_entry_applies_to_comparisons_without_their_own():
    text = edit(_with(ROBINS), STUDY_ANCHOR, STUDY_ANCHOR + "\n" + NOS)
    reg = load_registry_text(text, "r.toml")
    study = reg.study("heo2021") if hasattr(reg, "study") else reg.studies[0]
    assert study.risk_of_bias.tool == "NOS"
    own = reg.comparison("heo2021/os_oligo_vs_multi").risk_of_bias
    assert own.tool == "ROBINS-I"
    others = [c for c in study.comparisons if c.id != "os_oligo_vs_multi"]
    assert others and all(c.risk_of_bias.tool == "NOS" for c in others)


@pytest.mark.parametrize("old, new, field, message", [
    ('tool = "ROBINS-I"', 'tool = "ROBINS I"', "risk_of_bias.tool", 'did you mean "ROBINS-I"'),
    ('confounding = "serious"', 'confounding = "seriuos"', "risk_of_bias.domains.confounding",
     'did you mean "serious"'),
    ('classification = "low"', 'classification = "Low"', "risk_of_bias.domains.classification",
     'did you mean "low"'),
    ('selection = "moderate"', 'selction = "moderate"', "risk_of_bias.domains.selction",
     'did you mean "selection"'),
    ('overall = "serious"', 'overall = "some concerns"', "risk_of_bias.overall", "is not one of"),
    ('overall = "serious"', 'overal = "serious"', "risk_of_bias.overal", 'did you mean "overall"'),
])
def test_slips_are_located(old, new, field, message):
    text = _with(edit(ROBINS, old, new))
    errors = [p for p in check_text(text, "r.toml") if p.severity == "error"]
    # a misspelt required key is also reported missing, as everywhere in the registry
    assert {p.field for p in errors} <= {field, "risk_of_bias.overall"}, [p.format() for p in errors]
    (p,) = [p for p in errors if p.field == field]
    assert (p.path, p.study, p.comparison, p.field) == ("r.toml", "heo2021", "os_oligo_vs_multi", field)
    assert p.line == line_of(text, "risk_of_bias =")
    assert message in p.message


def test_nos_stars_out_of_range():
    text = _with(edit(NOS, "comparability = 1", "comparability = 3"))
    (p,) = check_text(text, "r.toml")
    assert (p.severity, p.field) == ("error", "risk_of_bias.domains.comparability")
    assert "0 to 2 stars" in p.message and p.line == line_of(text, "risk_of_bias =")


def test_missing_domain_is_a_warning():
    text = _with(edit(ROBINS, 'classification = "low", ', ""))
    (p,) = check_text(text, "r.toml")
    assert p.severity == "warning"
    assert (p.study, p.comparison, p.field) == ("heo2021", "os_oligo_vs_multi",
                                                 "risk_of_bias.domains.classification")
    assert "Bias in classification of interventions" in p.message
    assert load_registry_text(text, "r.toml").comparison(
        "heo2021/os_oligo_vs_multi").risk_of_bias.judgement("classification") is None


def test_study_entry_errors_name_the_study():
    text = edit(BASE, STUDY_ANCHOR, STUDY_ANCHOR + "\n" + edit(NOS, '"NOS"', '"NOS2"'))
    (p,) = check_text(text, "r.toml")
    assert (p.study, p.comparison, p.field) == ("heo2021", None, "risk_of_bias.tool")
    assert 'did you mean "NOS"' in p.message and p.line == line_of(text, "risk_of_bias =")


def test_example_registry_validates_and_is_labelled():
    path = ROOT / "examples" / "risk_of_bias" / "studies.toml"
    assert check(path) == []
    reg = load_registry(path)
    robs = [c.risk_of_bias for s in reg.studies for c in s.comparisons]
    assert len(robs) == 3 and all(r is not None for r in robs)
    assert all("illustrative judgement for the example, not a published assessment" in r.notes
               for r in robs)


def test_bundled_registry_has_no_risk_of_bias():
    reg = load_registry(ROOT / "studies.toml")
    assert all(c.risk_of_bias is None for s in reg.studies for c in s.comparisons)


def test_effect_table_columns():
    from survmeta.reconstruction import reconstruct

    df = reconstruct(load_registry_text(_with(ROBINS), "r.toml")).set_index("key")
    assert len(df) == len(df.index.unique())
    row = df.loc["heo2021/os_oligo_vs_multi"]
    assert (row["rob_tool"], row["rob_overall"]) == ("ROBINS-I", "serious")
    assert df.drop(index="heo2021/os_oligo_vs_multi")["rob_tool"].isna().all()
