"""``survmeta list [PATH]``: one row per comparison of a registry.

Columns: study, year, comparison, question, endpoint, subgroup_of, status
and what the paper reported (``"medians+CI, p"``, ``"HR+CI"``, ...). The
registry is validated first; errors stop the command (exit 2).
"""

from __future__ import annotations

import sys

import pandas as pd

from survmeta.cli._output import add_format_option, add_wide_option, emit_frame
from survmeta.registry.load import load
from survmeta.registry.summary import listing_rows

DEFAULT_PATH = "studies.toml"
COLUMNS = ("study", "year", "comparison", "question", "endpoint", "subgroup_of", "status",
           "reported")


def add_parser(subparsers) -> None:
    """Register the ``list`` command."""
    parser = subparsers.add_parser(
        "list",
        help="list every comparison of a registry and what it reports",
        description="One row per comparison: study, year, comparison, question, endpoint, "
                    "subgroup/status and what was reported.",
    )
    parser.add_argument("path", nargs="?", default=DEFAULT_PATH, metavar="PATH",
                        help=f"registry (.toml) or effects table (.csv); default {DEFAULT_PATH}")
    add_format_option(parser)
    add_wide_option(parser)
    parser.set_defaults(func=run)


def listing_frame(registry) -> pd.DataFrame:
    """The listing as a DataFrame (``year`` as a nullable integer)."""
    frame = pd.DataFrame(listing_rows(registry), columns=list(COLUMNS))
    frame["year"] = frame["year"].astype("Int64")
    return frame


#: Longest status shown in the table format (JSON and CSV keep the full text).
STATUS_WIDTH = 40


def _shorten(text: str, width: int = STATUS_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def run(args) -> int:
    """Load (and validate) ``args.path`` and print its comparisons (and, in the table, the
    count of single-group outcomes per question)."""
    registry = load(args.path)
    for warning in registry.warnings:
        print(warning.format(), file=sys.stderr)
    frame = listing_frame(registry)
    if args.format == "table":
        frame["status"] = frame["status"].map(_shorten)
    emit_frame(frame, args.format, wide=args.wide)
    outcomes = registry.outcomes()
    if args.format == "table" and outcomes:
        per = {}
        for o in outcomes:
            per[o.question] = per.get(o.question, 0) + 1
        print(f"{len(outcomes)} single-group outcome(s), not listed above: "
              + ", ".join(f"{q} {n}" for q, n in per.items()))
    return 0
