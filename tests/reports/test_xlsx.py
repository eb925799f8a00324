"""The Excel pack: a sheet per theme plus summary, gaps and definitions; no formula anywhere;
numbers as analysis made them; headers frozen and filtered; small counts hidden for trustees."""

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
def leader_book(leader_pack):
    return open_book(leader_pack)


@pytest.fixture(scope="module")
def trustee_book(trustee_pack):
    return open_book(trustee_pack)


def test_one_sheet_a_theme_between_the_summary_and_the_definitions(leader_book):
    assert leader_book.sheetnames == ["Summary", "Gaps", *[t.short for t in THEMES], "Board questions",
                                    "Definitions"]


def test_no_cell_is_a_formula_and_every_header_is_frozen_with_filters(leader_book, trustee_book):
    for book in (leader_book, trustee_book):
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
