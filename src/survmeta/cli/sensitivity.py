"""``survmeta sensitivity``: leave-one-out, cumulative, prior, method and subset analyses."""

from __future__ import annotations

import sys

from survmeta.cli._args import nonempty_path

HELP = "sensitivity analyses of one question (leave-one-out, cumulative, priors, methods, subsets)"


def add_parser(sub) -> None:
    from survmeta.cli._output import add_format_option, add_wide_option

    p = sub.add_parser(
        "sensitivity",
        help=HELP,
        description=(
            "Refit one question under leave-one-out, cumulative-by-year, prior-grid, "
            "reconstruction-method and subset variants, and print one row per variant. "
            "Without an analysis flag every analysis runs (subsets: one per design and per "
            "endpoint among the pooled comparisons, when they have several). Leave-one-out and "
            "cumulative rows come with their REML companions (engine REML), as metafor's "
            "leave1out and cumul. A variant with nothing left to pool is listed with k = 0 and "
            "the reason in the note column. A single-group question (measure proportion or "
            "median) has the leave-one-out and prior analyses only, with the pooled proportion "
            "in percent or the pooled median in months (docs/living.md)."
        ),
    )
    p.add_argument("path", nargs="?", default="studies.toml",
                   help="registry or effects CSV (default: studies.toml)")
    p.add_argument("--question", required=True, metavar="Q", help="question id")
    p.add_argument("--loo", action="store_true", help="leave-one-out")
    p.add_argument("--cumulative", action="store_true", help="cumulative by publication year")
    p.add_argument("--priors", action="store_true", help="grid of tau and mu priors")
    p.add_argument("--methods", action="store_true",
                   help="alternative reconstruction methods; approximate estimates excluded")
    p.add_argument("--subset", action="append", metavar="FIELD=VALUE",
                   help="refit on the comparisons whose effect-table FIELD equals VALUE "
                        "(repeatable: one variant each; FIELD=V1|V2 keeps either value)")
    p.add_argument("--engine", choices=("exact", "mcmc"), default="exact",
                   help="engine of the Bayesian refits (default: exact)")
    p.add_argument("--tau-prior", metavar="SPEC", help="tau prior of the primary analysis")
    p.add_argument("--mu-prior", metavar="SPEC", help="mu prior of the primary analysis")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--executor", default="auto",
                   help="auto, serial, threads, processes, or a number of worker processes "
                        "(default: auto)")
    p.add_argument("--plot", type=nonempty_path, metavar="FILE",
                   help="save the leave-one-out figure (and FILE-cumulative for the cumulative one)")
    p.add_argument("--correct-shrinkage", action="store_true",
                   help="primary analysis with approximate estimates (the median ratios) divided by their "
                        "calibrated shrinkage towards HR = 1; --methods then shows it without "
                        "(by default --methods shows it with)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_format_option(p)
    add_wide_option(p)
    p.set_defaults(func=run)


def parse_subsets(items: list[str] | None) -> list[dict] | None:
    """``["design=rct", "endpoint=OS|PFS"]`` -> ``[{"design": "rct"}, {"endpoint": ["OS", "PFS"]}]``."""
    from survmeta.errors import SurvmetaError

    if not items:
        return None
    out = []
    for item in items:
        field, sep, value = item.partition("=")
        if not sep or not field.strip() or not value.strip():
            raise SurvmetaError(f"--subset {item!r}: expected FIELD=VALUE, e.g. design=retrospective cohort")
        values = [v.strip() for v in value.split("|")]
        out.append({field.strip(): values[0] if len(values) == 1 else values})
    return out


def run(args) -> int:
    from pathlib import Path

    from survmeta.cli._output import emit_frame
    from survmeta.errors import SurvmetaError
    from survmeta.living.sweep import plot_sensitivity, sensitivity

    if not Path(args.path).exists():
        raise SurvmetaError(f"{args.path}: no such file")
    chosen = {"loo": args.loo, "cumulative": args.cumulative, "priors": args.priors,
              "methods": args.methods}
    subsets = parse_subsets(args.subset)
    everything = not any(chosen.values()) and subsets is None
    if everything:
        chosen = dict.fromkeys(chosen, True)
        subsets = "auto"
    executor = int(args.executor) if args.executor.isdigit() else args.executor
    from survmeta.living.single_sweep import is_single_group

    if is_single_group(args.path, args.question) is not None:
        return _run_single(args, chosen, everything)
    table = sensitivity(args.path, args.question, subsets=subsets, executor=executor,
                        engine=args.engine, tau_prior=args.tau_prior, mu_prior=args.mu_prior,
                        seed=args.seed, progress=False if args.quiet else None,
                        correct_shrinkage=args.correct_shrinkage, **chosen)
    if args.plot:
        from survmeta.pooling import effect_table

        _, questions = effect_table(args.path)
        for written in plot_sensitivity(table, args.plot, question=questions.get(args.question)):
            print(f"wrote {written}", file=sys.stderr)
    if args.format == "table":
        shown = table.drop(columns=["tau_prior", "mu_prior", "study", "year"])
        shown["note"] = shown["note"].fillna("")
        if not args.wide:
            shown = compact(shown)
        emit_frame(shown, "table", float_format="{:.3f}", wide=args.wide)
    else:
        emit_frame(table, args.format)
    return 0


def compact(table):
    """The sensitivity table for an 100-column terminal: the interval as one cell, the
    "changed" text (spelled out in the variant) and the tau interval left to --wide."""
    import pandas as pd

    def interval(r):
        if pd.isna(r["hr"]):
            return "-"
        return f"{r['hr']:.2f} [{r['hr_lower']:.2f}, {r['hr_upper']:.2f}]"

    out = pd.DataFrame({
        "analysis": table["analysis"], "variant": table["variant"], "engine": table["engine"],
        "k": table["k"], "HR [interval]": table.apply(interval, axis=1),
        "tau": table["tau"], "P(HR<1)": table["p_hr_below_1"], "note": table["note"]})
    return out


def _run_single(args, chosen: dict, everything: bool) -> int:
    """A single-group question: leave-one-out and priors, on the natural scale."""
    from survmeta.cli._output import emit_frame
    from survmeta.errors import SurvmetaError
    from survmeta.living.sweep import sensitivity

    refused = [f"--{name}" for name in ("cumulative", "methods") if not everything and chosen[name]]
    refused += ["--subset"] if args.subset else []
    refused += ["--plot"] if args.plot else []
    refused += ["--correct-shrinkage"] if args.correct_shrinkage else []
    if refused:
        raise SurvmetaError(f"{' '.join(refused)}: not for question {args.question}, a single-group "
                            "question (it has the leave-one-out and prior analyses: --loo, --priors)")
    if args.engine != "exact":
        print(f"note: question {args.question} is pooled with the exact engine (single-group "
              "questions are)", file=sys.stderr)
    table = sensitivity(args.path, args.question, loo=chosen["loo"], priors=chosen["priors"],
                        cumulative=False, methods=False, tau_prior=args.tau_prior,
                        mu_prior=args.mu_prior)
    if args.format != "table":
        emit_frame(table, args.format)
        return 0
    measure, unit = table["measure"].iloc[0], table["unit"].iloc[0]
    shown_unit = "percent" if unit == "%" else unit
    print(f"{args.question}: pooled {measure} ({shown_unit}), exact engine; tau on the "
          f"{'logit' if measure == 'proportion' else 'log-median'} scale\n")
    shown = table.drop(columns=["tau_prior", "mu_prior", "study", "measure", "unit", "engine"])
    shown["note"] = shown["note"].fillna("")
    if not args.wide:
        shown = compact_single(shown, measure, unit)
    emit_frame(shown, "table", float_format="{:.3f}", wide=args.wide)
    return 0


def compact_single(table, measure: str, unit: str):
    """The single-group sensitivity table with the estimate and interval as one cell."""
    import pandas as pd

    from survmeta._format import fmt_num

    digits = 1
    suffix = "%" if unit == "%" else ""

    def interval(r):
        if pd.isna(r["estimate"]):
            return "-"
        return (f"{fmt_num(r['estimate'], digits)}{suffix} [{fmt_num(r['lower'], digits)}, "
                f"{fmt_num(r['upper'], digits)}]")

    head = f"{measure} ({'%' if unit == '%' else unit}) [interval]"
    return pd.DataFrame({"analysis": table["analysis"], "variant": table["variant"],
                         "k": table["k"], head: table.apply(interval, axis=1),
                         "tau": table["tau"], "note": table["note"]})
