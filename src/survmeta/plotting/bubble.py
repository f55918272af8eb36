"""Bubble plot of a meta-regression: each study's HR against a continuous moderator."""

from __future__ import annotations

import numpy as np
from scipy import stats

from survmeta.errors import SurvmetaError
from survmeta.plotting._style import (
    COLOR_POOLED,
    COLOR_SHADE,
    COLOR_STUDY,
    FONT_SIZE,
    hr_limits,
    new_figure,
    plain_text_figure,
    set_hr_axis,
    set_title,
)


@plain_text_figure
def plot_bubble(y, sigma, x, result, *, labels=None, xlabel: str | None = None, ax=None,
                title: str | None = None):
    """Bubble plot (metafor's ``regplot()``) of a one-moderator meta-regression.

    Each study is a circle at (moderator, HR) with its area proportional to its
    weight in the fit, 1 / (s_i^2 + tau^2); the line is the fitted HR,
    exp(b0 + b1 x), with its pointwise confidence band at the fit's level
    (z or Knapp-Hartung t, as the fit). The HR axis is logarithmic.

    Parameters
    ----------
    y, sigma : array_like
        Log HRs and their SEs (those the model was fitted to).
    x : array_like
        The moderator's values.
    result : survmeta.exact.MetaRegression
        Fit of :func:`survmeta.exact.rma_mods` with one continuous moderator.
    labels : sequence of str, optional
        Study labels written next to the circles.
    xlabel : str, optional
        Default: the moderator's name.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
        Default: "Meta-regression on <moderator>".

    Returns
    -------
    matplotlib.figure.Figure
    """
    y, s, x = (np.asarray(a, dtype=float) for a in (y, sigma, x))
    if result.p != 2:
        raise SurvmetaError(f"a bubble plot needs a fit with one moderator; this one has "
                            f"{result.p - 1}")
    if not (y.shape == s.shape == x.shape == (result.k,)):
        raise SurvmetaError(f"y, sigma and x must have one value per study ({result.k})")
    name = result.coefficients[1].name
    if ax is None:
        fig = new_figure(5.6, 4.6)
        ax = fig.add_axes([0.13, 0.12, 0.82, 0.78])
    else:
        fig = ax.figure
    w = 1.0 / (s ** 2 + result.tau2)
    area = 600.0 * w / w.max()
    grid = np.linspace(x.min(), x.max(), 200)
    fit, se = result.predict(grid[:, None])
    crit = (stats.t.ppf(0.5 + result.level / 2, result.df) if result.df is not None
            else stats.norm.ppf(0.5 + result.level / 2))
    lo, hi = np.exp(fit - crit * se), np.exp(fit + crit * se)
    ax.fill_between(grid, lo, hi, color=COLOR_SHADE, alpha=0.5, lw=0, zorder=1,
                    gid="bubble-band")
    ax.plot(grid, np.exp(fit), color=COLOR_POOLED, lw=1.4, zorder=2, gid="bubble-line")
    ax.scatter(x, np.exp(y), s=area, facecolor=COLOR_STUDY, edgecolor="white", alpha=0.6,
               lw=0.8, zorder=3, gid="bubble-points")
    if labels is not None:
        for lab, xi, yi in zip(labels, x, np.exp(y)):
            ax.annotate(str(lab), (xi, yi), xytext=(6, 3), textcoords="offset points",
                        fontsize=FONT_SIZE - 2, color="#333333")
    ax.axhline(1.0, color="#666666", lw=0.8, ls="--", zorder=0)
    ylo, yhi = hr_limits(np.concatenate([np.exp(y), lo, hi]))
    set_hr_axis(ax, ylo, yhi, label="Hazard ratio (log scale)", axis="y")
    span = x.max() - x.min() or 1.0
    # room on the right for the last study's label, drawn to the right of its bubble
    ax.set_xlim(x.min() - 0.05 * span, x.max() + (0.15 if labels is not None else 0.05) * span)
    if np.all(x == np.round(x)):
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # years, counts of lesions
    ax.set_xlabel(xlabel if xlabel is not None else name, fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)
    ax.grid(color="#dddddd", lw=0.6, zorder=0)
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    set_title(ax, title if title is not None else f"Meta-regression on {name}")
    return fig
