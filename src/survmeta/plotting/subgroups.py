"""Subgroup forest plot: studies grouped by a registry field, a diamond per subgroup.

As RevMan and metafor draw it: each subgroup's studies under a bold heading, the
subgroup's pooled HR as a diamond on a "Subtotal" row, the overall pooled HR as the
last diamond, and the test for subgroup differences printed under the plot.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from survmeta._format import fmt_pval
from survmeta.plotting._layout import MARGIN, Column, ForestLayout
from survmeta.plotting._style import (
    COLOR_POOLED,
    COLOR_STUDY,
    FONT_SIZE,
    fmt_interval,
    hr_limits,
    plain_text_figure,
    set_hr_axis,
    wrap_to_width,
)
from survmeta.plotting.forest import _clip_interval, _diamond, _favours, _level_pct, _row_labels

__all__ = ["plot_subgroup_forest"]

#: Colour of the subgroup diamonds (lighter than the overall one).
COLOR_SUBTOTAL = "#4a7bb7"


@plain_text_figure
def plot_subgroup_forest(result, *, by: str = "endpoint", analysis=None, labels=None,
                         title: str | None = None, xlim=None, plot_width: float = 3.2,
                         max_label_width: float = 3.0):
    """Forest plot of one question with its studies grouped by ``by`` and subgroup diamonds.

    Parameters
    ----------
    result : survmeta.results.PoolResult
        The question's fit (its ``effects``, ``stats["hr"]``, ``level`` and ``question``).
    by : str
        Effect-table column that defines the subgroups (``endpoint`` by default).
    analysis : survmeta.subgroups.SubgroupAnalysis, optional
        A subgroup analysis already computed for ``by``; default ``result.subgroups(by)``.
    labels : mapping or callable, optional
        Row labels, as in :func:`survmeta.plotting.plot_forest`.
    title : str, optional
        Default: the question's title and "by <field>".
    xlim : (float, float), optional
        HR axis limits; default chosen to the intervals.
    plot_width, max_label_width : float
        Panel width and label cap, inches.

    Returns
    -------
    matplotlib.figure.Figure
        The diamonds carry the gids ``subgroup-diamond`` and ``pooled-diamond``.

    Raises
    ------
    survmeta.errors.SurvmetaError
        Fewer than two subgroups (from the subgroup analysis).
    """
    sub = analysis if analysis is not None else result.subgroups(by=by)
    eff = result.effects.reset_index(drop=True)
    row_label = dict(zip(map(str, eff["key"]), _row_labels(eff, labels)))
    by_key = {str(k): i for i, k in enumerate(eff["key"])}
    rows: list[tuple[str, Any]] = []  # (kind, payload) from top to bottom
    for g in sub.groups:
        rows.append(("heading", g))
        rows.extend(("study", by_key[str(k)]) for k in g.keys)
        rows.append(("subtotal", g))
    rows.append(("overall", None))
    n = len(rows)
    pct = _level_pct(result.level)
    hr, lo, hi = (eff[c].to_numpy(float) for c in ("hr", "hr_lower", "hr_upper"))
    s = result.stats["hr"]
    ov = (float(s.median), *s.eti.as_tuple())
    if xlim is None:
        vals = list(hr) + list(lo) + list(hi) + list(ov)
        for g in sub.groups:
            vals += list(g.hr)
        xmin, xmax = hr_limits([v for v in vals if np.isfinite(v) and v > 0])
    else:
        xmin, xmax = xlim

    label_cells: dict[int, str] = {}
    ci_cells: dict[int, str] = {}
    bold: set[int] = set()
    for y, (kind, obj) in enumerate(rows):
        if kind == "heading":
            label_cells[y] = f"{sub.by}: {obj.name}"
            bold.add(y)
        elif kind == "study":
            label_cells[y] = "  " + row_label[str(eff.at[obj, "key"])]
            ci_cells[y] = fmt_interval(hr[obj], lo[obj], hi[obj])
        elif kind == "subtotal":
            label_cells[y] = f"  Subtotal (k = {obj.k})"
            ci_cells[y] = fmt_interval(*obj.hr)
        else:
            label_cells[y] = f"Overall (k = {len(eff)})"
            ci_cells[y] = fmt_interval(*ov)
            bold.add(y)
    left = [Column("Study", label_cells, "left", max_width=max_label_width, bold_rows=bold)]
    right = [Column(f"HR [{pct} CI / CrI]", ci_cells, "right", bold_rows=bold)]
    test = (f"Test for subgroup differences: Q = {sub.q_between:.2f}, df = {sub.df}, "
            f"p {fmt_pval(sub.p_between, equal=True)}")
    q = result.question or {}
    has_fav = bool(q.get("experimental") or q.get("reference"))
    y_top, y_bottom = -0.7, n - 1 + 0.7
    if title is None:
        title = f"{q.get('title') or q.get('id') or 'Question'}: by {sub.by}"
    layout = ForestLayout(left, right, y_top, y_bottom, 0.26, plot_width,
                          top=0.38 + 0.62, bottom=0.62 + (0.42 if has_fav else 0) + 0.22,
                          min_width=5.0)
    fig, ax = layout.fig, layout.ax
    fig.text(MARGIN / layout.width, 1 - 0.1 / layout.height,
             wrap_to_width(title, 0.88 * (layout.width - 2 * MARGIN), FONT_SIZE + 2, 2),
             ha="left", va="top", fontsize=FONT_SIZE + 2, fontweight="bold")
    set_hr_axis(ax, xmin, xmax)
    ax.xaxis.labelpad = 3
    layout.draw_columns(y_top - 0.55)
    layout.hrule(y_top - 0.05)
    ax.plot([1, 1], [y_top + 0.2, y_bottom - 0.2], color="#555555", lw=0.8, zorder=1)
    for y, (kind, obj) in enumerate(rows):
        if kind == "study":
            i = int(obj)
            _clip_interval(ax, y, lo[i], hi[i], xmin, xmax, COLOR_STUDY, 1.1)
            if xmin <= hr[i] <= xmax:
                ax.scatter([hr[i]], [y], s=30, marker="s", color=COLOR_STUDY, zorder=3,
                           gid="study-point")
        elif kind == "subtotal":
            est, lo_g, hi_g = obj.hr
            _diamond(ax, y, est, lo_g, hi_g, xmin, xmax, half_height=0.3, color=COLOR_SUBTOTAL,
                     gid="subgroup-diamond")
        elif kind == "overall":
            layout.hrule(y - 0.5, lw=0.5)
            _diamond(ax, y, ov[0], ov[1], ov[2], xmin, xmax, gid="pooled-diamond")
            if math.isfinite(ov[0]):
                ax.plot([ov[0], ov[0]], [y_top + 0.2, y_bottom - 0.2], color=COLOR_POOLED,
                        lw=0.6, ls=":", zorder=1)
    _favours(layout, q, xmin, xmax, offset_pt=34)
    fig.text(MARGIN / layout.width, 0.05 / layout.height, test, ha="left", va="bottom",
             fontsize=FONT_SIZE - 1, gid="subgroup-test")
    return fig
