"""``survmeta check [PATH]``: validate a registry and summarise it.

A valid registry prints a one-line summary, then one row per study (id, year,
short citation, design, single-group outcomes when any, comparisons, of which
poolable), then any warnings
the registry acknowledges (``acknowledged = [...]`` on a comparison), which
do not fail ``--strict``. Problems go to stderr.

Exit status: 0 when the registry is valid (warnings allowed), 2 when it has
errors, cannot be read, or (with ``--strict``) has warnings.
"""

from __future__ import annotations

import sys

from survmeta.cli._output import add_format_option, dumps_json
from survmeta.errors import RegistryError
from survmeta.registry.load import load
from survmeta.registry.summary import registry_summary, study_table, summary_line

DEFAULT_PATH = "studies.toml"


def add_parser(subparsers) -> None:
    """Register the ``check`` command."""
    parser = subparsers.add_parser(
        "check",
        help="validate a registry (studies.toml or an effects CSV)",
        description="Validate a registry and print a one-line summary, or list every problem "
                    "as PATH:LINE: study <id>, comparison <id>, <field>: <what is wrong>.",
    )
    parser.add_argument("path", nargs="?", default=DEFAULT_PATH, metavar="PATH",
                        help=f"registry (.toml) or effects table (.csv); default {DEFAULT_PATH}")
    parser.add_argument("--strict", action="store_true",
                        help="fail (exit 2) on warnings as well as errors")
    add_format_option(parser, choices=("table", "json"))
    parser.set_defaults(func=run)


def _validate(path: str):
    """``(registry or None, problems)`` for ``path``; never raises for bad input."""
    try:
        registry = load(path)
    except RegistryError as exc:
        return None, exc.problems
    return registry, list(registry.warnings)


def _tally(problems) -> str:
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    return (f"{errors} error{'s' * (errors != 1)}, "
            f"{warnings} warning{'s' * (warnings != 1)}")


def _as_pool_counts(registry, summary: dict) -> None:
    """Count poolable comparisons as ``survmeta pool`` will: reconstructed, one per study and
    question, subgroups left to their parent; list the others that give no estimate."""
    from survmeta.errors import SurvmetaError
    from survmeta.pooling import select_rows
    from survmeta.reconstruction import reconstruct

    try:
        effects = reconstruct(registry)
    except SurvmetaError as exc:  # a located reconstruction error is already an error above
        summary["reconstruction_error"] = str(exc)
        return
    pooled_keys, without = set(), []
    for q in summary["poolable"]:
        rows, excluded, _ = select_rows(effects, q)
        pooled_keys.update(rows["key"])
        summary["poolable"][q] = int(len(rows))
        for _, e in excluded.iterrows():
            marked = not bool(e["poolable"]) and isinstance(e.get("reason"), str) and \
                e["reason"].lower().startswith("not poolable")
            if not marked and not (isinstance(e.get("subgroup_of"), str) and e["subgroup_of"]):
                without.append({"key": e["key"], "reason": e["reason"]})
    for s in summary["by_study"]:
        s["poolable"] = sum(k.startswith(f"{s['id']}/") for k in pooled_keys)
    summary["not_pooled"] = without


def run(args) -> int:
    """Check ``args.path``; print the summary or the problems; return the exit code."""
    registry, problems = _validate(args.path)
    passed = registry is not None and not (args.strict and problems)
    summary = registry_summary(registry) if registry is not None else None
    if summary is not None and registry.studies:
        _as_pool_counts(registry, summary)
    acknowledged = list(registry.acknowledged) if registry is not None else []
    if args.format == "json":
        print(dumps_json({"valid": passed, "strict": args.strict,
                          "problems": [p.to_dict() for p in problems], "summary": summary,
                          "acknowledged": [p.to_dict() for p in acknowledged]}))
        return 0 if passed else 2
    if summary is not None:
        print(summary_line(summary, args.path))
        if summary["by_study"]:
            print()
            print(study_table(summary["by_study"]))
        if summary.get("not_pooled"):
            print()
            print("Not marked 'not poolable' but not pooled (no estimate, or another comparison "
                  "of the same study stands for it):")
            for e in summary["not_pooled"]:
                print(f"  {e['key']}: {e['reason']}")
        if acknowledged:
            print()
            print("Acknowledged in the registry (acknowledged = [...]; not counted as warnings):")
            for problem in acknowledged:
                print("  " + problem.format())
    for problem in problems:
        print(problem.format(), file=sys.stderr)
    if registry is None:
        print(f"{args.path}: invalid registry: {_tally(problems)}", file=sys.stderr)
    elif not passed:
        print(f"{args.path}: {_tally(problems)}; warnings fail the check with --strict",
              file=sys.stderr)
    return 0 if passed else 2
