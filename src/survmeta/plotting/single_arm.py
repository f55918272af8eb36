"""Forest plots of single-arm evidence on the natural axis: proportions (%) and medians (months).

:func:`plot_proportion_forest` draws a :class:`~survmeta.exact.ProportionPool`: each study's
events / n and proportion with its exact (Clopper-Pearson) confidence interval, a square whose
area is proportional to n, the pooled diamond (posterior median and credible interval of the
pooled proportion ``expit(mu)`` of the binomial-normal model) and the prediction interval of a
new study's proportion, on a percent axis.

:func:`plot_median_forest` draws a :class:`~survmeta.exact.MedianPool`: each study's median
with the interval the paper printed, a median not reached (NR) as a bound from its lower limit
(and listed as excluded), the pooled diamond ``exp(mu)`` of the log-median pooling with its
credible interval and the prediction interval, on a time axis (linear, or log with
``log=True``).

Both figures follow :func:`~survmeta.plotting.plot_forest`: study labels left, the numbers in
a column right of the panel, a note under the axis naming the model and the intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator, NullFormatter, NullLocator
from scipy import stats

from survmeta.plotting._layout import MARGIN, Column, ForestLayout
from survmeta.plotting._style import (
    COLOR_PREDICT,
    COLOR_STUDY,
    FONT_SIZE,
    HR_TICKS,
    fmt_num,
    plain_text_figure,
    wrap_to_width,
)
from survmeta.plotting.forest import MAX_SQUARE_PT, MIN_SQUARE_PT, _clip_interval, _diamond, _level_pct
from survmeta.settings import DEFAULT_LEVEL

__all__ = ["clopper_pearson", "plot_median_forest", "plot_proportion_forest"]

#: Inches of one text line of the note under the axis.
NOTE_LINE_IN = 0.16
#: Inches under the panel for the tick labels and the axis label.
AXIS_IN = 0.55


def clopper_pearson(events, n, level: float = DEFAULT_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) confidence limits of binomial proportions.

    ``lower = Beta^-1(a/2; x, n - x + 1)`` (0 when ``x = 0``), ``upper = Beta^-1(1 - a/2;
    x + 1, n - x)`` (1 when ``x = n``), ``a = 1 - level``; metafor's ``forest`` of
    ``escalc("PR")`` does not give these, R's ``binom.test(x, n)$conf.int`` does.

    Parameters
    ----------
    events, n : array_like
    level : float

    Returns
    -------
    (lower, upper) : tuple of ndarray
        On the proportion scale (0 to 1).
    """
    x = np.atleast_1d(np.asarray(events, dtype=float))
    m = np.atleast_1d(np.asarray(n, dtype=float))
    a = 1.0 - float(level)
    with np.errstate(invalid="ignore"):
        lo = np.where(x > 0, stats.beta.ppf(a / 2, np.maximum(x, 1e-300), m - x + 1), 0.0)
        hi = np.where(x < m, stats.beta.ppf(1 - a / 2, x + 1, np.maximum(m - x, 1e-300)), 1.0)
    return lo, hi


def _pct(p: float) -> str:
    return f"{100.0 * p:.1f}"


def _pct_interval(p: float, lo: float, hi: float) -> str:
    return f"{_pct(p)} [{_pct(lo)}, {_pct(hi)}]"


def _t(v: float | None) -> str:
    """A printed time as recorded (``8.1``), ``NR`` for a bound not reached."""
    # as printed (3.0 shows as "3"), but at most 2 decimals: a median converted from days
    # to months would otherwise print as 2.66119
    return "NR" if v is None else f"{round(float(v), 2):g}"


def _squares(size_by: np.ndarray) -> np.ndarray:
    """Marker sides (points): area proportional to ``size_by``, at least ``MIN_SQUARE_PT``."""
    if size_by.size == 0:
        return size_by
    ok = np.isfinite(size_by) & (size_by > 0)
    if not ok.any():
        return np.full(size_by.size, 0.6 * MAX_SQUARE_PT)
    side = np.sqrt(np.where(ok, size_by, 0.0) / size_by[ok].max()) * MAX_SQUARE_PT
    return np.clip(np.where(ok, side, MIN_SQUARE_PT), MIN_SQUARE_PT, None)


def _percent_limits(values: Sequence[float]) -> tuple[float, float]:
    """Percent axis limits snapped outward to tens, inside 0 to 100, at least 20 wide."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    lo = max(0.0, math.floor(v.min() / 10.0 + 1e-9) * 10.0)
    hi = min(100.0, math.ceil(v.max() / 10.0 - 1e-9) * 10.0)
    while hi - lo < 20.0:
        if lo > 0.0:
            lo -= 10.0
        if hi - lo < 20.0 and hi < 100.0:
            hi += 10.0
    return lo, hi


def _time_limits(values: Sequence[float], log: bool) -> tuple[float, float]:
    """Time axis limits: 0 to a round tick (linear), or snapped to 1-2-5 ticks (log)."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x) and x > 0], dtype=float)
    top = float(v.max()) if v.size else 1.0
    if not log:
        ticks = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(0.0, top)
        return 0.0, float(min(t for t in ticks if t >= top * (1 - 1e-9)))
    low = float(v.min()) if v.size else 1.0
    lo_t = max([t for t in HR_TICKS if t <= low * (1 + 1e-9)], default=HR_TICKS[0])
    hi_t = min([t for t in HR_TICKS if t >= top * (1 - 1e-9)], default=HR_TICKS[-1])
    if hi_t / lo_t < 4.0:
        i = HR_TICKS.index(lo_t)
        lo_t = HR_TICKS[max(i - 1, 0)]
    return lo_t, hi_t


def _set_log_axis(ax, lo: float, hi: float, label: str) -> None:
    ticks = [t for t in HR_TICKS if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FixedFormatter([f"{t:g}" for t in ticks]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(label, fontsize=FONT_SIZE)
    ax.tick_params(axis="x", labelsize=FONT_SIZE)


def _prediction_bar(ax, y: float, lo: float, hi: float, xmin: float, xmax: float) -> None:
    n_before = len(ax.lines)
    _clip_interval(ax, y, lo, hi, xmin, xmax, COLOR_PREDICT, 3.0, zorder=3)
    for line in ax.lines[n_before:]:
        if line.get_gid() is None:
            line.set_gid("prediction-interval")
    for xb in (lo, hi):
        if xmin <= xb <= xmax:
            ax.plot([xb, xb], [y - 0.22, y + 0.22], color=COLOR_PREDICT, lw=1.2)


def _figure(labels: dict, right: list[Column], n_rows_y: float, notes: list[str], title,
            plot_width: float, max_label_width: float, ax, bold: set):
    """The table-plus-panel figure, or the caller's ``ax`` with the columns beside it.

    Returns ``(fig, ax, layout_or_None)``.
    """
    y_top, y_bottom = -0.7, n_rows_y + 0.7
    if ax is not None:
        ax.set_ylim(y_bottom, y_top)
        ys = sorted(labels)
        ax.set_yticks(ys)
        ax.set_yticklabels([labels[y] for y in ys], fontsize=FONT_SIZE)
        ax.tick_params(axis="y", left=False)
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
        # one column right of the axes (the caller leaves room for it): the cells of
        # every column joined
        trans = ax.get_yaxis_transform()
        header = "  ".join(c.header for c in right)
        ax.text(1.05, y_top - 0.2, header, transform=trans, ha="left", va="center",
                fontsize=FONT_SIZE, fontweight="bold", clip_on=False)
        for y in sorted({y for c in right for y in c.cells}):
            s = "  ".join(c.cells[y] for c in right if c.cells.get(y))
            ax.text(1.05, y, s, transform=trans, ha="left", va="center", fontsize=FONT_SIZE,
                    fontweight="bold" if y in bold else "normal", clip_on=False)
        if title:
            ax.set_title(title, fontsize=FONT_SIZE + 1, loc="left")
        return ax.figure, ax, None
    left = [Column("Study", labels, "left", max_width=max_label_width,
                   bold_rows=bold)]
    layout = ForestLayout(left, right, y_top, y_bottom, 0.24, plot_width,
                          top=0.38 + (0.3 if title else 0.0), bottom=AXIS_IN)
    fig, pax = layout.fig, layout.ax
    text_w = layout.width - 2 * MARGIN
    wrapped = [wrap_to_width(s, text_w, FONT_SIZE - 1, max_lines=4) for s in notes]
    n_lines = sum(s.count("\n") + 1 for s in wrapped)
    extra = NOTE_LINE_IN * n_lines + (0.08 if n_lines else 0.0)
    H = layout.height + extra
    pos = pax.get_position()
    panel_h = pos.height * layout.height
    fig.set_size_inches(layout.width, H)
    layout.bottom += extra
    layout.height = H
    pax.set_position([pos.x0, layout.bottom / H, pos.width, panel_h / H])
    y_in = extra - 0.04
    for s in wrapped:
        fig.text(MARGIN / layout.width, y_in / H, s, ha="left", va="top", fontsize=FONT_SIZE - 1,
                 color="#333333", gid="note")
        y_in -= NOTE_LINE_IN * (s.count("\n") + 1)
    if title:
        t = wrap_to_width(title, text_w, FONT_SIZE + 2, max_lines=1)
        fig.text(MARGIN / layout.width, 1 - 0.1 / H, t, ha="left", va="top",
                 fontsize=FONT_SIZE + 2, fontweight="bold")
    layout.draw_columns(y_top - 0.55)
    layout.hrule(y_top - 0.05, lw=0.8)
    return fig, pax, layout


@plain_text_figure
def plot_proportion_forest(result, *, level: float = DEFAULT_LEVEL, labels=None, ax=None,
                           title: str | None = None, xlim=None, plot_width: float = 3.2,
                           max_label_width: float = 3.0, prediction: bool = True):
    """Forest plot of pooled single-group proportions, on a percent axis.

    Parameters
    ----------
    result : survmeta.exact.ProportionPool
        The fit (:func:`survmeta.exact.pool_proportions`).
    level : float
        Level of each study's exact (Clopper-Pearson) confidence interval (default
        :data:`survmeta.settings.DEFAULT_LEVEL`). The pooled credible and prediction
        intervals are the result's, at ``result.level``.
    labels : sequence of str or mapping, optional
        Row labels: one per study, or a mapping from ``result.labels`` to labels.
        Default ``result.labels``.
    ax : matplotlib.axes.Axes, optional
        Draw the panel into this axes (labels as y tick labels, the numbers in one column
        right of it: leave room for them; the note under the axis is left out); by default
        a new figure with the table layout of :func:`plot_forest`.
    title : str, optional
    xlim : (float, float), optional
        Axis limits in percent; default the estimates and intervals snapped outward to
        tens within 0 to 100.
    plot_width, max_label_width : float
        Panel width and label cap, inches.
    prediction : bool
        Draw the prediction interval of a new study's proportion.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0]`` is the panel (x in percent). Artists with gid ``"study-ci"`` (one
        line per study), ``"study-squares"``, ``"pooled-diamond"`` and
        ``"prediction-interval"``.
    """
    k = result.k
    x = np.asarray(result.events, dtype=float)
    m = np.asarray(result.n, dtype=float)
    p = x / m
    lo, hi = clopper_pearson(x, m, level)
    lab = _row_names(result.labels, labels)
    lvl, plvl = _level_pct(level), _level_pct(result.level)

    y_pool = k + 0.6
    y_pred = y_pool + 1.0
    y_last = y_pred if prediction else y_pool
    rows = {i: lab[i] for i in range(k)}
    rows[y_pool] = f"Random effects, k = {k}"
    if prediction:
        rows[y_pred] = f"{plvl} prediction interval"
    ev = {i: f"{int(x[i])}/{int(m[i])}" for i in range(k)}
    ev[y_pool] = f"{int(x.sum())}/{int(m.sum())}"
    est = {i: _pct_interval(p[i], lo[i], hi[i]) for i in range(k)}
    pc, (cl, cu) = result.proportion, result.proportion_ci
    est[y_pool] = _pct_interval(pc, cl, cu)
    if prediction:
        est[y_pred] = f"[{_pct(result.proportion_pi[0])}, {_pct(result.proportion_pi[1])}]"
    bold = {y_pool}
    right = [Column("Events/n", ev, "right", bold_rows=bold),
             Column(f"% [{lvl} CI]" if lvl == plvl else "% [interval]", est, "right",
                    bold_rows=bold)]
    notes = [f"Studies: proportion with its exact (Clopper-Pearson) {lvl} CI; square area "
             "proportional to n.",
             f"Pooled: binomial-normal random-effects model (logit scale), exact Bayesian; "
             f"diamond = posterior median and {plvl} CrI of the pooled proportion; "
             f"\u03c4 (logit) = {result.tau_median:.2f} [{result.tau_ci[0]:.2f}, "
             f"{result.tau_ci[1]:.2f}]; priors \u03bc ~ {result.mu_prior}, "
             f"\u03c4 ~ {result.tau_prior}."]
    fig, pax, _ = _figure(rows, right, y_last, notes, title, plot_width, max_label_width, ax,
                          bold)

    if xlim is None:
        vals = [100 * v for v in (*lo, *hi, *p, pc, cl, cu)]
        if prediction:
            vals += [100 * v for v in result.proportion_pi]
        xmin, xmax = _percent_limits(vals)
    else:
        xmin, xmax = float(xlim[0]), float(xlim[1])
    pax.set_xlim(xmin, xmax)
    pax.set_xlabel("Proportion (%)", fontsize=FONT_SIZE)
    pax.tick_params(axis="x", labelsize=FONT_SIZE)
    pax.xaxis.labelpad = 3

    for i in range(k):
        n_before = len(pax.lines)
        _clip_interval(pax, i, 100 * lo[i], 100 * hi[i], xmin, xmax, COLOR_STUDY, 1.1)
        for line in pax.lines[n_before:]:
            if line.get_gid() is None:
                line.set_gid("study-ci")
    side = _squares(m)
    inside = np.flatnonzero((100 * p >= xmin) & (100 * p <= xmax))
    pax.scatter(100 * p[inside], inside, s=side[inside] ** 2, marker="s", c=COLOR_STUDY,
                edgecolors=COLOR_STUDY, linewidths=1.0, zorder=3, gid="study-squares",
                clip_on=False)
    _diamond(pax, y_pool, 100 * pc, 100 * cl, 100 * cu, xmin, xmax)
    if prediction:
        _prediction_bar(pax, y_pred, 100 * result.proportion_pi[0], 100 * result.proportion_pi[1],
                        xmin, xmax)
    return fig


def _row_names(names: Sequence[str], labels) -> list[str]:
    names = [str(s) for s in names]
    if labels is None:
        return names
    if isinstance(labels, dict):
        return [str(labels.get(s, s)) for s in names]
    out = [str(s) for s in labels]
    if len(out) != len(names):
        raise ValueError(f"{len(out)} labels for {len(names)} studies")
    return out


@plain_text_figure
def plot_median_forest(result, *, labels=None, ax=None, log: bool = False,
                       title: str | None = None, xlim=None, plot_width: float = 3.2,
                       max_label_width: float = 3.0, prediction: bool = True):
    """Forest plot of pooled single-group median survival times, on a time axis.

    Each study is drawn with its median and the interval as the paper printed it (taken as a
    ``result.ci_level`` interval); an upper limit not reached runs to the right edge with an
    arrow. A median not reached is drawn as a bound, a line from its lower limit to the right
    edge ending in an arrow, printed "NR" and listed as excluded under the axis. The pooled
    diamond is the log-median pooling's ``exp(mu)`` (posterior median and credible interval at
    ``result.level``), with the prediction interval for a new study's median.

    Parameters
    ----------
    result : survmeta.exact.MedianPool
        The fit (:func:`survmeta.exact.pool_medians`).
    labels : sequence of str or mapping, optional
        Row labels: one per study, or a mapping from the study labels. Default the
        study labels.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes (labels as y tick labels, the numbers in one column right of
        it: leave room for them; the note under the axis is left out).
    log : bool
        Log time axis (default linear from 0).
    title : str, optional
    xlim : (float, float), optional
        Axis limits in ``result.time_unit``.
    plot_width, max_label_width : float
        Panel width and label cap, inches.
    prediction : bool
        Draw the prediction interval.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0]`` is the panel (x in ``result.time_unit``). Artists with gid
        ``"study-ci"``, ``"study-squares"``, ``"nr-bound"`` (one per median not reached),
        ``"pooled-diamond"`` and ``"prediction-interval"``.
    """
    studies = list(result.studies)
    k = len(studies)
    lab = _row_names([s.label for s in studies], labels)
    lm = result.log_median
    unit = result.time_unit
    lvl, cilvl = _level_pct(result.level), _level_pct(result.ci_level)
    show_pred = bool(prediction and lm is not None)

    y_pool = k + 0.6
    y_pred = y_pool + 1.0
    y_last = y_pred if show_pred else y_pool
    rows: dict[float, str] = {i: lab[i] for i in range(k)}
    rows[y_pool] = (f"Random effects, k = {lm.k}" if lm is not None
                    else "Not pooled (no study with a usable CI)")
    cells: dict[float, str] = {}
    for i, s in enumerate(studies):
        cells[i] = f"{_t(s.median)} [{_t(s.lower) if s.lower is not None else '-'}, {_t(s.upper)}]"
        if s.median is None and s.lower is None:
            cells[i] = "NR"
        elif s.lower is None and s.upper is None:
            cells[i] = f"{_t(s.median)} (no CI)"
    if lm is not None:
        cells[y_pool] = f"{fmt_num(lm.median)} [{fmt_num(lm.lower)}, {fmt_num(lm.upper)}]"
    if show_pred:
        assert lm is not None
        rows[y_pred] = f"{lvl} prediction interval"
        cells[y_pred] = f"[{fmt_num(lm.pi_lower)}, {fmt_num(lm.pi_upper)}]"
    bold = {y_pool}
    right = [Column(f"Median, {unit} [CI]", cells, "right", bold_rows=bold)]
    notes = [f"Studies: median with the interval as printed (taken as {cilvl}); "
             "NR = not reached; square area proportional to n."]
    if lm is not None:
        notes.append(f"Pooled: random-effects pooling of log medians (SE from each CI), exact "
                     f"Bayesian; diamond = exp(\u03bc), posterior median and {lvl} CrI; "
                     f"\u03c4 (log scale) = {lm.tau:.2f} [{lm.tau_lower:.2f}, "
                     f"{lm.tau_upper:.2f}]; priors \u03bc ~ {lm.mu_prior}, \u03c4 ~ {lm.tau_prior}.")
    notes += [f"Excluded: {e.split(': excluded: ', 1)[0]}, {e.split(': excluded: ', 1)[-1]}"
              for e in result.excluded]
    fig, pax, _ = _figure(rows, right, y_last, notes, title, plot_width, max_label_width, ax,
                          bold)

    meds = [s.median for s in studies if s.median is not None]
    finite = [v for s in studies for v in (s.median, s.lower, s.upper) if v is not None]
    if xlim is None:
        vals = list(finite)
        if lm is not None:
            vals += [lm.median, lm.lower, lm.upper]
            if show_pred:  # a wide PI gets an arrow rather than squashing the studies
                cap = 2.0 * max(vals)
                vals += [max(lm.pi_lower, min(vals) / 2.0) if log else lm.pi_lower,
                         min(lm.pi_upper, cap)]
        # room right of a bound not reached, so its arrow reads as one
        bounds = [s.lower for s in studies if (s.median is None or s.upper is None)
                  and s.lower is not None]
        vals += [1.2 * b for b in bounds] + [1.1 * v for v in meds]
        xmin, xmax = _time_limits(vals, log)
    else:
        xmin, xmax = float(xlim[0]), float(xlim[1])
    label = f"Median ({unit}{', log scale' if log else ''})"
    if log:
        _set_log_axis(pax, xmin, xmax, label)
    else:
        pax.set_xlim(xmin, xmax)
        pax.set_xlabel(label, fontsize=FONT_SIZE)
        pax.tick_params(axis="x", labelsize=FONT_SIZE)
    pax.xaxis.labelpad = 3

    n_arr = np.array([np.nan if s.n is None else s.n for s in studies], dtype=float)
    if np.all(np.isfinite(n_arr[[s.median is not None for s in studies]])):
        size_by = n_arr
    else:
        size_by = np.array([1.0 / s.se ** 2 if s.se else np.nan for s in studies])
    side = _squares(size_by)
    for i, s in enumerate(studies):
        if s.median is None:
            start = xmin if s.lower is None or s.lower < xmin else s.lower
            pax.plot([start, xmax], [i, i], color=COLOR_STUDY, lw=1.1, ls=(0, (3, 2)),
                     zorder=2, gid="nr-bound")
            pax.plot([xmax], [i], marker=">", color=COLOR_STUDY, markersize=5, clip_on=False,
                     zorder=2, gid="arrow-right")
            if s.lower is not None and s.lower >= xmin:
                pax.plot([start], [i], marker="|", color=COLOR_STUDY, markersize=8, zorder=3,
                         gid="nr-lower")
            continue
        if s.lower is None and s.upper is None:  # no interval printed: the square alone
            continue
        a = s.lower if s.lower is not None and s.lower > 0 else (s.median if log else 0.0)
        b = s.upper if s.upper is not None else math.inf
        n_before = len(pax.lines)
        _clip_interval(pax, i, a, b, xmin, xmax, COLOR_STUDY, 1.1)
        for line in pax.lines[n_before:]:
            if line.get_gid() is None:
                line.set_gid("study-ci")
    idx = [i for i, s in enumerate(studies) if s.median is not None
           and xmin <= s.median <= xmax]
    pax.scatter([studies[i].median for i in idx], idx, s=side[idx] ** 2 if idx else [],
                marker="s", c=COLOR_STUDY, edgecolors=COLOR_STUDY, linewidths=1.0, zorder=3,
                gid="study-squares")
    if meds and lm is not None:
        _diamond(pax, y_pool, lm.median, lm.lower, lm.upper, xmin, xmax)
        if show_pred:
            _prediction_bar(pax, y_pred, lm.pi_lower, lm.pi_upper, xmin, xmax)
    return fig
