"""The board pack's tables, laid out to print on A4: each column as wide as its longest word
allows (so a header wraps between words, never inside one), the room left shared by how much each
column holds; tables of many columns set smaller. The theme heatmap is printed as such a table,
each cell on its level's colour."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import NamedTuple

import pandas as pd

from charts import Chart
from charts.palette import INK, SEVERITY_COLOUR, SEVERITY_SYMBOL
from reports.pdf import PRINT_WIDTH_PX


class PrintSize(NamedTuple):
    """How a printed table of at least ``columns`` columns is set: its type, each cell's padding
    (left and right together), and whether its headers are bold."""

    columns: int
    points: float
    padding_em: float
    bold: bool
    name: str


PRINT_SIZES = (PrintSize(12, 6.0, .2, False, "widest"), PrintSize(8, 6.5, .3, True, "wide"),
               PrintSize(0, 8.5, .7, True, ""))
CHAR_EM = 0.68  # a character's width in DejaVu Sans, in ems: its widest letters' mean, with room to spare
BOLD = 1.16  # a bold character is so much wider
HEATMAP_SCHOOL_WIDTH = 25  # per cent; the themes share the rest
LEVEL_OF_SYMBOL = {symbol: level for level, symbol in SEVERITY_SYMBOL.items()}


def table(frame: pd.DataFrame, *, widths: Sequence[float] | None = None,
          first_colours: Sequence[str] | None = None) -> str:
    """A table whose printed columns share the page's width by what they hold (``widths``, per cent,
    when given): no column narrower than its longest word where the page allows, so a header wraps
    between words. ``first_colours`` marks each row's first cell with a colour beside its words."""
    widths = widths or widths_of(frame)
    cols = "".join(f'<col style="width:{w:.1f}%">' for w in widths)
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = []
    for k, row in enumerate(frame.itertuples(index=False)):
        cells = [f"<td>{escape(text(v))}</td>" for v in row]
        if first_colours is not None and cells:
            cells[0] = f'<td class="level" style="border-left-color:{escape(first_colours[k])}">{escape(text(row[0]))}</td>'
        body.append("<tr>" + "".join(cells) + "</tr>")
    name = print_size(len(frame.columns)).name
    wide = f' class="{name}"' if name else ""
    return (f'<div class="scroll"><table{wide}><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def widths_of(frame: pd.DataFrame) -> list[float]:
    """Each column's share of the printed width, in per cent. Every column first gets its longest
    word (header or cell), so that no word is split while the page has room; what room is left is
    shared out by how much each column holds, the most to the columns of sentences."""
    size = print_size(len(frame.columns))
    char = CHAR_EM * size.points * 4 / 3  # pixels
    padding = size.padding_em * size.points * 4 / 3 + 1  # and a border
    need, want = [], []
    for column in frame.columns:
        cells = [text(v) for v in frame[column]]
        header = max((len(w) for w in str(column).split()), default=0) * (BOLD if size.bold else 1)
        longest = max([header] + [len(w) for t in cells for w in t.split()])
        need.append(longest * char + padding)
        mean = sum(map(len, cells)) / len(cells) if cells else 0
        want.append(max(longest, mean / 2) * char + padding)
    spare = PRINT_WIDTH_PX - sum(need)
    widths = [n + spare * w / sum(want) for n, w in zip(need, want)] if spare > 0 else need
    return [100 * w / sum(widths) for w in widths]


def print_size(columns: int) -> PrintSize:
    """How a printed table of so many columns is set."""
    return next(size for size in PRINT_SIZES if columns >= size.columns)


def heatmap(chart: Chart) -> str:
    """The theme heatmap as a table to print: each cell its symbol and words (the chart's own), on
    its level's colour from the palette, in whichever of ink or white reads better on it. Printed
    text, not a drawing: sharp on paper, read by a screen reader as a table, and made without
    plotly.js."""
    grid = chart.table.drop(columns=["URN"], errors="ignore")
    themes = list(grid.columns[1:])
    share = (100 - HEATMAP_SCHOOL_WIDTH) / max(len(themes), 1)
    cols = f'<col style="width:{HEATMAP_SCHOOL_WIDTH}%">' + "".join(f'<col style="width:{share:.1f}%">' for _ in themes)
    head = "".join(f"<th>{escape(str(c))}</th>" for c in grid.columns)
    rows = []
    for row in grid.itertuples(index=False):
        cells = "".join(_heat_cell(text(v)) for v in row[1:])
        rows.append(f'<tr><th scope="row">{escape(text(row[0]))}</th>{cells}</tr>')
    title = chart.figure.layout.title.text or ""
    return (f'<div class="heatmap"><h3>{escape(title)}</h3><table class="heatmap"><colgroup>{cols}</colgroup>'
            f'<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f'<p class="summary">{escape(chart.summary)}</p></div>')


def _heat_cell(label: str) -> str:
    level = LEVEL_OF_SYMBOL.get(label[:1])
    if level is None:
        return f"<td>{escape(label)}</td>"
    colour = SEVERITY_COLOUR[level]
    return f'<td style="background:{escape(colour)};color:{ink_on(colour)}">{escape(label)}</td>'


def ink_on(colour: str) -> str:
    """The text colour that reads better on ``colour`` (a palette hex): the palette's ink or white."""
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    try:
        back = luminance(colour)
    except ValueError:
        return INK
    on_ink = (back + 0.05) / (luminance(INK) + 0.05)
    on_white = 1.05 / (back + 0.05)
    return INK if on_ink >= on_white else "#FFFFFF"


def text(v) -> str:
    """A cell's words: blank stays blank (never "nan", never 0)."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    return str(v)
