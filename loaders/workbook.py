"""Read every sheet of a screened workbook into plain grids, hidden sheets included.

Before calamine sees the file, each sheet's extent is measured from the raw XML or BIFF
records: calamine builds a dense grid from the first to the last cell, so two cells at A1 and
XFD1048576 would ask for hundreds of gigabytes. The same pass finds .xlsx/.ods formula cells
that carry no saved value and .xlsx cells holding an Excel error, both of which calamine would
otherwise hand back as blank. calamine is handed the parts the door has already inflated (stored,
not compressed again), so each part is inflated once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from io import BytesIO

import python_calamine

from .biff import scan_xls
from .guard import ODS, XLSX, Screen, damaged, unpacked
from .labels import keyed
from .problems import UNREADABLE
from .report import Problem
from .scan import scan_ods, scan_xlsx


@dataclass
class Grid:
    """One sheet's cells; ``rows[0][0]`` is the cell at (top, left), both counted from 0."""

    name: str
    visible: bool
    rows: list[list]
    top: int = 0
    left: int = 0
    hidden: str = ""  # "hidden" or "very hidden" (Excel's Unhide does not list a very hidden sheet)

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

    @cached_property
    def labels(self) -> list[tuple[int, int, str]]:
        """(row, col, normalised text) of every text cell short enough to be a label, worked out
        once however many tables look for their labels in the sheet."""
        return keyed(self.texts, shorter_than=200)


@dataclass
class Workbook:
    sheets: list[Grid]
    # sheet name -> {(row, col): UNSAVED or the Excel error text such as "#DIV/0!"}
    flagged: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)


def read_workbook(data: bytes, screen: Screen) -> tuple[Workbook | None, Problem | None]:
    """The workbook, or the reason it could not be read (a whole-file problem)."""
    try:
        if screen.kind == XLSX:
            flagged, problem = scan_xlsx(screen.parts or {})
        elif screen.kind == ODS:
            flagged, problem = scan_ods(screen.parts or {})
        else:
            flagged, problem = {}, scan_xls(screen.biff or b"")
    except Exception:  # noqa: BLE001 - parts that do not parse mean a damaged file, whatever the error
        return None, damaged()
    if problem:
        return None, problem
    try:
        sheets = _read_sheets(unpacked(screen) if screen.parts is not None else data)
    except Exception:  # noqa: BLE001 - calamine raises many kinds; every one means "cannot read"
        return None, unreadable()
    except BaseException as exc:  # a panic inside calamine's Rust arrives as BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        return None, unreadable()
    return Workbook(sheets, flagged), None


def unreadable() -> Problem:
    return UNREADABLE("This file could not be read as a spreadsheet: open it in Excel or LibreOffice and save it "
                      "again as .xlsx, then upload that.")


def _hidden(visible) -> str:
    if visible == python_calamine.SheetVisibleEnum.VeryHidden:
        return "very hidden"
    return "hidden" if visible == python_calamine.SheetVisibleEnum.Hidden else ""


def _read_sheets(data: bytes) -> list[Grid]:
    book = python_calamine.CalamineWorkbook.from_filelike(BytesIO(data))
    grids = []
    for meta in book.sheets_metadata:
        if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
            continue
        sheet = book.get_sheet_by_name(meta.name)
        start = sheet.start or (0, 0)
        grids.append(Grid(meta.name, meta.visible == python_calamine.SheetVisibleEnum.Visible,
                          sheet.to_python(skip_empty_area=True), start[0], start[1], _hidden(meta.visible)))
    return grids
