"""``survmeta reconstruct [PATH]``: the effect table, one row per comparison.

Rows: study, comparison, question, endpoint, log_hr, se, hr, hr_lower,
hr_upper, method, flags, alternatives. In the table format the comparisons
without a pooled estimate follow, each with its reason; JSON and CSV carry
``poolable`` and ``reason`` columns (JSON: the full alternatives).
"""

from __future__ import annotations

import math
import sys

import pandas as pd

from survmeta.cli._output import add_format_option, add_wide_option, emit_frame

DEFAULT_PATH = "studies.toml"

#: Columns shown, in order (issue 3, section 4).
SHOWN = ("study", "comparison", "question", "endpoint", "log_hr", "se", "hr", "hr_lower",
         "hr_upper", "method", "flags", "alternatives")


def add_parser(subparsers) -> None:
    """Register the ``reconstruct`` command."""
    from survmeta.reconstruction.methods import METHODS

    parser = subparsers.add_parser(
        "reconstruct",
        help="reconstruct log HR + SE for every comparison (the effect table)",
        description="Reconstruct the log hazard ratio and its SE of every comparison from what "
                    "the paper printed, with the method used, its flags and the alternatives.",
    )
    parser.add_argument("path", nargs="?", default=DEFAULT_PATH, metavar="PATH",
                        help=f"registry (.toml) or effects table (.csv); default {DEFAULT_PATH}")
    parser.add_argument("--question", metavar="Q", help="only the comparisons of question Q")
    parser.add_argument("--method-order", metavar="M1,M2,...",
                        help="order of preference of the methods (comma-separated); known: "
                             + ", ".join(METHODS))
    parser.add_argument("--force", metavar="METHOD",
                        help="use METHOD for every comparison (no fallback); known: "
                             + ", ".join(METHODS))
    parser.add_argument("--correct-shrinkage", action="store_true",
                        help="divide approximate estimates with a calibrated shrinkage towards HR = 1 "
                             "(the median ratios; p_patients when forced) by it (docs/validation.md, "
                             "Bias); off by default")
    add_format_option(parser)
    add_wide_option(parser)
    parser.set_defaults(func=run)


def _compact_alternatives(alts) -> str:
    return ", ".join(f"{a['method']}:{math.exp(a['log_hr']):.3g}" for a in alts)


def display_frame(df: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """The columns shown by the command, formatted for ``fmt``."""
    cols = list(SHOWN) + (["poolable", "reason"] if fmt != "table" else [])
    out = df[cols].copy()
    if fmt == "json":
        out["flags"] = [list(f) for f in df["flags"]]
        out["alternatives"] = [
            [dict(a, hr=math.exp(a["log_hr"])) for a in alts] for alts in df["alternatives"]
        ]
        out["assumptions"] = [list(a) for a in df["assumptions"]]
        out["warnings"] = [list(w) for w in df["warnings"]]
        out["se_sampling"] = df["se_sampling"]
        out["se_extra"] = df["se_extra"]
        out["p_relation"] = df["p_relation"]
        out["p_bound"] = df["p_bound"]
    else:
        out["flags"] = [";".join(f) for f in df["flags"]]
        out["alternatives"] = [_compact_alternatives(a) for a in df["alternatives"]]
    return out


def narrow_frame(df):
    """The effect table for an 100-column terminal: key, method, HR with its 95% CI, SE,
    flags; the alternatives and per-field columns are in --wide, --format csv|json."""
    import pandas as pd

    return pd.DataFrame({
        "comparison": df["key"].to_numpy(),
        "method": df["method"].to_numpy(),
        "HR [95% CI]": [f"{h:.2f} [{lo:.2f}, {hi:.2f}]" for h, lo, hi in
                        zip(df["hr"], df["hr_lower"], df["hr_upper"])],
        "se": df["se"].to_numpy(),
        "flags": [";".join(f) for f in df["flags"]],
    })


def run(args) -> int:
    """Load the registry, reconstruct, print the table; return the exit code."""
    from survmeta.reconstruction import reconstruct
    from survmeta.registry import load

    registry = load(args.path)
    df = reconstruct(registry, question=args.question, method_order=args.method_order,
                     force=args.force, correct_shrinkage=args.correct_shrinkage)
    if args.format != "table":
        emit_frame(display_frame(df, args.format), args.format, wide=args.wide)
        return 0
    pooled = df[df["poolable"]]
    if len(pooled):
        table = display_frame(pooled, "table")
        emit_frame(table if args.wide else narrow_frame(pooled), "table", wide=args.wide)
    else:
        print("no comparison has a poolable estimate")
    rest = df[~df["poolable"]]
    if len(rest):
        import textwrap

        print(f"\nnot poolable ({len(rest)}):")
        for key, reason in zip(rest["key"], rest["reason"]):
            line = f"  {key}: {reason}"
            print(line if args.wide else textwrap.fill(line, 100, subsequent_indent="      "))
    sys.stdout.flush()
    return 0
