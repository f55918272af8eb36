"""Posterior of the pooled hazard ratio, and prior vs posterior of tau."""

from __future__ import annotations

import math

import numpy as np

from survmeta._format import fmt_level
from survmeta.plotting._style import (
    COLOR_POOLED,
    COLOR_PREDICT,
    COLOR_PRIOR,
    COLOR_SHADE,
    FONT_SIZE,
    fmt_interval,
    fmt_p_statement,
    hr_limits,
    kde_line,
    new_figure,
    plain_text_figure,
    set_hr_axis,
    set_title,
)


def posterior_draws(result, name: str) -> np.ndarray | None:
    """Flattened posterior draws of ``name`` (``mu``, ``tau``, ``predict``) or None.

    Parameters
    ----------
    result : survmeta.results.PoolResult
        The fit; draws come from ``result.posterior["posterior"][name]``.
    name : str
        Variable name.

    Returns
    -------
    numpy.ndarray or None
        The draws, or None when the result carries none.
    """
    post = getattr(result, "posterior", None)
    if post is None:
        return None
    try:
        group = post["posterior"]
        var = group[name]
    except (KeyError, TypeError, AttributeError):
        return None
    x = np.asarray(var.values, dtype=float).ravel()
    x = x[np.isfinite(x)]
    return x if x.size > 1 else None


def exact_density(result, name: str, grid: np.ndarray) -> np.ndarray | None:
    """The exact posterior density of ``name`` on ``grid``, or None.

    Available when ``result.exact`` holds the exact engine's posterior (an
    object with ``pdf(name, x)``, e.g. :class:`survmeta.exact.ExactPosterior`);
    None for MCMC results, or when the density is not finite on the grid (a
    point mass, e.g. tau under a ``fixed`` prior), so callers fall back to a
    kernel density estimate of the draws.
    """
    post = getattr(result, "exact", None)
    if post is None or not hasattr(post, "pdf"):
        return None
    try:
        d = np.asarray(post.pdf(name, grid), dtype=float)
    except Exception:  # a figure must not fail because one density is unavailable
        return None
    if d.shape != np.shape(grid) or not np.all(np.isfinite(d)) or not np.any(d > 0):
        return None
    return d


def _exact_quantiles(result, name: str, probs) -> list[float] | None:
    post = getattr(result, "exact", None)
    if post is None or not hasattr(post, "quantile"):
        return None
    try:
        q = [float(post.quantile(name, p)) for p in probs]
    except Exception:
        return None
    return q if all(math.isfinite(v) for v in q) else None


def _level_pct(level: float) -> str:
    return fmt_level(level)


def _new_ax(ax, size=(6.0, 3.4)):
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(*size)
    ax = fig.add_axes([0.05, 0.17, 0.9, 0.68])
    return fig, ax


@plain_text_figure
def plot_posterior(result, *, ax=None, prediction: bool = True, title: str | None = None):
    """Posterior density of the pooled hazard ratio, with P(HR < 1) shaded.

    The density of ``mu`` (the pooled log HR) is drawn against a log-scale HR
    axis: the exact posterior density when ``result.exact`` holds the exact
    engine's posterior, otherwise a Gaussian kernel density estimate of the
    posterior draws (MCMC). The area where HR < 1 is shaded and labelled with
    ``P(HR < 1)`` as stored in ``result.probabilities``. The posterior median
    and credible interval are marked. Without either, a normal density with
    the posterior mean and sd of ``mu`` is drawn and the figure says so.

    Parameters
    ----------
    result : survmeta.results.PoolResult
        The fit.
    ax : matplotlib.axes.Axes, optional
        Axes to draw in; default a new figure.
    prediction : bool
        Also draw the predictive density of a new study's HR (dashed).
    title : str, optional
        Default: the question's title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _new_ax(ax)
    level = float(getattr(result, "level", 0.95))
    lvl = _level_pct(level)
    note = None
    s_mu = result.stats["mu"]
    hr_s = result.stats["hr"]
    q_mu = _exact_quantiles(result, "mu", (0.001, 0.999))
    q_pred = _exact_quantiles(result, "predict", (0.01, 0.99)) if prediction else None
    mu = pred = None
    if q_mu is None:
        mu = posterior_draws(result, "mu")
        if mu is None:
            rng = np.random.default_rng(0)
            mu = rng.normal(s_mu.mean, max(s_mu.sd, 1e-6), size=20000)
            note = "normal approximation from the posterior mean and sd (no draws stored)"
        q_mu = [float(np.quantile(mu, 0.001)), float(np.quantile(mu, 0.999))]
    if prediction and q_pred is None:
        pred = posterior_draws(result, "predict")
        if pred is not None:
            q_pred = [float(np.quantile(pred, 0.01)), float(np.quantile(pred, 0.99))]
    vals = [hr_s.eti.lower, hr_s.eti.upper, *(math.exp(v) for v in q_mu)]
    if q_pred is not None:
        vals += [math.exp(v) for v in q_pred]
    xmin, xmax = hr_limits(vals, min_span=4.0)
    grid = np.linspace(math.log(xmin), math.log(xmax), 600)
    dens = exact_density(result, "mu", grid)
    if dens is None:
        if mu is None:
            mu = posterior_draws(result, "mu")
        dens = kde_line(mu, grid)
    hrg = np.exp(grid)
    ax.plot(hrg, dens, color=COLOR_POOLED, lw=1.6, label="pooled HR (posterior)", gid="posterior-mu")
    below = hrg <= 1.0
    p1 = result.probabilities.get("p_hr_below_1")
    ax.fill_between(hrg[below], 0, dens[below], color=COLOR_SHADE, alpha=0.6, lw=0,
                    label=fmt_p_statement(p1) if p1 is not None else "HR < 1")
    dpred = exact_density(result, "predict", grid) if prediction else None
    if dpred is None and prediction:
        if pred is None:
            pred = posterior_draws(result, "predict")
        if pred is not None:
            dpred = kde_line(pred, grid)
    if dpred is not None:
        ax.plot(hrg, dpred, color=COLOR_PREDICT, lw=1.1, ls="--", label="HR in a new study",
                gid="posterior-predict")
    ax.axvline(1.0, ymax=0.72, color="#555555", lw=0.8)  # stops below the summary text
    top = float(dens.max()) if dens.size else 1.0
    ax.plot([hr_s.eti.lower, hr_s.eti.upper], [-0.06 * top] * 2, color=COLOR_POOLED, lw=2.5,
            solid_capstyle="butt", clip_on=False)
    ax.plot([hr_s.median], [-0.06 * top], marker="o", color="white", markeredgecolor=COLOR_POOLED,
            markersize=5, clip_on=False)
    ax.set_ylim(-0.12 * top, top * 1.12)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    set_hr_axis(ax, xmin, xmax)
    ax.text(0.99, 0.97,
            f"HR {fmt_interval(hr_s.median, hr_s.eti.lower, hr_s.eti.upper)}\n"
            f"(median, {lvl} CrI)\n{fmt_p_statement(p1)}",
            transform=ax.transAxes, ha="right", va="top", fontsize=FONT_SIZE, zorder=5,
            bbox=dict(facecolor="white", edgecolor="none", alpha=0.9, pad=2))
    ax.legend(loc="upper left", frameon=False, fontsize=FONT_SIZE - 1)
    q = getattr(result, "question", {}) or {}
    t = title if title is not None else f"Posterior of the pooled HR: {q.get('title') or q.get('id')}"
    set_title(ax, t)
    if note:
        ax.text(0.0, -0.32, note, transform=ax.transAxes, fontsize=FONT_SIZE - 1.5, color="#555555")
    return fig


def _prior_pdf(result):
    """``(pdf, description)`` of a result's tau prior, or ``(None, reason)`` when it has none.

    The prior is ``result.priors["tau"]`` (a :class:`survmeta.priors.Prior`); a prior
    recorded only in words (``result.prior_notes["tau"]``, the hierarchical fit) is named,
    not drawn.
    """
    prior = (getattr(result, "priors", None) or {}).get("tau")
    if prior is None:
        words = (getattr(result, "prior_notes", None) or {}).get("tau")
        if words:
            return None, f"prior {words!r} could not be drawn (not a single prior density)"
        return None, "no prior recorded"
    pdf = getattr(prior, "pdf", None)
    if not callable(pdf):
        return None, f"prior {prior!s} could not be drawn (no density)"
    describe = getattr(prior, "describe", None)
    desc = str(describe()) if callable(describe) else str(prior)
    return pdf, desc


@plain_text_figure
def plot_tau(result, *, ax=None, title: str | None = None, xmax: float | None = None):
    """Prior and posterior density of the between-study SD tau.

    Parameters
    ----------
    result : survmeta.results.PoolResult
        The fit; the prior is ``result.priors["tau"]`` (a :class:`survmeta.priors.Prior`;
        a prior recorded only in words, as the hierarchical fit's, is named, not drawn).
        The posterior is the exact density when ``result.exact`` holds the
        exact engine's posterior (no kernel smoothing, so no bumps and no
        bias at tau = 0), otherwise a kernel density estimate of the draws
        reflected at 0.
    ax : matplotlib.axes.Axes, optional
        Axes to draw in; default a new figure.
    title : str, optional
        Default: "Heterogeneity: <question>".
    xmax : float, optional
        Right end of the tau axis; default from the posterior.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _new_ax(ax)
    level = float(getattr(result, "level", 0.95))
    lvl = _level_pct(level)
    tau = posterior_draws(result, "tau")
    ts = result.stats["tau"]
    if xmax is None:
        q = _exact_quantiles(result, "tau", (0.995,))
        if q is not None and q[0] > 0:
            hi = q[0]
        else:
            hi = float(np.quantile(tau, 0.995)) if tau is not None else ts.eti.upper * 1.5
        xmax = max(hi * 1.15, 0.2)
    grid = np.linspace(0.0, xmax, 500)
    top = 0.0
    d = exact_density(result, "tau", grid)
    exact = d is not None
    if d is None and tau is not None:
        d = kde_line(tau, grid, lower_bound=0.0)
    if d is not None:
        ax.plot(grid, d, color=COLOR_POOLED, lw=1.6, gid="posterior-tau",
                label="posterior (exact)" if exact else "posterior")
        ax.fill_between(grid, 0, d, color=COLOR_POOLED, alpha=0.12, lw=0)
        top = float(d.max())
    pdf, desc = _prior_pdf(result)
    if pdf is not None:
        try:
            pd_vals = np.asarray(pdf(grid), dtype=float)
            if pd_vals.shape == grid.shape and np.all(np.isfinite(pd_vals)):
                ax.plot(grid, pd_vals, color=COLOR_PRIOR, lw=1.2, ls="--", label=f"prior: {desc}")
                top = max(top, float(np.nanmax(pd_vals)))
            else:
                pdf = None
        except Exception:
            pdf = None
    if pdf is None:
        ax.text(0.99, 0.02, f"prior: {desc}", transform=ax.transAxes, ha="right", va="bottom",
                fontsize=FONT_SIZE - 1.5, color="#555555")
    top = top or 1.0
    ax.plot([ts.eti.lower, ts.eti.upper], [-0.06 * top] * 2, color=COLOR_POOLED, lw=2.5,
            solid_capstyle="butt", clip_on=False)
    ax.plot([ts.median], [-0.06 * top], marker="o", color="white", markeredgecolor=COLOR_POOLED,
            markersize=5, clip_on=False)
    ax.set_ylim(-0.12 * top, top * 1.15)
    ax.set_xlim(0, xmax)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("\u03c4 (between-study SD of the log HR)", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)
    ax.text(0.99, 0.97,
            f"\u03c4 = {ts.median:.2f} [{ts.eti.lower:.2f}, {ts.eti.upper:.2f}]\n"
            f"(median, {lvl} CrI)",
            transform=ax.transAxes, ha="right", va="top", fontsize=FONT_SIZE, zorder=5,
            bbox=dict(facecolor="white", edgecolor="none", alpha=0.9, pad=2))
    ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.8), frameon=False, fontsize=FONT_SIZE - 1)
    q = getattr(result, "question", {}) or {}
    t = title if title is not None else f"Heterogeneity: {q.get('title') or q.get('id')}"
    set_title(ax, t)
    return fig
