"""Calibrate and score the joint reconstruction (:mod:`survmeta.reconstruction.joint`).

Used by ``validate_reconstruction.py`` (fit on ``comparisons.csv``, written to
``calibration.json`` under ``"joint"``, scored leave-one-out) and by
``score_holdout.py`` (``holdout.csv`` scored with the shipped calibration only).

What is fitted (every value on the calibration rows only):

* ``s_mr``: root mean square of ``log(m_ref / m_exp) - log HR_reported`` over
  the rows with both medians reached (the median-ratio family's extra SD);
* ``s_z``: maximum likelihood SD of the printed test statistic about the Wald
  statistic of the printed HR, ``|log HR| / SE`` (``SE`` from the printed CI),
  with the p-value's digits as an interval and ``P < c`` censored, exactly as
  the model reads them;
* ``kappa``: mean excess of that Wald statistic beyond the bound, over the rows
  that print ``P < c`` (the maximum-likelihood mean of an exponential);
* per route to V: mean (``bias``) and SD of ``log(V_reported / V0)``, with
  ``V_reported = 1 / SE^2``, over the rows the route can be formed on; a route
  with fewer than :data:`MIN_ROUTE_ROWS` rows is not calibrated (not used).

Information patterns: every row is also scored with parts of what it printed
hidden, to show the model on the patterns papers print: medians + CIs only;
medians + p; medians + CIs + p; p + group sizes only (the sign as the paper
states it, here the sign of the reported HR); and as printed (all but the HR).
Events and total events are hidden in the first four, so they show what the
model does without events.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import ndtr

from survmeta.errors import SurvmetaError
from survmeta.reconstruction import methods as M
from survmeta.reconstruction.joint import (
    ROUTES,
    JointCalibration,
    VRoute,
    _route_v0,
    _z_observation,
    joint,
)
from survmeta.reconstruction.select import estimate_comparison

#: A route to V needs this many calibration rows to be used.
MIN_ROUTE_ROWS = 5

Z95 = 1.959964

#: The methods before the joint model, in their default order (the comparison baseline).
OLD_ORDER = tuple(m for m in M.DEFAULT_ORDER if m != "joint")

#: Information patterns: name -> (fields hidden, fields required, sign stated).
PATTERNS = {
    "medians + CIs only": (("p", "events", "total_events", "follow_up"), ("medians", "cis"), False),
    "medians + p": (("cis", "events", "total_events"), ("medians", "p"), False),
    "medians + CIs + p": (("events", "total_events"), ("medians", "cis", "p"), False),
    "p + group sizes only": (("medians", "cis", "events", "total_events", "follow_up"),
                             ("p", "n"), True),
    "as printed": ((), (), False),
}


def _z_ref(row) -> float:
    return abs(row.log_hr) / row.se_reported


def fit(rows, source: str = "data/validation/comparisons.csv") -> JointCalibration:
    """The joint model's hyperparameters fitted on ``rows`` (validation ``Row`` objects)."""
    d_mr = []
    for row in rows:
        c = row.comparison
        me, mr = c.experimental.median, c.reference.median
        if me in (None, M.NR) or mr in (None, M.NR):
            continue
        d_mr.append(math.log(mr / me) - row.log_hr)
    s_mr = math.sqrt(statistics.fmean(x * x for x in d_mr))

    obs = []
    excess = []
    for row in rows:
        z = _z_observation(row.comparison)
        if z is None:
            continue
        obs.append((z, _z_ref(row)))
        if z.kind == "above":
            excess.append(max(_z_ref(row) - z.a, 0.0))

    def nll(log_s: float) -> float:
        s = math.exp(log_s)
        total = 0.0
        for z, zr in obs:
            mu = np.array([zr])
            if z.kind == "interval":
                lik = (ndtr((z.b - mu) / s) - ndtr((z.a - mu) / s)
                       + ndtr((-z.a - mu) / s) - ndtr((-z.b - mu) / s))
            elif z.kind == "above":
                lik = ndtr((mu - z.a) / s) + ndtr((-mu - z.a) / s)
            else:
                lik = ndtr((z.b - mu) / s) - ndtr((-z.b - mu) / s)
            total -= math.log(max(float(lik[0]), 1e-300))
        return total

    res = minimize_scalar(nll, bounds=(math.log(0.01), math.log(3.0)), method="bounded")
    s_z = float(math.exp(res.x))
    kappa = max(statistics.fmean(excess), 0.1) if excess else 1.0

    routes = {}
    for route in ROUTES:
        logs = []
        for row in rows:
            try:
                got = _route_v0(row.comparison, route)
            except (M.NotApplicable, SurvmetaError):
                got = None
            if got is None or not got[0] > 0:
                continue
            logs.append(math.log(1.0 / row.se_reported**2) - math.log(got[0]))
        if len(logs) >= MIN_ROUTE_ROWS:
            routes[route] = VRoute(round(statistics.fmean(logs), 4),
                                   round(statistics.stdev(logs), 4), len(logs))
    return JointCalibration(round(s_mr, 4), round(s_z, 4), round(kappa, 4), routes, len(rows),
                            source)


# ---------------------------------------------------------------------------
# patterns


def _has(c, what: str) -> bool:
    e, r = c.experimental, c.reference
    if what == "medians":
        return e.median not in (None, M.NR) and r.median not in (None, M.NR)
    if what == "cis":
        return e.ci is not None and r.ci is not None
    if what == "p":
        return c.p is not None
    if what == "n":
        return e.n is not None and r.n is not None
    raise ValueError(what)


def pattern_comparison(row, pattern: str):
    """The row's comparison with the pattern's fields hidden (None if it lacks what it needs)."""
    hidden, required, signed = PATTERNS[pattern]
    c = row.comparison
    if not all(_has(c, w) for w in required):
        return None
    e, r = c.experimental, c.reference
    changes = {}
    if "p" in hidden:
        changes["p"] = None
    if "events" in hidden:
        e, r = replace(e, events=None), replace(r, events=None)
    if "total_events" in hidden:
        changes["total_events"] = None
        changes["derived"] = ()
    if "follow_up" in hidden:
        changes["follow_up"] = None
    if "cis" in hidden:
        e, r = replace(e, ci=None), replace(r, ci=None)
    if "medians" in hidden:
        e, r = replace(e, median=None, ci=None), replace(r, median=None, ci=None)
    if signed:
        changes["direction"] = "favours experimental" if row.log_hr < 0 else "favours reference"
    return replace(c, experimental=e, reference=r, **changes)


@dataclass
class Scored:
    """One reconstruction of one row under one pattern."""

    row: str
    pattern: str
    model: str  # "joint" or "old"
    method: str
    est: float
    se: float
    se_extra: float
    target: float
    se_reported: float

    @property
    def d(self) -> float:
        return self.est - self.target


def score_row(row, pattern: str, cal: JointCalibration, old_calibration: dict) -> list[Scored]:
    """The joint model and the old best available method on one row under one pattern."""
    c = pattern_comparison(row, pattern)
    if c is None:
        return []
    out = []
    try:
        est = joint(c, cal)
        out.append(Scored(row.id, pattern, "joint", "joint", est.log_hr,
                          math.hypot(est.se, est.se_extra), est.se_extra, row.log_hr,
                          row.se_reported))
    except (M.NotApplicable, SurvmetaError):
        pass
    order = OLD_ORDER if pattern != "p + group sizes only" else OLD_ORDER + ("p_patients",)
    sel = estimate_comparison(c, method_order=order, calibration=old_calibration)
    if sel.chosen is not None:
        out.append(Scored(row.id, pattern, "old", sel.chosen.method, sel.chosen.log_hr, sel.se,
                          sel.se_extra, row.log_hr, row.se_reported))
    return out


def score(rows, cal_for, old_calibration: dict) -> list[Scored]:
    """Every row under every pattern; ``cal_for(row)`` gives the calibration to use for it."""
    out = []
    for row in rows:
        cal = cal_for(row)
        for pattern in PATTERNS:
            out.extend(score_row(row, pattern, cal, old_calibration))
    return out


def loo(rows, old_calibration: dict) -> list[Scored]:
    """Leave-one-out: each row scored with the hyperparameters fitted without it."""
    fits = {row.id: fit([r for r in rows if r.id != row.id]) for row in rows}
    return score(rows, lambda row: fits[row.id], old_calibration)


# ---------------------------------------------------------------------------
# tables


@dataclass
class Stats:
    n: int
    median_abs: float
    mean_abs: float
    rms: float
    bias: float
    cover_h: float  # |d| <= 1.96 se_extra: the interval for the printed HR
    cover_printed: float  # |d| <= 1.96 se: the interval survmeta prints (true HR)


def stats(items: list[Scored]) -> Stats:
    if not items:
        nan = math.nan
        return Stats(0, nan, nan, nan, nan, nan, nan)
    d = [s.d for s in items]
    a = [abs(x) for x in d]
    return Stats(
        n=len(d),
        median_abs=statistics.median(a),
        mean_abs=statistics.fmean(a),
        rms=math.sqrt(statistics.fmean(x * x for x in d)),
        bias=statistics.fmean(d),
        cover_h=statistics.fmean(abs(s.d) <= Z95 * s.se_extra for s in items),
        cover_printed=statistics.fmean(abs(s.d) <= Z95 * s.se for s in items),
    )


def _f(x, fmt="{:.3f}"):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def _pct(x):
    return "-" if isinstance(x, float) and math.isnan(x) else f"{100 * x:.0f}%"


def pattern_table(scored: list[Scored]) -> str:
    """Old methods vs the joint model on the same rows, by information pattern."""
    lines = [
        "| pattern | model | n | median abs err | mean abs err | RMS | bias | interval for the "
        "printed HR, est +- 1.96 extra | printed interval, est +- 1.96 se |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for pattern in PATTERNS:
        rows = {s.row for s in scored if s.pattern == pattern and s.model == "joint"}
        rows &= {s.row for s in scored if s.pattern == pattern and s.model == "old"}
        for model in ("old", "joint"):
            items = [s for s in scored if s.pattern == pattern and s.model == model and s.row in rows]
            st = stats(items)
            label = model
            if model == "old":
                methods = sorted({s.method for s in items})
                label = "old (" + ", ".join(methods) + ")" if methods else "old"
            lines.append(
                f"| {pattern} | {label} | {st.n} | {_f(st.median_abs)} | {_f(st.mean_abs)} | "
                f"{_f(st.rms)} | {_f(st.bias, '{:+.3f}')} | {_pct(st.cover_h)} | "
                f"{_pct(st.cover_printed)} |")
    return "\n".join(lines)


def calibration_text(cal: JointCalibration) -> str:
    lines = [f"Joint model calibration ({cal.n} rows): s_mr = {cal.s_mr:.4f}, s_z = {cal.s_z:.4f}, "
             f"kappa = {cal.kappa:.4f}"]
    lines.append("| route to V | n | bias of log V (mean log(V_reported / V0)) | SD of log V |")
    lines.append("|---|---|---|---|")
    for route in ROUTES:
        r = cal.routes.get(route)
        if r is None:
            lines.append(f"| {route} | < {MIN_ROUTE_ROWS} | not calibrated | - |")
        else:
            lines.append(f"| {route} | {r.n} | {r.bias:+.4f} | {r.sd:.4f} |")
    return "\n".join(lines)


def p_rows_without_events(scored: list[Scored], model: str = "default") -> Stats:
    """The target rows: as printed, a p-value and no events (scored in the 'as printed' pattern).

    ``model="default"`` is what the selector now does: the joint model where it applies, the old
    best available method where it does not (no route to V and no median CIs); ``"old"`` the
    old best available method on the same rows.
    """
    mine = [s for s in scored if s.pattern == "as printed" and s.row in _p_no_events_ids]
    if model == "default":
        joint_rows = {s.row for s in mine if s.model == "joint"}
        mine = [s for s in mine if s.model == "joint" or (s.model == "old" and s.row not in joint_rows)]
        return stats(mine)
    return stats([s for s in mine if s.model == model])


_p_no_events_ids: set = set()


def set_target_rows(rows) -> None:
    """Remember which rows print a p-value and no events per arm (the target rows)."""
    _p_no_events_ids.clear()
    for row in rows:
        c = row.comparison
        if c.p is not None and (c.experimental.events is None or c.reference.events is None):
            _p_no_events_ids.add(row.id)


#: Targets on the rows that print a p-value but no events (issue targets, docs/validation.md).
TARGET_MEDIAN = 0.045
TARGET_RMS = 0.07
TARGET_COVERAGE = (0.90, 0.98)


def target_text(new: Stats, old: Stats, how: str) -> str:
    lo, hi = TARGET_COVERAGE
    ok = lambda b: "met" if b else "NOT met"  # noqa: E731
    return (
        f"Rows that print a p-value but no events, as printed ({how}): the default (joint where "
        f"it applies, else the old best method) n = {new.n}, median "
        f"|error| {_f(new.median_abs)} (target <= {TARGET_MEDIAN}: {ok(new.median_abs <= TARGET_MEDIAN)}), "
        f"RMS {_f(new.rms)} (target <= {TARGET_RMS}: {ok(new.rms <= TARGET_RMS)}); old methods "
        f"n = {old.n}, median |error| {_f(old.median_abs)}, RMS {_f(old.rms)}\n"
        f"Coverage of the printed HR by the interval for it (est +- 1.96 extra): "
        f"{_pct(new.cover_h)} (target {lo:.0%}-{hi:.0%}: {ok(lo <= new.cover_h <= hi)}); by the "
        f"printed interval for the true HR (est +- 1.96 se): {_pct(new.cover_printed)}"
    )
