"""Markdown rendering: pipe tables, figures as PNG, SVG or PDF files next to the page.

Every text of the report is escaped (:func:`_esc`) so that it prints as
written, as the HTML page escapes it with :func:`html.escape`: a quote, a
citation or an arm label holding ``<script>``, ``[x](javascript:...)``,
``*`` or ``$`` is shown literally, never rendered.
"""

from __future__ import annotations

import html

from survmeta.report.content import Block, stamp_rows


#: Characters with a meaning in Markdown (CommonMark + GitHub: tables, strikethrough, math) or
#: HTML, written with a backslash so they print as themselves.
_ALWAYS = set("\\`*<>&|~$")
#: A line starting with one of these would open a block (heading, quote, list, rule).
_LINE_START = ("#", "-", "+", "=", ">")


def _esc(x, block: bool = False) -> str:
    """Text that prints literally in Markdown, as ``html.escape`` makes it print in HTML.

    Every character that could start markup is backslash-escaped: HTML tags
    and entities (``< > &``), emphasis and code (``* ` ~``), table cells
    (``|``), GitHub math (``$``), a link or image (``](`` and ``][``, and a
    ``[`` opening the text, which could define a link reference), and ``_``
    at a word boundary (inside a word, as in ``oligo_vs_systemic``, it is
    literal already). Newlines become spaces (HTML collapses them the same
    way).

    Parameters
    ----------
    x
        The text (anything ``str`` accepts).
    block : bool
        The text starts a line of its own (a paragraph, heading or list
        item): a leading ``[`` (a link reference definition) and a block
        marker (``#``, ``-``, ``+``, ``1.``, a line of ``-`` or ``=``) are
        escaped too. Table cells and captions need neither.

    Returns
    -------
    str
    """
    text = str(x).replace("\r", " ").replace("\n", " ")
    out = []
    for i, ch in enumerate(text):
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < len(text) else " "
        if ch in _ALWAYS:
            out.append("\\" + ch)
        elif ch == "_" and not (prev.isalnum() and nxt.isalnum()):
            out.append("\\_")
        elif ch == "]" and nxt in "([:":
            out.append("]\\")
        elif ch == "[" and i == 0 and block:
            out.append("\\[")
        else:
            out.append(ch)
    escaped = "".join(out)
    if not block:
        return escaped
    stripped = escaped.lstrip(" ")
    lead = len(escaped) - len(stripped)
    marker = len(stripped) - len(stripped.lstrip("#")) or (1 if stripped[:1] in "-+" else 0)
    if not marker and stripped[:1].isdigit():
        digits = len(stripped) - len(stripped.lstrip("0123456789"))
        marker = digits + 1 if stripped[digits:digits + 1] in (".", ")") else 0
    opens_block = marker and stripped[marker:marker + 1] in ("", " ", "\t")
    if opens_block or (stripped and set(stripped) <= {"-", "="}):
        at = lead + (marker - 1 if stripped[:1].isdigit() else 0)
        escaped = escaped[:at] + "\\" + escaped[at:]
    return escaped


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


def _anchor(name: str) -> str:
    """An empty HTML anchor a table-of-contents link can point to (the names are survmeta's own).

    Markdown renderers derive heading ids each in their own way; an explicit
    anchor works in all that pass inline HTML.
    """
    return f'<a id="{html.escape(name)}"></a>'


def render_markdown(blocks: list[Block], figure_files: dict[str, str]) -> str:
    """The report as Markdown.

    Parameters
    ----------
    blocks : list of Block
        From :func:`survmeta.report.content.build_document`.
    figure_files : dict
        Relative path of each figure's file (PNG or SVG, shown as an image;
        PDF, linked), keyed by the block's ``name``.

    Returns
    -------
    str
    """
    out = []
    for b in blocks:
        if b.kind in ("h2", "details") and b.name:  # the targets of the table of contents
            out.append(_anchor(b.name))
        if b.kind == "toc":
            out.append(f"## {_esc(b.text, block=True)}\n\n" + "\n".join(
                f"{'  ' * (depth - 1)}- [{_esc(text)}]({href})" for text, href, depth in b.items))
        elif b.kind == "h1":
            out.append(f"# {_esc(b.text, block=True)}")
        elif b.kind in ("h2", "details"):
            out.append(f"## {_esc(b.text, block=True)}")
        elif b.kind == "h3":
            out.append(f"### {_esc(b.text, block=True)}")
        elif b.kind == "p":
            out.append(_esc(b.text, block=True))
        elif b.kind == "list":
            out.append("\n".join(f"- {_esc(i, block=True)}" for i in b.items))
        elif b.kind == "links":
            # the targets are survmeta's own file names (letters, digits, "_ . - /")
            out.append("\n".join(f"- [{_esc(text)}]({href})" for text, href in b.items))
        elif b.kind == "table":
            out.append(md_table(b.table, b.text))
        elif b.kind == "figure":
            rel = figure_files.get(b.name)
            if rel and rel.endswith(".pdf"):  # not shown as an image: a link to the file
                out.append(f"[Figure (PDF): {_esc(b.text)}]({rel})")
            elif rel:
                out.append(f"![{_esc(b.text)}]({rel})\n\n*{_esc(b.text)}*")
        elif b.kind == "stamp":
            out.append(md_table(stamp_rows(b.data), "Reproducibility stamp."))
    return "\n\n".join(out) + "\n"
