"""MCMC diagnostics figures (trace and rank plots) through ArviZ's plotting layer."""

from __future__ import annotations

from survmeta.plotting._style import FONT_SIZE

#: Variables drawn by default: the pooled log HR and the heterogeneity SD.
DEFAULT_VARS = ("mu", "tau")


def _check(result, var_names):
    post = getattr(result, "posterior", None)
    if post is None:
        raise ValueError(f"result {result.id} carries no posterior draws to diagnose")
    try:
        group = post["posterior"]
    except KeyError as exc:
        raise ValueError(f"result {result.id}: the posterior has no 'posterior' group") from exc
    names = [v for v in var_names if v in group.data_vars]
    if not names:
        raise ValueError(f"result {result.id}: none of {', '.join(var_names)} in the posterior")
    return post, names


def _figure_of(pc, title):
    fig = pc.viz["figure"].item()
    if title:
        fig.suptitle(title, fontsize=FONT_SIZE + 1, x=0.01, ha="left")
    return fig


def plot_trace(result, *, var_names=DEFAULT_VARS, title: str | None = None):
    """Trace and marginal density per chain (``arviz_plots.plot_trace_dist``).

    Parameters
    ----------
    result : survmeta.results.PoolResult
        A fit whose ``posterior`` DataTree holds chains (``engine`` ``"mcmc"``
        or ``"hierarchical"``; exact draws are independent and need no trace).
    var_names : sequence of str
        Variables to draw.
    title : str, optional
        Figure title; default "MCMC trace: <question id>".

    Returns
    -------
    matplotlib.figure.Figure
    """
    import arviz_plots as azp

    post, names = _check(result, var_names)
    pc = azp.plot_trace_dist(post, var_names=names, backend="matplotlib", compact=True)
    return _figure_of(pc, title if title is not None else f"MCMC trace: {result.id}")


def plot_rank(result, *, var_names=DEFAULT_VARS, title: str | None = None):
    """Rank (fractional ECDF) plot per chain (``arviz_plots.plot_rank``).

    Chains that mix well give curves inside the simultaneous envelope.

    Parameters
    ----------
    result : survmeta.results.PoolResult
        A fit with several chains.
    var_names : sequence of str
        Variables to draw.
    title : str, optional
        Figure title; default "MCMC rank plot: <question id>".

    Returns
    -------
    matplotlib.figure.Figure
    """
    import arviz_plots as azp

    post, names = _check(result, var_names)
    pc = azp.plot_rank(post, var_names=names, backend="matplotlib")
    return _figure_of(pc, title if title is not None else f"MCMC rank plot: {result.id}")
