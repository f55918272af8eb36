"""Reconstruction of published digitised Kaplan-Meier curves (``validation/km_published/``).

Two examples whose digitised points and numbers-at-risk tables are public, each with a number
printed (or computed from the source's own printed code) to compare against:

* ``bonner2006/lrc`` -- Bonner et al. 2006 (NEJM 354:567), locoregional control, the
  radiotherapy arm as digitised for IPDfromKM. Printed: median 14.9 months. Only this arm's
  points are public as text, so the median, not a HR, is compared.
* ``reconstructkm_walkthrough/pfs`` -- the simulated trial of the reconstructKM vignette, its
  DigitizeIt clicks and at-risk table as shipped. Reference: the Cox HR (Efron ties) and events
  of the true data, re-simulated from the vignette's code in R
  (``tests/reference/survival_reconstructkm.R``, output ``survival_reconstructkm.Rout``).

Usage::

    python validation/km_published.py
"""

from __future__ import annotations

import math
from pathlib import Path

from survmeta.reconstruction.km_effect import arm_ipd, km_effect
from survmeta.registry import load_registry

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "validation" / "km_published" / "studies.toml"
ROUT = ROOT / "tests" / "reference" / "survival_reconstructkm.Rout"

BONNER_MEDIAN = 14.9  # months, radiotherapy arm (Bonner 2006, abstract)


def r_reference(path: Path = ROUT) -> dict[str, float]:
    """The ``REF key value`` lines of the R output."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("REF "):
            _, key, value = line.split()[:3]
            out[key] = float(value)
    return out


def km_median(arm) -> float:
    """Median of the reconstructed arm's Kaplan-Meier curve (first time with S <= 0.5)."""
    times, surv = arm.km()
    below = [t for t, s in zip(times, surv) if s <= 0.5]
    return float(below[0]) if below else math.nan


def comparison(study_id: str, comp_id: str, registry=None):
    reg = registry if registry is not None else load_registry(REGISTRY)
    study = next(s for s in reg.studies if s.id == study_id)
    return next(c for c in study.comparisons if c.id == comp_id)


def bonner() -> dict[str, float]:
    """Reconstructed radiotherapy arm of Bonner 2006: median and events."""
    arm = arm_ipd(comparison("bonner2006", "lrc").reference)
    return {"median": km_median(arm), "printed_median": BONNER_MEDIAN,
            "events": arm.total_events, "n": arm.n}


def walkthrough() -> dict[str, float]:
    """Reconstructed reconstructKM walkthrough trial: Cox log HR and events beside the truth."""
    c = comparison("reconstructkm_walkthrough", "pfs")
    eff = km_effect(arm_ipd(c.experimental), arm_ipd(c.reference))
    ref = r_reference()
    return {"log_hr": eff.log_hr, "se": eff.se, "true_log_hr": ref["reconstructkm.cox.log_hr"],
            "true_se": ref["reconstructkm.cox.se"],
            "events_exp": eff.experimental.total_events, "events_ref": eff.reference.total_events,
            "true_events_exp": ref["reconstructkm.events.treatment"],
            "true_events_ref": ref["reconstructkm.events.placebo"]}


def _hr(log_hr: float, se: float) -> str:
    return (f"{math.exp(log_hr):.3f} ({math.exp(log_hr - 1.959964 * se):.3f}-"
            f"{math.exp(log_hr + 1.959964 * se):.3f})")


def main() -> int:
    b = bonner()
    w = walkthrough()
    print("example | quantity | source | reconstructed")
    print(f"bonner2006/lrc (radiotherapy) | median, months | {b['printed_median']:.1f} | "
          f"{b['median']:.2f}")
    print(f"bonner2006/lrc (radiotherapy) | events | not printed | {b['events']} of {b['n']}")
    print(f"reconstructkm_walkthrough/pfs | HR (95% CI) | {_hr(w['true_log_hr'], w['true_se'])} | "
          f"{_hr(w['log_hr'], w['se'])}")
    print(f"reconstructkm_walkthrough/pfs | log HR difference | | "
          f"{w['log_hr'] - w['true_log_hr']:+.4f}")
    print(f"reconstructkm_walkthrough/pfs | events (treatment/placebo) | "
          f"{w['true_events_exp']:.0f}/{w['true_events_ref']:.0f} | "
          f"{w['events_exp']}/{w['events_ref']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
