"""Report figures as PNG (palette, at the dpi asked), inline SVG or PDF files; the page of the
bundled registry stays under 2 MB."""

import io
import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
from PIL import Image

from survmeta.plotting._style import fmt_interval
from survmeta.report import write_report

FIGS = ("forest", "posterior", "tau")


def test_svg_inline_with_text_and_unique_ids(synthetic_poolset, tmp_path):
    page = write_report(synthetic_poolset, None, tmp_path, fmt="html", figure_format="svg",
                        figures=FIGS)
    text = page.read_text(encoding="utf-8")
    figures = re.findall(r'<figure id="fig-([^"]+)">(<svg.*?</svg>)', text, re.S)
    # forest and posterior for both questions, tau only for the one with k >= 2
    assert sorted(n for n, _ in figures) == sorted(
        ["synthetic_k30_forest", "synthetic_k30_posterior", "synthetic_k30_tau",
         "synthetic_k1_forest"])
    assert "<img" not in text and "<?xml" not in text and "<!DOCTYPE svg" not in text
    for _, svg in figures:
        ET.fromstring(svg)  # well-formed
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    refs = set(re.findall(r"url\(#([^)]+)\)", text)) | set(re.findall(r'href="#([^"]+)"', text))
    assert refs <= set(ids)
    # text stays text: the forest plot prints the pooled HR of its question
    r = synthetic_poolset["synthetic_k30"]
    hr = r.stats["hr"]
    forest = dict(figures)["synthetic_k30_forest"]
    assert fmt_interval(hr.median, hr.eti.lower, hr.eti.upper) in forest


def test_png_resolution_follows_dpi(synthetic_poolset, tmp_path):
    widths = {}
    for dpi in (75, 150):
        page = write_report(synthetic_poolset, None, tmp_path / str(dpi), fmt="md",
                            figures=("forest",), dpi=dpi)
        png = (page.parent / "figures" / "synthetic_k30_forest.png").read_bytes()
        with Image.open(io.BytesIO(png)) as im:
            widths[dpi] = im.size[0]
            assert im.mode == "P"  # palette
    assert widths[150] == pytest.approx(2 * widths[75], abs=2)


def test_pdf_files_beside_markdown(synthetic_poolset, tmp_path):
    page = write_report(synthetic_poolset, None, tmp_path, fmt="md", figure_format="pdf",
                        figures=FIGS)
    text = page.read_text(encoding="utf-8")
    pdfs = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert pdfs == sorted(f"{n}.pdf" for n in ("synthetic_k30_forest", "synthetic_k30_posterior",
                                               "synthetic_k30_tau", "synthetic_k1_forest"))
    for name in pdfs:
        assert (tmp_path / "figures" / name).read_bytes().startswith(b"%PDF")
        assert f"](figures/{name})" in text
    assert "![" not in text  # linked, not shown as images


def test_pdf_not_embedded_in_html(synthetic_poolset, tmp_path):
    with pytest.raises(ValueError, match="PDF figures cannot be embedded"):
        write_report(synthetic_poolset, None, tmp_path, fmt="html", figure_format="pdf")
    with pytest.raises(ValueError, match="unknown figure format"):
        write_report(synthetic_poolset, None, tmp_path, fmt="html", figure_format="jpeg")


@pytest.mark.parametrize("figure_format", ["png", "svg"])
def test_bundled_registry_page_under_2mb(real_poolset, real_registry, tmp_path, figure_format,
                                        request):
    """Every question on the one self-contained page, with all its figures."""
    if figure_format == "png":  # the default: the page other report tests read too
        page = request.getfixturevalue("real_report_page")
    else:
        page = write_report(real_poolset, real_registry, tmp_path, fmt="html", layout="single",
                            registry_file=real_registry.path, figure_format=figure_format)
    text = page.read_text(encoding="utf-8")
    # a forest plot per question, a posterior for each with k >= 2
    assert text.count("<figure id=") >= len(real_poolset) + sum(r.k >= 2 for r in real_poolset.values())
    assert page.stat().st_size < 2_000_000
