"""``survmeta report``: pool a registry and write an HTML or Markdown report."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from survmeta.cli._args import add_sampler_arguments, mcmc_options, nonempty_path, sampler_argv
from survmeta.errors import SurvmetaError

HELP = "pool a registry and write a report (HTML page or Markdown with figures)"


def add_parser(sub) -> None:
    from survmeta.pooling import DEFAULT_MU_PRIOR, DEFAULT_SEED, DEFAULT_TAU_PRIOR

    p = sub.add_parser(
        "report",
        help=HELP,
        description=(
            "Pool every poolable question of a registry and write the report: registry "
            "summary, summary-of-findings table, forest plot and other figures per question, "
            "reconstruction method of every estimate, diagnostics, a methods paragraph and a "
            "reproducibility stamp. --format html writes one self-contained page "
            "(DIR/report.html); --format md writes DIR/report.md with figures in DIR/figures/ "
            "(--figure-format png, svg or pdf; --dpi for PNG). "
            "Beyond 20 pooled questions or 400 pooled estimates (--layout auto), the page keeps "
            "the summary and links one page per question in DIR/questions/."
        ),
    )
    p.add_argument("path", nargs="?", default="studies.toml",
                   help="registry (studies.toml) or effects CSV (default: studies.toml)")
    p.add_argument("--out", required=True, type=nonempty_path, metavar="DIR",
                   help="output folder (created)")
    p.add_argument("--format", choices=("html", "md"), default="html",
                   help="html (one self-contained page) or md (Markdown + PNG files); default html")
    p.add_argument("--figure-format", choices=("png", "svg", "pdf"), default="png",
                   help="figures as PNG (default; embedded in the HTML page), SVG (inline in the "
                        "HTML page, or files beside report.md) or PDF (--format md only: files "
                        "beside report.md, which links them)")
    p.add_argument("--dpi", type=_positive_int, default=150,
                   help="resolution of PNG figures in dots per inch (default: 150)")
    p.add_argument("--layout", choices=("auto", "single", "paged"), default="auto",
                   help="single: every question on one page; paged: one page per question "
                        "linked from the summary page; auto (default): paged for large reports")
    p.add_argument("--engine", choices=("exact", "mcmc"), default="exact",
                   help="per-question engine (default: exact)")
    p.add_argument("--tau-prior", default=DEFAULT_TAU_PRIOR, metavar="SPEC",
                   help=f"prior on tau (default: {DEFAULT_TAU_PRIOR})")
    p.add_argument("--mu-prior", default=DEFAULT_MU_PRIOR, metavar="SPEC",
                   help=f"prior on the pooled log HR (default: {DEFAULT_MU_PRIOR})")
    p.add_argument("--question", action="append", metavar="Q",
                   help="question id (repeatable; default: every poolable question)")
    p.add_argument("--hierarchical", action=argparse.BooleanOptionalAction, default=True,
                   help="include the hierarchical model across questions (PyMC) when two or "
                        "more questions are pooled (default: on)")
    p.add_argument("--level", type=float, default=0.95, help="interval level (default: 0.95)")
    p.add_argument("--correct-shrinkage", action="store_true",
                   help="divide approximate estimates with a calibrated shrinkage towards HR = 1 "
                        "(the median ratios; p_patients when forced) by it (docs/validation.md, "
                        "Bias); off by default")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED,
                   help=f"random seed (default: {DEFAULT_SEED})")
    add_sampler_arguments(p)
    p.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of dots per inch, not {text!r}")
    if v <= 0:
        raise argparse.ArgumentTypeError(f"the resolution must be positive, not {v}")
    return v


def _load_registry(path: Path):
    """The Registry behind a .toml file (for the summary); None for an effects CSV."""
    if path.suffix.lower() != ".toml":
        return None
    from survmeta.registry import load_registry

    return load_registry(path)


def run(args) -> int:
    from survmeta.pooling import pool
    from survmeta.report import write_report

    source = Path(args.path)
    sampler = mcmc_options(args)  # checked before any work
    if args.figure_format == "pdf" and args.format == "html":
        raise SurvmetaError("--figure-format pdf writes figure files beside a Markdown report "
                            "(--format md); the self-contained HTML page embeds png or svg")
    if not source.exists():
        raise SurvmetaError(f"{source}: no such file")
    registry = _load_registry(source)
    results = pool(registry if registry is not None else source, question=args.question,
                   engine=args.engine, tau_prior=args.tau_prior, mu_prior=args.mu_prior,
                   level=args.level, seed=args.seed, hierarchical=args.hierarchical,
                   correct_shrinkage=args.correct_shrinkage, mcmc_options=sampler)
    if not len(results):
        raise SurvmetaError(f"{source}: no question has a poolable comparison; nothing to report")
    command = "survmeta report " + " ".join(shlex.quote(a) for a in _argv_tail(args))
    page = write_report(results, registry, args.out, fmt=args.format, registry_file=source,
                        command=command, layout=args.layout, figure_format=args.figure_format,
                        dpi=args.dpi)
    print(f"wrote {page}", file=sys.stdout)
    return 0


def _argv_tail(args) -> list[str]:
    """The options that shape the numbers, as a reader would retype them."""
    out = [Path(args.path).name, "--out", str(args.out), "--format", args.format,
           "--layout", args.layout, "--figure-format", args.figure_format,
           "--dpi", str(args.dpi),
           "--engine", args.engine, "--tau-prior", args.tau_prior, "--mu-prior", args.mu_prior,
           "--level", f"{args.level:g}", "--seed", str(args.seed),
           "--hierarchical" if args.hierarchical else "--no-hierarchical"]
    if args.correct_shrinkage:
        out.append("--correct-shrinkage")
    out += sampler_argv(args)
    for q in args.question or []:
        out += ["--question", q]
    return out
