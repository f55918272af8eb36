"""Validate the approximate reconstruction methods against reported hazard ratios.

For every comparison in ``data/validation/comparisons.csv`` (published
oncology trials outside lung cancer that print both a HR with its CI and the
summaries the approximate methods use), the reported HR is hidden, the log HR
is reconstructed with every approximate method of
:mod:`survmeta.reconstruction.methods` that the row's data allow, and with the
selector's best available method; each reconstruction is compared with the
reported log HR.

Per method the script reports: rows, median and mean absolute error of the
log HR, bias (mean of estimate - reported), and two coverages of the reported
log HR, leave-one-out (each row's extra SD calibrated without it):

* the **pooling interval** ``est +- 1.96 * sqrt(se^2 + extra_sd^2)``, the one
  ``survmeta reconstruct`` prints and the models use. It is an interval for
  the *true* log HR; the
  reported HR comes from the same patients, so the sampling errors of the two
  largely cancel in ``d`` and this interval covers the reported HR in nearly
  every row;
* the **printed SE, net of the shared sampling error**: ``|d| <= 1.96 *
  sqrt(se^2 + extra_sd^2 - se_rep^2)``. The reported HR is the efficient
  estimate from the same patients, so if the printed SE is right for the true
  log HR, ``Var(d) = se^2 + extra_sd^2 - se_rep^2`` (Hausman 1978); this is
  the calibration check the coverage target is judged on, beside the
  literal reading above;
* the **method-error interval** ``est +- 1.96 * extra_sd``: where the HR the
  paper printed should lie given the reconstruction, if the method error were
  the same for every trial. Because ``extra_sd`` is the RMS of these same
  discrepancies, its overall coverage is close to 95% almost by construction;
  what it shows is *where* it fails, printed by reported-HR band.

Families and the extra error SD
-------------------------------
The extra error belongs to the point estimate, not to the SE formula. Methods
that share a point estimate form a family
(:data:`survmeta.reconstruction.methods.FAMILIES`): the three median ratios
share ``log(median_r / median_e)``, ``chisq`` and ``p_events`` share
``sign z / sqrt(V)`` with V from events per arm. Per family, write
``d_i = est_i - reported_i`` for every row giving the family's point estimate
(for the median ratios: every row with both medians). The shipped value is
the root mean square

    extra_sd = sqrt(mean(d_i^2)) = sqrt(bias^2 + SD^2)

(the ML SD of ``d ~ N(0, extra^2)``): bias and spread together, without
correcting the bias (docs/validation.md, *Bias*, says what that means for
pooled estimates). The script prints bias
and SD separately, and a check of the one correction the data could support,
a multiplicative one (the estimates are shrunk towards the null:
``est ~ b * reported``): ``b`` is fitted through the origin without each row
in turn and that row's estimate divided by it. The script reports whether this
lowers the leave-one-out error. Families with at least
:data:`MIN_ROWS_SHRINKAGE` rows get their ``b`` written to the calibration
(``shrinkage``, with the RMS of the corrected discrepancies), which the
package applies only when asked (``correct_shrinkage=True``); the band table
shows the best available method with and without it, leave-one-out, and a
check prints why the slope is not regression to the mean. It also prints two
comparison estimators of the extra SD that are not shipped:

* Hausman-style: the reported HR is the efficient estimate and the
  reconstruction an inefficient one of the same quantity from the same
  patients, so ``Var(d) = se_est^2 - se_rep^2 + extra^2`` and
  ``extra^2 = mean(d^2 - max(0, se_est^2 - se_rep^2))`` (moments, truncated at
  0), and its maximum-likelihood version;
* the method of moments that treats the two estimates as independent,
  ``max(0, mean(d^2 - se_est^2 - se_rep^2))``. This is the wrong model (the
  estimates come from the same patients), which is why it is 0; it is shown
  only to make that visible.

A family with fewer than :data:`MIN_ROWS` rows is not calibrated: its methods
are left out of the file and the selector flags their estimates
``uncalibrated``.

Usage::

    python validation/validate_reconstruction.py [--write-calibration] [--rows] [--data PATH]

With ``--write-calibration`` the family values are written to
``src/survmeta/reconstruction/calibration.json`` under each member method id
(with the family id in ``family``). The "best available" coverage uses the
selector with exactly the calibration the package applies (read through
:mod:`survmeta.reconstruction.calibration`; after writing, re-read from the file).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

from scipy.optimize import minimize_scalar
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parent))

import joint_fit as J  # noqa: E402

from survmeta.errors import SurvmetaError  # noqa: E402
from survmeta.reconstruction import methods as M  # noqa: E402
from survmeta.reconstruction.calibration import load_calibration, parse_calibration  # noqa: E402
from survmeta.reconstruction.select import estimate_comparison  # noqa: E402
from survmeta.registry.records import NR, Arm, Comparison, FollowUp, PValue  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "validation" / "comparisons.csv"
CALIBRATION = ROOT / "src" / "survmeta" / "reconstruction" / "calibration.json"

#: Approximate methods validated here (the method ids of survmeta.reconstruction.methods).
VALIDATED = (
    "p_events",
    "p_total_events",
    "median_ratio_ci",
    "median_ratio_events",
    "median_ratio_p",
    "chisq",
    "p_patients",
)

#: Families of validated methods (those sharing a point estimate), in report order.
FAMILIES = {f: tuple(m for m in members if m in VALIDATED) for f, members in M.FAMILIES.items()}

#: A family needs at least this many rows to get a calibrated extra SD.
MIN_ROWS = 5

#: A family needs at least this many rows to get a calibrated shrinkage ``b``.
MIN_ROWS_SHRINKAGE = 20

#: Decimal places of extra_sd in calibration.json.
PRECISION = 4

Z95 = norm.ppf(0.975)


# ---------------------------------------------------------------------------
# reading the data set


def _num(text: str):
    text = text.strip()
    if text == "":
        return None
    if text.upper() == "NR":
        return NR
    return float(text)


def _int(text: str):
    text = text.strip()
    return None if text == "" else int(text)


def parse_p(text: str, sided: int) -> PValue | None:
    """A printed p-value ("0.012", "<0.0001", "NS") as a PValue."""
    t = text.strip().replace(" ", "")
    if t == "":
        return None
    if t.upper() == "NS":
        return PValue(text=text, value=None, relation="NS", sided=sided)
    for rel in ("<", ">"):
        if t.startswith(rel):
            return PValue(text=text, value=float(t[1:]), relation=rel, sided=sided)
    return PValue(text=text, value=float(t), relation="=", sided=sided)


@dataclass
class Row:
    """One validation comparison: the hidden target and the comparison without it."""

    id: str
    trial: str
    log_hr: float
    se_reported: float
    comparison: Comparison
    raw: dict = field(repr=False, default_factory=dict)


def _arm(label, n, events, median, lo, hi) -> Arm:
    m = _num(median)
    lo_, hi_ = _num(lo), _num(hi)
    ci = None if lo_ is None and hi_ is None else (lo_, hi_)
    return Arm(label=label, n=_int(n), events=_int(events), median=m, ci=ci)


class DataError(ValueError):
    """A validation CSV that cannot be read as the columns README.md describes; the message
    names the file, the line, the row and the column."""


#: Columns every validation CSV must have (data/validation/README.md).
COLUMNS = ("id", "trial", "endpoint", "experimental", "reference", "n_exp", "n_ref",
           "events_exp", "events_ref", "median_exp", "median_exp_lower", "median_exp_upper",
           "median_ref", "median_ref_lower", "median_ref_upper", "time_unit", "p_text", "p_sided",
           "hr", "hr_lower", "hr_upper", "hr_level", "quote", "location")


def _checked(r: dict) -> tuple[float, float, float, float, int]:
    """The reported HR, its CI, the CI level and the sidedness of p, checked; ValueError naming
    the column otherwise."""
    def number(col: str) -> float:
        try:
            return float(r[col])
        except ValueError:
            raise ValueError(f"{col}: not a number: {r[col]!r}") from None

    hr, lo, hi = number("hr"), number("hr_lower"), number("hr_upper")
    if not 0 < lo < hr < hi:
        raise ValueError(f"hr, hr_lower, hr_upper: need 0 < lower < hr < upper, got {lo}, {hr}, {hi}")
    level = number("hr_level") if r["hr_level"].strip() else 0.95
    if not 0 < level < 1:
        raise ValueError(f"hr_level: a level in (0, 1) such as 0.95, got {r['hr_level']!r}")
    sided = r["p_sided"].strip() or "2"
    if sided not in ("1", "2"):
        raise ValueError(f"p_sided: 1 or 2, got {r['p_sided']!r}")
    return hr, lo, hi, level, int(sided)


def load_rows(path: Path = DATA) -> list[Row]:
    """Read the CSV into Rows; the reported HR is kept aside, never in the Comparison.

    Raises
    ------
    DataError
        When the file cannot be read, lacks a column, has no rows, or a row has a value that
        cannot be used (the message names file, line, row and column).
    """
    rows = []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise DataError(f"{path}: missing columns: {', '.join(missing)}")
            for r in reader:
                try:
                    rows.append(_row(r))
                except (ValueError, TypeError, SurvmetaError) as exc:
                    raise DataError(f"{path}:{reader.line_num}: row {r['id']!r}: {exc}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot be read: {exc}") from None
    if not rows:
        raise DataError(f"{path}: no comparisons")
    return rows


#: Count and median columns, parsed by ``_int`` and ``_num``.
INT_COLUMNS = ("n_exp", "n_ref", "events_exp", "events_ref", "events_total")
NUM_COLUMNS = ("median_exp", "median_exp_lower", "median_exp_upper", "median_ref",
               "median_ref_lower", "median_ref_upper")


def _row(r: dict) -> Row:
    hr, lo, hi, level, sided = _checked(r)
    for cols, parse, what in ((INT_COLUMNS, _int, "a whole number"), (NUM_COLUMNS, _num, "a number or NR")):
        for col in cols:
            try:
                parse(r.get(col) or "")
            except ValueError:
                raise ValueError(f"{col}: {what}, got {r[col]!r}") from None
    try:
        parse_p(r["p_text"], sided)
    except ValueError:
        raise ValueError(f"p_text: a p-value such as 0.012 or <0.001, got {r['p_text']!r}") from None
    z = norm.ppf(0.5 + level / 2)
    ev = (_int(r["events_exp"]), _int(r["events_ref"]))
    printed_total = _int(r.get("events_total", ""))
    total = printed_total if printed_total is not None else (
        None if None in ev else ev[0] + ev[1])
    comp = Comparison(
        id=r["endpoint"].lower(),
        study_id=r["id"],
        question="validation",
        endpoint=r["endpoint"],
        quote=r["quote"],
        location=r["location"],
        experimental=_arm(r["experimental"], r["n_exp"], r["events_exp"],
                          r["median_exp"], r["median_exp_lower"], r["median_exp_upper"]),
        reference=_arm(r["reference"], r["n_ref"], r["events_ref"],
                       r["median_ref"], r["median_ref_lower"], r["median_ref_upper"]),
        p=parse_p(r["p_text"], sided),
        hr=None,  # hidden
        total_events=total,
        derived=() if total is None or printed_total is not None else
        ("total_events: sum of the printed per-arm events",),
        time_unit=r["time_unit"] or "months",
        follow_up=_follow_up(r),
    )
    return Row(id=r["id"], trial=r["trial"], log_hr=math.log(hr),
               se_reported=(math.log(hi) - math.log(lo)) / (2 * z), comparison=comp, raw=r)


def _follow_up(r: dict) -> FollowUp | None:
    """The median follow-up columns (empty when the source read prints none)."""
    text = (r.get("followup_median") or "").strip()
    if not text:
        return None
    value = float(text)
    if not value > 0:
        raise ValueError(f"followup_median: a positive number, got {text!r}")
    unit = (r.get("followup_unit") or "months").strip()
    if unit not in ("months", "weeks", "days", "years"):
        raise ValueError(f"followup_unit: months, weeks, days or years, got {unit!r}")
    return FollowUp(median=value, unit=unit, kind=(r.get("followup_kind") or "").strip() or None)


def data_sha256(path: Path = DATA) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------------------
# reconstruction


@dataclass
class Result:
    row: str
    method: str
    est: float
    se: float
    target: float
    se_reported: float
    flags: tuple = ()
    se_floor: float | None = None

    @property
    def d(self) -> float:
        return self.est - self.target


def reconstruct_all(rows: list[Row]) -> tuple[dict[str, list[Result]], dict]:
    """Every validated method on every row.

    Returns (results by method, reasons a method did not apply).
    """
    by_method: dict[str, list[Result]] = {m: [] for m in VALIDATED}
    skipped: dict[str, dict[str, str]] = {m: {} for m in VALIDATED}
    for row in rows:
        for m in VALIDATED:
            try:
                est = M.METHOD_FUNCTIONS[m](row.comparison)
            except M.NotApplicable as exc:
                skipped[m][row.id] = exc.reason
                continue
            except SurvmetaError as exc:  # inconsistent numbers: report, do not hide
                skipped[m][row.id] = f"error: {exc}"
                continue
            by_method[m].append(Result(row.id, m, est.log_hr, est.se, row.log_hr, row.se_reported, est.flags))
    return by_method, skipped


def _floor(row: Row) -> float | None:
    """The trial-size floor of a log-HR SE, when both group sizes are known."""
    ne, nr = row.comparison.experimental.n, row.comparison.reference.n
    return None if ne is None or nr is None else M.se_floor(ne, nr)


def family_results(rows: list[Row], by_method: dict[str, list[Result]]) -> dict[str, list[Result]]:
    """Per family, one result per row: the family's shared point estimate vs the reported log HR.

    The median-ratio family uses every row with both medians
    (:func:`survmeta.reconstruction.methods.median_log_ratio`), whatever SE
    method applies; its ``se`` (for the Hausman comparison only) is the
    first member's in family order that applies. Other families use the first
    member that applies on the row.
    """
    out: dict[str, list[Result]] = {}
    for fam, members in FAMILIES.items():
        res = []
        for row in rows:
            first = next((r for m in members for r in by_method[m] if r.row == row.id), None)
            if fam == "median_ratio":
                try:
                    est = M.median_log_ratio(row.comparison)
                except (M.NotApplicable, SurvmetaError):
                    continue
                se = first.se if first is not None else float("nan")
                res.append(Result(row.id, fam, est, se, row.log_hr, row.se_reported,
                                  se_floor=_floor(row)))
            elif first is not None:
                res.append(Result(row.id, fam, first.est, first.se, row.log_hr, row.se_reported,
                                  first.flags, _floor(row)))
        out[fam] = res
    return out


# ---------------------------------------------------------------------------
# statistics


def extra_sd_rms(results: list[Result]) -> float:
    """The shipped estimator: root mean square discrepancy (ML SD of d ~ N(0, extra^2))."""
    return math.sqrt(sum(r.d**2 for r in results) / len(results)) if results else float("nan")


def _hausman_v(r: Result) -> float:
    """Var(est - reported) from sampling when the reported estimate is efficient."""
    return max(0.0, r.se**2 - r.se_reported**2)


def extra_sd_hausman(results: list[Result]) -> float:
    """Hausman-style moments: ``extra^2 = mean(d^2 - max(0, se_est^2 - se_rep^2))``, truncated at 0."""
    res = [r for r in results if math.isfinite(r.se)]
    if not res:
        return float("nan")
    v = sum(r.d**2 - _hausman_v(r) for r in res) / len(res)
    return math.sqrt(max(0.0, v))


def extra_sd_hausman_ml(results: list[Result]) -> float:
    """ML of ``d_i ~ N(0, max(0, se_est^2 - se_rep^2) + extra^2)`` over extra >= 0."""
    res = [r for r in results if math.isfinite(r.se)]
    if not res:
        return float("nan")

    def nll(x: float) -> float:
        total = 0.0
        for r in res:
            var = _hausman_v(r) + x * x
            if var <= 0:
                return math.inf
            total += math.log(var) + r.d**2 / var
        return 0.5 * total

    fit = minimize_scalar(nll, bounds=(1e-6, 2.0), method="bounded", options={"xatol": 1e-7})
    return float(fit.x)


def extra_sd_mom_independent(results: list[Result]) -> float:
    """Method of moments treating estimate and reported HR as independent (the wrong model)."""
    res = [r for r in results if math.isfinite(r.se)]
    if not res:
        return float("nan")
    v = sum(r.d**2 - r.se**2 - r.se_reported**2 for r in res) / len(res)
    return math.sqrt(max(0.0, v))


def covered(r: Result, extra: float) -> bool:
    return abs(r.d) <= Z95 * math.sqrt(r.se**2 + extra**2)


def covered_net(r: Result, extra: float) -> bool:
    """The printed SE checked against the reported HR, net of the sampling error the two share.

    The printed SE, ``sqrt(se^2 + extra^2)``, claims to be the SD of
    ``est - theta`` (theta the true log HR). The reported estimate is the
    efficient one from the same patients, so ``Var(rep - theta) = se_rep^2 =
    Cov(est - theta, rep - theta)`` (Hausman 1978) and, if the claim holds,
    ``Var(est - rep) = se^2 + extra^2 - se_rep^2``. This is the 95% check of
    that variance (an empty interval when it is negative).
    """
    return abs(r.d) <= Z95 * math.sqrt(max(0.0, r.se**2 + extra**2 - r.se_reported**2))


def shrinkage_fit(results: list[Result]) -> tuple[float, float]:
    """``b`` and its SE: least squares of ``est = b * reported`` through the origin."""
    t = [r.target for r in results]
    e = [r.est for r in results]
    stt = sum(x * x for x in t)
    b = sum(x * y for x, y in zip(t, e)) / stt
    resid = sum((y - b * x) ** 2 for x, y in zip(t, e))
    return b, math.sqrt(resid / (len(t) - 1) / stt)


def corrected_loo(results: list[Result]) -> list[Result]:
    """Each result divided by the ``b`` fitted without it (leave-one-out)."""
    out = []
    for i, r in enumerate(results):
        bi, _ = shrinkage_fit(results[:i] + results[i + 1:])
        out.append(Result(r.row, r.method, r.est / bi, r.se / bi, r.target, r.se_reported))
    return out


def shrinkage_entry(results: list[Result]) -> dict:
    """The ``shrinkage`` object of calibration.json for one family.

    ``extra_sd`` is the RMS of the corrected discrepancies with each row
    corrected by the ``b`` fitted without it (leave-one-out): the in-sample
    RMS, with ``b`` fitted on the same rows, would be optimistic.
    """
    b, se = shrinkage_fit(results)
    corrected = corrected_loo(results)
    t = [r.target for r in results]
    return {"b": round(b, PRECISION), "se": round(se, PRECISION),
            "extra_sd": round(extra_sd_rms(corrected), PRECISION), "n": len(results),
            "log_hr_range": [round(min(t), PRECISION), round(max(t), PRECISION)]}


def calibration_from(fam_results: dict[str, list[Result]], source: str) -> dict[str, dict]:
    """Calibration entries per method: the family value under each member (families with >= MIN_ROWS rows).

    Families with at least :data:`MIN_ROWS_SHRINKAGE` rows also get their
    shrinkage (:func:`shrinkage_entry`), applied only on request.
    """
    out = {}
    for fam, members in FAMILIES.items():
        res = fam_results[fam]
        if len(res) < MIN_ROWS:
            continue
        value = round(extra_sd_rms(res), PRECISION)
        entry = {"extra_sd": value, "n": len(res), "source": source, "family": fam}
        if len(res) >= MIN_ROWS_SHRINKAGE:
            entry["shrinkage"] = shrinkage_entry(res)
        for m in members:
            out[m] = dict(entry)
    return out


def applied_extra(calibration: dict, method: str) -> float:
    """The extra SD the package applies to ``method`` under a parsed calibration (0 if none)."""
    entry = calibration.get(method)
    return 0.0 if entry is None else entry.extra_sd


@dataclass
class Summary:
    method: str
    n: int
    median_abs: float
    mean_abs: float
    bias: float
    cover_before: float
    cover_after: float
    cover_loo: float
    cover_d_loo: float
    cover_net_loo: float
    n_calibrated: int
    extra_applied: float
    extra_hausman: float


@dataclass
class FamilySummary:
    family: str
    members: tuple
    n: int
    bias: float
    sd: float
    rms: float
    hausman: float
    hausman_ml: float
    mom_independent: float
    shipped: bool


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else float("nan")


def summarise(method: str, results: list[Result], extra_for) -> Summary:
    """Statistics of one group of results.

    ``extra_for(result, leave_out)`` gives the extra SD the package applies
    to a result: in-sample when ``leave_out`` is False, with the calibration
    rebuilt without that row when True. ``cover_d_loo`` (``|d| <= 1.96
    extra``, the check that matches how the extra SD is defined) is over the
    rows that get a calibrated extra SD only.
    """
    n = len(results)
    nan = float("nan")
    if n == 0:
        return Summary(method, 0, nan, nan, nan, nan, nan, nan, nan, nan, 0, nan, nan)
    absd = [abs(r.d) for r in results]
    applied = sorted({extra_for(r, False) for r in results})
    return Summary(
        method=method,
        n=n,
        median_abs=statistics.median(absd),
        mean_abs=sum(absd) / n,
        bias=sum(r.d for r in results) / n,
        cover_before=sum(covered(r, 0.0) for r in results) / n,
        cover_after=sum(covered(r, extra_for(r, False)) for r in results) / n,
        cover_loo=sum(covered(r, extra_for(r, True)) for r in results) / n,
        cover_d_loo=_share([abs(r.d) <= Z95 * extra_for(r, True)
                            for r in results if extra_for(r, True) > 0]),
        cover_net_loo=sum(covered_net(r, extra_for(r, True)) for r in results) / n,
        n_calibrated=sum(extra_for(r, True) > 0 for r in results),
        extra_applied=applied[0] if len(applied) == 1 else nan,
        extra_hausman=extra_sd_hausman(results),
    )


def summarise_family(fam: str, results: list[Result], shipped: bool) -> FamilySummary:
    n = len(results)
    nan = float("nan")
    if n == 0:
        return FamilySummary(fam, FAMILIES[fam], 0, nan, nan, nan, nan, nan, nan, False)
    bias = sum(r.d for r in results) / n
    sd = math.sqrt(sum((r.d - bias) ** 2 for r in results) / n)
    return FamilySummary(
        family=fam,
        members=FAMILIES[fam],
        n=n,
        bias=bias,
        sd=sd,
        rms=extra_sd_rms(results),
        hausman=extra_sd_hausman(results),
        hausman_ml=extra_sd_hausman_ml(results),
        mom_independent=extra_sd_mom_independent(results),
        shipped=shipped,
    )


def _calibration_data(rows: list[Row], path: Path) -> dict:
    by_method, _ = reconstruct_all(rows)
    fam = family_results(rows, by_method)
    try:
        source = Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        source = str(path)
    return {
        "methods": calibration_from(fam, source),
        "joint": J.fit(rows, source).to_dict(),
        "generated_by": "validation/validate_reconstruction.py",
        "data_sha256": data_sha256(path),
    }


def compute(path: Path = DATA, applied_calibration: dict | None = None) -> dict:
    """Everything the report and the calibration file need, as plain data.

    ``applied_calibration`` (parsed entries, as :func:`load_calibration`
    returns) is what the coverage after calibration uses; by default the
    entries this run computes, read through
    :func:`survmeta.reconstruction.calibration.parse_calibration`, i.e. exactly
    what the package applies once they are written.
    """
    rows = load_rows(path)
    by_method, skipped = reconstruct_all(rows)
    fam_results = family_results(rows, by_method)
    calibration = _calibration_data(rows, path)
    cal = parse_calibration(calibration) if applied_calibration is None else applied_calibration

    # leave-one-out: the calibration rebuilt without each row, as the package would apply it
    loo_cal = {row.id: parse_calibration(_calibration_data([x for x in rows if x is not row], path))
               for row in rows}

    def extra_for(r: Result, leave_out: bool) -> float:
        return applied_extra(loo_cal[r.row] if leave_out else cal, r.method)

    summaries = [summarise(m, by_method[m], extra_for) for m in VALIDATED]
    family_summaries = [summarise_family(f, fam_results[f], f in {e.family for e in cal.values()})
                        for f in FAMILIES]

    # best available: the selector's choice and the extra SD it applies
    best, best_extra = [], {}
    for row in rows:
        sel = estimate_comparison(row.comparison, method_order=J.OLD_ORDER, calibration=cal)
        if sel.chosen is None:
            continue
        c = sel.chosen
        best.append(Result(row.id, c.method, c.log_hr, c.se, row.log_hr, row.se_reported, c.flags))
        best_extra[row.id, False] = sel.se_extra
        best_extra[row.id, True] = estimate_comparison(
            row.comparison, method_order=J.OLD_ORDER, calibration=loo_cal[row.id]).se_extra

    best_summary = summarise("best available", best, lambda r, loo: best_extra[r.row, loo])

    # the same with the shrinkage correction (calibration without the row)
    corrected, corrected_extra = [], {}
    for row in rows:
        sel = estimate_comparison(row.comparison, method_order=J.OLD_ORDER, calibration=loo_cal[row.id],
                                  correct_shrinkage=True)
        if sel.chosen is None:
            continue
        c = sel.chosen
        corrected.append(Result(row.id, c.method, c.log_hr, c.se, row.log_hr, row.se_reported, c.flags))
        corrected_extra[row.id] = sel.se_extra
    return {
        "rows": rows,
        "by_method": by_method,
        "families": fam_results,
        "best": best,
        "skipped": skipped,
        "summaries": summaries,
        "family_summaries": family_summaries,
        "best_summary": best_summary,
        "best_extra": best_extra,
        "corrected": corrected,
        "corrected_extra": corrected_extra,
        "applied": cal,
        "calibration": calibration,
        "joint": J.JointCalibration.from_dict(calibration["joint"]),
        "joint_loo": J.loo(rows, cal),
    }


# ---------------------------------------------------------------------------
# report


def _f(x, fmt="{:.3f}"):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def _pct(x):
    return _f(x, "{:.0%}") if not (isinstance(x, float) and math.isnan(x)) else "-"


def table(result: dict) -> str:
    head = (
        "| method | n | median abs err | mean abs err | bias | pooling interval, no extra "
        "| pooling interval +extra (in-sample) | pooling interval +extra (LOO) | method-error interval (LOO, calibrated rows) "
        "| printed SE, net of the shared sampling error (LOO) "
        "| extra SD applied | Hausman extra SD (own SE) |"
    )
    lines = [head, "|" + "---|" * 12]
    for s in result["summaries"] + [result["best_summary"]]:
        applied = "per row" if s.n and math.isnan(s.extra_applied) else _f(s.extra_applied)
        lines.append(
            f"| {s.method} | {s.n} | {_f(s.median_abs)} | {_f(s.mean_abs)} | {_f(s.bias, '{:+.3f}')} "
            f"| {_pct(s.cover_before)} | {_pct(s.cover_after)} | {_pct(s.cover_loo)} | {_pct(s.cover_d_loo)} "
            f"| {_pct(s.cover_net_loo)} | {applied} | {_f(s.extra_hausman)} |"
        )
    return "\n".join(lines)


def family_table(result: dict) -> str:
    head = (
        "| family | methods | n | bias (mean d) | SD of d about the bias | RMS of d (shipped) "
        "| Hausman MoM | Hausman ML | independent MoM (wrong model) | calibrated |"
    )
    lines = [head, "|" + "---|" * 10]
    for f in result["family_summaries"]:
        lines.append(
            f"| {f.family} | {', '.join(f.members)} | {f.n} | {_f(f.bias, '{:+.3f}')} | {_f(f.sd)} "
            f"| {_f(f.rms)} | {_f(f.hausman)} | {_f(f.hausman_ml)} | {_f(f.mom_independent)} "
            f"| {'yes' if f.shipped else f'no (< {MIN_ROWS} rows)'} |"
        )
    return "\n".join(lines)


def per_row_table(result: dict) -> str:
    lines = ["| comparison | reported HR | best method | HR (best) | |error| log HR |", "|---|---|---|---|---|"]
    best = {r.row: r for r in result["best"]}
    for row in result["rows"]:
        b = best.get(row.id)
        if b is None:
            lines.append(f"| {row.id} | {math.exp(row.log_hr):.3f} | (none) | - | - |")
        else:
            lines.append(
                f"| {row.id} | {math.exp(row.log_hr):.3f} | {b.method} | {math.exp(b.est):.3f} | {abs(b.d):.3f} |"
            )
    return "\n".join(lines)


def targets(result: dict) -> str:
    s = result["best_summary"]
    best = result["best"]
    ok_err = s.n > 0 and s.median_abs <= 0.08
    ok_cov = s.n > 0 and 0.90 <= s.cover_loo <= 0.98
    below = sum(r.se < r.se_reported for r in best)
    return (
        f"Target median |error| <= 0.08 for the best available method: "
        f"{_f(s.median_abs)} -> {'met' if ok_err else 'NOT met'}\n"
        f"Target 95% interval coverage of the reported HR in 90-98%, the interval survmeta "
        f"prints, est +- 1.96 sqrt(se^2 + extra_sd^2), on this set (leave-one-out): "
        f"{_pct(s.cover_loo)} -> {'met' if ok_cov else 'NOT met'} here (an interval for the true "
        f"HR; it shares its sampling error with the reported one); the independent test is "
        f"validation/score_holdout.py\n"
        f"  consistency checks, not independent (extra_sd is fitted on these discrepancies):\n"
        f"  printed SE net of the shared sampling error, "
        f"|d| <= 1.96 sqrt(se^2 + extra_sd^2 - se_rep^2) (leave-one-out): {_pct(s.cover_net_loo)}"
        f"; sampling SE below the reported SE in {below} of {len(best)} rows\n"
        f"  method-error interval est +- 1.96 extra_sd (leave-one-out, {s.n_calibrated} of "
        f"{s.n} rows calibrated): {_pct(s.cover_d_loo)}"
    )


#: Reported-HR bands for the coverage-by-effect-size table.
BANDS = ((0.0, 0.7), (0.7, 0.9), (0.9, float("inf")))


def _band_label(lo: float, hi: float) -> str:
    return f"< {hi:g}" if lo == 0 else (f">= {lo:g}" if math.isinf(hi) else f"{lo:g}-{hi:g}")


def band_table(result: dict) -> str:
    """The best available method by reported-HR band (leave-one-out), without and with the
    shrinkage correction.

    A constant extra SD cannot follow an error that grows with the effect (the
    reconstructions are shrunk towards the null), so bias and coverage are
    shown per band.
    """
    best, extra = result["best"], result["best_extra"]
    corr = {r.row: r for r in result["corrected"]}
    corr_extra = result["corrected_extra"]
    lines = ["| reported HR | n | bias | median abs err | printed interval (LOO) "
             "| printed SE, net (LOO) | method-error interval (LOO) "
             "| corrected: bias | corrected: median abs err | corrected: printed SE, net (LOO) |",
             "|" + "---|" * 10]
    for lo, hi in BANDS:
        rs = [r for r in best if lo <= math.exp(r.target) < hi]
        if not rs:
            continue
        cs = [corr[r.row] for r in rs if r.row in corr]
        n = len(rs)
        met = sum(abs(r.d) <= Z95 * extra[r.row, True] for r in rs)
        pool = sum(covered(r, extra[r.row, True]) for r in rs)
        net = sum(covered_net(r, extra[r.row, True]) for r in rs)
        cnet = sum(covered_net(c, corr_extra[c.row]) for c in cs)
        lines.append(
            f"| {_band_label(lo, hi)} | {n} | {statistics.mean(r.d for r in rs):+.3f} "
            f"| {statistics.median([abs(r.d) for r in rs]):.3f} | {pool}/{n} | {net}/{n} | {met}/{n} "
            f"| {statistics.mean(c.d for c in cs):+.3f} | {statistics.median([abs(c.d) for c in cs]):.3f} "
            f"| {cnet}/{len(cs)} |")
    rs, cs = best, result["corrected"]
    lines.append(
        f"| all | {len(rs)} | {statistics.mean(r.d for r in rs):+.3f} "
        f"| {statistics.median([abs(r.d) for r in rs]):.3f} "
        f"| {sum(covered(r, extra[r.row, True]) for r in rs)}/{len(rs)} "
        f"| {sum(covered_net(r, extra[r.row, True]) for r in rs)}/{len(rs)} "
        f"| {sum(abs(r.d) <= Z95 * extra[r.row, True] for r in rs)}/{len(rs)} "
        f"| {statistics.mean(c.d for c in cs):+.3f} | {statistics.median([abs(c.d) for c in cs]):.3f} "
        f"| {sum(covered_net(c, corr_extra[c.row]) for c in cs)}/{len(cs)} |")
    return "\n".join(lines)


def correction_check(fam_results: dict[str, list[Result]]) -> list[tuple]:
    """Leave-one-out check of a multiplicative bias correction, per family.

    Fits ``est = b * reported`` through the origin on all rows but one, divides
    that row's estimate by ``b`` and compares its error with the uncorrected
    one. Returns ``(family, n, b, se of b, median |d| raw, median |d|
    corrected, RMS raw, RMS corrected)`` for families with at least MIN_ROWS
    rows.
    """
    out = []
    for fam, res in fam_results.items():
        n = len(res)
        if n < MIN_ROWS:
            continue
        b, se = shrinkage_fit(res)
        raw = [abs(r.d) for r in res]
        cor = [abs(r.d) for r in corrected_loo(res)]
        rms = lambda xs: math.sqrt(sum(x * x for x in xs) / len(xs))  # noqa: E731
        out.append((fam, n, b, se, statistics.median(raw), statistics.median(cor), rms(raw), rms(cor)))
    return out


def correction_table(result: dict) -> str:
    lines = ["| family | n | b (est = b x reported) | SE of b | median abs err "
             "| median abs err, corrected (LOO) | RMS err | RMS err, corrected (LOO) | shipped |",
             "|" + "---|" * 9]
    shipped = {e.family for e in result["applied"].values() if e.shrinkage is not None}
    for fam, n, b, se, m0, m1, r0, r1 in correction_check(result["families"]):
        lines.append(f"| {fam} | {n} | {b:.3f} | {se:.3f} | {m0:.3f} | {m1:.3f} | {r0:.3f} | {r1:.3f} "
                     f"| {'yes' if fam in shipped else f'no (< {MIN_ROWS_SHRINKAGE} rows)'} |")
    return "\n".join(lines)


def dilution_check(results: list[Result]) -> dict:
    """Is the shrinkage regression to the mean? Numbers for one family.

    Regressing the estimate on the *reported* log HR attenuates the slope when
    the reported HR's own sampling error is independent of the estimate's
    (errors in the regressor). If the two errors were independent, the
    corrected slope would be ``cov(est, rep) / (var(rep) - mean(se_rep^2))``
    and ``d`` would vary at least as much as ``mean(se_est^2 + se_rep^2)``.
    If the reconstruction shares the reported estimate's sampling error (same
    patients, Hausman), the plain slope is unbiased and ``Var(d)`` is much
    smaller. The estimate's own SE is unstable (a median ratio's SE from a
    large p), so the independence bound uses the trial-size floor
    ``se_floor = sqrt(1/n_e + 1/n_r)`` that no estimate's SE can go below
    (:func:`survmeta.reconstruction.methods.se_floor`): under independence
    ``E d^2 >= mean(se_floor^2 + se_rep^2)``. Returns the slope with
    intercept, the slope corrected as if the errors were independent, the
    mean square of ``d`` (all rows and the rows with both group sizes), and
    that lower bound over the rows with both group sizes.
    """
    t = [r.target for r in results]
    e = [r.est for r in results]
    n = len(t)
    mt, me = sum(t) / n, sum(e) / n
    var_t = sum((x - mt) ** 2 for x in t) / (n - 1)
    cov = sum((x - mt) * (y - me) for x, y in zip(t, e)) / (n - 1)
    se_rep2 = sum(r.se_reported**2 for r in results) / n
    with_floor = [r for r in results if r.se_floor is not None]
    return {
        "n": n,
        "slope": cov / var_t,
        "slope_if_independent": cov / (var_t - se_rep2),
        "mean_d2": sum(r.d**2 for r in results) / n,
        "n_floor": len(with_floor),
        "mean_d2_floor_rows": (sum(r.d**2 for r in with_floor) / len(with_floor)
                               if with_floor else float("nan")),
        "var_d_if_independent": (sum(r.se_floor**2 + r.se_reported**2 for r in with_floor)
                                 / len(with_floor) if with_floor else float("nan")),
    }


def dilution_text(result: dict, family: str = "median_ratio") -> str:
    d = dilution_check(result["families"][family])
    return (
        f"Errors in variables? ({family}, n = {d['n']}): slope of estimate on reported "
        f"{d['slope']:.3f} (with intercept); {d['slope_if_independent']:.3f} if the two "
        f"sampling errors were independent. Under independence mean d^2 would be at least "
        f"mean(se_floor^2 + se_rep^2) = {d['var_d_if_independent']:.4f} over the "
        f"{d['n_floor']} rows with both group sizes; it is {d['mean_d2_floor_rows']:.4f}. "
        "The errors are shared, and the slope below 1 is not an errors-in-variables artefact."
    )


def write_calibration(result: dict, path: Path = CALIBRATION) -> None:
    path.write_text(json.dumps(result["calibration"], indent=2, sort_keys=True) + "\n", encoding="utf-8")


def report_text(result: dict, shown) -> str:
    """The report the script prints (without the per-comparison table); docs/validation.md
    pastes it under *Results*, and a test checks that the two agree."""
    return "\n\n".join([
        f"{len(result['rows'])} comparisons from {shown}",
        table(result),
        family_table(result),
        "Best available method by reported-HR band:\n" + band_table(result),
        "Multiplicative bias correction (applied only with correct_shrinkage), checked "
        "leave-one-out:\n" + correction_table(result),
        dilution_text(result),
        targets(result),
    ])


def joint_report_text(result: dict) -> str:
    """The joint model's part of the report; docs/validation.md pastes it under *Joint model*."""
    J.set_target_rows(result["rows"])
    scored = result["joint_loo"]
    new, old = J.p_rows_without_events(scored), J.p_rows_without_events(scored, "old")
    return "\n\n".join([
        J.calibration_text(result["joint"]),
        "Old methods (best available in the order before the joint model) vs the joint model, "
        "leave-one-out (each row scored with the hyperparameters fitted without it), by "
        "information pattern:\n" + J.pattern_table(scored),
        J.target_text(new, old, "leave-one-out"),
    ])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write-calibration", action="store_true",
                    help=f"write {CALIBRATION.relative_to(ROOT)}")
    ap.add_argument("--data", type=Path, default=DATA, help="validation CSV (default: %(default)s)")
    ap.add_argument("--rows", action="store_true", help="also print the per-comparison table")
    args = ap.parse_args(argv)
    try:
        result = compute(args.data)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.write_calibration:
        write_calibration(result)
        # re-read through the package: the coverage below is what it applies
        shipped = load_calibration(CALIBRATION)
        if shipped != result["applied"]:
            raise SystemExit("calibration.json read back differs from what was written")
        result = compute(args.data, applied_calibration=shipped)
    shown = args.data.relative_to(ROOT) if args.data.is_absolute() and ROOT in args.data.parents else args.data
    print(report_text(result, shown))
    print()
    print(joint_report_text(result))
    if args.rows:
        print()
        print(per_row_table(result))
    if args.write_calibration:
        print(f"\nwrote {CALIBRATION.relative_to(ROOT)}")
    elif CALIBRATION.exists() and load_calibration(CALIBRATION) != result["applied"]:
        print(f"\nnote: {CALIBRATION.relative_to(ROOT)} differs from this run; "
              "rerun with --write-calibration")
    return 0


if __name__ == "__main__":
    sys.exit(main())
