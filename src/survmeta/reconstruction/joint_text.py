"""The joint reconstruction in words: the choice line and the methods paragraph of ``explain``."""

from __future__ import annotations

import math

from survmeta.reconstruction.joint import load_joint_calibration

__all__ = ["joint_choice_text", "joint_paragraph"]

from survmeta.settings import Z95  # noqa: E402

_ROUTE_WORDS = {
    "events": "the events in each arm",
    "total_events": "the total number of events and the allocation ratio",
    "follow_up": "the median follow-up with exponential survival in both arms",
    "patients": "the group sizes and an event fraction",
    "median_ci": "the confidence intervals of the medians",
}


def joint_choice_text(est) -> str:
    """One sentence for the *Choice* block: what the SE is made of."""
    cal = load_joint_calibration()
    n = f"; hyperparameters calibrated on {cal.n} published comparisons ({cal.source})" if cal else ""
    return (f"Posterior SD of the printed log HR {est.se_extra:.4f} added in quadrature to the "
            f"sampling SE {est.se:.4f} (the joint model{n}).")


def joint_paragraph(who: str, est, se: float) -> tuple[str, list[str]]:
    """The methods-section paragraph for a ``joint`` estimate, and its references."""
    inputs = est.inputs
    parts = []
    if "medians" in inputs:
        parts.append("the ratio of the median times (assuming exponential survival in both arms)")
    if "hr" in inputs:
        parts.append("the printed hazard ratio, to its rounding")
    if "p" in inputs:
        if "p_bound_censored" in est.flags:
            parts.append(f"the p-value, printed only as {inputs['p']}, as a censored observation of "
                         "the test statistic")
        elif "p_upper_censored" in est.flags:
            parts.append(f"the p-value ({inputs['p']}) as an upper bound on the test statistic")
        else:
            parts.append(f"the p-value ({inputs['p']}) read as the interval its printed digits "
                         "allow")
    route = inputs.get("v_route")
    if route is not None and "p" in inputs:
        parts.append(f"the log-rank information estimated from {_ROUTE_WORDS[route]}")
    listed = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    lo, hi = math.exp(est.log_hr - Z95 * se), math.exp(est.log_hr + Z95 * se)
    text = (
        f"For {who}, no hazard ratio was printed; it was reconstructed with a joint likelihood "
        f"of {listed} (Parmar et al. 1998; Tierney et al. 2007; Michiels et al. 2005), whose "
        "error terms were calibrated on published comparisons reporting both a hazard ratio and "
        f"these summaries, giving HR {math.exp(est.log_hr):.2f} (95% CI {lo:.2f}-{hi:.2f}). The "
        "log hazard ratio is the posterior mean under a flat prior, and its standard error "
        f"combines the sampling error ({est.se:.3f}) with the posterior uncertainty about the "
        f"hazard ratio the paper would have printed ({est.se_extra:.3f})."
    )
    if "sign_uncertain" in est.flags:
        text += (" The medians barely differ and the paper states no direction, so the interval "
                 "allows either sign.")
    elif "direction_from_medians" in est.flags:
        text += " The direction of the effect was taken from the medians."
    if "event_fraction_prior" in est.flags:
        ef = inputs.get("v_event_fraction")
        if ef:
            text += (f" The share of patients with an event was taken as {ef[0]:g}-{ef[1]:g}, as "
                     "set in the registry.")
        else:
            text += (" The share of patients with an event was taken from randomised trials of "
                     "overall survival in advanced cancer, which may not describe this population.")
    if "non_normal" in est.flags:
        text += " Its posterior is not normal; pooling used the normal approximation."
    refs = ["Parmar 1998", "Tierney 2007", "Michiels 2005"]
    return text, refs


