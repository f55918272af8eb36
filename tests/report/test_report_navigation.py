"""The report is navigable: a table of contents with anchors, the summary of findings first,
collapsible question sections (open when k >= 2) and compact single-study sections."""

import re
from html.parser import HTMLParser

from survmeta.report import write_report
from survmeta.report.content import build_document, primary_sof_table


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.hrefs, self.details, self.figures = [], [], [], []
        self._open_details = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "a":
            self.hrefs.append(a.get("href"))
        if tag == "details":
            self.details.append({"open": "open" in a, "id": None, "figures": []})
            self._open_details = self.details[-1]
        if tag == "h2" and self._open_details is not None and self._open_details["id"] is None:
            self._open_details["id"] = a.get("id")
        if tag == "figure" and self._open_details is not None:
            self._open_details["figures"].append(a.get("id"))

    def handle_endtag(self, tag):
        if tag == "details":
            self._open_details = None


def test_toc_links_every_section_and_question(synthetic_poolset, tmp_path):
    page = write_report(synthetic_poolset, None, tmp_path, fmt="html")
    text = page.read_text(encoding="utf-8")
    p = _Anchors()
    p.feed(text)
    # the table of contents comes first, then the summary of findings
    assert text.index('<nav id="contents">') < text.index('id="summary-of-findings"') \
        < text.index('<table id="sof">') < text.index('id="registry"')
    toc = [h for h in p.hrefs if h.startswith("#")]
    assert toc[0] == "#summary-of-findings"
    for href in toc:
        assert href[1:] in p.ids, href
    for qid in synthetic_poolset:
        assert f"#q-{qid}" in toc


def test_sections_collapsible_open_when_pooled(synthetic_poolset, tmp_path):
    page = write_report(synthetic_poolset, None, tmp_path, fmt="html")
    p = _Anchors()
    p.feed(page.read_text(encoding="utf-8"))
    by_id = {d["id"]: d for d in p.details}
    assert set(by_id) == {f"q-{q}" for q in synthetic_poolset}
    for qid, r in synthetic_poolset.items():
        d = by_id[f"q-{qid}"]
        assert d["open"] == (r.k >= 2)
        assert (f"fig-{qid}_tau" in d["figures"]) == (r.k >= 2)
        assert (f"fig-{qid}_funnel" in d["figures"]) == (r.k >= 3)
        assert f"fig-{qid}_forest" in d["figures"]


def test_single_study_section_is_compact(synthetic_poolset):
    doc = build_document(synthetic_poolset, figures=("forest", "posterior", "tau", "funnel"))
    names = [b.name for b in doc if b.kind == "figure"]
    assert "synthetic_k1_tau" not in names and "synthetic_k1_funnel" not in names
    assert {"synthetic_k30_tau", "synthetic_k30_funnel", "synthetic_k1_forest"} <= set(names)


def test_markdown_toc_points_at_anchors(synthetic_poolset, tmp_path):
    page = write_report(synthetic_poolset, None, tmp_path, fmt="md", figures=())
    text = page.read_text(encoding="utf-8")
    toc = text.split("## Contents", 1)[1].split("\n## ", 1)[0]
    targets = re.findall(r"\]\(#([^)]+)\)", toc)
    assert targets[0] == "summary-of-findings"
    anchors = re.findall(r'<a id="([^"]+)"></a>', text)
    assert targets and set(targets) <= set(anchors)
    assert text.index("## Contents") < text.index("## Summary of findings")


def test_primary_table_flags_one_study_rows(synthetic_poolset):
    df = primary_sof_table(synthetic_poolset)
    sof = synthetic_poolset.summary_of_findings()
    assert list(df["k"].str.endswith("\u2020")) == list(sof["basis"] == "one study")
    assert list(sof["basis"]) == ["pooled", "one study"]


def test_question_option_limits_the_registry_table(real_registry, tmp_path):
    from survmeta.pooling import pool

    ps = pool(real_registry, question=["oligo_vs_systemic"], hierarchical=False)
    doc = build_document(ps, real_registry, figures=())
    table = next(b.table for b in doc if b.kind == "table" and b.name == "questions")
    assert list(table["Question"]) == ["oligo_vs_systemic"]
    assert table["Pooled (k)"].iloc[0] == str(ps["oligo_vs_systemic"].k)
    toc = next(b for b in doc if b.kind == "toc")
    assert [t for t, _, depth in toc.items if depth == 2] == \
        [f"oligo_vs_systemic: {ps['oligo_vs_systemic'].question['title']}"]
    sentence = next(b.text for b in doc if b.kind == "p" and "registry holds" in b.text)
    assert "limited to 1 question: oligo_vs_systemic" in sentence
