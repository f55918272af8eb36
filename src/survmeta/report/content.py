"""The report as a list of blocks, independent of the output format.

:func:`build_document` turns a :class:`~survmeta.results.PoolSet` (and the
registry) into blocks (headings, paragraphs, tables, figures, lists) that the
HTML and Markdown writers render the same way, so both versions carry the same
numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from survmeta._format import fmt_level, fmt_pval
from survmeta.plotting._style import fmt_interval, fmt_num, fmt_p_statement, fmt_prob
from survmeta.report.methods_text import (
    REFERENCES,
    covariates_sentence,
    describe_prior,
    result_prior,
    extra_error_sentence,
    hierarchical_settings,
    method_title,
    methods_paragraph,
)
from survmeta.report.stamp import make_stamp
from survmeta.summaries import ParameterSummary


@dataclass
class Block:
    """One element of the report.

    Attributes
    ----------
    kind : {"h1", "h2", "h3", "p", "table", "figure", "list", "links", "stamp", "toc", \
            "details", "end_details"}
        ``"toc"``: the table of contents (``items``: ``(text, "#anchor", depth)``).
        ``"details"``: a collapsible section headed by ``text`` (anchor ``name``;
        ``data["open"]``: shown open), closed by ``"end_details"``.
    text : str
        Heading or paragraph text; caption of a table or figure.
    table : pandas.DataFrame, optional
        Cells are strings.
    figure : callable, optional
        Returns a :class:`matplotlib.figure.Figure` when called (figures are
        drawn one at a time and released, to keep memory flat).
    name : str
        File stem of a figure; anchor id of a heading.
    items : list
        List items (str); for ``"links"``, ``(text, href)`` pairs.
    data : dict
        Extra data (the stamp).
    """

    kind: str
    text: str = ""
    table: pd.DataFrame | None = None
    figure: Any = None
    name: str = ""
    items: list = field(default_factory=list)
    data: dict = field(default_factory=dict)


def _lvl(level: float) -> str:
    return fmt_level(level)


def participants(result) -> tuple[int, int]:
    """(sum of n over pooled rows with n known, number of rows with n unknown)."""
    if "n" not in result.effects:
        return 0, result.k
    n = pd.to_numeric(result.effects["n"], errors="coerce")
    return int(n.sum(skipna=True)), int(n.isna().sum())


def fmt_participants(result) -> str:
    total, unknown = participants(result)
    if unknown == result.k:
        return "not reported"
    return f"{total}" + (f" (n unknown for {unknown})" if unknown else "")


#: Footnote marker of single-study rows in the summary-of-findings tables.
ONE_STUDY_MARK = "\u2020"


def _common_effect_hr(r) -> ParameterSummary | None:
    ce = getattr(r, "common_effect", None)
    return ce.hr if ce is not None else None


def sof_table(poolset) -> pd.DataFrame:
    """Summary of findings: one row per pooled question, cells as printed.

    Columns: Question, Comparison, k, Participants, Pooled HR [CrI] (random
    effects), Common-effect HR [CrI] (tau = 0; when the results carry the
    common-effect companion), Prediction interval, tau [CrI], P(HR < 1),
    Engine. A question with one study has :data:`ONE_STUDY_MARK` after its k
    and is explained by :func:`sof_footnote`.
    """
    results = list(poolset.values())
    with_ce = any(_common_effect_hr(r) for r in results)
    rows = []
    for r in results:
        lvl = _lvl(r.level)
        hr, pr, tau = r.stats["hr"], r.stats["predict_hr"], r.stats["tau"]
        q = r.question
        row = {
            "Question": f"{r.id}: {q.get('title') or ''}".rstrip(": "),
            "Comparison": f"{q.get('experimental')} vs {q.get('reference')}",
            "k": str(r.k) + (ONE_STUDY_MARK if r.k == 1 else ""),
            "Participants": fmt_participants(r),
            f"Pooled HR [{lvl} CrI, equal-tailed]": fmt_interval(hr.median, hr.eti.lower, hr.eti.upper),
        }
        if with_ce:
            ce = _common_effect_hr(r)
            row[f"Common-effect HR (\u03c4 = 0) [{lvl} CrI, equal-tailed]"] = (
                fmt_interval(ce.median, ce.eti.lower, ce.eti.upper) if ce else "")
        row.update({
            f"{lvl} prediction interval (equal-tailed)": f"[{fmt_num(pr.eti.lower)}, {fmt_num(pr.eti.upper)}]",
            f"\u03c4 [{lvl} CrI, equal-tailed]": f"{tau.median:.2f} [{tau.eti.lower:.2f}, {tau.eti.upper:.2f}]",
            "P(HR < 1)": fmt_prob(r.p_hr_below_1),
            "Engine": r.engine,
        })
        rows.append(row)
    return pd.DataFrame(rows)


def primary_sof_table(poolset, printed: dict | None = None) -> pd.DataFrame:
    """The primary answer per question, from :meth:`PoolSet.summary_of_findings`, cells as printed.

    Columns: Question, Comparison, k, Participants, HR [interval], Basis,
    Prediction interval, tau [CrI], P(HR < 1), Engine. A pooled question
    (k >= 2) gives its random-effects HR with the credible interval; a
    question with one study gives that study's own HR and confidence interval
    (basis "one study", k flagged with :data:`ONE_STUDY_MARK`, no prediction
    interval or tau), as :func:`primary_sof_footnote` says; at the 95% level
    a reported HR with its CI is printed as the paper printed it (``printed``,
    from :func:`printed_hrs`, or the row's ``inputs``), as in the estimates
    table.
    """
    from survmeta.plotting.forest import fmt_printed, printed_hr

    results = dict(poolset.items())
    sof = poolset.summary_of_findings(single_arm=False)
    rows = []
    for s in sof.itertuples(index=False):
        r = results[s.question]
        lvl = _lvl(r.level)
        q = r.question
        one = s.basis == "one study"
        tau = r.stats["tau"]
        hr_cell = fmt_interval(s.hr, s.hr_lower, s.hr_upper)
        if one and abs(r.level - 0.95) < 1e-9:
            shown = printed_hr(r.effects.iloc[0], printed)
            hr_cell = fmt_printed(*shown) if shown else hr_cell
        rows.append({
            "Question": f"{r.id}: {q.get('title') or ''}".rstrip(": "),
            "Comparison": f"{q.get('experimental')} vs {q.get('reference')}",
            "k": str(int(s.k)) + (ONE_STUDY_MARK if one else ""),
            "Participants": fmt_participants(r),
            f"HR [{lvl} interval]": hr_cell,
            "Basis": "one study (its own CI)" if one else "pooled (random effects, equal-tailed CrI)",
            f"{lvl} prediction interval (equal-tailed)": "" if one else
            f"[{fmt_num(s.predict_lower)}, {fmt_num(s.predict_upper)}]",
            f"\u03c4 [{lvl} CrI, equal-tailed]": "" if one else
            f"{s.tau:.2f} [{tau.eti.lower:.2f}, {tau.eti.upper:.2f}]",
            "P(HR < 1)": fmt_prob(s.p_hr_below_1),
            "Engine": s.engine,
            "Certainty (GRADE)": s.certainty,
        })
    return pd.DataFrame(rows)


def small_study_table(poolset) -> pd.DataFrame:
    """The small-study-effect tests per question, cells as printed, or why they were not run.

    Columns: Question, k, Egger's test, Begg's test, Trim-and-fill. The tests
    (:func:`survmeta.exact.small_study_tests`, on the log HRs each question pools) run only
    with k >= 10; otherwise the row says why, in the Egger column, and the others are empty.
    """
    from survmeta.exact import small_study_tests

    rows = []
    for r in poolset.values():
        res = small_study_tests(r.effects["log_hr"].to_numpy(float),
                                r.effects["se"].to_numpy(float))
        row = {"Question": r.id, "k": str(r.k)}
        if not res.ran:
            row.update({"Egger's test": f"not run: {res.reason}", "Begg's test": "",
                        "Trim-and-fill": ""})
        else:
            e, b, t = res.regtest, res.ranktest, res.trimfill
            row.update({
                "Egger's test": f"z = {e.statistic:.2f}, p {fmt_pval(e.pval, equal=True)}",
                "Begg's test": f"Kendall's \u03c4 = {b.tau:.3f}, p {fmt_pval(b.pval, equal=True)}",
                "Trim-and-fill": f"{t.estimator}: {t.k0} missing on the {t.side}; HR "
                                 + fmt_interval(math.exp(t.fit.estimate), math.exp(t.fit.ci_lower),
                                                math.exp(t.fit.ci_upper)),
            })
        rows.append(row)
    return pd.DataFrame(rows, columns=["Question", "k", "Egger's test", "Begg's test",
                                       "Trim-and-fill"])


def small_study_blocks(poolset) -> list[Block]:
    """The "Small-study effects" section: what was tested, and the table."""
    return [
        Block("h2", "Small-study effects", name="small-study-effects"),
        Block("p", "Egger's regression test (the log HR regressed on its SE in a random-effects "
              "meta-regression, as metafor's regtest), Begg and Mazumdar's rank correlation "
              "(ranktest) and Duval and Tweedie's trim-and-fill (L0 estimator, REML) on the log "
              "HRs each question pools. They are run only when a question pools at least 10 "
              "studies: with fewer they have too little power to be interpreted (Sterne et al. "
              "2011), and the row says so."),
        Block("table", "Small-study-effect tests per question (HR of trim-and-fill with the "
              "filled studies, 95% CI).", table=small_study_table(poolset), name="small_study"),
    ]


def _single_engine_words(single) -> str:
    """``"both exact Bayesian"``, or how the MCMC fits were sampled (sampler and draws).

    One pool() call fits every single-group question with the same engine."""
    from survmeta.report.methods_text import single_arm_engine_text

    mcmc = [sa for sa in single if getattr(sa, "engine", "exact") == "mcmc"]
    if not mcmc:
        return "both exact Bayesian"
    return "both Bayesian, sampled " + single_arm_engine_text(mcmc[0])


def single_arm_table(poolset) -> pd.DataFrame:
    """One row per single-group question: the pooled value on its natural scale.

    Proportions in percent (binomial-normal model, exact Bayesian; posterior median,
    credible and prediction intervals); medians in their time unit (log-median pooling,
    exact Bayesian; the median of medians when no study has a usable interval).
    """
    rows = []
    for sa in getattr(poolset, "single_arm", {}).values():
        row = sa.sof_row()
        unit = "%" if sa.measure == "proportion" else f" {row['unit']}"

        def cell(lo, hi, unit=unit):
            return "" if not (math.isfinite(lo) and math.isfinite(hi)) else \
                f"{lo:.1f} to {hi:.1f}{unit}"

        n = sa.n
        rows.append({
            "Question": sa.id,
            "Measure": "proportion" if sa.measure == "proportion" else "median time",
            "k": str(sa.k),
            "Patients": "" if not math.isfinite(n) else f"{n:.0f}",
            "Pooled": f"{row['estimate']:.1f}{unit}",
            f"CrI ({_lvl(sa.level)}, equal-tailed)": cell(row["lower"], row["upper"]),
            f"PI ({_lvl(sa.level)})": cell(row["predict_lower"], row["predict_upper"]),
            "Basis": row["basis"],
        })
    return pd.DataFrame(rows)


def _single_arm_labels(sa, labels: dict | None) -> dict:
    """The pool's study labels (study id, or ``study/outcome``) as author-year labels."""
    out = {}
    for lab in _pool_labels(sa):
        study, _, outcome = str(lab).partition("/")
        name = (labels or {}).get(study, study)
        out[lab] = f"{name} ({outcome})" if outcome else name
    return out


def _pool_labels(sa) -> list:
    pool = sa.pool
    if getattr(pool, "labels", None) is not None:
        return list(pool.labels)
    return [st.label for st in pool.studies]


def single_arm_blocks(poolset, figures=("forest",), labels: dict | None = None) -> list[Block]:
    """The "Single-group questions" section: the table, then a forest plot per question.

    ``labels``: study id -> author-year label (:func:`author_year_study_labels`).
    """
    single = getattr(poolset, "single_arm", {})
    if not single:
        return []
    out = [Block("h2", "Single-group questions", name="single-group"),
           Block("p", "Questions answered by one group per study ([[study.outcome]] in the "
                 "registry): a proportion pooled in the binomial-normal random-effects model on "
                 "the logit scale, or a median time pooled on the log scale with each study's SE "
                 "from its confidence interval; " + _single_engine_words(single.values())
                 + ". A median not reached is a bound and is left out of the pooled value."),
           Block("table", "Pooled single-group questions (posterior median; credible and "
                 "prediction intervals).", table=single_arm_table(poolset), name="single_arm")]
    if "forest" in figures:
        for sa in single.values():
            out.append(Block("figure", f"Forest plot: {sa.id} ({sa.measure})",
                             figure=lambda sa=sa: sa.pool.plot(labels=_single_arm_labels(sa, labels)),
                             name=f"{sa.id}_forest"))
    return out


def certainty_table(result, printed: dict | None = None) -> pd.DataFrame:
    """The GRADE inputs of one question (:func:`survmeta.grade.grade_inputs`), a row per domain.

    With one study at the 95% level, the imprecision row uses the CI as the paper printed it
    (``printed``, as in the summary of findings) when it is known.
    """
    from dataclasses import replace

    from survmeta.grade import grade_inputs
    from survmeta.plotting.forest import printed_hr

    g = grade_inputs(result)
    if g.basis == "one study" and abs(result.level - 0.95) < 1e-9:
        shown = printed_hr(result.effects.iloc[0], printed)
        if shown:
            lo, hi = float(shown[1]), float(shown[2])
            g = replace(g, hr=float(shown[0]), hr_lower=lo, hr_upper=hi,
                        interval_crosses_1=bool(lo < 1 < hi))
    return pd.DataFrame(g.domains(), columns=["Domain", "Input"])


def primary_sof_footnote(poolset) -> str | None:
    """The note on the one-study rows of :func:`primary_sof_table` (None when there are none)."""
    ones = [r for r in poolset.values() if r.k == 1]
    if not ones:
        return None
    n = len(ones)
    return (f"{ONE_STUDY_MARK} One study (k = 1; {n} question{'s' if n != 1 else ''}): there is "
            "nothing to pool, so the row gives the study's own HR with its confidence interval, "
            "and P(HR < 1) from its normal likelihood. The random-effects fit of such a question, "
            "whose credible interval adds the between-study heterogeneity the \u03c4 prior allows "
            "and is therefore wider, is given in the question's section.")


def sof_footnote(poolset) -> str | None:
    """The note explaining the single-study rows of :func:`sof_table` (None when there are none)."""
    ones = [r for r in poolset.values() if r.k == 1]
    if not ones:
        return None
    n = len(ones)
    lead = (f"{ONE_STUDY_MARK} One study (k = 1; {n} question{'s' if n != 1 else ''}): "
            "there is nothing to pool, and the pooled HR is the study's own estimate seen "
            "through the model.")
    if all(r.engine == "hierarchical" for r in ones):
        return (lead + " Its credible interval adds the between-study heterogeneity \u03c4 that "
                "the question borrows from the other questions, so it is wider than the study's "
                "own confidence interval.")
    text = (lead + " Its random-effects credible interval adds the between-study heterogeneity "
            "the \u03c4 prior allows, so it is wider than the study's own confidence interval "
            "(which the estimates table of the question shows).")
    if any(_common_effect_hr(r) for r in ones):
        text += (" The common-effect HR (\u03c4 = 0) is, up to the prior on the pooled log HR, the "
                 "study's own estimate; read it beside the random-effects one.")
    return text


def _cell(x, fmt="{}") -> str:
    if x is None:
        return ""
    try:
        if isinstance(x, float) and math.isnan(x):
            return ""
    except TypeError:
        pass
    return fmt.format(x)


def printed_hrs(registry) -> dict:
    """``"study/comparison"`` -> ``(hr, lower, upper)`` as the paper printed them (95% CIs only).

    The effect table keeps ``log_hr`` and ``se``; for a reported HR with a CI
    the interval recomputed from them can differ from the printed one in the
    last digit (rounding of the printed bounds), so tables and forest plots
    print these numbers for rows whose method is ``hr_ci``.
    """
    out = {}
    if registry is None or not hasattr(registry, "comparisons"):
        return out
    try:
        comparisons = registry.comparisons()
    except Exception:  # a registry-like object without comparisons: nothing printed to show
        return out
    for c in comparisons:
        h = getattr(c, "hr", None)
        ci = getattr(h, "ci", None) if h is not None else None
        if h is None or ci is None or getattr(h, "estimate", None) is None:
            continue
        level = getattr(h, "level", 0.95)
        if level is None or abs(float(level) - 0.95) > 1e-9:
            continue
        try:
            vals = (float(h.estimate), float(ci[0]), float(ci[1]))
        except (TypeError, ValueError):  # a bound "NR"
            continue
        out[str(c.key)] = vals
    return out


def risk_of_bias_entries(registry) -> dict:
    """``"study/comparison"`` -> its :class:`~survmeta.registry.records.RiskOfBias`, where it has one.

    Empty without a registry (an effects CSV carries none).
    """
    try:
        comparisons = registry.comparisons()
    except Exception:  # no registry, or one without comparisons
        return {}
    return {str(c.key): c.risk_of_bias for c in comparisons
            if getattr(c, "risk_of_bias", None) is not None}


def author_year_study_labels(registry) -> dict:
    """Study id -> the author-year label the report prints (``"Heo 2021"``).

    From :func:`survmeta.registry.summary.author_year_labels`: the first
    author's surname and the year from the citation, with the study id added
    where two studies share a label. Empty without a registry, and for an
    effects CSV, whose printed labels the effect table carries already.
    """
    from survmeta.registry.effects_csv import EffectsRegistry
    from survmeta.registry.summary import author_year_labels

    if registry is None or isinstance(registry, EffectsRegistry) \
            or not hasattr(registry, "studies"):
        return {}
    try:
        return author_year_labels(registry.studies)
    except Exception:  # a registry-like object whose studies carry no citation: ids stay
        return {}


def _label(row, labels) -> str:
    sid = _study_id(row)
    if labels and sid in labels:
        return str(labels[sid])
    v = row.get("label")
    return sid if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _study_hr_cell(row, printed, level: float = 0.95) -> str:
    from survmeta.plotting.forest import fmt_printed, printed_hr

    shown = printed_hr(row, printed) if abs(level - 0.95) < 1e-9 else None  # printed: 95%
    if shown:
        return fmt_printed(*shown)
    return fmt_interval(row["hr"], row["hr_lower"], row["hr_upper"])


def estimates_table(result, printed: dict | None = None, labels: dict | None = None) -> pd.DataFrame:
    """Every pooled estimate: study, comparison, year, n, endpoint, method, HR [CI], weight,
    shrunken HR, notes.

    ``Study`` is the study's label: from ``labels`` (study id -> label, see
    :func:`author_year_study_labels`: ``"Heo 2021"``) when given, else the effect table's
    ``label`` (the study id of a TOML registry). ``Comparison`` is the id the
    JSON output uses. For a reported HR with its CI (method ``hr_ci``) the HR
    and CI are printed as the paper printed them when ``printed`` (see
    :func:`printed_hrs`) or the row's ``inputs`` hold them.
    """
    e = result.effects.reset_index(drop=True)
    lvl = _lvl(result.level)
    rows = []
    for i in range(len(e)):
        r = e.iloc[i]
        notes = []
        for col in ("flags",):
            v = r.get(col)
            if v is not None and not (isinstance(v, float) and math.isnan(v)) and len(v):
                notes.append("flags: " + ", ".join(map(str, v)))
        for col in ("assumptions", "warnings"):
            v = r.get(col)
            if v is not None and not (isinstance(v, float) and math.isnan(v)) and len(v):
                notes += [str(s) for s in v]
        n = pd.to_numeric(pd.Series([r.get("n")]), errors="coerce").iloc[0]
        year = pd.to_numeric(pd.Series([r.get("year")]), errors="coerce").iloc[0]
        row = {
            "Study": _label(r, labels),
            "Comparison": str(r.get("comparison", "")),
            "Year": "" if pd.isna(year) else str(int(year)),
            "n": "" if pd.isna(n) else str(int(n)),
            "Endpoint": _cell(r.get("endpoint")),
            "Method": f"{r['method']}: {method_title(str(r['method']))}",
            f"HR [{lvl} CI]": _study_hr_cell(r, printed, result.level),
            "Weight": _cell(r.get("weight"), "{:.1f}%"),
        }
        if {"theta_mean", "theta_lower", "theta_upper"} <= set(e.columns):
            row[f"Shrunken HR [{lvl} CrI, equal-tailed]"] = fmt_interval(
                math.exp(r["theta_mean"]), math.exp(r["theta_lower"]), math.exp(r["theta_upper"])
            )
        row["Notes"] = "; ".join(notes)
        rows.append(row)
    return pd.DataFrame(rows)


def not_pooled_table(poolset, labels: dict | None = None) -> pd.DataFrame:
    """Every comparison that was not pooled, and why (PoolSet.skipped and each result.excluded).

    ``Study`` is the label from ``labels`` (see :func:`author_year_study_labels`) when it
    has the study, else the study id.
    """
    def study(x) -> str:
        sid = _study_id(x)
        return str((labels or {}).get(sid, sid))

    rows = []
    for r in poolset.values():
        if len(r.excluded):
            for _, x in r.excluded.iterrows():
                rows.append({"Question": r.id, "Study": study(x),
                             "Comparison": str(x.get("comparison", "")),
                             "Reason": str(x.get("reason", ""))})
    for s in getattr(poolset, "skipped", []) or []:
        qid = s.get("id") or s.get("question") or ""
        excluded = s.get("excluded") or []
        if excluded:
            for x in excluded:
                rows.append({"Question": qid, "Study": study(x),
                             "Comparison": str(x.get("comparison", "")),
                             "Reason": str(x.get("reason", ""))})
        else:
            rows.append({"Question": qid, "Study": "", "Comparison": "",
                         "Reason": str(s.get("reason", ""))})
    return pd.DataFrame(rows, columns=["Question", "Study", "Comparison", "Reason"])


def _study_id(x) -> str:
    """The study id of an excluded entry (``study``, as in the JSON; ``id`` in older output)."""
    v = x.get("study")
    if v is None or (isinstance(v, float) and math.isnan(v)):
        v = x.get("id")
    return "" if v is None else str(v)


def registry_summary(poolset, registry=None) -> tuple[str, pd.DataFrame]:
    """A sentence on the registry and one row per question (pooled or not, k, comparisons)."""
    results = dict(poolset.items())
    skipped = {(s.get("id") or s.get("question")): s for s in getattr(poolset, "skipped", []) or []}
    rows = []
    requested = (getattr(poolset, "meta", None) or {}).get("questions_requested")
    if registry is not None and getattr(registry, "questions", None) is not None:
        n_studies = len(registry.studies)
        n_comp = len(registry.comparisons())
        listed = [q for q in registry.questions if requested is None or q.id in requested]
        for q in listed:
            comps = registry.comparisons(q.id)
            r = results.get(q.id)
            rows.append({
                "Question": q.id, "Title": q.title, "Comparisons": str(len(comps)),
                "Pooled (k)": str(r.k) if r else "0",
                "Status": "pooled" if r else
                f"not pooled: {skipped.get(q.id, {}).get('reason', 'not requested')}",
            })
        sentence = (f"The registry holds {n_studies} studies with {n_comp} comparisons "
                    f"across {len(registry.questions)} questions; {len(results)} "
                    f"question{'s were' if len(results) != 1 else ' was'} pooled.")
        if requested is not None:
            sentence += (f" The report was limited to {len(requested)} "
                         f"question{'s' if len(requested) != 1 else ''}: "
                         f"{', '.join(map(str, requested))}; only "
                         f"{'these are' if len(requested) != 1 else 'this is'} listed.")
    else:
        studies = set()
        for r in results.values():
            studies.update(map(str, r.effects["study"]))
            rows.append({"Question": r.id, "Title": r.question.get("title") or "",
                         "Comparisons": str(r.k + len(r.excluded)), "Pooled (k)": str(r.k),
                         "Status": "pooled"})
        for qid, s in skipped.items():
            rows.append({"Question": qid, "Title": "", "Comparisons": str(len(s.get("excluded") or [])),
                         "Pooled (k)": "0", "Status": f"not pooled: {s.get('reason', '')}"})
        sentence = (f"{len(results)} question{'s were' if len(results) != 1 else ' was'} pooled "
                    f"from {len(studies)} studies.")
    return sentence, pd.DataFrame(rows)


def diagnostics_items(result) -> list[str]:
    """Sampler diagnostics (or quadrature notes) as sentences."""
    d = result.diagnostics.to_dict()
    items = []
    labels = {"method": "method", "r_hat_max": "largest R-hat", "ess_bulk_min": "smallest bulk ESS",
              "ess_tail_min": "smallest tail ESS", "divergences": "divergent transitions",
              "treedepth_hits": "draws at maximum tree depth", "chains": "chains",
              "draws": "draws per chain",
              "rank_alpha": "level of the rank-uniformity test (the p on each rank-plot panel)"}
    for key, label in labels.items():
        if key in d and d[key] is not None:
            v = d[key]
            if isinstance(v, float):
                v = (f"{v:.3f}" if key == "r_hat_max" else f"{v:g}" if key == "rank_alpha"
                     else f"{v:.0f}")
            items.append(f"{label}: {v}")
    for key, v in d.items():
        if key in labels or key in ("warnings", "groups") or isinstance(v, (dict, list)):
            continue
        items.append(f"{key}: {v}")
    for w in d.get("warnings", []) or []:
        items.append(f"WARNING: {w}")
    if not items:
        items.append("no diagnostics recorded")
    return items


def frequentist_sentence(result) -> str | None:
    f = result.frequentist or {}
    reml = f.get("REML") if isinstance(f, dict) else None
    if not reml:
        return None
    lvl = _lvl(result.level)
    s = (f"Frequentist companion (REML): HR {fmt_num(reml['hr'])} "
         f"({lvl} CI {fmt_num(reml['hr_ci'][0])} to {fmt_num(reml['hr_ci'][1])}")
    if reml.get("knha_hr_ci"):
        s += (f"; Knapp-Hartung {fmt_num(reml['knha_hr_ci'][0])} to "
              f"{fmt_num(reml['knha_hr_ci'][1])}")
    s += f"), tau\u00b2 {reml['tau2']:.3f}, I\u00b2 {reml['I2']:.1f}%, Q {reml['Q']:.2f}"
    if reml.get("Q_p") is not None:
        s += f" (p {fmt_pval(reml['Q_p'], equal=True)})"
    dl = f.get("DL")
    if dl:
        s += f"; DerSimonian-Laird HR {fmt_num(dl['hr'])} ({fmt_num(dl['hr_ci'][0])} to {fmt_num(dl['hr_ci'][1])})."
    else:
        s += "."
    return s


def km_comparisons(registry) -> dict:
    """``"study/comparison"`` -> comparison, for those whose two arms carry a Kaplan-Meier curve
    with a group size (``n`` or an at-risk table): the ones :func:`~survmeta.plotting.plot_km`
    can draw."""
    out = {}
    if registry is None or not hasattr(registry, "comparisons"):
        return out
    try:
        comparisons = registry.comparisons()
    except Exception:  # a registry-like object without comparisons: nothing to draw
        return out
    for c in comparisons:
        arms = [getattr(c, "experimental", None), getattr(c, "reference", None)]
        if all(a is not None and getattr(a, "km", None) is not None
               and (a.n is not None or a.km.at_risk is not None) for a in arms):
            out[str(c.key)] = c
    return out


def _km_blocks(result, km) -> list[Block]:
    """One Kaplan-Meier overlay per pooled comparison with curves, in the order of the effects."""
    from survmeta import plotting

    if not km or "key" not in result.effects.columns:
        return []
    out = []
    for key in dict.fromkeys(str(k) for k in result.effects["key"]):
        if key in km:
            out.append(Block("figure", f"Kaplan-Meier reconstruction: {key} (digitised points and "
                                       "the Kaplan-Meier curve of the reconstructed patient data, "
                                       "numbers at risk printed and reconstructed).",
                             figure=lambda c=km[key]: plotting.plot_km(c),
                             name=f"{result.id}_km_{key}"))
    return out


def _figure_blocks(result, figures, printed=None, labels=None, km=None,
                   risk_of_bias=None) -> list[Block]:
    from survmeta import plotting
    from survmeta.pooling import mixed_endpoints

    rid = result.id
    out = []
    keys = [str(k) for k in result.effects["key"]] if "key" in result.effects else []
    rob = {k: risk_of_bias[k] for k in keys if k in (risk_of_bias or {})}
    if "forest" in figures:
        out.append(Block("figure", f"Forest plot: {rid}"
                         + (" (risk-of-bias judgements from the registry; domains in the legend "
                            "under the plot)." if rob else "."),
                         figure=lambda: plotting.plot_forest(result, printed=printed,
                                                             labels=labels or None,
                                                             risk_of_bias=rob or None),
                         name=f"{rid}_forest"))
    if "rob" in figures and rob:
        w = dict(zip(keys, result.effects["weight"])) if "weight" in result.effects else None
        out.append(Block("figure", f"Risk-of-bias summary: {rid} (share of pooling weight per "
                         "judgement, per domain).",
                         figure=lambda: plotting.plot_rob_summary(rob, weights=w, title=None),
                         name=f"{rid}_rob_summary"))
    if "subgroups" in figures and mixed_endpoints(result.effects):
        out.append(Block("figure", f"Subgroups by endpoint: {rid} (it pools different "
                         "endpoints; test for subgroup differences under the plot).",
                         figure=lambda: plotting.plot_subgroup_forest(result,
                                                                      labels=labels or None),
                         name=f"{rid}_subgroups"))
    if "posterior" in figures and result.k >= 2:  # with one study the primary answer is its own HR
        out.append(Block("figure", f"Posterior of the pooled HR: {rid}.",
                         figure=lambda: plotting.plot_posterior(result), name=f"{rid}_posterior"))
    if "tau" in figures and result.k >= 2:  # with one study the tau plot shows only its prior
        out.append(Block("figure", f"Prior and posterior of \u03c4: {rid}.",
                         figure=lambda: plotting.plot_tau(result), name=f"{rid}_tau"))
    if "funnel" in figures and result.k >= 3:
        out.append(Block("figure", f"Funnel plot: {rid}.", figure=lambda: plotting.plot_funnel(result, labels=labels or None),
                         name=f"{rid}_funnel"))
    if "diagnostics" in figures and result.engine != "exact" and result.posterior is not None:
        out.append(Block("figure", f"MCMC trace: {rid}.", figure=lambda: plotting.plot_trace(result),
                         name=f"{rid}_trace"))
        out.append(Block("figure", f"MCMC rank plot: {rid}. {RANK_NOTE}", figure=lambda: plotting.plot_rank(result),
                         name=f"{rid}_rank"))
    if "km" in figures:
        out += _km_blocks(result, km)
    return out


#: What the p on each rank-plot panel means, and how the diagnostics list uses it.
RANK_NOTE = ("Each panel prints ArviZ's multiple-chain rank-uniformity test, p=...(\u03b1=...); "
             "curves that wander apart and a p below \u03b1 mean the chains disagree. The "
             "diagnostics list warns on the same test (for a variable with several elements, "
             "on its smallest p times the number of elements).")

DEFAULT_FIGURES = ("forest", "rob", "subgroups", "posterior", "tau", "funnel", "diagnostics",
                   "km")


def question_blocks(r, figures=DEFAULT_FIGURES, printed: dict | None = None, *,
                    collapsible: bool = False, labels: dict | None = None,
                    km: dict | None = None, risk_of_bias: dict | None = None) -> list[Block]:
    """The section of one pooled question: heading, sentences, figures, estimates, diagnostics.

    A question with one study is compact: its primary answer is the study's own HR, so it
    has no posterior figure (that of the random-effects fit, wider than the study's own
    interval, would contradict it) and no tau figure (it would show only the prior); the
    funnel plot needs k >= 3. A question that pools different endpoints gets a subgroup
    forest plot by endpoint.

    Parameters
    ----------
    r : survmeta.results.PoolResult
    figures : sequence of str
        See :data:`DEFAULT_FIGURES`.
    printed : dict, optional
        From :func:`printed_hrs`.
    labels : dict, optional
        Study id -> label for the forest plot and the estimates table (from
        :func:`author_year_study_labels`).
    collapsible : bool
        Open the section with a ``"details"`` block (the heading; open when
        k >= 2) and close it with ``"end_details"``, instead of an ``"h2"``.
    km : dict, optional
        From :func:`km_comparisons`: the comparisons with Kaplan-Meier curves to draw.
    risk_of_bias : dict, optional
        From :func:`risk_of_bias_entries`: the forest plot gets traffic-light
        columns and, with ``"rob"`` in ``figures``, a risk-of-bias summary
        figure follows it, when any of the question's rows has an entry.

    Returns
    -------
    list of Block
    """
    out: list[Block] = []
    q = r.question
    lvl = _lvl(r.level)
    heading = f"{r.id}: {q.get('title') or ''}".rstrip(": ")
    if collapsible:
        out.append(Block("details", heading, name=f"q-{r.id}", data={"open": r.k >= 2}))
    else:
        out.append(Block("h2", heading, name=f"q-{r.id}"))
    hr, tau = r.stats["hr"], r.stats["tau"]
    out.append(Block("p", (
        f"HR = hazard({q.get('experimental')}) / hazard({q.get('reference')})"
        + (f" for {q.get('outcome')}" if q.get("outcome") else "")
        + f"; HR < 1 favours {q.get('experimental')}. k = {r.k}, participants "
        f"{fmt_participants(r)}. {'Pooled' if r.k >= 2 else 'Random-effects'} HR "
        f"{fmt_interval(hr.median, hr.eti.lower, hr.eti.upper)} "
        f"(posterior median, {lvl} CrI); \u03c4 {tau.median:.2f} "
        f"[{tau.eti.lower:.2f}, {tau.eti.upper:.2f}]; {fmt_p_statement(r.p_hr_below_1)}. "
        f"Engine: {r.engine}; priors: tau {describe_prior(result_prior(r, 'tau'), 'tau')}, "
        f"mu {describe_prior(result_prior(r, 'mu'), 'mu')}."
    )))
    fs = frequentist_sentence(r)
    if fs:
        out.append(Block("p", fs))
    out += _figure_blocks(r, figures, printed, labels, km, risk_of_bias)
    out.append(Block("table", f"Pooled estimates of {r.id} and how each was obtained "
                     "(HR [95% CI] as the paper printed it for a reported HR with its CI; "
                     "otherwise from the estimate and its SE).",
                     table=estimates_table(r, printed, labels), name=f"estimates_{r.id}"))
    from survmeta.grade import OIS_RULE

    out.append(Block("h3", "Certainty inputs", name=f"certainty-{r.id}"))
    out.append(Block("table", f"GRADE inputs of {r.id}, for the rater: survmeta does not rate "
                     "certainty; the rating is the one recorded in the registry ([[question]] "
                     f"certainty). Events: {OIS_RULE}.", table=certainty_table(r, printed),
                     name=f"certainty_{r.id}"))
    out.append(Block("h3", "Diagnostics", name=f"diag-{r.id}"))
    out.append(Block("list", items=diagnostics_items(r)))
    if r.notes:
        out.append(Block("h3", "Notes", name=f"notes-{r.id}"))
        out.append(Block("list", items=[str(n) for n in r.notes]))
    if collapsible:
        out.append(Block("end_details"))
    return out


def build_document(poolset, registry=None, *, registry_file=None, command=None,
                   figures=DEFAULT_FIGURES, title: str = "survmeta report",
                   question_pages: dict | None = None) -> list[Block]:
    """All blocks of the report, in reading order.

    Parameters
    ----------
    poolset : survmeta.results.PoolSet
        The pooled questions.
    registry : survmeta.registry.records.Registry, optional
        For the registry summary and the hash.
    registry_file : path, optional
        Registry file to hash when ``registry`` has no ``path``.
    command : str, optional
        The command line, for the stamp.
    figures : sequence of str
        Which figures to include per question (see :data:`DEFAULT_FIGURES`).
    title : str
        Page title.
    question_pages : dict, optional
        ``question id -> relative link`` of each question's own page. Given,
        the per-question sections are left out and a list of links to those
        pages takes their place (:func:`question_blocks` builds the pages).

    Returns
    -------
    list of Block
    """
    doc = [Block("h1", title)]
    doc += [Block("h2", "Summary of findings", name="summary-of-findings"),
            Block("table", "Summary of findings, the primary answer per question: HR = "
                  "hazard(experimental) / hazard(reference); HR < 1 favours the experimental arm. "
                  "Participants: sum of n over the pooled comparisons. HR: the random-effects "
                  "pooled HR (posterior median, credible interval) when k >= 2; the study's own "
                  "HR and confidence interval when k = 1.", table=primary_sof_table(poolset, printed_hrs(registry)),
                  name="sof")]
    foot = primary_sof_footnote(poolset)
    if foot:
        doc.append(Block("p", foot))
    doc += single_arm_blocks(poolset, figures, author_year_study_labels(registry))
    doc += small_study_blocks(poolset)
    doc += hierarchical_blocks(poolset, figures)
    sentence, qtable = registry_summary(poolset, registry)
    doc += [Block("h2", "Registry", name="registry"), Block("p", sentence),
            Block("table", "Questions in the registry.", table=qtable, name="questions")]
    printed = printed_hrs(registry)
    rob = risk_of_bias_entries(registry)
    km = km_comparisons(registry) if "km" in figures else {}
    labels = author_year_study_labels(registry)
    np_table = not_pooled_table(poolset, labels)
    doc.append(Block("h3", "Not pooled", name="not-pooled"))
    if len(np_table):
        doc.append(Block("table", "Comparisons that could not be pooled, and why.", table=np_table,
                         name="not_pooled"))
    else:
        doc.append(Block("p", "Every comparison of the pooled questions was pooled."))
    if question_pages is None:
        doc += [Block("h2", "Questions", name="questions-sections"),
                Block("p", "One section per pooled question (collapsed for a question with one "
                      "study): the figures, every pooled estimate and how it was obtained, and "
                      "the diagnostics.")]
        for r in poolset.values():
            doc += question_blocks(r, figures, printed, collapsible=True, labels=labels, km=km,
                                   risk_of_bias=rob)
    else:
        doc += [Block("h2", "Questions", name="questions-pages"),
                Block("p", "Each pooled question has its own page: the figures, every pooled "
                      "estimate and how it was obtained, and the diagnostics."),
                Block("links", items=[(f"{r.id}: {r.question.get('title') or ''}".rstrip(": "),
                                       question_pages[r.id]) for r in poolset.values()])]
    para, cited = methods_paragraph(poolset)
    doc += [Block("h2", "Methods", name="methods"), Block("p", para)]
    if cited:
        doc += [Block("h3", "References", name="references"),
                Block("list", items=[REFERENCES[c] for c in cited if c in REFERENCES])]
    stamp = make_stamp(poolset, registry, registry_file, command)
    doc += [Block("h2", "Reproducibility", name="reproducibility"), Block("stamp", data=stamp)]
    doc.insert(1, toc_block(doc))
    return doc


def toc_block(blocks: list[Block]) -> Block:
    """The table of contents: a ``"toc"`` block of ``(text, "#anchor", depth)`` items.

    Every section heading with an anchor (``"h2"``, depth 1) and every
    question section (``"details"``, depth 2) is listed, in reading order.
    """
    items = []
    for b in blocks:
        if b.name and b.kind == "h2":
            items.append((b.text, f"#{b.name}", 1))
        elif b.name and b.kind == "details":
            items.append((b.text, f"#{b.name}", 2))
    return Block("toc", "Contents", items=items, name="contents")


#: Shared variables of the hierarchical fit drawn in its trace and rank plots.
HIERARCHICAL_DIAGNOSTIC_VARS = ("tau_pop", "sigma_logtau", "beta", "kappa", "rho")


def hierarchical_blocks(poolset, figures=DEFAULT_FIGURES) -> list[Block]:
    """Summary of the hierarchical model within each linked question group, when fitted.

    Per fit: a paragraph on the model and its settings (read from the fit), the
    per-question table, the sampler diagnostics and, with ``"diagnostics"``
    in ``figures``, trace and rank plots of the shared variables and of the
    question with the smallest bulk ESS of tau. Block names carry the group when
    there are several fits.
    """
    hier = getattr(poolset, "hierarchical", None)
    if hier is None or not len(hier):
        return []
    fits = hier.by_fit()
    out = [Block("h2", "Hierarchical model across questions", name="hierarchical")]
    links = (poolset.meta or {}).get("hierarchical_links") or {}
    if links.get("not_linked"):
        out.append(Block("p", "Heterogeneity is shared only among the questions of one group. "
                         "Not linked: " + "; ".join(f"{q} ({why})" for q, why in
                                                   links["not_linked"].items()) + "."))
    for name, fit in fits.items():
        out += _fit_blocks(fit, name, "" if len(fits) == 1 else f"_{name}", figures)
    return out


def _fit_blocks(hier, name: str, suffix: str, figures) -> list[Block]:
    """The blocks of one hierarchical fit (one question group)."""
    first = next(iter(hier.values()))
    s = hierarchical_settings(hier)
    group = f"Question group {name}: its {len(hier)} questions" if name else "The same questions"
    text = (
        f"{group} pooled jointly with PyMC: each question keeps its own pooled log HR, "
        "while the between-study heterogeneities of these questions share one population "
        f"distribution, so questions with one or two studies borrow strength from the others "
        f"(docs/models.md). Priors: mu {result_prior(first, 'mu')}; tau {result_prior(first, 'tau')}."
    )
    settings = " ".join(x for x in (covariates_sentence(s["covariates"], s["coefficient_sd"]),
                                    extra_error_sentence(s["extra_error"])) if x)
    if settings:
        text += " " + settings
    if s["notes"]:
        text += f" Notes from the fit: {s['notes']}."
    out = [
        *([Block("h3", f"Group {name}", name=f"hierarchical{suffix}")] if suffix else []),
        Block("p", text),
        Block("table", "Hierarchical model: pooled HR per question (posterior median and "
              "credible interval), heterogeneity and P(HR < 1).", table=sof_table(hier),
              name=f"sof_hierarchical{suffix}"),
    ]
    foot = sof_footnote(hier)
    if foot:
        out.append(Block("p", foot))
    out += [Block("h3", "Sampler diagnostics" + (f", group {name}" if suffix else ""),
                  name=f"diag-hierarchical{suffix}"),
            Block("list", items=diagnostics_items(first))]
    if "diagnostics" in figures and first.posterior is not None:
        out += _hierarchical_diagnostic_figures(hier, suffix)
    return out


def _hierarchical_diagnostic_figures(hier, tag: str = "") -> list[Block]:
    from survmeta import plotting

    first = next(iter(hier.values()))
    try:
        group = first.posterior["posterior"]
    except Exception:  # no draws to diagnose
        return []
    shared = [v for v in HIERARCHICAL_DIAGNOSTIC_VARS if v in group.data_vars]
    worst = _slowest_question(group)
    coords = {"question": [worst]} if worst is not None else None
    per_q = [v for v in ("mu", "tau") if worst is not None and v in group.data_vars]
    var_names = tuple(shared + per_q)
    if not var_names:
        return []
    what = ", ".join(shared)
    suffix = f"; mu_q, tau_q: {worst}" if worst is not None else ""
    caption_q = f"; mu and tau of {worst} (the question with the smallest bulk ESS of tau)" \
        if worst is not None else ""
    return [
        Block("figure", f"Hierarchical model, MCMC trace: {what}{caption_q}.",
              figure=lambda: plotting.plot_trace(first, var_names=var_names, coords=coords,
                                                 title="MCMC trace: hierarchical model" + suffix),
              name=f"hierarchical_trace{tag}"),
        Block("figure", f"Hierarchical model, MCMC rank plot: {what}{caption_q}. {RANK_NOTE}",
              figure=lambda: plotting.plot_rank(first, var_names=var_names, coords=coords,
                                                title="MCMC rank plot: hierarchical model" + suffix),
              name=f"hierarchical_rank{tag}"),
    ]


def _slowest_question(group) -> str | None:
    """The question whose tau has the smallest bulk ESS (the hardest to sample), or None."""
    if "tau" not in group.data_vars or "question" not in group["tau"].dims:
        return None
    questions = [str(q) for q in group["tau"]["question"].values]
    try:
        from arviz_stats import ess

        values = ess(group["tau"], method="bulk")
        vals = [float(values.sel(question=q)) for q in questions]
        return questions[min(range(len(vals)), key=vals.__getitem__)]
    except Exception:  # ESS unavailable: the first question still shows the per-question draws
        return questions[0] if questions else None


def stamp_rows(stamp: dict) -> pd.DataFrame:
    """The stamp as a two-column table."""
    rows = []
    for key in ("generated", "command", "registry", "registry_sha256", "engine", "seed", "level",
                "priors"):
        if stamp.get(key) is not None:
            rows.append({"Item": key.replace("_", " "), "Value": str(stamp[key])})
    for name, v in stamp.get("versions", {}).items():
        rows.append({"Item": name, "Value": str(v)})
    return pd.DataFrame(rows)


__all__ = ["Block", "build_document", "question_blocks", "sof_table", "primary_sof_table",
           "toc_block", "author_year_study_labels", "estimates_table", "not_pooled_table",
           "registry_summary", "diagnostics_items", "stamp_rows", "DEFAULT_FIGURES",
           "km_comparisons"]
