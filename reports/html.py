"""The board pack as one HTML file that works offline and prints cleanly.

plotly.js is inlined once, in the first figure; every other figure uses it. Nothing in the file
asks for another address when opened: no stylesheet, font, image or script from elsewhere. Every
chart has the table of its numbers under it, so the printed pack carries the figures too.
Every word that comes from the data (a school's name, a finding) is escaped.

The document is also made a part at a time (``html_parts``), each theme's section as it is
gathered, for a printer that draws one theme's charts while the next is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape

import pandas as pd

from analysis.challenges import table as board_table
from analysis.themes import short_name
from charts import Chart
from charts.palette import SEVERITY_SYMBOL, SEVERITY_WORD
from reports.pack import Pack, board_since_words, definitions, methods, reader_note

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #222; margin: 2em auto; max-width: 60em; line-height: 1.4; }
h1 { font-size: 1.8em; } h2 { border-bottom: 2px solid #222; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0 1.5em; font-size: .85em; }
th, td { border: 1px solid #ccc; padding: .25em .4em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.cover { text-align: left; margin-top: 4em; }
.learning { border-left: 4px solid #0072B2; padding-left: 1em; }
.summary, .sources { color: #444; font-size: .9em; }
.chart { break-inside: avoid; page-break-inside: avoid; }
.scroll { overflow-x: auto; }
h2, h3 { break-after: avoid; page-break-after: avoid; }
figure { margin: 0; }
nav ol { columns: 2; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  section { break-before: page; page-break-before: always; }
  nav { display: none; }
  .scroll { overflow: visible; }
  table { font-size: 8pt; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  /* each figure is drawn as on the widest screen (60em) and printed at A4's width less margins (180mm) */
  figure > div { width: 960px !important; zoom: 0.7083; }
  /* no table is wider than the page: one with a column a school is smaller, in equal columns */
  table:has(th:nth-child(8)) { table-layout: fixed; font-size: 6.5pt; }
  table:has(th:nth-child(8)) :is(th, td) { padding: .15em .2em; overflow-wrap: break-word; }
}
@page {
  size: A4; margin: 15mm 15mm 16mm;
  @bottom-center { content: "Page " counter(page) " of " counter(pages); font: 8pt "DejaVu Sans", Arial, sans-serif; color: #444; }
}
"""


class _Figures:
    """Each figure as HTML: the first carries plotly.js itself (unless the page that will show it
    has it already), the rest reuse it. For print (``static``) the figures are drawn as plain
    pictures, without the layers that answer a pointer, which the browser draws markedly faster."""

    def __init__(self, static: bool = False, plotlyjs: bool = True) -> None:
        self.first = plotlyjs
        self.config = {"displaylogo": False, "displayModeBar": False, "responsive": True}
        if static:
            self.config["staticPlot"] = True

    def __call__(self, chart: Chart) -> str:
        include = self.first
        self.first = False
        return chart.figure.to_html(include_plotlyjs=include, full_html=False, config=self.config)


def render_html(pack: Pack, *, static: bool = False) -> str:
    """The whole pack as one HTML document; ``static`` for printing (figures without hover)."""
    return "\n".join(html_parts(pack, static=static))


def html_parts(pack: Pack, *, static: bool = False, plotlyjs: bool = True) -> Iterator[str]:
    """The pack's HTML document in parts, in order, each theme's section made as it is reached.
    Without ``plotlyjs`` the figures rely on the page that shows them having plotly.js already."""
    figure = _Figures(static, plotlyjs)
    yield (f"<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
           f"<title>{escape(pack.title)}</title><style>{CSS}</style></head><body>")
    yield _cover(pack)
    yield _summary(pack, figure)
    for number, section in enumerate(pack.each_section(), 1):
        yield _section(number, section, pack, figure)
    yield _board_log(pack)
    yield _appendix(pack)
    yield "</body></html>"


def _cover(pack: Pack) -> str:
    as_at = pack.data_as_at.strftime("%d %B %Y, %H:%M") if pack.data_as_at else "no return yet"
    reader = reader_note(pack)
    contents = "".join(f'<li><a href="#theme-{escape(theme.id)}">{escape(theme.title)}</a></li>'
                       for theme in pack.themes)
    return (f'<header class="cover"><p>{escape(pack.trust)}</p><h1>{escape(pack.title)}</h1>'
            f"<p>Made on {pack.made.strftime('%d %B %Y')}. Data as at {escape(as_at)} "
            f"(the newest return behind these figures).</p><p>{escape(reader)}</p></header>"
            f'<nav><h2>Contents</h2><ol><li><a href="#summary">Summary</a></li>{contents}'
            f'<li><a href="#challenge-log">The board\'s questions</a></li>'
            f'<li><a href="#appendix">Definitions and methods</a></li></ol></nav>')


def _summary(pack: Pack, figure: _Figures) -> str:
    top = pack.top_gaps
    gap_table = _gap_table(top, with_theme=True) if len(top) else "<p>No gap was found this term.</p>"
    return (f'<section id="summary"><h2>Summary: {escape(pack.term)} {escape(pack.academic_year)}</h2>'
            f"<p>Returns in: <strong>{pack.returned} of {pack.expected}</strong> schools expected; "
            f"{escape(pack.returns_rest)}. "
            f"Gaps found: {len(pack.gaps)}. {_board_count(pack)}</p>"
            f"{_chart(pack.heatmap, figure)}"
            f"<h3>The {min(len(top), len(pack.gaps))} gaps that most need a question</h3>{gap_table}</section>")


def _section(number: int, s, pack: Pack, figure: _Figures) -> str:
    theme = s.theme
    sources = "; ".join(escape(str(src)) for src in theme.sources)
    charts = "".join(_chart(chart, figure, title) for title, chart in s.charts)
    if not s.charts:
        charts = "<p>No figures for this theme this term.</p>"
    if s.gaps.empty:
        gaps = "<p>Nothing raised on this theme this term.</p>"
    else:
        behind = "; ".join(escape(x) for x in sorted(set(s.gaps["source"])))
        gaps = _gap_table(s.gaps) + f'<p class="sources">Behind these: {behind}</p>'
    return (f'<section id="theme-{escape(theme.id)}"><h2>{number}. {escape(theme.title)}</h2>'
            f'<div class="learning"><p><strong>What the reviews found.</strong> {escape(theme.learning)}</p>'
            f"<p><strong>The question for the board:</strong> {escape(theme.question)}</p>"
            f'<p class="sources">Sources: {sources}</p></div>'
            f"<h3>Gaps on this theme</h3>{gaps}{charts}</section>")


def _board_count(pack: Pack) -> str:
    if pack.board_open.empty:
        return "The board has no question open."
    overdue = int(pack.board_open["overdue"].sum())
    return (f'The board\'s questions: <a href="#challenge-log">{len(pack.board_open)} open or answered</a>'
            + (f", {overdue} overdue." if overdue else "."))


def _board_log(pack: Pack) -> str:
    """The challenge log: every question still open or answered, carried from earlier terms, and
    those closed since the last pack, each with whether the gap it was raised on is still found."""
    if pack.board_open.empty:
        live = "<p>No question of the board's is open.</p>"
    else:
        overdue = int(pack.board_open["overdue"].sum())
        live = (f"<p>{len(pack.board_open)} open or answered, {overdue} with an action past its due date "
                f"(marked &#9888; Overdue).</p>{_table(board_table(pack.board_open))}")
    since = escape(board_since_words(pack))
    if pack.board_closed.empty:
        closed = f"<p>None closed {since}.</p>"
    else:
        closed = f"<p>{len(pack.board_closed)} closed {since}.</p>{_table(board_table(pack.board_closed))}"
    return (f'<section id="challenge-log"><h2>The board\'s questions</h2>'
            f"<p>Questions the board asked about gaps, with the answers and actions, carried from term to term "
            f"until closed. \"The gap now\" says whether the gap a question was raised on is still found "
            f"in {escape(pack.term)} {escape(pack.academic_year)}.</p>"
            f"<h3>Open and answered</h3>{live}<h3>Closed since the last pack</h3>{closed}</section>")


def _appendix(pack: Pack) -> str:
    items = "".join(f"<li>{escape(line)}</li>" for line in methods(pack))
    return (f'<section id="appendix"><h2>Appendix: definitions and methods</h2><h3>Methods</h3><ul>{items}</ul>'
            f"<h3>Definitions</h3>{_table(definitions())}</section>")


def _chart(chart: Chart, figure: _Figures, title: str = "") -> str:
    """The heading and figure kept on one printed page, its table of numbers open under it."""
    heading = f"<h3>{escape(title)}</h3>" if title else ""
    return (f'<div class="chart">{heading}<figure>{figure(chart)}'
            f'<figcaption class="summary">{escape(chart.summary)}</figcaption></figure></div>'
            f"<details open><summary>The numbers behind this chart</summary>{_table(chart.table)}</details>")


def _gap_table(gaps: pd.DataFrame, with_theme: bool = False) -> str:
    frame = pd.DataFrame({
        "": [f"{SEVERITY_SYMBOL[s]} {SEVERITY_WORD[s]}" for s in gaps["severity"]],
        "School": gaps["school"],
        **({"Theme": [short_name(t) for t in gaps["theme"]]} if with_theme else {}),
        "What we found": gaps["finding"],
        "A question to ask": gaps["question"],
    })
    return _table(frame)


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(_text(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _text(v) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    return str(v)
