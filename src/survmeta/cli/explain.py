"""``survmeta explain PATH STUDY/COMPARISON``: how one log HR was reconstructed.

Prints the inputs as printed (quote and location), each candidate method with
its numbers or why it does not apply, the choice and why, and a paragraph for
a methods section with references.
"""

from __future__ import annotations


def add_parser(subparsers) -> None:
    """Register the ``explain`` command."""
    from survmeta.reconstruction.methods import METHODS

    parser = subparsers.add_parser(
        "explain",
        help="explain how one comparison's log HR and SE were reconstructed",
        description="Explain, for one comparison, the inputs as printed, every candidate "
                    "method, the choice and why, with a paragraph for a methods section.",
    )
    parser.add_argument("path", metavar="PATH", help="registry (.toml)")
    parser.add_argument("key", metavar="STUDY/COMPARISON", help="the comparison, e.g. heo2021/os_oligo_vs_multi")
    parser.add_argument("--method-order", metavar="M1,M2,...",
                        help="order of preference of the methods; known: " + ", ".join(METHODS))
    parser.add_argument("--force", metavar="METHOD",
                        help="use METHOD; known: " + ", ".join(METHODS))
    parser.add_argument("--correct-shrinkage", action="store_true",
                        help="divide approximate estimates with a calibrated shrinkage towards HR = 1 "
                             "(the median ratios; p_patients when forced) by it (docs/validation.md, "
                             "Bias); off by default")
    parser.add_argument("--figure", metavar="PATH",
                        help="also save the Kaplan-Meier overlay (digitised points and the "
                             "reconstructed curves, at-risk table below) to PATH (.png, .svg, "
                             ".pdf); the comparison needs km curves for both arms")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Print the explanation; return the exit code."""
    from survmeta.reconstruction import explain
    from survmeta.registry import load

    from pathlib import Path

    from survmeta.errors import SurvmetaError
    from survmeta.plotting._style import SAVE_FORMATS

    if args.figure is not None and Path(args.figure).suffix.lower() not in SAVE_FORMATS:
        raise SurvmetaError(f"--figure {args.figure}: use one of {', '.join(SAVE_FORMATS)}")
    registry = load(args.path)
    text = explain(registry, args.key, method_order=args.method_order, force=args.force,
                   correct_shrinkage=args.correct_shrinkage)
    if args.figure is not None:
        import sys

        from survmeta.plotting import plot_km, save_figure

        save_figure(plot_km(registry.comparison(args.key)), args.figure)
        text += f"\nFigure: {args.figure} (digitised points and the reconstructed Kaplan-Meier curves)\n"
        print(f"wrote {args.figure}", file=sys.stderr)
    print(text, end="")
    return 0
