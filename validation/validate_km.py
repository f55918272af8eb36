"""Simulation study of the Kaplan-Meier reconstruction (method ``km_ipd``).

Each simulated trial has known truth and true patient data:

* two Weibull arms, the reference with median ``U(6, 24)`` months and shape
  ``U(0.7, 1.6)``, the experimental with hazard ratio ``U(0.5, 1.2)``
  (proportional hazards: ``S_e = S_r^HR``); ``U(50, 600)`` patients per arm,
  drawn separately;
* uniform accrual over ``U(12, 36)`` months, administrative censoring after a
  further ``U(6, 24)`` months of follow-up;
* the Kaplan-Meier curve of each arm's true data, thinned to ``U{20..60}``
  points (jump corners at evenly spaced ranks, as a reviewer clicks along a
  curve), with digitisation noise (normal, SD 0.4% of each axis: the size of
  the scatter of repeated WebPlotDigitizer clicks on a printed figure), then
  clicked in order along the curve (a click never goes back in time), then
  cleaned as the registry cleans a curve (:func:`survmeta.registry.km.clean_points`);
* a numbers-at-risk table every 3, 4 or 6 months from the true data, and the
  arms' total events.

Each trial is reconstructed four ways: with or without the at-risk tables,
with or without the total events. The error is the reconstructed Cox log HR
minus the Cox log HR of the true data (both fitted by
:func:`survmeta.reconstruction.cox.cox_fit`, Efron ties); coverage is that of the
95% interval ``log HR +- 1.96 sqrt(se^2 + extra^2)`` for the true
(generating) log HR, with ``extra`` the calibrated
:data:`survmeta.reconstruction.km_effect.EXTRA_SD`.

``--calibrate`` prints the extra SD per case instead (1.4826 x the median
absolute error, a robust SD, from the calibration seed 20120, 300 trials);
those numbers are pinned in :data:`~survmeta.reconstruction.km_effect.EXTRA_SD`.
The report in docs/validation.md (*Kaplan-Meier reconstruction*) is the run
``--seed 2012 --trials 300``; ``tests/km/test_validation_doc.py`` checks the
quick run ``--seed 7 --trials 6`` printed there too.

Usage::

    python validation/validate_km.py [--seed 2012] [--trials 300] [--calibrate]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass

import numpy as np

from survmeta.reconstruction.km import reconstruct_arm
from survmeta.reconstruction.km_effect import EXTRA_SD, cox_log_hr
from survmeta.registry.km import clean_points

CASES = ((True, True), (True, False), (False, True), (False, False))
CALIBRATION_SEED = 20120
NOISE = 0.004  # SD of digitisation noise, as a share of each axis


@dataclass(frozen=True)
class Trial:
    """One simulated trial: truth, true-data Cox estimate and the reconstructions per case."""

    log_hr_true: float
    log_hr_data: float
    n: tuple[int, int]
    estimates: dict  # case -> (log_hr, se)


def _arm(rng, n, scale, shape, accrual, follow):
    t = scale * rng.weibull(shape, n)
    entry = rng.uniform(0.0, accrual, n)
    cens = accrual + follow - entry
    return np.minimum(t, cens), (t <= cens).astype(int)


def _km_points(rng, time, event, k, t_axis):
    """The KM of true data thinned to ``k`` corner points with digitisation noise."""
    ut, inv = np.unique(time, return_inverse=True)
    d = np.bincount(inv, weights=event).astype(float)
    leaving = np.bincount(inv).astype(float)
    at_risk = len(time) - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    jumps = d > 0
    s = np.cumprod(1 - d[jumps] / at_risk[jumps])
    tj = ut[jumps]
    idx = np.unique(np.linspace(0, len(tj) - 1, k).round().astype(int))
    pt = np.concatenate([[0.0], tj[idx], [ut[-1]]])
    ps = np.concatenate([[1.0], s[idx], [s[-1]]])
    pt = np.clip(pt + rng.normal(0, NOISE * t_axis, len(pt)), 0, None)
    ps = np.clip(ps + rng.normal(0, NOISE, len(ps)), 0, 1.0)
    pt[0], ps[0] = 0.0, 1.0
    pt = np.maximum.accumulate(pt)  # clicks along the curve do not go back in time
    pts = [(float(a), float(b), None) for a, b in zip(pt, ps)]
    times, surv, *_ = clean_points(pts, "proportion")
    return np.array(times), np.array(surv)


def simulate(rng) -> Trial:
    """One trial (module docstring)."""
    hr = rng.uniform(0.5, 1.2)
    shape = rng.uniform(0.7, 1.6)
    median = rng.uniform(6, 24)
    scale_r = median / math.log(2) ** (1 / shape)
    scale_e = scale_r * hr ** (-1 / shape)
    accrual, follow = rng.uniform(12, 36), rng.uniform(6, 24)
    n = (int(rng.integers(50, 601)), int(rng.integers(50, 601)))
    te, ee = _arm(rng, n[0], scale_e, shape, accrual, follow)
    tr, er = _arm(rng, n[1], scale_r, shape, accrual, follow)
    log_hr_data, _ = cox_log_hr(te, ee, tr, er)
    t_axis = accrual + follow
    step = float(rng.choice([3.0, 4.0, 6.0]))
    k = int(rng.integers(20, 61))
    arms = []
    for times, event in ((te, ee), (tr, er)):
        pt, ps = _km_points(rng, times, event, k, t_axis)
        grid = np.arange(0.0, pt[-1] + 1e-9, step)
        table = np.array([(times >= g).sum() for g in grid])
        arms.append((pt, ps, len(times), grid, table, int(event.sum())))
    estimates = {}
    for with_table, with_events in CASES:
        ipd = [reconstruct_arm(pt, ps, m, grid if with_table else None,
                               table if with_table else None,
                               d if with_events else None)
               for pt, ps, m, grid, table, d in arms]
        estimates[with_table, with_events] = cox_log_hr(*ipd[0].patients(), *ipd[1].patients())
    return Trial(math.log(hr), log_hr_data, n, estimates)


def run(seed: int, trials: int) -> list[Trial]:
    rng = np.random.default_rng(seed)
    return [simulate(rng) for _ in range(trials)]


def _label(case) -> str:
    table, events = case
    return (f"{'with' if table else 'without'} at-risk table, "
            f"{'with' if events else 'without'} total events")


def report(results: list[Trial], seed: int) -> str:
    """The Markdown table of docs/validation.md for one run."""
    lines = [f"seed {seed}, {len(results)} simulated trials, "
             f"{sum(sum(r.n) for r in results)} patients",
             "",
             "| case | median abs. error vs true-data Cox | 90th percentile | "
             "bias | extra SD | 95% coverage of the true HR |",
             "|---|---|---|---|---|---|"]
    for case in CASES:
        err = np.array([r.estimates[case][0] - r.log_hr_data for r in results])
        extra = EXTRA_SD[case]
        cover = np.mean([abs(r.estimates[case][0] - r.log_hr_true)
                         <= 1.959964 * math.hypot(r.estimates[case][1], extra) for r in results])
        lines.append(f"| {_label(case)} | {np.median(np.abs(err)):.3f} | "
                     f"{np.quantile(np.abs(err), 0.9):.3f} | {err.mean():+.3f} | {extra:.3f} | "
                     f"{cover:.2f} |")
    return "\n".join(lines) + "\n"


def calibrate(results: list[Trial]) -> str:
    lines = []
    for case in CASES:
        err = np.array([r.estimates[case][0] - r.log_hr_data for r in results])
        lines.append(f"{case}: {1.4826 * np.median(np.abs(err)):.3f}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2012)
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--calibrate", action="store_true",
                        help=f"print the extra SD per case (seed {CALIBRATION_SEED} unless --seed)")
    args = parser.parse_args(argv)
    seed = CALIBRATION_SEED if args.calibrate and "--seed" not in (argv or sys.argv) else args.seed
    start = time.perf_counter()
    results = run(seed, args.trials)
    sys.stdout.write(calibrate(results) if args.calibrate else report(results, seed))
    print(f"({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
