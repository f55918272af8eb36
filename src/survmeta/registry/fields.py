"""Typed readers for the keys of one table.

Each reader takes a :class:`~survmeta.registry.context.Where`, the table (a
dict from :mod:`tomllib`) and a key. It returns the converted value, or None
when the key is absent or its value is wrong; in the latter case it has
recorded a problem naming the key. Missing *required* keys are reported once,
by :func:`check_keys`, so readers stay silent about absence.
"""

from __future__ import annotations

import json
import math
from typing import Iterable, Sequence

from survmeta.registry.context import Where
from survmeta.registry.pvalues import PValueError, parse_p
from survmeta.registry.records import NR, PValue
from survmeta.registry.schema import ID_RULE, NR_TEXT, did_you_mean, is_valid_id

__all__ = [
    "check_keys",
    "describe",
    "shown",
    "MAX_INTEGER",
    "read_str",
    "read_id",
    "read_int",
    "read_number",
    "read_bool",
    "read_choice",
    "read_str_list",
    "read_table",
    "read_bound",
    "read_ci",
    "read_level",
    "read_sided",
    "read_p",
]

_TYPE_NAMES = {str: "string", bool: "boolean", int: "integer", float: "number",
               list: "array", dict: "table"}


#: Largest magnitude an integer may have anywhere in a registry: far above any count or
#: year, and small enough to convert to a float exactly enough.
MAX_INTEGER = 10**15


def shown(value) -> str:
    """A value as a message shows it: long integers and strings are cut to their ends.

    A 400-digit integer is shown as ``"99999...99999 (400 digits)"``.
    """
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_INTEGER:
        digits = str(abs(value))
        sign = "-" if value < 0 else ""
        return f"{sign}{digits[:5]}...{digits[-5:]} ({len(digits)} digits)"
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else f"{text[:60]}...{text[-12:]}"


def describe(value) -> str:
    """Short description of a value for messages: ``string "abc"``, ``integer 3``."""
    kind = _TYPE_NAMES.get(type(value), type(value).__name__)
    if isinstance(value, (dict, list)):
        return kind
    return f"{kind} {shown(value)}"


def check_keys(where: Where, table: dict, required: Sequence[str], optional: Sequence[str]) -> None:
    """Report missing required keys and unknown keys (with the closest known one).

    Parameters
    ----------
    where : Where
        The table being read.
    table : dict
        Its parsed content.
    required, optional : sequence of str
        The keys the format defines for this table.
    """
    known = tuple(required) + tuple(optional)
    for key in table:
        if key not in known:
            where.error(key, f'unknown key "{key}"{did_you_mean(key, known)}')
    for key in required:
        if key not in table:
            where.error(key, "missing required field")


def read_str(where: Where, table: dict, key: str, *, allow_empty: bool = False) -> str | None:
    """A string value; empty strings are refused unless ``allow_empty``."""
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, str):
        where.error(key, f"must be a string, got {describe(value)}")
        return None
    if not allow_empty and not value.strip():
        where.error(key, "must not be empty")
        return None
    return value


def read_id(where: Where, table: dict, key: str = "id") -> str | None:
    """An identifier: letters, digits, ``_``, ``-`` and ``.``, starting with a letter or digit."""
    value = read_str(where, table, key)
    if value is None:
        return None
    if not is_valid_id(value):
        where.error(key, f'"{value}" is not a valid id: {ID_RULE}')
        return None
    return value


def read_int(where: Where, table: dict, key: str, *, minimum: int | None = None) -> int | None:
    """An integer (booleans refused), optionally at least ``minimum``."""
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int):
        where.error(key, f"must be an integer, got {describe(value)}")
        return None
    if abs(value) >= MAX_INTEGER:
        where.error(key, f"{shown(value)} is too large for any count or year "
                         f"(at most {MAX_INTEGER:.0e})")
        return None
    if minimum is not None and value < minimum:
        where.error(key, _below_message(value, minimum, integer=True))
        return None
    return value


def _below_message(value, minimum, integer: bool = False) -> str:
    if minimum == 1 and integer:
        return f"must be positive, got {value}"
    return f"must be at least {minimum}, got {value}"


def _as_number(value) -> float | None:
    """``value`` as a float; None for a non-number; ``inf`` for an integer too large for a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer of hundreds of digits
        return math.inf if value > 0 else -math.inf


def read_number(where: Where, table: dict, key: str, *, positive: bool = False,
                nonnegative: bool = False) -> float | None:
    """A finite number (integer or float; booleans refused)."""
    if key not in table:
        return None
    value = _as_number(table[key])
    if value is None:
        where.error(key, f"must be a number, got {describe(table[key])}")
        return None
    if not math.isfinite(value):
        where.error(key, f"must be finite, got {shown(table[key])}")
        return None
    if positive and value <= 0:
        where.error(key, f"must be positive, got {shown(table[key])}")
        return None
    if nonnegative and value < 0:
        where.error(key, f"must not be negative, got {shown(table[key])}")
        return None
    return value


def read_bool(where: Where, table: dict, key: str) -> bool | None:
    """A boolean (``true``/``false``)."""
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, bool):
        where.error(key, f"must be true or false, got {describe(value)}")
        return None
    return value


def read_choice(where: Where, table: dict, key: str, choices: Iterable[str]) -> str | None:
    """A string from a fixed vocabulary, suggesting the closest on a miss."""
    value = read_str(where, table, key)
    if value is None:
        return None
    choices = tuple(choices)
    if value not in choices:
        listed = ", ".join(f'"{c}"' for c in choices)
        where.error(key, f'"{value}" is not one of {listed}{did_you_mean(value, choices)}')
        return None
    return value


def read_str_list(where: Where, table: dict, key: str) -> tuple[str, ...] | None:
    """An array of non-empty strings."""
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, list):
        where.error(key, f"must be an array of strings, got {describe(value)}")
        return None
    bad = [i for i, item in enumerate(value) if not isinstance(item, str) or not item.strip()]
    if bad:
        where.error(key, f"element {bad[0] + 1} must be a non-empty string, got {describe(value[bad[0]])}")
        return None
    return tuple(value)


def read_table(where: Where, table: dict, key: str) -> dict | None:
    """A sub-table (inline ``{...}`` or a ``[a.b]`` section)."""
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, dict):
        where.error(key, f"must be a table, e.g. {key} = {{ ... }}, got {describe(value)}")
        return None
    return value


def read_bound(where: Where, key: str, value, *, allow_nr: bool, what: str = ""):
    """One number that must be positive, or ``"NR"`` where allowed.

    Parameters
    ----------
    where : Where
        The table the value belongs to.
    key : str
        Field name for messages (``ci``, ``median``, ``estimate``).
    value
        The raw value.
    allow_nr : bool
        Whether "not reached" can stand here.
    what : str, optional
        What the value is, for messages ("the lower bound"); empty when the
        field name says it all.

    Returns
    -------
    float or NR or None
        None when the value is wrong (a problem has been recorded).
    """
    subject = f"{what} " if what else ""
    if isinstance(value, str):
        if value.strip().upper() == NR_TEXT:
            if allow_nr:
                return NR
            where.error(key, f'{subject}cannot be "NR" (not reached)')
            return None
        expected = 'a number or "NR"' if allow_nr else "a number"
        where.error(key, f"{subject}must be {expected}, got {describe(value)}")
        return None
    number = _as_number(value)
    if number is None:
        where.error(key, f"{subject}must be a number, got {describe(value)}")
        return None
    if not math.isfinite(number):
        where.error(key, f"{subject}must be a finite number, got {shown(value)}")
        return None
    if number <= 0:
        where.error(key, f"{subject}must be positive, got {shown(value)}")
        return None
    return number


def read_ci(where: Where, table: dict, key: str = "ci"):
    """A two-element CI ``[lower, upper]``; the upper bound may be ``"NR"``.

    Returns
    -------
    tuple or None
        ``(lower, upper)`` with floats or :data:`NR`; None when absent or wrong.
    """
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, list) or len(value) != 2:
        where.error(key, f"must be an array of two bounds [lower, upper], got {_short(value)}")
        return None
    lower = read_bound(where, key, value[0], allow_nr=False, what="the lower bound")
    upper = read_bound(where, key, value[1], allow_nr=True, what="the upper bound")
    if lower is None or upper is None:
        return None
    return (lower, upper)


def _short(value) -> str:
    if isinstance(value, list):
        return f"an array of {len(value)}"
    return describe(value)


def read_level(where: Where, table: dict, key: str = "level") -> float | None:
    """A confidence level strictly between 0 and 1 (0.95, not 95)."""
    value = read_number(where, table, key)
    if value is None:
        return None
    if not 0 < value < 1:
        hint = f" (write {value / 100:g} for {value:g}%)" if 1 < value < 100 else ""
        where.error(key, f"must be between 0 and 1, got {shown(table[key])}{hint}")
        return None
    return value


def read_sided(where: Where, table: dict, key: str = "sided") -> int | None:
    """Sidedness of a test: 1 or 2."""
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, bool) or value not in (1, 2) or not isinstance(value, int):
        where.error(key, f"must be 1 or 2, got {describe(value)}")
        return None
    return value


def read_p(where: Where, table: dict, key: str = "p", sided: int | None = None) -> PValue | None:
    """A p-value as printed (see :mod:`survmeta.registry.pvalues`)."""
    if key not in table:
        return None
    try:
        return parse_p(table[key], sided=sided or 2)
    except PValueError as exc:
        where.error(key, str(exc))
        return None
