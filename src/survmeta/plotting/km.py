"""Kaplan-Meier overlay: the digitised points and the curve of the reconstructed data per arm.

The check every reviewer does by eye after reconstructing patient data from a
published curve: the reconstructed Kaplan-Meier curve should run through the
digitised points, and its numbers at risk should match the printed table.
"""

from __future__ import annotations

import numpy as np

from survmeta.plotting._style import (
    COLOR_POOLED,
    COLOR_STUDY,
    FONT_SIZE,
    new_figure,
    plain_text_figure,
    set_title,
)

__all__ = ["plot_km"]

_COLORS = {"experimental": COLOR_POOLED, "reference": COLOR_STUDY}


@plain_text_figure
def plot_km(comparison, *, time_unit: str | None = None, title: str | None = None):
    """Digitised points and the reconstructed Kaplan-Meier curve per arm, at-risk table below.

    Parameters
    ----------
    comparison : survmeta.registry.records.Comparison
        A comparison whose arms carry ``km`` curves (and a group size).
    time_unit : str, optional
        Axis label unit; default the comparison's ``time_unit``.
    title : str, optional
        Default ``"<study>/<comparison>: Kaplan-Meier reconstruction"``.

    Returns
    -------
    matplotlib.figure.Figure
        The table below the curves gives, per arm and at-risk time, the
        printed count and (in brackets) the reconstruction's; without a
        printed table, the reconstruction's counts at regular times.

    Raises
    ------
    SurvmetaError
        When an arm has no curve or no group size.
    """
    from survmeta.errors import SurvmetaError
    from survmeta.reconstruction.km_effect import arm_ipd

    arms = [("experimental", comparison.experimental), ("reference", comparison.reference)]
    for name, arm in arms:
        if arm.km is None or (arm.n is None and arm.km.at_risk is None):
            raise SurvmetaError(f"comparison {comparison.key}: the {name} arm has no "
                                "Kaplan-Meier curve with a group size")
    ipds = {name: arm_ipd(arm) for name, arm in arms}
    fig = new_figure(6.4, 4.6)
    ax = fig.add_axes((0.12, 0.36, 0.84, 0.56))
    tab = fig.add_axes((0.12, 0.04, 0.84, 0.2))
    t_max = max(float(max(a.km.times[-1], ipds[n].times[-1])) for n, a in arms)
    for name, arm in arms:
        color = _COLORS[name]
        ax.plot(arm.km.raw_times, arm.km.raw_survival, "o", ms=3.5, mfc="none", color=color,
                label=f"{arm.label}: digitised ({len(arm.km.raw_times)} points)")
        t, s = ipds[name].km()
        t = np.append(t, ipds[name].times[-1])
        s = np.append(s, s[-1])
        ax.step(t, s, where="post", color=color, lw=1.3,
                label=f"{arm.label}: reconstructed (n = {ipds[name].n}, "
                      f"{ipds[name].total_events} events)")
    ax.set_xlim(0, t_max * 1.02)
    ax.set_ylim(0, 1.02)
    unit = time_unit or comparison.time_unit
    ax.set_xlabel(f"Time ({unit})", fontsize=FONT_SIZE)
    ax.set_ylabel("Survival", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)
    ax.legend(fontsize=FONT_SIZE - 1.5, frameon=False, loc="upper right")
    set_title(ax, title or f"{comparison.key}: Kaplan-Meier reconstruction")
    # the at-risk table
    printed = [a.km.at_risk for _, a in arms]
    times = next((list(p.times) for p in printed if p is not None),
                 list(np.linspace(0, t_max, 6)))
    times = [x for x in times if x <= t_max]
    tab.set_xlim(ax.get_xlim())
    tab.set_ylim(-0.5, 2.2)
    tab.axis("off")
    tab.text(0, 2.0, "At risk: printed (reconstructed)", fontsize=FONT_SIZE - 1,
             transform=tab.transData)
    for row, (name, arm) in enumerate(arms):
        y = 1 - row
        tab.text(-0.03, y, arm.label, ha="right", va="center", fontsize=FONT_SIZE - 1,
                 color=_COLORS[name], transform=tab.get_yaxis_transform())
        table = dict(zip(arm.km.at_risk.times, arm.km.at_risk.n)) if arm.km.at_risk else {}
        for x in times:
            rebuilt = ipds[name].at_risk_at(x)
            text = f"{table[x]} ({rebuilt})" if x in table else f"({rebuilt})"
            tab.text(x, y, text, ha="left" if x == 0 else "center", va="center",
                     fontsize=FONT_SIZE - 1.5,
                     color=_COLORS[name])
    return fig
