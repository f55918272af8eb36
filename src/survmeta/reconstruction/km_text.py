"""The words :func:`survmeta.reconstruction.explain` uses for a ``km_ipd`` estimate."""

from __future__ import annotations

import math

#: References a ``km_ipd`` explanation cites (merged into ``explain.REFERENCES``).
KM_REFERENCES = {
    "Guyot 2012": (
        "Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary analysis of survival "
        "data: reconstructing the data from published Kaplan-Meier survival curves. BMC Med "
        "Res Methodol. 2012;12:9."
    ),
    "Grambsch 1994": (
        "Grambsch PM, Therneau TM. Proportional hazards tests and diagnostics based on "
        "weighted residuals. Biometrika. 1994;81:515-526."
    ),
}

_Z95 = 1.959964


def km_choice_lines(est) -> list[str]:
    """Lines for the *Choice* block: the reconstruction per arm, the tests, the SE."""
    inp = est.inputs
    out = []
    for name, arm in inp["arms"].items():
        table = "with its at-risk table" if arm["at_risk_table"] else "without an at-risk table"
        printed = arm["total_events_printed"]
        events = (f"{arm['total_events_reconstructed']} events (printed {printed})"
                  if printed is not None else f"{arm['total_events_reconstructed']} events")
        line = f"  {name}: {arm['points']} digitised points {table}; n = {arm['n']}, {events}"
        misses = [f"{t:g}: {p} printed, {r} rebuilt" for t, p, r in arm["at_risk_check"] if p != r]
        if misses:
            line += "; at risk " + ", ".join(misses)
        out.append(line + ".")
    lr, ph, rm = inp["logrank"], inp["ph_test"], inp["rmst"]
    out.append(f"  Log-rank chi-square {lr['chisq']:.3f} (p = {lr['p']:.3g}); Grambsch-Therneau "
               f"test of proportional hazards p = {ph['p']:.3g}"
               + (" (flag non_proportional)" if "non_proportional" in est.flags else "") + ".")
    lo, hi = rm["difference"] - _Z95 * rm["se"], rm["difference"] + _Z95 * rm["se"]
    out.append(f"  RMST to {rm['horizon']:g}: {rm['experimental']:.2f} vs {rm['reference']:.2f}, "
               f"difference {rm['difference']:.2f} (95% CI {lo:.2f} to {hi:.2f}).")
    out.append(f"  Extra error SD {est.se_extra:.4f} of a reconstruction from curves added in "
               f"quadrature to the Cox SE {est.se:.4f} (simulation calibration, docs/validation.md, "
               "Kaplan-Meier reconstruction).")
    return out


def km_paragraph(who: str, est, se: float) -> tuple[str, list[str]]:
    """The methods-section paragraph for a ``km_ipd`` estimate, and its references."""
    arms = est.inputs["arms"].values()
    extra = []
    if all(a["at_risk_table"] for a in arms):
        extra.append("the published numbers at risk")
    if all(a["total_events_printed"] is not None for a in arms):
        extra.append("the total numbers of events")
    using = f", using {' and '.join(extra)}" if extra else ""
    rm = est.inputs["rmst"]
    text = (f"For {who}, individual patient data were reconstructed from the digitised "
            f"Kaplan-Meier curves with the algorithm of Guyot et al. 2012{using}, and a Cox model "
            f"of the reconstructed data gave HR {math.exp(est.log_hr):.2f} (95% CI "
            f"{math.exp(est.log_hr - _Z95 * se):.2f}-{math.exp(est.log_hr + _Z95 * se):.2f}), "
            f"with an extra error SD of {est.se_extra:.3f} for the reconstruction added to its "
            f"standard error. The restricted mean survival time difference to {rm['horizon']:g} "
            f"was {rm['difference']:.2f}.")
    if "non_proportional" in est.flags:
        text += (f" The Grambsch-Therneau test suggested non-proportional hazards (p = "
                 f"{est.inputs['ph_test']['p']:.3g}; Grambsch and Therneau 1994).")
    return text, ["Guyot 2012", "Grambsch 1994"]
