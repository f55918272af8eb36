"""Line numbers for the tables and keys of a TOML document.

:mod:`tomllib` returns plain dictionaries without positions, so this module
scans the text once and records the line on which each table header and each
key appears. A location is a tuple path as it would be used to index the
parsed document, with array-of-tables entries counted in file order::

    ("study", 0, "comparison", 2)            # the third [[study.comparison]]
    ("study", 0, "comparison", 2, "hr")      # its ``hr = {...}`` key
    ("study", 0, "comparison", 2, "hr", "ci")  # -> line of ``hr`` (inline)

Keys inside inline tables, and the elements of (possibly multi-line) arrays,
have no line of their own: :meth:`LineIndex.line` falls back to the line of
the closest enclosing location that has one.

The scanner understands comments, basic and literal strings (single- and
multi-line), dotted and quoted keys, and arrays or inline tables that span
several lines. It does not validate TOML: it runs only on text that
:mod:`tomllib` has already accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["LineIndex", "index_lines"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class LineIndex:
    """Map from document locations (tuples of keys and indices) to lines.

    Attributes
    ----------
    lines : dict
        ``location -> 1-based line number`` for every header and key seen.
    """

    lines: dict[tuple, int] = field(default_factory=dict)

    def line(self, location: tuple) -> int | None:
        """Line of ``location`` or of its closest recorded ancestor.

        Parameters
        ----------
        location : tuple
            Keys (str) and array indices (int), outermost first.

        Returns
        -------
        int or None
            1-based line number; None if neither the location nor any
            ancestor was recorded (e.g. an empty document).
        """
        loc = tuple(location)
        while loc not in self.lines:
            if not loc:
                return None
            loc = loc[:-1]
        return self.lines[loc]

    def exact(self, location: tuple) -> int | None:
        """Line of ``location`` itself, without falling back to an ancestor."""
        return self.lines.get(tuple(location))

    def record(self, location: tuple, line: int) -> None:
        """Remember the first line seen for ``location``."""
        self.lines.setdefault(tuple(location), line)


@dataclass
class _ScanState:
    """Lexical state carried from one line to the next."""

    string: str | None = None  # open multi-line string delimiter: '\"\"\"' or "'''"
    depth: int = 0  # open [ and { of a value

    @property
    def neutral(self) -> bool:
        return self.string is None and self.depth == 0


def _scan_value(text: str, state: _ScanState) -> None:
    """Advance ``state`` over ``text`` (part of one line), in place.

    Tracks open multi-line strings and bracket depth; single-line strings
    and comments are skipped so brackets inside them do not count.
    """
    i, n = 0, len(text)
    while i < n:
        if state.string is not None:
            end = _find_string_end(text, i, state.string)
            if end < 0:
                return
            i, state.string = end, None
            continue
        ch = text[i]
        if ch == "#":
            return
        if text.startswith('"""', i) or text.startswith("'''", i):
            state.string = text[i : i + 3]
            i += 3
        elif ch in "\"'":
            end = _find_string_end(text, i + 1, ch)
            i = n if end < 0 else end
        elif ch in "[{":
            state.depth += 1
            i += 1
        elif ch in "]}":
            state.depth = max(0, state.depth - 1)
            i += 1
        else:
            i += 1


def _find_string_end(text: str, start: int, delim: str) -> int:
    """Index just past the closing ``delim`` at or after ``start``, or -1."""
    escapes = delim.startswith('"')
    i = start
    while i < len(text):
        if escapes and text[i] == "\\":
            i += 2
            continue
        if text.startswith(delim, i):
            end = i + len(delim)
            # a multi-line string may end with up to two extra quotes
            while len(delim) == 3 and end < len(text) and text[end] == delim[0] and end - i < 5:
                end += 1
            return end
        i += 1
    return -1


def _split_key(text: str) -> tuple[list[str], str] | None:
    """Split a dotted key at the start of ``text``.

    Returns
    -------
    (parts, rest) or None
        The key parts (quotes removed) and the text after the key; None if
        ``text`` does not start with a key.
    """
    parts: list[str] = []
    i = 0
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] in "\"'":
            end = _find_string_end(text, i + 1, text[i])
            if end < 0:
                return None
            parts.append(_unquote(text[i:end]))
            i = end
        else:
            m = _BARE_KEY.match(text, i)
            if not m:
                return None
            parts.append(m.group(0))
            i = m.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == ".":
            i += 1
            continue
        return parts, text[i:]


def _unquote(token: str) -> str:
    """Strip the quotes of a quoted key (escapes are rare in keys; kept literal)."""
    return token[1:-1]


class _Scanner:
    """Walks the lines of a document and fills a :class:`LineIndex`."""

    def __init__(self) -> None:
        self.index = LineIndex()
        self.state = _ScanState()
        self.table: tuple = ()
        self.aot_counts: dict[tuple, int] = {}

    def feed(self, lineno: int, raw: str) -> None:
        if not self.state.neutral:
            _scan_value(raw, self.state)
            return
        stripped = raw.lstrip()
        if stripped.startswith("["):
            self._header(lineno, stripped)
        elif stripped and not stripped.startswith("#"):
            self._key_value(lineno, stripped)

    def _resolve(self, parts: list[str]) -> tuple:
        """Location of a dotted table name, entering the latest array entries."""
        loc: tuple = ()
        for name in parts:
            loc = loc + (name,)
            if loc in self.aot_counts:
                loc = loc + (self.aot_counts[loc] - 1,)
        return loc

    def _header(self, lineno: int, text: str) -> None:
        is_array = text.startswith("[[")
        split = _split_key(text[2:] if is_array else text[1:])
        if split is None:
            return
        parts, _ = split
        parent = self._resolve(parts[:-1])
        loc = parent + (parts[-1],)
        if is_array:
            count = self.aot_counts.get(loc, 0) + 1
            self.aot_counts[loc] = count
            self.index.record(loc, lineno)  # first [[x]] line for the array itself
            loc = loc + (count - 1,)
        self.index.record(loc, lineno)
        self.table = loc

    def _key_value(self, lineno: int, text: str) -> None:
        split = _split_key(text)
        if split is None:
            return
        parts, rest = split
        if not rest.startswith("="):
            return
        self.index.record(self.table + tuple(parts), lineno)
        _scan_value(rest[1:], self.state)


def index_lines(text: str) -> LineIndex:
    """Build the :class:`LineIndex` of a TOML document.

    Parameters
    ----------
    text : str
        The document, already accepted by :func:`tomllib.loads`.

    Returns
    -------
    LineIndex
    """
    scanner = _Scanner()
    scanner.index.record((), 1)  # the document itself: problems about top-level keys
    for lineno, raw in enumerate(text.splitlines(), start=1):
        scanner.feed(lineno, raw)
    return scanner.index
