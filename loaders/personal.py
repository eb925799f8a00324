"""Spot child-level personal data anywhere in a workbook, so the whole file can be refused unkept.

The return holds counts only. A heading that names a child (name, UPN, date of birth, address
...), a cell holding something shaped like a Unique Pupil Number, or free text pairing a name
with a date of birth or a home address means someone has pasted a pupil's details in. Cells are
read on every sheet, hidden and very hidden ones included, and so is every other place a
workbook keeps text: comments, headers and footers, defined names, charts and shapes,
data-validation messages, sheet names, the document's properties, even the file's own name.
The file is refused and its bytes dropped; the message names the place, never the details.
Staff names belong on the Leads sheet, so a plain "Name" heading is allowed there only.
"""

from __future__ import annotations

import re
from itertools import chain
from operator import itemgetter
from typing import Iterator

from . import freetext, labels, places, places_ods, places_xls, places_xlsx
from .guard import ODS, XLS, XLSX, Screen, damaged
from .labels import normalise
from .places import FREE, HEADING, LABEL, PAIR, Place, Text
from .problems import PERSONAL_DATA
from .report import Problem
from .scan import a1
from .workbook import Grid, Workbook

# Compared with spaces removed, so "D.O.B.", "First_Name" and "date-of-birth" all match. A
# heading made of one of the PEOPLE words and one of the DETAILS ("Pupil surname", "Child's
# DOB") counts as well.
DETAILS = {
    "name", "names", "firstname", "forename", "forenames", "givenname", "middlename", "preferredname", "surname",
    "lastname", "familyname", "fullname", "legalname", "legalforename", "legalsurname", "initials",
    "upn", "uniquepupilnumber", "pupilnumber", "uln", "uniquelearnernumber", "candidatenumber",
    "admissionnumber", "admissionno", "adno", "misid", "id",
    "dateofbirth", "dob", "birthdate", "birthday", "dateofbirthdob", "born",
    "address", "homeaddress", "currentaddress", "addressline1", "postcode", "postalcode", "homepostcode",
    "livesat", "livingat", "nhsnumber", "nhsno",
}
PEOPLE = ("child", "childs", "children", "childrens", "pupil", "pupils", "student", "students", "learner",
          "learners", "youngperson", "youngpersons", "sen", "lac", "cla", "cin", "cp")
CHILD_HEADINGS = (
    {d for d in DETAILS if d not in ("id", "names")}
    | {"childsname", "studentname", "learnername", "senpupilname", "lacname"}
    | {p + d for p in PEOPLE for d in DETAILS}
    | {f"{d}of{p}" for p in PEOPLE for d in ("name", "dateofbirth", "address", "upn")}
    | {"child", "pupil", "student", "learner", "youngperson", "nameofchild", "nameofpupil"}
)
STAFF_NAME_HEADINGS = {"name"}
LEADS_KEYS = {normalise("Leads"), "lead", "leads"}
# A UPN is a check letter then 12 digits; a temporary UPN ends in a letter instead.
UPN = freetext.UPN

# Texts already found to be neither a child heading nor to hold a child's details (the template's
# labels, instructions and data-validation messages, most of all), so each return looks again
# only at text it has not seen. Bounded: emptied when full, and long texts are never kept.
_CLEAN: set[str] = set()
_CLEAN_LABELS: set[str] = set()  # names (of sheets, of ranges) found clean: read as labels, kept apart
_CLEAN_MAX, _CLEAN_LONGEST = 10_000, 500  # at most about 5 MB
_TEXT = itemgetter(2)
_SPACES = re.compile(r"\s+")


def heading_key(text: str) -> str:
    return normalise(text).replace(" ", "") if len(text) <= 60 else ""


def find_in_name(filename: str) -> Problem | None:
    """A refusal when the file's own name looks like a child's details ("Jayden S DOB 3.4.15.xlsx")."""
    if named_like_a_child(filename):
        return _refused(Place("the file's name", fix="rename the file"), _name_kind(filename))
    return None


def named_like_a_child(filename: str | None) -> bool:
    return bool(filename) and _name_kind(filename) is not None


def _name_kind(filename: str) -> str | None:
    name = _EXTENSION.sub("", filename.replace("\\", "/").rsplit("/", 1)[-1])
    return freetext.child_details(name, label=True)


_EXTENSION = re.compile(r"\.[A-Za-z]{2,5}$")


def find_child_data(book: Workbook, screen: Screen | None = None) -> Problem | None:
    """The first sign of child-level data, as a refusal; None when the file holds counts only.

    The sheets' names are read first, so that no message names a sheet whose name is itself the
    problem; then the cells; then every other place the format keeps text.
    """
    problem = _find(book, screen)
    if problem:
        forget()
    return problem


def forget() -> None:
    """Empty the loader's memories of text (the clean texts here, the labels, the places' parts)
    after a refusal, so nothing of a refused file stays in the process, clean-looking parts of it
    included."""
    _CLEAN.clear()
    _CLEAN_LABELS.clear()
    labels.forget()
    places_xlsx.forget()
    places_ods.forget()


def _find(book: Workbook, screen: Screen | None) -> Problem | None:
    texts = _texts(screen) if screen is not None else iter(())
    sheets: list[str] = []  # every sheet's name in tab order, to speak of one by number when need be
    try:
        first = None
        for text in texts:
            if text.how != places.SHEET:
                first = text
                break
            kind = _read(text)
            if kind:
                return _refused(text.where(), kind, sheets)
            sheets.append(text.text)
        problem = _find_in_cells(book, sheets or [g.name for g in book.sheets])
        if problem:
            return problem
        for text in chain([first] if first else [], texts):
            kind = _read(text)
            if kind:
                return _refused(text.where(), kind, sheets)
    except Exception:  # noqa: BLE001 - parts too broken to read for child data cannot be let in
        return damaged()
    return None


def _texts(screen: Screen) -> Iterator[Text]:
    if screen.kind == XLSX and screen.parts is not None:
        return places_xlsx.xlsx_texts(screen.parts, _CLEAN.__contains__)
    if screen.kind == ODS and screen.parts is not None:
        return places_ods.ods_texts(screen.parts)
    if screen.kind == XLS and screen.biff is not None:
        return places_xls.xls_texts(screen.biff, screen.properties)
    return iter(())


def _read(text: Text) -> str | None:
    """What the text shows of a child's details (a phrase for the message), or None."""
    how, body = text.how, text.text
    if how == FREE:
        if not body or body in _CLEAN:
            return None
        kind = freetext.child_details(body)
        if kind is None:
            _remember(body)
        return kind
    if how in (LABEL, places.SHEET):
        if not body or body in _CLEAN_LABELS:
            return None
        kind = freetext.child_details(body, label=True)
        if kind is None and len(body) <= _CLEAN_LONGEST:
            if len(_CLEAN_LABELS) >= _CLEAN_MAX:
                _CLEAN_LABELS.clear()
            _CLEAN_LABELS.add(body)
        return kind
    if how == HEADING:
        if heading_key(body) in CHILD_HEADINGS:
            return f"a field headed '{shown_heading(body)}'"
        return freetext.child_details(body) if body else None
    if how == PAIR:
        value = text.value.strip()
        key = heading_key(body)
        if value and key in CHILD_HEADINGS and key not in STAFF_NAME_HEADINGS:
            return f"it is named '{shown_heading(body)}' and holds a value"
        return (freetext.child_details(body, label=True) if body else None) or \
            (freetext.child_details(value) if value else None) or \
            (freetext.child_details(f"{body}: {value}") if body and value else None)
    return None


def _remember(text: str) -> None:
    if len(text) <= _CLEAN_LONGEST and heading_key(text) not in CHILD_HEADINGS:
        if len(_CLEAN) >= _CLEAN_MAX:
            _CLEAN.clear()
        _CLEAN.add(text)


def _find_in_cells(book: Workbook, sheets: list[str]) -> Problem | None:
    for grid in book.sheets:
        texts = grid.texts
        unseen = set(map(_TEXT, texts)) - _CLEAN
        if not unseen:
            continue
        allowed = STAFF_NAME_HEADINGS if normalise(grid.name) in LEADS_KEYS else set()
        headed, upns, details = set(), set(), {}
        for text in unseen:
            key = heading_key(text)
            if key in CHILD_HEADINGS and key not in allowed:
                headed.add(text)
            elif UPN.search(text):
                upns.add(text)
            elif key not in CHILD_HEADINGS:
                kind = freetext.child_details(text)
                if kind:
                    details[text] = kind
                else:
                    _remember(text)
        if headed:
            r, c, text = next(cell for cell in texts if cell[2] in headed)
            return _cell_refusal(grid, a1(r, c), f"is headed '{shown_heading(text)}'", sheets)
        if upns:
            r, c = next((r, c) for r, c, text in texts if text in upns)
            return _cell_refusal(grid, a1(r, c), "holds what looks like a Unique Pupil Number", sheets)
        if details:
            r, c, text = next(cell for cell in texts if cell[2] in details)
            return _cell_refusal(grid, a1(r, c), f"holds what looks like a child's details ({details[text]})",
                                 sheets, "clear that cell")
    return None


def _cell_refusal(grid: Grid, cell: str, what: str, sheets: list[str], fix: str = "remove that column") -> Problem:
    masked = _masked(grid.name, sheets)
    name = masked or grid.name
    where = f"{cell} of {masked} {what}" if masked else f"{grid.name}!{cell} {what}"
    if grid.hidden == "hidden":
        where += f"; {name} is a hidden sheet"
    elif grid.hidden == "very hidden":
        where += f"; {name} is a very hidden sheet, which Excel's Unhide does not list"
        fix = "delete that sheet (or copy the return's own sheets into a new workbook)"
    return _problem(None if masked else grid.name, None if masked else cell, where, fix)


def _masked(sheet: str | None, sheets: list[str]) -> str | None:
    """How to speak of a sheet whose name reads as a person's (a sheet made for one child, maybe):
    by its number, so the message and the record of the attempt never repeat that name."""
    if not sheet or not freetext.names_a_person(sheet):
        return None
    if sheet in sheets:
        return f"sheet {sheets.index(sheet) + 1} of {len(sheets)} (counting hidden sheets)"
    return "a sheet whose name reads as a person's"


_HINT = re.compile(r"\s*\([^()]*\)\s*$")
_FORMAT_HINT = re.compile(r"(?i)\(\s*(?:[dmy]{1,4}\s*[/.\- ]?\s*){2,3}\)")


def shown_heading(text: str) -> str:
    """A heading as a message may repeat it: a trailing "(...)" dropped, for it may hold the very
    details ("DOB (03/04/2015)"), unless it only shows a date's format ("(dd/mm/yyyy)")."""
    text = _SPACES.sub(" ", text).strip()
    while True:
        hint = _HINT.search(text)
        if not hint or _FORMAT_HINT.fullmatch(hint.group(0).strip()):
            return text
        text = text[:hint.start()]


def _refused(place: Place, kind: str, sheets: list[str] | None = None) -> Problem:
    masked = _masked(place.sheet, sheets or [])
    what = place.what
    if masked:
        what = what.replace(f"{place.sheet}!{place.cell}", f"{place.cell} of {masked}") if place.cell else what
        what = what.replace(place.sheet, masked)
        place = Place(what, None, None, place.fix)
    return _problem(place.sheet, place.cell, f"{what} looks like a child's details ({kind})", place.fix)


def _problem(sheet: str | None, cell: str | None, where: str, fix: str) -> Problem:
    return PERSONAL_DATA(
        f"This file appears to hold information about individual children: {where}. The return must hold "
        f"counts only: {fix} and upload again. The file has not been kept.", sheet=sheet, cell=cell)


def explanation_details(text: str) -> str | None:
    """What an explanation a DSL typed against a query shows of a child's details, or None."""
    return freetext.child_details(text) if text.strip() else None
