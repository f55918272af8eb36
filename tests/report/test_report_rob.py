"""The report draws the risk-of-bias columns and summary for a question with entries
(examples/risk_of_bias/studies.toml), and neither for the bundled registry, which has none."""

from __future__ import annotations

from pathlib import Path

from survmeta.registry import load_registry
from survmeta.report.content import question_blocks, risk_of_bias_entries

ROOT = Path(__file__).resolve().parents[2]


def _figure_names(registry, qid):
    from survmeta.pooling import pool

    r = pool(registry, qid)[qid]
    blocks = question_blocks(r, ("forest", "rob"), risk_of_bias=risk_of_bias_entries(registry))
    return {b.name: b for b in blocks if b.kind == "figure"}


def test_question_with_entries_gets_the_summary():
    reg = load_registry(ROOT / "examples" / "risk_of_bias" / "studies.toml")
    assert len(risk_of_bias_entries(reg)) == 3
    figs = _figure_names(reg, "oligo_vs_systemic")
    assert set(figs) == {"oligo_vs_systemic_forest", "oligo_vs_systemic_rob_summary"}
    fig = figs["oligo_vs_systemic_forest"].figure()
    assert any((a.get_gid() or "").startswith("rob-Overall-") for a in fig.artists + fig.lines)


def test_registry_without_entries_has_no_summary():
    reg = load_registry(ROOT / "studies.toml")
    assert risk_of_bias_entries(reg) == {}
    assert risk_of_bias_entries(None) == {}
