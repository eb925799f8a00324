"""Read every sheet of a screened workbook into plain grids, hidden sheets included.

Before calamine sees the file, each sheet's extent is measured from the raw XML or BIFF
records: calamine builds a dense grid from the first to the last cell, so two cells at A1 and
XFD1048576 would ask for hundreds of gigabytes. The same pass finds .xlsx/.ods formula cells
that carry no saved value and .xlsx cells holding an Excel error, both of which calamine would
otherwise hand back as blank.
"""

from __future__ import annotations

import re
import struct
import zipfile
from dataclasses import dataclass, field
from io import BytesIO

import python_calamine
from defusedxml import ElementTree as SafeTree

from .guard import ODS, XLS, XLSX, damaged, refusal
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

    def cells(self):
        """(row, col, value) of every non-blank cell, in reading order."""
        for r, line in enumerate(self.rows, self.top):
            for c, v in enumerate(line, self.left):
                if v is not None and v != "":
                    yield r, c, v


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


def read_workbook(data: bytes, kind: str, biff: bytes | None = None) -> tuple[Workbook | None, Problem | None]:
    """The workbook, or the reason it could not be read (a whole-file problem)."""
    try:
        if kind == XLSX:
            flagged, problem = _scan_xlsx(data)
        elif kind == ODS:
            flagged, problem = _scan_ods(data)
        else:
            flagged, problem = {}, _scan_xls(biff or b"")
    except (zipfile.BadZipFile, KeyError, SyntaxError, ValueError, struct.error, EOFError):
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

_CELL_REF = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*?(/?)>')
_ANY_CELL = re.compile(rb"<(?:\w+:)?c[\s>/]")
_ROW_REF = re.compile(rb'<(?:\w+:)?row\s[^>]*?\br="([0-9]{1,7})"')
_HAS_FLAGGABLE = re.compile(rb'<(?:\w+:)?f[\s>/]|\st="e"')
_CELL = re.compile(rb"<(?:\w+:)?c\s([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_ATTR_R = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
_ATTR_T = re.compile(rb'\bt="(\w+)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_VALUE = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>(.*?)</(?:\w+:)?v>", re.S)
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def _xlsx_sheet_parts(zf: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, part path) for each worksheet, from workbook.xml and its relationships."""
    names = {n.lower(): n for n in zf.namelist()}
    targets = {}
    rels = names.get("xl/_rels/workbook.xml.rels")
    if rels:
        for el in SafeTree.fromstring(zf.read(rels)).iter():
            if el.tag.endswith("Relationship"):
                target = el.get("Target", "").lstrip("/")
                targets[el.get("Id")] = target if target.lower().startswith("xl/") else f"xl/{target}"
    out = []
    for el in SafeTree.fromstring(zf.read(names["xl/workbook.xml"])).iter():
        if el.tag.endswith("}sheet") or el.tag == "sheet":
            part = names.get(targets.get(el.get(_REL_NS), "").lower())
            if part and "worksheets/" in part.lower():
                out.append((el.get("name", ""), part))
    return out


def _scan_xlsx(data: bytes) -> tuple[dict, Problem | None]:
    flagged: dict[str, dict[tuple[int, int], str]] = {}
    with zipfile.ZipFile(BytesIO(data)) as zf:
        for sheet, part in _xlsx_sheet_parts(zf):
            xml = zf.read(part)  # the guard has already capped and proved every part's size
            rows = cols = 0
            with_ref = 0
            for m in _CELL_REF.finditer(xml):
                with_ref += 1
                if m.group(3):
                    continue  # a self-closing cell has no value, and calamine skips it
                rows = max(rows, int(m.group(2)))
                cols = max(cols, _col_index(m.group(1)) + 1)
            total = len(_ANY_CELL.findall(xml))
            if total > with_ref:  # cells placed by position alone: bound them generously
                rows = max([rows] + [int(r) for r in _ROW_REF.findall(xml)] + [xml.count(b"<row")])
                cols = max(cols, total)
            if rows * cols > MAX_CELLS:
                return {}, _too_big(sheet, rows, cols)
            if _HAS_FLAGGABLE.search(xml):
                found = _flag_xlsx_cells(xml)
                if found:
                    flagged[sheet] = found
    return flagged, None


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


def _scan_ods(data: bytes) -> tuple[dict, Problem | None]:
    flagged: dict[str, dict[tuple[int, int], str]] = {}
    with zipfile.ZipFile(BytesIO(data)) as zf, zf.open("content.xml") as fh:
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
_BIFF_MULRK = 0x00BD
MAX_RECORDS = 300_000  # a return's .xls holds a few thousand records


def _scan_xls(biff: bytes) -> Problem | None:
    """Measure each sheet's used area from its cell records (BIFF8)."""
    names: dict[int, str] = {}
    pos, rows, cols, current = 0, 0, 0, None
    for _ in range(MAX_RECORDS):
        if pos + 4 > len(biff):
            return None
        kind, length = struct.unpack_from("<HH", biff, pos)
        body = biff[pos + 4:pos + 4 + length]
        if kind == 0x0085 and length >= 8:  # BOUNDSHEET: where a sheet starts, and its name
            names[struct.unpack_from("<I", body)[0]] = _biff_name(body)
        elif kind == 0x0809:  # BOF: a new substream
            current, rows, cols = pos, 0, 0
        elif kind in _BIFF_CELLS and length >= 4:
            r, c = struct.unpack_from("<HH", body)
            rows, cols = max(rows, r + 1), max(cols, c + 1)
        elif kind == _BIFF_MULRK and length >= 6:
            r, = struct.unpack_from("<H", body)
            rows, cols = max(rows, r + 1), max(cols, struct.unpack_from("<H", body, length - 2)[0] + 1)
        if rows * cols > MAX_CELLS:
            return _too_big(names.get(current, "?"), rows, cols)
        pos += 4 + length
    return refusal("sheet_too_large", "This file holds far more records than a return ever does, so it has "
                                      "been refused. Save the return as .xlsx and upload that.")


def _biff_name(body: bytes) -> str:
    count, flags = body[6], body[7] if len(body) > 7 else 0
    raw = body[8:]
    return raw[:count * 2].decode("utf-16-le", "replace") if flags & 1 else raw[:count].decode("latin-1")
