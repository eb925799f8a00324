"""Tables handed out as files (CSV and Excel) that can never run as formulas in a spreadsheet.

Text in an export may come from a school's own workbook (a school name, a lead's name, an
explanation typed against a query), so it is treated as hostile. Which text a spreadsheet would
take for a formula, and how an Excel cell keeps it text, is one rule for every file we hand out:
``loaders.formulas`` (the return template uses it too). Here:

- In CSV a guarded value gets one leading apostrophe (``'=1+2``), after OWASP's CSV injection
  guidance; Excel shows it as text and the apostrophe tells the reader the value was
  neutralised. The CSV writer also quotes any value holding a comma, quote or line break, so a
  value cannot break out of its cell.
- In Excel files a guarded value is written unchanged but as an explicit text cell with Excel's
  own "quote prefix" mark: it is never a formula and stays text even when someone edits the cell.
- Only text is guarded. Numbers stay numbers (``-3`` is a number, not text); booleans and dates
  stay what they are. Missing values (None, NaN, NaT) are empty cells, never 0; so are
  infinities, which no spreadsheet can hold.
- In Excel files, characters XML cannot carry (control characters other than tab and line
  breaks) become U+FFFD, a carriage return is stored as a line break (XML reads a stored CR back
  as LF anyway), and text is cut at Excel's limit of 32,767 characters a cell.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from io import BytesIO

import numpy as np
import pandas as pd

from loaders.formulas import TRIGGERS, keep_text, needs_guard

__all__ = ["TRIGGERS", "needs_guard", "safe_cell", "to_csv_bytes", "to_xlsx_bytes", "sheet_titles"]

GUARD = "'"
MAX_CELL_TEXT = 32_767  # Excel's limit for the text of one cell
MAX_SHEET_TITLE = 31  # Excel's limit for a sheet name
MIN_WIDTH, MAX_WIDTH = 8, 60  # column widths in characters
WIDTH_SAMPLE = 500  # rows looked at to size a column: enough to see its typical width
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"

_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(value):
    """The value as it goes into a CSV: guarded text gets a leading apostrophe; missing is None.

    Numbers, booleans and dates come back unchanged (a negative number is a number, not text).
    """
    if _is_missing(value):
        return None
    if isinstance(value, str):
        return GUARD + value if needs_guard(value) else value
    return value


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as CSV: UTF-8 with a byte-order mark (so Excel reads the accents right), CRLF
    line ends, every text value guarded, headers included, blanks empty."""
    frame = _with_index(frame)
    out = pd.DataFrame({i: _guard_column(frame.iloc[:, i]) for i in range(frame.shape[1])},
                       index=range(len(frame)))
    header = [_csv_header(c) for c in frame.columns]
    text = out.to_csv(index=False, header=header if header else False, na_rep="", lineterminator="\r\n")
    return text.encode("utf-8-sig")


def to_xlsx_bytes(sheets: dict[str, pd.DataFrame], *, freeze_header: bool = True,
                  autofilter: bool = True) -> bytes:
    """An Excel workbook with one sheet per entry, in order: a bold header row (frozen, with
    filters, by default), columns sized to their contents, no cell ever a formula.

    Sheet names are made valid for Excel (31 characters, none of ``[]:*?/\\``) and unique.
    """
    from openpyxl import Workbook  # here, not above: a page that offers only CSV never loads openpyxl

    wb = Workbook(write_only=True)
    for title, frame in zip(sheet_titles(list(sheets)), sheets.values()):
        _write_sheet(wb.create_sheet(title), _with_index(frame), freeze_header, autofilter)
    if not sheets:
        wb.create_sheet("Sheet1")  # a workbook must have a sheet
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def sheet_titles(names: list[str]) -> list[str]:
    """Excel-valid sheet names for ``names``, in order, unique whatever their case."""
    taken: set[str] = set()
    titles = []
    for name in names:
        base = _BAD_TITLE.sub("_", " ".join(str(name).split())).strip("'") or "Sheet"
        if base.lower() == "history":  # Excel keeps this name for itself
            base = "History_"
        title, n = base[:MAX_SHEET_TITLE].rstrip("'"), 1  # cutting may leave an apostrophe last
        while title.lower() in taken:
            n += 1
            suffix = f" ({n})"
            title = base[:MAX_SHEET_TITLE - len(suffix)].rstrip("'") + suffix
        taken.add(title.lower())
        titles.append(title)
    return titles


# --- writing one sheet ------------------------------------------------------------------------

def _write_sheet(ws, frame: pd.DataFrame, freeze_header: bool, autofilter: bool) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    headers = [_header_text(c) for c in frame.columns]
    columns = [[_excel_value(v) for v in frame.iloc[:, i].tolist()] for i in range(frame.shape[1])]
    # Write-only sheets need their layout set before the first row is written.
    for i, (header, values) in enumerate(zip(headers, columns), 1):
        ws.column_dimensions[get_column_letter(i)].width = _width(header, values)
    if freeze_header and headers:
        ws.freeze_panes = "A2"
    if autofilter and headers:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(frame) + 1}"
    if not headers:
        return
    ws.append([_cell(ws, h, bold=bold) for h in headers])
    for r in range(len(frame)):
        ws.append([_cell(ws, col[r]) for col in columns])


def _cell(ws, value, *, bold=None):
    """A write-only cell holding ``value`` as Excel should show it, in the font ``bold`` when given."""
    from openpyxl.cell import WriteOnlyCell

    cell = keep_text(WriteOnlyCell(ws, value))  # openpyxl makes text beginning with "=" a formula
    if isinstance(value, datetime):
        cell.number_format = DATE_FORMAT if value.time() == time() else DATETIME_FORMAT
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    if bold is not None:
        cell.font = bold
    return cell


def _excel_value(value):
    """A value openpyxl can write and Excel can hold; None for an empty cell."""
    if _is_missing(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.generic):  # numpy numbers and text as Python's own
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = pd.Timestamp(value).tz_convert(None).to_pydatetime()  # Excel has no time zones: UTC
    if isinstance(value, (int, float, Decimal, datetime, date, bool)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value
    if isinstance(value, (pd.Timedelta, timedelta)):
        value = str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return _excel_text(str(value))


def _excel_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _ILLEGAL_XML.sub("\ufffd", text)[:MAX_CELL_TEXT]


def _header_text(column):
    if isinstance(column, tuple):  # a column of a MultiIndex: its levels joined
        column = " / ".join(str(level) for level in column if not _is_missing(level))
    value = _excel_value(column)
    return "" if value is None else value


def _width(header, values: list) -> float:
    sample = [header] + values[:WIDTH_SAMPLE]
    longest = max((_shown_length(v) for v in sample), default=0)
    return float(min(max(longest + 2, MIN_WIDTH), MAX_WIDTH))


def _shown_length(value) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16 if value.time() != time() else 10
    if isinstance(value, date):
        return 10
    if isinstance(value, float):
        return len(f"{value:,.2f}")
    text = str(value)
    return max((len(line) for line in text.split("\n")), default=0)


# --- shared -----------------------------------------------------------------------------------

def _with_index(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with a meaningful index (named, or not a plain 0..n-1) made into columns."""
    index = frame.index
    plain = isinstance(index, pd.RangeIndex) and index.name is None and index.start == 0 and index.step == 1
    return frame if plain else frame.reset_index()


def _guard_column(column: pd.Series) -> pd.Series:
    values = column.tolist()
    if pd.api.types.is_string_dtype(column.dtype) and all(type(v) is str for v in values):
        # text alone (a gap list's every column): only the guard to add
        return pd.Series([GUARD + v if needs_guard(v) else v for v in values], dtype=object)
    return pd.Series([_csv_value(v) for v in values], dtype=object)


def _csv_value(value):
    """One value as CSV text or number; None for an empty field."""
    if _is_missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value  # a count, not 12.0
    if isinstance(value, (int, Decimal)):
        return value
    if isinstance(value, datetime):  # pandas' Timestamp included
        if value.tzinfo is not None:
            value = pd.Timestamp(value).tz_convert(None).to_pydatetime()
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return safe_cell(value if isinstance(value, str) else str(value))


def _csv_header(column) -> str:
    if isinstance(column, tuple):
        column = " / ".join(str(level) for level in column if not _is_missing(level))
    value = safe_cell(column)
    return "" if value is None else str(value)


def _is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (str, bytes, list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False
