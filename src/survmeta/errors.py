"""User-facing errors and validation problems.

Every problem a user can cause is reported as a :class:`Problem` that names the
file, line, study, comparison and field, so the CLI can print it as
``PATH:LINE: study <id>, comparison <id>, <field>: <what is wrong>`` and exit 2
without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in an input file."""

    message: str
    path: str | None = None
    line: int | None = None
    study: str | None = None
    comparison: str | None = None
    field: str | None = None
    severity: Literal["error", "warning"] = "error"

    def format(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        parts = []
        if self.study is not None:
            parts.append(f"study {self.study}")
        if self.comparison is not None:
            parts.append(f"comparison {self.comparison}")
        if self.field is not None:
            parts.append(self.field)
        prefix = ", ".join(parts)
        label = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix + ': ' if prefix else ''}{label}{self.message}"

    def to_dict(self) -> dict:
        return {
            "severity": self.severity,
            "path": self.path,
            "line": self.line,
            "study": self.study,
            "comparison": self.comparison,
            "field": self.field,
            "message": self.message,
        }


class SurvmetaError(Exception):
    """An error caused by user input; the CLI prints it and exits 2."""

    exit_code = 2


class RegistryError(SurvmetaError):
    """A registry (or effects file) failed validation; carries every problem."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        shown = errors or self.problems
        super().__init__("\n".join(p.format() for p in shown))


def check_level(level, name: str = "level") -> float:
    """``level`` as a float strictly between 0 and 1, or a :class:`SurvmetaError` naming ``name``.

    The one check of an interval level (0.95, not 95) that every engine and command uses.
    """
    value = float(level)
    if not 0.0 < value < 1.0:
        raise SurvmetaError(f"{name} must be between 0 and 1, got {level}")
    return value
