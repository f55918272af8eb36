"""One-command reports: a self-contained HTML page or a Markdown version.

:func:`write_report` renders a :class:`~survmeta.results.PoolSet` as the page
a review needs: a table of contents linking every section, the
summary-of-findings table first (the primary answer per question, from
:meth:`~survmeta.results.PoolSet.summary_of_findings`: a question with one
study gives that study's own estimate, flagged), the registry summary (what
was pooled and what could not be, and why; only the questions asked for when
pooling was limited to some), per question a collapsible section (open when
k >= 2; a one-study section has no tau or funnel figure, which would show only
the prior) with the forest plot and the other figures, the reconstruction
method of every estimate and diagnostics, a methods paragraph written from
what was run, references, and a reproducibility stamp. The HTML page embeds its figures (base64 PNG) and its
CSS, so nothing is fetched when it is viewed; the Markdown page links PNG
files written next to it. Every file is written atomically (temporary file and
rename), figures first and the page last, so an interrupted run never leaves a
half-written page. PyMC is never imported here. Figures are PNG by default
(``figure_format``: SVG inline in the HTML page, or SVG or PDF files beside a
Markdown page).

A large report is paged: beyond :data:`PAGED_QUESTIONS` pooled questions or
:data:`PAGED_ESTIMATES` pooled estimates, ``report.html`` (or ``report.md``)
keeps the summary of findings, the registry summary, the hierarchical model,
the methods and the stamp, with a link to one page per question
(``questions/<id>.html``, or ``.md`` with its figures in ``figures/``). Each
question's figures are drawn once, written with its page and released before
the next question is drawn, so memory does not grow with the number of
questions; the index page is written last.
"""

from __future__ import annotations

import gc
import re
from pathlib import Path

from survmeta.report.content import (
    DEFAULT_FIGURES,
    Block,
    build_document,
    km_comparisons,
    printed_hrs,
    risk_of_bias_entries,
    question_blocks,
    author_year_study_labels,
)

#: Output formats and the page's file name.
FORMATS = {"html": "report.html", "md": "report.md"}
#: Figure formats of :func:`write_report`. An HTML page embeds PNG (as a base64 data URI) or
#: SVG (inline); PDF figures are only written as files beside a Markdown page, which links them.
FIGURE_FORMATS = ("png", "svg", "pdf")
#: Layouts of :func:`write_report`.
LAYOUTS = ("auto", "single", "paged")
#: ``layout="auto"`` pages a report with more pooled questions than this ...
PAGED_QUESTIONS = 40
#: ... or more pooled estimates (rows of the estimates tables) than this.
PAGED_ESTIMATES = 400
#: A paged report collects matplotlib's reference cycles after every this many questions
#: (each collection costs about 0.1 s; without them the peak grows by about 2.5 MB a question).
GC_EVERY = 5
#: Folder of the per-question pages, inside the output folder.
QUESTIONS_DIR = "questions"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "figure"


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``, ... when a name equal but for case is taken.

    Question ids that differ only by case (``Q1`` and ``q1``) would otherwise
    write figure files that overwrite each other on a case-insensitive file
    system (macOS, Windows). ``taken`` (lower-cased names) is updated.
    """
    candidate, i = name, 1
    while candidate.lower() in taken:
        i += 1
        candidate = f"{name}-{i}"
    taken.add(candidate.lower())
    return candidate


def _render_figures(blocks: list[Block], dpi: int, taken: set[str] | None = None,
                    figure_format: str = "png") -> tuple[dict[str, bytes], list[Block]]:
    """Image bytes per figure block; a figure that fails becomes a visible note instead.

    ``taken`` holds the (lower-cased) figure names already used by other
    pages of the same report; it is updated. ``figure_format`` is one of
    :data:`FIGURE_FORMATS`.
    """
    pngs: dict[str, bytes] = {}
    out: list[Block] = []
    taken = set() if taken is None else taken
    for b in blocks:
        if b.kind != "figure":
            out.append(b)
            continue
        b.name = _unique(_safe(b.name), taken)
        try:
            fig = b.figure()
        except Exception as exc:  # one bad figure must not lose the whole report
            out.append(Block("p", f"[{b.text.rstrip('.')} could not be drawn: {exc}]"))
            continue
        try:
            pngs[b.name] = _figure_file(fig, figure_format, dpi)
        finally:
            _release(fig)
        out.append(b)
    return pngs, out


def _figure_file(fig, figure_format: str, dpi: int) -> bytes:
    """The bytes of one report figure.

    PNG is reduced to a 256-colour palette (:func:`_palette_png`); SVG keeps
    its text as text (``svg.fonttype = "none"``: searchable, selectable, and
    a third of the size of glyph outlines; the page's fonts draw it); PDF
    embeds its fonts.
    """
    import matplotlib as mpl

    from survmeta.plotting._style import figure_bytes

    if figure_format == "png":
        with _fast_text():
            return _palette_png(figure_bytes(fig, "png", dpi=dpi))
    if figure_format == "svg":
        with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "survmeta"}):
            return figure_bytes(fig, "svg", dpi=dpi)
    return figure_bytes(fig, "pdf", dpi=dpi)


def _palette_png(png: bytes) -> bytes:
    """The PNG with a 256-colour palette (fast octree, no dithering).

    A figure has a few colours plus the anti-aliasing between them; the
    palette image looks the same and takes about a quarter of the bytes,
    which keeps the self-contained page of the bundled registry under 2 MB.
    The input is returned unchanged when it is smaller.
    """
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        pal = im.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                         dither=Image.Dither.NONE)
    buf = io.BytesIO()
    pal.save(buf, "PNG", optimize=True)
    out = buf.getvalue()
    return out if len(out) < len(png) else png


def _fast_text():
    """Rasterise text without font hinting while a report figure is saved.

    Hinting only nudges glyph outlines onto the pixel grid, which matters for
    small text on screens at 72-96 dpi and hardly at the report's 150 dpi;
    drawing text is most of the time of a forest plot, and without hinting it
    takes about a third less (docs/performance.md, *Report*).
    """
    import matplotlib as mpl

    return mpl.rc_context({"text.hinting": "no_hinting"})


def _release(fig) -> None:
    """Free a figure now (ArviZ figures are registered with pyplot; ours are detached).

    The Agg canvas keeps its pixel buffer (15 MB for a 40-row forest plot at
    150 dpi) until the figure's reference cycles are collected; dropping the
    renderer and the artists frees it at once.
    """
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)
    canvas = getattr(fig, "canvas", None)
    if canvas is not None and "renderer" in vars(canvas):
        del canvas.renderer
    fig.clear()


def is_paged(poolset, layout: str = "auto") -> bool:
    """Whether :func:`write_report` writes one page per question (see the module docstring)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown report layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    if layout != "auto":
        return layout == "paged"
    results = list(poolset.values())
    return len(results) > PAGED_QUESTIONS or sum(r.k for r in results) > PAGED_ESTIMATES


def _write_page(page: Path, fmt: str, blocks: list[Block], pngs: dict[str, bytes], title: str,
                fig_dir: Path, fig_prefix: str, figure_format: str = "png") -> None:
    """Write one page (and, for Markdown, its figures first)."""
    from survmeta.plotting._style import atomic_write

    if fmt == "html":
        from survmeta.report.html import render_html

        atomic_write(page, render_html(blocks, pngs, title=title,
                                       figure_format=figure_format).encode("utf-8"))
        return
    from survmeta.report.markdown import render_markdown

    files = {}
    if pngs:
        fig_dir.mkdir(exist_ok=True)
    for name, data in pngs.items():
        atomic_write(fig_dir / f"{name}.{figure_format}", data)
        files[name] = f"{fig_prefix}{name}.{figure_format}"
    atomic_write(page, render_markdown(blocks, files).encode("utf-8"))


def write_report(poolset, registry=None, out_dir="report", fmt: str = "html", *,
                 registry_file=None, command: str | None = None, figures=DEFAULT_FIGURES,
                 dpi: int = 150, title: str = "survmeta report", layout: str = "auto",
                 figure_format: str = "png") -> Path:
    """Write the report of a pooled registry.

    Parameters
    ----------
    poolset : survmeta.results.PoolSet
        The pooled questions (from :func:`survmeta.pooling.pool`).
    registry : survmeta.registry.records.Registry, optional
        The registry pooled, for the summary of studies and comparisons and the
        hash in the stamp.
    out_dir : str or os.PathLike
        Output folder (created).
    fmt : {"html", "md"}
        ``"html"``: ``out_dir/report.html``, one self-contained page.
        ``"md"``: ``out_dir/report.md`` plus ``out_dir/figures/*.png`` (or
        ``.svg``, ``.pdf``: see ``figure_format``).
    registry_file : str or os.PathLike, optional
        The registry file to hash, when ``registry`` does not carry its path.
    command : str, optional
        The command line that produced the report, for the stamp.
    figures : sequence of str
        Figures per question, from ``"forest"`` (with risk-of-bias columns when
        the registry has entries), ``"rob"`` (the risk-of-bias summary,
        :func:`~survmeta.plotting.plot_rob_summary`, when the question has
        entries), ``"posterior"``, ``"tau"``,
        ``"funnel"`` (k >= 3), ``"diagnostics"`` (MCMC only) and ``"km"`` (the
        Kaplan-Meier reconstruction of every pooled comparison whose arms carry
        digitised curves, :func:`~survmeta.plotting.plot_km`; needs ``registry``).
    dpi : int
        Resolution of the PNG figures (and of any raster part of SVG or PDF).
    figure_format : {"png", "svg", "pdf"}
        ``"png"`` (default): embedded in the HTML page as base64 data URIs, with
        a 256-colour palette. ``"svg"``: inline ``<svg>`` elements in the HTML
        page (text kept as text), or files beside a Markdown page. ``"pdf"``:
        only with ``fmt="md"``, as files the page links to (a browser does not
        show a PDF as an image, and a self-contained page cannot embed one as
        a figure); with ``fmt="html"`` a ValueError.
    title : str
        Page title.
    layout : {"auto", "single", "paged"}
        ``"single"``: every question on the one page. ``"paged"``: the page
        links one page per question (``out_dir/questions/``). ``"auto"``
        (default): paged beyond :data:`PAGED_QUESTIONS` questions or
        :data:`PAGED_ESTIMATES` pooled estimates.

    Returns
    -------
    pathlib.Path
        The page written (the index page of a paged report).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if figure_format not in FIGURE_FORMATS:
        raise ValueError(f"unknown figure format {figure_format!r}; choose one of "
                         f"{', '.join(FIGURE_FORMATS)}")
    if figure_format == "pdf" and fmt == "html":
        raise ValueError("PDF figures cannot be embedded in the self-contained HTML page; use "
                         "png or svg, or the Markdown report (fmt 'md'), whose PDF figures are "
                         "files beside the page")
    if int(dpi) != dpi or dpi <= 0:
        raise ValueError(f"dpi must be a positive whole number, not {dpi!r}")
    paged = is_paged(poolset, layout)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    page = out / FORMATS[fmt]
    fig_dir = out / "figures"
    taken: set[str] = set()
    question_pages = None
    if paged:
        question_pages = _write_question_pages(poolset, registry, out, fmt, figures, dpi, title,
                                               taken, figure_format)
    blocks = build_document(poolset, registry, registry_file=registry_file, command=command,
                            figures=figures, title=title, question_pages=question_pages)
    pngs, blocks = _render_figures(blocks, dpi, taken, figure_format)
    _write_page(page, fmt, blocks, pngs, title, fig_dir, "figures/", figure_format)
    return page


def _write_question_pages(poolset, registry, out: Path, fmt: str, figures, dpi: int, title: str,
                          taken: set[str], figure_format: str = "png") -> dict[str, str]:
    """One page per question, each written (and its figures released) before the next is drawn.

    Returns ``question id -> link`` relative to the index page.
    """
    qdir = out / QUESTIONS_DIR
    qdir.mkdir(exist_ok=True)
    ext = FORMATS[fmt].rsplit(".", 1)[1]
    names: set[str] = set()
    links = {r.id: f"{QUESTIONS_DIR}/{_unique(_safe(r.id), names)}.{ext}"
             for r in poolset.values()}
    printed = printed_hrs(registry)
    km = km_comparisons(registry) if "km" in figures else {}
    labels = author_year_study_labels(registry)
    index = f"../{FORMATS[fmt]}"
    for i, r in enumerate(poolset.values()):
        blocks = [Block("h1", f"{title}: {r.id}"),
                  Block("links", items=[("Back to the summary of findings", index)])]
        blocks += question_blocks(r, figures, printed, labels=labels, km=km,
                                  risk_of_bias=risk_of_bias_entries(registry))
        pngs, blocks = _render_figures(blocks, dpi, taken, figure_format)
        _write_page(out / links[r.id], fmt, blocks, pngs, f"{title}: {r.id}", out / "figures",
                    "../figures/", figure_format)
        del pngs, blocks
        if i % GC_EVERY == GC_EVERY - 1:
            gc.collect()  # matplotlib's reference cycles, so memory stays flat across questions
    return links


__all__ = ["write_report", "is_paged", "FORMATS", "FIGURE_FORMATS", "LAYOUTS"]
