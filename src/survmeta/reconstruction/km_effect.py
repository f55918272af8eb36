"""The effect from reconstructed Kaplan-Meier data: method ``km_ipd``.

Both arms' digitised curves are turned into approximate patient data
(:func:`survmeta.reconstruction.km.reconstruct_arm`, Guyot 2012), and the
reconstructed data are analysed as a trial's own data would be:

* a Cox model with the arm as the only covariate gives the log HR and its
  SE (Efron ties, as R's ``coxph``);
* the log-rank test (R's ``survdiff``) gives the chi-square and its p-value;
* the Grambsch-Therneau test (R's ``cox.zph`` of survival >= 3.0: the score
  test with time transformed by the Kaplan-Meier estimate, its default)
  checks proportional hazards; a p below :data:`PH_ALPHA` flags the estimate
  ``non_proportional``;
* the restricted mean survival time of each arm to a horizon (the
  comparison's ``rmst_horizon``, else the end of the shorter curve) and their
  difference, a second effect measure that does not need proportional
  hazards.

The three tests are written here over numpy and scipy
(:mod:`survmeta.reconstruction.cox`) and pinned to R's survival package
(``tests/reference/survival_cox.R``). A survival library was not used:
lifelines, the one that has all three, requires ``pandas<3.0`` and would hold
the whole stack to an older pandas. The RMST is the area under the
Kaplan-Meier step function, computed here in closed form
(:func:`survmeta.reconstruction.km.rmst`).

Extra error
-----------
A reconstructed log HR differs from the Cox log HR of the trial's own data by
digitisation and reconstruction error beyond the Cox SE. Its size, from the
simulation study of ``validation/validate_km.py`` (docs/validation.md,
*Kaplan-Meier reconstruction*), depends on what was printed besides the
curve, and :data:`EXTRA_SD` holds it per case; it becomes the estimate's
``se_extra``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from survmeta.reconstruction.cox import NotConverged, cox_fit, logrank, ph_test
from survmeta.reconstruction.km import ArmIPD, reconstruct_arm, rmst

__all__ = ["EXTRA_SD", "PH_ALPHA", "KMEffect", "RMSTDifference", "arm_ipd", "km_effect", "km_ipd"]

#: Significance level of the Grambsch-Therneau test below which ``non_proportional`` is flagged.
PH_ALPHA = 0.05

#: Extra SD of a reconstructed log HR beyond its Cox SE, by what both arms print:
#: ``(at-risk table, total events) -> SD``. The 1.4826 x median absolute error of the
#: reconstructed against the true-data Cox log HR in the calibration run of
#: ``validation/validate_km.py`` (seed 20120, 300 simulated trials; docs/validation.md).
EXTRA_SD: dict[tuple[bool, bool], float] = {
    (True, True): 0.019,
    (True, False): 0.019,
    (False, True): 0.037,
    (False, False): 0.070,
}


@dataclass(frozen=True)
class RMSTDifference:
    """Restricted mean survival times to ``horizon`` and their difference (experimental - reference)."""

    horizon: float
    experimental: float
    reference: float
    difference: float
    se: float

    @property
    def ci(self) -> tuple[float, float]:
        return (self.difference - 1.959964 * self.se, self.difference + 1.959964 * self.se)


@dataclass(frozen=True)
class KMEffect:
    """What the reconstructed data give.

    Attributes
    ----------
    log_hr, se : float
        Cox log HR (experimental vs reference) and its SE.
    logrank_chisq, logrank_p : float
        Log-rank test (1 df).
    ph_chisq, ph_p : float
        Grambsch-Therneau test of proportional hazards (KM time transform).
    rmst : RMSTDifference
    experimental, reference : ArmIPD
    """

    log_hr: float
    se: float
    logrank_chisq: float
    logrank_p: float
    ph_chisq: float
    ph_p: float
    rmst: RMSTDifference
    experimental: ArmIPD
    reference: ArmIPD

    @property
    def non_proportional(self) -> bool:
        return self.ph_p < PH_ALPHA


def _pooled(experimental: ArmIPD, reference: ArmIPD):
    te, ee = experimental.patients()
    tr, er = reference.patients()
    return (np.concatenate([te, tr]), np.concatenate([ee, er]),
            np.r_[np.ones(len(te)), np.zeros(len(tr))])


def cox_log_hr(experimental_time, experimental_event, reference_time, reference_event):
    """Cox log HR and SE of two groups of patients (Efron ties, :func:`~survmeta.reconstruction.cox.cox_fit`).

    Shared with the validation script, which fits the true data the same way.
    """
    fit = cox_fit(np.r_[experimental_time, reference_time],
                  np.r_[experimental_event, reference_event],
                  np.r_[np.ones(len(experimental_time)), np.zeros(len(reference_time))])
    return fit.log_hr, fit.se


def km_effect(experimental: ArmIPD, reference: ArmIPD, horizon: float | None = None) -> KMEffect:
    """Cox log HR, log-rank test, PH check and RMST difference from two reconstructed arms.

    Parameters
    ----------
    experimental, reference : ArmIPD
    horizon : float, optional
        RMST horizon; default the end of the shorter reconstructed follow-up.

    Returns
    -------
    KMEffect

    Raises
    ------
    survmeta.reconstruction.cox.NotConverged
        If the Cox estimate is infinite (no events in one arm).
    """
    time, event, group = _pooled(experimental, reference)
    cox = cox_fit(time, event, group)
    lr = logrank(time, event, group)
    ph = ph_test(cox, time, event, transform="km")
    if horizon is None:
        horizon = float(min(experimental.times[-1], reference.times[-1]))
    re_, se_e = rmst(experimental.times, experimental.events, experimental.at_risk(), horizon)
    rr, se_r = rmst(reference.times, reference.events, reference.at_risk(), horizon)
    return KMEffect(
        log_hr=cox.log_hr, se=cox.se,
        logrank_chisq=lr.chisq, logrank_p=lr.p,
        ph_chisq=ph.chisq, ph_p=ph.p,
        rmst=RMSTDifference(horizon=horizon, experimental=re_, reference=rr,
                            difference=re_ - rr, se=math.hypot(se_e, se_r)),
        experimental=experimental, reference=reference)


def arm_ipd(arm) -> ArmIPD:
    """Reconstruct one registry arm (:class:`~survmeta.registry.records.Arm` with ``km``)."""
    km = arm.km
    n = arm.n if arm.n is not None else (km.at_risk.n[0] if km.at_risk is not None else None)
    if n is None:
        raise ValueError("group size")
    events = km.total_events if km.total_events is not None else arm.events
    return reconstruct_arm(km.times, km.survival, n,
                           at_risk_times=None if km.at_risk is None else km.at_risk.times,
                           at_risk_n=None if km.at_risk is None else km.at_risk.n,
                           total_events=events, label=arm.label)


def km_ipd(comparison):
    """Method ``km_ipd``: the Cox log HR of patient data reconstructed from both arms' curves.

    Not applicable without a ``km`` curve and a group size (``n`` or the
    first at-risk count) for both arms, or if the Cox estimate of the
    reconstructed data is infinite (no events in one arm).

    Returns
    -------
    survmeta.reconstruction.methods.Estimate
        With ``se_extra`` from :data:`EXTRA_SD` and the log-rank test, the
        PH check and the RMST difference in ``inputs``.
    """
    from dataclasses import replace

    from survmeta.reconstruction import methods as M

    c = comparison
    arms = {"experimental": c.experimental, "reference": c.reference}
    for name, arm in arms.items():
        if arm.km is None:
            raise M.NotApplicable(f"no Kaplan-Meier curve for the {name} arm", missing=True)
        if arm.n is None and arm.km.at_risk is None:
            raise M.NotApplicable(f"no group size for the {name} arm (n or an at-risk table)",
                                  missing=True)
    try:
        ipd = {name: arm_ipd(arm) for name, arm in arms.items()}
        eff = km_effect(ipd["experimental"], ipd["reference"], c.rmst_horizon)
    except NotConverged as exc:
        raise M.NotApplicable(str(exc)) from None
    notes = M._Notes(c, used=[f"{a}.km" for a in arms] + [f"{a}.n" for a in arms
                                                          if arms[a].n is not None])
    both_at_risk = all(a.used_at_risk for a in ipd.values())
    both_events = all(a.used_total_events for a in ipd.values())
    notes.add("assumptions", "approximate patient data reconstructed from the digitised "
                             "Kaplan-Meier curves (Guyot 2012)"
              + (", using the numbers-at-risk tables" if both_at_risk else "")
              + (" and the total events" if both_events and both_at_risk else
                 ", using the total events" if both_events else ""))
    notes.add("assumptions", "log HR and SE from a Cox model of the reconstructed data "
                             "(Efron ties)")
    for name, a in ipd.items():
        if not a.used_at_risk:
            notes.add("flags", "km_no_at_risk")
        for note in a.notes:
            notes.add("assumptions", f"{name}: {note}")
    if eff.non_proportional:
        notes.add("flags", "non_proportional")
        notes.add("warnings", f"proportional hazards doubtful in the reconstructed data "
                              f"(Grambsch-Therneau p = {eff.ph_p:.3g}): the HR averages a hazard "
                              f"ratio that changes over time; see the RMST difference "
                              f"({eff.rmst.difference:.3g} at {eff.rmst.horizon:g})")
    inputs = {
        "arms": {name: {"n": a.n, "points": len(arms[name].km.times),
                        "at_risk_table": a.used_at_risk,
                        "total_events_printed": a.total_events_printed,
                        "total_events_reconstructed": a.total_events,
                        "at_risk_check": [list(x) for x in a.at_risk_check]}
                 for name, a in ipd.items()},
        "logrank": {"chisq": eff.logrank_chisq, "p": eff.logrank_p},
        "ph_test": {"chisq": eff.ph_chisq, "p": eff.ph_p, "transform": "km"},
        "rmst": {"horizon": eff.rmst.horizon, "experimental": eff.rmst.experimental,
                 "reference": eff.rmst.reference, "difference": eff.rmst.difference,
                 "se": eff.rmst.se},
    }
    est = notes.finish("km_ipd", eff.log_hr, eff.se, inputs)
    return replace(est, se_extra=EXTRA_SD[(both_at_risk, both_events)])
