"""Reading and validating a registry file.

:func:`check` returns every problem (errors and warnings) found in a file;
:func:`load_registry` returns the validated :class:`Registry` (warnings
attached) or raises :class:`~survmeta.errors.RegistryError` carrying all of
them. :func:`load` accepts either a ``.toml`` registry or an effects
``.csv``. Nothing here imports PyMC.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from survmeta.errors import Problem, RegistryError
from survmeta.registry.context import Where
from survmeta.registry.convert import build_registry
from survmeta.registry.lines import index_lines
from survmeta.registry.records import Registry

__all__ = ["check", "check_text", "load", "load_registry", "load_registry_text", "parse_toml",
           "read_text"]

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")


def read_text(path: str | os.PathLike) -> tuple[str | None, list[Problem]]:
    """Read a UTF-8 file (a byte-order mark is ignored).

    Returns
    -------
    (text, problems)
        ``text`` is None when the file cannot be read; ``problems`` then
        holds one error saying why.
    """
    name = str(path)
    try:
        return Path(path).read_text(encoding="utf-8-sig"), []
    except FileNotFoundError:
        return None, [Problem("no such file", path=name)]
    except IsADirectoryError:
        return None, [Problem("is a directory, not a registry file", path=name)]
    except UnicodeDecodeError as exc:
        return None, [Problem(f"not UTF-8 text (byte {exc.start})", path=name)]
    except OSError as exc:
        return None, [Problem(f"cannot read: {exc.strerror or exc}", path=name)]


def syntax_problem(exc: tomllib.TOMLDecodeError, text: str, path: str | None,
                   first_line: int = 1) -> Problem:
    """Re-express a TOML syntax error as ``PATH:LINE: TOML syntax error: ... (column C)``.

    ``first_line`` is the line of the file where ``text`` starts (for a block
    cut out of a longer file).
    """
    message = str(getattr(exc, "msg", None) or exc)
    line = getattr(exc, "lineno", None)
    column = getattr(exc, "colno", None)
    m = _TOML_POSITION.search(message)
    if m:
        line, column = int(m.group(1)), int(m.group(2))
        message = message[: m.start()]
    elif _TOML_END.search(message):
        message = _TOML_END.sub("", message)
        line = max(1, len(text.splitlines()))
        column = None
    if line is not None:
        line += first_line - 1
    where = f" (column {column})" if column is not None else ""
    return Problem(f"TOML syntax error: {message}{where}", path=path, line=line)


class NestingTooDeep(tomllib.TOMLDecodeError):
    """Arrays or inline tables nested deeper than the parser can follow."""


def parse_toml(text: str) -> dict:
    """:func:`tomllib.loads`, with nesting too deep to parse reported as a syntax error.

    Raises
    ------
    tomllib.TOMLDecodeError
        For a syntax error, and for arrays or inline tables nested so deeply
        that the parser runs out of stack (:class:`NestingTooDeep`; no
        registry needs more than a few levels).
    """
    try:
        return tomllib.loads(text)
    except RecursionError:
        line = _deepest_line(text)
        raise NestingTooDeep("arrays or inline tables nested too deeply "
                             f"(at line {line}, column 1)") from None


def _deepest_line(text: str) -> int:
    """Line on which bracket nesting (outside strings and comments, roughly) is deepest."""
    depth = best = 0
    best_line = 1
    for lineno, raw in enumerate(text.splitlines(), start=1):
        for ch in raw.split("#", 1)[0]:
            if ch in "[{":
                depth += 1
                if depth > best:
                    best, best_line = depth, lineno
            elif ch in "]}":
                depth = max(0, depth - 1)
    return best_line


def _by_line(problems: list[Problem]) -> list[Problem]:
    """Problems in file order (stable; problems without a line first)."""
    return sorted(problems, key=lambda p: (p.line is not None, p.line or 0))


def _analyse(text: str, path: str | None) -> tuple[Registry | None, list[Problem]]:
    """Parse and validate ``text``; the registry is None when it has errors."""
    text = text.removeprefix("\ufeff")  # a byte-order mark is not TOML
    try:
        doc = parse_toml(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [syntax_problem(exc, text, path)]
    problems: list[Problem] = []
    registry = build_registry(doc, Where(problems, index_lines(text), path))
    problems = _by_line(problems)
    if any(p.severity == "error" for p in problems):
        return None, problems
    warnings = tuple(p for p in problems if p.severity == "warning")
    return Registry(registry.schema_version, registry.questions, registry.studies,
                    path=path, warnings=warnings, acknowledged=registry.acknowledged), problems


def check_text(text: str, path: str | None = None) -> list[Problem]:
    """Every problem in registry ``text`` (TOML), in file order.

    Parameters
    ----------
    text : str
        The registry document.
    path : str, optional
        Name used in messages.

    Returns
    -------
    list of Problem
        Errors and warnings; empty when the registry is clean.
    """
    return _analyse(text, path)[1]


def load_registry_text(text: str, path: str | None = None) -> Registry:
    """Validate registry ``text`` and return it as records.

    Raises
    ------
    RegistryError
        With every problem, when there is at least one error.
    """
    registry, problems = _analyse(text, path)
    if registry is None:
        raise RegistryError(problems)
    return registry


def _is_csv(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() == ".csv"


def _check_suffix(path: str | os.PathLike) -> list[Problem]:
    if Path(path).suffix.lower() in (".toml", ".csv"):
        return []
    return [Problem("unsupported file type: expected a .toml registry or a .csv of effects",
                    path=str(path))]


def check(path: str | os.PathLike) -> list[Problem]:
    """Every problem (errors and warnings) in a registry or effects file.

    Parameters
    ----------
    path : str or path-like
        A ``.toml`` registry or a ``.csv`` of ``study,estimate,se[,question]``.

    Returns
    -------
    list of Problem
        In file order; empty when the file is clean.
    """
    bad_suffix = _check_suffix(path)
    if bad_suffix:
        return bad_suffix
    if _is_csv(path):
        from survmeta.registry.effects_csv import check_effects_csv

        return check_effects_csv(path)
    text, problems = read_text(path)
    return problems if text is None else check_text(text, str(path))


def load_registry(path: str | os.PathLike) -> Registry:
    """Load and validate a ``studies.toml`` registry.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    Registry
        Warnings are attached as ``Registry.warnings``.

    Raises
    ------
    RegistryError
        When the file cannot be read or has any error; it carries every problem.
    """
    text, problems = read_text(path)
    if text is None:
        raise RegistryError(problems)
    return load_registry_text(text, str(path))


def load(path: str | os.PathLike) -> Registry:
    """Load a registry (``.toml``) or an effects table (``.csv``), by suffix.

    Raises
    ------
    RegistryError
        For an unsupported suffix, an unreadable file or any error in it.
    """
    bad_suffix = _check_suffix(path)
    if bad_suffix:
        raise RegistryError(bad_suffix)
    if _is_csv(path):
        from survmeta.registry.effects_csv import load_effects_csv

        return load_effects_csv(path)
    return load_registry(path)
