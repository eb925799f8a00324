"""The return workbook a DSL fills in: the blank template, or a filled one for the sample trust.

Everything is laid out by walking ``registry.SHEETS``, so the template can never drift from the
contract the loader checks against. Input cells are shaded, unlocked and validated; labels are
locked (no password) so a busy DSL cannot overwrite them by accident.
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from loaders import registry
from loaders.formulas import keep_text
from loaders.report import Lead

INSTRUCTIONS_TITLE = "Instructions"
HEADER_ROW = 4  # a title line and the sheet's instructions sit above the table
FIRST_ROW = HEADER_ROW + 1
LEAD_ROWS = 8
NOTES_LABEL = "Notes"
HINT_LABEL = "What due and done mean"
ABOUT_HINT_LABEL = "How to fill it in"
DATE_FORMAT = "dd/mm/yyyy"

_INPUT_FILL = PatternFill("solid", start_color="FFF4DD")
_HEADER_FILL = PatternFill("solid", start_color="DCE6F0")
_THIN = Side(style="thin", color="A6A6A6")
_INPUT_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_UNLOCKED = Protection(locked=False)
_BOLD = Font(bold=True)
_TITLE_FONT = Font(bold=True, size=14)
_NOTE_FONT = Font(italic=True, color="404040")
_WRAP = Alignment(wrap_text=True, vertical="top")
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="center")
_INSTRUCTION_WIDTH = 95

# Excel serial numbers bounding a sensible date: 01/01/2000 to 31/12/2099.
_FIRST_DATE, _LAST_DATE = "36526", "73050"

# The keyword arguments that pre-fill About, and the About row each fills.
_ABOUT_ARGS = {"urn": "urn", "school_name": "school_name", "year": "academic_year", "term": "term"}
assert set(_ABOUT_ARGS.values()) <= {r.id for r in registry.ABOUT.rows}

_ABOUT_HINTS = {
    registry.INTEGER: "Leave as it is.",
    registry.URN: "The school's 6-digit URN.",
    registry.YEAR: "For example 2025/26.",
    registry.TERM: "Pick Autumn, Spring or Summer.",
    registry.DATE: "A date, for example 14/01/2026.",
    registry.COUNT: "A whole number at term end. 0 means none; leave blank if not known.",
    registry.TEXT: "",
    registry.PHASE: "Pick from the list.",
}

INSTRUCTIONS = (
    ("What this is", "The termly safeguarding return. Once a term the designated safeguarding lead "
     "(DSL) fills in this workbook for the school and uploads it to the trust's safeguarding "
     "dashboard. The trust board reads it beside the lessons of serious case reviews, to see where "
     "practice or data may leave a gap."),
    ("Which cells", "Fill in the shaded cells only. Everything else is locked so that the labels "
     "stay as the dashboard expects them. You may widen columns and rows."),
    ("Blank or 0", "A blank cell means not known. 0 means none. Never enter 0 for a number you do "
     "not know, and never type words such as n/a or nil in a number cell: leave it blank."),
    ("What to count", "Count children, not incidents, unless the row says otherwise. A child with "
     "several concerns in one category counts once in that row."),
    ("No child's details", "Never enter a child's name, UPN or date of birth anywhere in this "
     "workbook, on any sheet. The return holds counts only. A file that holds details about "
     "individual children is refused and not kept. Staff names go on the Leads sheet only, and "
     "are optional."),
    ("Dates", "Type dates as dates, for example 14/01/2026. Leave a date blank if you do not "
     "know it."),
    ("When", "Fill it in at the end of each term (Autumn ends 31 December, Spring 31 March, "
     "Summer 31 July) and upload it within two weeks of the end of term."),
    ("How to upload", "Save the workbook as an Excel Workbook (.xlsx), not macro-enabled. Sign in "
     "to the dashboard, open Upload and choose the file. It is checked at once: errors must be "
     "fixed before it can be stored; queries let it in and ask you for a sentence of explanation. "
     "Uploading again for the same term makes a new version, and the newest counts."),
)
# What each version asks that the one before did not, for a DSL who filled in the older one.
NEW_IN_VERSION = {
    2: ("What is new", "This is version 2 of the return. It also asks for the school's phase, the "
        "children with a social worker and how many of them are persistently absent, and private "
        "fostering arrangements notified to the local authority. Allegations about staff are now "
        "those that may meet the harm threshold (for the LADO), with low-level concerns about staff "
        "on a row of their own."),
}


def write_template(target: str | BinaryIO, *, urn=None, school_name=None, year=None, term=None,
                   values: dict[str, object] | None = None, leads: list[Lead] | None = None,
                   version: int = registry.TEMPLATE_VERSION) -> None:
    """Write the return workbook to ``target`` (a path or a binary file-like).

    Without ``values`` it is the blank template (About pre-filled with whatever of URN, school
    name, year and term is given). With ``values`` (measure id -> value, None left blank) and
    ``leads`` it is a filled return, as the sample trust's are made. ``version`` is the template
    version laid out: the newest, which is what the dashboard hands out, unless an older one is
    wanted (the sample trust's earlier returns, tests that older returns still load).
    """
    book = build_workbook(urn=urn, school_name=school_name, year=year, term=term, values=values, leads=leads,
                          version=version)
    book.save(target)


def template_bytes(**kwargs) -> bytes:
    """The same workbook as ``write_template`` writes, as bytes (for a download button)."""
    buffer = BytesIO()
    write_template(buffer, **kwargs)
    return buffer.getvalue()


def build_workbook(*, urn=None, school_name=None, year=None, term=None,
                   values: dict[str, object] | None = None, leads: list[Lead] | None = None,
                   version: int = registry.TEMPLATE_VERSION) -> Workbook:
    """The workbook itself, for callers that want to change it before saving (the sample's
    deliberately broken files)."""
    if version not in registry.VERSIONS:
        raise ValueError(f"There is no template version {version}.")
    filled = dict(values or {})
    given = {"urn": urn, "school_name": school_name, "year": year, "term": term}
    for arg, row_id in _ABOUT_ARGS.items():
        if given[arg] is not None:
            filled[f"{registry.ABOUT.id}.{row_id}"] = given[arg]

    book = Workbook()
    _write_instructions(book.active, version)
    for sheet in registry.SHEETS:
        ws = book.create_sheet(sheet.title)
        if sheet.kind == "pairs":
            _write_pairs(ws, sheet, filled, version)
        elif sheet.kind == "leads":
            _write_leads(ws, sheet, leads or [])
        else:
            _write_table(ws, sheet, filled, version)
        _write_title(ws, sheet)  # after the table, to wrap its note across the table's width
        _protect(ws)
        _print_setup(ws, landscape=ws.max_column > 4)
    book.properties.creator = "Safeguarding governance dashboard"
    book.properties.title = "Termly safeguarding return"
    return book


# --- sheets -------------------------------------------------------------------------------


def _write_instructions(ws: Worksheet, version: int) -> None:
    ws.title = INSTRUCTIONS_TITLE
    ws["A1"] = "Termly safeguarding return: instructions"
    ws["A1"].font = _TITLE_FONT
    row = 3
    new = (NEW_IN_VERSION[version],) if version in NEW_IN_VERSION else ()
    for heading, text in INSTRUCTIONS + new:
        cell = ws.cell(row, 1, heading)
        cell.font, cell.alignment = _BOLD, _WRAP
        _wrapped(ws, row, 2, text, width=_INSTRUCTION_WIDTH)
        row += 1
        if heading == "Which cells":
            legend = ws.cell(row, 2, "A shaded cell like this one is for you to fill in.")
            legend.fill, legend.border = _INPUT_FILL, _INPUT_BORDER
            row += 1
    row += 1
    ws.cell(row, 1, "The sheets").font = _BOLD
    row += 1
    for sheet in registry.SHEETS:
        ws.cell(row, 1, sheet.title).alignment = _WRAP
        _wrapped(ws, row, 2, sheet.instructions, width=_INSTRUCTION_WIDTH)
        row += 1
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = _INSTRUCTION_WIDTH
    _protect(ws)
    _print_setup(ws, landscape=False)


def _write_title(ws: Worksheet, sheet: registry.Sheet) -> None:
    # The title must not read as the sheet's header label, so the loader cannot mistake it.
    ws.cell(1, 1, f"Termly safeguarding return: {sheet.title}").font = _TITLE_FONT
    note = sheet.instructions + " Fill in the shaded cells."
    if sheet.kind != "leads":
        note += " Blank means not known; 0 means none."
    # Spread over the table's width, wrapped, so it neither spills nor widens the printed page.
    width = sum(ws.column_dimensions[get_column_letter(c)].width for c in range(1, ws.max_column + 1))
    _wrapped(ws, 2, 1, note, width=width).font = _NOTE_FONT
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ws.max_column)


def _write_pairs(ws: Worksheet, sheet: registry.Sheet, filled: dict, version: int) -> None:
    _header(ws, [sheet.header, sheet.columns[0].label, ABOUT_HINT_LABEL])
    validations = _Validations(ws)
    for r, row in enumerate(sheet.rows_in(version), start=FIRST_ROW):
        ws.cell(r, 1, row.label_in(version))
        cell = ws.cell(r, 2)
        value = filled.get(f"{sheet.id}.{row.id}")
        if row.type == registry.INTEGER:
            # The template version is ours to set, not the DSL's: pre-filled and locked.
            cell.value = version if value is None else value
        else:
            _put(cell, _about_value(row.type, value), row.type)
            _mark_input(cell)
            validations.add(_kind(row), cell.coordinate)
        ws.cell(r, 3, _ABOUT_HINTS[row.type]).font = _NOTE_FONT
    _widths(ws, [_label_width(sheet, version), 22, 60])
    ws.freeze_panes = ws.cell(FIRST_ROW, 2)


def _write_table(ws: Worksheet, sheet: registry.Sheet, filled: dict, version: int) -> None:
    n = len(sheet.columns)
    hints = any(row.hint for row in sheet.rows)
    extra = [NOTES_LABEL] * sheet.notes_column + [HINT_LABEL] * hints
    _header(ws, [sheet.header, *(c.label for c in sheet.columns), *extra])
    validations = _Validations(ws)
    for r, row in enumerate(sheet.rows_in(version), start=FIRST_ROW):
        ws.cell(r, 1, row.label_in(version))
        for j, col in enumerate(sheet.columns):
            cell = ws.cell(r, 2 + j)
            _put(cell, filled.get(registry.measure_id(sheet.id, row.id, col.id)), row.type)
            _mark_input(cell)
            validations.add(_kind(row), cell.coordinate)
        if sheet.notes_column:
            _mark_input(ws.cell(r, 2 + n)).alignment = _WRAP
        if hints:
            ws.cell(r, 1 + n + len(extra), row.hint).font = _NOTE_FONT
    _widths(ws, [_label_width(sheet, version), *([15] * n), *([36] * len(extra))])
    ws.freeze_panes = ws.cell(FIRST_ROW, 2)


def _write_leads(ws: Worksheet, sheet: registry.Sheet, leads: list[Lead]) -> None:
    _header(ws, [sheet.header, *(c.label for c in sheet.columns)])
    validations = _Validations(ws)
    for i, r in enumerate(range(FIRST_ROW, FIRST_ROW + max(LEAD_ROWS, len(leads)))):
        cells = [ws.cell(r, c) for c in range(1, 5)]
        lead = leads[i] if i < len(leads) else Lead(None, None, None, None)
        types = (registry.TEXT, registry.TEXT, registry.DATE, registry.DATE)
        for cell, value, row_type in zip(cells, (lead.role, lead.name, lead.last_full_training,
                                                 lead.last_refresher), types):
            _put(cell, value, row_type)
            _mark_input(cell)
        validations.add("role", cells[0].coordinate)
        validations.add(registry.DATE, f"{cells[2].coordinate}:{cells[3].coordinate}")
    _widths(ws, [44, 30, 24, 18])
    ws.freeze_panes = ws.cell(FIRST_ROW, 1)


# --- cells --------------------------------------------------------------------------------


def _list_formula(options) -> str:
    assert all("," not in o for o in options), "a drop-down option cannot hold a comma"
    return '"' + ",".join(options) + '"'


_COUNT_HELP = ("Enter a whole number, 0 or more. Leave blank if not known; 0 means none.",
               "This cell takes a whole number, 0 or more. Words such as n/a are not allowed: leave "
               "the cell blank if the number is not known.")

# Data validation by kind of cell: type, operator, formula1, formula2, title, prompt, error.
_VALIDATIONS = {
    registry.COUNT: ("whole", "greaterThanOrEqual", "0", None, "A number", *_COUNT_HELP),
    "roll": ("whole", "greaterThanOrEqual", "1", None, "Pupils on roll",
             "Enter the number of pupils on roll at the end of the term.",
             "This cell takes a whole number of 1 or more."),
    registry.DATE: ("date", "between", _FIRST_DATE, _LAST_DATE, "A date",
                    "Enter a date, for example 14/01/2026. Leave blank if not known.",
                    "This cell takes a date, for example 14/01/2026."),
    registry.TERM: ("list", None, _list_formula(registry.TERMS), None, "Term",
                    "Pick the term this return is for.", "Pick Autumn, Spring or Summer from the list."),
    registry.PHASE: ("list", None, _list_formula(registry.PHASES), None, "Phase",
                     "Pick the school's phase.", "Pick one of the phases in the list."),
    registry.URN: ("whole", "between", "100000", "999999", "School URN",
                   "The school's 6-digit Unique Reference Number.", "A URN is a 6-digit number."),
    "role": ("list", None, _list_formula(registry.LEAD_ROLES), None, "Role",
             "Pick the person's role from the list.", "Pick one of the roles in the list."),
}


def _kind(row: registry.Row) -> str:
    return "roll" if row.required and row.type == registry.COUNT else row.type


class _Validations:
    """One data validation per kind of cell on a sheet, created when first needed."""

    def __init__(self, ws: Worksheet):
        self.ws = ws
        self.by_kind: dict[str, DataValidation] = {}

    def add(self, kind: str, cells: str) -> None:
        if kind not in _VALIDATIONS:
            return  # free text
        if kind not in self.by_kind:
            type_, operator, formula1, formula2, title, prompt, error = _VALIDATIONS[kind]
            self.by_kind[kind] = DataValidation(
                type=type_, operator=operator, formula1=formula1, formula2=formula2, allow_blank=True,
                showErrorMessage=True, showInputMessage=True, promptTitle=title, prompt=prompt,
                errorTitle=title, error=error)
            self.ws.add_data_validation(self.by_kind[kind])
        self.by_kind[kind].add(cells)


def _about_value(row_type: str, value):
    # A URN is typed as a number by DSLs; write it the same way so the validation agrees.
    if row_type == registry.URN and isinstance(value, str) and value.isdigit() and not value.startswith("0"):
        return int(value)
    return value


def _put(cell, value, row_type: str) -> None:
    if row_type == registry.DATE:
        cell.number_format = DATE_FORMAT
    elif row_type in (registry.YEAR, registry.TEXT, registry.TERM, registry.PHASE):
        cell.number_format = "@"  # "2025/26" must stay text, never become a date
    if value is None:
        return
    if isinstance(value, datetime):
        value = value.date()
    cell.value = value
    keep_text(cell)  # a school's or a lead's name is shown as typed, never run as a formula


def _wrapped(ws: Worksheet, row: int, column: int, text: str, *, width: float):
    """A wrapped cell with its row made tall enough, since openpyxl cannot measure text."""
    cell = ws.cell(row, column, text)
    cell.alignment = _WRAP
    lines = -(-len(text) // max(1, int(width * 1.1)))
    ws.row_dimensions[row].height = max(ws.row_dimensions[row].height or 15, 15 * lines)
    return cell


def _mark_input(cell):
    cell.fill, cell.border, cell.protection = _INPUT_FILL, _INPUT_BORDER, _UNLOCKED
    return cell


def _header(ws: Worksheet, labels: list[str]) -> None:
    for c, label in enumerate(labels, start=1):
        cell = ws.cell(HEADER_ROW, c, label)
        cell.font, cell.fill, cell.alignment = _BOLD, _HEADER_FILL, _HEADER_ALIGN
    ws.row_dimensions[HEADER_ROW].height = 60 if len(labels) > 5 else 30
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"


def _label_width(sheet: registry.Sheet, version: int) -> float:
    return min(64, max(len(sheet.header), *(len(r.label_in(version)) for r in sheet.rows_in(version))) + 4)


def _widths(ws: Worksheet, widths: list[float]) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _protect(ws: Worksheet) -> None:
    # Protection keeps labels safe; no password, and DSLs may still resize columns and rows.
    ws.protection.sheet, ws.protection.formatColumns, ws.protection.formatRows = True, False, False


def _print_setup(ws: Worksheet, *, landscape: bool) -> None:
    setup = ws.page_setup
    setup.orientation, setup.paperSize = ("landscape" if landscape else "portrait"), ws.PAPERSIZE_A4
    setup.fitToWidth, setup.fitToHeight = 1, 0  # one page wide, as many pages long as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True
