"""The HTML pack: short by default (cover, summary, every gap with its question by theme, the
board's questions, how to read it), every theme's charts and tables in its appendix; one offline
file that prints; for trustees no small count of children anywhere, in either form."""

from __future__ import annotations

import re
from dataclasses import replace
from html import escape
from html.parser import HTMLParser

import pytest

from analysis.themes import THEMES
from reports.html import render_html

from .conftest import event_findings, event_labels

SMALL = re.compile(r"(?<![\d,.])[1-4] of ")
# an element that would make the browser fetch something: src/href/data/poster/srcset on any tag
FETCHING_TAG = re.compile(r"<[a-z][^>]*?\s(?:src|href|data|poster|srcset|action)\s*=\s*[\"']?\s*(?:https?:)?//",
                          re.IGNORECASE)
REMOTE_CSS = re.compile(r"@import|url\(\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE)
SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)


class Tables(HTMLParser):
    """Every table in the page as (headers, rows of cell text)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):  # noqa: ARG002 - HTMLParser's signature
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            headers, rows = self.tables[-1]
            if not headers:
                headers.extend(self._row)
            else:
                rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str):
    parser = Tables()
    parser.feed(SCRIPT.sub("", html))
    return parser.tables


def _html_of(pack: str):
    """A fixture: the HTML of the pack fixture named ``pack``, made once for the module."""
    @pytest.fixture(scope="module")
    def html(request) -> str:
        return render_html(request.getfixturevalue(pack))
    return html


leader_html, trustee_html = _html_of("leader_pack"), _html_of("trustee_pack")
leader_full, trustee_full = _html_of("leader_appendix"), _html_of("trustee_appendix")  # with the appendix


def part(html: str, anchor: str) -> str:
    """One part of the document: from its opening tag with ``id="anchor"`` to the next section."""
    return html.split(f'id="{anchor}"', 1)[1].split("<section", 1)[0]


def test_the_short_pack_is_cover_summary_gaps_board_and_how_to_read_in_that_order(leader_html):
    parts = ['<header class="cover"', 'id="summary"', 'id="gaps"', 'id="challenge-log"', 'id="how-to-read"']
    at = [leader_html.index(p) for p in parts]
    assert at == sorted(at)
    assert "<h2>How to read this pack</h2>" in leader_html
    for theme in THEMES:
        assert f'id="theme-{theme.id}"' not in leader_html, "no theme's charts without the appendix"
    assert "Definitions and methods" not in part(leader_html, "how-to-read")
    assert 'id="appendix"' not in leader_html
    assert "plotly-graph-div" not in leader_html and not SCRIPT.search(leader_html), "no chart, no script"


def test_every_gap_is_under_its_theme_with_its_question_worst_first(leader_pack, leader_html):
    gaps = part(leader_html, "gaps")
    for theme in THEMES:
        block = gaps.split(f'id="gaps-{theme.id}"', 1)[1].split('<div id="gaps-', 1)[0]
        assert f"<h3>{escape(theme.title)}</h3>" in block
        assert escape(theme.question) in block
        mine = leader_pack.gaps[leader_pack.gaps["theme"] == theme.id]
        if mine.empty:
            assert "Nothing raised on this theme this term." in block and not tables_of(block)
            continue
        ((headers, rows),) = tables_of(block)
        assert headers == ["Gap", "School", "What we found", "A question to ask"]
        assert [r[2] for r in rows] == list(mine["finding"]), "the gap list's order: the worst first"
        assert [r[1] for r in rows] == list(mine["school"])
        assert [r[3] for r in rows] == list(mine["question"])
        words = {"red": "✖ Red", "amber": "▲ Amber", "note": "? Question"}
        assert [r[0] for r in rows] == [words[s] for s in mine["severity"]]
    assert sum(len(rows) for headers, rows in tables_of(gaps)) == len(leader_pack.gaps)


def test_the_summary_counts_returns_and_gaps_by_theme_and_shows_the_heatmap(leader_pack, leader_html):
    summary = part(leader_html, "summary")
    assert f"{leader_pack.returned} of {leader_pack.expected}" in summary
    assert escape(leader_pack.returns_rest) in summary
    (counts, (heat_headers, heat_rows)) = tables_of(summary)
    headers, rows = counts
    assert headers == ["Theme", "✖ Red", "▲ Amber", "? Question", "All gaps"]
    gaps = leader_pack.gaps
    for theme in THEMES:
        (row,) = [r for r in rows if r[0] == theme.title]
        mine = gaps[gaps["theme"] == theme.id]
        assert [int(x) for x in row[1:]] == [int((mine["severity"] == s).sum()) for s in ("red", "amber", "note")] \
            + [len(mine)]
    assert rows[-1] == ["All themes", *[str(int((gaps["severity"] == s).sum())) for s in ("red", "amber", "note")],
                        str(len(gaps))]
    assert f"Gaps found: <strong>{len(gaps)}</strong>" in summary
    heatmap = leader_pack.heatmap
    assert escape(heatmap.summary) in summary and escape(heatmap.figure.layout.title.text) in summary
    # the heatmap printed as a table: the chart's own words in each cell, a school a row
    assert heat_headers == [c for c in heatmap.table.columns if c != "URN"]
    assert heat_rows == heatmap.table.drop(columns="URN").astype(str).values.tolist()


def test_each_heatmap_cell_is_its_levels_colour_with_ink_that_reads_on_it(leader_pack, leader_html):
    from charts.palette import SEVERITY_COLOUR, SEVERITY_SYMBOL

    cells = re.findall(r'<td style="background:([^;]+);color:([^"]+)">([^<]+)</td>', part(leader_html, "summary"))
    labels = [v for row in leader_pack.heatmap.table.drop(columns=["School", "URN"]).values for v in row]
    assert [label for _, _, label in cells] == labels
    level = {symbol: lv for lv, symbol in SEVERITY_SYMBOL.items()}
    for background, ink, label in cells:
        assert background == SEVERITY_COLOUR[level[label[0]]]
        assert contrast(background, ink) >= 4.5, (label, background, ink)
    assert {background for background, _, _ in cells} >= {SEVERITY_COLOUR[lv] for lv in ("red", "amber", "clear")}


def contrast(one: str, other: str) -> float:
    def luminance(colour):
        c = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = (x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_how_to_read_gives_each_mark_its_symbol_word_and_colour(leader_html, trustee_html):
    from charts.palette import SEVERITY_COLOUR, SEVERITY_SYMBOL, SEVERITY_WORD

    for html in (leader_html, trustee_html):
        page = part(html, "how-to-read")
        headers, rows = tables_of(page)[0]
        assert headers == ["Mark", "Word", "What it means"]
        for level in ("red", "amber", "note", "clear", "no data"):
            assert [SEVERITY_SYMBOL[level], SEVERITY_WORD[level]] in [r[:2] for r in rows], level
            assert f"background:{SEVERITY_COLOUR[level]}" in page
        assert "Fewer than 5" in page and "Where the full figures are" in page and "Blank is not zero" in page
    theirs, mine = part(trustee_html, "how-to-read"), part(leader_html, "how-to-read")
    assert "This pack is for trustees" in theirs and "every figure in full" not in theirs
    assert "every figure in full" in mine and "give trustees theirs" in mine
    assert "Include the appendix of charts and tables" in mine and "python -m reports pack --appendix" in mine


def test_the_appendix_has_every_theme_its_learning_sources_and_charts(leader_appendix, leader_full):
    for number, theme in enumerate(THEMES, 1):
        section = part(leader_full, f"theme-{theme.id}")
        assert f"<h2>Appendix {number}: {escape(theme.title)}</h2>" in section
        assert escape(theme.learning) in section
        for source in theme.sources:
            assert escape(str(source)) in section
    assert f"Appendix {len(THEMES) + 1}: Definitions and methods" in leader_full
    for section in leader_appendix.sections:
        html = part(leader_full, f"theme-{section.theme.id}")
        assert html.count('class="plotly-graph-div"') == len(section.charts)
        for title, chart in section.charts:
            assert f"<h3>{escape(title)}</h3>" in html and escape(chart.summary) in html
    # the gaps and their questions are said once, in the short part before the appendix
    themes_with_gaps = sum(1 for _, gaps in leader_appendix.gaps_by_theme() if len(gaps))
    assert leader_full.count("<th>A question to ask</th>") == themes_with_gaps


def test_the_cover_names_the_term_when_the_data_are_from_and_whats_in_the_pack(leader_pack, leader_html, leader_full):
    cover = leader_html.split("</header>", 1)[0]
    assert f"{leader_pack.term} {leader_pack.academic_year}" in cover
    assert leader_pack.data_as_at.strftime("%d %B %Y") in cover
    assert "The short pack." in cover and "Include the appendix of charts and tables" in cover
    listed = re.findall(r'<li><a href="#([^"]+)">', cover)
    assert listed == ["summary", "gaps", "challenge-log", "how-to-read"]
    full = re.findall(r'<li><a href="#([^"]+)">', leader_full.split("</header>", 1)[0])
    assert full == listed + [f"theme-{t.id}" for t in THEMES] + ["appendix"]
    assert "With the appendix" in leader_full.split("</header>", 1)[0]


@pytest.mark.parametrize("form", ["leader_html", "leader_full"])
def test_plotly_is_inlined_once_where_there_are_charts_and_nothing_is_fetched_from_elsewhere(form, request,
                                                                                            leader_appendix):
    html = request.getfixturevalue(form)
    scripts = SCRIPT.findall(html)
    if form == "leader_html":
        assert scripts == [], "the short pack has no chart, so no script"
    else:
        assert sum(len(s) > 1_000_000 for s in scripts) == 1  # the plotly.js bundle, once
        assert html.count('class="plotly-graph-div"') == sum(len(s.charts) for s in leader_appendix.sections)
    # the bundle's own code mentions addresses in strings (links it could draw, map tiles it
    # never loads here): what matters is the markup the browser reads, outside the scripts
    outside_scripts = SCRIPT.sub("", html)
    assert not FETCHING_TAG.search(outside_scripts)
    assert not re.search(r"<script\b[^>]*\ssrc\s*=", html, re.IGNORECASE)
    assert not re.search(r"<link\b", outside_scripts, re.IGNORECASE)
    assert not REMOTE_CSS.search(outside_scripts)
    assert "http://" not in outside_scripts and "https://" not in outside_scripts


def test_it_prints_parts_on_new_pages_with_the_numbers_under_each_chart(leader_appendix, leader_full, leader_html):
    assert "@media print" in leader_full
    starts = re.findall(r'<section id="([^"]+)" class="newpage">', leader_full)
    assert starts == ["summary", "gaps", "how-to-read", *[f"theme-{t.id}" for t in THEMES], "appendix"]
    assert '<section id="challenge-log">' in leader_full, "the board's questions follow the gaps on the same page"
    charts = sum(len(s.charts) for s in leader_appendix.sections)
    assert leader_full.count("<details open><summary>The numbers behind this chart") == charts
    for section in leader_appendix.sections:
        for _, chart in section.charts:
            assert escape(chart.summary) in leader_full
    assert "<details open>" not in leader_html, "the short pack prints no table of a chart's numbers"


def test_printed_tables_share_the_page_by_their_words(leader_full):
    """Each table's columns are as wide as their longest word allows (so a header wraps between
    words), add up to the page, and a row is never split across pages."""
    css = leader_full.split("@media print", 1)[1].split("@page", 1)[0]
    assert "tr, .keep { break-inside: avoid;" in css
    assert "details > summary::-webkit-details-marker { display: none; }" in css
    for table in re.findall(r"<table[^>]*><colgroup>(.*?)</colgroup><thead><tr>(.*?)</tr>", leader_full):
        widths = [float(w) for w in re.findall(r"width:([\d.]+)%", table[0])]
        headers = re.findall(r"<th>(.*?)</th>", table[1])
        assert len(widths) == len(headers) and sum(widths) == pytest.approx(100, abs=0.5)


def test_a_short_gap_table_marks_each_gap_with_its_colour_beside_its_word(leader_pack, leader_html):
    from charts.palette import SEVERITY_COLOUR

    gaps = part(leader_html, "gaps")
    marked = re.findall(r'<td class="level" style="border-left-color:([^"]+)">([^<]+)</td>', gaps)
    assert [c for c, _ in marked] == [SEVERITY_COLOUR[s] for t in THEMES
                                      for s in leader_pack.gaps.loc[leader_pack.gaps["theme"] == t.id, "severity"]]
    assert all(re.fullmatch(r"[✖▲?] (Red|Amber|Question)", w) for _, w in marked)


@pytest.mark.parametrize("forms", [("leader_html", "trustee_html"), ("leader_full", "trustee_full")])
def test_a_trustee_sees_small_counts_as_fewer_than_5_everywhere(forms, request, leader_pack, trustee_pack):
    leader_html, trustee_html = (request.getfixturevalue(f) for f in forms)
    # Counts of events and staff totals (meetings, reports, training) are not suppressed: the
    # charts and findings on those, and the workforce section, are left out of the comparison.
    events = tuple(escape(label) for label in event_labels())
    said = {escape(f) for f in event_findings(leader_pack, trustee_pack)}

    def child_cells(html):
        parts = re.split(r'(?=<section id="theme-)', html)
        kept = "".join(p for p in parts if not p.startswith('<section id="theme-workforce"'))
        kept = "".join(p for p in re.split(r"(?=<h3>)", kept) if not p.startswith(tuple(f"<h3>{e}:" for e in events)))
        return [(h, cell) for headers, rows in tables_of(kept) for row in rows for h, cell in zip(headers, row)
                if escape(cell) not in said]

    mine, theirs = child_cells(leader_html), child_cells(trustee_html)
    if forms[1] == "trustee_full":
        assert any(h == "Count" and c in {"1", "2", "3", "4"} for h, c in mine), "the sample should hold small counts"
    assert any(SMALL.search(c) for _, c in mine)
    assert not [c for h, c in theirs if h == "Count" and c in {"1", "2", "3", "4"}]
    assert not [c for _, c in theirs if SMALL.search(c)]
    if forms[1] == "trustee_full":
        assert any(c == "fewer than 5" for _, c in theirs)
    assert any("too small to show" in c for _, c in theirs), "a finding on a hidden count says so"
    assert "fewer than 5" in trustee_html.split("</header>", 1)[0]


def test_words_from_a_return_are_escaped(sample_data):
    from reports.pack import pack_from_dataset

    data = type(sample_data)(**{k: getattr(sample_data, k).copy() for k in
                                ("schools", "values", "returns", "leads", "queries")})
    first = data.schools["urn"].iloc[0]
    data.schools.loc[data.schools["urn"] == first, "name"] = "<script>alert(1)</script> Fictional & Co"
    for appendix in (False, True):
        html = render_html(pack_from_dataset(data, appendix=appendix))
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Fictional &amp; Co" in html


@pytest.mark.parametrize("form", ["leader_html", "leader_full"])
def test_the_parts_for_a_printer_are_the_document_without_plotly_js(form, request, leader_pack):
    from reports.html import html_parts

    html = request.getfixturevalue(form)
    pack = replace(leader_pack, appendix=form == "leader_full")
    parts = list(html_parts(pack, plotlyjs=False))
    # head, cover, summary, gaps, board's questions, how to read, [each theme, definitions], end
    assert len(parts) == 7 + ((len(pack.themes) + 1) if pack.appendix else 0)
    without = "\n".join(parts)
    assert all(len(s) < 1_000_000 for s in SCRIPT.findall(without)), "no part carries the plotly.js bundle"
    # the same document otherwise: the same figures (by their titles) and every word around them
    assert without.count('class="plotly-graph-div"') == html.count('class="plotly-graph-div"')
    assert _text(SCRIPT.sub("", without)) == _text(SCRIPT.sub("", html))


def _text(html: str) -> str:
    """A document's markup without its figures' generated element ids, each run of spaces one."""
    return re.sub(r"\s+", " ", re.sub(r'id="[0-9a-f-]{36}"', "", html)).replace("> <", "><")
