"""Reference numbers printed by the R scripts under tests/reference/.

Each script prints lines ``REF <key> <value>`` (17 significant digits, ``Inf``,
``-Inf``, ``NaN`` or ``NA`` as R prints them) beside metafor's own printout;
``tests/reference/regenerate.sh`` reruns them where R is installed. A script
may also print the data it analyses, as lines ``DATA <key> v1 v2 ...``. The tests
read the committed outputs, so they never need R.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1] / "reference"


@cache
def rref(name: str) -> dict[str, float]:
    """The ``REF`` values of ``tests/reference/<name>.Rout`` by key."""
    out = {}
    for line in (REFERENCE / f"{name}.Rout").read_text(encoding="utf-8").splitlines():
        if line.startswith("REF "):
            _, key, value = line.split()
            out[key] = math.nan if value in ("NA", "NaN") else float(value)
    return out


@cache
def rdata(name: str) -> dict[str, tuple[float, ...]]:
    """The ``DATA`` vectors of ``tests/reference/<name>.Rout`` by key."""
    out = {}
    for line in (REFERENCE / f"{name}.Rout").read_text(encoding="utf-8").splitlines():
        if line.startswith("DATA "):
            _, key, *values = line.split()
            out[key] = tuple(float(v) for v in values)
    return out
