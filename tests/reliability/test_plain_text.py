"""User text is drawn and written literally: no mathtext in figures, no markup in Markdown.

Issue 15: a question title ``$b_$`` aborted the whole report (matplotlib
mathtext), ``US$ 5 vs US$ 10`` was typeset as math, and the Markdown report
did not escape HTML in quotes, labels and titles.
"""

from __future__ import annotations

import re

import pytest
from matplotlib.text import Text

from survmeta.report.markdown import _esc

from .conftest import edit

TITLE = 'title = "Drug vs placebo"'
NASTY = "$b_$ and US$ 5 vs US$ 10 <script>alert(1)</script> [x](javascript:alert(1)) *em*"


def _unescape(md: str) -> str:
    """Undo CommonMark backslash escapes (a backslash before ASCII punctuation)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", md)


@pytest.fixture
def nasty_registry(write):
    text = edit(TITLE, f'title = "{NASTY}"')
    text = edit('endpoint = "OS"', 'endpoint = "OS $x^$ <b>"', text)
    return write(text)


def test_every_figure_text_is_plain_and_draws(nasty_registry):
    from survmeta.plotting import figure_bytes
    from survmeta.pooling import pool

    result = pool(nasty_registry, hierarchical=False)["q1"]
    for fig in (result.plot_forest(), result.plot_posterior(), result.plot_tau()):
        texts = [t for t in fig.findobj(Text) if t.get_text()]
        assert texts and not any(t.get_parse_math() for t in texts)
        assert figure_bytes(fig).startswith(b"\x89PNG")  # "$b_$" used to raise here
    forest = result.plot_forest()
    shown = " ".join(t.get_text() for t in forest.findobj(Text))
    assert "OS $x^$ <b>" in shown  # the endpoint column, as written


def test_a_literal_dollar_measures_as_text_not_math():
    # mathtext would drop the two dollars (and the spaces inside the math): the plain text
    # is wider than the same text parsed as math.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from survmeta.plotting._style import new_figure, plain_text

    fig = new_figure(4, 1)
    t = fig.text(0.1, 0.5, "US$ 5 vs US$ 10")
    plain_text(fig)
    renderer = FigureCanvasAgg(fig).get_renderer()
    plain = t.get_window_extent(renderer).width
    t.set_parse_math(True)
    math_width = t.get_window_extent(renderer).width
    assert plain > math_width


def test_report_with_math_characters_in_titles_is_written(nasty_registry, run, tmp_path):
    for fmt in ("html", "md"):
        code, _, err = run("report", nasty_registry, "--out", tmp_path / fmt, "--format", fmt,
                           "--no-hierarchical")
        assert code == 0, err
    html = (tmp_path / "html" / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in html and "<script>" not in html
    md = (tmp_path / "md" / "report.md").read_text(encoding="utf-8")
    assert "<script>" not in md and "](javascript" not in md and "<b>" not in md
    assert "\\$b\\_\\$ and US\\$ 5 vs US\\$ 10 \\<script\\>" in md
    # what a Markdown reader shows is the title as written
    heading = next(ln for ln in md.splitlines() if ln.startswith("## q1: "))
    assert _unescape(heading[len("## q1: "):]) == NASTY


@pytest.mark.parametrize("text", [
    NASTY, "oligo_vs_systemic", "a | b", "P(HR < 1) = 0.97", "x & y", "~~gone~~", "`code`",
    "back\\slash", "2.33 [1.21, 4.47]", "_under_", "[ref]: http://example.org",
])
def test_escaped_text_reads_back_as_written(text):
    for block in (False, True):
        escaped = _esc(text, block=block)
        assert _unescape(escaped) == text
        assert not re.search(r"(?<!\\)[<>&*`|$~]", escaped)  # no live markup character
        assert "](" not in escaped and "]:" not in escaped


@pytest.mark.parametrize("text, expected", [
    ("# heading", "\\# heading"), ("1. item", "1\\. item"), ("- item", "\\- item"),
    ("---", "\\---"), ("2.33 [1.21, 4.47]", "2.33 [1.21, 4.47]"), ("-0.5", "-0.5"),
    ("#5 trial", "#5 trial"), ("oligo_vs_systemic", "oligo_vs_systemic"),
])
def test_block_markers_are_escaped_only_where_they_would_open_a_block(text, expected):
    assert _esc(text, block=True) == expected


def test_newlines_become_spaces():
    assert _esc("line one\nline two") == "line one line two"


def test_drawing_into_a_callers_axes_leaves_the_callers_texts_alone(nasty_registry):
    from survmeta.plotting._style import new_figure
    from survmeta.pooling import pool

    result = pool(nasty_registry, hierarchical=False)["q1"]
    fig = new_figure(8, 3)
    mine, theirs = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    label = mine.set_title(r"$\alpha$ (the caller's own mathtext)")
    result.plot_posterior(ax=theirs)
    assert label.get_parse_math()
    assert not any(t.get_parse_math() for t in theirs.findobj(Text) if t.get_text())
