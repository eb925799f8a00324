"""One rule for text a spreadsheet would run, shared by every file we hand out."""

from __future__ import annotations

import pytest
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from loaders.formulas import keep_text, needs_guard


@pytest.mark.parametrize("value, kind, marked", [
    ("=1+2", "s", True), ('=HYPERLINK("http://127.0.0.1:9/","x")', "s", True), ("+1", "s", True),
    ("-2+3", "s", True), ("@A1", "s", True), ("\t=1", "s", True), ("\r=1", "s", True), (" =1", "s", True),
    ("Oak Academy", "s", False), ("1+1", "s", False), ("", "s", False),
    (-3, "n", False), (2.5, "n", False), (0, "n", False), (None, "n", False),
])
def test_a_cell_keeps_text_as_text_and_numbers_as_numbers(value, kind, marked):
    ws = Workbook().active
    for cell in (ws.cell(1, 1, value), WriteOnlyCell(Workbook(write_only=True).create_sheet(), value)):
        keep_text(cell)
        assert cell.data_type == kind and bool(cell.quotePrefix) == marked
        assert cell.value == value


def test_the_exports_use_this_rule():
    from analysis import exports

    assert exports.needs_guard is needs_guard
    assert not needs_guard(-3) and not needs_guard(None)
