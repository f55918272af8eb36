"""Shared styling, number formatting, tick choice and figure saving.

Everything here is backend-neutral: figures are built with the object-oriented
matplotlib API and never shown, so callers choose the backend (tests use Agg).
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from survmeta._format import fmt_prob as _fmt_prob
from survmeta._io import atomic_write_bytes

#: Base font size (points) of every survmeta figure.
FONT_SIZE = 9.0
#: Colours: observed estimates, pooled summary, shrunken estimates, prediction interval, shading.
COLOR_STUDY = "#1f3b73"
COLOR_POOLED = "#b2182b"
COLOR_SHRUNK = "#7f7f7f"
COLOR_PREDICT = "#e08214"
COLOR_SHADE = "#92c5de"
COLOR_PRIOR = "#7f7f7f"

#: Candidate tick values of a hazard-ratio axis, in order.
HR_TICKS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0,
            50.0, 100.0, 200.0, 500.0, 1000.0)

#: File formats :func:`save_figure` writes, by extension.
SAVE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}

_TEXT_TO_PATH = TextToPath()


def text_width_in(text: str, size: float = FONT_SIZE, weight: str = "normal") -> float:
    """Width of a one-line string in inches when rendered at ``size`` points.

    Parameters
    ----------
    text : str
        The string (no newlines; for multi-line strings the widest line counts).
    size : float
        Font size in points.
    weight : str
        Font weight (``"normal"`` or ``"bold"``).

    Returns
    -------
    float
        Width in inches.
    """
    prop = FontProperties(size=size, weight=weight)
    widest = 0.0
    for line in str(text).split("\n") or [""]:
        if not line:
            continue
        w, _, _ = _TEXT_TO_PATH.get_text_width_height_descent(line, prop, ismath=False)
        widest = max(widest, w)
    return widest / 72.0


def fmt_num(x: float, digits: int = 2) -> str:
    """Format a positive ratio for display: 2 decimals below 10, fewer above.

    Parameters
    ----------
    x : float
        The number.
    digits : int
        Decimals used for numbers below 10.

    Returns
    -------
    str
        ``"0.52"``, ``"12.3"``, ``"150"``; ``"NA"`` for NaN, ``"inf"`` for infinity.
    """
    if x is None:
        return "NA"
    x = float(x)
    if math.isnan(x):
        return "NA"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    a = abs(x)
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if 0 < a < 0.01:
        return f"{x:.2g}"
    return f"{x:.{digits}f}"


def fmt_interval(est: float, lower: float, upper: float) -> str:
    """``"0.52 [0.31, 0.88]"``: an estimate and its interval, as printed on figures and tables."""
    return f"{fmt_num(est)} [{fmt_num(lower)}, {fmt_num(upper)}]"


def fmt_prob(p: float) -> str:
    """A probability with 3 decimals, ``">0.999"``/``"<0.001"`` at the extremes."""
    return _fmt_prob(p)


def fmt_tick(x: float) -> str:
    """Tick label of an HR axis: ``"0.1"``, ``"0.5"``, ``"1"``, ``"10"``."""
    return f"{x:g}"


def hr_limits(values: Iterable[float], min_span: float = 4.0) -> tuple[float, float]:
    """Snap a range of hazard ratios outward to tick values.

    Parameters
    ----------
    values : iterable of float
        Hazard ratios the axis must show (NaN and non-positive values ignored).
        1 is always included.
    min_span : float
        Smallest ratio upper / lower of the result, so a tight range still reads
        as a ratio scale.

    Returns
    -------
    (float, float)
        Axis limits, each one of :data:`HR_TICKS`.
    """
    v = np.asarray([x for x in values if x is not None], dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    lo = float(min(v.min(), 1.0)) if v.size else 1.0
    hi = float(max(v.max(), 1.0)) if v.size else 1.0
    lo = max(lo, HR_TICKS[0])
    hi = min(hi, HR_TICKS[-1])
    lo_t = max([t for t in HR_TICKS if t <= lo * (1 + 1e-9)], default=HR_TICKS[0])
    hi_t = min([t for t in HR_TICKS if t >= hi * (1 - 1e-9)], default=HR_TICKS[-1])
    ticks = list(HR_TICKS)
    while hi_t / lo_t < min_span:
        i, j = ticks.index(lo_t), ticks.index(hi_t)
        # widen on the side with more room in log terms, keeping 1 near the middle
        if (math.log(1 / lo_t) <= math.log(hi_t)) and i > 0:
            lo_t = ticks[i - 1]
        elif j < len(ticks) - 1:
            hi_t = ticks[j + 1]
        elif i > 0:
            lo_t = ticks[i - 1]
        else:
            break
    return lo_t, hi_t


def hr_ticks(lo: float, hi: float, max_ticks: int = 9) -> list[float]:
    """Readable ticks (0.1, 0.2, 0.5, 1, 2, 5, 10, ...) between ``lo`` and ``hi``.

    When more than ``max_ticks`` candidates fall in the range, only powers of 10
    (and 1) are kept, then every other power.
    """
    ticks = [t for t in HR_TICKS if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]
    if len(ticks) > max_ticks:
        ticks = [t for t in ticks if abs(math.log10(t) - round(math.log10(t))) < 1e-9]
    if len(ticks) > max_ticks:
        ticks = [t for t in ticks if round(math.log10(t)) % 2 == 0]
    return ticks


def set_hr_axis(ax, lo: float, hi: float, label: str | None = "Hazard ratio (log scale)",
                axis: str = "x") -> None:
    """Make ``ax``'s x (or y) axis a log HR axis with readable ticks and no minor labels."""
    from matplotlib.ticker import FixedLocator, FixedFormatter, NullFormatter, NullLocator

    ticks = hr_ticks(lo, hi)
    a = ax.xaxis if axis == "x" else ax.yaxis
    if axis == "x":
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
    else:
        ax.set_yscale("log")
        ax.set_ylim(lo, hi)
    a.set_major_locator(FixedLocator(ticks))
    a.set_major_formatter(FixedFormatter([fmt_tick(t) for t in ticks]))
    a.set_minor_locator(NullLocator())
    a.set_minor_formatter(NullFormatter())
    if label:
        (ax.set_xlabel if axis == "x" else ax.set_ylabel)(label, fontsize=FONT_SIZE)
    ax.tick_params(axis=axis, labelsize=FONT_SIZE)


def wrap_to_width(text: str, width_in: float, size: float = FONT_SIZE, max_lines: int = 2) -> str:
    """Wrap ``text`` on spaces so each line fits ``width_in`` inches; truncate with an ellipsis.

    Parameters
    ----------
    text : str
        Text to wrap.
    width_in : float
        Available width in inches.
    size : float
        Font size in points.
    max_lines : int
        Lines kept; the last one ends in "..." when text was dropped.

    Returns
    -------
    str
        The text with newlines inserted.
    """
    words = str(text).split()
    lines: list[str] = []
    cur = ""
    for w in words:
        trial = f"{cur} {w}".strip()
        if text_width_in(trial, size) <= width_in or not cur:
            cur = trial
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1] + " ..."
    out = []
    for line in lines:
        out.append(truncate_to_width(line, width_in, size))
    return "\n".join(out)


def truncate_to_width(text: str, width_in: float, size: float = FONT_SIZE) -> str:
    """Cut ``text`` (one line) with a trailing ellipsis so it fits ``width_in`` inches."""
    text = str(text)
    if text_width_in(text, size) <= width_in:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width_in(text[:mid].rstrip() + "...", size) <= width_in:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "..."


def save_figure(fig, path, dpi: int = 200, **kwargs) -> Path:
    """Save a figure as PNG, SVG or PDF, chosen by the file extension, atomically.

    The figure is written to a temporary file in the target directory and
    renamed over ``path``, so an interrupted run never leaves a half-written
    image.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or os.PathLike
        Target file; its extension (``.png``, ``.svg``, ``.pdf``) picks the format.
    dpi : int
        Resolution of raster output.
    **kwargs
        Passed to :meth:`matplotlib.figure.Figure.savefig`.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot save a figure as {path.name!r}: use one of {', '.join(SAVE_FORMATS)}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("facecolor", "white")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, **kwargs)
    atomic_write(path, buf.getvalue())
    return path


def atomic_write(path, data: bytes) -> Path:
    """Write bytes to ``path`` atomically (see :func:`survmeta._io.atomic_write_bytes`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)
    return path


def figure_bytes(fig, fmt: str = "png", dpi: int = 150, **kwargs) -> bytes:
    """Render a figure to bytes (``"png"`` or ``"svg"``) for embedding."""

    buf = io.BytesIO()
    kwargs.setdefault("facecolor", "white")
    fig.savefig(buf, format=fmt, dpi=dpi, **kwargs)
    return buf.getvalue()


def plain_text(fig, keep=()):
    """Draw every text of ``fig`` literally: no mathtext.

    Titles, labels, study names and quotes come from the registry; with
    mathtext on, ``"US$ 5 vs US$ 10"`` would be typeset as math and ``"$b_$"``
    would abort the drawing. survmeta's own texts use Unicode (``\u03c4``,
    ``\u2212``), never mathtext, so every text of the figure is set plain.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    keep : collection of int
        ``id()`` of texts to leave as they are (those a caller's figure held
        before survmeta drew into one of its axes).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig`` itself.
    """
    from matplotlib.text import Text

    for t in fig.findobj(Text):
        if id(t) not in keep:
            t.set_parse_math(False)
    return fig


def plain_text_figure(fn):
    """Decorator: the figure a plotting function returns draws its texts literally.

    See :func:`plain_text`. When the function draws into a caller's axes
    (``ax=``), only the texts of those axes are changed. Tick labels created later,
    at draw time, are numbers formatted by survmeta and never hold mathtext.
    """
    import functools

    from matplotlib.text import Text

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ax = kwargs.get("ax")
        keep = set()
        if ax is not None:  # the caller's other axes and figure texts stay as they are
            keep = {id(t) for t in ax.figure.findobj(Text)} - {id(t) for t in ax.findobj(Text)}
        return plain_text(fn(*args, **kwargs), keep)

    return wrapper


def new_figure(width: float, height: float):
    """A detached :class:`matplotlib.figure.Figure` (no pyplot state, nothing to close)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def kde_line(x: np.ndarray, grid: np.ndarray, lower_bound: float | None = None) -> np.ndarray:
    """Gaussian kernel density of draws ``x`` on ``grid`` (reflected at ``lower_bound``).

    Parameters
    ----------
    x : numpy.ndarray
        Draws.
    grid : numpy.ndarray
        Points at which to evaluate.
    lower_bound : float, optional
        Support bound; the density is reflected there (e.g. 0 for tau).

    Returns
    -------
    numpy.ndarray
        Density values.
    """
    x = np.asarray(x, dtype=float).ravel()
    x = x[np.isfinite(x)]
    n = x.size
    if n < 2 or np.std(x) == 0:
        return np.zeros_like(grid, dtype=float)
    sd = np.std(x, ddof=1)
    iqr = np.subtract(*np.percentile(x, [75, 25]))
    s = min(sd, iqr / 1.349) if iqr > 0 else sd
    bw = 0.9 * s * n ** (-0.2)
    if len(x) > 4000:  # evaluate on a binned copy for speed
        edges = np.linspace(x.min(), x.max(), 2001)
        counts, edges = np.histogram(x, edges)
        centres = 0.5 * (edges[1:] + edges[:-1])
        keep = counts > 0
        pts, wts = centres[keep], counts[keep] / n
    else:
        pts, wts = x, np.full(n, 1.0 / n)

    def dens(g):
        z = (g[:, None] - pts[None, :]) / bw
        return (np.exp(-0.5 * z * z) * wts[None, :]).sum(axis=1) / (bw * math.sqrt(2 * math.pi))

    g = np.asarray(grid, dtype=float)
    d = dens(g)
    if lower_bound is not None:
        d = d + dens(2 * lower_bound - g)
        d[g < lower_bound] = 0.0
    return d


def clean_series(values: Sequence) -> np.ndarray:
    """Float array from a sequence that may hold None/pd.NA."""
    out = []
    for v in values:
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            out.append(float("nan"))
    return np.asarray(out, dtype=float)


def fmt_p_statement(p: float | None, what: str = "P(HR < 1)") -> str:
    """``"P(HR < 1) = 0.973"``, ``"P(HR < 1) > 0.999"``, ``"P(HR < 1) < 0.001"``."""
    s = fmt_prob(p)
    if s.startswith((">", "<")):
        return f"{what} {s[0]} {s[1:]}"
    return f"{what} = {s}"


def set_title(ax, text: str, size: float = FONT_SIZE + 1, max_lines: int = 2) -> None:
    """Left-aligned axes title wrapped to the axes width (in inches)."""
    fig = ax.figure
    width_in = ax.get_position().width * fig.get_size_inches()[0]
    # allow the title to start at the axes and run to the figure's right edge
    right_room = (1 - ax.get_position().x1) * fig.get_size_inches()[0] - 0.1
    ax.set_title(wrap_to_width(text, width_in + max(right_room, 0), size, max_lines=max_lines),
                 fontsize=size, loc="left")
