"""``survmeta export [PATH] --format revman|metafor``: the pooled comparisons for other software.

``metafor`` writes a tidy CSV with ``yi``, ``vi`` and ``sei`` columns for R
(``rma(yi, vi, data = read.csv(FILE), subset = question == "...")``);
``revman`` writes generic inverse-variance rows in RevMan's analysis-data layout (log HR as ``GIV Mean``,
its SE as ``GIV SE``, one analysis per question). The rows are those
``survmeta pool`` pools (:func:`survmeta.export.pooled_rows`).
"""

from __future__ import annotations

HELP = "write the pooled comparisons as CSV for metafor (R) or RevMan"


def add_parser(sub) -> None:
    """Register the ``export`` command."""
    from survmeta.export import FORMATS

    p = sub.add_parser(
        "export",
        help=HELP,
        description=(
            "Write the comparisons each question pools as CSV for other software. "
            "--format metafor: one row per comparison with yi (log HR), vi (SE squared), sei, "
            "study, comparison, question, endpoint, year, method, approximate, the arm sizes "
            "and the comparability fields, for rma(yi, vi, data = read.csv(FILE)) in R. "
            "--format revman: generic inverse-variance rows in RevMan's analysis-data layout (GIV Mean = log HR, "
            "GIV SE), one analysis per question. Without -o the CSV goes to standard output."
        ),
    )
    p.add_argument("path", nargs="?", default="studies.toml",
                   help="registry (.toml) or effects table (.csv); default studies.toml")
    p.add_argument("--format", required=True, choices=FORMATS, help="export layout")
    p.add_argument("--question", action="append", metavar="ID",
                   help="question id (repeatable; default: every question with a pooled "
                        "comparison)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the CSV to FILE (atomically) instead of standard output")
    p.set_defaults(func=run)


def run(args) -> int:
    """Build the export table and write it to ``--output`` or standard output."""
    import sys

    from survmeta.export import export_table, write_export

    table = export_table(args.path, args.format, args.question)
    if args.output:
        write_export(table, args.output)
        print(f"wrote {len(table)} rows ({args.format}) to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(write_export(table))
    return 0
