"""Calibrated extra error of the approximate reconstruction methods.

The file ``calibration.json`` next to this module is produced by the
validation script (``validation/``) from published comparisons that report
both a HR and the summaries the approximate methods use. Its schema::

    {"methods": {"<method id>": {"extra_sd": float, "n": int, "source": str,
                                 "family": str,
                                 "shrinkage": {"b": float, "se": float,
                                               "extra_sd": float, "n": int,
                                               "log_hr_range": [float, float]}}},
     "generated_by": "...", "data_sha256": "..."}

``extra_sd`` is the SD of the log-HR error a method carries beyond its
sampling SE; the selector adds it in quadrature, ``se = sqrt(se_sampling^2 +
extra_sd^2)``. A method without an entry (or no file at all) gets
``se_extra = 0`` and the flag ``"uncalibrated"``.

The extra error belongs to the point estimate, so it is estimated per
*family* of methods sharing one point estimate
(:data:`survmeta.reconstruction.methods.FAMILIES`) and written under each member
method id with the family's id in ``family`` (optional; older files have
none). ``n`` is the number of validation rows behind the family value.

``shrinkage`` (optional; only families with enough rows) describes the
multiplicative bias of the family's point estimate: in the validation set the
estimates are shrunk towards the null, ``est ~ b * reported``. It is applied
only on request (``correct_shrinkage=True`` in
:func:`survmeta.reconstruction.reconstruct`): :func:`correct_shrinkage` divides
the log HR and its sampling SE by ``b`` and replaces the extra SD by
``shrinkage.extra_sd``, the root mean square of the corrected discrepancies.
``log_hr_range`` is the range of reported log HRs ``b`` was fitted on;
``se`` is the standard error of ``b``, propagated into the extra SD of each
corrected estimate by the delta method (docs/validation.md).
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
class Shrinkage:
    """Multiplicative bias of a family's point estimate, ``est ~ b * reported``.

    Attributes
    ----------
    b : float
        Slope through the origin of the estimate on the reported log HR.
    se : float
        Its standard error.
    extra_sd : float
        Root mean square of ``est / b - reported``: the extra SD of a
        corrected estimate (on the corrected scale).
    n : int
        Validation rows behind ``b``.
    log_hr_range : tuple of float
        Smallest and largest reported log HR among those rows.
    """

    b: float
    se: float
    extra_sd: float
    n: int
    log_hr_range: tuple[float, float]


@dataclass(frozen=True)
class MethodCalibration:
    """Calibrated extra error SD of one method (and its shrinkage, if fitted)."""

    method: str
    extra_sd: float
    n: int
    source: str
    family: str | None = None
    shrinkage: Shrinkage | None = None


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
        shrink = _parse_shrinkage(entry.get("shrinkage"), f"{where}: methods.{method}.shrinkage")
        out[method] = MethodCalibration(method, extra_sd, n, str(entry.get("source", "")), family,
                                        shrink)
    return out


def _parse_shrinkage(entry, where: str) -> Shrinkage | None:
    if entry is None:
        return None
    try:
        b, se, extra = float(entry["b"]), float(entry["se"]), float(entry["extra_sd"])
        n = int(entry["n"])
        lo, hi = (float(x) for x in entry["log_hr_range"])
    except (KeyError, TypeError, ValueError):
        raise SurvmetaError(
            f"{where} needs numeric 'b', 'se', 'extra_sd', an integer 'n' and "
            "'log_hr_range' [low, high]"
        ) from None
    if not (math.isfinite(b) and b > 0):
        raise SurvmetaError(f"{where}.b must be a positive number, got {b!r}")
    if not (math.isfinite(se) and se >= 0 and math.isfinite(extra) and extra >= 0):
        raise SurvmetaError(f"{where}: 'se' and 'extra_sd' must be >= 0")
    if not lo <= hi:
        raise SurvmetaError(f"{where}.log_hr_range must be [low, high], got [{lo}, {hi}]")
    return Shrinkage(b, se, extra, n, (lo, hi))


def correct_shrinkage(log_hr: float, se_sampling: float,
                      shrinkage: Shrinkage) -> tuple[float, float, float]:
    """Undo the calibrated shrinkage of an approximate estimate.

    ``log_hr / b`` and ``se_sampling / b``, with the extra SD of corrected
    estimates: the measurement model ``est ~ N(b * theta, se^2 + s^2)``
    rearranged as ``est / b ~ N(theta, (se / b)^2 + s_c^2)``, with ``s_c``
    (``shrinkage.extra_sd``) estimated on the corrected scale. The
    uncertainty of ``b`` itself (its SE ``se_b``) enters by the delta method:
    ``Var(est / b)`` gains ``(est / b)^2 (se_b / b)^2``, so

        se_extra = sqrt(s_c^2 + (log_hr_c * se_b / b)^2),  log_hr_c = est / b.

    The term grows with the size of the corrected log HR, which is where an
    error in ``b`` matters. Within the calibrated range ``s_c`` (estimated
    leave-one-out, ``b`` refitted each time) already holds part of it, so the
    sum is slightly conservative there. The error in ``b`` is one error
    shared by every corrected estimate; adding it per estimate treats it as
    independent across studies, which understates its weight in a pooled
    estimate (docs/validation.md).

    Returns
    -------
    log_hr, se_sampling, se_extra : float
    """
    b = shrinkage.b
    corrected = log_hr / b
    return corrected, se_sampling / b, math.hypot(shrinkage.extra_sd, corrected * shrinkage.se / b)


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
