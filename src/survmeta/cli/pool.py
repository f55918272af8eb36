"""``survmeta pool``: pooled HR per question."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from survmeta._format import fmt_level, fmt_prob, fmt_pval
from survmeta.cli._args import add_sampler_arguments, mcmc_options, nonempty_path
from survmeta.cli._output import dumps_json, emit_frame
from survmeta.errors import SurvmetaError

HELP = "pool every poolable question (exact engine by default)"


def add_parser(sub) -> None:
    from survmeta.pooling import DEFAULT_MU_PRIOR, DEFAULT_SEED, DEFAULT_TAU_PRIOR

    p = sub.add_parser(
        "pool",
        help=HELP,
        description=(
            "Reconstruct a log HR per comparison and pool each question with a "
            "normal-normal random-effects model: exact quadrature by default "
            "(as R's bayesmeta), or PyMC with --engine mcmc; --hierarchical adds "
            "the model that shares heterogeneity across questions."
        ),
    )
    p.add_argument("path", nargs="?", default=None,
                   help="registry (studies.toml) or effects CSV (default: studies.toml)")
    p.add_argument("--effects", metavar="CSV",
                   help="pool a CSV of study,estimate,se[,question] rows instead of a registry")
    p.add_argument("--question", action="append", metavar="Q",
                   help="question id (repeatable; default: every poolable question)")
    p.add_argument("--engine", choices=("exact", "mcmc"), default="exact",
                   help="per-question engine (default: exact)")
    p.add_argument("--hierarchical", action=argparse.BooleanOptionalAction, default=True,
                   help="also fit the hierarchical model across questions with PyMC, when two or "
                        "more questions are pooled (default: on; --no-hierarchical for the exact "
                        "engine alone)")
    p.add_argument("--tau-prior", default=DEFAULT_TAU_PRIOR, metavar="SPEC",
                   help=f"prior on tau, e.g. halfnormal(0.5), halfcauchy(0.5), halft(3, 0.5), "
                        f"uniform(0, 2), exponential(2), lognormal_tau2(m, s), turner(<outcome>, "
                        f"<comparison>) (Turner et al. 2015), logt_tau2(location, scale, df), "
                        f"rhodes(<outcome>, <comparison>[, <area>]) or rhodes(any) (Rhodes et al. "
                        f"2015; exact engine only) "
                        f"(default: {DEFAULT_TAU_PRIOR})")
    p.add_argument("--mu-prior", default=DEFAULT_MU_PRIOR, metavar="SPEC",
                   help=f"prior on the pooled log HR: normal(m, s) or flat (default: {DEFAULT_MU_PRIOR})")
    add_sampler_arguments(p)
    p.add_argument("--detail", action="store_true",
                   help="after the summary of findings, every question in full: studies, "
                        "weights, companions, the hierarchical fit (implied by --question)")
    p.add_argument("--link-groups", metavar="G1,G2,...",
                   help="fit these question groups as one hierarchical model (by default each "
                        "group is fitted alone and questions in no group are not linked)")
    p.add_argument("--level", type=float, default=0.95, help="interval level (default: 0.95)")
    p.add_argument("--interval", choices=("eti", "hdi"), default="eti",
                   help="kind of the pooled intervals the first screen leads with: eti "
                        "(equal-tailed, central; default) or hdi (shortest, as bayesmeta prints; "
                        "for HRs the shortest interval of the log HR, exponentiated). Both kinds "
                        "are in --detail and in the JSON output (keys 'eti' and 'hdi')")
    p.add_argument("--tau2-method", metavar="M", type=str.upper,
                   choices=("REML", "DL", "PM", "ML", "HE", "SJ", "HS", "EB"),
                   help="also fit the frequentist companion with this tau^2 estimator (as "
                        "metafor's rma(method=M)), next to REML and DL: REML, DL, PM, ML, HE, "
                        "SJ, HS or EB (default: REML and DL only)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default: {DEFAULT_SEED})")
    p.add_argument("--method-order", metavar="M1,M2,...",
                   help="reconstruction method preference order")
    p.add_argument("--correct-shrinkage", action="store_true",
                   help="divide approximate estimates with a calibrated shrinkage towards HR = 1 "
                        "(the median ratios; p_patients when forced) by it (docs/validation.md, "
                        "Bias); off by default")
    p.add_argument("--bias", action="store_true",
                   help="also run the small-study-effect tests (Egger, Begg, trim-and-fill) of each "
                        "question, printed after the table; not run with fewer than 10 studies "
                        "unless --force is given")
    p.add_argument("--grade", action="store_true",
                   help="also print the GRADE inputs of each question (risk of bias, inconsistency, "
                        "indirectness, imprecision, publication bias, the share of weight from "
                        "reconstructed estimates) and the rating recorded in the registry; "
                        "survmeta never rates certainty itself")
    p.add_argument("--threshold", type=float, metavar="HR",
                   help="with --grade: an HR of clinical importance; the imprecision input says "
                        "whether the interval crosses it")
    p.add_argument("--force", action="store_true",
                   help="with --bias or --grade: run the small-study tests with fewer than 10 "
                        "studies (low power; the output says so)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table",
                   help="output format (default: table)")
    p.add_argument("--save", type=nonempty_path, metavar="FILE",
                   help="also write the results as JSON (the form `survmeta diff --since` reads)")
    p.set_defaults(func=run)


def run(args) -> int:
    from survmeta.pooling import pool

    if args.effects and args.path:
        raise SurvmetaError("give either a registry PATH or --effects CSV, not both")
    source = Path(args.effects or args.path or "studies.toml")
    if not source.exists():
        raise SurvmetaError(f"{source}: no such file")
    if args.force and not (args.bias or args.grade):
        raise SurvmetaError("--force applies to the small-study tests: give it with --bias or --grade")
    if args.threshold is not None:
        if not args.grade:
            raise SurvmetaError("--threshold applies to the GRADE inputs: give it with --grade")
        if not (args.threshold > 0 and args.threshold != float("inf")):
            raise SurvmetaError(f"--threshold must be a positive hazard ratio, got {args.threshold:g}")
    order = args.method_order.split(",") if args.method_order else None
    results = pool(source, question=args.question, engine=args.engine,
                   tau_prior=args.tau_prior, mu_prior=args.mu_prior, level=args.level,
                   seed=args.seed, method_order=order, hierarchical=args.hierarchical,
                   correct_shrinkage=args.correct_shrinkage,
                   mcmc_options=mcmc_options(args), tau2_method=args.tau2_method,
                   link_groups=args.link_groups.split(",") if args.link_groups else None)
    data = results.to_dict()
    if args.save:
        from survmeta._io import atomic_write_text

        atomic_write_text(args.save, dumps_json(data) + "\n")
    bias = small_study_results(results, args.force) if args.bias else None
    grade = grade_results(results, args.threshold, args.force) if args.grade else None
    if args.format == "json":
        if bias is not None:
            data = {**data, "small_study": [{"question": q, **res.to_dict()} for q, res in bias]}
        if grade is not None:
            data = {**data, "grade": [g.to_dict() for g in grade]}
        sys.stdout.write(dumps_json(data) + "\n")
    elif args.format == "csv":
        frames = [results.summary()]
        if results.hierarchical is not None:
            frames.append(results.hierarchical.summary())
        frame = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(
            len(f) for f in frames) else frames[0]
        if bias is not None:
            from survmeta.cli.bias import _flat

            extra = pd.DataFrame([_flat(q, res) for q, res in bias]).drop(columns="k")
            extra["trimfill_k0"] = extra["trimfill_k0"].astype("Int64")
            frame = frame.merge(extra.rename(columns={"ran": "bias_ran", "note": "bias_note"}),
                                on="question", how="left")
        if grade is not None:
            extra = pd.DataFrame([g.flat() for g in grade])
            extra = extra.drop(columns=["k", "level", "hr", "hr_lower", "hr_upper", "tau",
                                        "tau_lower", "tau_upper", "predict_lower", "predict_upper"])
            for col in ("events", "events_not_reported", "ois_events", "approximate_k",
                        "rob_not_assessed"):
                extra[col] = extra[col].astype("Int64")
            frame = frame.merge(extra.add_prefix("grade_").rename(
                columns={"grade_question": "question"}), on="question", how="left")
        if results.single_arm:
            from survmeta.cli.pool_text import single_arm_frame

            frame = pd.concat([frame, single_arm_frame(results)], ignore_index=True) if len(
                frame) else single_arm_frame(results)
        emit_frame(frame, "csv")
    else:
        from survmeta.cli.pool_text import write_primary

        detail = args.detail or bool(args.question)
        write_primary(results, sys.stdout, detail_hint=not detail, interval=args.interval)
        if detail:
            if len(results):
                write_table(results, sys.stdout)
            for sa in results.single_arm.values():
                sys.stdout.write("\n" + sa.summary() + "\n")
            write_hierarchical(results.hierarchical, sys.stdout)
        if bias is not None:
            write_bias(bias, sys.stdout)
        if grade is not None:
            write_grade(grade, sys.stdout)
    return 0


def small_study_results(results, force: bool) -> list:
    """``(question, SmallStudyTests)`` per pooled question, on the rows it pooled."""
    from survmeta.exact import small_study_tests

    return [(r.id, small_study_tests(r.effects["log_hr"].to_numpy(float),
                                     r.effects["se"].to_numpy(float), force=force))
            for r in results.values()]


def grade_results(results, threshold, force: bool) -> list:
    """The GRADE inputs (:func:`survmeta.grade.grade_inputs`) of each pooled question."""
    from survmeta.grade import grade_inputs

    return [grade_inputs(r, threshold=threshold, force=force) for r in results.values()]


def write_bias(bias, out) -> None:
    """The small-study tests per question, as ``survmeta bias`` prints them."""
    from survmeta.cli.bias import _text

    out.write("\nSmall-study effects (Egger's regression test, Begg's rank correlation, "
              "trim-and-fill)\n")
    for qid, res in bias:
        head, *rest = _text(qid, res).split("\n")
        out.write(_wrap(head, first=""))
        for line in rest:
            out.write(_wrap(line.strip(), first="  "))


def write_grade(grade, out) -> None:
    """The GRADE inputs per question, a line per domain; the rating is the rater's."""
    from survmeta.grade import OIS_RULE

    out.write("\n" + _wrap("GRADE inputs, for a rater (survmeta does not rate certainty; the "
                           "rating is the one recorded in the registry)", first=""))
    for g in grade:
        out.write(f"{g.question} (k = {g.k})\n")
        for domain, text in g.domains():
            out.write(_wrap(f"{domain}: {text}", first="  "))
    out.write(_wrap(f"Events: {OIS_RULE}.", first=""))


def write_hierarchical(hier, out) -> None:
    """The hierarchical fits in full, one block per linked group."""
    if hier is None:
        return
    fits: dict = {}
    for r in hier.values():
        fits.setdefault(r.question.get("hierarchical_fit"), []).append(r)
    for name, rs in fits.items():
        out.write(f"\nHierarchical model (PyMC), group {name}: heterogeneity shared among "
                  f"{', '.join(r.id for r in rs)}\n")
        out.write(f"  priors: mu ~ {rs[0].prior_text('mu')}; tau {rs[0].prior_text('tau')}\n")
        write_fit_lines(rs[0], out, shared=True)
        from survmeta.results import PoolSet

        write_table(PoolSet(rs), out)


def _wrap(text: str, first: str = "  ") -> str:
    from survmeta.cli.pool_text import _wrap as wrap

    return wrap(text, indent=first, first=first)


def write_fit_lines(r, out, shared: bool = False) -> None:
    """Sampler diagnostics (MCMC), notes and warnings of one fit."""
    d = r.diagnostics
    if r.engine != "exact" and d.r_hat_max is not None:
        out.write(f"  sampler: {d.chains} chains x {d.draws} draws; max R-hat "
                  f"{d.r_hat_max:.3f}, min bulk ESS {d.ess_bulk_min:.0f}, min tail ESS "
                  f"{d.ess_tail_min:.0f}, {d.divergences or 0} divergences, "
                  f"{d.treedepth_hits or 0} tree-depth hits\n")
    for n in r.notes:
        if not shared or n.startswith("hierarchical model"):
            out.write(_wrap(f"note: {n}", first="  "))
    for w in d.warnings:
        out.write(_wrap(f"WARNING: {w}", first="  "))


def write_overview(results, out) -> None:
    """One line per pooled question: k, pooled HR with its interval, P(HR < 1)."""
    if not len(results):
        return
    lvl = fmt_level(next(iter(results.values())).level)
    out.write(f"Pooled hazard ratios (posterior median, {lvl} equal-tailed credible interval)\n")
    width = max(len(q) for q in results)
    for r in results.values():
        hr = r.stats["hr"]
        out.write(f"  {r.id:<{width}}  k={r.k:<2} HR {hr.median:5.2f} "
                  f"[{hr.eti.lower:.2f}, {hr.eti.upper:.2f}]  P(HR<1)={fmt_prob(r.p_hr_below_1)}\n")


def write_table(results, out) -> None:
    """Human-readable report of a PoolSet."""
    for r in results.values():
        lvl = fmt_level(r.level)
        hr, tau, pr = r.stats["hr"], r.stats["tau"], r.stats["predict_hr"]
        out.write("\n" + _wrap(f"{r.id}: {r.question.get('title', '')}", first=""))
        out.write(_wrap(f"HR = hazard({r.question.get('experimental')}) / "
                        f"hazard({r.question.get('reference')}); k = {r.k}; engine: {r.engine}; "
                        f"priors: mu ~ {r.prior_text('mu')}, tau ~ {r.prior_text('tau')}"))
        out.write(_wrap(f"pooled HR {hr.median:.2f} ({lvl} CrI {hr.eti.lower:.2f} to "
                        f"{hr.eti.upper:.2f}; shortest on the log scale {hr.hdi.lower:.2f} to "
                        f"{hr.hdi.upper:.2f}); P(HR < 1) {_eq(fmt_prob(r.p_hr_below_1))}"))
        out.write(_wrap(f"prediction for a new study: HR {pr.eti.lower:.2f} to {pr.eti.upper:.2f}; "
                        f"tau {tau.median:.2f} ({lvl} CrI {tau.eti.lower:.2f} to "
                        f"{tau.eti.upper:.2f}; shortest {tau.hdi.lower:.2f} to "
                        f"{tau.hdi.upper:.2f})"))
        studies = r.study_summary()[["label", "comparison", "method", "hr", "hr_lower", "hr_upper",
                                     "shrunken_hr", "weight"]].rename(
            columns={"label": "study", "hr_lower": "lower", "hr_upper": "upper",
                     "shrunken_hr": "shrunken"})
        emit_frame(studies, "table", out, float_format="{:.2f}")
        if r.common_effect is not None:
            ce = r.common_effect.hr
            out.write(f"  common-effect (tau = 0) HR {ce.median:.2f} ({lvl} CrI {ce.eti.lower:.2f} "
                      f"to {ce.eti.upper:.2f})\n")
        if r.frequentist:
            f = r.frequentist["REML"]
            out.write(f"  REML: HR {f['hr']:.2f} ({f['hr_ci'][0]:.2f} to {f['hr_ci'][1]:.2f}), "
                      f"tau^2 {f['tau2']:.3f}, I^2 {f['I2']:.1f}%, Q {f['Q']:.2f} (p {fmt_pval(f['Q_p'], equal=True)})\n")
            write_extra_companions(r.frequentist, out)
        for _, e in r.excluded.iterrows():
            out.write(_wrap(f"not pooled: {e.get('label', e['study'])}/{e['comparison']}: "
                            f"{e['reason']}", first="  "))
        if r.engine != "hierarchical":  # the shared fit's lines are written once, above
            write_fit_lines(r, out)
        else:
            for n in r.notes:
                if not n.startswith("hierarchical model"):
                    out.write(_wrap(f"note: {n}", first="  "))
    if results.skipped:
        out.write("\nQuestions with nothing to pool:\n")
        for s in results.skipped:
            out.write(_wrap(f"{s['id']}: " + "; ".join(
                f"{e['study']}/{e['comparison']}: {e['reason']}" for e in s.get("excluded", []))))



def write_extra_companions(frequentist: dict, out) -> None:
    """A line per companion asked for with ``--tau2-method`` (other than REML and DL)."""
    for name, f in frequentist.items():
        if name in ("REML", "DL"):
            continue
        out.write(_wrap(f"{name}: HR {f['hr']:.2f} ({f['hr_ci'][0]:.2f} to {f['hr_ci'][1]:.2f}; "
                        f"Knapp-Hartung {f['knha_hr_ci'][0]:.2f} to {f['knha_hr_ci'][1]:.2f}), "
                        f"tau^2 {f['tau2']:.3f}, I^2 {f['I2']:.1f}%"))


def _eq(text: str) -> str:
    """``"= 0.973"``, but ``"> 0.999"`` / ``"< 0.001"`` for a bound."""
    return f"{text[0]} {text[1:]}" if text[0] in "<>" else f"= {text}"
