"""MCMC diagnostics figures (trace and rank plots) through ArviZ's plotting layer."""

from __future__ import annotations

from survmeta.plotting._style import FONT_SIZE

#: Variables drawn by default: the pooled log HR and the heterogeneity SD.
DEFAULT_VARS = ("mu", "tau")


def _check(result, var_names, coords=None):
    """The DataTree to draw and the variable names in it.

    With ``coords`` selecting one value of a dimension (e.g. one question of
    the hierarchical model), that dimension is dropped and the variables that
    had it are renamed with the dimension's initial (``mu`` -> ``mu_q``), so
    panel titles stay short; the caller says which value in the title or
    caption.
    """
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
    if not coords:
        return post, names
    import xarray as xr

    ds = group.to_dataset()[names]
    rename = {}
    for dim, values in coords.items():
        values = [values] if isinstance(values, str) or not hasattr(values, "__len__") else values
        if dim not in ds.dims:
            continue
        if len(values) == 1:
            for v in names:
                if dim in ds[v].dims:
                    rename[v] = f"{rename.get(v, v)}_{dim[0]}"
            ds = ds.sel({dim: values[0]}, drop=True)
        else:
            ds = ds.sel({dim: list(values)})
    ds = ds.rename(rename)
    groups = {"posterior": ds}
    if "sample_stats" in post.children:
        groups["sample_stats"] = post["sample_stats"].to_dataset()
    return xr.DataTree.from_dict(groups), [rename.get(v, v) for v in names]


def _panels(tree, names) -> int:
    """Number of panels ArviZ draws for ``names`` (one per scalar element)."""
    group = tree["posterior"]
    n = 0
    for v in names:
        extra = [d for d in group[v].dims if d not in ("chain", "draw")]
        size = 1
        for d in extra:
            size *= group.sizes[d]
        n += size
    return max(n, 1)


def _figure_of(pc, title):
    fig = pc.viz["figure"].item()
    if title:
        # registry text: drawn literally, never as mathtext (ArviZ's own labels keep theirs)
        fig.suptitle(title, fontsize=FONT_SIZE + 1, x=0.01, ha="left", parse_math=False)
    # ArviZ places panels on a fixed grid: tick labels of one row ran into the titles and axis
    # labels of the next; the constrained layout makes room for every label
    fig.set_layout_engine("constrained")
    return fig


def plot_trace(result, *, var_names=DEFAULT_VARS, coords=None, title: str | None = None):
    """Trace and marginal density per chain (``arviz_plots.plot_trace_dist``).

    Parameters
    ----------
    result : survmeta.results.PoolResult
        A fit whose ``posterior`` DataTree holds chains (``engine`` ``"mcmc"``
        or ``"hierarchical"``; exact draws are independent and need no trace).
    var_names : sequence of str
        Variables to draw.
    coords : dict, optional
        Coordinates to select, e.g. ``{"question": ["q1"]}`` for one question
        of the hierarchical model (variables without that dimension are
        drawn whole).
    title : str, optional
        Figure title; default "MCMC trace: <question id>".

    Returns
    -------
    matplotlib.figure.Figure
    """
    import arviz_plots as azp

    post, names = _check(result, var_names, coords)
    rows = len(names)  # compact: the elements of a vector variable share its row
    pc = azp.plot_trace_dist(post, var_names=names, backend="matplotlib", compact=True,
                             figure_kwargs={"figsize": (9.0, 0.7 + 1.45 * rows)})
    return _figure_of(pc, title if title is not None else f"MCMC trace: {result.id}")


def plot_rank(result, *, var_names=DEFAULT_VARS, coords=None, title: str | None = None):
    """Rank (fractional ECDF) plot per chain (``arviz_plots.plot_rank``).

    Chains that mix well give curves inside the simultaneous envelope.

    Parameters
    ----------
    result : survmeta.results.PoolResult
        A fit with several chains.
    var_names : sequence of str
        Variables to draw.
    coords : dict, optional
        Coordinates to select (see :func:`plot_trace`).
    title : str, optional
        Figure title; default "MCMC rank plot: <question id>".

    Returns
    -------
    matplotlib.figure.Figure
    """
    import arviz_plots as azp

    post, names = _check(result, var_names, coords)
    n = _panels(post, names)
    cols = min(3, n)
    rows = -(-n // cols)
    pc = azp.plot_rank(post, var_names=names, backend="matplotlib", col_wrap=cols,
                       figure_kwargs={"figsize": (3.0 * cols, 0.5 + 2.3 * rows)})
    return _figure_of(pc, title if title is not None else f"MCMC rank plot: {result.id}")
