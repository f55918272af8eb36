"""Validate the approximate reconstruction methods against reported hazard ratios.

For every comparison in ``data/validation/comparisons.csv`` (published
oncology trials outside lung cancer that print both a HR with its CI and the
summaries the approximate methods use), the reported HR is hidden, the log HR
is reconstructed with every approximate method of
:mod:`survmeta.reconstruct.methods` that the row's data allow, and with the
selector's best available method; each reconstruction is compared with the
reported log HR.

Per method the script reports: rows, median and mean absolute error of the
log HR, bias (mean of estimate - reported), and the share of rows whose
reported log HR lies inside the nominal 95% interval of the reconstruction,
before and after adding the calibrated extra error SD (after: both in-sample
and leave-one-out, the honest figure).

Extra error SD
--------------
Write ``d_i = est_i - reported_i``. The reconstruction and the reported HR are
computed from the same patients, so their sampling errors largely cancel in
``d_i``; what is left is the method's own error (non-exponential survival,
rounding of medians and p-values, a p-value bound used for an exact p). The
calibrated SD is the maximum-likelihood SD of ``d ~ N(0, extra^2)``::

    extra_sd = sqrt(mean(d_i^2))

(bias is included, not removed: an uncorrected bias is part of the error a
user of the method carries). Added in quadrature to the method's sampling SE,
``se = sqrt(se_method^2 + extra_sd^2)`` then describes an approximate estimate
as a noisy stand-in for the reported HR it replaces. For comparison the script
also prints the method-of-moments value that treats the two estimates as
independent, ``max(0, mean(d^2 - se_est^2 - se_rep^2))``; because the errors
are shared it is close to zero and is not what is stored.

Usage::

    python validation/validate_reconstruction.py [--write-calibration] [--data PATH]

With ``--write-calibration`` the per-method values are written to
``src/survmeta/reconstruct/calibration.json`` (methods with fewer than
:data:`MIN_ROWS` rows are left out and stay uncalibrated).
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

from scipy.stats import norm

from survmeta.errors import SurvmetaError
from survmeta.reconstruct import methods as M
from survmeta.registry.records import NR, Arm, Comparison, PValue

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "validation" / "comparisons.csv"
CALIBRATION = ROOT / "src" / "survmeta" / "reconstruct" / "calibration.json"

#: Approximate methods validated here (the method ids of survmeta.reconstruct.methods).
VALIDATED = (
    "p_events",
    "median_ratio_ci",
    "median_ratio_events",
    "median_ratio_p",
    "chisq",
    "p_patients",
)

#: A method needs at least this many rows to get a calibrated extra SD.
MIN_ROWS = 5

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


def load_rows(path: Path = DATA) -> list[Row]:
    """Read the CSV into Rows; the reported HR is kept aside, never in the Comparison."""
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            hr, lo, hi = float(r["hr"]), float(r["hr_lower"]), float(r["hr_upper"])
            level = float(r["hr_level"] or 0.95)
            z = norm.ppf(0.5 + level / 2)
            sided = int(r["p_sided"] or 2)
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
                time_unit=r["time_unit"] or "months",
            )
            rows.append(
                Row(
                    id=r["id"],
                    trial=r["trial"],
                    log_hr=math.log(hr),
                    se_reported=(math.log(hi) - math.log(lo)) / (2 * z),
                    comparison=comp,
                    raw=r,
                )
            )
    return rows


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

    @property
    def d(self) -> float:
        return self.est - self.target


def reconstruct_all(rows: list[Row]) -> tuple[dict[str, list[Result]], list[Result], dict]:
    """Every validated method on every row, and the selector's choice per row.

    Returns (results by method, best-available results, reasons a method did not apply).
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
    best = []
    try:
        from survmeta.reconstruct.select import estimate_comparison
    except ImportError:  # selector not available: best = first applicable in DEFAULT_ORDER
        estimate_comparison = None
    for row in rows:
        chosen = None
        if estimate_comparison is not None:
            sel = estimate_comparison(row.comparison, calibration={})
            chosen = sel.chosen
        else:
            for m in M.DEFAULT_ORDER:
                try:
                    chosen = M.run_method(m, row.comparison)
                    break
                except M.NotApplicable:
                    continue
        if chosen is not None:
            best.append(Result(row.id, chosen.method, chosen.log_hr, chosen.se, row.log_hr,
                               row.se_reported, chosen.flags))
    return by_method, best, skipped


# ---------------------------------------------------------------------------
# statistics


def extra_sd_ml(results: list[Result]) -> float:
    """ML SD of d ~ N(0, extra^2): the root mean square discrepancy."""
    return math.sqrt(sum(r.d**2 for r in results) / len(results)) if results else float("nan")


def extra_sd_mom_independent(results: list[Result]) -> float:
    """Method of moments treating estimate and reported HR as independent."""
    if not results:
        return float("nan")
    v = sum(r.d**2 - r.se**2 - r.se_reported**2 for r in results) / len(results)
    return math.sqrt(max(0.0, v))


def covered(r: Result, extra: float) -> bool:
    return abs(r.d) <= Z95 * math.sqrt(r.se**2 + extra**2)


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
    extra_sd: float
    extra_sd_mom: float
    cover_d_loo: float


def summarise(method: str, results: list[Result], extra_for=None) -> Summary:
    """Statistics of one group of results.

    ``extra_for(result, leave_out)`` gives the extra SD to add to a result
    (in-sample when ``leave_out`` is False, estimated without that row when
    True); default: this group's own ML estimate.
    """
    n = len(results)
    nan = float("nan")
    if n == 0:
        return Summary(method, 0, nan, nan, nan, nan, nan, nan, nan, nan, nan)
    if extra_for is None:
        def extra_for(r, leave_out, _res=results):
            pool = [x for x in _res if x is not r] if leave_out else _res
            return extra_sd_ml(pool) if pool else 0.0
    absd = [abs(r.d) for r in results]
    return Summary(
        method=method,
        n=n,
        median_abs=statistics.median(absd),
        mean_abs=sum(absd) / n,
        bias=sum(r.d for r in results) / n,
        cover_before=sum(covered(r, 0.0) for r in results) / n,
        cover_after=sum(covered(r, extra_for(r, False)) for r in results) / n,
        cover_loo=sum(covered(r, extra_for(r, True)) for r in results) / n,
        extra_sd=extra_sd_ml(results),
        extra_sd_mom=extra_sd_mom_independent(results),
        cover_d_loo=sum(abs(r.d) <= Z95 * extra_for(r, True) for r in results) / n,
    )


def calibration_from(by_method: dict[str, list[Result]]) -> dict[str, dict]:
    """Per-method calibration entries (methods with at least MIN_ROWS rows)."""
    source = DATA.relative_to(ROOT).as_posix()
    out = {}
    for m in VALIDATED:
        res = by_method[m]
        if len(res) >= MIN_ROWS:
            out[m] = {"extra_sd": round(extra_sd_ml(res), PRECISION), "n": len(res), "source": source}
    return out


def compute(path: Path = DATA) -> dict:
    """Everything the report and the calibration file need, as plain data."""
    rows = load_rows(path)
    by_method, best, skipped = reconstruct_all(rows)
    summaries = [summarise(m, by_method[m]) for m in VALIDATED]

    # best available: each row's extra SD is the one of the method chosen for it
    def best_extra(r: Result, leave_out: bool) -> float:
        pool = [x for x in by_method.get(r.method, []) if not (leave_out and x.row == r.row)]
        return extra_sd_ml(pool) if len(pool) >= 1 else 0.0

    best_summary = summarise("best available", best, extra_for=best_extra)
    return {
        "rows": rows,
        "by_method": by_method,
        "best": best,
        "skipped": skipped,
        "summaries": summaries,
        "best_summary": best_summary,
        "calibration": {
            "methods": calibration_from(by_method),
            "generated_by": "validation/validate_reconstruction.py",
            "data_sha256": data_sha256(path),
        },
    }


# ---------------------------------------------------------------------------
# report


def _f(x, fmt="{:.3f}"):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def _pct(x):
    return _f(x, "{:.0%}") if not (isinstance(x, float) and math.isnan(x)) else "-"


def table(result: dict) -> str:
    head = (
        "| method | n | median abs err | mean abs err | bias | cover 95% (no extra) "
        "| cover (+extra, in-sample) | cover (+extra, leave-one-out) | |d| <= 1.96 extra (leave-one-out) "
        "| extra SD (ML) | extra SD (MoM, indep.) |"
    )
    lines = [head, "|" + "---|" * 11]
    for s in result["summaries"] + [result["best_summary"]]:
        lines.append(
            f"| {s.method} | {s.n} | {_f(s.median_abs)} | {_f(s.mean_abs)} | {_f(s.bias, '{:+.3f}')} "
            f"| {_pct(s.cover_before)} | {_pct(s.cover_after)} | {_pct(s.cover_loo)} | {_pct(s.cover_d_loo)} "
            f"| {_f(s.extra_sd)} | {_f(s.extra_sd_mom)} |"
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
    ok_err = s.n > 0 and s.median_abs <= 0.08
    ok_cov = s.n > 0 and 0.90 <= s.cover_loo <= 0.98
    return (
        f"Target median |error| <= 0.08 for the best available method: "
        f"{_f(s.median_abs)} -> {'met' if ok_err else 'NOT met'}\n"
        f"Target 95% interval coverage of the reported HR in 90-98% (leave-one-out): "
        f"{_pct(s.cover_loo)} -> {'met' if ok_cov else 'NOT met'}"
    )


def write_calibration(result: dict, path: Path = CALIBRATION) -> None:
    path.write_text(json.dumps(result["calibration"], indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write-calibration", action="store_true",
                    help=f"write {CALIBRATION.relative_to(ROOT)}")
    ap.add_argument("--data", type=Path, default=DATA, help="validation CSV (default: %(default)s)")
    ap.add_argument("--rows", action="store_true", help="also print the per-comparison table")
    args = ap.parse_args(argv)
    result = compute(args.data)
    print(f"{len(result['rows'])} comparisons from {args.data.relative_to(ROOT) if args.data.is_absolute() and ROOT in args.data.parents else args.data}")
    print()
    print(table(result))
    print()
    print(targets(result))
    if args.rows:
        print()
        print(per_row_table(result))
    if args.write_calibration:
        write_calibration(result)
        print(f"\nwrote {CALIBRATION.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
