"""Text a spreadsheet program would take for a formula, and how a cell we write keeps it text.

One rule for every file we hand out (CSV and Excel exports, the board pack's workbook, the return
template): text from a school's workbook or typed by a person (a school's name, a lead's name, an
explanation, a board question) is hostile, and a spreadsheet runs a cell that begins with ``=``
as a formula, which can reach the network or the command line (CSV injection, OWASP).

- Text is *guarded* when its first character, or its first after leading spaces and line breaks,
  is one of ``= + - @``, a tab or a carriage return (or the full-width ``＝ ＋ － ＠``, which some
  Excel locales also read as the start of a formula).
- In an Excel file written with openpyxl, text is always an explicit text cell (openpyxl makes
  any str that begins with ``=`` a formula), and guarded text also gets Excel's own "quote
  prefix" mark (what Excel does when someone types ``'=1+2``): it shows exactly as typed, is
  never a formula, and stays text when someone edits the cell.
- In a CSV, guarded text gets one leading apostrophe (``analysis.exports``).
- Only text is guarded: a number stays a number (``-3`` is a number, not text).
"""

from __future__ import annotations

TRIGGERS = frozenset("=+-@\t\r" + "\uff1d\uff0b\uff0d\uff20")


def needs_guard(text) -> bool:
    """Whether a spreadsheet could take this text for a formula (the rule above)."""
    if not isinstance(text, str) or not text:
        return False
    return text[0] in TRIGGERS or text.lstrip(" \n\r\t")[:1] in TRIGGERS


def keep_text(cell):
    """Make an openpyxl cell (an ordinary or a write-only one) holding a str a text cell, never a
    formula, with the quote prefix where the text needs a guard. Other values are left alone."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if needs_guard(cell.value):
            cell.quotePrefix = True
    return cell
