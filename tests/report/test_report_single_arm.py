"""The report's "Single-group questions" section, on the bundled registry.

Values come from the pooled results themselves (``SingleArmResult.sof_row()``, i.e.
:func:`survmeta.exact.pool_proportions` / :func:`survmeta.exact.pool_medians`, which are
pinned to metafor in tests/exact); the test checks that the section prints them, labels the
figures' studies author-year, and adds one forest figure per single-group question.
"""

from __future__ import annotations

from survmeta.report.content import (
    _single_arm_labels,
    author_year_study_labels,
    build_document,
    single_arm_table,
)


def test_single_arm_table_prints_the_pooled_values(real_poolset):
    table = single_arm_table(real_poolset)
    assert set(table["Question"]) == set(real_poolset.single_arm)
    for _, row in table.iterrows():
        sa = real_poolset.single_arm[row["Question"]]
        sof = sa.sof_row()
        unit = "%" if sa.measure == "proportion" else f" {sof['unit']}"
        assert row["Pooled"] == f"{sof['estimate']:.1f}{unit}"
        assert row["CrI (95%, equal-tailed)"] == f"{sof['lower']:.1f} to {sof['upper']:.1f}{unit}"
        assert row["k"] == str(sa.k)


def test_document_has_the_section_and_a_figure_per_question(real_poolset, real_registry):
    doc = build_document(real_poolset, real_registry, figures=("forest",))
    names = [b.name for b in doc]
    assert "single-group" in names and "single_arm" in names
    for qid in real_poolset.single_arm:
        assert f"{qid}_forest" in names


def test_figure_labels_are_author_year(real_poolset, real_registry):
    labels = author_year_study_labels(real_registry)
    sa = real_poolset.single_arm["rechallenge_response"]
    mapped = _single_arm_labels(sa, labels)
    assert mapped["watanabe2019"] == labels["watanabe2019"] != "watanabe2019"


def test_methods_paragraph_names_the_single_group_models_and_priors(real_poolset):
    from survmeta.report.methods_text import methods_paragraph

    para, _ = methods_paragraph(real_poolset)
    p = real_poolset.single_arm["rechallenge_response"].pool
    assert "binomial-normal random-effects model on the logit scale" in para
    assert f"mu ~ {p.mu_prior} and tau ~ {p.tau_prior}" in para
    assert "rechallenge_pfs_median) were pooled on the log scale" in para
