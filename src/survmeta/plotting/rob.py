"""Risk-of-bias figures: traffic-light columns and the summary bar chart, as robvis draws them.

The judgements come from the registry's ``risk_of_bias`` entries
(:class:`survmeta.registry.records.RiskOfBias`, vocabularies in
:mod:`survmeta.registry.rob_tools`). Each judgement has a traffic-light level:

=====  ==========================================  ========  ======
level  judgements                                  colour    symbol
=====  ==========================================  ========  ======
0      low, good                                   green     ``+``
1      some concerns, moderate, fair               yellow    ``-``
2      high, serious, poor                         red       ``X``
3      critical                                    dark red  ``!``
None   no information                              grey      ``?``
=====  ==========================================  ========  ======

A Newcastle-Ottawa domain is coloured by its star count
(:func:`survmeta.registry.rob_tools.nos_star_level`) and shows the count.
"""

from __future__ import annotations

from collections import Counter
from typing import Mapping, Sequence

import numpy as np
from matplotlib.patches import Patch

from survmeta.plotting._style import FONT_SIZE, new_figure
from survmeta.registry.records import RiskOfBias
from survmeta.registry.rob_tools import ROB_TOOLS, RobTool, judgement_level

__all__ = ["ROB_COLORS", "ROB_SYMBOLS", "rob_cell", "main_tool", "plot_rob_summary"]

#: Traffic-light colour per level (robvis' palette; grey for no information).
ROB_COLORS: dict[int | None, str] = {0: "#02C100", 1: "#E2DF07", 2: "#BF0000", 3: "#820000",
                                     None: "#A0A0A0"}
#: Symbol drawn inside the dot, per level.
ROB_SYMBOLS: dict[int | None, str] = {0: "+", 1: "-", 2: "X", 3: "!", None: "?"}
#: Colour of the domain that an entry leaves out (drawn as an open circle).
COLOR_MISSING = "#FFFFFF"


def rob_cell(rob: RiskOfBias | None, key: str | None) -> tuple[str, str] | None:
    """``(colour, symbol)`` of one dot: domain ``key`` of ``rob``, or its overall for None.

    Returns None when ``rob`` is None or does not judge the domain.
    """
    if rob is None:
        return None
    value = rob.overall if key is None else rob.judgement(key)
    if value is None:
        return None
    level = judgement_level(value, key if isinstance(value, int) else None)
    symbol = str(value) if isinstance(value, int) else ROB_SYMBOLS[level]
    return ROB_COLORS[level], symbol


def main_tool(entries: Sequence[RiskOfBias | None]) -> RobTool | None:
    """The tool most entries use (the first of equals in order), None when there is none."""
    names = [r.tool for r in entries if r is not None]
    if not names:
        return None
    counts = Counter(names)
    best = max(counts.values())
    return ROB_TOOLS[next(n for n in names if counts[n] == best)]


def _levels(tool: RobTool) -> list[tuple[int | None, str]]:
    """``(level, legend text)`` of the levels a tool uses, in order."""
    if tool.name == "NOS":
        return [(0, "good"), (1, "fair"), (2, "poor")]
    out: dict[int | None, list[str]] = {}
    for j in tool.judgements:
        out.setdefault(judgement_level(j), []).append(j)
    return [(lvl, " / ".join(js)) for lvl, js in out.items()]


def plot_rob_summary(risk_of_bias: Mapping[str, RiskOfBias | None], *,
                     weights: Mapping[str, float] | None = None, tool: str | None = None,
                     title: str | None = None, width: float = 7.0):
    """Risk-of-bias summary: the share of studies per judgement, per domain (robvis ``rob_summary``).

    One horizontal bar per domain of the tool and one for the overall
    judgement, stacked by judgement from low to high (then no information),
    each segment as wide as the share of studies with that judgement
    (optionally weighted).

    Parameters
    ----------
    risk_of_bias : mapping
        ``"study/comparison"`` -> :class:`RiskOfBias` (None entries are skipped).
    weights : mapping, optional
        ``"study/comparison"`` -> weight (e.g. the pooling weight in percent);
        the shares are then shares of weight. Default: each entry counts once.
    tool : str, optional
        Which tool's entries to draw; default the tool most entries use.
        Entries made with another tool are left out and counted in a note.
    title : str, optional
        Figure title.
    width : float
        Figure width in inches.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0]`` holds the bars: one :class:`~matplotlib.patches.Rectangle`
        per non-empty (domain, level) segment, ``gid`` ``"rob-bar-<label>-<level>"``,
        its width the share in percent.

    Raises
    ------
    ValueError
        When no entry has a risk-of-bias assessment (with ``tool``) or a weight
        is missing or negative.
    """
    entries = {k: r for k, r in risk_of_bias.items() if r is not None}
    chosen = ROB_TOOLS[tool] if tool is not None else main_tool(list(entries.values()))
    if chosen is None or not any(r.tool == chosen.name for r in entries.values()):
        raise ValueError("no risk-of-bias entries to summarise"
                         + (f" made with {tool}" if tool else ""))
    used = {k: r for k, r in entries.items() if r.tool == chosen.name}
    left_out = len(entries) - len(used)
    if weights is None:
        w = {k: 1.0 for k in used}
    else:
        missing = [k for k in used if k not in weights]
        if missing:
            raise ValueError(f"no weight for {', '.join(missing)}")
        w = {k: float(weights[k]) for k in used}
        if any(not np.isfinite(v) or v < 0 for v in w.values()) or sum(w.values()) <= 0:
            raise ValueError("weights must be finite, non-negative and not all zero")
    total = sum(w.values())

    rows: list[tuple[str, str | None]] = [(f"{d.label} {d.name}", d.key) for d in chosen.domains]
    rows.append(("Overall", None))
    levels = _levels(chosen)
    n_rows = len(rows)
    height = 0.9 + 0.32 * n_rows + 0.5 + (0.2 if left_out else 0) + (0.3 if title else 0)
    fig = new_figure(width, height)
    label_w = 2.9
    ax = fig.add_axes([label_w / width, (0.75 + (0.2 if left_out else 0)) / height,
                       (width - label_w - 0.3) / width, 0.32 * n_rows / height])
    for i, (label, key) in enumerate(rows):
        shares: dict[int | None, float] = {}
        for k, r in used.items():
            value = r.overall if key is None else r.judgement(key)
            lvl: int | None | str
            if value is None:
                lvl = "missing"
            else:
                lvl = judgement_level(value, key if isinstance(value, int) else None)
            shares[lvl] = shares.get(lvl, 0.0) + 100.0 * w[k] / total  # type: ignore[index]
        x = 0.0
        for lvl, _ in levels + [("missing", "not judged")]:  # type: ignore[list-item]
            s = shares.get(lvl, 0.0)  # type: ignore[call-overload]
            if s <= 0:
                continue
            color = ROB_COLORS.get(lvl, COLOR_MISSING) if lvl != "missing" else COLOR_MISSING  # type: ignore[call-overload]
            ax.barh(i, s, left=x, height=0.7, color=color, edgecolor="black", linewidth=0.6,
                    gid=f"rob-bar-{'Overall' if key is None else label.split()[0]}-{lvl}")
            x += s
    ax.set_xlim(0, 100)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels([r[0] for r in rows], fontsize=FONT_SIZE)
    for t in ax.get_yticklabels()[-1:]:
        t.set_fontweight("bold")
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xticklabels(["0%", "25%", "50%", "75%", "100%"], fontsize=FONT_SIZE - 1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(("Share of weight" if weights is not None else "Share of studies")
                  + f" ({chosen.name}, k = {len(used)})", fontsize=FONT_SIZE)
    handles = [Patch(facecolor=ROB_COLORS[lvl], edgecolor="black", linewidth=0.6, label=text)
               for lvl, text in levels]
    if any(key is not None and r.judgement(key) is None for r in used.values() for _, key in rows):
        handles.append(Patch(facecolor=COLOR_MISSING, edgecolor="black", linewidth=0.6,
                             label="not judged"))
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), frameon=False,
               fontsize=FONT_SIZE - 1, bbox_to_anchor=(0.5, 1 - (0.35 if title else 0.05) / height))
    if title:
        fig.text(0.15 / width, 1 - 0.08 / height, title, ha="left", va="top",
                 fontsize=FONT_SIZE + 1, fontweight="bold")
    if left_out:
        fig.text(0.15 / width, 0.06 / height,
                 f"{left_out} entr{'y' if left_out == 1 else 'ies'} made with another tool not shown",
                 ha="left", va="bottom", fontsize=FONT_SIZE - 1, color="#444444")
    return fig
