"""Markdown rendering: pipe tables, figures linked as PNG files next to the page."""

from __future__ import annotations

from survmeta.report.content import Block, stamp_rows


def _esc(x) -> str:
    return str(x).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def md_table(df, caption: str = "") -> str:
    """A GitHub-flavoured pipe table, with the caption in italics above it."""
    lines = []
    if caption:
        lines += [f"*{_esc(caption)}*", ""]
    lines.append("| " + " | ".join(_esc(c) for c in df.columns) + " |")
    lines.append("|" + "|".join("---" for _ in df.columns) + "|")
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_esc(v) for v in row) + " |")
    return "\n".join(lines)


def render_markdown(blocks: list[Block], figure_files: dict[str, str]) -> str:
    """The report as Markdown.

    Parameters
    ----------
    blocks : list of Block
        From :func:`survmeta.report.content.build_document`.
    figure_files : dict
        Relative path of each figure's PNG, keyed by the block's ``name``.

    Returns
    -------
    str
    """
    out = []
    for b in blocks:
        if b.kind == "h1":
            out.append(f"# {b.text}")
        elif b.kind == "h2":
            out.append(f"## {b.text}")
        elif b.kind == "h3":
            out.append(f"### {b.text}")
        elif b.kind == "p":
            out.append(b.text)
        elif b.kind == "list":
            out.append("\n".join(f"- {i}" for i in b.items))
        elif b.kind == "table":
            out.append(md_table(b.table, b.text))
        elif b.kind == "figure":
            rel = figure_files.get(b.name)
            if rel:
                out.append(f"![{_esc(b.text)}]({rel})\n\n*{_esc(b.text)}*")
        elif b.kind == "stamp":
            out.append(md_table(stamp_rows(b.data), "Reproducibility stamp."))
    return "\n\n".join(out) + "\n"
