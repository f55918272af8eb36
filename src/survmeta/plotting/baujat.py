"""Baujat plot: each study's contribution to heterogeneity against its influence."""

from __future__ import annotations

import numpy as np

from survmeta.plotting._style import (
    COLOR_STUDY,
    FONT_SIZE,
    new_figure,
    plain_text_figure,
    set_title,
)


@plain_text_figure
def plot_baujat(result, *, ax=None, label_points: bool = True, title: str | None = None):
    """Baujat plot of :func:`survmeta.exact.influence.baujat` coordinates (metafor's ``baujat()``).

    The x axis is each study's squared Pearson residual (its contribution to
    Cochran's Q under the common-effect model), the y axis its influence on the
    pooled estimate, ``(mu_(-i) - mu)^2 / var(mu_(-i))``. Studies in the upper
    right both add heterogeneity and move the result.

    Parameters
    ----------
    result : survmeta.exact.influence.Baujat
        The coordinates.
    ax : matplotlib.axes.Axes, optional
        Axes to draw in; default a new figure.
    label_points : bool
        Write each study's label next to its point.
    title : str, optional
        Default: "Baujat plot".

    Returns
    -------
    matplotlib.figure.Figure
    """
    if ax is None:
        fig = new_figure(5.6, 4.8)
        ax = fig.add_axes([0.13, 0.12, 0.82, 0.78])
    else:
        fig = ax.figure
    x, y = np.asarray(result.x, dtype=float), np.asarray(result.y, dtype=float)
    ax.scatter(x, y, marker="o", s=30, color=COLOR_STUDY, zorder=3, gid="baujat-points")
    if label_points:
        for lab, xi, yi in zip(result.labels, x, y):
            ax.annotate(str(lab), (xi, yi), xytext=(5, 2), textcoords="offset points",
                        fontsize=FONT_SIZE - 2, color="#333333")
    common = result.method == "FE"
    ax.set_xlabel("Contribution to overall heterogeneity" if common
                  else "Squared Pearson residual", fontsize=FONT_SIZE)
    ax.set_ylabel("Influence on overall result", fontsize=FONT_SIZE)
    ax.grid(color="#dddddd", lw=0.6, zorder=0)
    ax.tick_params(labelsize=FONT_SIZE)
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    set_title(ax, title if title is not None else "Baujat plot")
    return fig
