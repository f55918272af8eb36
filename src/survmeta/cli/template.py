"""``survmeta template``: print a commented study (or comparison) block to fill in."""

from __future__ import annotations

import sys
from pathlib import Path

from survmeta.cli._args import nonempty_path

HELP = "print a commented study block in the registry format"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "template",
        help=HELP,
        description=(
            "Print a commented [[study]] block (or, with --comparison-only, a "
            "[[study.comparison]] block) in the registry format. Fill it in and merge it "
            "with `survmeta add --from FILE`. Required fields are left empty so an "
            "unfilled template is refused."
        ),
    )
    p.add_argument("--question", metavar="Q", help="question id to write into the comparison")
    p.add_argument("--comparison-only", action="store_true",
                   help="print only a comparison block, for `survmeta add --study ID`")
    p.add_argument("--registry", type=nonempty_path, metavar="PATH", default=None,
                   help="registry whose question ids are checked and listed (an error if it "
                        "cannot be read; default: studies.toml, if present)")
    p.set_defaults(func=run)


def _question_ids(path: Path, required: bool) -> list[str] | None:
    """Question ids of the registry.

    A registry named with ``--registry`` must exist and parse (else an error);
    the default ``studies.toml`` is used only when it is there, and a broken
    one is reported on stderr and skipped.
    """
    import tomllib

    from survmeta.errors import SurvmetaError
    from survmeta.registry.load import parse_toml

    if not path.exists():
        if required:
            raise SurvmetaError(f"--registry {path}: no such file")
        return None
    try:
        data = parse_toml(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if required:
            raise SurvmetaError(f"--registry {path}: cannot read the question ids ({why})") from None
        print(f"survmeta template: warning: {path}: cannot read the question ids ({why}); "
              "question ids are not checked", file=sys.stderr)
        return None
    qs = data.get("question", [])
    return [q["id"] for q in qs if isinstance(q, dict) and isinstance(q.get("id"), str)]


def run(args) -> int:
    from survmeta.errors import SurvmetaError
    from survmeta.living.template import template_text
    from survmeta.registry.schema import did_you_mean

    registry = args.registry or "studies.toml"
    questions = _question_ids(Path(registry), required=args.registry is not None)
    if args.question and questions is not None and args.question not in questions:
        raise SurvmetaError(f'unknown question "{args.question}" in {registry}'
                            f"{did_you_mean(args.question, questions)}; known: {', '.join(questions)}")
    sys.stdout.write(template_text(args.question, args.comparison_only, questions))
    return 0
