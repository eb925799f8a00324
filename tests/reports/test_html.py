"""The HTML pack: every theme, the top gaps and their questions, one offline file that prints,
and for trustees no small count of children anywhere."""

from __future__ import annotations

import re
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

    def handle_starttag(self, tag, attrs):
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


@pytest.fixture(scope="module")
def leader_html(leader_pack) -> str:
    return render_html(leader_pack)


@pytest.fixture(scope="module")
def trustee_html(trustee_pack) -> str:
    return render_html(trustee_pack)


def test_every_theme_has_its_heading_learning_and_sources(leader_html):
    for theme in THEMES:
        assert f'id="theme-{theme.id}"' in leader_html
        assert escape(theme.title) in leader_html
        assert escape(theme.learning) in leader_html
        for source in theme.sources:
            assert escape(str(source)) in leader_html
    assert "Definitions and methods" in leader_html


def test_the_summary_names_each_top_gaps_school_and_question(leader_pack, leader_html):
    summary = leader_html.split('id="summary"', 1)[1].split("<section", 1)[0]
    assert len(leader_pack.top_gaps) == 5
    for gap in leader_pack.top_gaps.itertuples():
        assert escape(gap.school) in summary
        assert escape(gap.question) in summary
        assert escape(gap.finding) in summary
    assert f"{leader_pack.returned} of {leader_pack.expected}" in summary


def test_the_cover_names_the_term_and_when_the_data_are_from(leader_pack, leader_html):
    cover = leader_html.split("</header>", 1)[0]
    assert f"{leader_pack.term} {leader_pack.academic_year}" in cover
    assert leader_pack.data_as_at.strftime("%d %B %Y") in cover


def test_plotly_is_inlined_once_and_nothing_is_fetched_from_elsewhere(leader_pack, leader_html):
    scripts = SCRIPT.findall(leader_html)
    assert sum(len(s) > 1_000_000 for s in scripts) == 1  # the plotly.js bundle, once
    figures = 1 + sum(len(s.charts) for s in leader_pack.sections)
    assert leader_html.count('class="plotly-graph-div"') == figures
    # the bundle's own code mentions addresses in strings (links it could draw, map tiles it
    # never loads here): what matters is the markup the browser reads, outside the scripts
    outside_scripts = SCRIPT.sub("", leader_html)
    assert not FETCHING_TAG.search(outside_scripts)
    assert not re.search(r"<script\b[^>]*\ssrc\s*=", leader_html, re.IGNORECASE)
    assert not re.search(r"<link\b", outside_scripts, re.IGNORECASE)
    assert not REMOTE_CSS.search(outside_scripts)
    assert "http://" not in outside_scripts and "https://" not in outside_scripts


def test_it_prints_a_section_a_page_with_the_numbers_under_each_chart(leader_pack, leader_html):
    assert "@media print" in leader_html
    assert "break-before: page" in leader_html
    charts = 1 + sum(len(s.charts) for s in leader_pack.sections)
    assert leader_html.count("The numbers behind this chart") == charts
    for section in leader_pack.sections:
        for _, chart in section.charts:
            assert escape(chart.summary) in leader_html


def test_a_trustee_sees_small_counts_as_fewer_than_5_everywhere(leader_html, trustee_html, leader_pack,
                                                                trustee_pack):
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
    assert any(h == "Count" and c in {"1", "2", "3", "4"} for h, c in mine), "the sample should hold small counts"
    assert any(SMALL.search(c) for _, c in mine)
    assert not [c for h, c in theirs if h == "Count" and c in {"1", "2", "3", "4"}]
    assert not [c for _, c in theirs if SMALL.search(c)]
    assert any(c == "fewer than 5" for _, c in theirs)
    assert "fewer than 5" in trustee_html.split("</header>", 1)[0]


def test_words_from_a_return_are_escaped(sample_data):
    from reports.pack import pack_from_dataset

    data = type(sample_data)(**{k: getattr(sample_data, k).copy() for k in
                                ("schools", "values", "returns", "leads", "queries")})
    first = data.schools["urn"].iloc[0]
    data.schools.loc[data.schools["urn"] == first, "name"] = "<script>alert(1)</script> Fictional & Co"
    html = render_html(pack_from_dataset(data))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Fictional &amp; Co" in html


def test_the_parts_for_a_printer_are_the_document_without_plotly_js(leader_pack, leader_html):
    from reports.html import html_parts

    parts = list(html_parts(leader_pack, plotlyjs=False))
    assert len(parts) == 3 + len(leader_pack.sections) + 3  # head, cover, summary, themes, log, appendix, end
    without = "\n".join(parts)
    assert max(len(s) for s in SCRIPT.findall(without)) < 1_000_000, "no part carries the plotly.js bundle"
    # the same document otherwise: the same figures (by their titles) and every word around them
    assert without.count('class="plotly-graph-div"') == leader_html.count('class="plotly-graph-div"')
    assert _text(SCRIPT.sub("", without)) == _text(SCRIPT.sub("", leader_html))


def _text(html: str) -> str:
    """A document's markup without its figures' generated element ids, each run of spaces one."""
    return re.sub(r"\s+", " ", re.sub(r'id="[0-9a-f-]{36}"', "", html)).replace("> <", "><")
