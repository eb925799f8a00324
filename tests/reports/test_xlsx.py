"""The Excel pack: summary, gaps, the board's questions and how to read it; with the appendix a
sheet per theme and the definitions too; no formula anywhere; numbers as analysis made them;
headers frozen and filtered; small counts hidden for trustees."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from analysis.context import Context
from analysis.gaps import find_gaps
from analysis.indicators import INDICATORS
from analysis.themes import THEMES
from reports.xlsx import render_xlsx

from .conftest import event_labels


def open_book(pack):
    return load_workbook(BytesIO(render_xlsx(pack)))


def rows_of(ws) -> list[dict]:
    values = list(ws.iter_rows(values_only=True))
    return [dict(zip(values[0], r)) for r in values[1:]]


@pytest.fixture(scope="module")
def leader_book(leader_appendix):
    return open_book(leader_appendix)


@pytest.fixture(scope="module")
def trustee_book(trustee_appendix):
    return open_book(trustee_appendix)


@pytest.fixture(scope="module")
def short_books(leader_pack, trustee_pack):
    return open_book(leader_pack), open_book(trustee_pack)


SHORT = ["Summary", "Gaps", "Board questions", "How to read"]


def test_the_short_workbook_has_the_summary_gaps_questions_and_how_to_read(short_books):
    for book in short_books:
        assert book.sheetnames == SHORT


def test_the_appendix_adds_a_sheet_a_theme_and_the_definitions(leader_book):
    assert leader_book.sheetnames == [*SHORT, *[t.short for t in THEMES], "Definitions"]


def test_the_summary_says_whether_the_appendix_is_in(short_books, leader_book):
    said = [{r["Item"]: r["Value"] for r in rows_of(book["Summary"])}["Appendix"] for book in (*short_books, leader_book)]
    assert said[0].startswith("not included") and "Include the appendix of charts and tables" in said[0]
    assert said[1] == said[0]
    assert said[2].startswith("included")


def test_how_to_read_has_each_mark_and_what_fewer_than_5_means(short_books):
    from charts.palette import SEVERITY_SYMBOL, SEVERITY_WORD

    leader, trustee = ({r["Topic"]: r["What it means"] for r in rows_of(book["How to read"])} for book in short_books)
    for level in ("red", "amber", "note", "clear", "no data"):
        assert f"{SEVERITY_SYMBOL[level]} {SEVERITY_WORD[level]}" in leader
    assert "shown as \"fewer than 5\"" in trustee['"Fewer than 5"']
    assert "every figure in full" in leader['"Fewer than 5"']
    assert "python -m reports pack --appendix" in leader["Where the full figures are"]


def test_no_cell_is_a_formula_and_every_header_is_frozen_with_filters(leader_book, trustee_book, short_books):
    for book in (leader_book, trustee_book, *short_books):
        for ws in book.worksheets:
            assert ws.freeze_panes == "A2", ws.title
            assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)


def test_the_gaps_sheet_is_the_gap_list_in_order(leader_book, leader_pack, sample_data):
    ctx = Context(sample_data, leader_pack.academic_year, leader_pack.term)
    gaps = find_gaps(ctx)
    rows = rows_of(leader_book["Gaps"])
    assert [r["What we found"] for r in rows] == [g.finding for g in gaps]
    assert [r["A question to ask"] for r in rows] == [g.question for g in gaps]
    assert [r["URN"] for r in rows] == [g.urn for g in gaps]


def test_the_measures_match_the_analysis(leader_book, leader_pack, sample_data):
    compared = sample_data.compared
    index = Context(sample_data, leader_pack.academic_year, leader_pack.term).index
    checked = 0
    for theme in ("neglect", "adolescents", "multi_agency", "workforce"):
        short = next(t.short for t in THEMES if t.id == theme)
        labels = {i.label: i.id for i in INDICATORS if i.theme == theme}
        for row in rows_of(leader_book[short])[::7]:  # a spread of rows on each sheet
            match = compared[(compared["indicator"] == labels[row["Measure"]]) & (compared["urn"] == row["URN"])
                             & (compared["term_index"] == index)].iloc[0]
            for column, name in (("Count", "numerator"), ("Base", "denominator")):
                if match[name] != match[name]:  # blank stays blank
                    assert row[column] is None
                else:
                    assert row[column] == pytest.approx(match[name])
            if match["value"] == match["value"]:
                assert row["Value"] == pytest.approx(match["value"], abs=1e-4)
            else:
                assert row["Value"] is None
            checked += 1
    assert checked >= 20


def test_the_summary_counts_returns_and_gaps(leader_book, leader_pack):
    summary = {r["Item"]: r["Value"] for r in rows_of(leader_book["Summary"])}
    assert summary["Returns in"] == leader_pack.returned
    assert summary["Schools expected"] == leader_pack.expected
    assert summary["Gaps found"] == len(leader_pack.gaps)
    assert summary["Term"] == f"{leader_pack.term} {leader_pack.academic_year}"
    first = leader_pack.top_gaps.iloc[0]
    assert first["school"] in summary["Top gap 1"] and first["question"] in summary["Top gap 1"]


def test_a_trustee_never_gets_a_small_count_of_children(leader_book, trustee_book):
    def counts(book):
        return [v for t in THEMES if t.id != "workforce"  # staff totals and events are not suppressed
                for r in rows_of(book[t.short]) if r.get("Measure") not in event_labels()
                for k, v in r.items() if k in ("Count", "Base")]

    assert any(isinstance(v, (int, float)) and 1 <= v <= 4 for v in counts(leader_book))
    theirs = counts(trustee_book)
    assert not [v for v in theirs if isinstance(v, (int, float)) and 1 <= v <= 4]
    assert "fewer than 5" in theirs
