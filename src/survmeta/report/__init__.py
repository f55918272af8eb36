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
half-written page. PyMC is never imported here.

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
    printed_hrs,
    question_blocks,
    sof_table,
)

#: Output formats and the page's file name.
FORMATS = {"html": "report.html", "md": "report.md"}
#: Layouts of :func:`write_report`.
LAYOUTS = ("auto", "single", "paged")
#: ``layout="auto"`` pages a report with more pooled questions than this ...
PAGED_QUESTIONS = 20
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


def _render_figures(blocks: list[Block], dpi: int,
                    taken: set[str] | None = None) -> tuple[dict[str, bytes], list[Block]]:
    """PNG bytes per figure block; a figure that fails becomes a visible note instead.

    ``taken`` holds the (lower-cased) figure names already used by other
    pages of the same report; it is updated.
    """
    from survmeta.plotting._style import figure_bytes

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
            with _fast_text():
                pngs[b.name] = figure_bytes(fig, "png", dpi=dpi)
        finally:
            _release(fig)
        out.append(b)
    return pngs, out


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
                fig_dir: Path, fig_prefix: str) -> None:
    """Write one page (and, for Markdown, its figures first)."""
    from survmeta.plotting._style import atomic_write

    if fmt == "html":
        from survmeta.report.html import render_html

        atomic_write(page, render_html(blocks, pngs, title=title).encode("utf-8"))
        return
    from survmeta.report.markdown import render_markdown

    files = {}
    if pngs:
        fig_dir.mkdir(exist_ok=True)
    for name, png in pngs.items():
        atomic_write(fig_dir / f"{name}.png", png)
        files[name] = f"{fig_prefix}{name}.png"
    atomic_write(page, render_markdown(blocks, files).encode("utf-8"))


def write_report(poolset, registry=None, out_dir="report", fmt: str = "html", *,
                 registry_file=None, command: str | None = None, figures=DEFAULT_FIGURES,
                 dpi: int = 150, title: str = "survmeta report", layout: str = "auto") -> Path:
    """Write the report of a pooled registry.

    Parameters
    ----------
    poolset : survmeta.results.PoolSet
        The pooled questions (from :func:`survmeta.pool.pool`).
    registry : survmeta.registry.records.Registry, optional
        The registry pooled, for the summary of studies and comparisons and the
        hash in the stamp.
    out_dir : str or os.PathLike
        Output folder (created).
    fmt : {"html", "md"}
        ``"html"``: ``out_dir/report.html``, one self-contained page.
        ``"md"``: ``out_dir/report.md`` plus ``out_dir/figures/*.png``.
    registry_file : str or os.PathLike, optional
        The registry file to hash, when ``registry`` does not carry its path.
    command : str, optional
        The command line that produced the report, for the stamp.
    figures : sequence of str
        Figures per question, from ``"forest"``, ``"posterior"``, ``"tau"``,
        ``"funnel"`` (k >= 3) and ``"diagnostics"`` (MCMC only).
    dpi : int
        Resolution of the PNG figures.
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
    paged = is_paged(poolset, layout)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    page = out / FORMATS[fmt]
    fig_dir = out / "figures"
    taken: set[str] = set()
    question_pages = None
    if paged:
        question_pages = _write_question_pages(poolset, registry, out, fmt, figures, dpi, title,
                                               taken)
    blocks = build_document(poolset, registry, registry_file=registry_file, command=command,
                            figures=figures, title=title, question_pages=question_pages)
    pngs, blocks = _render_figures(blocks, dpi, taken)
    _write_page(page, fmt, blocks, pngs, title, fig_dir, "figures/")
    return page


def _write_question_pages(poolset, registry, out: Path, fmt: str, figures, dpi: int, title: str,
                          taken: set[str]) -> dict[str, str]:
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
    index = f"../{FORMATS[fmt]}"
    for i, r in enumerate(poolset.values()):
        blocks = [Block("h1", f"{title}: {r.id}"),
                  Block("links", items=[("Back to the summary of findings", index)])]
        blocks += question_blocks(r, figures, printed)
        pngs, blocks = _render_figures(blocks, dpi, taken)
        _write_page(out / links[r.id], fmt, blocks, pngs, f"{title}: {r.id}", out / "figures",
                    "../figures/")
        del pngs, blocks
        if i % GC_EVERY == GC_EVERY - 1:
            gc.collect()  # matplotlib's reference cycles, so memory stays flat across questions
    return links


__all__ = ["write_report", "build_document", "sof_table", "is_paged", "FORMATS", "LAYOUTS",
           "PAGED_QUESTIONS", "PAGED_ESTIMATES", "QUESTIONS_DIR"]
