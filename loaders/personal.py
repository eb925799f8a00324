"""Spot child-level personal data anywhere in a workbook, so the whole file can be refused unkept.

The return holds counts only. A heading that names a child (name, UPN, date of birth, address
...) or a cell holding something shaped like a Unique Pupil Number, on any sheet, hidden ones
included, means someone has pasted a pupil list in: the file is refused and its bytes dropped.
Staff names belong on the Leads sheet, so a plain "Name" heading is allowed there only.
"""

from __future__ import annotations

import re
from operator import itemgetter

from .labels import normalise
from .report import ERROR, Problem
from .scan import a1
from .workbook import Workbook

# Compared with spaces removed, so "D.O.B.", "First_Name" and "date-of-birth" all match.
CHILD_HEADINGS = {
    "name", "pupilname", "pupilsname", "childname", "childsname", "studentname", "learnername",
    "firstname", "forename", "forenames", "givenname", "middlename", "preferredname", "surname",
    "lastname", "familyname", "fullname", "legalname", "legalforename", "legalsurname",
    "upn", "uniquepupilnumber", "pupilnumber", "uln", "uniquelearnernumber", "candidatenumber",
    "dateofbirth", "dob", "birthdate", "birthday", "dateofbirthdob",
    "address", "homeaddress", "addressline1", "postcode", "postalcode", "homepostcode",
    "nhsnumber", "nhsno", "senpupilname", "lacname",
}
STAFF_NAME_HEADINGS = {"name"}
LEADS_KEYS = {normalise("Leads"), "lead", "leads"}
# A UPN is a check letter then 12 digits; a temporary UPN ends in a letter instead.
UPN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z](?:\d{12}|\d{11}[A-Za-z])(?![A-Za-z0-9])")

# Texts already found to be neither a child heading nor to hold a UPN on any sheet (the template's
# labels and instructions, most of all), so each return looks again only at text it has not seen.
# Bounded: emptied when full, and long texts are never kept.
_CLEAN: set[str] = set()
_CLEAN_MAX, _CLEAN_LONGEST = 10_000, 500  # at most about 5 MB
_TEXT = itemgetter(2)


def find_child_data(book: Workbook) -> Problem | None:
    """The first sign of child-level data, as a refusal; None when the file holds counts only."""
    for grid in book.sheets:
        texts = grid.texts
        unseen = set(map(_TEXT, texts)) - _CLEAN
        if not unseen:
            continue
        allowed = STAFF_NAME_HEADINGS if normalise(grid.name) in LEADS_KEYS else set()
        headed, upns = set(), set()
        for text in unseen:
            key = normalise(text).replace(" ", "") if len(text) <= 60 else ""
            if key in CHILD_HEADINGS and key not in allowed:
                headed.add(text)
            elif UPN.search(text):
                upns.add(text)
            elif key not in CHILD_HEADINGS and len(text) <= _CLEAN_LONGEST:
                if len(_CLEAN) >= _CLEAN_MAX:
                    _CLEAN.clear()
                _CLEAN.add(text)
        if headed:
            r, c, text = next(cell for cell in texts if cell[2] in headed)
            return _refusal(grid.name, a1(r, c), f"is headed '{text}'")
        if upns:
            r, c = next((r, c) for r, c, text in texts if UPN.search(text))
            return _refusal(grid.name, a1(r, c), "holds what looks like a Unique Pupil Number")
    return None


def _refusal(sheet: str, cell: str, what: str) -> Problem:
    return Problem(
        "personal_data", ERROR, sheet, cell,
        f"This file appears to hold information about individual children ({sheet}!{cell} {what}). "
        "The return must hold counts only: remove that column and upload again. The file has not "
        "been kept.")
