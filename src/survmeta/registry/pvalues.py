"""Parsing of p-values as papers print them.

Accepted forms (spaces anywhere are ignored, a leading ``p``/``P`` with or
without ``=`` is allowed because it is often copied along):

* a number: ``0.04``, ``.003``, ``1e-5`` (also given as a TOML number);
* an inequality: ``<0.001``, ``< 0.0001``, ``<=0.05``, ``≤0.05``, ``>0.05``,
  ``≥ 0.1``; ``<=`` and ``≥`` are read as ``<`` and ``>`` (a bound);
* "not significant" with no number: ``NS``, ``n.s.``, ``ns``.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from survmeta.registry.records import PValue

__all__ = ["parse_p", "PValueError"]

_RELATIONS: dict[str, Literal["<", "=", ">"]] = {"<": "<", "<=": "<", "≤": "<", "=": "=", ">": ">", ">=": ">", "≥": ">", "": "="}
_P_TEXT = re.compile(r"^(?:p\s*)?(<=|>=|<|>|≤|≥|=)?\s*((?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)$", re.I)
_NS = {"ns", "n.s.", "n.s", "not significant"}


class PValueError(ValueError):
    """A p-value that cannot be read or is outside (0, 1]."""


def parse_p(value, sided: int = 2) -> PValue:
    """Read a printed p-value.

    Parameters
    ----------
    value : str or float or int
        As written in the registry.
    sided : {1, 2}
        Sidedness of the test the p-value comes from.

    Returns
    -------
    PValue

    Raises
    ------
    PValueError
        When the text is not a p-value or its number is outside (0, 1].
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise PValueError("must be a string as printed (\"0.04\", \"<0.001\", \"NS\") or a number")
    if isinstance(value, str):
        return _parse_text(value, sided)
    if isinstance(value, int) and not 0 <= value <= 1:
        raise PValueError(f"p = {value if abs(value) < 10**15 else 'a huge integer'} is outside (0, 1]")
    return _checked(PValue(text=repr(value) if isinstance(value, float) else str(value),
                           value=float(value), relation="=", sided=sided))


def _parse_text(text: str, sided: int) -> PValue:
    cleaned = text.strip()
    if cleaned.lower() in _NS:
        return PValue(text=text, value=None, relation="NS", sided=sided)
    m = _P_TEXT.match(cleaned.replace(" ", ""))
    if not m:
        raise PValueError(
            f'cannot read p-value "{text}": write it as printed, e.g. "0.04", "<0.001", ">0.05" or "NS"'
        )
    relation = _RELATIONS[m.group(1) or ""]
    return _checked(PValue(text=text, value=float(m.group(2)), relation=relation, sided=sided))


def _checked(p: PValue) -> PValue:
    v = p.value
    if v is None or not math.isfinite(v) or v <= 0 or v > 1:
        raise PValueError(f"p = {p.text} is outside (0, 1]")
    if p.relation == ">" and v >= 1:
        raise PValueError(f"p {p.text} cannot hold: a p-value is at most 1")
    return p
