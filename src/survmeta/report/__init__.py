"""One-command reports: a self-contained HTML page or a Markdown version.

:func:`write_report` renders a :class:`~survmeta.results.PoolSet` as the page
a review needs: the registry summary (what was pooled and what could not be,
and why), a summary-of-findings table, per question the forest plot and the
other figures, the reconstruction method of every estimate, diagnostics, a
methods paragraph written from what was run, references, and a
reproducibility stamp. The HTML page embeds its figures (base64 PNG) and its
CSS, so nothing is fetched when it is viewed; the Markdown page links PNG
files written next to it. Every file is written atomically (temporary file and
rename), figures first and the page last, so an interrupted run never leaves a
half-written page. PyMC is never imported here.
"""

from __future__ import annotations

import re
from pathlib import Path

from survmeta.report.content import DEFAULT_FIGURES, Block, build_document, sof_table

#: Output formats and the page's file name.
FORMATS = {"html": "report.html", "md": "report.md"}


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


def _render_figures(blocks: list[Block], dpi: int) -> tuple[dict[str, bytes], list[Block]]:
    """PNG bytes per figure block; a figure that fails becomes a visible note instead."""
    from survmeta.plotting._style import figure_bytes

    pngs: dict[str, bytes] = {}
    out: list[Block] = []
    taken: set[str] = set()
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
            pngs[b.name] = figure_bytes(fig, "png", dpi=dpi)
        finally:
            _release(fig)
        out.append(b)
    return pngs, out


def _release(fig) -> None:
    """Free a figure (ArviZ figures are registered with pyplot; ours are detached)."""
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)


def write_report(poolset, registry=None, out_dir="report", fmt: str = "html", *,
                 registry_file=None, command: str | None = None, figures=DEFAULT_FIGURES,
                 dpi: int = 150, title: str = "survmeta report") -> Path:
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
        ``"funnel"`` (k >= 3), ``"diagnostics"`` (MCMC only) and ``"km"`` (the
        Kaplan-Meier reconstruction of every pooled comparison whose arms carry
        digitised curves, :func:`~survmeta.plotting.plot_km`; needs ``registry``).
    dpi : int
        Resolution of the PNG figures.
    title : str
        Page title.

    Returns
    -------
    pathlib.Path
        The page written.
    """
    from survmeta.plotting._style import atomic_write

    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    blocks = build_document(poolset, registry, registry_file=registry_file, command=command,
                            figures=figures, title=title)
    pngs, blocks = _render_figures(blocks, dpi)
    page = out / FORMATS[fmt]
    if fmt == "html":
        from survmeta.report.html import render_html

        atomic_write(page, render_html(blocks, pngs, title=title).encode("utf-8"))
    else:
        from survmeta.report.markdown import render_markdown

        fig_dir = out / "figures"
        fig_dir.mkdir(exist_ok=True)
        files = {}
        for name, png in pngs.items():
            atomic_write(fig_dir / f"{name}.png", png)
            files[name] = f"figures/{name}.png"
        atomic_write(page, render_markdown(blocks, files).encode("utf-8"))
    return page


__all__ = ["write_report", "build_document", "sof_table", "FORMATS"]
