"""Command-line interface: a thin layer over the public API.

Each subcommand lives in its own module ``survmeta.cli.<name>`` exposing
``add_parser(subparsers)`` (which registers the command and sets
``func``) . ``main`` turns user errors into a message and exit code 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from survmeta._version import __version__
from survmeta.errors import SurvmetaError

#: Subcommands in the order ``survmeta --help`` lists them.
COMMANDS = (
    "check",
    "list",
    "reconstruct",
    "explain",
    "km",
    "pool",
    "report",
    "sensitivity",
    "influence",
    "metareg",
    "template",
    "add",
    "diff",
    "bias",
    "export",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="survmeta",
        description=(
            "Bayesian meta-analysis of time-to-event results as papers report them: "
            "a registry of what each paper printed, reconstruction of log hazard "
            "ratios, and pooling."
        ),
    )
    parser.add_argument("--version", action="version", version=f"survmeta {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"survmeta.cli.{name}")
        except ModuleNotFoundError as exc:  # command not built yet
            if exc.name == f"survmeta.cli.{name}":
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        code = args.func(args)
    except BrokenPipeError:
        return 0
    except SurvmetaError as exc:
        print(f"survmeta {args.command}: error: {exc}" if "\n" not in str(exc) else str(exc),
              file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # a file or folder that cannot be read or written
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"survmeta {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
