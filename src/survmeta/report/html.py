"""Self-contained HTML rendering: inline CSS, figures as base64 PNG or inline SVG, nothing fetched."""

from __future__ import annotations

import base64
import html
import re

from survmeta.report.content import Block, stamp_rows

CSS = """
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 14px; color: #111;
       max-width: 1180px; margin: 1.5em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; border-bottom: 2px solid #1f3b73; padding-bottom: .2em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.08em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: 12.5px; }
caption { caption-side: top; text-align: left; font-style: italic; padding-bottom: .3em; }
th, td { border-bottom: 1px solid #ddd; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f2f4f8; border-bottom: 2px solid #999; }
figure { margin: 1em 0; }
figure img, figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-style: italic; font-size: 12.5px; }
.stamp td:first-child { font-weight: bold; }
code { font-size: 12px; }
td.num { white-space: nowrap; }
nav ul.toc { columns: 2; font-size: 13px; }
nav ul.toc ul { margin: .1em 0 .3em; }
details.question > summary { cursor: pointer; }
details.question > summary > h2 { display: inline; }
details.question { margin-top: 1.5em; }
"""

#: Cells kept on one line: an estimate with its interval ("0.33 [0.13, 0.81]", "1†"), an
#: interval alone, a number or percentage. A wrapped interval ("0.33 [0.13," / "0.81]") is hard
#: to read in a narrow column.
_NUMERIC_CELL = re.compile(r"^(?:[-+≥<>]?[\d.]+(?:%|†)?\s*)?(?:\[[^\]]*\])?$")


def _td(v) -> str:
    text = str(v)
    cls = ' class="num"' if text and _NUMERIC_CELL.match(text) else ""
    return f"<td{cls}>{html.escape(text)}</td>"


def _table(df, caption: str = "", css_class: str = "", table_id: str = "") -> str:
    attrs = ""
    if css_class:
        attrs += f' class="{html.escape(css_class)}"'
    if table_id:
        attrs += f' id="{html.escape(table_id)}"'
    out = [f"<table{attrs}>"]
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
               + "</tr></thead><tbody>")
    for row in df.itertuples(index=False):
        out.append("<tr>" + "".join(_td(v) for v in row) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _toc(b: Block) -> str:
    """The table of contents as nested lists of in-page links."""
    out = [f'<nav id="{html.escape(b.name)}"><h2>{html.escape(b.text)}</h2><ul class="toc">']
    nested = False
    for text, href, depth in b.items:
        if depth > 1 and not nested:
            out.append("<ul>")
            nested = True
        elif depth == 1 and nested:
            out.append("</ul></li>")
            nested = False
        elif depth == 1 and len(out) > 1:
            out.append("</li>")
        link = f'<a href="{html.escape(href)}">{html.escape(str(text))}</a>'
        out.append(f"<li>{link}" + ("</li>" if depth > 1 else ""))
    if nested:
        out.append("</ul>")
    if b.items:
        out.append("</li>")
    out.append("</ul></nav>")
    return "".join(out)


def inline_svg(svg: bytes, prefix: str) -> str:
    """An SVG file as an element to place in the page.

    The XML prolog and doctype are dropped, and every ``id`` (clip paths,
    glyphs, markers) and every reference to one gets ``prefix``, so the ids of
    two figures on one page never collide.
    """
    text = svg.decode("utf-8")
    text = text[text.index("<svg"):]
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{prefix}{m.group(1)})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)
    return text.strip()


def render_html(blocks: list[Block], figure_png: dict[str, bytes], title: str = "survmeta report",
                figure_format: str = "png") -> str:
    """The page as one string.

    Parameters
    ----------
    blocks : list of Block
        From :func:`survmeta.report.content.build_document`.
    figure_png : dict
        Image bytes of each figure block, keyed by the block's ``name``.
    title : str
        ``<title>`` of the page.
    figure_format : {"png", "svg"}
        PNG figures are embedded as base64 data URIs in ``<img>``; SVG ones
        inline (:func:`inline_svg`), with the caption as their ``aria-label``.

    Returns
    -------
    str
        A complete HTML document with no external references.
    """
    body = []
    for b in blocks:
        if b.kind in ("h1", "h2", "h3"):
            anchor = f' id="{html.escape(b.name)}"' if b.name else ""
            body.append(f"<{b.kind}{anchor}>{html.escape(b.text)}</{b.kind}>")
        elif b.kind == "toc":
            body.append(_toc(b))
        elif b.kind == "details":
            is_open = " open" if b.data.get("open") else ""
            body.append(f'<details class="question"{is_open}><summary><h2 id="{html.escape(b.name)}">'
                        f"{html.escape(b.text)}</h2></summary>")
        elif b.kind == "end_details":
            body.append("</details>")
        elif b.kind == "p":
            body.append(f"<p>{html.escape(b.text)}</p>")
        elif b.kind == "list":
            body.append("<ul>" + "".join(f"<li>{html.escape(str(i))}</li>" for i in b.items) + "</ul>")
        elif b.kind == "links":
            body.append('<ul class="links">' + "".join(
                f'<li><a href="{html.escape(href)}">{html.escape(str(text))}</a></li>'
                for text, href in b.items) + "</ul>")
        elif b.kind == "table":
            body.append(_table(b.table, b.text, table_id=b.name))
        elif b.kind == "figure":
            png = figure_png.get(b.name)
            if png is None:
                continue
            if figure_format == "svg":
                svg = inline_svg(png, f"{b.name}-").replace(
                    "<svg", f'<svg role="img" aria-label="{html.escape(b.text)}"', 1)
                body.append(f'<figure id="fig-{html.escape(b.name)}">{svg}<figcaption>'
                            f"{html.escape(b.text)}</figcaption></figure>")
                continue
            data = base64.b64encode(png).decode("ascii")
            body.append(
                f'<figure id="fig-{html.escape(b.name)}"><img alt="{html.escape(b.text)}" '
                f'src="data:image/png;base64,{data}"><figcaption>{html.escape(b.text)}'
                "</figcaption></figure>"
            )
        elif b.kind == "stamp":
            body.append(_table(stamp_rows(b.data), "Reproducibility stamp.", css_class="stamp",
                               table_id="stamp"))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body) + "\n</body>\n</html>\n"
    )
