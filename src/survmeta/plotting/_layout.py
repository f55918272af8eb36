"""Table-plus-plot layout shared by the forest-type figures.

A forest figure is a table whose rows are studies (or analysis variants) with
one column that is a plot. Columns are measured in inches from the text they
hold, so nothing overlaps however long the labels are, and the figure height
grows with the number of rows. Text is placed with a blended transform: x in
inches from the figure's left edge, y in the data coordinates of the plot
axes, so every text row lines up exactly with its interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from survmeta.plotting._style import FONT_SIZE, new_figure, text_width_in, truncate_to_width

#: Horizontal gap between columns, inches.
COL_PAD = 0.14
#: Left and right figure margins, inches.
MARGIN = 0.15


@dataclass
class Column:
    """One text column of a forest table.

    Attributes
    ----------
    header : str
        Column heading (bold).
    cells : dict
        ``{y: text}``: the text of each row, keyed by the row's y coordinate.
    align : {"left", "right", "center"}
        Horizontal alignment within the column.
    color : str
        Text colour.
    max_width : float or None
        Cap on the column width in inches; longer cells are cut with "...".
    bold_rows : set
        y coordinates printed in bold (summary rows).
    """

    header: str
    cells: dict
    align: str = "left"
    color: str = "black"
    max_width: float | None = None
    bold_rows: set = field(default_factory=set)
    width: float = 0.0
    x0: float = 0.0

    def measure(self, size: float) -> None:
        widths = [text_width_in(self.header, size, "bold")]
        for y, t in self.cells.items():
            widths.append(text_width_in(t, size, "bold" if y in self.bold_rows else "normal"))
        w = max(widths) if widths else 0.0
        if self.max_width is not None and w > self.max_width:
            w = self.max_width
            self.cells = {y: truncate_to_width(t, w, size) for y, t in self.cells.items()}
        self.width = w

    @property
    def anchor(self) -> float:
        if self.align == "right":
            return self.x0 + self.width
        if self.align == "center":
            return self.x0 + self.width / 2
        return self.x0


class ForestLayout:
    """Figure with text columns left and right of a log-HR plot panel.

    Parameters
    ----------
    left, right : list of Column
        Columns left and right of the plot panel.
    y_top, y_bottom : float
        Data y range of the rows (rows are drawn top to bottom, y increasing
        downwards).
    row_height : float
        Inches per unit of y.
    plot_width : float
        Width of the plot panel, inches.
    top : float
        Inches above the panel for the title and column headers.
    bottom : float
        Inches below the panel for the axis, "favours" labels and legend.
    min_width : float
        The figure is at least this wide (inches), e.g. to fit a footnote.
    size : float
        Font size.
    """

    def __init__(self, left, right, y_top, y_bottom, row_height, plot_width, top, bottom,
                 min_width=0.0, size=FONT_SIZE):
        self.left, self.right, self.size = left, right, size
        x = MARGIN
        for c in left:
            c.measure(size)
            c.x0 = x
            x += c.width + COL_PAD
        self.plot_x0 = x + 0.05
        x = self.plot_x0 + plot_width + COL_PAD + 0.05
        for c in right:
            c.measure(size)
            c.x0 = x
            x += c.width + COL_PAD
        self.width = max(x - COL_PAD + MARGIN, min_width)
        self.plot_width = plot_width
        panel_h = (y_bottom - y_top) * row_height
        self.height = top + panel_h + bottom
        self.top, self.bottom = top, bottom
        self.fig = new_figure(self.width, self.height)
        W, H = self.width, self.height
        self.ax = self.fig.add_axes(
            [self.plot_x0 / W, bottom / H, plot_width / W, panel_h / H]
        )
        self.ax.set_ylim(y_bottom, y_top)
        for side in ("left", "right", "top"):
            self.ax.spines[side].set_visible(False)
        self.ax.tick_params(axis="y", left=False, labelleft=False)
        self.trans = blended_transform_factory(self.fig.dpi_scale_trans, self.ax.transData)

    def text(self, x_in, y, s, **kw):
        """Text at ``x_in`` inches from the left edge, on row ``y``."""
        kw.setdefault("fontsize", self.size)
        kw.setdefault("va", "center")
        return self.fig.text(x_in, y, s, transform=self.trans, **kw)

    def draw_columns(self, header_y: float) -> None:
        """Write every column's header (at ``header_y``) and cells."""
        for c in self.left + self.right:
            ha = c.align
            self.text(c.anchor, header_y, c.header, ha=ha, fontweight="bold")
            for y, t in c.cells.items():
                if t:
                    self.text(c.anchor, y, t, ha=ha, color=c.color,
                              fontweight="bold" if y in c.bold_rows else "normal")

    def hrule(self, y: float, lw: float = 0.8) -> None:
        """A horizontal rule across the whole table at row ``y``."""
        line = Line2D([MARGIN, self.width - MARGIN], [y, y], transform=self.trans,
                      color="black", lw=lw)
        self.fig.add_artist(line)
