"""The report: tables hold the questions and numbers of the results; pages are self-contained."""

import base64
import hashlib
import re
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path

import pytest

from survmeta.plotting._style import fmt_interval, fmt_prob
from survmeta.report import write_report
from survmeta.report.content import sof_table
from survmeta.report.methods_text import methods_paragraph


class _Page(HTMLParser):
    """Collects tables (by id) as lists of rows, and every <img> src."""

    def __init__(self):
        super().__init__()
        self.tables, self.imgs, self.links = {}, [], []
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id", f"t{len(self.tables)}")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""
        elif tag == "img":
            self.imgs.append(a.get("src", ""))
        for key in ("href", "src"):
            if key in a and tag != "img":
                self.links.append(a[key])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def parse(path):
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


@pytest.fixture(scope="module")
def html_page(synthetic_poolset, tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    return write_report(synthetic_poolset, None, out, fmt="html"), synthetic_poolset


def test_sof_rows_equal_questions(html_page):
    page, ps = html_page
    p = parse(page)
    rows = p.tables["sof"]
    header, body = rows[0], rows[1:]
    assert len(body) == len(ps)
    sof = ps.summary_of_findings()
    for row, (qid, r), s in zip(body, ps.items(), sof.itertuples()):
        assert row[0].startswith(qid) and s.question == qid
        assert row[header.index("k")] == str(r.k) + ("\u2020" if r.k == 1 else "")
        # the primary answer: pooled for k >= 2, the study's own estimate for k = 1
        assert row[header.index("HR [95% interval]")] == fmt_interval(s.hr, s.hr_lower, s.hr_upper)
        assert row[header.index("P(HR < 1)")] == fmt_prob(s.p_hr_below_1)
        if r.k >= 2:
            hr = r.stats["hr"]
            assert (s.hr, s.hr_lower, s.hr_upper) == (hr.median, *hr.eti.as_tuple())
            assert row[header.index("Basis")].startswith("pooled")
        else:
            e = r.effects.iloc[0]
            assert (s.hr, s.hr_lower, s.hr_upper) == pytest.approx(
                (e["hr"], e["hr_lower"], e["hr_upper"]))
            assert row[header.index("Basis")].startswith("one study")
            assert row[header.index("95% prediction interval (equal-tailed)")] == ""
        n = r.effects["n"].sum(skipna=True)
        assert row[header.index("Participants")].startswith(str(int(n)))


def test_estimates_tables_list_every_method(html_page):
    page, ps = html_page
    p = parse(page)
    for qid, r in ps.items():
        rows = p.tables[f"estimates_{qid}"]
        header, body = rows[0], rows[1:]
        assert [b[0] for b in body] == list(r.effects["study"])
        methods = [b[header.index("Method")].split(":")[0] for b in body]
        assert methods == list(r.effects["method"])


def test_not_pooled_lists_skipped_and_excluded(html_page):
    page, ps = html_page
    rows = parse(page).tables["not_pooled"][1:]
    assert ["synthetic_empty", "", "", "no poolable comparison"] in rows
    assert any(r[0] == "synthetic_k30" and r[1] == "study99" for r in rows)


def test_figures_embedded_and_nothing_external(html_page):
    page, ps = html_page
    p = parse(page)
    assert len(p.imgs) >= 2 * len(ps)
    for src in p.imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG")
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:|//)", text)
    assert "@import" not in text and "url(" not in text
    assert "<script" not in text
    assert p.links and all(link.startswith("#") for link in p.links)  # the table of contents


def test_methods_paragraph_from_what_ran(synthetic_poolset):
    para, cited = methods_paragraph(synthetic_poolset)
    assert "numerical integration over tau" in para
    assert "half-normal prior with scale 0.5 on tau" in para
    assert "Michiels 2005" in para and "Parmar 1998" in para and "Röver 2020" in para
    assert "PyMC" not in para  # no MCMC was run
    assert "Röver 2020" in cited and "Michiels 2005" in cited


def test_methods_paragraph_for_mcmc():
    import synthetic

    from survmeta.results import PoolSet

    ps = PoolSet([synthetic.synthetic_result(6, engine="mcmc")])
    para, cited = methods_paragraph(ps)
    assert "PyMC" in para and "4 chains" in para
    assert "Abril-Pla 2023" in cited and "Röver 2020" not in cited


def test_stamp_versions_and_seed(html_page):
    page, ps = html_page
    rows = dict((r[0], r[1]) for r in parse(page).tables["stamp"][1:])
    assert rows["numpy"] == metadata.version("numpy")
    assert rows["pymc"] == metadata.version("pymc")
    assert rows["survmeta"] == metadata.version("survmeta")
    assert rows["seed"] == "2"
    assert rows["engine"] == "exact"


def test_markdown_links_written_figures(synthetic_poolset, tmp_path):
    page = write_report(synthetic_poolset, None, tmp_path, fmt="md")
    text = page.read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\((figures/[^)]+\.png)\)", text)
    assert len(links) >= 2 * len(synthetic_poolset)
    for link in links:
        assert (tmp_path / link).read_bytes().startswith(b"\x89PNG")
    sof = text.split("## Summary of findings", 1)[1].split("\n## ", 1)[0]
    body = [ln for ln in sof.splitlines() if ln.startswith("| ") and not ln.startswith("| Question")]
    assert [ln.split(" | ")[0][2:].split(":")[0] for ln in body] == list(synthetic_poolset)
    assert not list(tmp_path.glob(".*"))  # no temporary files left


def test_interrupted_write_leaves_previous_page(synthetic_poolset, tmp_path, monkeypatch):
    page = write_report(synthetic_poolset, None, tmp_path, fmt="html", figures=("forest",))
    before = page.read_bytes()

    import survmeta.report.html as html_mod

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(html_mod, "render_html", boom)
    with pytest.raises(KeyboardInterrupt):
        write_report(synthetic_poolset, None, tmp_path, fmt="html", figures=("forest",))
    assert page.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_unknown_format(synthetic_poolset, tmp_path):
    with pytest.raises(ValueError, match="html"):
        write_report(synthetic_poolset, None, tmp_path, fmt="docx")


def test_failing_figure_becomes_visible_note(synthetic_poolset, tmp_path, monkeypatch):
    import survmeta.plotting as plotting

    def broken(result, **kw):
        raise RuntimeError("synthetic failure")

    monkeypatch.setattr(plotting, "plot_tau", broken)
    page = write_report(synthetic_poolset, None, tmp_path, fmt="html", figures=("forest", "tau"))
    text = page.read_text(encoding="utf-8")
    assert "could not be drawn: synthetic failure" in text


def test_real_registry_report(real_poolset, real_registry, real_report_page):
    page = real_report_page
    p = parse(page)
    sof = p.tables["sof"][1:]
    assert [r[0].split(":")[0] for r in sof] == list(real_poolset)
    qrows = p.tables["questions"][1:]
    assert [r[0] for r in qrows] == [q.id for q in real_registry.questions]
    pooled = {r[0] for r in qrows if r[4] == "pooled"}
    assert pooled == set(real_poolset)
    stamp = dict((r[0], r[1]) for r in p.tables["stamp"][1:])
    digest = hashlib.sha256(Path(real_registry.path).read_bytes()).hexdigest()
    assert stamp["registry sha256"] == digest
    # every poolable question has its forest plot
    for qid in real_poolset:
        assert f'id="fig-{qid}_forest"' in page.read_text(encoding="utf-8")
    not_pooled = p.tables["not_pooled"][1:]
    for s in real_poolset.skipped:
        assert any(r[0] == s["id"] for r in not_pooled)


def test_sof_table_columns(synthetic_poolset):
    df = sof_table(synthetic_poolset)
    assert list(df["k"]) == [str(r.k) + ("\u2020" if r.k == 1 else "") for r in synthetic_poolset.values()]
