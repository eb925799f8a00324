"""Returns broken on purpose, each named by what the dashboard does with it.

Each is a good sample return changed in one way with openpyxl (or, for the files that are not
workbooks at all, at the byte level). ``CASES`` says, as data, what each file must produce, so the
tests and the README speak of the same files.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Callable

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from loaders import problems, registry
from loaders.template import FIRST_ROW, build_workbook


@dataclass(frozen=True)
class Case:
    filename: str
    outcome: str  # "refused", "error" or "query"
    sheet: str | None  # the sheet title the problem points at (None: the whole file)
    measure: str | None  # the cell it points at, as a measure id, when there is one
    code: str | None  # the problem code, where the contract fixes it (the cross-cell rules)
    change: str  # what was done to the good return


def position(measure_id: str) -> tuple[str, int, int]:
    """(sheet title, row, column) of a measure in a workbook laid out by loaders.template."""
    m = registry.MEASURES_BY_ID[measure_id]
    sheet = registry.SHEETS_BY_ID[m.sheet]
    row = FIRST_ROW + [r.id for r in sheet.rows].index(m.row)
    column = 2 if m.column is None else 2 + [c.id for c in sheet.columns].index(m.column)
    return sheet.title, row, column


def cell_of_measure(measure_id: str) -> str:
    """The A1 address of a measure's cell, e.g. ``B5``."""
    _, row, column = position(measure_id)
    return f"{get_column_letter(column)}{row}"


def cell_of(book: Workbook, measure_id: str):
    title, row, column = position(measure_id)
    return book[title].cell(row, column)


def _words(book, values):
    cell_of(book, "referrals.neglect.concerns").value = "five"


def _missing_sheet(book, values):
    del book[registry.NEGLECT.title]


def _in_date_above_scope(book, values):
    cell_of(book, "training.whole_staff.in_date").value = values["training.whole_staff.in_scope"] + 2


def _neglect_above_flags(book, values):
    cell_of(book, "neglect.chronology_reviewed").value = values["neglect.active_flags"] + 3


def _not_accepted_above_referred(book, values):
    routes = sum(values[f"referrals.domestic_abuse.{r}"] for r in registry.REFERRAL_ROUTES)
    cell_of(book, "referrals.domestic_abuse.not_accepted").value = routes + 1


def _severe_above_persistent(book, values):
    cell_of(book, "inclusion.severely_absent").value = values["inclusion.persistently_absent"] + 5


def _done_above_due(book, values):
    cell_of(book, "multi_agency.cp_conferences.done").value = values["multi_agency.cp_conferences.due"] + 2


def _negative(book, values):
    cell_of(book, "inclusion.suspended").value = -3


def _wrong_version(book, values):
    cell_of(book, "about.template_version").value = registry.TEMPLATE_VERSION + 1


def _no_urn(book, values):
    cell_of(book, "about.urn").value = None


def _formula(book, values):
    # openpyxl saves a formula with no cached value, as a file never opened in Excel would be.
    cell = cell_of(book, "inclusion.suspended")
    above = cell_of(book, "inclusion.severely_absent").coordinate
    cell.value = f"={above}*2"


def _child_names(book, values):
    # A pupil list pasted into a hidden sheet: made-up, but shaped like the real thing.
    ws = book.create_sheet("Pupil list")
    ws.sheet_state = "hidden"
    ws.append(["Pupil name", "UPN", "Date of birth", "Concern"])
    ws.append(["Test Child A", "X000000000001", "01/09/2015", "Neglect"])
    ws.append(["Test Child B", "X000000000002", "14/03/2016", "Online harm"])


def _blank_row_no_dsl(book, values):
    # Valid, but a row left wholly blank and no designated safeguarding lead named: queries.
    cell_of(book, "inclusion.part_time_timetable").value = None
    ws = book[registry.LEADS.title]
    for r in range(FIRST_ROW, ws.max_row + 1):
        if ws.cell(r, 1).value == registry.DSL_ROLE:
            ws.cell(r, 1).value = registry.LEAD_ROLES[1]


_MUTATIONS: dict[str, Callable] = {
    "invalid_count_in_words.xlsx": _words,
    "invalid_missing_sheet.xlsx": _missing_sheet,
    "invalid_in_date_above_scope.xlsx": _in_date_above_scope,
    "invalid_neglect_above_active_flags.xlsx": _neglect_above_flags,
    "invalid_not_accepted_above_referred.xlsx": _not_accepted_above_referred,
    "invalid_severe_above_persistent.xlsx": _severe_above_persistent,
    "invalid_done_above_due.xlsx": _done_above_due,
    "invalid_negative_count.xlsx": _negative,
    "invalid_wrong_template_version.xlsx": _wrong_version,
    "invalid_missing_urn.xlsx": _no_urn,
    "invalid_formula_without_value.xlsx": _formula,
    "invalid_child_names.xlsx": _child_names,
    "queries_blank_row_no_dsl.xlsx": _blank_row_no_dsl,
}

CASES: tuple[Case, ...] = (
    Case("invalid_count_in_words.xlsx", "error", "Referrals", "referrals.neglect.concerns", None,
         'Neglect concerns written as the word "five".'),
    Case("invalid_missing_sheet.xlsx", "error", "Neglect", None, None, "The Neglect sheet deleted."),
    Case("invalid_in_date_above_scope.xlsx", "error", "Training", "training.whole_staff.in_date",
         problems.TRAINING_IN_DATE_ABOVE_SCOPE.code, "All-staff training: staff in date two more than staff in scope."),
    Case("invalid_neglect_above_active_flags.xlsx", "error", "Neglect", "neglect.chronology_reviewed",
         problems.NEGLECT_ABOVE_ACTIVE_FLAGS.code, "Chronologies reviewed three more than the children flagged."),
    Case("invalid_not_accepted_above_referred.xlsx", "error", "Referrals",
         "referrals.domestic_abuse.not_accepted", problems.REFERRALS_NOT_ACCEPTED_ABOVE_REFERRED.code,
         "Domestic abuse: referrals not accepted one more than the referrals made."),
    Case("invalid_severe_above_persistent.xlsx", "error", "Inclusion", "inclusion.severely_absent",
         problems.INCLUSION_SEVERE_ABOVE_PERSISTENT.code, "Severely absent five more than persistently absent."),
    Case("invalid_done_above_due.xlsx", "error", "Multi-agency", "multi_agency.cp_conferences.done",
         problems.MULTI_AGENCY_DONE_ABOVE_DUE.code, "Child protection conferences: attended two more than invited."),
    Case("invalid_negative_count.xlsx", "error", "Inclusion", "inclusion.suspended", None,
         "Pupils suspended entered as -3."),
    Case("invalid_wrong_template_version.xlsx", "error", "About", "about.template_version", None,
         f"Template version changed to {registry.TEMPLATE_VERSION + 1}, a version there is not."),
    Case("invalid_missing_urn.xlsx", "error", "About", "about.urn", None, "School URN left blank."),
    Case("invalid_formula_without_value.xlsx", "error", "Inclusion", "inclusion.suspended", None,
         "Pupils suspended holds a formula that was never calculated (no saved value)."),
    Case("invalid_child_names.xlsx", "refused", None, None, None,
         "A hidden sheet listing made-up pupils by name, UPN and date of birth."),
    Case("invalid_not_a_spreadsheet.xlsx", "refused", None, None, None,
         "A CSV file renamed to .xlsx."),
    Case("invalid_macro_enabled.xlsm", "refused", None, None, None,
         "A good return carrying a VBA project (a macro-enabled workbook)."),
    Case("queries_blank_row_no_dsl.xlsx", "query", "Inclusion", "inclusion.part_time_timetable", None,
         "Part-time timetables left blank, and no designated safeguarding lead on Leads "
         "(the DSL's row relabelled as a deputy). Valid: it is stored with two queries."),
)


def write_invalid(folder: Path, base, finish: Callable[[bytes], bytes] = lambda data: data) -> list[Path]:
    """Write every case of ``CASES`` into ``folder``, each made from the good return ``base``
    (a generate.PlannedReturn); ``finish`` gets each workbook's bytes before they are written."""
    paths = []
    for case in CASES:
        path = folder / case.filename
        if case.filename in _MUTATIONS:
            book = build_workbook(values=base.values, leads=list(base.leads), version=base.values["about.template_version"])
            _MUTATIONS[case.filename](book, base.values)
            path.write_bytes(finish(_saved(book)))
        elif case.filename == "invalid_not_a_spreadsheet.xlsx":
            path.write_bytes(_as_csv(base.values))
        elif case.filename == "invalid_macro_enabled.xlsm":
            path.write_bytes(finish(_with_macros(base)))
        paths.append(path)
    return paths


def _saved(book: Workbook) -> bytes:
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _as_csv(values: dict[str, object]) -> bytes:
    lines = ["measure,value"] + [f"{k},{'' if v is None else v}" for k, v in values.items()]
    return ("\n".join(lines) + "\n").encode()


def _with_macros(base) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(_saved(build_workbook(values=base.values, leads=list(base.leads), version=base.values["about.template_version"])))) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        # Not real VBA: enough for a guard that looks for the part, and harmless to anything else.
        dst.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    return out.getvalue()

