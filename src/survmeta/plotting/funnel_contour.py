"""Contour-enhanced funnel plot (Peters et al. 2008, J Clin Epidemiol 61:991-996)."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from survmeta.errors import SurvmetaError
from survmeta.plotting._style import (
    COLOR_POOLED,
    COLOR_STUDY,
    FONT_SIZE,
    fmt_num,
    hr_limits,
    new_figure,
    plain_text_figure,
    set_hr_axis,
    set_title,
)

#: Significance contours, from the outermost band inwards, and their shades.
LEVELS = (0.01, 0.05, 0.10)
SHADES = {0.01: "#9e9e9e", 0.05: "#c4c4c4", 0.10: "#e6e6e6"}


def _inputs(result, sigma):
    if sigma is None:
        effects = getattr(result, "effects", None)
        if effects is None:
            raise SurvmetaError("give a pooled result, or estimates and their standard errors")
        e = effects.reset_index(drop=True)
        y = np.asarray(e["log_hr"], dtype=float)
        s = np.asarray(e["se"], dtype=float)
    else:
        y = np.atleast_1d(np.asarray(result, dtype=float))
        s = np.atleast_1d(np.asarray(sigma, dtype=float))
    if y.ndim != 1 or y.shape != s.shape:
        raise SurvmetaError("the estimates and standard errors must be 1-D and of equal length")
    keep = np.isfinite(y) & np.isfinite(s) & (s > 0)
    return y[keep], s[keep]


@plain_text_figure
def plot_funnel_contour(result, sigma=None, *, pooled: float | None = None,
                        ax=None, title: str | None = None):
    """Contour-enhanced funnel plot: HR (log scale) against its SE, SE axis inverted.

    The regions where a study's two-sided z test of HR = 1 has p < 0.10,
    p < 0.05 and p < 0.01 are shaded, lighter to darker, on both sides of HR =
    1 (``|log HR| > z_{1 - p/2} SE``); the unshaded wedge around 1 is p >= 0.10.
    Studies missing from the shaded regions on one side, rather than from the
    regions of non-significance, point to publication bias rather than to other
    causes of asymmetry.

    Parameters
    ----------
    result : survmeta.results.PoolResult or array_like
        A pooled result (its ``effects["log_hr"]`` and ``effects["se"]``; the
        pooled line at ``stats["mu"].median``), or the log HRs themselves
        when ``sigma`` is given.
    sigma : array_like, optional
        Standard errors of the log HRs, when ``result`` is an array.
    pooled : float, optional
        Pooled log HR to draw as a vertical line (default: the result's
        posterior median, none for arrays).
    ax : matplotlib.axes.Axes, optional
        Axes to draw in; default a new figure.
    title : str, optional
        Default "Contour-enhanced funnel plot".

    Returns
    -------
    matplotlib.figure.Figure
    """
    y, s = _inputs(result, sigma)
    if pooled is None and sigma is None:
        pooled = float(result.stats["mu"].median)
    if ax is None:
        fig = new_figure(5.6, 4.8)
        ax = fig.add_axes([0.13, 0.25, 0.82, 0.65])
    else:
        fig = ax.figure
    se_max = max(float(np.max(s)) * 1.1 if s.size else 1.0, 0.05)
    z = {p: float(stats.norm.ppf(1.0 - p / 2.0)) for p in LEVELS}
    half = z[0.01] * se_max * 1.15
    xmin, xmax = hr_limits(list(np.exp(y)) + [math.exp(-half), math.exp(half)], min_span=4.0)
    grid = np.linspace(0.0, se_max, 60)
    bounds = [z[0.01], z[0.05], z[0.10]]
    outer = {0.01: None, 0.05: z[0.01], 0.10: z[0.05]}
    for p, inner in zip(LEVELS, bounds):
        lim = outer[p]
        for sign in (-1.0, 1.0):
            a = np.exp(sign * inner * grid)
            b = np.full_like(grid, xmax if sign > 0 else xmin) if lim is None \
                else np.exp(sign * lim * grid)
            ax.fill_betweenx(grid, a, b, color=SHADES[p], lw=0, zorder=0,
                             gid=f"funnel-contour-p{p:.2f}",
                             label=None if sign < 0 else _band_label(p))
    ax.axvline(1.0, color="#555555", lw=0.8, ls=":")
    if pooled is not None:
        ax.axvline(math.exp(pooled), color=COLOR_POOLED, lw=1.2,
                   label=f"pooled HR {fmt_num(math.exp(pooled))}")
    ax.scatter(np.exp(y), s, marker="s", s=30, color=COLOR_STUDY, zorder=3, label="study",
               gid="funnel-points")
    set_hr_axis(ax, xmin, xmax)
    ax.set_ylim(se_max, 0)
    ax.set_ylabel("Standard error of the log HR", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.45, -0.17), ncol=3, fontsize=FONT_SIZE - 1.5,
              frameon=False)
    set_title(ax, title if title is not None else "Contour-enhanced funnel plot")
    if y.size < 10:
        ax.text(0.99, 0.01, f"k = {y.size}: too few studies\nto judge asymmetry",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=FONT_SIZE - 2,
                color="#555555")
    return fig


def _band_label(p: float) -> str:
    return {0.01: "p < 0.01", 0.05: "0.01 \u2264 p < 0.05", 0.10: "0.05 \u2264 p < 0.10"}[p]
