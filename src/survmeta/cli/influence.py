"""``survmeta influence``: metafor's influence diagnostics and Q-profile tau^2 interval."""

from __future__ import annotations

HELP = "influence diagnostics and the Q-profile interval for tau^2 (as metafor)"


def add_parser(sub) -> None:
    from survmeta.cli._output import add_format_option
    from survmeta.exact.frequentist import METHODS

    p = sub.add_parser(
        "influence",
        help=HELP,
        description=(
            "For each question, the case diagnostics of metafor's influence() on the pooled "
            "log HRs (rstudent, dffits, cook.d, cov.r, tau2.del, QE.del, hat, weight, dfbs and "
            "the influential flag '*' by metafor's rules) and the Q-profile confidence interval "
            "for tau^2, tau, I^2 and H^2 of metafor's confint(). Frequentist (z-test) fits on "
            "the same rows the pool command pools."
        ),
    )
    p.add_argument("path", nargs="?", default="studies.toml",
                   help="registry or effects CSV (default: studies.toml)")
    p.add_argument("--question", action="append", metavar="Q",
                   help="question id (repeatable; default: every question with two or more "
                        "pooled studies)")
    p.add_argument("--method", default="REML", type=str.upper,
                   choices=[m for m in METHODS if m != "FE"] + ["FE", "EE"],
                   help="tau^2 estimator (default: REML; FE/EE gives no tau^2 interval)")
    p.add_argument("--level", type=float, default=0.95, help="interval level (default: 0.95)")
    add_format_option(p)
    p.set_defaults(func=run)


def analyse(path, questions=None, method: str = "REML", level: float = 0.95) -> list[dict]:
    """One entry per question: its id, k, the tau^2 interval (or None) and the diagnostics."""
    from pathlib import Path

    from survmeta.errors import SurvmetaError, check_level
    from survmeta.exact.influence import confint_tau2, influence
    from survmeta.pooling import _wanted_questions, effect_table, select_rows

    if not Path(path).exists():
        raise SurvmetaError(f"{path}: no such file")
    level = check_level(level, "--level")
    effects, known = effect_table(path)
    out = []
    for q in _wanted_questions(questions, known):
        rows, _, _ = select_rows(effects, q)
        if len(rows) < 2:
            if questions:
                raise SurvmetaError(f"question {q!r} has {len(rows)} pooled studies; "
                                    "influence diagnostics need at least two")
            continue
        y, s = rows["log_hr"].to_numpy(float), rows["se"].to_numpy(float)
        labels = [str(v) for v in rows["label"]]
        ci = None if method in ("FE", "EE") else confint_tau2(y, s, method=method, level=level)
        out.append({"question": q, "k": len(rows), "method": method, "level": level,
                    "tau2_interval": ci, "influence": influence(y, s, method, labels=labels)})
    if not out:
        raise SurvmetaError("no question has two or more pooled studies")
    return out


def run(args) -> int:
    from dataclasses import asdict

    import pandas as pd

    from survmeta.cli._output import dumps_json, emit_frame

    results = analyse(args.path, args.question, args.method, args.level)
    if args.format == "json":
        payload = [{"question": r["question"], "k": r["k"], "method": r["method"],
                    "level": r["level"],
                    "tau2_interval": None if r["tau2_interval"] is None else asdict(r["tau2_interval"]),
                    "studies": r["influence"].to_frame().reset_index().to_dict(orient="records")}
                   for r in results]
        print(dumps_json(payload))
        return 0
    if args.format == "csv":
        frames = [r["influence"].to_frame().reset_index().assign(question=r["question"])
                  for r in results]
        table = pd.concat(frames, ignore_index=True)
        emit_frame(table[["question", *[c for c in table.columns if c != "question"]]], "csv")
        return 0
    for n, r in enumerate(results):
        if n:
            print()
        print(f"{r['question']}: k = {r['k']}, tau^2 estimator {r['method']}")
        ci = r["tau2_interval"]
        if ci is not None:
            pct = f"{100 * ci.level:g}%"
            print(f"  tau^2 {ci.tau2:.4f} [{ci.tau2_lower:.4f}, {ci.tau2_upper:.4f}], "
                  f"tau {ci.tau:.4f} [{ci.tau_lower:.4f}, {ci.tau_upper:.4f}], "
                  f"I^2 {ci.I2:.2f}% [{ci.I2_lower:.2f}, {ci.I2_upper:.2f}], "
                  f"H^2 {ci.H2:.2f} [{ci.H2_lower:.2f}, {ci.H2_upper:.2f}] "
                  f"({pct} Q-profile)")
            if ci.ci_null:
                print("  both bounds fall at 0: the interval is the null/empty set (as metafor)")
        emit_frame(r["influence"].to_frame().reset_index(), "table", float_format="{:.4f}")
        flagged = [lab for lab, f in zip(r["influence"].labels, r["influence"].influential) if f]
        print("  influential (*): " + (", ".join(flagged) if flagged else "none"))
    return 0
