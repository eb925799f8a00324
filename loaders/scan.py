"""Measure and mark a workbook's sheets from their raw XML or BIFF records, before calamine reads them.

calamine builds a dense grid from the first to the last cell of a sheet, so two cells at A1 and
XFD1048576 would ask for hundreds of gigabytes; shared strings copied into many cells can do the
same. Each scan here sizes every sheet first and refuses what would not fit, and finds the
cells calamine would hand back as blank though they are not: formulas with no saved value and
Excel error cells.
"""

from __future__ import annotations

import html
import re

from .guard import damaged
from .problems import SHEET_TOO_LARGE, TOO_MUCH_TEXT
from .report import Problem

MAX_CELLS = 1_000_000  # rows x columns of one sheet's used area; a return fills a few hundred
MAX_TEXT = 32 * 1024 * 1024  # bytes of text once repeats and shared strings are copied into cells
UNSAVED = "unsaved formula"


def a1(row: int, col: int) -> str:
    """(0, 2) -> 'C1'."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


def too_much_text() -> Problem:
    return TOO_MUCH_TEXT("This file repeats far more text than a return holds (it would fill more than 32 MB "
                   "once read), so it has been refused. Save the return as .xlsx from Excel or "
                   "LibreOffice and upload that.")


def _too_big(sheet: str, rows: int, cols: int) -> Problem:
    return SHEET_TOO_LARGE(f"Sheet '{sheet}' stretches over {rows:,} rows and {cols:,} columns; a return fills a "
                   "few dozen rows. Delete the unused rows and columns (or the extra sheet), save, and "
                   "upload again.")


# ----------------------------------------------------------------------------- xlsx

# XML allows either quote and spaces around "=": match the way a parser would read them.
_Q = rb"""\s*=\s*["']"""
_CELL_REF = re.compile(rb"<(?:[\w.-]+:)?c\s[^>]*?\br" + _Q + rb"([A-Za-z]{1,3})([0-9]{1,10})[\"'][^>]*?(/?)>")
_REF = re.compile(rb"\sr" + _Q + rb"([A-Za-z]{1,3})([0-9]{1,10})[\"']")  # only cells have a letter in r
# Every cell start tag; the reference too when spelt <c r="A1" (as Excel, LibreOffice and openpyxl do).
_PLAIN_CELL = re.compile(rb'<c r="([A-Za-z]{1,3})([0-9]{1,10})"|<c[\s>/]')
_ANY_CELL = re.compile(rb"<(?:[\w.-]+:)?c[\s>/]")
_ANY_ROW = re.compile(rb"<(?:[\w.-]+:)?row[\s>/]")
_ROW_REF = re.compile(rb"<(?:[\w.-]+:)?row\s[^>]*?\br" + _Q + rb"([0-9]{1,10})")
_ERROR_TYPE = re.compile(rb"\st" + _Q + rb"e[\"']")
_CELL = re.compile(rb"<(?:[\w.-]+:)?c\s([^>]*?)(?:/>|>(.*?)</(?:[\w.-]+:)?c>)", re.S)
_ATTR_R = re.compile(rb"\br" + _Q + rb"([A-Za-z]{1,3})([0-9]{1,10})")
_ATTR_T = re.compile(rb"\bt" + _Q + rb"(\w+)")
_FORMULA = re.compile(rb"<(?:[\w.-]+:)?f[\s>/]")
_VALUE = re.compile(rb"<(?:[\w.-]+:)?v(?:\s[^>]*)?>(.*?)</(?:[\w.-]+:)?v>", re.S)
_UNIQUE_COUNT = re.compile(rb"<(?:[\w.-]+:)?sst\b[^>]*?\buniqueCount" + _Q + rb"\s*([0-9]+)")


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n - 1


_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet\s([^>]*)>")
_REL_TAG = re.compile(rb"<(?:[\w.-]+:)?Relationship\s([^>]*)>")
_ATTR = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _attrs(text: bytes) -> dict[str, str]:
    return {m.group(1).decode("utf-8", "replace"): html.unescape((m.group(2) or m.group(3) or b"").decode("utf-8", "replace"))
            for m in _ATTR.finditer(text)}


def _xlsx_sheet_names(parts: dict[str, bytes]) -> dict[str, str]:
    """Part path -> sheet name, from workbook.xml and its relationships (best effort: it only
    names the sheets in messages; every part that holds cells is measured whatever it is called)."""
    names = {n.lower(): n for n in parts}
    targets = {}
    for m in _REL_TAG.finditer(parts.get(names.get("xl/_rels/workbook.xml.rels", ""), b"")):
        attrs = _attrs(m.group(1))
        target = attrs.get("Target", "").lstrip("/")
        targets[attrs.get("Id")] = target if target.lower().startswith("xl/") else f"xl/{target}"
    out = {}
    for m in _SHEET_TAG.finditer(parts[names["xl/workbook.xml"]]):
        attrs = _attrs(m.group(1))
        rel = next((v for k, v in attrs.items() if k.endswith(":id") or k == "id"), "")
        part = names.get(targets.get(rel, "").lower())
        if part:
            out[part] = attrs.get("name", "")
    return out


def scan_xlsx(parts: dict[str, bytes]) -> tuple[dict, Problem | None]:
    flagged: dict[str, dict[tuple[int, int], str]] = {}
    sheet_names = None  # part -> sheet name, read from the workbook only when a message or a flag needs it
    shared, sheets = b"", []  # sheets: (xml, its cell count; None when plainly spelt: counted if needed)
    for part, xml in parts.items():  # every part, whatever its name: calamine follows the relationships
        if "sharedstrings" in part.lower():  # calamine sizes its string table from uniqueCount
            m = _UNIQUE_COUNT.search(xml)
            if m and int(m.group(1)) > len(xml) // 4:
                return {}, damaged()
            shared = max(shared, xml, key=len)
        if b"sheetData" not in xml:
            continue
        prefixed = _PREFIXED.search(xml) is not None  # cells written <x:c ...>: the careful path
        count = None
        if prefixed or not _plainly_small(xml):
            rows, cols, count = _xlsx_extent(xml, prefixed)
            if rows * cols > MAX_CELLS:
                sheet_names = sheet_names if sheet_names is not None else _xlsx_sheet_names(parts)
                return {}, _too_big(sheet_names.get(part, part), rows, cols)
        sheets.append((xml, count))
        if _flaggable(xml, prefixed):
            sheet_names = sheet_names if sheet_names is not None else _xlsx_sheet_names(parts)
            if part in sheet_names:
                found = _flag_xlsx_cells(xml)
                if found:
                    flagged[sheet_names[part]] = found
    # calamine copies a shared string into every cell that uses it: bound the copies' total size.
    if shared:
        cells = sum(xml.count(_PLAIN_START) if count is None else count for xml, count in sheets)
        if len(shared) * cells > MAX_TEXT and _shared_text(shared, [xml for xml, _ in sheets]) > MAX_TEXT:
            return {}, too_much_text()
    return flagged, None


# A cell start tag that is not <c r="A1" within ZZ999: another spelling, no reference, or a
# reference farther away. Then the exact scans decide.
_NOT_PLAINLY_SMALL = re.compile(rb'<c(?! r="[A-Za-z]{1,2}[0-9]{1,3}")[\s>/]')
_PLAIN_START = b'<c r="'


def _plainly_small(xml: bytes) -> bool:
    """Whether every cell is spelt <c r="A1" within A1:ZZ999, which fits (702 x 999 cells is
    under MAX_CELLS): one search that finds nothing, instead of reading every reference.
    Then each <c r=" starts a cell, so counting them counts the cells."""
    return _NOT_PLAINLY_SMALL.search(xml) is None


_SI = re.compile(rb"<(?:[\w.-]+:)?si[\s>/].*?(?:</(?:[\w.-]+:)?si>|/>)", re.S)


def _shared_text(shared: bytes, sheets: list[bytes]) -> int:
    """Bytes of shared text all the cells would hold (an unreadable index counts as the longest)."""
    lengths = [len(m) for m in _SI.findall(shared)]
    longest = max(lengths, default=0)
    total = 0
    for xml in sheets:
        for m in _CELL.finditer(xml):
            kind = _ATTR_T.search(m.group(1))
            if kind and kind.group(1) == b"s":
                value = _VALUE.search(m.group(2) or b"")
                index = value.group(1).strip() if value else b""
                total += lengths[int(index)] if index.isdigit() and int(index) < len(lengths) else longest
    return total


# Searched as patterns, not substrings: for these the regular expression engine's search is
# the faster (it looks for the rare ":" first; and one search replaces a loop over "<formula1>").
_PREFIXED = re.compile(rb":c")
_FORMULA_START = re.compile(rb"<f[>\x20/\t\n\r]")  # <f>, <f t="shared" ...>; not <formula1>


def _flaggable(xml: bytes, prefixed: bool) -> bool:
    """Whether a sheet may hold a formula or an error cell (plain spellings first: they are fast)."""
    if _FORMULA_START.search(xml):
        return True
    if b't="e"' in xml:
        return True
    return prefixed and bool(_FORMULA.search(xml) or _ERROR_TYPE.search(xml))


def _xlsx_extent(xml: bytes, prefixed: bool) -> tuple[int, int, int]:
    """Rows and columns from A1 to the farthest cell that holds anything (an upper bound), and
    how many cells there are."""
    if not prefixed:
        found = _PLAIN_CELL.findall(xml)
        if found and not found.count(_NO_REF):  # every cell is spelt <c r="A1": the fast count is exact
            rows, cols = _farthest(found)
            if rows * cols <= MAX_CELLS:
                return rows, cols, len(found)
        elif not found:
            return 0, 0, 0
    return _careful_extent(xml)


_NO_REF = (b"", b"")  # a cell start tag _PLAIN_CELL matched without its reference


def _careful_extent(xml: bytes) -> tuple[int, int, int]:
    """The same bound for any spelling XML allows: prefixes, either quote, spaces round "=",
    cells with no reference (placed by position), and empty self-closing cells left out."""
    refs = _REF.findall(xml)
    rows, cols = _farthest(refs)
    if rows * cols > MAX_CELLS:  # look again, leaving out empty self-closing cells calamine skips
        rows, cols = _farthest([(c, r) for c, r, closed in _CELL_REF.findall(xml) if not closed])
    total = len(_ANY_CELL.findall(xml))
    if total > len(_CELL_REF.findall(xml)):  # cells placed by position alone: bound them generously
        rows = max([rows, len(_ANY_ROW.findall(xml))] + [int(r) for r in _ROW_REF.findall(xml)])
        cols = max(cols, total)
    return rows, cols, total


def _farthest(refs: list[tuple[bytes, bytes]]) -> tuple[int, int]:
    if not refs:
        return 0, 0
    letters, numbers = zip(*refs)
    return max(map(int, set(numbers))), max(_col_index(c) for c in set(letters)) + 1


def _flag_xlsx_cells(xml: bytes) -> dict[tuple[int, int], str]:
    found = {}
    for m in _CELL.finditer(xml):
        attrs, inner = m.group(1), m.group(2) or b""
        ref = _ATTR_R.search(attrs)
        if not ref:
            continue
        where = (int(ref.group(2)) - 1, _col_index(ref.group(1)))
        kind = _ATTR_T.search(attrs)
        kind = kind.group(1) if kind else b"n"
        value = _VALUE.search(inner)
        saved = value.group(1).strip() if value else b""
        if kind == b"e":
            found[where] = saved.decode("utf-8", "replace") or "#VALUE!"
        elif _FORMULA.search(inner) and not saved and kind not in (b"str", b"inlineStr"):
            found[where] = UNSAVED
    return found


# ----------------------------------------------------------------------------- ods

# calamine matches these qualified names literally, so the scan does too.
_ODS_TAG = re.compile(rb"<(/?)(table:table-row|table:table-cell|table:covered-table-cell|table:table|text:s)"
                      rb"(?=[\s/>])([^>]*)>")
_ODS_NAME = re.compile(rb"""table:name\s*=\s*["']([^"']*)""")


_COLS_REPEATED = re.compile(rb"""table:number-columns-repeated\s*=\s*["']\s*([0-9]+)""")
_ROWS_REPEATED = re.compile(rb"""table:number-rows-repeated\s*=\s*["']\s*([0-9]+)""")
_SPACES = re.compile(rb"""text:c\s*=\s*["']\s*([0-9]+)""")


def _ods_number(attrs: bytes, pattern: re.Pattern) -> int:
    m = pattern.search(attrs) if b"=" in attrs else None
    return max(1, int(m.group(1))) if m else 1


class _OdsTable:
    """One table's running position, extent and repeated text while its tags stream past."""

    def __init__(self, name: str):
        self.name, self.row, self.col, self.rows, self.cols = name, 0, 0, 0, 0
        self.row_repeat, self.row_filled, self.text = 1, False, 0
        self.flags: dict[tuple[int, int], str] = {}

    def cell(self, attrs: bytes, content: int) -> None:
        """A cell (maybe repeated across columns) whose every copy holds ``content`` bytes."""
        repeat = _ods_number(attrs, _COLS_REPEATED) if b"repeated" in attrs else 1
        valued = b"office:" in attrs or b"table:formula" in attrs
        if valued or content:
            self.cols = max(self.cols, self.col + repeat)
            self.row_filled = True
            self.text += (len(attrs) + content) * repeat * self.row_repeat  # calamine copies each repeat
            if b"table:formula" in attrs and b"office:" not in attrs:
                self.flags[(self.row, self.col)] = UNSAVED
        self.col += repeat

    def start_row(self, attrs: bytes) -> None:
        self.row_repeat = _ods_number(attrs, _ROWS_REPEATED) if b"repeated" in attrs else 1

    def end_row(self) -> None:
        if self.row_filled:
            self.rows = self.row + self.row_repeat
        self.row, self.col, self.row_filled = self.row + self.row_repeat, 0, False

    def row_tag(self, closing: bytes | None, attrs: bytes) -> None:
        """A row's opening tag, its closing tag, or an empty row's one self-closed tag."""
        if closing:
            self.end_row()
        else:
            self.start_row(attrs)
            if attrs.endswith(b"/"):
                self.end_row()


def scan_ods(parts: dict[str, bytes]) -> tuple[dict, Problem | None]:
    """Walk content.xml's table tags as calamine reads them: repeats expand, empty cells do not."""
    xml = parts["content.xml"]
    flagged: dict[str, dict[tuple[int, int], str]] = {}
    table, done_text = _OdsTable(""), 0
    open_cell: tuple[bytes, int] | None = None  # (attrs, where its content starts)
    spaces = 0  # <text:s text:c="n"/> in the open cell stands for n spaces
    for m in _ODS_TAG.finditer(xml, max(0, xml.find(b"<office:body"))):
        closing, tag, attrs = m.groups()
        if tag == b"table:table-cell" or tag == b"table:covered-table-cell":
            if not closing:
                if attrs.endswith(b"/"):
                    table.cell(attrs, 0)
                else:
                    open_cell, spaces = (attrs, m.end()), 0
                continue
            if open_cell:
                table.cell(open_cell[0], m.start() - open_cell[1] + spaces)
                open_cell = None
        elif tag == b"text:s":
            spaces += _ods_number(attrs, _SPACES) if open_cell else 0
        elif tag == b"table:table-row":
            table.row_tag(closing, attrs)
        elif closing:  # </table:table>
            if table.rows * table.cols > MAX_CELLS:
                return {}, _too_big(table.name, table.rows, table.cols)
            done_text += table.text
            if table.flags:
                flagged[table.name] = table.flags
            table = _OdsTable("")
        else:
            name = _ODS_NAME.search(attrs)
            table = _OdsTable(html.unescape(name.group(1).decode("utf-8", "replace")) if name else "")
        if done_text + table.text > MAX_TEXT:
            return {}, too_much_text()
    return flagged, None
