"""How one comparison's log HR was reconstructed, in words a reviewer can use.

:func:`explain` prints the inputs as the paper printed them (quote and
location), every candidate method with its numbers or why it does not apply,
the choice and why, and a paragraph for a methods section with references.
"""

from __future__ import annotations

from survmeta._format import fmt_level

import difflib
import math

from survmeta.errors import SurvmetaError
from survmeta.reconstruction.joint_text import joint_choice_text, joint_paragraph
from survmeta.reconstruction.km_text import KM_REFERENCES, km_choice_lines, km_paragraph
from survmeta.reconstruction.methods import APPROXIMATE, METHOD_TITLES, METHODS, Estimate
from survmeta.reconstruction.select import Z95, estimate_comparison
from survmeta.registry.records import Arm, Comparison, PValue, Registry
from survmeta.registry.summary import short_citation

REFERENCES = {
    "Parmar 1998": (
        "Parmar MKB, Torri V, Stewart L. Extracting summary statistics to perform "
        "meta-analyses of the published literature for survival endpoints. "
        "Stat Med. 1998;17:2815-2834."
    ),
    "Tierney 2007": (
        "Tierney JF, Stewart LA, Ghersi D, Burdett S, Sydes MR. Practical methods for "
        "incorporating summary time-to-event data into meta-analysis. Trials. 2007;8:16."
    ),
    "Michiels 2005": (
        "Michiels S, Piedbois P, Burdett S, Syz N, Stewart L, Pignon JP. Meta-analysis when "
        "only the median survival times are known: a comparison with individual patient data "
        "results. Int J Technol Assess Health Care. 2005;21:119-125."
    ),
    **KM_REFERENCES,
}

#: What each method did, as a clause for the methods paragraph, and its references.
_SENTENCES = {
    "direct": ("the log hazard ratio and its standard error were used as given", ()),
    "hr_ci": (
        "the reported hazard ratio was used, with the standard error of its logarithm derived "
        "from the {level} confidence interval on the log scale",
        ("Parmar 1998", "Tierney 2007"),
    ),
    "hr_p": (
        "the reported hazard ratio was used, with the standard error of its logarithm derived "
        "from the reported p-value as |log HR|/z",
        ("Tierney 2007",),
    ),
    "logrank_oe": (
        "the log hazard ratio was estimated from the reported log-rank O - E and variance V "
        "as (O - E)/V, with standard error 1/sqrt(V)",
        ("Parmar 1998", "Tierney 2007"),
    ),
    "observed_expected": (
        "the hazard ratio was estimated from the observed and expected numbers of events in "
        "each arm as (O_e/E_e)/(O_r/E_r), with variance of its logarithm 1/E_e + 1/E_r",
        ("Parmar 1998", "Tierney 2007"),
    ),
    "chisq": (
        "the log hazard ratio was estimated from the log-rank chi-square statistic, with the "
        "log-rank variance approximated from the events in each arm",
        ("Parmar 1998", "Tierney 2007"),
    ),
    "p_events": (
        "the log hazard ratio was estimated from the reported p-value and the events in each "
        "arm (log-rank variance V = d_e d_r/(d_e + d_r), log HR = z/sqrt(V), SE = 1/sqrt(V))",
        ("Parmar 1998", "Tierney 2007"),
    ),
    "p_total_events": (
        "the log hazard ratio was estimated from the reported p-value and the total number of "
        "events, with the log-rank variance V = D n_e n_r/(n_e + n_r)^2 from the total D and "
        "the allocation ratio ({allocation}); log HR = z/sqrt(V), SE = 1/sqrt(V)",
        ("Tierney 2007",),
    ),
    "median_ratio_ci": (
        "the hazard ratio was approximated by the inverse ratio of the median times, assuming "
        "exponential survival in both arms, with the standard error combined from the "
        "confidence intervals of the two medians on the log scale",
        ("Michiels 2005", "Tierney 2007"),
    ),
    "median_ratio_events": (
        "the hazard ratio was approximated by the inverse ratio of the median times, assuming "
        "exponential survival in both arms, with standard error sqrt(1/d_e + 1/d_r) from the "
        "events in each arm",
        ("Michiels 2005",),
    ),
    "median_ratio_p": (
        "the hazard ratio was approximated by the inverse ratio of the median times, assuming "
        "exponential survival in both arms, with the standard error derived from the reported "
        "p-value as |log HR|/z",
        ("Michiels 2005", "Tierney 2007"),
    ),
    "p_patients": (
        "the log hazard ratio was estimated from the reported p-value with the log-rank "
        "variance approximated from the group sizes instead of the events; since patients "
        "outnumber events, this standard error is a lower bound",
        ("Tierney 2007",),
    ),
}


def _fmt(x) -> str:
    if x is None:
        return "not reported"
    if isinstance(x, float):
        return f"{x:g}"
    return str(x)


def _pct(level: float) -> str:
    return fmt_level(level)


def _p_text(p: PValue) -> str:
    sided = "one-sided" if p.sided == 1 else "two-sided"
    return f"p {p.text} ({sided})" if p.text[:1] in "<>=" else f"p = {p.text} ({sided})"


def _arm_text(role: str, arm: Arm) -> str:
    parts = [f"{role} ({arm.label}):"]
    parts.append(f"n = {_fmt(arm.n)}")
    if arm.events is not None:
        parts.append(f"events = {arm.events}")
    if arm.expected is not None:
        parts.append(f"expected = {_fmt(arm.expected)}")
    if arm.median is not None:
        med = f"median = {_fmt(arm.median)}"
        if arm.ci is not None:
            med += f" ({_pct(arm.ci_level)} CI {_fmt(arm.ci[0])}-{_fmt(arm.ci[1])})"
        parts.append(med)
    return "  " + " ".join(parts[:1]) + " " + ", ".join(parts[1:])


def _inputs(c: Comparison) -> list[str]:
    lines = [_arm_text("experimental", c.experimental), _arm_text("reference", c.reference)]
    if c.hr is not None:
        hr = f"  HR {c.hr.estimate:g}"
        if c.hr.ci is not None:
            hr += f" ({_pct(c.hr.level)} CI {_fmt(c.hr.ci[0])}-{_fmt(c.hr.ci[1])})"
        if c.hr.adjusted is not None:
            hr += ", adjusted" if c.hr.adjusted else ", unadjusted"
        if c.hr.p is not None:
            hr += f", {_p_text(c.hr.p)}"
        lines.append(hr)
    if c.p is not None:
        lines.append(f"  {_p_text(c.p)}")
    if c.logrank is not None:
        lines.append(f"  log-rank O - E = {c.logrank.o_minus_e:g}, V = {c.logrank.variance:g}")
    if c.chisq is not None:
        lines.append(f"  log-rank chi-square = {c.chisq:g}")
    if c.total_events is not None:
        lines.append(f"  total events (both arms) = {c.total_events}")
    if c.effect is not None:
        lines.append(f"  log HR = {c.effect.log_hr:g}, SE = {c.effect.se:g} (given)")
    if c.direction is not None:
        lines.append(f"  direction: {c.direction}")
    for d in c.derived:
        lines.append(f"  derived: {d}")
    if c.method is not None:
        lines.append(f"  method forced in the registry: {c.method}")
    if c.status is not None:
        lines.append(f"  status: {c.status}")
    return lines


def _estimate_line(est: Estimate, se: float) -> str:
    lo, hi = math.exp(est.log_hr - Z95 * se), math.exp(est.log_hr + Z95 * se)
    text = (
        f"HR {math.exp(est.log_hr):.3f} (95% CI {lo:.3f}-{hi:.3f}); "
        f"log HR {est.log_hr:.4f}, SE {se:.4f}"
    )
    if se != est.se:
        text += f" (sampling SE {est.se:.4f})"
    if est.flags:
        text += f" [{', '.join(est.flags)}]"
    return text


def _close_keys(registry: Registry, key: str) -> list[str]:
    keys = [c.key for c in registry.comparisons()]
    close = difflib.get_close_matches(key, keys, n=5, cutoff=0.6)
    if not close:
        sid = key.partition("/")[0]
        close = [k for k in keys if k.startswith(sid + "/")][:10]
    return close


def explain(registry: Registry, key: str, method_order=None, force: str | None = None,
            correct_shrinkage: bool = False) -> str:
    """Explain how comparison ``key`` ("study/comparison") is reconstructed.

    Parameters
    ----------
    registry : Registry
    key : str
        ``"study/comparison"``.
    method_order, force : optional
        As for :func:`survmeta.reconstruction.reconstruct`.

    Returns
    -------
    str
        Inputs as printed, candidate methods, the choice and why, and a
        paragraph for a methods section with references.

    Raises
    ------
    SurvmetaError
        Unknown key; the message lists close keys.
    """
    try:
        c = registry.comparison(key)
        study = registry.study(c.study_id)
    except KeyError:
        close = _close_keys(registry, key)
        hint = f"; did you mean: {', '.join(close)}" if close else ""
        raise SurvmetaError(
            f"no comparison {key!r} in the registry (keys are STUDY/COMPARISON){hint}"
        ) from None
    sel = estimate_comparison(c, method_order=method_order, force=force,
                              correct_shrinkage=correct_shrinkage)
    try:
        q = registry.question(c.question)
        qtext = f"{q.title} (HR = hazard({q.experimental}) / hazard({q.reference}))"
    except KeyError:
        qtext = c.question
    out = [f"{c.key}: {c.endpoint}" + (f", {c.population}" if c.population else "")]
    out.append(f"Study: {study.citation}")
    out.append(f"Question: {qtext}")
    if c.subgroup_of:
        out.append(f"Subgroup of: {c.study_id}/{c.subgroup_of}")
    out.append("")
    out.append(f"As printed ({c.location}):")
    out.append(f'  "{c.quote}"')
    out.append("Recorded inputs:")
    out.extend(_inputs(c))
    out.append("")
    out.append("Candidate methods (in the order tried):")
    tried = list(sel.order) + [m for m in METHODS if m not in sel.order]
    for m in tried:
        res = sel.candidates[m]
        mark = "*" if sel.chosen is not None and sel.chosen.method == m else " "
        if isinstance(res, Estimate):
            se = sel.se if mark == "*" else next(
                (a["se"] for a in sel.alternatives if a["method"] == m), res.se
            )
            line = f" {mark} {m}: {_estimate_line(res, se)}"
        else:
            line = f" {mark} {m}: not applicable: {res.reason}"
        if m not in sel.order and m == "p_patients" and sel.forced != m:
            line += (
                "\n      (not in the default order: its variance uses patients instead of "
                "events, so its SE is only a lower bound; force it with --force p_patients)"
            )
        elif m not in sel.order and sel.forced != m:
            line += "  (not in the method order)"
        out.append(line)
    out.append("")
    est = sel.chosen
    if not c.poolable:
        out.append(f"Choice: none for pooling: {c.status}")
        if est is not None:
            out.append(f"  (the selector would use {est.method}: {sel.why})")
    elif est is None:
        reason = sel.reason or "no estimate"
        out.append(f"Choice: none. {reason[0].upper() + reason[1:]}.")
    else:
        out.append(f"Choice: {est.method} ({METHOD_TITLES[est.method]}): {sel.why}.")
        if est.method == "km_ipd":
            out.extend(km_choice_lines(est))
        elif est.se_extra is not None:
            out.append(f"  {joint_choice_text(est)}")
        elif est.method in APPROXIMATE:
            entry = sel.calibration.get(est.method) if sel.calibrated else None
            if entry is not None:
                family = (f", shared by the {entry.family} family of methods with the same "
                          "point estimate") if entry.family else ""
                if "shrinkage_corrected" in est.flags:
                    sh = entry.shrinkage
                    out.append(
                        f"  Corrected for shrinkage towards HR = 1: log HR and sampling SE divided "
                        f"by b = {sh.b:.3f} (SE {sh.se:.3f}, {sh.n} validation comparisons{family})."
                    )
                    out.append(
                        f"  Calibrated extra error SD of corrected estimates {sel.se_extra:.4f} "
                        f"added in quadrature{'; ' + entry.source if entry.source else ''}."
                    )
                else:
                    out.append(
                        f"  Calibrated extra error SD {sel.se_extra:.4f} added in quadrature "
                        f"(from {entry.n} validation comparisons{family}"
                        f"{'; ' + entry.source if entry.source else ''})."
                    )
            else:
                out.append("  No calibration for this approximate method: SE is sampling error only "
                           "(flag uncalibrated).")
        if est.assumptions:
            out.append("  Assumptions: " + "; ".join(est.assumptions) + ".")
        if est.warnings:
            out.append("  Warnings: " + "; ".join(est.warnings) + ".")
    out.append("")
    out.append("For a methods section:")
    paragraph, refs = _paragraph(c, study, sel)
    out.append("  " + paragraph)
    if refs:
        out.append("")
        out.append("References:")
        for r in refs:
            out.append(f"  {REFERENCES[r]}")
    return "\n".join(out) + "\n"


def _paragraph(c: Comparison, study, sel) -> tuple[str, list[str]]:
    who = f"{short_citation(study)}, {c.endpoint}, {c.experimental.label} vs {c.reference.label}"
    est = sel.chosen
    if not c.poolable:
        return f"For {who}, no estimate was pooled: {(c.status or '').removeprefix('not poolable:').strip()}.", []
    if est is None:
        return (f"For {who}, no hazard ratio could be reconstructed from the published report "
                f"({(sel.reason or '').removeprefix('no estimate: ')}); the comparison was not pooled."), []
    if est.method == "joint":
        return joint_paragraph(who, est, sel.se)
    if est.method == "km_ipd":
        return km_paragraph(who, est, sel.se)
    clause, refs = _SENTENCES[est.method]
    level = ""
    if est.method == "hr_ci" and c.hr is not None:
        level = _pct(c.hr.level)
    allocation = "1:1 assumed, group sizes not reported"
    if est.method == "p_total_events" and est.inputs.get("n"):
        ne, nr = est.inputs["n"]
        allocation = f"{ne:g}:{nr:g}"
    text = f"For {who}, {clause.format(level=level, allocation=allocation)}"
    if refs:
        text += " (" + "; ".join(f"{r.split()[0]} et al. {r.split()[1]}" for r in refs) + ")"
    se = sel.se
    text += (
        f", giving HR {math.exp(est.log_hr):.2f} (95% CI {math.exp(est.log_hr - Z95 * se):.2f}-"
        f"{math.exp(est.log_hr + Z95 * se):.2f})."
    )
    if "p_bound" in est.flags:
        text += (
            f" The p-value was reported only as below {est.p_bound:g}; the bound was used, which "
            "is conservative."
        )
    if "one_sided_ci" in est.flags:
        text += " One confidence bound was not reported, so the standard error was taken from the other bound."
    if "unstable_large_p" in est.flags:
        text += (
            f" The p-value was large (p = {est.inputs.get('p')}, z = {est.inputs.get('z', 0):.2f}), "
            "so the standard error derived from it as |log HR|/z is unstable: it is dominated by "
            "the rounding of the printed numbers."
        )
    if "se_floor" in est.flags:
        text += (" The standard error derived from the published numbers was below the smallest "
                 "one the group sizes allow, so it was raised to that bound, "
                 "sqrt(1/n_experimental + 1/n_reference).")
    if "se_lower_bound" in est.flags:
        text += " Because group sizes were used in place of event counts, the standard error is a lower bound."
    if any(a.startswith("one-sided p") for a in est.assumptions):
        text += " The one-sided p-value was converted to its two-sided equivalent."
    if any("its sign is flipped" in a for a in est.assumptions):
        text += (" The one-sided p-value was above 0.5, so the estimate was taken to point "
                 "against the tested direction.")
    derived = [a.removeprefix("uses derived ") for a in est.assumptions if a.startswith("uses derived ")]
    if derived:
        text += f" Inputs derived by arithmetic from printed numbers: {', '.join(derived)}."
    if est.method in APPROXIMATE:
        if sel.calibrated and "shrinkage_corrected" in est.flags:
            sh = sel.calibration[est.method].shrinkage
            text += (
                f" Because estimates of this kind were shrunk towards no effect in {sh.n} published "
                "comparisons of overall survival in randomised trials outside lung cancer "
                f"reporting both a hazard ratio and the summaries used here (slope "
                f"{sh.b:.2f} on the log scale), the log hazard ratio and its standard error were "
                f"divided by {sh.b:.2f}, and an extra error SD of {sel.se_extra:.3f} estimated from "
                "the corrected comparisons was added to the standard error."
            )
        elif sel.calibrated:
            entry = sel.calibration[est.method]
            text += (
                f" As the method is approximate, an extra error SD of {entry.extra_sd:.3f} on the "
                f"log scale, estimated from {entry.n} published comparisons reporting both a "
                "hazard ratio and the summaries used here, was added to the standard error."
            )
        else:
            text += " The method is approximate and its extra error was not calibrated."
    return text, list(refs)
