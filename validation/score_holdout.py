"""Score the shipped calibration on the held-out comparisons.

``data/validation/holdout.csv`` holds published comparisons of the same kind
as the calibration set (``comparisons.csv``: randomised oncology trials
outside lung cancer that print a HR with its CI beside per-arm medians,
p-values and group sizes), collected *after* ``calibration.json`` was
written and never used to fit it. The trials are disjoint from the
calibration set; this script refuses to run otherwise.

For every row the reported HR is hidden, the selector
(:func:`survmeta.reconstruction.select.estimate_comparison`, default order)
reconstructs the log HR with exactly the calibration the package ships, and
the result is compared with the reported log HR, ``d = est - reported``. The
analysis was fixed before the data were scored:

* error: median and mean ``|d|``, bias (mean ``d``);
* the **printed interval**, ``|d| <= 1.96 sqrt(se^2 + extra^2)``: the interval
  ``survmeta reconstruct`` prints, read literally against the reported HR. It
  is an interval for the true log HR, and the reported HR shares most of its
  sampling error, so it is expected to cover in nearly every row;
* the **printed SE, net of the shared sampling error**,
  ``|d| <= 1.96 sqrt(se^2 + extra^2 - se_rep^2)``: if the printed SE is right
  for the true log HR and the reported HR is the efficient estimate from the
  same patients, ``Var(d) = se^2 + extra^2 - se_rep^2`` (Hausman 1978). On
  rows that played no part in the calibration this is an independent test
  of it;
* the **method-error interval**, ``|d| <= 1.96 extra`` (approximate methods
  only);
* each coverage with its exact (Clopper-Pearson) 95% interval, since a
  coverage from some 50 rows is itself uncertain;
* the same with the optional shrinkage correction (``correct_shrinkage``);
* by family of the chosen method and by band of the reported HR.

Usage::

    python validation/score_holdout.py [--rows] [--data PATH]
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from scipy.stats import binomtest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import joint_fit as J  # noqa: E402
import validate_reconstruction as V  # noqa: E402

from survmeta.reconstruction import methods as M  # noqa: E402
from survmeta.reconstruction.calibration import load_calibration  # noqa: E402
from survmeta.reconstruction.joint import load_joint_calibration  # noqa: E402
from survmeta.reconstruction.select import estimate_comparison  # noqa: E402

ROOT = V.ROOT
HOLDOUT = ROOT / "data" / "validation" / "holdout.csv"
Z95 = V.Z95

#: The coverage target of the reconstruction issue: a 95% interval should cover the reported
#: HR in 90-98% of comparisons.
TARGET_COVERAGE = (0.90, 0.98)
#: The error target: median |d| of the best available method.
TARGET_MEDIAN_ERROR = 0.08


class HoldoutError(Exception):
    """The held-out set is not held out (shares trials with the calibration set)."""


def trial_key(name: str) -> str:
    """A trial name reduced to lower-case letters and digits ("CheckMate 025" -> "checkmate025")."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def check_disjoint(rows: list[V.Row], holdout: Path, calibration_set: Path = V.DATA) -> None:
    """Raise :class:`HoldoutError` naming the trials of ``rows`` (read from ``holdout``) that
    are also in the calibration set, by trial name (letters and digits only) or by DOI."""
    def keys(rows: list[V.Row]) -> dict[str, str]:
        out = {}
        for row in rows:
            out[trial_key(row.trial)] = row.trial
            doi = row.raw.get("doi", "").strip().lower()
            if doi:
                out[f"doi:{doi}"] = f"{row.trial} (doi {doi})"
        return out

    held, cal = keys(rows), keys(V.load_rows(calibration_set))
    shared = sorted(set(held) & set(cal))
    if shared:
        names = ", ".join(held[k] for k in shared)
        raise HoldoutError(f"{holdout}: trials also in the calibration set {calibration_set}: {names}")


@dataclass(frozen=True)
class Scored:
    """One held-out row reconstructed with the shipped calibration."""

    row: str
    method: str
    est: float
    se: float  # sampling SE
    extra: float  # calibrated extra SD applied
    target: float  # reported log HR
    se_reported: float

    @property
    def d(self) -> float:
        return self.est - self.target

    @property
    def family(self) -> str:
        return M.family_of(self.method) or "exact"

    def _r(self) -> V.Result:
        return V.Result(self.row, self.method, self.est, self.se, self.target, self.se_reported)

    @property
    def in_printed(self) -> bool:
        return V.covered(self._r(), self.extra)

    @property
    def in_net(self) -> bool:
        return V.covered_net(self._r(), self.extra)

    @property
    def in_method_error(self) -> bool:
        return abs(self.d) <= Z95 * self.extra


def score(rows: list[V.Row], calibration: dict,
          correct_shrinkage: bool = False) -> tuple[list[Scored], list[tuple[str, str]]]:
    """The best available estimate of every row that has one, with the calibration given, and
    ``(row id, reason)`` for the rows no method can reconstruct with the HR hidden."""
    scored, reasons = [], []
    for row in rows:
        s = _score_one(row, calibration, correct_shrinkage)
        if isinstance(s, Scored):
            scored.append(s)
        else:
            reasons.append((row.id, s))
    return scored, reasons


def _score_one(row: V.Row, calibration: dict, correct_shrinkage: bool) -> Scored | str:
    """The row's best available estimate, or the selector's reason when there is none."""
    sel = estimate_comparison(row.comparison, method_order=J.OLD_ORDER, calibration=calibration,
                              correct_shrinkage=correct_shrinkage)
    if sel.chosen is None:
        return sel.reason
    c = sel.chosen
    return Scored(row.id, c.method, c.log_hr, c.se, sel.se_extra, row.log_hr, row.se_reported)


@dataclass(frozen=True)
class Coverage:
    k: int
    n: int

    @property
    def share(self) -> float:
        return self.k / self.n if self.n else float("nan")

    def interval(self) -> tuple[float, float]:
        """Exact (Clopper-Pearson) 95% interval of the coverage."""
        ci = binomtest(self.k, self.n).proportion_ci(confidence_level=0.95, method="exact")
        return ci.low, ci.high

    def text(self) -> str:
        if not self.n:
            return "-"
        lo, hi = self.interval()
        return f"{self.k}/{self.n} = {self.share:.0%} ({lo:.0%}-{hi:.0%})"


@dataclass(frozen=True)
class Stats:
    n: int
    median_abs: float
    mean_abs: float
    bias: float
    printed: Coverage
    net: Coverage
    method_error: Coverage


def stats(scored: list[Scored]) -> Stats:
    n = len(scored)
    absd = [abs(s.d) for s in scored]
    approx = [s for s in scored if s.extra > 0]
    nan = float("nan")
    return Stats(
        n=n,
        median_abs=statistics.median(absd) if n else nan,
        mean_abs=sum(absd) / n if n else nan,
        bias=sum(s.d for s in scored) / n if n else nan,
        printed=Coverage(sum(s.in_printed for s in scored), n),
        net=Coverage(sum(s.in_net for s in scored), n),
        method_error=Coverage(sum(s.in_method_error for s in approx), len(approx)),
    )


def compute(path: Path = HOLDOUT, calibration_path: Path = V.CALIBRATION) -> dict:
    rows = V.load_rows(path)
    check_disjoint(rows, path)
    cal = load_calibration(calibration_path)
    best, reasons = score(rows, cal)
    corrected, _ = score(rows, cal, correct_shrinkage=True)
    joint_cal = load_joint_calibration(calibration_path)
    if joint_cal is None:
        raise HoldoutError(f"{calibration_path}: no joint-model calibration; run "
                           "validation/validate_reconstruction.py --write-calibration")
    joint = J.score(rows, lambda row: joint_cal, cal)
    return {"rows": rows, "best": best, "corrected": corrected, "unscored": reasons,
            "calibration_sha": _calibration_sha(calibration_path), "joint": joint}


def _calibration_sha(path: Path) -> str:
    import json

    return json.loads(Path(path).read_text(encoding="utf-8")).get("data_sha256", "")


# ---------------------------------------------------------------------------
# report


def _f(x: float, fmt: str = "{:.3f}") -> str:
    return "-" if math.isnan(x) else fmt.format(x)


def _line(label: str, s: Stats) -> str:
    return (f"| {label} | {s.n} | {_f(s.median_abs)} | {_f(s.mean_abs)} | {_f(s.bias, '{:+.3f}')} "
            f"| {s.printed.text()} | {s.net.text()} | {s.method_error.text()} |")


HEAD = ("| {} | n | median abs err | mean abs err | bias | printed interval | printed SE, net of the "
        "shared sampling error | method-error interval (approximate methods) |")


def overall_table(result: dict) -> str:
    lines = [HEAD.format("best available method"), "|" + "---|" * 8,
             _line("as shipped", stats(result["best"])),
             _line("with correct_shrinkage", stats(result["corrected"]))]
    return "\n".join(lines)


def family_table(result: dict) -> str:
    best = result["best"]
    lines = [HEAD.format("family of the chosen method"), "|" + "---|" * 8]
    for fam in ["exact", *M.FAMILIES]:
        group = [s for s in best if s.family == fam]
        if group:
            lines.append(_line(fam, stats(group)))
    return "\n".join(lines)


def band_table(result: dict) -> str:
    best = result["best"]
    lines = [HEAD.format("reported HR"), "|" + "---|" * 8]
    for lo, hi in V.BANDS:
        group = [s for s in best if lo <= math.exp(s.target) < hi]
        if group:
            lines.append(_line(V._band_label(lo, hi), stats(group)))
    return "\n".join(lines)


def per_row_table(result: dict) -> str:
    corr = {s.row: s for s in result["corrected"]}
    lines = ["| comparison | reported HR | best method | HR (best) | d | SE printed | in printed "
             "| in net | HR corrected |", "|" + "---|" * 9]
    for s in result["best"]:
        c = corr.get(s.row)
        lines.append(
            f"| {s.row} | {math.exp(s.target):.3f} | {s.method} | {math.exp(s.est):.3f} | {s.d:+.3f} "
            f"| {math.hypot(s.se, s.extra):.3f} | {'yes' if s.in_printed else 'no'} "
            f"| {'yes' if s.in_net else 'no'} | {math.exp(c.est) if c else float('nan'):.3f} |")
    return "\n".join(lines)


def targets(result: dict) -> str:
    s = stats(result["best"])
    lo, hi = TARGET_COVERAGE
    ok_err = s.median_abs <= TARGET_MEDIAN_ERROR
    ok_printed = lo <= s.printed.share <= hi
    ok_net = lo <= s.net.share <= hi
    return (
        f"Target median |error| <= {TARGET_MEDIAN_ERROR} for the best available method: "
        f"{_f(s.median_abs)} -> {'met' if ok_err else 'NOT met'}\n"
        f"Target 95% coverage of the reported HR in {lo:.0%}-{hi:.0%}:\n"
        f"  printed interval read literally: {s.printed.text()} -> {'met' if ok_printed else 'NOT met'}"
        f" (an interval for the true HR, which shares its sampling error with the reported one)\n"
        f"  printed SE, net of the shared sampling error: {s.net.text()} -> "
        f"{'met' if ok_net else 'NOT met'}"
    )


def report_text(result: dict, shown) -> str:
    """The report the script prints (without the per-comparison table); docs/validation.md
    pastes it under *Held-out check*, and a test checks that the two agree."""
    n_rows = len(result["rows"])
    return "\n\n".join([
        f"{n_rows} held-out comparisons from {shown}, {len(result['best'])} with an estimate; "
        f"calibration.json as shipped (fitted on the data set with SHA-256 "
        f"{result['calibration_sha'][:12]}...)",
        *(["No estimate (the HR hidden):\n" + "\n".join(f"  {i}: {why}" for i, why in result["unscored"])]
          if result["unscored"] else []),
        overall_table(result),
        "By family of the chosen method:\n" + family_table(result),
        "By reported HR:\n" + band_table(result),
        targets(result),
    ])


def joint_report_text(result: dict) -> str:
    """The joint model on the held-out rows with the shipped calibration; docs/validation.md
    pastes it under *Joint model, held out*."""
    J.set_target_rows(result["rows"])
    scored = result["joint"]
    new, old = J.p_rows_without_events(scored), J.p_rows_without_events(scored, "old")
    return "\n\n".join([
        "Old methods vs the joint model on the held-out rows, calibration.json as shipped, by "
        "information pattern:\n" + J.pattern_table(scored),
        J.target_text(new, old, "held out, shipped calibration"),
    ])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=HOLDOUT, help="held-out CSV (default: %(default)s)")
    ap.add_argument("--rows", action="store_true", help="also print the per-comparison table")
    args = ap.parse_args(argv)
    try:
        result = compute(args.data)
    except (HoldoutError, V.DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    shown = args.data.relative_to(ROOT) if args.data.is_absolute() and ROOT in args.data.parents else args.data
    print(report_text(result, shown))
    print()
    print(joint_report_text(result))
    if args.rows:
        print()
        print(per_row_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
