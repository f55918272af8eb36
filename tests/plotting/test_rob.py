"""Risk-of-bias figures: the forest plot's traffic-light dots sit on their study's row in the
colour of its judgement, and the summary bars are the shares of studies (or weight) per
judgement. Data: examples/risk_of_bias/studies.toml (illustrative judgements)."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from survmeta.plotting import plot_forest, plot_rob_summary
from survmeta.plotting.rob import ROB_COLORS, rob_cell
from survmeta.registry import load_registry
from survmeta.registry.records import RiskOfBias

from test_forest import assert_no_overlap, texts

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "risk_of_bias" / "studies.toml"
#: Shares are sums of a few weights; compare to float round-off.
SHARE_TOL = 1e-9

GREEN, YELLOW, RED = ROB_COLORS[0], ROB_COLORS[1], ROB_COLORS[2]


@pytest.fixture(scope="module")
def example():
    from survmeta.pooling import pool

    reg = load_registry(EXAMPLE)
    result = pool(reg, "oligo_vs_systemic")["oligo_vs_systemic"]
    rob = {c.key: c.risk_of_bias for c in reg.comparisons()}
    return result, rob


def _dots(fig):
    return {a.get_gid(): a for a in fig.findobj(Line2D) if (a.get_gid() or "").startswith("rob-")}


def test_forest_dots_rows_and_colours(example):
    result, rob = example
    fig = plot_forest(result, risk_of_bias=rob)
    dots = _dots(fig)
    keys = list(result.effects["key"])
    assert len(dots) == len(keys) * 7  # six QUIPS domains and the overall judgement
    for i, key in enumerate(keys):
        entry = rob[key]
        for label, dkey in [(f"D{j}", d) for j, (d, _) in enumerate(entry.domains, start=1)] + [
                ("Overall", None)]:
            dot = dots[f"rob-{label}-{i}"]
            assert list(dot.get_ydata()) == [i]  # on the study's row
            assert to_hex(dot.get_markerfacecolor()) == to_hex(rob_cell(entry, dkey)[0])
    # heo2021 (row of its key): participation moderate, attrition high, prognostic factor low
    i = keys.index("heo2021/os_oligo_vs_multi")
    assert [to_hex(dots[f"rob-D{j}-{i}"].get_markerfacecolor()) for j in (1, 2, 3)] == [
        to_hex(YELLOW), to_hex(RED), to_hex(GREEN)]
    # the columns run left to right D1 .. D6, Overall, right of the plot panel
    xs = [dots[f"rob-{c}-0"].get_xdata()[0] for c in ("D1", "D2", "D3", "D4", "D5", "D6", "Overall")]
    assert xs == sorted(xs)
    shown = texts(fig)
    assert "D1: Study participation" in shown and "D6: Statistical analysis and reporting" in shown
    assert_no_overlap(fig)


def test_forest_without_entries_has_no_dots(example):
    result, _ = example
    assert _dots(plot_forest(result)) == {}
    assert _dots(plot_forest(result, risk_of_bias={"other/x": None})) == {}


def test_forest_missing_domain_and_other_tool(example):
    result, rob = example
    keys = list(result.effects["key"])
    partial = dict(rob)
    first = rob[keys[0]]
    partial[keys[0]] = RiskOfBias(first.tool, first.domains[1:], first.overall)
    partial[keys[1]] = RiskOfBias("NOS", (("selection", 4),), "good")
    dots = _dots(plot_forest(result, risk_of_bias=partial))
    assert "rob-D1-0" not in dots and "rob-D2-0" in dots
    assert [g for g in dots if g.endswith("-1")] == ["rob-Overall-1"]
    assert to_hex(dots["rob-Overall-1"].get_markerfacecolor()) == to_hex(GREEN)


def _bars(fig):
    return {p.get_gid(): p.get_width() for p in fig.axes[0].findobj(Rectangle)
            if (p.get_gid() or "").startswith("rob-bar-")}


def test_summary_shares_of_studies(example):
    _, rob = example
    bars = _bars(plot_rob_summary(rob))
    # participation: heo moderate, xu low, cancers2020 high -> a third each
    for lvl in (0, 1, 2):
        assert bars[f"rob-bar-D1-{lvl}"] == pytest.approx(100 / 3, abs=SHARE_TOL)
    # overall: heo high, xu moderate, cancers2020 high
    assert bars["rob-bar-Overall-2"] == pytest.approx(200 / 3, abs=SHARE_TOL)
    assert bars["rob-bar-Overall-1"] == pytest.approx(100 / 3, abs=SHARE_TOL)
    assert "rob-bar-Overall-0" not in bars
    assert bars["rob-bar-D4-0"] == pytest.approx(100, abs=SHARE_TOL)


def test_summary_shares_of_weight(example):
    result, rob = example
    w = dict(zip(result.effects["key"], result.effects["weight"]))
    bars = _bars(plot_rob_summary(rob, weights=w))
    total = sum(w.values())
    xu = w["xu2023/pfs_oligo_vs_systemic_after_ar"]
    assert bars["rob-bar-Overall-1"] == pytest.approx(100 * xu / total, abs=SHARE_TOL)
    assert bars["rob-bar-Overall-2"] == pytest.approx(100 * (total - xu) / total, abs=SHARE_TOL)
    for dkey in ("D1", "D2", "D3", "D4", "D5", "D6", "Overall"):
        assert sum(v for g, v in bars.items() if g.startswith(f"rob-bar-{dkey}-")) == pytest.approx(
            100, abs=SHARE_TOL)


def test_summary_errors():
    with pytest.raises(ValueError, match="no risk-of-bias entries"):
        plot_rob_summary({"a/b": None})
    entry = RiskOfBias("RoB 2", (("randomisation", "low"),), "low")
    with pytest.raises(ValueError, match="no weight"):
        plot_rob_summary({"a/b": entry}, weights={})
