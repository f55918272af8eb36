"""The first screen of ``survmeta pool``: one primary answer per question, notes said once.

Everything here renders :meth:`survmeta.results.PoolSet.summary_of_findings` and the result
objects; nothing is computed that the API does not give. Lines stay within :data:`WIDTH`
columns.
"""

from __future__ import annotations

import math
import textwrap

from survmeta._format import fmt_level, fmt_prob, fmt_pval
from survmeta.errors import SurvmetaError

__all__ = ["WIDTH", "write_primary"]

#: Width the first screen keeps to (an 100-column terminal).
WIDTH = 100

_ENGINE_WORDS = {
    "exact": "exact Bayesian random-effects model per question (quadrature over tau, as R's "
             "bayesmeta)",
    "mcmc": "Bayesian random-effects model per question (PyMC, NUTS)",
}


def _wrap(text: str, indent: str = "  ", first: str | None = None) -> str:
    return textwrap.fill(text, WIDTH, initial_indent=first if first is not None else indent,
                         subsequent_indent=indent + "  ", break_on_hyphens=False) + "\n"


def _num(x, fmt: str = "{:.2f}") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


#: How each interval kind is named in the first screen.
INTERVAL_WORDS = {"eti": "equal-tailed", "hdi": "shortest"}


def write_primary(results, out, detail_hint: bool = True, interval: str = "eti") -> None:
    """The summary-of-findings table with the primary analysis named above it.

    ``interval`` ("eti" or "hdi") is the kind of the pooled rows' intervals, named in the
    line above the table and in its headers ("CrI (ETI)" equal-tailed, "CrI (HDI)" shortest).
    """
    if not len(results):
        if getattr(results, "single_arm", None):
            write_single_arm(results, out, full=True)
            return
        out.write("No question has a poolable comparison.\n")
        _write_skipped(results, out)
        return
    sof = results.summary_of_findings(interval=interval, single_arm=False)
    first = next(iter(results.values()))
    pct = fmt_level(first.level)
    engine = _ENGINE_WORDS.get(first.engine, first.engine)
    out.write(_wrap(
        f"Primary analysis: {engine}; priors mu ~ {first.prior_text('mu')}, tau ~ "
        f"{first.prior_text('tau')}; {pct} {INTERVAL_WORDS[interval]} intervals"
        + ("" if interval == "eti" else " (for the HR: of the log HR, exponentiated)")
        + ". A question with one study is reported as that study's own estimate (its CI).",
        first=""))
    out.write("\n")
    qw = min(max(len("question"), *(len(q) for q in sof["question"])), 31)
    tag = interval.upper()
    head = (f"{'question':<{qw}} {'k':>2} {'n':>5}  {'HR':>5} {pct + ' CrI (' + tag + ')':<13} "
            f"{pct + ' PI (' + tag + ')':<12} {'tau':>5} {'P(HR<1)':>7} {'Certainty':<9}")
    out.write(head + "\n")
    for _, row in sof.iterrows():
        q = row["question"] if len(row["question"]) <= qw else row["question"][: qw - 1] + "~"
        interval = f"[{_num(row['hr_lower'])}, {_num(row['hr_upper'])}]"
        if row["basis"] == "one study":
            pi, tau = "one study", "-"
        else:
            pi = f"{_num(row['predict_lower'])}-{_num(row['predict_upper'])}"
            tau = _num(row["tau"])
        p = row["p_hr_below_1"]
        ptext = fmt_prob(p)
        n = _num(row["n"], "{:.0f}")
        out.write(f"{q:<{qw}} {row['k']:>2} {n:>5}  {row['hr']:>5.2f} {interval:<13} {pi:<12} "
                  f"{tau:>5} {ptext:>7} {row['certainty']:<9}".rstrip() + "\n")
    out.write("\n")
    _write_notes(results, sof, out)
    out.write("- Certainty: the rater's GRADE rating from the registry, never computed; inputs: "
              "--grade.\n")
    _write_secondary(results, out, full=not detail_hint)
    write_single_arm(results, out, full=not detail_hint)
    if detail_hint:
        out.write("Details per question (studies, weights, companions): survmeta pool --detail, "
                  "or --question Q.\n")


def _write_notes(results, sof, out) -> None:
    notes = []
    single = list(sof.loc[sof["basis"] == "one study", "question"])
    if single:
        notes.append(
            f"One study ({len(single)} of {len(sof)} questions): the study's own HR and interval; "
            "the random-effects fit, wider by the heterogeneity the tau prior allows, is in "
            "--detail.")
    for r in results.values():
        for w in r.diagnostics.warnings:
            if w.startswith("pools different endpoints"):
                text = (f"WARNING {r.id} pools different endpoints "
                        f"({sof.loc[sof['question'] == r.id, 'endpoints'].iloc[0]}).")
                try:
                    sub = r.subgroups()
                    text += (f" Test for subgroup differences by endpoint: Q = {sub.q_between:.2f}, "
                             f"df = {sub.df}, p {fmt_pval(sub.p_between, equal=True)} (per endpoint: --detail).")
                except SurvmetaError as exc:  # the analysis says why it cannot be done
                    text += f" (no subgroup analysis: {exc})"
                notes.append(text)
            elif w.startswith("counts survival from different time origins"):
                from survmeta.pooling import mixed_time_origins

                origins = mixed_time_origins(r.effects)
                unknown = len(origins.pop("", []))
                notes.append(f"WARNING {r.id} counts survival from different time origins ("
                             + ", ".join(origins) + (f"; {unknown} not stated" if unknown else "")
                             + "): the HRs estimate different quantities.")
            else:
                notes.append(f"WARNING {r.id}: {w}")
    n_excluded = sum(len(r.excluded) for r in results.values())
    n_skipped = len(results.skipped)
    if n_excluded or n_skipped:
        notes.append(
            f"Not pooled: {n_excluded} comparison(s) of pooled questions and {n_skipped} "
            "question(s) with nothing to pool; `survmeta reconstruct` and --detail say why.")
    for n in notes:
        out.write(_wrap(n, indent="  ", first="- "))


def _write_secondary(results, out, full: bool = False) -> None:
    links = results.meta.get("hierarchical_links")
    if links is None:
        return
    fits = links.get("fits", {})
    alone = links.get("not_linked", {})
    if not fits:
        out.write(_wrap(
            "Secondary: no hierarchical model. It shares heterogeneity only among the questions "
            "of one group ([[question]] group = ...), and no group has two pooled questions.",
            first=""))
        return
    linked = ", ".join(f"{g} ({len(qs)} questions)" for g, qs in fits.items())
    text = (f"Secondary: hierarchical model (PyMC), heterogeneity shared only within question "
            f"groups: {linked}.")
    hier = results.hierarchical
    if hier is not None:
        diags = {}
        for r in hier.values():
            diags.setdefault(r.question.get("hierarchical_fit"), r.diagnostics)
        diags = {f: d for f, d in diags.items() if d.r_hat_max is not None}
        if diags:
            n_warn = sum(len(d.warnings) for d in diags.values())
            text += (f" Largest R-hat {max(d.r_hat_max for d in diags.values()):.3f}, "
                     f"{sum(d.divergences or 0 for d in diags.values())} divergences, "
                     + ("no warnings." if not n_warn else f"{n_warn} warning(s) (--detail)."))
    if alone and full:
        text += " Not linked: " + ", ".join(f"{q} ({why})" for q, why in alone.items()) + "."
    elif alone:
        text += (f" Not linked: {len(alone)} pooled question(s) in no group or alone in theirs "
                 "(--detail).")
    out.write(_wrap(text, first=""))


def _write_skipped(results, out) -> None:
    for s in results.skipped:
        out.write(f"  {s['id']}: {s.get('reason', '')}\n")


def single_arm_frame(results):
    """One row per single-group question, on the natural scale (for the CSV output)."""
    sof = results.summary_of_findings(single_arm=True)
    cols = ["question", "measure", "k", "n", "basis", "estimate", "lower", "upper",
            "predict_lower", "predict_upper", "tau", "unit", "certainty"]
    return sof.loc[sof["measure"] != "hr", cols].reset_index(drop=True)


def write_single_arm(results, out, full: bool = False) -> None:
    """The single-group questions: pooled proportion (%) or median (months), CrI, PI, k, n.

    ``full`` adds the notes (unit conversions) and where the companions are.
    """
    single = getattr(results, "single_arm", None) or {}
    if not single:
        return
    frame = single_arm_frame(results)
    pct = fmt_level(next(iter(single.values())).level)
    engines = {getattr(sa, "engine", "exact") for sa in single.values()}
    how = " and ".join(sorted({"exact": "exact Bayesian", "mcmc": "Bayesian by MCMC"}.get(e, e)
                              for e in engines))
    out.write(f"\nSingle-group questions ({how}; proportions in %, medians in months)\n")
    qw = min(max(len("question"), *(len(q) for q in frame["question"])), 31)
    out.write(f"{'question':<{qw}} {'measure':<10} {'k':>2} {'n':>5}  {'pooled':>7} "
              f"{pct + ' CrI':<15} {pct + ' PI':<15} unit\n")
    for _, row in frame.iterrows():
        q = row["question"] if len(row["question"]) <= qw else row["question"][: qw - 1] + "~"
        fmt = "{:.1f}"
        cri = f"[{_num(row['lower'], fmt)}, {_num(row['upper'], fmt)}]"
        pi = (f"{_num(row['predict_lower'], fmt)}-{_num(row['predict_upper'], fmt)}"
              if math.isfinite(row["predict_lower"]) else "-")
        n = _num(row["n"], "{:.0f}")
        out.write(f"{q:<{qw}} {row['measure']:<10} {row['k']:>2} {n:>5}  "
                  f"{fmt.format(row['estimate']):>7} {cri:<15} {pi:<15} {row['unit']}\n")
    if not full:
        return
    for sa in single.values():
        for note in sa.notes:
            out.write(_wrap(f"- {sa.id}: {note}", first=""))
    out.write(_wrap("Companions (GLMM, inverse-variance logit, Freeman-Tukey; REML log-median, "
                    "MM, WM): survmeta pool --question Q or --format json.", first=""))
