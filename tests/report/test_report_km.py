"""The report draws the Kaplan-Meier reconstruction of every pooled comparison with curves.

Data: the synthetic example registry examples/km/studies.toml (one comparison with
digitised curves for both arms) and the synthetic pool results of the figure tests
(no registry, no curves).
"""

from __future__ import annotations

import base64
from pathlib import Path

from survmeta.report import write_report
from survmeta.report.content import DEFAULT_FIGURES, build_document, km_comparisons

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "km" / "studies.toml"


def _example():
    from survmeta.pooling import pool
    from survmeta.registry import load_registry

    reg = load_registry(EXAMPLE)
    return reg, pool(reg)


def test_km_figure_in_the_document_for_the_comparison_with_curves():
    reg, ps = _example()
    assert "km" in DEFAULT_FIGURES
    assert list(km_comparisons(reg)) == ["example_trial/os"]
    km = [b for b in build_document(ps, reg) if b.kind == "figure" and "_km_" in b.name]
    assert [b.text.split(" (")[0] for b in km] == ["Kaplan-Meier reconstruction: example_trial/os"]
    fig = km[0].figure()
    assert fig.axes[0].get_title(loc="left").startswith("example_trial/os")


def test_no_km_figure_when_not_asked_or_without_a_registry(synthetic_poolset):
    reg, ps = _example()
    figures = tuple(f for f in DEFAULT_FIGURES if f != "km")
    assert not [b for b in build_document(ps, reg, figures=figures) if "_km_" in (b.name or "")]
    assert not [b for b in build_document(synthetic_poolset) if "_km_" in (b.name or "")]
    assert km_comparisons(None) == {}


def test_km_figure_embedded_in_html_and_written_for_markdown(tmp_path):
    reg, ps = _example()
    page = write_report(ps, reg, tmp_path / "html", figures=("km",))
    html = Path(page).read_text(encoding="utf-8")
    assert "Kaplan-Meier reconstruction: example_trial/os" in html
    png = html.split('src="data:image/png;base64,')[1].split('"')[0]
    assert base64.b64decode(png).startswith(b"\x89PNG")
    md = Path(write_report(ps, reg, tmp_path / "md", fmt="md", figures=("km",)))
    pngs = sorted(p.name for p in (md.parent / "figures").glob("*.png"))
    assert len(pngs) == 1 and "km" in pngs[0]
    assert f"figures/{pngs[0]}" in md.read_text(encoding="utf-8")
