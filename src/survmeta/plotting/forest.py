"""Forest plots: per question, cumulative by year, leave-one-out.

The per-question plot shows, for every pooled comparison, the label, year, n,
endpoint, reconstruction method, the hazard ratio with its confidence interval
as text, a square whose area is proportional to the weight (filled for a
reported HR or log-rank O - E, open for an estimate reconstructed by an
approximate method), optionally the shrunken (posterior) study estimate, the
pooled diamond (posterior median and credible interval), the prediction
interval, and the heterogeneity summary.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon

from survmeta.plotting._layout import Column, ForestLayout, MARGIN
from survmeta._format import fmt_level
from survmeta.plotting._style import (
    COLOR_POOLED,
    COLOR_PREDICT,
    COLOR_SHRUNK,
    COLOR_STUDY,
    FONT_SIZE,
    clean_series,
    fmt_interval,
    fmt_num,
    fmt_prob,
    hr_limits,
    plain_text_figure,
    set_hr_axis,
    text_width_in,
    wrap_to_width,
)

#: Largest marker side (points) of the study with the most weight.
MAX_SQUARE_PT = 10.0
#: Smallest marker side (points): lighter studies are drawn at this size so they stay visible.
MIN_SQUARE_PT = 2.5

#: Methods that use a hazard ratio (or log-rank O - E) the paper printed.
REPORTED_METHODS = frozenset({"hr_ci", "hr_p", "hr", "logrank_oe", "logrank", "direct", "effect"})


def is_approximate(row) -> bool:
    """Whether an effect-table row comes from an approximate reconstruction."""
    val = row.get("approximate") if hasattr(row, "get") else None
    if val is not None and not (isinstance(val, float) and math.isnan(val)):
        return bool(val)
    return str(row.get("method")) not in REPORTED_METHODS


def _level_pct(level: float) -> str:
    return fmt_level(level)


def _i2_percent(freq: Mapping | None) -> float | None:
    """I^2 in percent from the frequentist companion dict, whatever its spelling."""
    if not freq:
        return None
    reml = freq.get("REML") if isinstance(freq, Mapping) else None
    if isinstance(reml, Mapping) and reml.get("I2") is not None:
        v = float(reml["I2"])  # percent, as metafor reports it
        return None if math.isnan(v) else v
    for key in ("i2_percent", "I2_percent"):
        if freq.get(key) is not None:
            return float(freq[key])
    for key in ("i2", "I2", "i_squared", "I^2"):
        v = freq.get(key)
        if v is None:
            continue
        try:
            v = float(v)
        except (TypeError, ValueError):
            continue
        if math.isnan(v):
            return None
        return v * 100 if v <= 1.0 else v
    return None


def _row_labels(effects: pd.DataFrame, labels) -> list[str]:
    studies = [str(s) for s in effects["study"]]
    shown = dict(zip(studies, map(str, effects["label"]))) if "label" in effects else {}
    comps = [str(c) for c in effects["comparison"]] if "comparison" in effects else [""] * len(studies)
    dup = {s for s in studies if studies.count(s) > 1}
    out = []
    for s, c in zip(studies, comps):
        key = f"{s}/{c}"
        if callable(labels):
            lab = labels(s, c)
        elif isinstance(labels, Mapping):
            lab = labels.get(key, labels.get(s, shown.get(s, s)))
            if s in dup and key not in labels:
                lab = f"{lab} ({c})"
        else:
            lab = shown.get(s, s)
            lab = f"{lab} ({c})" if s in dup else lab
        out.append(str(lab))
    return out


#: Text columns of :func:`plot_forest` and their headings. "E / R": experimental arm /
#: reference arm, as the paper printed them (from ``reported=``).
FOREST_COLUMNS = {
    "year": "Year",
    "n": "n",
    "endpoint": "Endpoint",
    "method": "Method",
    "medians": "Median E / R",
    "arm_n": "n E / R",
    "events": "Events E / R",
    "p": "p",
}


def _printed(v) -> str | None:
    """A printed number or bound as text: ``18.9``, ``52``, ``NR``; None when not printed."""
    if v is None:
        return None
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return f"{v:g}"
    return str(v)


def _pair(a, b) -> str:
    a, b = _printed(a), _printed(b)
    if a is None and b is None:
        return "-"
    return f"{a or '-'} / {b or '-'}"


def reported_cell(col: str, values: Mapping | None) -> str:
    """The cell of a reported-values column (``"medians"``, ``"arm_n"``, ``"events"``, ``"p"``).

    ``values`` is one entry of :func:`survmeta.registry.summary.printed_arms`;
    "-" where the paper printed nothing. Events: per arm, else the total
    (``"41 total"``).
    """
    v = values or {}
    if col == "medians":
        return _pair(v.get("median_experimental"), v.get("median_reference"))
    if col == "arm_n":
        return _pair(v.get("n_experimental"), v.get("n_reference"))
    if col == "events":
        cell = _pair(v.get("events_experimental"), v.get("events_reference"))
        total = _printed(v.get("total_events"))
        return f"{total} total" if cell == "-" and total is not None else cell
    if col == "p":
        return _printed(v.get("p")) or "-"
    raise ValueError(f"{col!r} is not a reported-values column")


def _fmt_int(x) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "-"
    return "-" if math.isnan(v) else f"{int(round(v))}"


def _row_key(row) -> str:
    """``"study/comparison"`` of an effect-table row (its ``key`` when it has one)."""
    key = row.get("key")
    if key is None or (isinstance(key, float) and math.isnan(key)):
        key = f"{row.get('study')}/{row.get('comparison')}"
    return str(key)


def printed_hr(row, printed=None) -> tuple[float, float, float] | None:
    """The HR and 95% CI as the paper printed them, for a row whose method is ``hr_ci``.

    ``log_hr`` and ``se`` of such a row reproduce the HR exactly but the CI
    only up to the rounding of the printed bounds (``exp(log_hr +/- 1.96 se)``
    can print 4.48 for a bound printed as 4.47), so the printed numbers are
    shown when they are known. They are looked up in ``printed`` (a mapping
    from ``"study/comparison"`` to ``(hr, lower, upper)``, e.g. from
    :func:`survmeta.report.content.printed_hrs`) and then in the row's
    ``inputs`` (``{"hr", "ci", "level"}`` as the reconstruction records them),
    and used only for a 95% CI with both bounds. None otherwise.
    """
    if str(row.get("method")) != "hr_ci":
        return None
    key = row.get("key")
    if key is None or (isinstance(key, float) and math.isnan(key)):
        key = f"{row.get('study')}/{row.get('comparison')}"
    vals = None
    if printed and key in printed:
        vals = printed[key]
    else:
        inp = row.get("inputs")
        if isinstance(inp, Mapping) and inp.get("hr") is not None and inp.get("ci") is not None:
            level = inp.get("level", 0.95)
            if level is not None and abs(float(level) - 0.95) < 1e-9:
                vals = (inp["hr"], *list(inp["ci"])[:2])
    if vals is None:
        return None
    try:
        est, lo, hi = (float(v) for v in vals)
    except (TypeError, ValueError):  # e.g. a bound "NR"
        return None
    if not (0 < lo <= est <= hi and math.isfinite(hi)):
        return None
    return est, lo, hi


def fmt_printed(est: float, lo: float, hi: float) -> str:
    """``"2.33 [1.21, 4.47]"`` with each number as recorded (no re-rounding of 1.505 to 1.50)."""
    return f"{est:g} [{lo:g}, {hi:g}]"


def _clip_interval(ax, y, lo, hi, xmin, xmax, color, lw, zorder=2):
    """Horizontal interval clipped to the axis, with arrow heads where it runs off."""
    a, b = max(lo, xmin), min(hi, xmax)
    if b > a:
        ax.plot([a, b], [y, y], color=color, lw=lw, solid_capstyle="butt", zorder=zorder)
    if lo < xmin:
        ax.plot([xmin], [y], marker="<", color=color, markersize=5, clip_on=False, zorder=zorder,
                gid="arrow-left")
    if hi > xmax:
        ax.plot([xmax], [y], marker=">", color=color, markersize=5, clip_on=False, zorder=zorder,
                gid="arrow-right")


def _diamond(ax, y, est, lo, hi, xmin, xmax, half_height=0.36, color=COLOR_POOLED,
             filled: bool = True, gid: str = "pooled-diamond"):
    lo_c, hi_c = max(lo, xmin), min(hi, xmax)
    est_c = min(max(est, xmin), xmax)
    poly = Polygon([(lo_c, y), (est_c, y - half_height), (hi_c, y), (est_c, y + half_height)],
                   closed=True, facecolor=color if filled else "white", edgecolor=color,
                   lw=1.0 if filled else 1.3, zorder=4, gid=gid)
    ax.add_patch(poly)
    if lo < xmin:
        ax.plot([xmin], [y], marker="<", color=color, markersize=5, clip_on=False, zorder=4)
    if hi > xmax:
        ax.plot([xmax], [y], marker=">", color=color, markersize=5, clip_on=False, zorder=4)
    return poly


def _favours(layout: ForestLayout, question: Mapping | None, xmin: float, xmax: float,
             offset_pt: float) -> list:
    """'Favours experimental' / 'Favours reference' under the axis, either side of HR = 1."""
    if not question:
        return []
    exp_name, ref_name = question.get("experimental"), question.get("reference")
    if not exp_name and not ref_name:
        return []
    ax = layout.ax
    span = math.log(xmax) - math.log(xmin)
    left_w = layout.plot_width * (math.log(1.0) - math.log(xmin)) / span
    right_w = layout.plot_width - left_w
    # a label may run past the panel into the (empty) space below the text columns
    left_room = max(left_w + layout.plot_x0 - MARGIN - 0.05, 0.8)
    right_room = max(right_w + layout.width - layout.plot_x0 - layout.plot_width - MARGIN - 0.05, 0.8)
    out = []
    trans = (ax.transData, ax.transAxes)
    if exp_name:
        txt = wrap_to_width(f"\u2190 Favours {exp_name}", min(left_room, 4.0))
        out.append(ax.annotate(txt, xy=(1.0, 0.0), xycoords=trans, xytext=(-4, -offset_pt),
                               textcoords="offset points", ha="right", va="top",
                               fontsize=FONT_SIZE, annotation_clip=False))
    if ref_name:
        txt = wrap_to_width(f"Favours {ref_name}", min(right_room, 4.0) - 0.15) + " \u2192"
        out.append(ax.annotate(txt, xy=(1.0, 0.0), xycoords=trans, xytext=(4, -offset_pt),
                               textcoords="offset points", ha="left", va="top",
                               fontsize=FONT_SIZE, annotation_clip=False))
    return out


@plain_text_figure
def plot_forest(result, *, labels=None, columns=("year", "n", "endpoint", "method"),
                shrunken: bool = True, prediction: bool = True, heterogeneity: bool = True,
                weights: bool = True, sort: str | None = None, xlim=None, title=None,
                plot_width: float = 3.4, max_label_width: float = 3.0,
                common_effect: bool = True, printed: Mapping | None = None,
                reported: Mapping | None = None, risk_of_bias: Mapping | None = None):
    """Forest plot of one pooled question.

    Parameters
    ----------
    result : survmeta.results.PoolResult
        The fit. Uses ``effects`` (``hr``, ``hr_lower``, ``hr_upper``,
        ``weight``, ``theta_*``, ``method``/``approximate``, ``year``, ``n``,
        ``endpoint``), ``stats["hr"]``, ``stats["predict_hr"]``,
        ``stats["tau"]``, ``common_effect``, ``frequentist`` and ``question``.
    labels : mapping or callable, optional
        Row labels: a mapping from ``"study/comparison"`` or study id to a
        label (e.g. the citation's short form), or ``f(study, comparison)``.
        Default: the study id (with the comparison id when a study has
        several rows).
    columns : sequence of str
        Text columns left of the plot, in this order, from ``"year"``,
        ``"n"``, ``"endpoint"``, ``"method"`` and what the paper printed
        (from ``reported``): ``"medians"`` (median per arm, experimental /
        reference), ``"arm_n"`` (n per arm), ``"events"`` (events per arm,
        or the total) and ``"p"`` (the p-value as printed). See
        :data:`FOREST_COLUMNS`; another name raises ValueError.
    shrunken : bool
        Draw the shrunken (posterior) estimate of each study below its
        observed estimate.
    prediction : bool
        Draw the prediction interval of a new study's HR under the diamond.
    heterogeneity : bool
        Print tau (posterior median and interval) and, when ``result.frequentist``
        is given, I^2.
    weights : bool
        Print the weight column.
    sort : {None, "year", "hr", "weight"}
        Row order; default the registry order.
    xlim : (float, float), optional
        HR axis limits; default chosen to the estimates and intervals, snapped
        to 0.1, 0.2, 0.5, 1, 2, 5, 10, ... . Intervals running off the limits
        end in arrows.
    title : str, optional
        Default: the question's title.
    plot_width : float
        Width of the plot panel in inches.
    max_label_width : float
        Labels wider than this (inches) are cut with "...".
    common_effect : bool
        Draw the common-effect (tau = 0) pooled HR as an open diamond on a row
        "Common effect (tau = 0)" under the random-effects diamond, when
        ``result.common_effect`` is available. With one study the
        random-effects interval adds the heterogeneity the tau prior allows;
        the common-effect one is, up to the mu prior, the study's own.
    printed : mapping, optional
        ``"study/comparison"`` -> ``(hr, lower, upper)`` as the paper printed
        them; rows whose method is ``hr_ci`` print these numbers (see
        :func:`printed_hr`) instead of the interval recomputed from ``se``.
        The marker and line are always placed from ``log_hr`` and ``se``.
    reported : mapping, optional
        ``"study/comparison"`` -> what the paper printed, as
        :func:`survmeta.registry.summary.printed_arms` gives it, for the
        ``"medians"``, ``"arm_n"``, ``"events"`` and ``"p"`` columns ("-"
        for a row it does not hold).
    risk_of_bias : mapping, optional
        ``"study/comparison"`` (or study id) ->
        :class:`~survmeta.registry.records.RiskOfBias`. When any row has an
        entry, traffic-light columns are drawn right of the weights as robvis
        draws them: one dot per domain of the tool most rows use and one for
        the overall judgement (:mod:`survmeta.plotting.rob`), with the domain
        names under the plot. A row assessed with another tool shows its
        overall dot only; a row without an entry, or a domain its entry does
        not judge, stays blank.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; ``fig.axes[0]`` is the HR panel. Marker areas are
        proportional to the weights (lightest markers are drawn at least
        ``MIN_SQUARE_PT`` wide).
    """
    unknown = [c for c in columns if c not in FOREST_COLUMNS]
    if unknown:
        raise ValueError(f"unknown forest-plot column(s) {', '.join(map(repr, unknown))}; "
                         f"choose from {', '.join(FOREST_COLUMNS)}")
    e = result.effects.reset_index(drop=True).copy()
    if sort == "year" and "year" in e:
        e = e.sort_values("year", kind="stable").reset_index(drop=True)
    elif sort == "hr":
        e = e.sort_values("hr", kind="stable").reset_index(drop=True)
    elif sort == "weight" and "weight" in e:
        e = e.sort_values("weight", ascending=False, kind="stable").reset_index(drop=True)
    k = len(e)
    level = float(getattr(result, "level", 0.95))
    lvl = _level_pct(level)
    stats = result.stats
    hr_s, pr_s, tau_s = stats["hr"], stats.get("predict_hr"), stats.get("tau")
    show_pred = bool(prediction and pr_s is not None)
    show_shrunk = bool(shrunken and k > 0 and {"theta_mean", "theta_lower", "theta_upper"} <= set(e))
    ce = getattr(result, "common_effect", None) if common_effect else None
    ce_s = getattr(ce, "hr", None)
    show_ce = bool(ce_s and all(np.isfinite([ce_s.median, *ce_s.eti.as_tuple()])))

    hr = clean_series(e["hr"]) if k else np.array([])
    lo = clean_series(e["hr_lower"]) if k else np.array([])
    hi = clean_series(e["hr_upper"]) if k else np.array([])
    w = clean_series(e["weight"]) if "weight" in e else np.full(k, np.nan)
    if k and not np.all(np.isfinite(w)):
        se = clean_series(e["se"]) if "se" in e else np.ones(k)
        iv = 1 / se**2
        w = np.where(np.isfinite(w), w, 100 * iv / np.nansum(iv))

    # rows: studies at 0..k-1, then pooled, prediction, heterogeneity
    y_pool = k + 0.6 if k else 0.0
    y_ce = y_pool + 1.0
    y_pred = (y_ce if show_ce else y_pool) + 1.0
    y_het = (y_pred if show_pred else (y_ce if show_ce else y_pool)) + 1.0
    y_last = y_het if heterogeneity else y_het - 1.0
    row_h = 0.32 if show_shrunk else 0.24
    y_top, y_bottom = -0.7, y_last + 0.7

    # x range
    if xlim is None:
        vals = list(hr) + [hr_s.eti.lower, hr_s.eti.upper, hr_s.median]
        if show_ce:
            vals += [ce_s.eti.lower, ce_s.eti.upper]
        # intervals count, but a single very wide CI does not squash the others: it gets an arrow
        med = float(np.nanmedian(hr)) if k else hr_s.median
        for a, b in zip(lo, hi):
            vals += [max(a, med / 20), min(b, med * 20)]
        if show_pred:
            vals += [max(pr_s.eti.lower, hr_s.median / 20), min(pr_s.eti.upper, hr_s.median * 20)]
        xmin, xmax = hr_limits(vals)
    else:
        xmin, xmax = float(xlim[0]), float(xlim[1])

    # text columns
    lab = _row_labels(e, labels) if k else []
    label_cells = {i: lab[i] for i in range(k)}
    label_cells[y_pool] = f"Random effects, k = {k}"
    bold = {y_pool}
    if show_ce:
        label_cells[y_ce] = "Common effect (tau = 0)"
    if show_pred:
        label_cells[y_pred] = f"{lvl} prediction interval"
    left = [Column("Study", label_cells, "left", max_width=max_label_width, bold_rows=bold)]
    for col in columns:
        if col == "year" and "year" in e:
            left.append(Column("Year", {i: _fmt_int(e.at[i, "year"]) for i in range(k)}, "right"))
        elif col == "n" and "n" in e:
            cells = {i: _fmt_int(e.at[i, "n"]) for i in range(k)}
            n_known = int(np.isfinite(clean_series(e["n"])).sum()) if k else 0
            if n_known:
                cells[y_pool] = ("" if n_known == k else "\u2265") + f"{int(np.nansum(clean_series(e['n'])))}"
            left.append(Column("n", cells, "right", bold_rows=bold))
        elif col == "endpoint" and "endpoint" in e:
            left.append(Column("Endpoint", {i: str(e.at[i, "endpoint"] or "") for i in range(k)},
                               "left", max_width=1.8))
        elif col == "method" and "method" in e:
            left.append(Column("Method", {i: str(e.at[i, "method"] or "") for i in range(k)},
                               "left", color="#444444", max_width=1.4))
        elif col in ("medians", "arm_n", "events", "p"):
            keys = [_row_key(e.iloc[i]) for i in range(k)]
            left.append(Column(FOREST_COLUMNS[col],
                               {i: reported_cell(col, (reported or {}).get(keys[i]))
                                for i in range(k)}, "right"))
    hr_cells = {}
    for i in range(k):
        # the CI as the paper printed it (95%) only when the plot is at 95%
        shown = printed_hr(e.iloc[i], printed) if abs(level - 0.95) < 1e-9 else None
        hr_cells[i] = fmt_printed(*shown) if shown else fmt_interval(hr[i], lo[i], hi[i])
    hr_cells[y_pool] = fmt_interval(hr_s.median, hr_s.eti.lower, hr_s.eti.upper)
    if show_ce:
        hr_cells[y_ce] = fmt_interval(ce_s.median, ce_s.eti.lower, ce_s.eti.upper)
    if show_pred:
        hr_cells[y_pred] = f"[{fmt_num(pr_s.eti.lower)}, {fmt_num(pr_s.eti.upper)}]"
    right = [Column(f"HR [{lvl} CI]", hr_cells, "right", bold_rows=bold)]
    if weights:
        wc = {i: (f"{w[i]:.1f}%" if np.isfinite(w[i]) else "-") for i in range(k)}
        wc[y_pool] = "100.0%"
        right.append(Column("Weight", wc, "right", bold_rows=bold))

    rob_rows, rob_tool, rob_cols = _rob_columns(e, k, risk_of_bias)
    right.extend(rob_cols)

    het_text = None
    if heterogeneity and tau_s is not None:
        het_text = (
            f"Heterogeneity: \u03c4 = {tau_s.median:.2f} [{tau_s.eti.lower:.2f}, "
            f"{tau_s.eti.upper:.2f}] (posterior median, {lvl} CrI)"
        )
        i2 = _i2_percent(getattr(result, "frequentist", None))
        if i2 is not None:
            het_text += f"; I\u00b2 = {i2:.0f}%"
    min_width = (text_width_in(het_text) + 2 * MARGIN + 0.1) if het_text else 0.0

    q = getattr(result, "question", None) or {}
    title = title if title is not None else (q.get("title") or q.get("id"))
    title_h = 0.0
    if title:
        # width is not known before layout; wrap to a generous estimate, re-wrapped below
        title_h = 0.4
    has_favours = bool(q.get("experimental") or q.get("reference"))
    bottom = 0.62 + (0.42 if has_favours else 0.0) + 0.42
    rob_legend_h = _rob_legend_height(rob_tool)
    bottom += rob_legend_h
    layout = ForestLayout(left, right, y_top, y_bottom, row_h, plot_width,
                          top=0.38 + title_h, bottom=bottom, min_width=min_width)
    fig, ax = layout.fig, layout.ax
    if title:
        t = wrap_to_width(title, layout.width - 2 * MARGIN, FONT_SIZE + 2, max_lines=2)
        n_lines = t.count("\n") + 1
        if n_lines > 1:  # grow the figure top to fit the second line
            extra = 0.2 * (n_lines - 1)
            H = layout.height + extra
            fig.set_size_inches(layout.width, H)
            pos = ax.get_position()
            ax.set_position([pos.x0, layout.bottom / H, pos.width, pos.height * layout.height / H])
            layout.height = H
        fig.text(MARGIN / layout.width, 1 - 0.1 / layout.height, t, ha="left", va="top",
                 fontsize=FONT_SIZE + 2, fontweight="bold")
    set_hr_axis(ax, xmin, xmax, label="Hazard ratio (log scale)")
    ax.xaxis.labelpad = 3

    header_y = y_top - 0.55
    layout.draw_columns(header_y)
    layout.hrule(y_top - 0.05, lw=0.8)

    # null line
    ax.plot([1, 1], [y_top + 0.2, y_last - (0.5 if heterogeneity else -0.5)], color="#555555",
            lw=0.8, zorder=1)

    # studies
    side = np.sqrt(np.clip(w, 0, None) / np.nanmax(w)) * MAX_SQUARE_PT if k else np.array([])
    side = np.clip(np.nan_to_num(side, nan=MIN_SQUARE_PT), MIN_SQUARE_PT, None)
    approx = [is_approximate(e.iloc[i]) for i in range(k)]
    for i in range(k):
        _clip_interval(ax, i, lo[i], hi[i], xmin, xmax, COLOR_STUDY, 1.1)
    if k:
        inside = (hr >= xmin) & (hr <= xmax)
        fc = [("white" if approx[i] else COLOR_STUDY) for i in range(k)]
        idx = np.where(inside)[0]
        ax.scatter(hr[idx], idx, s=side[idx] ** 2, marker="s", c=[fc[i] for i in idx],
                   edgecolors=COLOR_STUDY, linewidths=1.0, zorder=3, gid="study-squares")
    if show_shrunk:
        tm = np.exp(clean_series(e["theta_mean"]))
        tl = np.exp(clean_series(e["theta_lower"]))
        tu = np.exp(clean_series(e["theta_upper"]))
        off = 0.40
        for i in range(k):
            _clip_interval(ax, i + off, tl[i], tu[i], xmin, xmax, COLOR_SHRUNK, 0.7)
        ins = (tm >= xmin) & (tm <= xmax)
        ax.scatter(tm[ins], np.arange(k)[ins] + off, s=9, marker="o", color=COLOR_SHRUNK,
                   zorder=3, gid="shrunken")

    # pooled diamond and prediction interval
    _diamond(ax, y_pool, hr_s.median, hr_s.eti.lower, hr_s.eti.upper, xmin, xmax)
    if show_ce:
        _diamond(ax, y_ce, ce_s.median, ce_s.eti.lower, ce_s.eti.upper, xmin, xmax,
                 half_height=0.30, filled=False, gid="common-effect-diamond")
    if show_pred:
        _clip_interval(ax, y_pred, pr_s.eti.lower, pr_s.eti.upper, xmin, xmax, COLOR_PREDICT, 3.0,
                       zorder=3)
        for xb in (pr_s.eti.lower, pr_s.eti.upper):
            if xmin <= xb <= xmax:
                ax.plot([xb, xb], [y_pred - 0.22, y_pred + 0.22], color=COLOR_PREDICT, lw=1.2)
    if het_text:
        layout.text(MARGIN, y_het, het_text, ha="left", fontsize=FONT_SIZE - 0.5)

    # favours labels and legend
    _favours(layout, q, xmin, xmax, offset_pt=34)
    handles = []
    if k and not all(approx):
        handles.append(Line2D([], [], marker="s", ls="none", markerfacecolor=COLOR_STUDY,
                              markeredgecolor=COLOR_STUDY, markersize=7,
                              label="reported HR or log-rank O\u2212E"))
    if k and any(approx):
        handles.append(Line2D([], [], marker="s", ls="none", markerfacecolor="white",
                              markeredgecolor=COLOR_STUDY, markersize=7,
                              label="reconstructed (approximate method)"))
    if show_shrunk:
        handles.append(Line2D([], [], marker="o", color=COLOR_SHRUNK, lw=0.7, markersize=3,
                              label="shrunken estimate (posterior)"))
    handles.append(Line2D([], [], marker="D", ls="none", color=COLOR_POOLED, markersize=6,
                          label=f"pooled HR, random effects (median, {lvl} CrI)"))
    if show_ce:
        handles.append(Line2D([], [], marker="D", ls="none", markerfacecolor="white",
                              markeredgecolor=COLOR_POOLED, markersize=6,
                              label="pooled HR, common effect (tau = 0)"))
    if show_pred:
        handles.append(Line2D([], [], color=COLOR_PREDICT, lw=3, label=f"{lvl} prediction interval"))
    ncol = 2 if layout.width < 7.5 else 3
    ncol = min(ncol, len(handles))
    fig.legend(handles=handles, loc="lower left", ncol=ncol, frameon=False, fontsize=FONT_SIZE - 1,
               bbox_to_anchor=(MARGIN / layout.width, (0.03 + rob_legend_h) / layout.height),
               borderaxespad=0.0, handlelength=1.6, columnspacing=1.2)
    if rob_tool is not None:
        _draw_rob(layout, rob_rows, rob_tool, rob_cols)
    return fig


#: Diameter of a traffic-light dot, points.
ROB_DOT_PT = 11.0
_ROB_COL_WIDTH = 0.2  # inches: at least the dot
_ROB_LINE_H = 0.16  # inches per line of the domain legend


def _rob_columns(e: pd.DataFrame, k: int, risk_of_bias: Mapping | None):
    """Entries per row, the main tool and the (empty-celled) dot columns."""
    from survmeta.plotting.rob import main_tool

    if not risk_of_bias or not k:
        return [], None, []
    rows = []
    for i in range(k):
        row = e.iloc[i]
        rows.append(risk_of_bias.get(_row_key(row), risk_of_bias.get(str(row.get("study")))))
    tool = main_tool(rows)
    if tool is None:
        return rows, None, []
    cols = [_DotColumn(d.label, {}, "center") for d in tool.domains]
    cols.append(_DotColumn("Overall", {}, "center"))
    return rows, tool, cols


class _DotColumn(Column):
    """A column of traffic-light dots: no text, at least as wide as a dot."""

    def measure(self, size: float) -> None:
        super().measure(size)
        self.width = max(self.width, _ROB_COL_WIDTH)


def _rob_legend_height(tool) -> float:
    if tool is None:
        return 0.0
    return _ROB_LINE_H * (len(tool.domains) + 2) + 0.08


def _draw_rob(layout: ForestLayout, rows, tool, cols) -> None:
    """The traffic-light dots (``gid`` ``rob-<label>-<row>``) and the domain legend."""
    from survmeta.plotting.rob import ROB_SYMBOLS, ROB_COLORS, _levels, rob_cell

    fig = layout.fig
    keys: list[str | None] = [d.key for d in tool.domains] + [None]
    for i, rob in enumerate(rows):
        if rob is None:
            continue
        for col, key in zip(cols, keys):
            if key is not None and rob.tool != tool.name:
                continue
            cell = rob_cell(rob, key)
            if cell is None:
                continue
            color, symbol = cell
            x = col.x0 + col.width / 2
            fig.add_artist(Line2D([x], [i], transform=layout.trans, ls="none", marker="o",
                                  markersize=ROB_DOT_PT, markerfacecolor=color,
                                  markeredgecolor="#333333", markeredgewidth=0.5,
                                  gid=f"rob-{col.header}-{i}"))
            dark = color in (ROB_COLORS[2], ROB_COLORS[3])
            layout.text(x, i, symbol, ha="center", fontsize=FONT_SIZE - 2, fontweight="bold",
                        color="white" if dark else "black")
    # legend: the domains, then the judgements
    H = layout.height
    lines = [f"{d.label}: {d.name}" for d in tool.domains]
    levels = "   ".join(f"{ROB_SYMBOLS[lvl]} {text}" for lvl, text in _levels(tool))
    if tool.name == "NOS":
        levels = "stars: green good, yellow fair, red poor (AHRQ thresholds); overall: " + levels
    lines = [f"Risk of bias ({tool.name}):"] + lines + [levels]
    for j, t in enumerate(lines):
        y = 0.04 + _ROB_LINE_H * (len(lines) - 1 - j)
        fig.text(MARGIN / layout.width, y / H, t, ha="left", va="bottom", fontsize=FONT_SIZE - 1.5,
                 fontweight="bold" if j == 0 else "normal")


def _variant_frame(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reset_index(drop=True)
    label_col = next((c for c in ("label", "variant", "changed") if c in df), None)
    if label_col is None:
        raise ValueError("the sensitivity table needs a 'variant' or 'label' column")
    missing = [c for c in ("hr", "hr_lower", "hr_upper") if c not in df]
    if missing:
        raise ValueError(f"the sensitivity table lacks column(s): {', '.join(missing)}")
    out = df.copy()
    out["_label"] = [str(x) for x in df[label_col]]
    return out


@plain_text_figure
def plot_variants(df: pd.DataFrame, *, title: str | None = None, reference=None,
                  question: Mapping | None = None, label_header: str = "Analysis",
                  xlim=None, plot_width: float = 3.2, max_label_width: float = 3.2,
                  level: float = 0.95):
    """Forest plot of one pooled estimate per analysis variant (sensitivity analyses).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per variant with ``variant`` (or ``label``), ``hr``,
        ``hr_lower``, ``hr_upper``, and optionally ``tau``, ``p_hr_below_1``,
        ``k``.
    title : str, optional
        Figure title.
    reference : float or PoolResult, optional
        The main analysis: its pooled HR is drawn as a dashed vertical line.
    question : dict, optional
        For the "favours" labels.
    label_header : str
        Heading of the label column.
    xlim : (float, float), optional
        HR axis limits.
    plot_width, max_label_width : float
        Panel width and label cap, inches.
    level : float
        Interval level, for the column heading.

    Returns
    -------
    matplotlib.figure.Figure
    """
    d = _variant_frame(df)
    k = len(d)
    hr, lo, hi = (clean_series(d[c]) for c in ("hr", "hr_lower", "hr_upper"))
    lvl = _level_pct(level)
    ref_hr = None
    if reference is not None:
        if hasattr(reference, "stats"):
            ref_hr = float(reference.stats["hr"].median)
            question = question or reference.question
        else:
            ref_hr = float(reference)
    y_top, y_bottom = -0.7, k - 1 + 0.7 if k else 0.7
    if xlim is None:
        vals = list(hr) + list(lo) + list(hi) + ([ref_hr] if ref_hr else [])
        xmin, xmax = hr_limits(vals)
    else:
        xmin, xmax = xlim
    left = [Column(label_header, {i: d.at[i, "_label"] for i in range(k)}, "left",
                   max_width=max_label_width)]
    if "k" in d:
        left.append(Column("k", {i: _fmt_int(d.at[i, "k"]) for i in range(k)}, "right"))
    right = [Column(f"HR [{lvl} CrI]", {i: fmt_interval(hr[i], lo[i], hi[i]) for i in range(k)},
                    "right")]
    if "tau" in d:
        right.append(Column("\u03c4", {i: f"{float(d.at[i, 'tau']):.2f}" for i in range(k)}, "right"))
    if "p_hr_below_1" in d:
        right.append(Column("P(HR<1)", {i: fmt_prob(d.at[i, "p_hr_below_1"]) for i in range(k)},
                            "right"))
    q = question or {}
    has_fav = bool(q.get("experimental") or q.get("reference"))
    bottom = 0.62 + (0.42 if has_fav else 0) + (0.3 if ref_hr else 0)
    layout = ForestLayout(left, right, y_top, y_bottom, 0.26, plot_width,
                          top=0.38 + (0.4 if title else 0), bottom=bottom)
    fig, ax = layout.fig, layout.ax
    if title:
        fig.text(MARGIN / layout.width, 1 - 0.1 / layout.height,
                 wrap_to_width(title, layout.width - 2 * MARGIN, FONT_SIZE + 2, 1),
                 ha="left", va="top", fontsize=FONT_SIZE + 2, fontweight="bold")
    set_hr_axis(ax, xmin, xmax)
    ax.xaxis.labelpad = 3
    layout.draw_columns(y_top - 0.55)
    layout.hrule(y_top - 0.05)
    ax.plot([1, 1], [y_top + 0.2, y_bottom - 0.2], color="#555555", lw=0.8, zorder=1)
    if ref_hr:
        ax.plot([ref_hr, ref_hr], [y_top + 0.2, y_bottom - 0.2], color=COLOR_POOLED, lw=0.8,
                ls="--", zorder=1, gid="reference-line")
    for i in range(k):
        _clip_interval(ax, i, lo[i], hi[i], xmin, xmax, COLOR_STUDY, 1.1)
    ins = (hr >= xmin) & (hr <= xmax)
    ax.scatter(hr[ins], np.arange(k)[ins], s=36, marker="D", color=COLOR_STUDY, zorder=3)
    _favours(layout, q, xmin, xmax, offset_pt=34)
    if ref_hr:
        fig.legend(handles=[Line2D([], [], color=COLOR_POOLED, ls="--", lw=0.8,
                                   label=f"main analysis: HR {fmt_num(ref_hr)}")],
                   loc="lower left", frameon=False, fontsize=FONT_SIZE - 1,
                   bbox_to_anchor=(MARGIN / layout.width, 0.03 / layout.height), borderaxespad=0)
    return fig


def plot_cumulative(df: pd.DataFrame, *, title: str | None = "Cumulative meta-analysis by year",
                    **kwargs):
    """Cumulative forest plot: the pooled HR as studies are added in year order.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per step, in order, with ``variant`` (e.g. ``"+ Smith 2019"``)
        or ``label``, ``hr``, ``hr_lower``, ``hr_upper`` and optionally
        ``tau``, ``p_hr_below_1``, ``k``.
    title : str, optional
        Figure title.
    **kwargs
        Passed to :func:`plot_variants` (``reference``, ``question``, ``xlim``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    kwargs.setdefault("label_header", "Studies included")
    return plot_variants(df, title=title, **kwargs)


def plot_leave1out(df: pd.DataFrame, *, title: str | None = "Leave-one-out analysis", **kwargs):
    """Leave-one-out forest plot: the pooled HR with each study omitted in turn.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per omitted study with ``variant`` (e.g. ``"without smith2019"``)
        or ``label``, ``hr``, ``hr_lower``, ``hr_upper`` and optionally
        ``tau``, ``p_hr_below_1``, ``k``.
    title : str, optional
        Figure title.
    **kwargs
        Passed to :func:`plot_variants` (``reference``, ``question``, ``xlim``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    kwargs.setdefault("label_header", "Omitted")
    return plot_variants(df, title=title, **kwargs)


__all__ = ["plot_forest", "plot_cumulative", "plot_leave1out", "plot_variants", "is_approximate",
           "FOREST_COLUMNS", "reported_cell"]
