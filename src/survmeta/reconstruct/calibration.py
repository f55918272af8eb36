"""Calibrated extra error of the approximate reconstruction methods.

The file ``calibration.json`` next to this module is produced by the
validation script (``validation/``) from published comparisons that report
both a HR and the summaries the approximate methods use. Its schema::

    {"methods": {"<method id>": {"extra_sd": float, "n": int, "source": str,
                                 "family": str}},
     "generated_by": "...", "data_sha256": "..."}

``extra_sd`` is the SD of the log-HR error a method carries beyond its
sampling SE; the selector adds it in quadrature, ``se = sqrt(se_sampling^2 +
extra_sd^2)``. A method without an entry (or no file at all) gets
``se_extra = 0`` and the flag ``"uncalibrated"``.

The extra error belongs to the point estimate, so it is estimated per
*family* of methods sharing one point estimate
(:data:`survmeta.reconstruct.methods.FAMILIES`) and written under each member
method id with the family's id in ``family`` (optional; older files have
none). ``n`` is the number of validation rows behind the family value.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from survmeta.errors import SurvmetaError

#: The bundled calibration file.
CALIBRATION_PATH = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class MethodCalibration:
    """Calibrated extra error SD of one method."""

    method: str
    extra_sd: float
    n: int
    source: str
    family: str | None = None


def parse_calibration(data, where: str = "calibration") -> dict[str, MethodCalibration]:
    """Calibration entries from the parsed JSON object (the schema above).

    :func:`load_calibration` uses it on the file; the validation script uses
    it on what it is about to write, so both see exactly what the selector
    applies.
    """
    return _parse(data, where)


def _parse(data, where: str) -> dict[str, MethodCalibration]:
    if not isinstance(data, dict) or not isinstance(data.get("methods"), dict):
        raise SurvmetaError(f"{where}: expected an object with a 'methods' object")
    out: dict[str, MethodCalibration] = {}
    for method, entry in data["methods"].items():
        if not isinstance(entry, dict):
            raise SurvmetaError(f"{where}: methods.{method} must be an object")
        try:
            extra_sd = float(entry["extra_sd"])
            n = int(entry.get("n", 0))
        except (KeyError, TypeError, ValueError):
            raise SurvmetaError(
                f"{where}: methods.{method} needs a numeric 'extra_sd' (and an integer 'n')"
            ) from None
        if not math.isfinite(extra_sd) or extra_sd < 0:
            raise SurvmetaError(f"{where}: methods.{method}.extra_sd must be >= 0, got {extra_sd!r}")
        family = entry.get("family")
        if family is not None and not isinstance(family, str):
            raise SurvmetaError(f"{where}: methods.{method}.family must be a string")
        out[method] = MethodCalibration(method, extra_sd, n, str(entry.get("source", "")), family)
    return out


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> dict[str, MethodCalibration]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SurvmetaError(f"{path}: cannot read calibration file: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SurvmetaError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    return _parse(data, path)


def load_calibration(path: str | Path | None = None) -> dict[str, MethodCalibration]:
    """Calibration entries by method id; empty when the file does not exist.

    Parameters
    ----------
    path : str or Path, optional
        Defaults to the bundled :data:`CALIBRATION_PATH`.

    Raises
    ------
    SurvmetaError
        When the file exists but is not valid JSON of the documented schema.
    """
    p = Path(path) if path is not None else CALIBRATION_PATH
    if not p.exists():
        return {}
    return _load_cached(str(p), p.stat().st_mtime)


def extra_sd(method: str, calibration: dict[str, MethodCalibration] | None = None) -> float | None:
    """The calibrated extra SD of ``method``, or None when uncalibrated."""
    cal = load_calibration() if calibration is None else calibration
    entry = cal.get(method)
    return None if entry is None else entry.extra_sd
