"""``survmeta metareg``: meta-regression of a question's pooled log HRs on registry fields."""

from __future__ import annotations

from survmeta._format import fmt_pval
from survmeta.settings import MCMC_CHAINS, MCMC_DRAWS, MCMC_TUNE, NUTS_SAMPLER

HELP = "meta-regression on registry fields (as metafor's rma(mods=))"

#: Registry fields of a comparison (columns of the effect table) that can be moderators.
#: Numbers enter as they are; text fields are factors (treatment contrasts, first level
#: in sorted order as reference, as R's factor()).
MODERATORS = ("year", "n", "oligo_max_lesions", "oligo_max_sites", "time_origin", "line",
              "endpoint", "design", "approximate")
#: Engines of ``--engine``: metafor's rma(mods=), and the bmr() model exactly or with PyMC.
ENGINES = ("frequentist", "exact", "mcmc")
#: Columns of the coefficient table of the Bayesian engines (exact and mcmc alike).
BAYES_COLUMNS = ("term", "mean", "sd", "median", "lower", "upper")


def add_parser(sub) -> None:
    from survmeta.cli._args import nonempty_path
    from survmeta.cli._output import add_format_option
    from survmeta.exact.metareg import METHODS_MODS
    from survmeta.settings import DEFAULT_SEED

    p = sub.add_parser(
        "metareg",
        help=HELP,
        description=(
            "Mixed-effects meta-regression of one question's pooled log HRs on moderators "
            "named from registry fields (" + ", ".join(MODERATORS) + "): coefficients, "
            "residual heterogeneity (tau^2, QE, I^2), the omnibus test QM and pseudo-R^2, "
            "as metafor's rma(yi, vi, mods = ...). Text fields enter as factors. With "
            "--engine exact or mcmc, the Bayesian meta-regression of bayesmeta's bmr() "
            "(posterior mean, SD, median and credible interval of each coefficient and tau)."
        ),
    )
    p.add_argument("path", nargs="?", default="studies.toml",
                   help="registry or effects CSV (default: studies.toml)")
    p.add_argument("--question", required=True, metavar="Q", help="question id")
    p.add_argument("--mods", required=True, metavar="A,B",
                   help="comma-separated moderators, e.g. oligo_max_lesions,time_origin")
    p.add_argument("--engine", choices=ENGINES, default="frequentist",
                   help="frequentist: metafor's rma(mods=) (default); exact: the Bayesian model "
                        "of bayesmeta's bmr() by exact integration; mcmc: the same model with "
                        "PyMC (NUTS). exact and mcmc print the same columns")
    p.add_argument("--method", default=None, type=str.upper,
                   choices=list(METHODS_MODS) + ["EE"],
                   help="tau^2 estimator (default: REML; frequentist engine)")
    p.add_argument("--test", default=None, choices=["z", "knha"],
                   help="z-test or Knapp-Hartung (default: z; frequentist engine)")
    p.add_argument("--tau-prior", default="flat", metavar="SPEC",
                   help="prior on tau for exact/mcmc, e.g. flat, halfnormal(0.5), halfcauchy(0.5) "
                        "(default: flat, as bmr)")
    p.add_argument("--beta-sd", metavar="S[,S...]",
                   help="normal prior SDs of the coefficients, intercept first (one value for "
                        "all); default: flat prior (exact/mcmc)")
    p.add_argument("--beta-mean", metavar="M[,M...]",
                   help="normal prior means of the coefficients (default 0; needs --beta-sd)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED,
                   help=f"random seed of the mcmc engine (default: {DEFAULT_SEED})")
    p.add_argument("--sampler", choices=("pymc", "nutpie"), default=NUTS_SAMPLER,
                   help=f"NUTS implementation of the mcmc engine (default: {NUTS_SAMPLER})")
    p.add_argument("--draws", type=int, default=MCMC_DRAWS,
                   help=f"mcmc draws per chain (default: {MCMC_DRAWS})")
    p.add_argument("--tune", type=int, default=MCMC_TUNE,
                   help=f"mcmc tuning steps per chain (default: {MCMC_TUNE})")
    p.add_argument("--chains", type=int, default=MCMC_CHAINS,
                   help=f"mcmc chains (default: {MCMC_CHAINS})")
    p.add_argument("--level", type=float, default=0.95, help="interval level (default: 0.95)")
    p.add_argument("--plot", type=nonempty_path, metavar="FILE",
                   help="save the bubble plot (one numeric moderator; .png, .svg or .pdf)")
    add_format_option(p)
    p.set_defaults(func=run)


def moderator_columns(path, question: str, mods):
    """``(question id, its rows of the effect table, {moderator: column})`` for ``mods``."""
    import difflib
    from pathlib import Path

    import pandas as pd

    from survmeta.errors import SurvmetaError
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
    return q, rows, columns


def analyse(path, question: str, mods, method: str = "REML", test: str = "z",
            level: float = 0.95):
    """The :class:`survmeta.exact.MetaRegression` of ``question`` on ``mods`` (field names)."""
    from survmeta.errors import SurvmetaError
    from survmeta.exact.metareg import rma_mods

    q, rows, columns = moderator_columns(path, question, mods)
    y, s = rows["log_hr"].to_numpy(float), rows["se"].to_numpy(float)
    try:
        res = rma_mods(y, s, columns, method=method, test=test, level=level)
    except SurvmetaError as exc:
        raise SurvmetaError(f"question {q!r}: {exc}") from None
    return q, rows, columns, res


def _numbers(text: str | None, option: str) -> list[float] | None:
    """Comma-separated numbers of ``option``, or None when the option is not given."""
    from survmeta.errors import SurvmetaError

    if text is None:
        return None
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise SurvmetaError(f"{option}: expected numbers separated by commas, got {text!r}") from None


def analyse_bayes(path, question: str, mods, engine: str = "exact", tau_prior="flat",
                  beta_mean=None, beta_sd=None, level: float = 0.95, *, seed: int | None = None,
                  sampler: str = NUTS_SAMPLER, draws: int = MCMC_DRAWS, tune: int = MCMC_TUNE,
                  chains: int = MCMC_CHAINS):
    """``(question id, result)``: the bmr() model of ``question`` on ``mods``.

    ``engine="exact"`` gives a :class:`survmeta.exact.BayesMetaRegression`,
    ``engine="mcmc"`` a :class:`survmeta.models.MCMCMetaRegression` (imports PyMC).
    """
    from survmeta.errors import SurvmetaError
    from survmeta.settings import DEFAULT_SEED

    if engine not in ("exact", "mcmc"):
        raise SurvmetaError(f"--engine: the Bayesian engines are exact and mcmc, not {engine!r}")
    q, rows, columns = moderator_columns(path, question, mods)
    y, s = rows["log_hr"].to_numpy(float), rows["se"].to_numpy(float)
    res: object
    try:
        if engine == "exact":
            from survmeta.exact.bmr import bmr

            res = bmr(y, s, columns, tau_prior=tau_prior, beta_mean=beta_mean, beta_sd=beta_sd,
                      level=level)
        else:
            from survmeta.models.metareg import fit_metareg

            for name, value in (("--draws", draws), ("--tune", tune), ("--chains", chains)):
                if value < 1:
                    raise SurvmetaError(f"{name} must be at least 1, got {value}")
            res = fit_metareg(y, s, columns, tau_prior=tau_prior, beta_mean=beta_mean,
                              beta_sd=beta_sd, level=level,
                              random_seed=DEFAULT_SEED if seed is None else seed,
                              nuts_sampler=sampler, draws=draws, tune=tune, chains=chains)
    except SurvmetaError as exc:
        raise SurvmetaError(f"question {q!r}: {exc}") from None
    return q, res


def _diagnostics(r) -> dict | None:
    """R-hat, ESS and divergences of an mcmc fit (None for the exact engine)."""
    if not hasattr(r, "idata"):
        return None
    return {"r_hat_max": r.r_hat_max, "ess_bulk_min": r.ess_bulk_min,
            "ess_tail_min": r.ess_tail_min, "divergences": r.divergences,
            "random_seed": r.random_seed, "sampler": r.nuts_sampler, "warnings": list(r.warnings)}


def run_bayes(args) -> int:
    """``--engine exact`` or ``mcmc``: one table layout for both."""
    import sys

    import pandas as pd

    from survmeta.cli._output import dumps_json, emit_frame
    from survmeta.errors import SurvmetaError

    if args.method is not None or args.test is not None:
        raise SurvmetaError("--method and --test belong to the frequentist engine; "
                            f"--engine {args.engine} takes --tau-prior and --beta-sd")
    if args.plot:
        raise SurvmetaError("--plot: the bubble plot is drawn from the frequentist fit "
                            "(--engine frequentist)")
    q, r = analyse_bayes(args.path, args.question, args.mods, args.engine, args.tau_prior,
                         _numbers(args.beta_mean, "--beta-mean"),
                         _numbers(args.beta_sd, "--beta-sd"), args.level, seed=args.seed,
                         sampler=args.sampler, draws=args.draws, tune=args.tune,
                         chains=args.chains)
    table = pd.DataFrame([c.__dict__ for c in r.coefficients]).rename(columns={"name": "term"})
    table = table[list(BAYES_COLUMNS)]
    diag = _diagnostics(r)
    if args.format == "json":
        print(dumps_json({
            "question": q, "engine": args.engine, "k": r.k, "p": r.p, "level": r.level,
            "tau_prior": r.tau_prior, "beta_prior": r.beta_prior,
            "coefficients": [c.__dict__ for c in r.coefficients], "tau": r.tau.__dict__,
            "diagnostics": diag,
        }))
    elif args.format == "csv":
        emit_frame(table.assign(question=q, engine=args.engine)[
            ["question", "engine", *table.columns]], "csv")
    else:
        pct = f"{100 * r.level:g}%"
        how = "exact integration over tau" if args.engine == "exact" else "PyMC (NUTS)"
        print(f"{q}: Bayesian meta-regression (bayesmeta's bmr model), k = {r.k}, {how}")
        print(f"  priors: tau {r.tau_prior}, coefficients {r.beta_prior}")
        t = r.tau
        print(f"  tau (residual) mean {t.mean:.4f}, median {t.median:.4f}, "
              f"{pct} CrI {t.lower:.4f} to {t.upper:.4f}")
        if diag is not None:
            print(f"  R-hat max {diag['r_hat_max']:.3f}, bulk ESS min {diag['ess_bulk_min']:.0f}, "
                  f"divergences {diag['divergences']} (seed {diag['random_seed']}, "
                  f"{diag['sampler']})")
        print(f"  coefficients on the log HR scale (posterior; {pct} equal-tailed CrI):")
        emit_frame(table, "table", float_format="{:.4f}")
    for w in (diag or {}).get("warnings", []):
        print(f"warning: {w}", file=sys.stderr)
    return 0


def run(args) -> int:
    import pandas as pd

    from survmeta.cli._output import dumps_json, emit_frame

    if args.engine != "frequentist":
        return run_bayes(args)
    q, rows, columns, r = analyse(args.path, args.question, args.mods, args.method or "REML",
                                  args.test or "z", args.level)
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
    print(f"  QE(df = {r.QE_df}) = {r.QE:.4f}, p {fmt_pval(r.QE_p, equal=True)}")
    if r.QM_df2 is None:
        print(f"  QM(df = {r.QM_df}) = {r.QM:.4f}, p {fmt_pval(r.QM_p, equal=True)}")
    else:
        print(f"  F(df1 = {r.QM_df}, df2 = {r.QM_df2}) = {r.QM:.4f}, p {fmt_pval(r.QM_p, equal=True)}")
    print(f"  coefficients on the log HR scale ({pct} CI):")
    emit_frame(table, "table", float_format="{:.4f}")
    return 0
