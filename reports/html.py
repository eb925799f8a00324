"""The board pack as one HTML file that works offline and prints cleanly.

The short pack, the default, is a cover, a page of summary (returns, gaps counted, the theme
heatmap as a table of coloured cells), the gaps by theme with a question for each, the board's
questions and a page on how to read it: no chart, no script. With its appendix it goes on to each
theme's charts, each with the table of its numbers under it, and the definitions and methods.

plotly.js is inlined once, in the appendix's first figure; every other figure uses it. Nothing in
the file asks for another address when opened: no stylesheet, font, image or script from elsewhere.
Every word that comes from the data (a school's name, a finding) is escaped.

Printed, a part that stands on its own (the summary, the gaps, the page on how to read, each theme
of the appendix) starts a page; the board's questions follow the gaps. Column headers wrap between
words, no table row is split across pages, and nothing that answers a pointer is printed.

The document is also made a part at a time (``html_parts``), each theme's section as it is
gathered, for a printer that draws one theme's charts while the next is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape

import pandas as pd

from analysis.challenges import table as board_table
from charts import Chart
from charts.format import plural
from charts.palette import HIGHER, INK, SEVERITY_COLOUR, SEVERITY_SYMBOL, SEVERITY_WORD
from reports import guide
from reports.pack import Pack, board_since_words, definitions, methods, reader_note
from reports.tables import PRINT_SIZES, heatmap, table

CSS = f"""
body {{ font-family: "DejaVu Sans", Arial, sans-serif; color: {INK}; margin: 2em auto; max-width: 60em; line-height: 1.4; }}
h1 {{ font-size: 1.8em; }} h2 {{ border-bottom: 2px solid {INK}; padding-bottom: .2em; margin-top: 2em; }}
table {{ border-collapse: collapse; width: 100%; margin: .5em 0 1.5em; font-size: .85em; }}
th, td {{ border: 1px solid #ccc; padding: .25em .4em; text-align: left; vertical-align: top; }}
th {{ background: #f0f0f0; }}
td.level {{ border-left: 6px solid; white-space: nowrap; }}
.swatch {{ display: inline-block; width: 1.1em; height: 1.1em; margin-right: .3em; vertical-align: -.2em;
          border: 1px solid {INK}; }}
.cover {{ text-align: left; margin-top: 4em; }}
.cover .trust {{ font-size: 1.3em; margin-bottom: 0; }}
/* the parts are listed by name, without numbers of the list's own: a number in the printed pack is a figure */
nav ul {{ list-style: none; padding-left: 0; }} nav li {{ margin: .2em 0; }}
.learning {{ border-left: 4px solid {HIGHER}; padding-left: 1em; }}
.summary, .sources {{ color: #444; font-size: .9em; }}
.ask {{ margin: .2em 0 .4em; break-inside: avoid; }}
.chart, .heatmap {{ break-inside: avoid; page-break-inside: avoid; }}
table.heatmap td {{ border: 2px solid #fff; text-align: center; vertical-align: middle; }}
table.heatmap th[scope=row] {{ background: none; font-weight: normal; vertical-align: middle; }}
.scroll {{ overflow-x: auto; }}
h2, h3, .ask {{ break-after: avoid; page-break-after: avoid; }}
figure {{ margin: 0; }}
.notes h3 {{ font-size: 1em; margin: .9em 0 .1em; }} .notes p {{ margin: 0; }}
code {{ white-space: nowrap; }}
@media print {{
  body {{ margin: 0; max-width: none; font-size: 10pt; }}
  h2 {{ margin-top: 1.2em; }}
  .newpage {{ break-before: page; page-break-before: always; }}
  .newpage > h2:first-child {{ margin-top: 0; }}
  .cover {{ margin-top: 30mm; }}
  .scroll {{ overflow: visible; }}
  table {{ font-size: {PRINT_SIZES[2].points}pt; table-layout: fixed; line-height: 1.3; }}
  th, td {{ padding: .2em {PRINT_SIZES[2].padding_em / 2}em; }}
  /* a header wraps between its words; a word wider than its column (a long name) breaks last of all */
  th, td {{ overflow-wrap: break-word; }}
  thead {{ display: table-header-group; }}
  tr, .keep {{ break-inside: avoid; page-break-inside: avoid; }}
  a {{ color: inherit; text-decoration: none; }}
  /* the tables of numbers are printed open, with no disclosure triangle */
  details > summary {{ list-style: none; font-size: .9em; color: #444; }}
  details > summary::-webkit-details-marker {{ display: none; }}
  /* each figure is drawn as on the widest screen (60em) and printed at A4's width less margins (180mm) */
  figure > div {{ width: 960px !important; zoom: 0.7083; }}
  table.wide {{ font-size: {PRINT_SIZES[1].points}pt; }}
  table.widest {{ font-size: {PRINT_SIZES[0].points}pt; }}
  table.widest th {{ font-weight: normal; }}
  table.wide :is(th, td) {{ padding: .15em {PRINT_SIZES[1].padding_em / 2}em; }}
  table.widest :is(th, td) {{ padding: .15em {PRINT_SIZES[0].padding_em / 2}em; }}
}}
@page {{
  size: A4; margin: 15mm 15mm 16mm;
  @bottom-center {{ content: "Page " counter(page) " of " counter(pages); font: 8pt "DejaVu Sans", Arial, sans-serif; color: #444; }}
}}
"""
GAP_WIDTHS = (11, 17, 41, 31)  # per cent: the mark, the school, the finding, the question


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
    """The pack's HTML document in parts, in order, each theme's section of the appendix made as it
    is reached. Without ``plotlyjs`` the figures rely on the page that shows them having plotly.js."""
    figure = _Figures(static, plotlyjs)
    yield (f"<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
           f"<title>{escape(pack.title)}</title><style>{CSS}</style></head><body>")
    yield _cover(pack)
    yield _summary(pack)
    yield _gaps(pack)
    yield _board_log(pack)
    yield _how_to_read(pack)
    if pack.appendix:
        for number, section in enumerate(pack.each_section(), 1):
            yield _section(number, section, figure)
        yield _appendix(pack)
    yield "</body></html>"


def _contents(pack: Pack) -> list[tuple[str, str]]:
    """(anchor, heading) of each part, in order."""
    parts = [("summary", "Summary"), ("gaps", "Gaps by theme"), ("challenge-log", "The board's questions"),
             ("how-to-read", "How to read this pack")]
    if pack.appendix:
        parts += [(f"theme-{t.id}", _appendix_title(n, t.title)) for n, t in enumerate(pack.themes, 1)]
        parts.append(("appendix", _appendix_title(len(pack.themes) + 1, "Definitions and methods")))
    return parts


def _appendix_title(number: int, title: str) -> str:
    return f"Appendix {number}: {title}"


def _cover(pack: Pack) -> str:
    as_at = pack.data_as_at.strftime("%d %B %Y, %H:%M") if pack.data_as_at else "no return yet"
    contents = "".join(f'<li><a href="#{escape(anchor)}">{escape(title)}</a></li>' for anchor, title in _contents(pack))
    form = ("With the appendix: each theme's charts and tables of figures, the definitions and the methods."
            if pack.appendix else
            f"The short pack. Each theme's charts and tables of figures, the definitions and the methods are in "
            f"the appendix: tick \"{guide.APPENDIX_BOX}\" on the Board pack page to include it.")
    return (f'<header class="cover"><p class="trust">{escape(pack.trust)}</p><h1>{escape(pack.title)}</h1>'
            f"<p>Made on {pack.made.strftime('%d %B %Y')}. Data as at {escape(as_at)} "
            f"(the newest return behind these figures).</p><p>{escape(reader_note(pack))}</p>"
            f"<p>{escape(form)}</p>"
            f'<nav aria-label="Contents"><h2>In this pack</h2><ul>{contents}</ul></nav></header>')


def _summary(pack: Pack) -> str:
    counts = pack.gap_counts
    total = counts.iloc[-1]
    levels = ("red", "amber", "note")
    said = ", ".join(f"{int(total[SEVERITY_WORD[lv]])} {SEVERITY_WORD[lv].lower()}" for lv in levels)
    found = f"Gaps found: <strong>{int(total['All gaps'])}</strong> ({escape(said)})."
    counts = counts.rename(columns={SEVERITY_WORD[lv]: f"{SEVERITY_SYMBOL[lv]} {SEVERITY_WORD[lv]}" for lv in levels})
    return _part("summary", f"Summary: {escape(pack.term)} {escape(pack.academic_year)}",
                 f"<p>Returns in: <strong>{pack.returned} of {pack.expected}</strong> schools expected; "
                 f"{escape(pack.returns_rest)}.</p><p>{found} {_board_count(pack)}</p>"
                 f'<div class="keep">{table(counts)}</div>{heatmap(pack.heatmap)}')


def _gaps(pack: Pack) -> str:
    """Each theme's gaps, the worst first, with a question for each: a compact table a theme."""
    parts = []
    for theme, gaps in pack.gaps_by_theme():
        listed = _gap_table(gaps) if len(gaps) else "<p>Nothing raised on this theme this term.</p>"
        parts.append(f'<div id="gaps-{escape(theme.id)}"><h3>{escape(theme.title)}</h3>'
                     f'<p class="ask"><strong>The question for the board:</strong> {escape(theme.question)}</p>'
                     f"{listed}</div>")
    return _part("gaps", "Gaps by theme",
                 f"<p>What was found at each school in {escape(pack.term)} {escape(pack.academic_year)}, theme by "
                 f"theme, the worst first, with a question the board could ask. The marks are explained in "
                 f'<a href="#how-to-read">How to read this pack</a>.</p>{"".join(parts)}')


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
                f"(marked &#9888; Overdue).</p>{table(board_table(pack.board_open))}")
    since = escape(board_since_words(pack))
    if pack.board_closed.empty:
        closed = f"<p>None closed {since}.</p>"
    else:
        closed = f"<p>{len(pack.board_closed)} closed {since}.</p>{table(board_table(pack.board_closed))}"
    return _part("challenge-log", "The board's questions",
                 f"<p>Questions the board asked about gaps, with the answers and actions, carried from term to term "
                 f"until closed. \"The gap now\" says whether the gap a question was raised on is still found "
                 f"in {escape(pack.term)} {escape(pack.academic_year)}.</p>"
                 f"<h3>Open and answered</h3>{live}<h3>Closed since the last pack</h3>{closed}", newpage=False)


def _how_to_read(pack: Pack) -> str:
    rows = "".join(f'<tr><td>{"".join(_swatch(c) for c in m.colours)}{escape(m.symbol)}</td><td>{escape(m.word)}</td>'
                   f"<td>{escape(m.meaning)}</td></tr>" for m in guide.marks())
    key = (f'<table class="key"><colgroup><col style="width:12%"><col style="width:18%"><col style="width:70%"></colgroup>'
           f"<thead><tr><th>Mark</th><th>Word</th><th>What it means</th></tr></thead><tbody>{rows}</tbody></table>")
    command = escape(guide.APPENDIX_COMMAND)
    notes = "".join(f"<h3>{escape(heading)}</h3><p>{escape(text).replace(command, f'<code>{command}</code>')}</p>"
                    for heading, text in guide.notes(for_trustees=pack.for_trustees, appendix=pack.appendix))
    return _part("how-to-read", "How to read this pack",
                 f"<p>A gap, and each cell of the heatmap, carries a symbol and a word; its colour repeats them, so "
                 f"the pack reads the same in black and white.</p>{key}<div class=\"notes\">{notes}</div>")


def _swatch(colour: str) -> str:
    return f'<span class="swatch" style="background:{escape(colour)}" aria-hidden="true"></span>'


def _section(number: int, s, figure: _Figures) -> str:
    """One theme of the appendix: what the reviews found, then its charts, each with its numbers."""
    theme = s.theme
    sources = "; ".join(escape(str(src)) for src in theme.sources)
    charts = "".join(_chart(chart, figure, title) for title, chart in s.charts)
    if not s.charts:
        charts = "<p>No figures for this theme this term.</p>"
    n = len(s.gaps)
    gaps = (f"{plural(n, 'gap')} on this theme this term, each with its question, under "
            f'<a href="#gaps-{escape(theme.id)}">Gaps by theme</a>.' if n else "Nothing raised on this theme this term.")
    behind = "; ".join(escape(x) for x in sorted(set(s.gaps["source"]))) if n else ""
    return (f'<section id="theme-{escape(theme.id)}" class="newpage"><h2>{escape(_appendix_title(number, theme.title))}'
            f'</h2><div class="learning"><p><strong>What the reviews found.</strong> {escape(theme.learning)}</p>'
            f"<p><strong>The question for the board:</strong> {escape(theme.question)}</p>"
            f'<p class="sources">Sources: {sources}</p></div>'
            f"<p>{gaps}</p>" + (f'<p class="sources">Behind these gaps: {behind}</p>' if behind else "")
            + f"{charts}</section>")


def _appendix(pack: Pack) -> str:
    items = "".join(f"<li>{escape(line)}</li>" for line in methods(pack))
    title = _appendix_title(len(pack.themes) + 1, "Definitions and methods")
    return _part("appendix", escape(title),
                 f"<h3>Methods</h3><ul>{items}</ul><h3>Definitions</h3>{table(definitions())}")


def _part(anchor: str, heading: str, body: str, *, newpage: bool = True) -> str:
    """A part of the pack: its anchor (the contents link to it), its heading (HTML) and what it holds;
    printed, it starts a page of its own unless it follows on (``newpage=False``)."""
    page = ' class="newpage"' if newpage else ""
    return f'<section id="{anchor}"{page}><h2>{heading}</h2>{body}</section>'


def _chart(chart: Chart, figure: _Figures, title: str = "") -> str:
    """The heading and figure kept on one printed page, its table of numbers open under it."""
    heading = f"<h3>{escape(title)}</h3>" if title else ""
    return (f'<div class="chart">{heading}<figure>{figure(chart)}'
            f'<figcaption class="summary">{escape(chart.summary)}</figcaption></figure></div>'
            f"<details open><summary>The numbers behind this chart</summary>{table(chart.table)}</details>")


def _gap_table(gaps: pd.DataFrame) -> str:
    """School, finding and question, each gap marked with its symbol and word (and its colour)."""
    frame = pd.DataFrame({
        "Gap": [f"{SEVERITY_SYMBOL[s]} {SEVERITY_WORD[s]}" for s in gaps["severity"]],
        "School": gaps["school"],
        "What we found": gaps["finding"],
        "A question to ask": gaps["question"],
    })
    colours = [SEVERITY_COLOUR[s] for s in gaps["severity"]]
    return table(frame, widths=GAP_WIDTHS, first_colours=colours)
