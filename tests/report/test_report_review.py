"""Review of the report: hierarchical methods text, every reconstruction method described,
single-study rows flagged with the common-effect HR, printed HRs, study ids as in the JSON."""

import re

import pandas as pd
import pytest

import synthetic
from survmeta.plotting._style import fmt_interval
from survmeta.report import write_report
from survmeta.report.content import (
    ONE_STUDY_MARK,
    build_document,
    estimates_table,
    hierarchical_blocks,
    not_pooled_table,
    printed_hrs,
    sof_footnote,
    sof_table,
)
from survmeta.report.methods_text import (
    METHOD_TEXT,
    REFERENCES,
    hierarchical_paragraph,
    methods_paragraph,
)
from survmeta.results import PoolSet


@pytest.fixture(scope="module")
def hier_poolset():
    return synthetic.synthetic_poolset_hierarchical()


# -- 1. the hierarchical model in the methods paragraph and its section ---------------------
def test_methods_paragraph_describes_the_hierarchical_fit(hier_poolset):
    para, cited = methods_paragraph(hier_poolset)
    h = para[para.index("pooled jointly"):]
    # the model and its priors, as recorded by the fit
    assert "hierarchical model" in h
    assert "Priors: mu_q ~ normal(0, 4) for each question's pooled log HR;" in h
    assert "log tau_pop ~ normal(-1.75, 0.75)" in h
    assert "median 0.17 and 95% range 0.04 to 0.76" in h  # exp(-1.75 -/+ 1.96 x 0.75)
    assert "half-normal(0.5) prior on sigma_logtau" in h
    # covariates centred within question, extra error mode
    assert "endpoint_os, an indicator of overall survival as the endpoint (1 for OS" in h
    assert "centred within its question" in h
    assert "added to their sampling variance as known" in h
    # sampler settings, seed and diagnostics
    assert "No-U-Turn sampler of PyMC, 4 chains of 250 draws after 1000 tuning steps each " \
           "(seed 7)" in h
    assert "largest rank-normalised R-hat 1.004" in h
    assert "smallest bulk ESS 812 and tail ESS 640" in h
    assert "0 divergent transitions" in h and "no warnings" in h
    for key in ("Turner 2015", "Vehtari 2021", "Abril-Pla 2023"):
        assert key in cited and key in REFERENCES


def test_hierarchical_paragraph_follows_the_settings(hier_poolset):
    ps = synthetic.synthetic_poolset_hierarchical()
    attrs = next(iter(ps.hierarchical.values())).posterior["posterior"].attrs
    attrs.update(survmeta_covariates="none", survmeta_extra_error="estimated",
                 survmeta_tau_population_prior="log tau_pop ~ Normal(-1, 0.5)")
    text, _ = hierarchical_paragraph(ps.hierarchical)
    assert "No meta-regression covariates were included." in text
    assert "kappa with a half-normal(1) prior" in text
    assert "log tau_pop ~ normal(-1, 0.5)" in text and "median 0.37" in text
    assert "endpoint_os" not in text


def test_no_hierarchical_text_without_the_fit(synthetic_poolset):
    para, cited = methods_paragraph(synthetic_poolset)
    assert "hierarchical" not in para and "Turner 2015" not in cited


def test_hierarchical_section_is_sentences_with_trace_and_rank(hier_poolset):
    blocks = hierarchical_blocks(hier_poolset)
    text = " ".join(b.text for b in blocks if b.kind == "p")
    assert "hierarchical model: covariates" not in text  # the raw fragment is gone
    assert "The mean log HR of each estimate was adjusted for endpoint_os" in text
    assert "The calibrated extra error SD of estimates from approximate reconstruction methods " \
           "was added to their sampling variance as known." in text
    figs = {b.name: b for b in blocks if b.kind == "figure"}
    assert set(figs) == {"hierarchical_trace", "hierarchical_rank"}
    for b in figs.values():
        fig = b.figure()
        assert fig.axes
        assert "hierarchical model" in fig._suptitle.get_text()
    assert not [b for b in hierarchical_blocks(hier_poolset, figures=("forest",))
                if b.kind == "figure"]


def test_hierarchical_figures_embedded_in_the_page(hier_poolset, tmp_path):
    page = write_report(hier_poolset, None, tmp_path, fmt="html", figures=("diagnostics",))
    text = page.read_text(encoding="utf-8")
    assert 'id="fig-hierarchical_trace"' in text and 'id="fig-hierarchical_rank"' in text
    assert 'id="sof_hierarchical"' in text


# -- 2. every reconstruction method has a sentence ------------------------------------------
def test_every_reconstruction_method_has_a_sentence():
    from survmeta.reconstruction import METHODS

    missing = [m for m in METHODS if m not in METHOD_TEXT]
    assert not missing, f"no methods sentence for {missing}"
    for m in METHODS:
        r = synthetic.synthetic_result(3)
        r.effects = r.effects.assign(method=m)
        para, cited = methods_paragraph(PoolSet([r]))
        text, refs = METHOD_TEXT[m]
        assert f"{text} (3 estimates)" in para
        assert set(refs) <= set(cited)


def test_p_total_events_sentence():
    text, refs = METHOD_TEXT["p_total_events"]
    assert "total number of events" in text
    assert "V = D n_e n_r / (n_e + n_r)^2" in text and "1:1" in text
    assert refs == ("Tierney 2007",)


# -- 3. single-study rows: marker, note and the common-effect HR -----------------------------
def test_sof_flags_single_study_and_shows_common_effect(synthetic_poolset):
    df = sof_table(synthetic_poolset)
    col = "Common-effect HR (\u03c4 = 0) [95% CrI, equal-tailed]"
    assert col in df.columns
    for (_, row), r in zip(df.iterrows(), synthetic_poolset.values()):
        ce = r.common_effect.hr
        assert row[col] == fmt_interval(ce.median, ce.eti.lower, ce.eti.upper)
        assert row["k"].endswith(ONE_STUDY_MARK) == (r.k == 1)
    note = sof_footnote(synthetic_poolset)
    assert note.startswith(ONE_STUDY_MARK + " One study (k = 1; 1 question)")
    assert "common-effect HR" in note and "wider than the study's own" in note


def test_single_study_common_effect_is_the_study(synthetic_poolset):
    r = synthetic_poolset["synthetic_k1"]
    e = r.effects.iloc[0]
    ce = r.common_effect.hr
    assert ce.median == pytest.approx(e["hr"])
    assert (ce.eti.lower, ce.eti.upper) == pytest.approx((e["hr_lower"], e["hr_upper"]))
    hr = r.stats["hr"]
    assert hr.eti.upper / hr.eti.lower > ce.eti.upper / ce.eti.lower  # random effects wider


def test_sof_note_in_the_page(synthetic_poolset, tmp_path):
    page = write_report(synthetic_poolset, None, tmp_path, fmt="md", figures=())
    text = page.read_text(encoding="utf-8")
    sof = text.split("## Summary of findings", 1)[1].split("\n## ", 1)[0]
    assert f"| 1{ONE_STUDY_MARK} |" in sof
    assert f"\n{ONE_STUDY_MARK} One study (k = 1" in sof


def test_no_note_without_single_study():
    ps = PoolSet([synthetic.synthetic_result(5)])
    assert sof_footnote(ps) is None
    assert not any(k.endswith(ONE_STUDY_MARK) for k in sof_table(ps)["k"])


def test_hierarchical_table_has_its_own_note(hier_poolset):
    note = sof_footnote(hier_poolset.hierarchical)
    assert "borrows from the other questions" in note
    assert "Common-effect" not in " ".join(sof_table(hier_poolset.hierarchical).columns)


# -- 5. a reported HR printed as the paper printed it ----------------------------------------
def test_printed_hr_in_the_estimates_table(real_registry, real_poolset):
    printed = printed_hrs(real_registry)
    assert printed["zhou2023/pfs1_treatment_line_second"] == (2.33, 1.21, 4.47)
    r = real_poolset["pfs1_treatment_line_second_vs_first"]
    row = r.effects.iloc[0]
    assert row["method"] == "hr_ci"
    assert fmt_interval(row["hr"], row["hr_lower"], row["hr_upper"]) == "2.33 [1.21, 4.48]"
    assert estimates_table(r, printed)["HR [95% CI]"].iloc[0] == "2.33 [1.21, 4.47]"
    assert estimates_table(r)["HR [95% CI]"].iloc[0] == "2.33 [1.21, 4.48]"  # nothing printed known
    # other methods keep the interval from the estimate and its SE
    o = real_poolset["oligo_vs_systemic"]
    t = estimates_table(o, printed)
    for (_, e), cell in zip(o.effects.iterrows(), t["HR [95% CI]"]):
        assert cell == fmt_interval(e["hr"], e["hr_lower"], e["hr_upper"])


def test_printed_hr_in_the_real_report(real_registry, real_poolset, tmp_path):
    page = write_report(real_poolset, real_registry, tmp_path, fmt="md", figures=(),
                        layout="single")
    text = page.read_text(encoding="utf-8")
    assert "| 2.33 [1.21, 4.47] |" in text and "4.48" not in text
    assert "| 1.505 [1.036, 2.186] |" in text  # three decimals, as printed


# -- 6. study ids as in the JSON -------------------------------------------------------------
def test_study_column_matches_the_json(synthetic_poolset):
    for r in synthetic_poolset.values():
        d = r.to_dict()
        t = estimates_table(r)
        assert list(t.columns[:2]) == ["Study", "Comparison"]
        assert list(t["Study"]) == [s["id"] for s in d["studies"]]
    np_rows = not_pooled_table(synthetic_poolset)
    excluded = [(q, x["study"], x["comparison"]) for q, r in synthetic_poolset.items()
                for x in r.to_dict()["excluded"]]
    got = [tuple(x) for x in np_rows[["Question", "Study", "Comparison"]].to_numpy()]
    assert all(e in got for e in excluded)


def test_not_pooled_reads_study_and_older_id():
    r = synthetic.synthetic_result(3)
    ps = PoolSet([r], skipped=[{"id": "q_new", "reason": "no poolable comparison",
                                "excluded": [{"study": "s1", "comparison": "c1", "reason": "NS"}]},
                               {"id": "q_old", "reason": "no poolable comparison",
                                "excluded": [{"id": "s2", "comparison": "c2", "reason": "NS"}]}])
    t = not_pooled_table(ps)
    assert ["q_new", "s1", "c1", "NS"] in t.to_numpy().tolist()
    assert ["q_old", "s2", "c2", "NS"] in t.to_numpy().tolist()


def test_document_has_no_raw_model_fragment(hier_poolset):
    blocks = build_document(hier_poolset, figures=())
    text = " ".join(b.text for b in blocks)
    assert not re.search(r"hierarchical model: covariates", text)
    assert isinstance(sof_table(hier_poolset), pd.DataFrame)


def test_intervals_do_not_wrap_in_html(synthetic_poolset, tmp_path):
    page = write_report(synthetic_poolset, None, tmp_path, fmt="html", figures=())
    text = page.read_text(encoding="utf-8")
    sof = synthetic_poolset.summary_of_findings().set_index("question")
    s = sof.loc["synthetic_k1"]  # the primary row of the one-study question
    cell = fmt_interval(s["hr"], s["hr_lower"], s["hr_upper"])
    assert f'<td class="num">{cell}</td>' in text
    assert f'<td class="num">1{ONE_STUDY_MARK}</td>' in text
    assert "td.num { white-space: nowrap; }" in text
    assert '<td class="num">Synthetic' not in text  # words still wrap
