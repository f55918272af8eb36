"""``survmeta bias [PATH]``: small-study-effect tests of each question's pooled comparisons.

Egger's regression test, Begg's rank test and trim-and-fill
(:func:`survmeta.exact.small_study_tests`) on the log HRs each question pools (the
rows ``survmeta pool`` uses). With fewer than 10 studies the tests are not run
unless ``--force`` is given, and then they carry a low-power caveat.
"""

from __future__ import annotations

import math

from survmeta._format import fmt_pval

HELP = "small-study-effect tests (Egger, Begg, trim-and-fill) of each question"


def add_parser(sub) -> None:
    """Register the ``bias`` command."""
    from survmeta.cli._output import add_format_option

    p = sub.add_parser(
        "bias",
        help=HELP,
        description=(
            "Egger's regression test (metafor's regtest: meta-regression on the SE), Begg and "
            "Mazumdar's rank correlation (ranktest) and Duval and Tweedie's trim-and-fill "
            "(trimfill, L0) on the log HRs each question pools. With fewer than 10 studies "
            "the tests have too little power and are not run unless --force is given."
        ),
    )
    p.add_argument("path", nargs="?", default="studies.toml",
                   help="registry (.toml) or effects table (.csv); default studies.toml")
    p.add_argument("--question", metavar="ID", help="question id (default: every question)")
    p.add_argument("--force", action="store_true",
                   help="run the tests with fewer than 10 studies (with a low-power caveat)")
    add_format_option(p, choices=("text", "json", "csv"), default="text")
    p.set_defaults(func=run)


def _rows(path, question, force):
    from survmeta.exact import small_study_tests
    from survmeta.pooling import _wanted_questions, effect_table, select_rows

    effects, questions = effect_table(path)
    out = []
    for qid in _wanted_questions(question, questions):
        rows, _, _ = select_rows(effects, qid)
        if rows.empty:
            out.append((qid, None))
            continue
        out.append((qid, small_study_tests(rows["log_hr"].to_numpy(float),
                                           rows["se"].to_numpy(float), force=force)))
    return out


def _flat(qid, res) -> dict:
    row: dict = {"question": qid, "k": 0 if res is None else res.k,
                 "ran": False if res is None else res.ran,
                 "note": "no poolable comparison" if res is None else (res.reason or res.caveat)}
    keys = ("egger_z", "egger_p", "egger_limit_hr", "egger_limit_hr_lower",
            "egger_limit_hr_upper", "begg_tau", "begg_p", "begg_exact", "trimfill_k0",
            "trimfill_side", "trimfill_hr", "trimfill_hr_lower", "trimfill_hr_upper")
    row.update(dict.fromkeys(keys))
    if res is None or not res.ran:
        return row
    e, b, t = res.regtest, res.ranktest, res.trimfill
    row.update(egger_z=e.statistic, egger_p=e.pval, egger_limit_hr=math.exp(e.estimate),
               egger_limit_hr_lower=math.exp(e.ci_lower), egger_limit_hr_upper=math.exp(e.ci_upper),
               begg_tau=b.tau, begg_p=b.pval, begg_exact=b.exact, trimfill_k0=t.k0,
               trimfill_side=t.side, trimfill_hr=math.exp(t.fit.estimate),
               trimfill_hr_lower=math.exp(t.fit.ci_lower),
               trimfill_hr_upper=math.exp(t.fit.ci_upper))
    return row


def _text(qid, res) -> str:
    if res is None:
        return f"{qid}: no poolable comparison"
    head = f"{qid} (k = {res.k})"
    if not res.ran:
        hint = " (--force to run them)" if res.k >= 3 else ""
        return f"{head}: not tested; {res.reason}{hint}"
    e, b, t = res.regtest, res.ranktest, res.trimfill
    lines = [
        head,
        f"  Egger regression test (meta-regression on the SE): z = {e.statistic:.4f}, "
        f"p {fmt_pval(e.pval, equal=True)}; limit HR {math.exp(e.estimate):.3f} "
        f"({math.exp(e.ci_lower):.3f} to {math.exp(e.ci_upper):.3f})",
        f"  Begg rank correlation: Kendall's tau = {b.tau:.4f}, p {fmt_pval(b.pval, equal=True)} "
        f"({'exact' if b.exact else 'normal approximation, ties'})",
        f"  Trim-and-fill ({t.estimator}): {t.k0} missing on the {t.side} (SE = {t.k0_se:.4f}); "
        f"HR {math.exp(t.fit.estimate):.3f} ({math.exp(t.fit.ci_lower):.3f} to "
        f"{math.exp(t.fit.ci_upper):.3f}) with the filled studies, k = {t.fit.k}",
    ]
    if res.caveat:
        lines.append(f"  Caveat: {res.caveat}")
    return "\n".join(lines)


def run(args) -> int:
    """Run the tests for the chosen question(s) and print them."""
    from pathlib import Path

    from survmeta.errors import SurvmetaError

    if not Path(args.path).exists():
        raise SurvmetaError(f"{args.path}: no such file")
    results = _rows(args.path, args.question, args.force)
    if args.format == "text":
        print("\n".join(_text(qid, res) for qid, res in results))
        return 0
    if args.format == "json":
        from survmeta.cli._output import dumps_json

        print(dumps_json([{"question": qid, **({"k": 0, "ran": False,
                                                 "reason": "no poolable comparison"}
                                                if res is None else res.to_dict())}
                          for qid, res in results]))
        return 0
    import pandas as pd

    from survmeta.cli._output import emit_frame

    frame = pd.DataFrame([_flat(qid, res) for qid, res in results])
    frame["trimfill_k0"] = frame["trimfill_k0"].astype("Int64")
    emit_frame(frame, "csv")
    return 0
