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
def plot_funnel(result, *, ax=None, label_points: bool | None = None, title: str | None = None,
                labels=None):
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
        Write the study label next to each point, where it overlaps no other label
        (a label with no free place is left out, and the figure says how many);
        default when there are at most 30 studies.
    title : str, optional
        Default: "Funnel plot: <question>".
    labels : mapping or callable, optional
        Point labels, as the forest plot's (:func:`survmeta.plotting.plot_forest`): a
        mapping from ``"study/comparison"`` or study id to a label, or
        ``f(study, comparison)``; default the effect table's ``label`` or study id.

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
    if labels is not None and "study" in e:
        from survmeta.plotting.forest import _row_labels

        e = e.assign(label=_row_labels(e, labels))
    y = clean_series(e["log_hr"])
    se = clean_series(e["se"])
    k = len(e)
    mu = float(result.stats["mu"].median)
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
        label_points = k <= 30
    set_hr_axis(ax, xmin, xmax)
    ax.set_ylim(se_max, 0)
    skipped = _label_points(ax, e, y, se, xmin, xmax, se_max) if label_points else 0
    ax.set_ylabel("Standard error of the log HR", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.45, -0.17), ncol=2, fontsize=FONT_SIZE - 1.5,
              frameon=False)
    q = getattr(result, "question", {}) or {}
    t = title if title is not None else f"Funnel plot: {q.get('title') or q.get('id')}"
    set_title(ax, t)
    foot = []
    if k < 10:
        foot.append(f"k = {k}: too few studies\nto judge asymmetry")
    if skipped:
        foot.append(f"{skipped} label(s) left out\n(no free place)")
    if foot:
        ax.text(0.99, 0.01, "\n".join(foot), transform=ax.transAxes,
                ha="right", va="bottom", fontsize=FONT_SIZE - 2, color="#555555")
    return fig


#: Offsets (points) tried for a label, in order: right, left, above-right, below-right,
#: above-left, below-left, then further out.
_OFFSETS = [(5, 2, "left"), (-5, 2, "right"), (5, 9, "left"), (5, -7, "left"), (-5, 9, "right"),
            (-5, -7, "right"), (5, 16, "left"), (5, -14, "left"), (-5, 16, "right"),
            (-5, -14, "right")]


def _renderer(fig):
    canvas = fig.canvas
    if not hasattr(canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = FigureCanvasAgg(fig)
    return canvas.get_renderer()


def _label_points(ax, e, y, se, xmin, xmax, se_max) -> int:
    """Study labels beside the points, none overlapping another or leaving the axes.

    Each label (most precise study first) tries the offsets of :data:`_OFFSETS` and takes
    the first whose drawn box overlaps no label already placed and no other study's
    marker, and stays inside the axes; a label with no free place is left out. Returns
    the number left out.
    """
    fig = ax.figure
    renderer = _renderer(fig)
    frame = ax.get_window_extent(renderer)
    from matplotlib.transforms import Bbox

    ok = np.isfinite(y) & np.isfinite(se)
    pts = ax.transData.transform(np.column_stack([np.exp(np.where(ok, y, 0.0)), np.where(ok, se, 0.0)]))
    half = 3.5 * fig.dpi / 72.0  # half the marker side (s=30 points^2), in pixels
    marks = [Bbox.from_extents(px - half, py - half, px + half, py + half) if ok[j] else None
             for j, (px, py) in enumerate(pts)]
    boxes: list = []
    skipped = 0
    col = "label" if "label" in e else "study"
    for i in np.argsort(se):
        if not (np.isfinite(y[i]) and np.isfinite(se[i])):
            continue
        placed = False
        for dx, dy, ha_side in _OFFSETS:
            ann = ax.annotate(str(e.at[i, col]), (math.exp(y[i]), se[i]), xytext=(dx, dy),
                              textcoords="offset points",
                              ha="left" if ha_side == "left" else "right", va="center",
                              fontsize=FONT_SIZE - 2, color="#333333", gid="funnel-label")
            box = ann.get_window_extent(renderer).expanded(1.04, 1.1)
            inside = (box.x0 >= frame.x0 - 2 and box.x1 <= frame.x1 + 2
                      and box.y0 >= frame.y0 - 2 and box.y1 <= frame.y1 + 2)
            hits_point = any(m is not None and j != i and box.overlaps(m)
                             for j, m in enumerate(marks))
            if inside and not hits_point and not any(box.overlaps(b) for b in boxes):
                boxes.append(box)
                placed = True
                break
            ann.remove()
        skipped += not placed
    return skipped
