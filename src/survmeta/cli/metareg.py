"""``survmeta metareg``: meta-regression of a question's pooled log HRs on registry fields."""

from __future__ import annotations

HELP = "meta-regression on registry fields (as metafor's rma(mods=))"

#: Registry fields of a comparison (columns of the effect table) that can be moderators.
#: Numbers enter as they are; text fields are factors (treatment contrasts, first level
#: in sorted order as reference, as R's factor()).
MODERATORS = ("year", "n", "oligo_max_lesions", "oligo_max_sites", "time_origin", "line",
              "endpoint", "design", "approximate")


def add_parser(sub) -> None:
    from survmeta.cli._args import nonempty_path
    from survmeta.cli._output import add_format_option
    from survmeta.exact.metareg import METHODS_MODS

    p = sub.add_parser(
        "metareg",
        help=HELP,
        description=(
            "Mixed-effects meta-regression of one question's pooled log HRs on moderators "
            "named from registry fields (" + ", ".join(MODERATORS) + "): coefficients, "
            "residual heterogeneity (tau^2, QE, I^2), the omnibus test QM and pseudo-R^2, "
            "as metafor's rma(yi, vi, mods = ...). Text fields enter as factors."
        ),
    )
    p.add_argument("path", nargs="?", default="studies.toml",
                   help="registry or effects CSV (default: studies.toml)")
    p.add_argument("--question", required=True, metavar="Q", help="question id")
    p.add_argument("--mods", required=True, metavar="A,B",
                   help="comma-separated moderators, e.g. oligo_max_lesions,time_origin")
    p.add_argument("--method", default="REML", type=str.upper,
                   choices=list(METHODS_MODS) + ["EE"], help="tau^2 estimator (default: REML)")
    p.add_argument("--test", default="z", choices=["z", "knha"],
                   help="z-test or Knapp-Hartung (default: z)")
    p.add_argument("--level", type=float, default=0.95, help="interval level (default: 0.95)")
    p.add_argument("--plot", type=nonempty_path, metavar="FILE",
                   help="save the bubble plot (one numeric moderator; .png, .svg or .pdf)")
    add_format_option(p)
    p.set_defaults(func=run)


def analyse(path, question: str, mods, method: str = "REML", test: str = "z",
            level: float = 0.95):
    """The :class:`survmeta.exact.MetaRegression` of ``question`` on ``mods`` (field names)."""
    import difflib
    from pathlib import Path

    import pandas as pd

    from survmeta.errors import SurvmetaError
    from survmeta.exact.metareg import rma_mods
    from survmeta.pooling import _wanted_questions, effect_table, select_rows

    if not Path(path).exists():
        raise SurvmetaError(f"{path}: no such file")
    names = [m.strip() for m in (mods.split(",") if isinstance(mods, str) else mods)]
    names = [m for m in names if m]
    if not names:
        raise SurvmetaError("--mods: name at least one moderator; available: "
                            + ", ".join(MODERATORS))
    effects, known = effect_table(path)
    (q,) = _wanted_questions(question, known)
    rows, _, _ = select_rows(effects, q)
    available = [m for m in MODERATORS if m in rows.columns]
    for m in names:
        if m not in available:
            close = difflib.get_close_matches(m, available, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SurvmetaError(f"--mods: unknown moderator {m!r}{hint}; available: "
                                + ", ".join(available))
    columns = {}
    for m in names:
        col = rows[m]
        missing = [str(lab) for lab, v in zip(rows["label"], col) if v is None or pd.isna(v)]
        if missing:
            complete = [c for c in available if not rows[c].isna().any()]
            raise SurvmetaError(
                f"question {q!r}, moderator {m!r}: no value for " + ", ".join(missing)
                + f" ({len(missing)} of {len(rows)} comparisons; survmeta does not drop them, as"
                " metafor's rma() does with a warning). Set the field in the registry where the"
                " paper states it, or use a moderator every comparison has: "
                + (", ".join(complete) if complete else "none"))
        values = list(col)
        if all(isinstance(v, (bool,)) for v in values):
            values = [str(v) for v in values]
        elif all(not isinstance(v, str) for v in values):
            values = [float(v) for v in values]
        else:
            values = [str(v) for v in values]
        columns[m] = values
    y, s = rows["log_hr"].to_numpy(float), rows["se"].to_numpy(float)
    try:
        res = rma_mods(y, s, columns, method=method, test=test, level=level)
    except SurvmetaError as exc:
        raise SurvmetaError(f"question {q!r}: {exc}") from None
    return q, rows, columns, res


def run(args) -> int:
    import pandas as pd

    from survmeta.cli._output import dumps_json, emit_frame

    q, rows, columns, r = analyse(args.path, args.question, args.mods, args.method, args.test,
                                  args.level)
    if args.plot:
        import sys

        from survmeta.errors import SurvmetaError
        from survmeta.plotting import plot_bubble, save_figure

        (name, values), = columns.items() if len(columns) == 1 else ((None, None),)
        if name is None or r.p != 2:
            raise SurvmetaError("--plot: a bubble plot needs one numeric moderator")
        fig = plot_bubble(rows["log_hr"].to_numpy(float), rows["se"].to_numpy(float), values, r,
                          labels=[str(v) for v in rows["label"]], title=f"{q}: log HR on {name}")
        print(f"wrote {save_figure(fig, args.plot)}", file=sys.stderr)
    table = pd.DataFrame([c.__dict__ for c in r.coefficients]).rename(
        columns={"name": "term", "stat": r.stat_name + "val"})
    if args.format == "json":
        print(dumps_json({"question": q, **r.to_dict()}))
        return 0
    if args.format == "csv":
        emit_frame(table.assign(question=q)[["question", *table.columns]], "csv")
        return 0
    pct = f"{100 * r.level:g}%"
    print(f"{q}: mixed-effects meta-regression, k = {r.k}, tau^2 estimator {r.method}"
          + (", Knapp-Hartung" if r.test == "knha" else ""))
    tau2_se = "" if r.tau2_se is None else f" (SE = {r.tau2_se:.4f})"
    print(f"  tau^2 (residual) {r.tau2:.4f}{tau2_se}, tau {r.tau:.4f}, I^2 {r.I2:.2f}%, "
          f"H^2 {r.H2:.2f}" + ("" if r.R2 is None else f", R^2 {r.R2:.2f}%"))
    print(f"  QE(df = {r.QE_df}) = {r.QE:.4f}, p = {r.QE_p:.4g}")
    if r.QM_df2 is None:
        print(f"  QM(df = {r.QM_df}) = {r.QM:.4f}, p = {r.QM_p:.4g}")
    else:
        print(f"  F(df1 = {r.QM_df}, df2 = {r.QM_df2}) = {r.QM:.4f}, p = {r.QM_p:.4g}")
    print(f"  coefficients on the log HR scale ({pct} CI):")
    emit_frame(table, "table", float_format="{:.4f}")
    return 0
