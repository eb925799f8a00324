"""Measure an .xls workbook's sheets from its BIFF records before calamine reads them.

An .xls file states each sheet's extent in a DIMENSIONS record that calamine trusts; a lying one
would make it allocate gigabytes. The records are walked within a budget and the sheets sized
from what they really hold; macro sheets are refused.
"""

from __future__ import annotations

import struct

from .guard import damaged, macro_enabled
from .problems import SHEET_TOO_LARGE
from .report import Problem
from .scan import MAX_CELLS, MAX_TEXT, _too_big, too_much_text

_BIFF_CELLS = {0x0006, 0x0203, 0x027E, 0x00FD, 0x0204, 0x0205, 0x00D6}  # one value each
MAX_RECORDS = 300_000  # a return's .xls holds a few thousand records
MAX_SHEETS = 255


def scan_xls(biff: bytes) -> Problem | None:
    """Walk the records exactly where calamine will: the globals, then each sheet from its
    BOUNDSHEET offset. Refuse sizes calamine would reserve memory for without checking (the
    shared-string count, a sheet's DIMENSIONS) and any sheet whose cells span too much."""
    budget = [MAX_RECORDS]
    problem, sheets, shared = _scan_globals(biff, budget)
    if problem is None and len(sheets) > MAX_SHEETS:
        problem = damaged()
    labels = [0]  # LABELSST cells so far, over every sheet
    for pos, name in sheets:
        problem = problem or _scan_sheet(biff, pos, name, budget, shared, labels)
    if problem is None and budget[0] <= 0:
        problem = SHEET_TOO_LARGE("This file holds far more records than a return ever does, so it "
                                             "has been refused. Save the return as .xlsx and upload that.")
    return problem


def _scan_globals(biff: bytes, budget: list[int]) -> tuple[Problem | None, list[tuple[int, str]], int]:
    """The workbook globals: a problem (a macro sheet, a shared-string count past reason), else
    each sheet's (offset, name) and the size of the shared-string table in bytes."""
    sheets: list[tuple[int, str]] = []
    shared, previous = 0, 0
    for kind, body in _records(biff, 0, budget):
        if kind == 0x0085 and len(body) >= 8:  # BOUNDSHEET: where a sheet starts, and its name
            if body[5] == 0x01:  # an Excel 4.0 macro sheet
                return macro_enabled(), [], 0
            sheets.append((struct.unpack_from("<I", body)[0], _biff_name(body)))
        elif kind == 0x00FC and len(body) >= 8:  # SST: calamine sizes its string table from this count
            unique = struct.unpack_from("<i", body, 4)[0]
            if not 0 <= unique <= len(biff) // 3:
                return damaged(), [], 0
            shared = len(body)
        elif kind == 0x003C and shared and previous in (0x00FC, 0x003C):  # CONTINUE of the SST
            shared += len(body)
        previous = kind
    return None, sheets, shared


def _scan_sheet(biff: bytes, pos: int, name: str, budget: list[int], shared: int, labels: list[int]) -> Problem | None:
    """One sheet's records: a lying DIMENSIONS, cells spanning too much, or (with labels, counted
    over every sheet) shared strings copied into too many cells."""
    rows = cols = 0
    for kind, body in _records(biff, pos, budget):
        if kind == 0x0200:  # DIMENSIONS: calamine reserves rows x cols cells from it
            area = _dimensions_area(body)
            if area is not None and area > MAX_CELLS:
                return _too_big(name, area, 1)
        cell = _last_cell(kind, body)
        if cell is not None:
            rows, cols = max(rows, cell[0] + 1), max(cols, cell[1] + 1)
            labels[0] += kind == 0x00FD  # LABELSST: a copy of a shared string
            if shared * labels[0] > MAX_TEXT:  # calamine copies the string into each such cell
                return too_much_text()
        if rows * cols > MAX_CELLS:
            return _too_big(name, rows, cols)
    return None


def _last_cell(kind: int, body: bytes) -> tuple[int, int] | None:
    """The (row, column) of the last cell a cell record fills, or None for any other record."""
    if kind in _BIFF_CELLS and len(body) >= 4:
        return struct.unpack_from("<HH", body)
    if kind == 0x00BD and len(body) >= 6:  # MULRK: a run of cells in one row
        return struct.unpack_from("<H", body)[0], struct.unpack_from("<H", body, len(body) - 2)[0]
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
