"""What a problem is, and the catalogue of every kind of problem a check or an import can report.

A problem is data, never an exception: a short stable code (what the database, the command line's
JSON and the tests use), a severity (``error`` blocks the return, ``query`` lets it in and asks the
DSL to explain), the sheet and cell it points at, and a plain-English message that says what was
found there and what to do. The catalogue gives each code its severity, a title and what to do
about it in general; the About the data page prints it. Every problem the loaders and the store
report is made from an entry here (``NO_DSL(message, sheet=...)``, ``BAD_DATE.at(label, sheet,
cell, what)``), so no code is spelt at the place that reports it, and ``kind(code)`` raises on a
code the catalogue lacks.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
QUERY = "query"


@dataclass(frozen=True)
class Problem:
    code: str
    severity: str
    sheet: str | None  # the sheet's title as the DSL sees it, e.g. "Referrals"
    cell: str | None  # A1 form, e.g. "C7"
    message: str

    @property
    def key(self) -> str:
        """A stable name for this problem within one return, e.g. ``row_blank:Inclusion!B9``.

        Explanations typed against a query are stored under this key.
        """
        return f"{self.code}:{self.where}"

    @property
    def where(self) -> str:
        """``Referrals!C7``, ``Referrals``, or ``the file``."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or "the file"

    def as_dict(self) -> dict:
        return {"code": self.code, "sheet": self.sheet, "cell": self.cell, "message": self.message}


def named(label: str, sheet: str, cell: str | None, to: str | None = None) -> str:
    """A cell (or a row of cells) as every problem names it: "Neglect, referred to police (Referrals, E5)";
    a row with no cell in the file by its sheet alone."""
    if cell is None:
        return f"{label} ({sheet})"
    span = f"{cell} to {to}" if to and to != cell else cell
    return f"{label} ({sheet}, {span})"


AGAIN = "If it is a real return, save it as .xlsx from Excel or LibreOffice and upload that."
COUNT_TODO = "Enter a whole number, 0 if there were none, or leave the cell blank if the number is not known."


@dataclass(frozen=True)
class Kind:
    """A kind of problem: its code, severity, title and what to do."""

    code: str
    severity: str
    title: str
    todo: str

    def __call__(self, message: str, *, sheet: str | None = None, cell: str | None = None) -> Problem:
        """A problem of this kind about the whole file, a sheet, or one cell, in the words given."""
        return Problem(self.code, self.severity, sheet, cell, message)

    def at(self, label: str, sheet: str, cell: str | None, what: str, *, to: str | None = None) -> Problem:
        """A problem about one cell (or a row of cells, ``cell`` to ``to``), worded the one way every
        such problem is: the row's label as the DSL sees it in the template (with its column on a
        table), then the sheet and cell, then what is wrong and what to do:
        "Child protection conferences, done (Multi-agency, C5): Done (3) is more than due (1). ..."."""
        return Problem(self.code, self.severity, sheet, cell, f"{named(label, sheet, cell, to)}: {what}")


# ----------------------------------------------------------------------------- the file as a whole
# Each of these turns the file away before its cells are read.

NOT_A_FILE = Kind("not_a_file", ERROR, "Not a file", "Name the return's file itself, not a folder.")
FILE_NOT_FOUND = Kind("file_not_found", ERROR, "No such file", "Check the file's name and folder, then try again.")
FILE_UNREADABLE = Kind("file_unreadable", ERROR, "The file could not be opened",
                       "Check the file is not open in another program and that you may read it, then try again.")
FILE_TOO_LARGE = Kind("file_too_large", ERROR, "The file is too large",
                      "Check it is the return (not a report or a photo), delete pictures and extra sheets, and "
                      "upload again.")
NOT_A_SPREADSHEET = Kind("not_a_spreadsheet", ERROR, "Not a spreadsheet",
                         "Save the return as .xlsx from Excel or LibreOffice and upload that.")
UNSUPPORTED_FORMAT = Kind("unsupported_format", ERROR, "A spreadsheet format the dashboard does not read",
                          "Save it as .xlsx (Excel Workbook) and upload that.")
DAMAGED = Kind("damaged", ERROR, "The file is damaged or incomplete",
               "Open it in Excel or LibreOffice, save it again as .xlsx and upload that.")
PASSWORD_PROTECTED = Kind("password_protected", ERROR, "The file is password-protected",
                          "Remove the password (File > Info > Protect Workbook) and upload again.")
MACRO_ENABLED = Kind("macro_enabled", ERROR, "The file carries macros",
                     "Save it as .xlsx (Excel Workbook) and upload that: files carrying macros are never opened.")
TOO_MANY_PARTS = Kind("too_many_parts", ERROR, "Far more parts than a spreadsheet holds", AGAIN)
ZIP_BOMB = Kind("zip_bomb", ERROR, "The file expands far beyond its size", AGAIN)
OVERLAPPING_PARTS = Kind("overlapping_parts", ERROR, "Parts stored on top of one another", AGAIN)
TOO_MUCH_TEXT = Kind("too_much_text", ERROR, "Far more text than a return holds", AGAIN)
SHEET_TOO_LARGE = Kind("sheet_too_large", ERROR, "A sheet far larger than a return fills",
                       "Delete the unused rows and columns (or the extra sheet), save, and upload again.")
UNREADABLE = Kind("unreadable", ERROR, "The file could not be read as a spreadsheet",
                  "Open it in Excel or LibreOffice, save it again as .xlsx and upload that.")
PERSONAL_DATA = Kind("personal_data", ERROR, "The file holds a child's details",
                     "Remove every child's name, UPN, date of birth and address: the return holds counts only. "
                     "The file is not kept.")

# ----------------------------------------------------------------------------- sheets, rows, columns

SHEET_MISSING = Kind("sheet_missing", ERROR, "A sheet is missing",
                     "Add the sheet back (a new template has it), fill it in and upload again.")
SHEET_TWICE = Kind("sheet_twice", ERROR, "Two sheets look like the same sheet of the return",
                   "Delete the one you do not mean, then upload again.")
SHEET_UNRECOGNISED = Kind("sheet_unrecognised", ERROR, "A sheet holds none of the return's rows",
                          "Copy the figures into the same sheet of a new template, then upload again.")
COLUMN_MISSING = Kind("column_missing", ERROR, "A column's heading is missing",
                      "Put the heading back above its numbers (a new template shows where), then upload again.")
LEADS_HEADING_MISSING = Kind("leads_heading_missing", ERROR, "The Leads sheet has no Role heading",
                             "Keep the headings Role, Name, Last full DSL training and Last refresher above the "
                             "list of leads.")
ROW_TWICE = Kind("row_twice", ERROR, "A row appears twice", "Delete one of the two rows, then upload again.")
REQUIRED_MISSING = Kind("required_missing", ERROR, "A field the return cannot be filed without is blank",
                        "Fill in the template version, school URN, school name, academic year, term and pupils "
                        "on roll.")
ROLL_ZERO = Kind("roll_zero", ERROR, "No pupils on roll", "Enter the number of pupils on roll at the end of the term.")

# ----------------------------------------------------------------------------- one cell's value

NOT_A_NUMBER = Kind("not_a_number", ERROR, "A count that is not a number", COUNT_TODO)
NEGATIVE = Kind("negative", ERROR, "A negative count", COUNT_TODO)
NOT_WHOLE = Kind("not_whole", ERROR, "A count that is not a whole number", COUNT_TODO)
DATE_IN_COUNT = Kind("date_in_count", ERROR, "A date or time in a count's cell", COUNT_TODO)
EXCEL_ERROR = Kind("excel_error", ERROR, "A spreadsheet error (#DIV/0!, #REF! ...) in a cell",
                   "Replace it with the number, or leave the cell blank if it is not known.")
FORMULA_WITHOUT_VALUE = Kind("formula_without_value", ERROR, "A formula with no saved value",
                             "Open and save the file in Excel or LibreOffice, then upload again.")
WRONG_TEMPLATE_VERSION = Kind("wrong_template_version", ERROR, "A template version the dashboard does not know",
                              "Download a new template and copy your figures into it.")
BAD_URN = Kind("bad_urn", ERROR, "Not a URN", "Enter the school's 6-digit Unique Reference Number, e.g. 123456.")
BAD_YEAR = Kind("bad_year", ERROR, "Not an academic year", "Write the academic year as 2025/26.")
BAD_TERM = Kind("bad_term", ERROR, "Not a term", "Enter the term as Autumn, Spring or Summer.")
BAD_PHASE = Kind("bad_phase", ERROR, "Not a phase",
                 "Pick the phase from the list, or leave it blank if you are not sure.")
BAD_DATE = Kind("bad_date", ERROR, "Not a date", "Enter a date such as 20/03/2026, or leave it blank if not known.")
UNKNOWN_ROLE = Kind("unknown_role", ERROR, "A role on Leads the return does not know",
                    "Pick the role from the list: Designated safeguarding lead, Deputy DSL, or Designated teacher "
                    "for looked-after children.")

# ----------------------------------------------------------------------------- the rules between cells

TRAINING_IN_DATE_ABOVE_SCOPE = Kind("training_in_date_above_scope", ERROR, "More staff in date than in scope",
                                    "Check both numbers: staff in date can be at most the staff the course applies to.")
NEGLECT_ABOVE_ACTIVE_FLAGS = Kind("neglect_above_active_flags", ERROR,
                                  "A count of flagged children above the children flagged",
                                  "Check the row and the active flags: the row counts flagged children, so it can "
                                  "be at most the number flagged.")
REFERRALS_NOT_ACCEPTED_ABOVE_REFERRED = Kind("referrals_not_accepted_above_referred", ERROR,
                                             "More referrals not accepted than made",
                                             "Check the referral columns for the category.")
INCLUSION_SEVERE_ABOVE_PERSISTENT = Kind("inclusion_severe_above_persistent", ERROR,
                                         "More pupils severely absent than persistently absent",
                                         "Count every severely absent pupil as persistently absent too.")
INCLUSION_SW_ABSENT_ABOVE_SOCIAL_WORKER = Kind("inclusion_sw_absent_above_social_worker", ERROR,
                                               "More children with a social worker absent than have one",
                                               "Check this count and the children with a social worker on About.")
MULTI_AGENCY_DONE_ABOVE_DUE = Kind("multi_agency_done_above_due", ERROR, "More done than due",
                                   "Check both numbers: done can be at most the number due.")

# ----------------------------------------------------------------------------- queries: filed, and explained

ROW_MISSING = Kind("row_missing", QUERY, "Rows missing from a sheet",
                   "Add the rows back (a new template has them) if you have the figures.")
ROW_BLANK = Kind("row_blank", QUERY, "A row left blank",
                 "Enter 0 where there were none; leave a cell blank only if the figure is not known.")
COUNT_ABOVE_ROLL = Kind("count_above_roll", QUERY, "A count above the pupils on roll",
                        "Check the number; if it is right, explain why.")
MORE_THAN_THREE_TIMES_LAST_TERM = Kind("more_than_three_times_last_term", QUERY,
                                       "More than three times last term's count",
                                       "Check the number; if it is right, explain why.")
NO_CONCERNS = Kind("no_concerns", QUERY, "A large school recorded no concerns",
                   "Check the Referrals sheet; if it is right, explain it.")
NO_DSL = Kind("no_dsl", QUERY, "No designated safeguarding lead named",
              "Add a row with the role 'Designated safeguarding lead' (the name is optional).")
NO_DESIGNATED_TEACHER = Kind("no_designated_teacher", QUERY, "Looked-after children and no designated teacher",
                             "Add a row on Leads with the role 'Designated teacher for looked-after children'.")
DATE_AFTER_COMPLETED = Kind("date_after_completed", QUERY, "A date after the return was completed",
                            "Check the date.")
COMPLETED_BEFORE_TERM = Kind("completed_before_term", QUERY, "Completed before the term began",
                             "Check the date completed and the term.")

# ----------------------------------------------------------------------------- storing

NOT_STORED = Kind("not_stored", ERROR, "The return passed its checks but was not stored",
                  "Nothing was saved: upload it again, and if it happens again tell the trust's data lead.")

CATALOGUE: tuple[Kind, ...] = tuple(v for v in dict(globals()).values() if isinstance(v, Kind))
BY_CODE: dict[str, Kind] = {k.code: k for k in CATALOGUE}
if len(BY_CODE) != len(CATALOGUE):
    raise ValueError("two kinds of problem share a code")


def kind(code: str) -> Kind:
    """The catalogue's entry for a code; KeyError for a code it does not list."""
    return BY_CODE[code]
