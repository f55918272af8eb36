"""Where a value sits in the input, and how a problem about it is reported.

A :class:`Where` names one table of the input (its document location, dotted
field prefix, study and comparison ids) and turns a message about one of its
keys into a :class:`~survmeta.errors.Problem` with the right line, appended
to a shared list so every problem is collected, never raised one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, overload

from survmeta.errors import Problem
from survmeta.registry.lines import LineIndex

__all__ = ["Where"]


@dataclass(frozen=True)
class Where:
    """A table of the input and the problem sink for it.

    Attributes
    ----------
    problems : list of Problem
        Shared, append-only list every problem goes to.
    index : LineIndex
        Line numbers of the document.
    path : str or None
        The file, as the user named it.
    loc : tuple
        Document location of this table, e.g. ``("study", 0, "comparison", 1)``.
    prefix : str
        Dotted field name of this table within its record (``"hr"``,
        ``"experimental"``), empty for a record itself.
    study, comparison : str or None
        Ids of the enclosing study and comparison, once known.
    """

    problems: list[Problem] = field(compare=False)
    index: LineIndex = field(compare=False)
    path: str | None = None
    loc: tuple = ()
    prefix: str = ""
    study: str | None = None
    comparison: str | None = None

    def at(self, key: str) -> "Where":
        """The sub-table under ``key`` (``experimental``, ``hr``, ...)."""
        return replace(self, loc=self.loc + (key,), prefix=f"{self.prefix}.{key}" if self.prefix else key)

    def ids(self, study: str | None = None, comparison: str | None = None) -> "Where":
        """The same table, naming the given study / comparison ids."""
        return replace(
            self,
            study=study if study is not None else self.study,
            comparison=comparison if comparison is not None else self.comparison,
        )

    @overload
    def field(self, key: str) -> str: ...
    @overload
    def field(self, key: None) -> str | None: ...

    def field(self, key: str | None) -> str | None:
        """Dotted field name of ``key`` in this table (``"hr.ci"``)."""
        if key is None:
            return self.prefix or None
        return f"{self.prefix}.{key}" if self.prefix else key

    def line(self, key: str | None = None) -> int | None:
        """Line of ``key`` (or of this table), falling back to the enclosing table."""
        loc = self.loc if key is None else self.loc + (key,)
        return self.index.line(loc)

    def error(self, key: str | None, message: str) -> None:
        """Record an error about ``key`` of this table (None: the table itself)."""
        self._add(key, message, "error")

    def warn(self, key: str | None, message: str) -> None:
        """Record a warning about ``key`` of this table."""
        self._add(key, message, "warning")

    def _add(self, key: str | None, message: str, severity: Literal["error", "warning"]) -> None:
        self.problems.append(
            Problem(
                message=message,
                path=self.path,
                line=self.line(key),
                study=self.study,
                comparison=self.comparison,
                field=self.field(key),
                severity=severity,
            )
        )
