"""Read every sheet of a screened workbook into plain grids, hidden sheets included.

Before calamine sees the file, each sheet's extent is measured from the raw XML or BIFF
records: calamine builds a dense grid from the first to the last cell, so two cells at A1 and
XFD1048576 would ask for hundreds of gigabytes. The same pass finds .xlsx/.ods formula cells
that carry no saved value and .xlsx cells holding an Excel error, both of which calamine would
otherwise hand back as blank.
"""

from __future__ import annotations

import html
import re
import struct
from dataclasses import dataclass, field
from functools import cached_property
from io import BytesIO

import python_calamine
from defusedxml import ElementTree as SafeTree

from .guard import ODS, XLSX, Screen, damaged, macro_enabled, refusal
from .report import Problem

MAX_CELLS = 1_000_000  # rows x columns of one sheet's used area; a return fills a few hundred
UNSAVED = "unsaved formula"


@dataclass
class Grid:
    """One sheet's cells; ``rows[0][0]`` is the cell at (top, left), both counted from 0."""

    name: str
    visible: bool
    rows: list[list]
    top: int = 0
    left: int = 0

    def value(self, row: int, col: int):
        r, c = row - self.top, col - self.left
        if 0 <= r < len(self.rows) and 0 <= c < len(self.rows[r]):
            return self.rows[r][c]
        return None

    @cached_property
    def texts(self) -> list[tuple[int, int, str]]:
        """(row, col, text stripped) of every cell holding text, in reading order; labels live here."""
        return [(r, c, v.strip()) for r, line in enumerate(self.rows, self.top)
                for c, v in enumerate(line, self.left) if isinstance(v, str) and v]


@dataclass
class Workbook:
    sheets: list[Grid]
    # sheet name -> {(row, col): UNSAVED or the Excel error text such as "#DIV/0!"}
    flagged: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)


def a1(row: int, col: int) -> str:
    """(0, 2) -> 'C1'."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


def read_workbook(data: bytes, screen: Screen) -> tuple[Workbook | None, Problem | None]:
    """The workbook, or the reason it could not be read (a whole-file problem)."""
    try:
        if screen.kind == XLSX:
            flagged, problem = _scan_xlsx(screen.parts or {})
        elif screen.kind == ODS:
            flagged, problem = _scan_ods(screen.parts or {})
        else:
            flagged, problem = {}, _scan_xls(screen.biff or b"")
    except Exception:  # noqa: BLE001 - parts that do not parse mean a damaged file, whatever the error
        return None, damaged()
    if problem:
        return None, problem
    try:
        sheets = _read_sheets(data)
    except Exception:  # noqa: BLE001 - calamine raises many kinds; every one means "cannot read"
        return None, unreadable()
    except BaseException as exc:  # a panic inside calamine's Rust arrives as BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        return None, unreadable()
    return Workbook(sheets, flagged), None


def unreadable() -> Problem:
    return refusal("unreadable", "This file could not be read as a spreadsheet: open it in Excel or "
                                 "LibreOffice and save it again as .xlsx, then upload that.")


def _read_sheets(data: bytes) -> list[Grid]:
    book = python_calamine.CalamineWorkbook.from_filelike(BytesIO(data))
    grids = []
    for meta in book.sheets_metadata:
        if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
            continue
        sheet = book.get_sheet_by_name(meta.name)
        start = sheet.start or (0, 0)
        grids.append(Grid(meta.name, meta.visible == python_calamine.SheetVisibleEnum.Visible,
                          sheet.to_python(skip_empty_area=True), start[0], start[1]))
    return grids


def _too_big(sheet: str, rows: int, cols: int) -> Problem:
    return refusal("sheet_too_large",
                   f"Sheet '{sheet}' stretches over {rows:,} rows and {cols:,} columns; a return fills a "
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


def _scan_xlsx(parts: dict[str, bytes]) -> tuple[dict, Problem | None]:
    flagged: dict[str, dict[tuple[int, int], str]] = {}
    sheet_names = _xlsx_sheet_names(parts)
    for part, xml in parts.items():  # every part, whatever its name: calamine follows the relationships
        if "sharedstrings" in part.lower():  # calamine sizes its string table from uniqueCount
            m = _UNIQUE_COUNT.search(xml)
            if m and int(m.group(1)) > len(xml) // 4:
                return {}, damaged()
        if b"sheetData" not in xml:
            continue
        sheet = sheet_names.get(part, part)
        prefixed = b":c" in xml  # cells written <x:c ...>: take the slower, careful path
        rows, cols = _xlsx_extent(xml, prefixed)
        if rows * cols > MAX_CELLS:
            return {}, _too_big(sheet, rows, cols)
        if part in sheet_names and _flaggable(xml, prefixed):
            found = _flag_xlsx_cells(xml)
            if found:
                flagged[sheet] = found
    return flagged, None


def _flaggable(xml: bytes, prefixed: bool) -> bool:
    """Whether a sheet may hold a formula or an error cell (substring tests first: they are fast)."""
    at = xml.find(b"<f")
    while at >= 0:
        if xml[at + 2:at + 3] in (b">", b" ", b"/", b"\t", b"\n", b"\r"):  # <f>, not <formula1>
            return True
        at = xml.find(b"<f", at + 2)
    if b't="e"' in xml:
        return True
    return prefixed and bool(_FORMULA.search(xml) or _ERROR_TYPE.search(xml))


def _xlsx_extent(xml: bytes, prefixed: bool) -> tuple[int, int]:
    """Rows and columns from A1 to the farthest cell that holds anything (an upper bound)."""
    if not prefixed:
        found = _PLAIN_CELL.findall(xml)
        refs = [ref for ref in found if ref[0]]
        if len(refs) == len(found):  # every cell is spelt <c r="A1": the fast count is exact
            rows, cols = _farthest(refs)
            if rows * cols <= MAX_CELLS:
                return rows, cols
    return _careful_extent(xml)


def _careful_extent(xml: bytes) -> tuple[int, int]:
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
    return rows, cols


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

_T = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_O = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def _scan_ods(parts: dict[str, bytes]) -> tuple[dict, Problem | None]:
    flagged: dict[str, dict[tuple[int, int], str]] = {}
    with BytesIO(parts["content.xml"]) as fh:
        row = col = 0
        rows = cols = 0
        row_filled = False
        for _, el in SafeTree.iterparse(fh, events=("end",)):
            tag = el.tag
            if tag in (_T + "table-cell", _T + "covered-table-cell"):
                repeat = _repeat(el, "number-columns-repeated")
                has_value = el.get(_O + "value-type") is not None
                if has_value or len(el):
                    cols = max(cols, col + repeat)
                    row_filled = True
                if el.get(_T + "formula") is not None and not has_value:
                    flagged.setdefault("", {})[(row, col)] = UNSAVED
                col += repeat
            elif tag == _T + "table-row":
                repeat = _repeat(el, "number-rows-repeated")
                if row_filled:
                    rows = row + repeat
                row, col, row_filled = row + repeat, 0, False
                el.clear()
            elif tag == _T + "table":
                name = el.get(_T + "name", "")
                if rows * cols > MAX_CELLS:
                    return {}, _too_big(name, rows, cols)
                if "" in flagged:
                    flagged[name] = flagged.pop("")
                row = col = rows = cols = 0
                el.clear()
    return flagged, None


def _repeat(el, attr: str) -> int:
    try:
        return max(1, int(el.get(_T + attr, "1")))
    except ValueError:
        return 1


# ----------------------------------------------------------------------------- xls

_BIFF_CELLS = {0x0006, 0x0203, 0x027E, 0x00FD, 0x0204, 0x0205, 0x00D6}  # one value each
MAX_RECORDS = 300_000  # a return's .xls holds a few thousand records
MAX_SHEETS = 255


def _scan_xls(biff: bytes) -> Problem | None:
    """Walk the records exactly where calamine will: the globals, then each sheet from its
    BOUNDSHEET offset. Refuse sizes calamine would reserve memory for without checking (the
    shared-string count, a sheet's DIMENSIONS) and any sheet whose cells span too much."""
    budget = [MAX_RECORDS]
    sheets: list[tuple[int, str]] = []
    for kind, body in _records(biff, 0, budget):
        if kind == 0x0085 and len(body) >= 8:  # BOUNDSHEET: where a sheet starts, and its name
            if body[5] == 0x01:  # an Excel 4.0 macro sheet
                return macro_enabled()
            sheets.append((struct.unpack_from("<I", body)[0], _biff_name(body)))
        elif kind == 0x00FC and len(body) >= 8:  # SST: calamine sizes its string table from this count
            unique = struct.unpack_from("<i", body, 4)[0]
            if not 0 <= unique <= len(biff) // 3:
                return damaged()
    if len(sheets) > MAX_SHEETS:
        return damaged()
    for pos, name in sheets:
        rows = cols = 0
        for kind, body in _records(biff, pos, budget):
            if kind == 0x0200:  # DIMENSIONS: calamine reserves rows x cols cells from it
                area = _dimensions_area(body)
                if area is not None and area > MAX_CELLS:
                    return _too_big(name, area, 1)
            elif kind in _BIFF_CELLS and len(body) >= 4:
                r, c = struct.unpack_from("<HH", body)
                rows, cols = max(rows, r + 1), max(cols, c + 1)
            elif kind == 0x00BD and len(body) >= 6:  # MULRK: a run of cells in one row
                r, = struct.unpack_from("<H", body)
                rows, cols = max(rows, r + 1), max(cols, struct.unpack_from("<H", body, len(body) - 2)[0] + 1)
            if rows * cols > MAX_CELLS:
                return _too_big(name, rows, cols)
    if budget[0] <= 0:
        return refusal("sheet_too_large", "This file holds far more records than a return ever does, so it "
                                          "has been refused. Save the return as .xlsx and upload that.")
    return None


def _records(biff: bytes, pos: int, budget: list[int]):
    """(type, body) of each record from pos to the substream's EOF, within a shared budget."""
    while pos + 4 <= len(biff) and budget[0] > 0:
        budget[0] -= 1
        kind, length = struct.unpack_from("<HH", biff, pos)
        yield kind, biff[pos + 4:pos + 4 + length]
        if kind == 0x000A:
            return
        pos += 4 + length


def _dimensions_area(body: bytes) -> int | None:
    if len(body) == 14:
        first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", body)
    elif len(body) == 10:
        first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", body)
    else:
        return None
    if last_row < 1 or last_col < 1:
        return 1
    rows = ((last_row - 1) - first_row + 1) % 2**32  # calamine's u32 arithmetic wraps
    cols = ((last_col - 1) - first_col + 1) % 2**32
    return rows * cols


def _biff_name(body: bytes) -> str:
    count, flags = body[6], body[7] if len(body) > 7 else 0
    raw = body[8:]
    return raw[:count * 2].decode("utf-16-le", "replace") if flags & 1 else raw[:count].decode("latin-1")
