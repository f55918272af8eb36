"""``survmeta add``: merge a study (or new comparisons of a study) into the registry."""

from __future__ import annotations

import contextlib
import signal
import sys

from survmeta.cli._args import nonempty_path

HELP = "merge a study block into the registry, keeping everything else byte-for-byte"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "add",
        help=HELP,
        description=(
            "Merge the [[study]] tables of FILE (with their comparisons) into the registry, "
            "or, with --study ID, the [[study.comparison]] tables of FILE into that study. "
            "The rest of the registry stays byte-for-byte as it was; the merged registry is "
            "validated before it is written, and written atomically. A refused add leaves "
            "the registry unchanged."
        ),
    )
    p.add_argument("path", nargs="?", default="studies.toml",
                   help="registry to add to (default: studies.toml)")
    p.add_argument("--from", dest="source", required=True, type=nonempty_path, metavar="FILE",
                   help="TOML file holding the new study (see `survmeta template`); - reads stdin")
    p.add_argument("--study", metavar="ID",
                   help="add FILE's comparisons to this existing study")
    p.add_argument("--dry-run", action="store_true",
                   help="validate, then print the new tables and the lines they would take "
                        "instead of writing them")
    p.set_defaults(func=run)


def run(args) -> int:
    from survmeta.errors import Problem, RegistryError
    from survmeta.living.add import add_study

    block = sys.stdin.read() if args.source == "-" else args.source
    try:
        with _terminate_as_interrupt():
            result = add_study(args.path, block, study=args.study, dry_run=args.dry_run)
    except RegistryError as exc:
        note = Problem("add refused; the registry was not changed", path=args.path)
        raise RegistryError(exc.problems + [note]) from None
    for w in result.warnings:
        print(w.format(), file=sys.stderr)
    for note in result.notes:
        print(f"survmeta add: {note}", file=sys.stderr)
    for key, reason in result.not_pooled:
        print(f"survmeta add: warning: {key} {'will not be' if args.dry_run else 'is not'} "
              f"pooled: {reason}", file=sys.stderr)
    if args.dry_run:
        first, last = result.block_lines
        print(f"# would be lines {first}-{last} of {args.path}:", file=sys.stderr)
        sys.stdout.write(result.block_text())
    print(result.describe(), file=sys.stderr if args.dry_run else sys.stdout)
    return 0


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM during the add unwinds like Ctrl-C, so the temporary file is removed.

    Without it, ``kill PID`` ends the process at once and leaves
    ``.studies.toml.*.tmp`` behind (the next add removes it, but the user sees
    it first).
    """
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
