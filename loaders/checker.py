"""Check one termly return from its bytes: the single entry point the product and the command line use.

The stages run in order and each may stop the file: the door (guard), reading the sheets
(workbook), the child-data scan (personal), finding the tables (tables), reading each value
(values), then every check between cells (cross_checks). Problems are collected, never raised.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from . import cross_checks, guard, personal, registry, scan, tables, values, workbook
from .problems import FILE_NOT_FOUND, FILE_UNREADABLE, FORMULA_WITHOUT_VALUE, NOT_A_FILE, SHEET_MISSING, UNKNOWN_ROLE
from .registry import M
from .report import Lead, Problem, ReturnReport, labelled

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
ROLE_NAMES = {tables.normalise(role): role for role in registry.LEAD_ROLES}
ROLE_NAMES.update({
    tables.normalise(alias): role for alias, role in (
        ("DSL", registry.LEAD_ROLES[0]), ("Designated safeguarding lead (DSL)", registry.LEAD_ROLES[0]),
        ("Lead DSL", registry.LEAD_ROLES[0]), ("Designated lead", registry.LEAD_ROLES[0]),
        ("Designated safeguarding officer", registry.LEAD_ROLES[0]), ("DSO", registry.LEAD_ROLES[0]),
        ("Deputy", registry.LEAD_ROLES[1]), ("DDSL", registry.LEAD_ROLES[1]),
        ("Deputy designated safeguarding lead", registry.LEAD_ROLES[1]),
        ("Deputy safeguarding lead", registry.LEAD_ROLES[1]), ("Deputy lead", registry.LEAD_ROLES[1]),
        ("Designated teacher", registry.LEAD_ROLES[2]), ("Designated teacher for LAC", registry.LEAD_ROLES[2]),
        ("Designated teacher for CLA", registry.LEAD_ROLES[2]),
        ("Designated teacher for looked after children and previously looked after children",
         registry.LEAD_ROLES[2]),
        ("Designated teacher for children looked after", registry.LEAD_ROLES[2]),
    )
})


def check_return(data: bytes, filename: str, *, previous: dict[str, object] | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> ReturnReport:
    """Every problem in one return, the values read (every measure id) and the leads named."""
    report = ReturnReport(file=filename, sha256=hashlib.sha256(data).hexdigest())
    problem = personal.find_in_name(filename)
    if problem:  # whatever the file is, a child's details in its name are not kept either
        report.keep_bytes = False
        return _refuse(report, problem)
    screened = guard.screen(data, max_bytes)
    if screened.problem:
        return _refuse(report, screened.problem)
    book, problem = workbook.read_workbook(data, screened)
    if problem:
        return _refuse(report, problem)
    problem = personal.find_child_data(book, screened)
    if problem:
        report.keep_bytes = False
        return _refuse(report, problem)

    found = tables.locate(book)
    version = _version(found)
    found.asked_in(version)
    places = cross_checks.Places(found)
    problems = list(found.problems)
    problems += _missing_sheets(found)
    read, unreadable, value_problems = _read_values(found, book.flagged, version, places)
    problems += value_problems
    leads, lead_problems = _read_leads(found, book.flagged)
    problems += lead_problems
    problems += cross_checks.check_required(read, places, unreadable)
    problems += cross_checks.check_rules(read, places)
    problems += cross_checks.check_shape(read, places, unreadable)
    problems += cross_checks.check_roll(read, places)
    problems += cross_checks.check_growth(read, places, previous)
    problems += cross_checks.check_no_concerns(read, places)
    problems += cross_checks.check_leads(leads, places)
    problems += cross_checks.check_designated_teacher(leads, read, places)
    problems += cross_checks.check_dates(read, places)
    report.values, report.leads, report.problems, report.version = read, leads, problems, version
    return report


def check_file(path, *, previous: dict[str, object] | None = None,
               max_bytes: int = DEFAULT_MAX_BYTES) -> ReturnReport:
    """Read a file from disk (never more than max_bytes of it) and check it."""
    data, report = read_file(path, max_bytes=max_bytes)
    return report if data is None else check_return(data, report.file, previous=previous, max_bytes=max_bytes)


def read_file(path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[bytes | None, ReturnReport]:
    """A return file's bytes from disk, its size checked before any is read, and a report named
    after the file; or None and the report refusing it in words (no such file, a folder, too
    large, unreadable). What the command line's check and import both read files with."""
    path = Path(path)
    report = ReturnReport(file=path.name)
    try:
        size = os.stat(path).st_size
        if path.is_dir():
            return None, _refuse(report, NOT_A_FILE(f"{path} is a folder, not a file. Name the return files themselves."))
        if not path.is_file():
            return None, _refuse(report, NOT_A_FILE(f"{path} is not a file. Name the return files themselves."))
        if size > max_bytes:
            report.sha256 = _digest(path)
            return None, _refuse(report, guard.too_large(size, max_bytes))
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        return None, _refuse(report, FILE_NOT_FOUND(f"There is no file at {path}. Check the name and the folder."))
    except OSError as exc:
        return None, _refuse(report, FILE_UNREADABLE(
            f"{path} could not be opened ({exc.strerror or exc}). Check it is not open elsewhere."))
    return data, report


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _refuse(report: ReturnReport, problem: Problem) -> ReturnReport:
    report.refused = True
    report.problems = [problem]
    return report


def _missing_sheets(found: tables.Located) -> list[Problem]:
    return [SHEET_MISSING(f"The sheet '{spec.title}' is missing. Add it back (a new template has it) and fill it "
                          "in, then upload again.", sheet=spec.title)
            for spec in registry.SHEETS if found.sheets.get(spec.id) is None]


def _flag(cell: tables.Cell, flagged: dict, label: str) -> Problem | None:
    """The error for a cell calamine read as blank but the file shows as a formula or an Excel error."""
    mark = flagged.get(cell.sheet, {}).get((cell.row, cell.col))
    if mark is None:
        return None
    if mark == scan.UNSAVED:
        return FORMULA_WITHOUT_VALUE.at(label, cell.sheet, cell.ref,
                                        "the cell holds a formula with no saved value. Open and save the file in "
                                        "Excel (or LibreOffice), then upload again.")
    bad = values.EXCEL_ERROR
    return bad.kind.at(label, cell.sheet, cell.ref, f"the cell holds {mark}. {bad.advice}")


_READERS = {v: tuple((m.id, values.READERS[m.type]) for m in asked) for v, asked in registry.ASKED.items()}
_VERSION = M.ABOUT_TEMPLATE_VERSION
_LATER = tuple(m.id for m in registry.MEASURES if m.since > registry.VERSIONS[0])


def _version(found: tables.Located) -> int:
    """The template version the file says it is; when it cannot say (blank, missing, or a number
    the contract does not know, each an error of its own), the first version unless the file
    holds a later version's rows, so the other problems listed are the ones its layout has."""
    cell = found.cells.get(_VERSION)
    said = values.read_integer(cell.value) if cell is not None else None
    if isinstance(said, int):
        return said
    later = [registry.MEASURES_BY_ID[mid].since for mid in _LATER if mid in found.cells]
    return max(later, default=registry.VERSIONS[0])


def _read_values(found: tables.Located, flagged: dict, version: int,
                 places: cross_checks.Places) -> tuple[dict, set[str], list[Problem]]:
    """Every measure id the version asks -> its value (None when blank or missing); the ids whose
    cells were unusable. A measure the version does not ask has no value at all: not asked."""
    read: dict[str, object] = {}
    unreadable: set[str] = set()
    problems: list[Problem] = []
    cells, bad = found.cells, values.Bad
    for mid, reader in _READERS[version]:
        cell = cells.get(mid)
        if cell is None:
            read[mid] = None
            continue
        problem = _flag(cell, flagged, places.label(mid)) if flagged else None
        if problem is None:
            result = reader(cell.value)
            if not isinstance(result, bad):
                read[mid] = result
                continue
            problem = _bad_value(cell, result, places.label(mid))
        problems.append(problem)
        unreadable.add(mid)
        read[mid] = None
    return read, unreadable, problems


def _bad_value(cell: tables.Cell, bad: values.Bad, label: str) -> Problem:
    return bad.kind.at(label, cell.sheet, cell.ref,
                       f"the cell holds {values.describe(cell.value)}. {bad.advice}")


def _read_leads(found: tables.Located, flagged: dict) -> tuple[list[Lead], list[Problem]]:
    leads, problems = [], []
    allowed = ", ".join(registry.LEAD_ROLES)
    for row in found.leads:
        role_cell = row["role"]
        blank = values.is_blank(role_cell.value)
        role = ROLE_NAMES.get(tables.normalise(role_cell.value)) if not blank else None
        label = _lead_label(role, role_cell.value)
        if role is None:
            what = ("the role is blank, though the rest of the row is filled in" if blank
                    else "not a role the return knows")
            problems.append(UNKNOWN_ROLE.at(label, role_cell.sheet, role_cell.ref,
                                            f"{what}. The role must be one of: {allowed}."))
        dates = {}
        for key in ("last_full_training", "last_refresher"):
            cell = row.get(key)
            cell_label = labelled(label, _LEAD_COLUMNS[key])
            problem = _flag(cell, flagged, cell_label) if cell else None
            result = values.read_date(cell.value) if cell and not problem else None
            if isinstance(result, values.Bad):
                problem, result = _bad_value(cell, result, cell_label), None
            if problem:
                problems.append(problem)
            dates[key] = result
        if role is not None:
            name = values.read_text(row["name"].value) if "name" in row else None
            leads.append(Lead(role, name, dates["last_full_training"], dates["last_refresher"]))
    return leads, problems


_LEAD_COLUMNS = {c.id: c.label for c in registry.LEADS.columns}
_ROLE_HEADING = registry.LEADS.header


def _lead_label(role: str | None, typed) -> str:
    """A row of Leads by its label, the role: as the template names it when it is one the return
    knows, else as typed (cut short), else, with the role blank, by its column's heading."""
    if role is not None:
        return role
    if values.is_blank(typed):
        return _ROLE_HEADING
    text = values.read_text(typed)
    return f"{text[:60]}…" if len(text) > 60 else text
