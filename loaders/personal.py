"""Spot child-level personal data anywhere in a workbook, so the whole file can be refused unkept.

The return holds counts only. A heading that names a child (name, UPN, date of birth, address
...) or a cell holding something shaped like a Unique Pupil Number, on any sheet, hidden ones
included, means someone has pasted a pupil list in: the file is refused and its bytes dropped.
Staff names belong on the Leads sheet, so a plain "Name" heading is allowed there only.
"""

from __future__ import annotations

import re

from .report import ERROR, Problem
from .tables import normalise
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


def find_child_data(book: Workbook) -> Problem | None:
    """The first sign of child-level data, as a refusal; None when the file holds counts only."""
    for grid in book.sheets:
        allowed = STAFF_NAME_HEADINGS if normalise(grid.name) in LEADS_KEYS else set()
        texts = grid.texts
        for r, c, text in texts:
            if len(text) <= 60:
                key = normalise(text).replace(" ", "")
                if key in CHILD_HEADINGS and key not in allowed:
                    return _refusal(grid.name, a1(r, c), f"is headed '{text}'")
        # One search over the whole sheet's text; only on a hit look for the cell that holds it.
        if UPN.search("\n".join(text for _, _, text in texts)):
            r, c = next((r, c) for r, c, text in texts if UPN.search(text))
            return _refusal(grid.name, a1(r, c), "holds what looks like a Unique Pupil Number")
    return None


def _refusal(sheet: str, cell: str, what: str) -> Problem:
    return Problem(
        "personal_data", ERROR, sheet, cell,
        f"This file appears to hold information about individual children ({sheet}!{cell} {what}). "
        "The return must hold counts only: remove that column and upload again. The file has not "
        "been kept.")
