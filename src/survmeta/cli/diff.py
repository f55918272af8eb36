"""``survmeta diff``: what changed since an earlier version of the registry."""

from __future__ import annotations

import sys

from survmeta.cli._args import nonempty_path

HELP = "compare the pooled results now with an earlier version (git revision or file)"


def add_parser(sub) -> None:
    from survmeta.cli._output import add_format_option

    p = sub.add_parser(
        "diff",
        help=HELP,
        description=(
            "Pool the registry now and an earlier version of it with the same engine, "
            "priors and seed, and report per question which comparisons were added, "
            "removed or edited and how the pooled HR, its interval, tau and P(HR < 1) "
            "moved, in numbers and in words (for a single-group question: the outcomes "
            "added, removed or edited and the pooled proportion in percent or the pooled "
            "median in months, with its interval and tau). --since takes a git revision of PATH "
            "(HEAD~1, a tag, a commit), an older registry file, or a results file "
            "saved by `survmeta pool --save` (then its engine, priors, level and seed are "
            "reused, and only the questions it holds are compared). "
            "`survmeta diff OLD.json NEW.json` compares two saved results files as they are, "
            "without pooling (files of `survmeta pool --save`, schema version 1 or 2)."
        ),
    )
    p.add_argument("path", nargs="?", default="studies.toml",
                   help="registry (default: studies.toml), or the older saved results .json "
                        "when NEW is given")
    p.add_argument("new", nargs="?", default=None, metavar="NEW",
                   help="newer saved results .json: compare PATH (saved results) with it, "
                        "without pooling; --since is then not used")
    p.add_argument("--since", type=nonempty_path, metavar="REV|FILE",
                   help="git revision of PATH, older registry .toml, or saved results .json "
                        "(required unless NEW is given)")
    p.add_argument("--engine", choices=("exact", "mcmc"), default=None,
                   help="engine for both sides (default: the engine the saved results record; "
                        "exact for a git revision or an older registry)")
    p.add_argument("--tau-prior", metavar="SPEC", help="prior on tau for both sides")
    p.add_argument("--mu-prior", metavar="SPEC", help="prior on the pooled log HR for both sides")
    p.add_argument("--seed", type=int, help="random seed for both sides")
    add_format_option(p)
    p.set_defaults(func=run)


def flat_table(table):
    """The diff table with the lists of comparisons joined by "; " (for CSV)."""
    out = table.copy()
    for col in ("added", "removed", "edited"):
        out[col] = ["; ".join(v) for v in table[col]]
    return out


def run(args) -> int:
    from pathlib import Path

    from survmeta.cli._output import dumps_json, emit_frame
    from survmeta.errors import SurvmetaError
    from survmeta.living.diff import diff_saved, diff_since

    for path in (args.path, args.new):
        if path is not None and not Path(path).is_file():
            raise SurvmetaError(f"{path}: no such file")
    if args.new is not None:
        given = [f"--{n.replace('_', '-')}" for n in ("since", "engine", "tau_prior", "mu_prior",
                                                       "seed") if getattr(args, n) is not None]
        if given:
            raise SurvmetaError(f"{' '.join(given)}: not used when comparing two saved results "
                                "files (they are compared as saved, without pooling)")
        report = diff_saved(args.path, args.new)
        shown = args.new
    else:
        if args.since is None:
            raise SurvmetaError("give --since REV|FILE (a git revision, an older registry or saved "
                                "results), or two saved results files: survmeta diff OLD.json "
                                "NEW.json")
        report = diff_since(args.path, args.since, engine=args.engine, tau_prior=args.tau_prior,
                            mu_prior=args.mu_prior, seed=args.seed)
        shown = args.path
    if args.format == "json":
        sys.stdout.write(dumps_json(report.to_dict()) + "\n")
        return 0
    if args.format == "csv":
        for note in report.notes:
            print(f"note: {note}", file=sys.stderr)
        emit_frame(flat_table(report.table), "csv")
        return 0
    out = sys.stdout
    out.write(f"{shown} compared with {report.since}\n\n")
    for sentence in report.sentences:
        out.write(f"- {sentence}\n")
    for note in report.notes:
        out.write(f"note: {note}\n")
    from survmeta.living.diff import SINGLE_DIFF_COLUMNS

    table = report.table.drop(columns=["added", "removed", "edited", "level"]).copy()
    if (table["measure"] == "hr").all():  # no single-group question: their columns are empty
        table = table.drop(columns=["measure", *SINGLE_DIFF_COLUMNS])
    if (table["engine_old"].fillna("") == table["engine_new"].fillna("")).all():
        table = table.drop(columns=["engine_old", "engine_new"])  # the same engine: said once below
        engines = sorted(set(report.table["engine_new"].dropna()) | set(report.table["engine_old"].dropna()))
        if engines:
            out.write(f"engine: {', '.join(engines)}\n")
    for col in ("added", "removed", "edited"):
        table[col] = report.table[col].map(len)
    out.write("\n")
    emit_frame(table, "table", out, float_format="{:.3f}")
    return 0
