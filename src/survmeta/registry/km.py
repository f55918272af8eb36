"""Digitised Kaplan-Meier curves: the ``km`` block of an arm.

An arm may carry the Kaplan-Meier curve the paper prints, as digitised by the
reviewer, so that approximate patient data can be reconstructed from it
(:mod:`survmeta.reconstruction.km`)::

    [study.comparison.experimental.km]
    points = [[0, 1.0], [1.2, 0.96], [2.5, 0.90]]   # or: csv = "curves/arm_a.csv"
    scale = "proportion"                            # or "percent"
    at_risk = { times = [0, 6, 12], n = [120, 84, 51] }
    total_events = 71
    location = "Figure 2B"
    digitiser = "WebPlotDigitizer 4.6"

A CSV path is read relative to the registry file. Two layouts are read: a
plain ``time,survival`` file with a header row, and WebPlotDigitizer's CSV
export (two numeric columns, no header, or its one-dataset export whose first
two rows are the dataset name and ``X,Y``).

Cleaning of digitisation jitter
-------------------------------
A digitiser places points by hand, so a few land slightly out of order, a
little above 1 or a little above the point before. Points are sorted by time;
a point whose time is below an earlier one by more than :data:`TIME_JITTER`
of the time axis (the largest time) is an error ("times out of order"),
within it the points are swapped. A survival above 1 by at most
:data:`SURVIVAL_JITTER` is set to 1, further above is an error. A survival
above the lowest survival before it by at most :data:`SURVIVAL_JITTER` is
set to that lowest value (the curve never rises); a larger rise is an error.
Whatever was cleaned is said in one warning per arm: how many points and the
largest change.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from survmeta.registry.context import Where
from survmeta.registry.fields import check_keys, describe, read_choice, read_int, read_str, read_table

__all__ = [
    "KM_REQUIRED",
    "KM_OPTIONAL",
    "KM_SCALES",
    "TIME_JITTER",
    "SURVIVAL_JITTER",
    "MIN_POINTS",
    "AtRisk",
    "KMCurve",
    "build_km",
    "check_km_arm",
    "clean_points",
    "parse_points_csv",
]

KM_REQUIRED: tuple[str, ...] = ()
KM_OPTIONAL = ("points", "csv", "scale", "at_risk", "total_events", "location", "digitiser")
KM_SCALES = ("proportion", "percent")
AT_RISK_REQUIRED = ("times", "n")

#: Largest backwards step in time, as a share of the largest time, cleaned as digitiser jitter.
TIME_JITTER = 0.01
#: Largest rise of survival (on the proportion scale) cleaned as digitiser jitter.
SURVIVAL_JITTER = 0.02
#: Share of cleaned points above which the warning says the cleaning was heavy.
HEAVY_CLEANING = 0.2
#: Fewest digitised points a curve may have.
MIN_POINTS = 3


@dataclass(frozen=True)
class AtRisk:
    """A numbers-at-risk table as printed below a Kaplan-Meier figure.

    Attributes
    ----------
    times : tuple of float
        Times of the table's columns, increasing, the first 0.
    n : tuple of int
        Patients at risk at each time, non-increasing.
    """

    times: tuple[float, ...]
    n: tuple[int, ...]


@dataclass(frozen=True)
class KMCurve:
    """A digitised Kaplan-Meier curve of one arm, validated and cleaned.

    Attributes
    ----------
    times, survival : tuple of float
        The cleaned points, sorted by time, survival on the proportion scale,
        non-increasing, within [0, 1].
    raw_times, raw_survival : tuple of float
        The points as digitised, in the order given, survival converted to
        the proportion scale (for figures).
    scale : {"proportion", "percent"}
        The scale the points were given on.
    at_risk : AtRisk or None
        The numbers-at-risk table, when printed.
    total_events : int or None
        Events in this arm over the whole curve, when printed.
    location, digitiser : str or None
        Where the figure stands in the paper; the digitiser used.
    source : str or None
        The CSV file as written in the registry (None for inline points).
    cleaned : int
        Points changed by the jitter cleaning; ``largest_change`` the
        largest change of survival (proportion scale) or, for a swap in
        time, zero.
    """

    times: tuple[float, ...]
    survival: tuple[float, ...]
    raw_times: tuple[float, ...]
    raw_survival: tuple[float, ...]
    scale: str = "proportion"
    at_risk: AtRisk | None = None
    total_events: int | None = None
    location: str | None = None
    digitiser: str | None = None
    source: str | None = None
    cleaned: int = 0
    largest_change: float = 0.0


class _PointsError(Exception):
    """A problem with the digitised points; ``line`` is the CSV line when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message, self.line = message, line


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_points_csv(text: str) -> list[tuple[float, float, int]]:
    """Read the points of a digitised curve from CSV text.

    Parameters
    ----------
    text : str
        A plain ``time,survival`` CSV with a header row, or a WebPlotDigitizer
        export: two numeric columns without a header, optionally after the
        two header rows of its dataset export (dataset name, then ``X,Y``).
        Blank lines and lines starting with ``#`` are skipped.

    Returns
    -------
    list of (time, survival, line)
        In file order, survival on the file's own scale.

    Raises
    ------
    _PointsError
        With the CSV line of the first row that cannot be read.
    """
    points: list[tuple[float, float, int]] = []
    rows = list(csv.reader(io.StringIO(text)))
    header_rows = 0
    for lineno, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        while cells and cells[-1] == "":
            cells.pop()
        if not cells or cells[0].startswith("#"):
            continue
        numeric = [_number(c) is not None for c in cells]
        if not points and header_rows < 2 and not any(numeric):
            # a header row: "time,survival", or WebPlotDigitizer's "Dataset 1," then "X,Y"
            header_rows += 1
            continue
        if len(cells) != 2:
            raise _PointsError(f"expected two columns (time, survival), got {len(cells)}", lineno)
        t, s = _number(cells[0]), _number(cells[1])
        if t is None or s is None:
            bad = cells[0] if t is None else cells[1]
            raise _PointsError(f'"{bad}" is not a number', lineno)
        points.append((t, s, lineno))
    if not points:
        raise _PointsError("no data rows")
    return points


def clean_points(points: list[tuple[float, float, int | None]], scale: str):
    """Validate digitised points and clean the jitter of digitisation.

    Parameters
    ----------
    points : list of (time, survival, line)
        As given; ``line`` is the CSV line (None for inline points).
    scale : {"proportion", "percent"}

    Returns
    -------
    (times, survival, raw_times, raw_survival, cleaned, largest_change)
        See :class:`KMCurve`.

    Raises
    ------
    _PointsError
        For a negative time, a survival outside the scale, times out of
        order or a rise beyond the jitter (module docstring).
    """
    top = 100.0 if scale == "percent" else 1.0
    raw = []
    for t, s, line in points:
        if t < 0:
            raise _PointsError(f"time {t:g} is negative", line)
        if s < 0:
            raise _PointsError(f"survival {s:g} is negative", line)
        if s > top * (1 + SURVIVAL_JITTER):
            hint = (' (the points look like percentages: write scale = "percent")'
                    if scale == "proportion" and s <= 100 * (1 + SURVIVAL_JITTER) else "")
            raise _PointsError(f"survival {s:g} is above {top:g}{hint}", line)
        raw.append((t, s / top, line))
    if len(raw) < MIN_POINTS:
        raise _PointsError(f"{len(raw)} points: a curve needs at least {MIN_POINTS}")
    span = max(t for t, _, _ in raw)
    if span <= 0:
        raise _PointsError("every point is at time 0")
    cleaned = 0
    largest = 0.0
    latest, latest_line = -math.inf, None
    for t, _, line in raw:
        if t < latest - TIME_JITTER * span:
            at = f" (line {latest_line})" if latest_line is not None else ""
            raise _PointsError(f"times out of order: {t:g} comes after {latest:g}{at}, further "
                               f"back than digitiser jitter ({TIME_JITTER:.0%} of the time axis)",
                               line)
        if t < latest:
            cleaned += 1
        else:
            latest, latest_line = t, line
    order = sorted(raw, key=lambda p: p[0])  # stable: ties keep the given order
    times, survival = [], []
    lowest = 1.0
    for t, s, line in order:
        if s > lowest + SURVIVAL_JITTER:
            raise _PointsError(f"the curve rises from {lowest:.4g} to {s:.4g} at time {t:g}, more "
                               f"than digitiser jitter ({SURVIVAL_JITTER:g}): a Kaplan-Meier "
                               "curve never rises", line)
        if s > lowest:
            cleaned += 1
            largest = max(largest, s - lowest)
            s = lowest
        lowest = s
        times.append(float(t))
        survival.append(float(s))
    return (tuple(times), tuple(survival), tuple(float(t) for t, _, _ in raw),
            tuple(float(s) for _, s, _ in raw), cleaned, largest)


def _out_of_order(times) -> int:
    """Points whose time is below an earlier point's."""
    latest, count = -math.inf, 0
    for t in times:
        if t < latest:
            count += 1
        latest = max(latest, t)
    return count


def _read_inline_points(where: Where, value) -> list | None:
    if not isinstance(value, list) or not value:
        where.error("points", f"must be an array of [time, survival] pairs, got {describe(value)}")
        return None
    out = []
    for i, item in enumerate(value, start=1):
        ok = (isinstance(item, list) and len(item) == 2
              and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in item))
        if not ok or not all(math.isfinite(float(x)) for x in item):
            where.error("points", f"point {i} must be [time, survival] (two numbers), got "
                                  f"{describe(item) if not isinstance(item, list) else item!r}")
            return None
        out.append((float(item[0]), float(item[1]), None))
    return out


def _read_csv_points(where: Where, name: str) -> list | None:
    base = Path(where.path).parent if where.path else Path.cwd()
    path = base / name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        where.error("csv", f'no such file "{name}" (read relative to the registry: {path})')
        return None
    except (IsADirectoryError, UnicodeDecodeError, OSError) as exc:
        what = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else (
            "is a directory" if isinstance(exc, IsADirectoryError) else str(exc))
        where.error("csv", f'cannot read "{name}": {what}')
        return None
    try:
        return parse_points_csv(text)
    except _PointsError as exc:
        at = f" line {exc.line}" if exc.line is not None else ""
        where.error("csv", f"{name}{at}: {exc.message}")
        return None


def _read_at_risk(where: Where, t: dict) -> AtRisk | None:
    table = read_table(where, t, "at_risk")
    if table is None:
        return None
    w = where.at("at_risk")
    check_keys(w, table, AT_RISK_REQUIRED, ())
    times, n = table.get("times"), table.get("n")
    if times is None or n is None:
        return None
    if not isinstance(times, list) or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(float(x))
            for x in times) or not times:
        w.error("times", f"must be an array of numbers, got {describe(times)}")
        return None
    if not isinstance(n, list) or not all(isinstance(x, int) and not isinstance(x, bool)
                                          for x in n) or not n:
        w.error("n", f"must be an array of integers (patients at risk), got {describe(n)}")
        return None
    if len(times) != len(n):
        w.error("n", f"{len(n)} counts for {len(times)} times")
        return None
    times = [float(x) for x in times]
    if times[0] != 0:
        w.error("times", f"the table must start at time 0 (the patients randomised), got {times[0]:g}")
        return None
    for i in range(1, len(times)):
        if not times[i] > times[i - 1]:
            w.error("times", f"times must increase: {times[i]:g} after {times[i - 1]:g}")
            return None
    for i, k in enumerate(n):
        if k < 0:
            w.error("n", f"at-risk counts cannot be negative, got {k}")
            return None
        if i and k > n[i - 1]:
            w.error("n", f"at-risk counts cannot grow: {k} at time {times[i]:g} after "
                         f"{n[i - 1]} at time {times[i - 1]:g}")
            return None
    if n[0] == 0:
        w.error("n", "no patient at risk at time 0")
        return None
    return AtRisk(times=tuple(times), n=tuple(n))


def build_km(where: Where, t: dict) -> KMCurve | None:
    """Read one arm's ``km`` table (``where`` is the ``km`` table).

    Returns
    -------
    KMCurve or None
        None when the block has an error (recorded through ``where``).
    """
    check_keys(where, t, KM_REQUIRED, KM_OPTIONAL)
    scale = read_choice(where, t, "scale", KM_SCALES)
    if scale is None and "scale" in t:
        return None  # the points cannot be read without their scale
    scale = scale or "proportion"
    at_risk = _read_at_risk(where, t)
    total_events = read_int(where, t, "total_events", minimum=0)
    location = read_str(where, t, "location")
    digitiser = read_str(where, t, "digitiser")
    source = None
    if ("points" in t) == ("csv" in t):
        where.error(None, "give the digitised curve as points = [[time, survival], ...] or as "
                          "csv = \"file.csv\", exactly one of them")
        return None
    if "points" in t:
        key, points = "points", _read_inline_points(where, t["points"])
    else:
        source = read_str(where, t, "csv")
        key, points = "csv", None if source is None else _read_csv_points(where, source)
    if points is None:
        return None
    try:
        times, surv, raw_t, raw_s, cleaned, largest = clean_points(points, scale)
    except _PointsError as exc:
        at = f"{source} line {exc.line}: " if exc.line is not None and source else ""
        where.error(key, at + exc.message)
        return None
    if cleaned:
        swapped = _out_of_order(raw_t)
        parts = []
        if swapped:
            parts.append(f"{swapped} out of order in time (by less than {TIME_JITTER:.0%} of the "
                         "time axis) sorted")
        if cleaned - swapped:
            parts.append(f"{cleaned - swapped} above an earlier point or above 1 lowered "
                         f"(by at most {largest:.3g} survival)")
        heavy = cleaned > HEAVY_CLEANING * len(times)
        where.warn(key, f"digitiser jitter cleaned in {cleaned} of {len(times)} points: "
                        + "; ".join(parts)
                        + (f" (heavy cleaning: more than {HEAVY_CLEANING:.0%} of the points)"
                           if heavy else "") + "; check the digitisation")
    if at_risk is not None and at_risk.times[-1] > times[-1] * 1.5 and at_risk.n[-1] > 0:
        where.at("at_risk").warn("times", f"the at-risk table runs to {at_risk.times[-1]:g}, "
                                          f"far beyond the last digitised point ({times[-1]:g}): "
                                          "is the whole curve digitised?")
    if at_risk is not None and total_events is not None and total_events > at_risk.n[0]:
        where.error("total_events", f"{total_events} events in an arm of {at_risk.n[0]} patients "
                                    "at risk at time 0")
        return None
    return KMCurve(times=times, survival=surv, raw_times=raw_t, raw_survival=raw_s, scale=scale,
                   at_risk=at_risk, total_events=total_events, location=location,
                   digitiser=digitiser, source=source, cleaned=cleaned, largest_change=largest)


def check_km_arm(where: Where, n: int | None, events: int | None, km: KMCurve | None) -> None:
    """Relate an arm's ``km`` block to its ``n`` and ``events`` (``where`` is the arm).

    Errors: at-risk counts above ``n``; a first at-risk count other than
    ``n``; ``km.total_events`` above ``n``. A warning when ``km.total_events``
    and the arm's ``events`` differ.
    """
    if km is None:
        return
    w = where.at("km")
    if km.at_risk is not None and n is not None:
        if km.at_risk.n[0] != n:
            w.at("at_risk").error("n", f"the first at-risk count ({km.at_risk.n[0]}) is not the "
                                       f"arm's n ({n})")
    if km.total_events is not None and n is not None and km.total_events > n:
        w.error("total_events", f"{km.total_events} events exceed the arm's n ({n})")
    if km.total_events is not None and events is not None and km.total_events != events:
        w.warn("total_events", f"{km.total_events} events, but the arm's events are {events}")


def check_km_comparison(where: Where, experimental, reference, rmst_horizon: float | None) -> None:
    """Relate the two arms' curves (``where`` is the comparison).

    Warnings: a curve for one arm only (the reconstruction needs both); an
    ``rmst_horizon`` without curves. An error: an ``rmst_horizon`` beyond
    the shorter curve (the RMST would extrapolate it).
    """
    curves = [a.km for a in (experimental, reference) if a is not None and a.km is not None]
    if len(curves) == 1:
        which = "experimental" if experimental is not None and experimental.km else "reference"
        where.at(which).warn("km", "a Kaplan-Meier curve for this arm only: the reconstruction "
                                   "from curves needs both arms")
    if rmst_horizon is None:
        return
    if len(curves) < 2:
        where.warn("rmst_horizon", "an RMST horizon, but no Kaplan-Meier curves for both arms: "
                                   "it is not used")
        return
    shorter = min(c.times[-1] for c in curves)
    if rmst_horizon > shorter:
        where.error("rmst_horizon", f"{rmst_horizon:g} is beyond the shorter curve (its last "
                                    f"point is at {shorter:g}): the RMST would extrapolate it")
