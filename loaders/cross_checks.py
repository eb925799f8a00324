"""The checks between cells, once every value has been read: each returns all its problems.

Errors (the return cannot be filed): a required About field missing, pupils on roll of 0, a
broken rule from the registry. Queries (filed, and the DSL is asked to explain): a row missing
or left blank, a count above the pupils on roll, a count more than three times last term's, a
large school recording no concerns, no designated safeguarding lead, looked-after children with
no designated teacher, dates that do not fit the term. A rule or query whose inputs are blank is
skipped: blank is not zero. A measure the return's template version does not ask has no value
and no cell, so nothing here asks about it.
"""

from __future__ import annotations

from datetime import date
from numbers import Number

from . import registry
from .problems import (
    COMPLETED_BEFORE_TERM,
    COUNT_ABOVE_ROLL,
    DATE_AFTER_COMPLETED,
    MORE_THAN_THREE_TIMES_LAST_TERM,
    NO_CONCERNS,
    NO_DESIGNATED_TEACHER,
    NO_DSL,
    REQUIRED_MISSING,
    ROLL_ZERO,
    ROW_BLANK,
    ROW_MISSING,
    Kind,
    named,
)
from .registry import M
from .report import Lead, Problem, labelled
from .tables import Located
from .values import describe

REQUIRED_ADVICE = {
    "template_version": f"Enter {registry.TEMPLATE_VERSION} on the current template (1 on an older one), "
                        "or download a new template.",
    "urn": "Enter the school's 6-digit URN (Unique Reference Number).",
    "school_name": "Enter the school's name.",
    "academic_year": "Enter the academic year, e.g. 2025/26.",
    "term": "Enter the term: Autumn, Spring or Summer.",
    "pupils_on_roll": "Enter the number of pupils on roll at the end of the term.",
}
BLANK_ADVICE = {
    registry.COUNT: "If none, enter 0; leave blank only if not known.",
    registry.DATE: "Enter the date; leave blank only if not known.",
    registry.TEXT: "Fill it in if you can.",
    registry.PHASE: "Pick the school's phase from the list; leave it blank only if you are not sure.",
}
GROWTH_FACTOR = 3
GROWTH_AT_LEAST = 5  # a count must also have grown by this many to be queried
NO_CONCERNS_ROLL = 200
# The first day of each term, for "completed before the term began" (Summer after Easter at the earliest).
TERM_START = {"Autumn": (0, 9, 1), "Spring": (1, 1, 1), "Summer": (1, 4, 1)}
ROLL = M.ABOUT_PUPILS_ON_ROLL
LOOKED_AFTER = M.ABOUT_LOOKED_AFTER
# Drawn from the contract once: the measures each check walks.
_REQUIRED = tuple(m for m in registry.MEASURES if m.required)
_ROLL_COMPARED = tuple(mid for mid in registry.COUNT_IDS
                       if mid != ROLL and registry.MEASURES_BY_ID[mid].sheet != "training")
_CONCERNS = tuple(f"referrals.{row.id}.concerns" for row in registry.REFERRALS.rows)
_CONCERNS_HEADING = next(c.label for c in registry.REFERRALS.columns if c.id == "concerns")


def _optional_rows() -> tuple[tuple[tuple[registry.Measure, str], ...], ...]:
    """Each row's measures (with their ids) in the contract's order, required rows left out."""
    rows: dict[tuple[str, str], list[registry.Measure]] = {}
    for m in registry.MEASURES:
        rows.setdefault((m.sheet, m.row), []).append(m)
    return tuple(tuple((m, m.id) for m in ms) for ms in rows.values() if not any(m.required for m in ms))


_OPTIONAL_ROWS = _optional_rows()


class Places:
    """Where each measure sits in the file, for pointing problems at the right cell."""

    def __init__(self, found: Located):
        self.found = found

    def of(self, measure_id: str) -> tuple[str, str | None]:
        cell = self.found.cells.get(measure_id)
        if cell is not None:
            return cell.sheet, cell.ref
        return self.found.title(registry.MEASURES_BY_ID[measure_id].sheet), None

    def problem(self, kind: Kind, measure_id: str, what: str, *, to: str | None = None) -> Problem:
        """The problem with a measure's cell (through the cell of ``to``, another measure of its
        row), worded as every cell's problem is (problems.Kind.at)."""
        sheet, ref = self.of(measure_id)
        last = self.of(to)[1] if to else None
        return kind.at(self.label(measure_id), sheet, ref, what, to=last)

    def label(self, measure_id: str) -> str:
        """The row's label as the return's template version prints it; on a table, the column
        too: "Prevent duty, staff in date"."""
        m = registry.MEASURES_BY_ID[measure_id]
        label = registry.label_of(measure_id, self.found.version)
        if not m.column:
            return label
        return labelled(label, next(c.label for c in registry.SHEETS_BY_ID[m.sheet].columns if c.id == m.column))

    def name(self, measure_id: str) -> str:
        """The measure as its problems name it: "Prevent duty, staff in date (Training, C9)"."""
        return named(self.label(measure_id), *self.of(measure_id))

    def at(self, measure_id: str) -> str:
        """Only where it is: "About at B21"."""
        sheet, ref = self.of(measure_id)
        return f"{sheet} at {ref}" if ref else sheet


def check_required(values: dict, places: Places, unreadable: set[str]) -> list[Problem]:
    out = []
    absent = {s for s, name in places.found.sheets.items() if name is None} | places.found.unrecognised
    for m in _REQUIRED:
        if values.get(m.id) is not None or m.id in unreadable or m.sheet in absent:
            continue  # (a missing sheet is one error of its own, not one per field)
        if m.id in places.found.cells:
            out.append(places.problem(REQUIRED_MISSING, m.id, f"the cell is blank. {REQUIRED_ADVICE[m.row]}"))
        else:
            title = places.found.title(m.sheet)
            out.append(REQUIRED_MISSING(f"{title} has no row for '{m.label}'. {REQUIRED_ADVICE[m.row]}", sheet=title))
    if values.get(ROLL) == 0:
        out.append(places.problem(ROLL_ZERO, ROLL, "the cell holds 0. Enter the number of pupils on roll at the end "
                                  "of the term."))
    return out


def check_rules(values: dict, places: Places) -> list[Problem]:
    out = []
    get = values.get
    for rule in registry.RULES:
        left = get(rule.left)
        if left is None:
            continue
        parts = [get(i) for i in rule.right]
        if None in parts:
            continue
        right = sum(parts)
        if left > right:
            message = rule.message.format(left=left, right=right,
                                          right_at=", ".join(places.at(i) for i in rule.right))
            out.append(places.problem(rule.problem, rule.left, message))
    return out


def check_shape(values: dict, places: Places, unreadable: set[str]) -> list[Problem]:
    """Rows missing from a sheet that is there, and rows present but left wholly blank."""
    out = []
    found = places.found
    missing: dict[str, list[str]] = {}  # one query a sheet, so each has a key of its own
    for sheet_id, row_id in found.missing_rows:
        row = next(r for r in registry.SHEETS_BY_ID[sheet_id].rows if r.id == row_id)
        if sheet_id not in found.unrecognised and not row.required:  # those are errors already
            missing.setdefault(sheet_id, []).append(f"'{row.label}'")
    for sheet_id, labels in missing.items():
        listed = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        them = "its figures are" if len(labels) == 1 else "their figures are"
        out.append(ROW_MISSING(f"{found.title(sheet_id)} has no row for {listed}, so {them} treated as not "
                               "known. Add the rows back (a new template has them) if you have the figures.",
                               sheet=found.title(sheet_id)))
    for row in _OPTIONAL_ROWS:
        ids = _blank_row(row, values, found.cells, unreadable)
        if not ids:
            continue
        first, last = ids[0], ids[-1]
        advice = BLANK_ADVICE.get(first.type, BLANK_ADVICE[registry.COUNT])
        what = "the cell is blank" if len(ids) == 1 else "the whole row is blank"
        out.append(places.problem(ROW_BLANK, first.id, f"{what}. {advice}", to=last.id))
    return out


def _blank_row(row: tuple[tuple[registry.Measure, str], ...], values: dict, cells: dict,
               unreadable: set[str]) -> list[registry.Measure]:
    """The row's measures that are in the file when every one of them is blank; else none."""
    ids = []
    for m, mid in row:
        if mid in cells:
            if values.get(mid) is not None or mid in unreadable:
                return []  # something is in the row
            ids.append(m)
    return ids


def check_roll(values: dict, places: Places) -> list[Problem]:
    """Counts of children above the pupils on roll. Training counts staff, so it is not compared."""
    roll = values.get(ROLL)
    if not roll:
        return []
    out = []
    for mid in _ROLL_COMPARED:
        v = values.get(mid)
        if v is None or v <= roll:
            continue
        out.append(places.problem(COUNT_ABOVE_ROLL, mid,
                                  f"the cell holds {v}, more than the {roll} pupils on roll. Check the "
                                  "number; if it is right, explain why."))
    return out


def grew_sharply(now, before) -> bool:
    """Whether a count is a query against last term's: three times as many and at least
    GROWTH_AT_LEAST more (1 to 4 is a change of 3, not a jump)."""
    # Last term's figure may come back from the database as int, float or Decimal.
    if not isinstance(now, int) or not isinstance(before, Number) or isinstance(before, bool):
        return False
    return before > 0 and now > GROWTH_FACTOR * before and now - before >= GROWTH_AT_LEAST


def growth_queried(values: dict, previous: dict) -> bool:
    """Whether any count grew sharply on last term's: the only use the check makes of last term."""
    return any(grew_sharply(values.get(mid), previous.get(mid)) for mid in registry.COUNT_IDS)


def check_growth(values: dict, places: Places, previous: dict | None) -> list[Problem]:
    if not previous:
        return []
    out = []
    for mid in registry.COUNT_IDS:
        now, before = values.get(mid), previous.get(mid)
        if grew_sharply(now, before):
            out.append(places.problem(MORE_THAN_THREE_TIMES_LAST_TERM, mid,
                                      f"the cell holds {now}; last term {describe(float(before))}. That is "
                                      "more than three times as many: check the number, and if it is right, "
                                      "explain why."))
    return out


def check_no_concerns(values: dict, places: Places) -> list[Problem]:
    roll = values.get(ROLL)
    ids = _CONCERNS
    if roll is None or roll < NO_CONCERNS_ROLL or any(values.get(i) != 0 for i in ids):
        return []
    # About a column, not one cell: the sheet is what it points at, and the message says which column.
    sheet, ref = places.of(ids[0])
    column = f", column {ref.rstrip('0123456789')}" if ref else ""
    return [NO_CONCERNS(f"{_CONCERNS_HEADING} ({sheet}{column}): 0 in every category. A school of {roll} pupils has "
                        "recorded no concerns at all this term: check the Referrals sheet; if it is right, explain it.",
                        sheet=sheet)]


def check_leads(leads: list[Lead], places: Places) -> list[Problem]:
    if places.found.sheets.get("leads") is None or any(lead.role == registry.DSL_ROLE for lead in leads):
        return []
    return [NO_DSL("No row names a Designated safeguarding lead. Add a row with the role "
                   "'Designated safeguarding lead' (the name is optional).", sheet=places.found.title("leads"))]


def check_designated_teacher(leads: list[Lead], values: dict, places: Places) -> list[Problem]:
    """Looked-after children on roll and no designated teacher for them named on Leads."""
    looked_after = values.get(LOOKED_AFTER)
    if (not looked_after or places.found.sheets.get("leads") is None
            or any(lead.role == registry.DESIGNATED_TEACHER for lead in leads)):
        return []
    return [places.problem(NO_DESIGNATED_TEACHER, LOOKED_AFTER,
                           f"the cell holds {looked_after}, but no row on "
                           f"{places.found.title('leads')} names a {registry.DESIGNATED_TEACHER}. Add a row with "
                           "that role (the name is optional); a school with looked-after children on roll must "
                           "have one.")]


def check_dates(values: dict, places: Places) -> list[Problem]:
    """Dates after the return was completed, and a completion date before the term began."""
    done = values.get(M.ABOUT_DATE_COMPLETED)
    if not isinstance(done, date):
        return []
    out = []
    for check in registry.GOVERNANCE_DATES:
        when = values.get(check.measure)
        if isinstance(when, date) and when > done:
            out.append(places.problem(DATE_AFTER_COMPLETED, check.measure,
                                      f"the cell holds {describe(when)}, after the return was completed "
                                      f"({describe(done)}). Check the date."))
    year, term = values.get(M.ABOUT_ACADEMIC_YEAR), values.get(M.ABOUT_TERM)
    if year and term:
        offset, month, day = TERM_START[term]
        began = date(int(year[:4]) + offset, month, day)
        if done < began:
            out.append(places.problem(COMPLETED_BEFORE_TERM, M.ABOUT_DATE_COMPLETED,
                                      f"the cell holds {describe(done)}, before the {term} {year} term "
                                      "began. Check the date and the term."))
    return out
