"""Funnel plot: each estimate against its standard error."""

from __future__ import annotations

import math

import numpy as np

from survmeta.plotting._style import (
    COLOR_POOLED,
    COLOR_STUDY,
    FONT_SIZE,
    clean_series,
    fmt_num,
    hr_limits,
    new_figure,
    plain_text_figure,
    set_hr_axis,
    set_title,
)
from survmeta.plotting.forest import is_approximate

_Z = 1.959963984540054


@plain_text_figure
def plot_funnel(result, *, ax=None, label_points: bool | None = None, title: str | None = None):
    """Funnel plot: HR (log scale) against its standard error, SE axis inverted.

    The pooled HR (posterior median) is a vertical line, and the pseudo 95%
    limits ``mu +/- 1.96 SE`` are the dashed funnel. Markers are filled for a
    reported HR and open for a reconstructed one, as on the forest plot.

    Parameters
    ----------
    result : survmeta.results.PoolResult
        The fit (``effects["log_hr"]``, ``effects["se"]``, ``stats["mu"]``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw in; default a new figure.
    label_points : bool, optional
        Write the study id next to each point; default when there are at most
        15 studies.
    title : str, optional
        Default: "Funnel plot: <question>".

    Returns
    -------
    matplotlib.figure.Figure
    """
    if ax is None:
        fig = new_figure(5.6, 4.8)
        ax = fig.add_axes([0.13, 0.25, 0.82, 0.65])
    else:
        fig = ax.figure
    e = result.effects.reset_index(drop=True)
    y = clean_series(e["log_hr"])
    se = clean_series(e["se"])
    k = len(e)
    mu = float(result.stats["mu"]["median"])
    se_max = float(np.nanmax(se)) * 1.1 if k else 1.0
    se_max = max(se_max, 0.05)
    s_grid = np.linspace(0, se_max, 50)
    lo_f, hi_f = np.exp(mu - _Z * s_grid), np.exp(mu + _Z * s_grid)
    xmin, xmax = hr_limits(list(np.exp(y)) + [lo_f[-1], hi_f[-1]], min_span=4.0)
    ax.fill_betweenx(s_grid, lo_f, hi_f, color="#f0f0f0", lw=0, zorder=0)
    ax.plot(lo_f, s_grid, color="#777777", ls="--", lw=0.9, label="pseudo 95% limits")
    ax.plot(hi_f, s_grid, color="#777777", ls="--", lw=0.9)
    ax.axvline(math.exp(mu), color=COLOR_POOLED, lw=1.2,
               label=f"pooled HR {fmt_num(math.exp(mu))} (posterior median)")
    ax.axvline(1.0, color="#555555", lw=0.7, ls=":")
    approx = np.array([is_approximate(e.iloc[i]) for i in range(k)], dtype=bool)
    if (~approx).any():
        ax.scatter(np.exp(y[~approx]), se[~approx], marker="s", s=30, color=COLOR_STUDY, zorder=3,
                   label="reported HR or log-rank O\u2212E", gid="funnel-points")
    if approx.any():
        ax.scatter(np.exp(y[approx]), se[approx], marker="s", s=30, facecolors="white",
                   edgecolors=COLOR_STUDY, zorder=3, label="reconstructed (approximate)",
                   gid="funnel-points")
    if label_points is None:
        label_points = k <= 15
    set_hr_axis(ax, xmin, xmax)
    ax.set_ylim(se_max, 0)
    if label_points:
        _label_points(ax, e, y, se, xmin, xmax, se_max)
    ax.set_ylabel("Standard error of the log HR", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.45, -0.17), ncol=2, fontsize=FONT_SIZE - 1.5,
              frameon=False)
    q = getattr(result, "question", {}) or {}
    t = title if title is not None else f"Funnel plot: {q.get('title') or q.get('id')}"
    set_title(ax, t)
    if k < 10:
        ax.text(0.99, 0.01, f"k = {k}: too few studies\nto judge asymmetry", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=FONT_SIZE - 2, color="#555555")
    return fig


def _label_points(ax, e, y, se, xmin, xmax, se_max):
    """Study ids beside the points; a label that would collide goes to the other side or lower."""
    span = math.log(xmax) - math.log(xmin)
    placed: list[tuple[float, float, str]] = []  # (x, y) in axes fractions, side
    for i in np.argsort(se):
        if not (np.isfinite(y[i]) and np.isfinite(se[i])):
            continue
        fx = (y[i] - math.log(xmin)) / span
        fy = 1 - se[i] / se_max
        side, dy = "right", 0.0
        for px, py, pside in placed:
            if abs(px - fx) < 0.14 and abs(py - (fy + dy)) < 0.04 and pside == side:
                side = "left" if side == "right" else "right"
                if any(abs(qx - fx) < 0.14 and abs(qy - fy) < 0.04 and qs == side
                       for qx, qy, qs in placed):
                    dy -= 0.04
        placed.append((fx, fy + dy, side))
        off = (5, 2 + dy * 200) if side == "right" else (-5, 2 + dy * 200)
        ax.annotate(str(e.at[i, "label" if "label" in e else "study"]), (math.exp(y[i]), se[i]), xytext=off,
                    textcoords="offset points", ha="left" if side == "right" else "right",
                    fontsize=FONT_SIZE - 2, color="#333333")
