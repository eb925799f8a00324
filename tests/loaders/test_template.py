"""The return template: every sheet, label, validation and lock the contract asks for, and a
filled template that the loader reads back exactly as written."""

from __future__ import annotations

import zipfile
from datetime import date, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook

from loaders import registry
from loaders.report import Lead
from loaders.template import FIRST_ROW, HEADER_ROW, INSTRUCTIONS_TITLE, LEAD_ROWS, template_bytes, write_template

YEAR, TERM = "2025/26", "Spring"


def open_book(data: bytes):
    return load_workbook(BytesIO(data))


@pytest.fixture(scope="module")
def blank():
    return open_book(template_bytes())


def full_values(pupils: int = 640) -> dict[str, object]:
    """A value for every measure, obeying every rule, with nothing a query should catch."""
    end = registry.term_end(YEAR, TERM)
    values: dict[str, object] = {}
    for i, m in enumerate(registry.MEASURES):
        values[m.id] = 2 + i % 5 if m.type == registry.COUNT else None
    values.update({
        "about.template_version": registry.TEMPLATE_VERSION, "about.urn": "990123",
        "about.school_name": "Brindle Moss Primary", "about.phase": "Primary", "about.social_worker": 12,
        "about.academic_year": YEAR, "about.term": TERM, "about.completed_by": "DSL",
        "about.date_completed": end + timedelta(days=6), "about.pupils_on_roll": pupils,
        "about.cp_policy_reviewed": end - timedelta(days=190), "about.filtering_reviewed": end - timedelta(days=160),
        "about.central_record_checked": end - timedelta(days=20),
    })
    for row in registry.TRAINING.rows:
        values[f"training.{row.id}.in_scope"], values[f"training.{row.id}.in_date"] = 30, 28
    values["neglect.active_flags"] = 9
    values["inclusion.persistently_absent"], values["inclusion.severely_absent"] = 90, 8
    for row in registry.REFERRALS.rows:
        values[f"referrals.{row.id}.not_accepted"] = 1
        values[f"referrals.{row.id}.escalated"] = 0
    for row in registry.MULTI_AGENCY.rows:
        values[f"multi_agency.{row.id}.due"], values[f"multi_agency.{row.id}.done"] = 5, 4
    return values


LEADS = [
    Lead(registry.DSL_ROLE, "Hollis Pellowby", date(2025, 1, 20), date(2025, 11, 3)),
    Lead(registry.LEAD_ROLES[1], None, date(2024, 6, 5), None),
    Lead(registry.LEAD_ROLES[2], "Nerys Quarrendon", None, None),
]


def header(ws) -> list:
    return [c.value for c in ws[HEADER_ROW] if c.value is not None]


def row_of(ws, label: str) -> int:
    for r in range(1, ws.max_row + 1):
        if ws.cell(r, 1).value == label:
            return r
    raise AssertionError(f"{label!r} not found on {ws.title}")


def validations_of(ws, cell: str) -> list:
    return [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]


# --- the blank template ---------------------------------------------------------------------


def test_sheets_are_instructions_then_the_registry_sheets_in_order(blank):
    assert blank.sheetnames == [INSTRUCTIONS_TITLE, *(s.title for s in registry.SHEETS)]
    assert all(ws.sheet_state == "visible" for ws in blank.worksheets)


def test_every_sheet_has_the_registry_header_and_labels(blank):
    for sheet in registry.SHEETS:
        ws = blank[sheet.title]
        labels = header(ws)
        assert labels[: 1 + len(sheet.columns)] == [sheet.header, *(c.label for c in sheet.columns)]
        assert all(ws.cell(HEADER_ROW, c).font.b for c in range(1, len(labels) + 1))
        assert [ws.cell(FIRST_ROW + i, 1).value for i in range(len(sheet.rows))] == [r.label for r in sheet.rows]
        assert ws.freeze_panes is not None and int(ws.freeze_panes[1:]) == FIRST_ROW
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1


def test_extra_columns_notes_on_training_and_hints_on_multi_agency(blank):
    assert header(blank[registry.TRAINING.title])[-1] == "Notes"
    ws = blank[registry.MULTI_AGENCY.title]
    assert header(ws)[-1] == "What due and done mean"
    hint_col = len(header(ws))
    for i, row in enumerate(registry.MULTI_AGENCY.rows):
        assert ws.cell(FIRST_ROW + i, hint_col).value == row.hint


def test_about_prefills_the_version_only_when_nothing_is_given(blank):
    ws = blank[registry.ABOUT.title]
    filled = {ws.cell(FIRST_ROW + i, 1).value: ws.cell(FIRST_ROW + i, 2).value
              for i in range(len(registry.ABOUT.rows))}
    assert filled.pop("Template version") == registry.TEMPLATE_VERSION
    assert set(filled.values()) == {None}


def test_about_prefills_urn_name_year_and_term_when_given():
    ws = open_book(template_bytes(urn="990123", school_name="Brindle Moss Primary", year=YEAR, term=TERM))["About"]
    got = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(FIRST_ROW, ws.max_row + 1)}
    assert got["School URN"] == 990123
    assert got["School name"] == "Brindle Moss Primary"
    assert got["Academic year"] == YEAR and ws.cell(row_of(ws, "Academic year"), 2).number_format == "@"
    assert got["Term"] == TERM
    assert got["Pupils on roll"] is None


def test_leads_has_eight_blank_person_rows_with_a_role_drop_down(blank):
    ws = blank[registry.LEADS.title]
    for r in range(FIRST_ROW, FIRST_ROW + LEAD_ROWS):
        assert all(ws.cell(r, c).value is None for c in range(1, 5))
        assert ws.cell(r, 1).protection.locked is False
        (role,) = validations_of(ws, f"A{r}")
        assert role.type == "list" and role.formula1 == '"' + ",".join(registry.LEAD_ROLES) + '"'
        for col in "CD":
            (dv,) = validations_of(ws, f"{col}{r}")
            assert dv.type == "date"
            assert ws[f"{col}{r}"].number_format == "dd/mm/yyyy"


def test_every_count_cell_is_shaded_unlocked_and_takes_whole_numbers_from_zero(blank):
    checked = 0
    for sheet in registry.SHEETS:
        if sheet.kind == "leads":
            continue
        ws = blank[sheet.title]
        for i, row in enumerate(sheet.rows):
            for j in range(len(sheet.columns)):
                cell = ws.cell(FIRST_ROW + i, 2 + j)
                if row.type == registry.INTEGER:
                    assert cell.protection.locked, "the template version is not the DSL's to change"
                    continue
                assert cell.protection.locked is False and cell.fill.fgColor.rgb.endswith("FFF4DD")
                assert cell.border.left.style == "thin"
                dvs = validations_of(ws, cell.coordinate)
                if row.type == registry.COUNT:
                    (dv,) = dvs
                    assert dv.type == "whole" and dv.operator == "greaterThanOrEqual"
                    assert int(dv.formula1) == (1 if row.required else 0)
                    assert dv.showErrorMessage and dv.error and dv.prompt and dv.allow_blank
                    checked += 1
                elif row.type == registry.DATE:
                    assert [d.type for d in dvs] == ["date"] and cell.number_format == "dd/mm/yyyy"
                elif row.type == registry.TERM:
                    assert [d.formula1 for d in dvs] == ['"Autumn,Spring,Summer"']
    assert checked == len(registry.COUNT_IDS)


def test_labels_are_locked_and_every_sheet_protected_without_a_password(blank):
    for ws in blank.worksheets:
        assert ws.protection.sheet is True and not ws.protection.password
        assert ws.protection.formatColumns is False and ws.protection.formatRows is False
        assert ws.cell(1, 1).protection.locked is True
    for sheet in registry.SHEETS:
        ws = blank[sheet.title]
        assert ws.cell(HEADER_ROW, 1).protection.locked is True
        for i in range(len(sheet.rows)):
            assert ws.cell(FIRST_ROW + i, 1).protection.locked is True


def test_instructions_say_what_a_busy_dsl_needs(blank):
    ws = blank[INSTRUCTIONS_TITLE]
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value).lower()
    for phrase in ("blank cell means not known", "0 means none", "count children, not incidents",
                   "upn", "date of birth", "shaded", ".xlsx", "upload"):
        assert phrase in text, phrase
    legend = [c for row in ws.iter_rows() for c in row if c.value and "shaded cell like this" in str(c.value)]
    assert legend and legend[0].fill.fgColor.rgb.endswith("FFF4DD")
    for sheet in registry.SHEETS:
        assert sheet.title.lower() in text


def test_columns_are_wide_enough_to_read_the_labels(blank):
    for sheet in registry.SHEETS:
        ws = blank[sheet.title]
        assert ws.column_dimensions["A"].width >= min(60, max((len(r.label) for r in sheet.rows), default=20))
        assert ws.column_dimensions["B"].width >= 14


def test_writes_to_a_path_or_a_file_like_the_same_workbook(tmp_path):
    path = tmp_path / "blank.xlsx"
    write_template(path, urn="990123", year=YEAR, term=TERM)
    buffer = BytesIO()
    write_template(buffer, urn="990123", year=YEAR, term=TERM)
    assert sheet_parts(path.read_bytes()) == sheet_parts(buffer.getvalue())


def sheet_parts(data: bytes) -> dict[str, bytes]:
    """Every part of the package except the properties openpyxl stamps with the time."""
    with zipfile.ZipFile(BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def test_deterministic_apart_from_timestamps():
    kwargs = dict(values=full_values(), leads=LEADS)
    assert sheet_parts(template_bytes(**kwargs)) == sheet_parts(template_bytes(**kwargs))


FORMULA_LIKE = ['=HYPERLINK("http://127.0.0.1:9/x","Oak")', "+1+1", "-2+3 Academy", "@SUM(1+1)", "=1+1"]


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_text_that_looks_like_a_formula_stays_text(text):
    """A school's name, a role typed by a DSL and a lead's name that begin like a formula are text
    cells marked as typed text (Excel's quote prefix), so no spreadsheet runs them, even on editing."""
    values = full_values() | {"about.school_name": text, "about.completed_by": text}
    leads = [Lead(registry.DSL_ROLE, text, date(2024, 9, 1), None)]
    book = open_book(template_bytes(values=values, leads=leads))
    cells = [book["About"].cell(row_of(book["About"], label), 2) for label in ("School name", "Completed by (role)")]
    cells.append(book["Leads"].cell(FIRST_ROW, 2))
    for cell in cells:
        assert cell.value == text and cell.data_type == "s" and cell.quotePrefix
    formulas = [c.coordinate for ws in book.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def test_a_name_that_looks_like_a_formula_reads_back_as_typed():
    name = FORMULA_LIKE[0]
    values = full_values() | {"about.school_name": name}
    report = check(template_bytes(values=values, leads=LEADS))
    assert report.errors == [], [p.message for p in report.problems]
    assert report.values["about.school_name"] == name


def test_numbers_and_dates_are_not_marked_as_text():
    book = open_book(template_bytes(values=full_values(), leads=LEADS))
    counts = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, int)]
    assert counts and not any(c.quotePrefix for c in counts)


def test_more_leads_than_blank_rows_are_all_written():
    many = [Lead(registry.LEAD_ROLES[1], f"Deputy {i}", None, None) for i in range(LEAD_ROWS + 3)]
    ws = open_book(template_bytes(leads=many))["Leads"]
    assert [ws.cell(FIRST_ROW + i, 2).value for i in range(len(many))] == [lead.name for lead in many]


# --- read back by the loader -----------------------------------------------------------------


def check(data: bytes, name: str = "return.xlsx"):
    from loaders import check_return

    return check_return(data, name)


def test_a_filled_template_reads_back_clean_and_exact():
    values = full_values()
    report = check(template_bytes(values=values, leads=LEADS))
    assert report.errors == [] and report.queries == [], [p.message for p in report.problems]
    assert report.values == values
    assert report.leads == LEADS


def test_blank_cells_come_back_blank_never_zero():
    values = full_values()
    blanked = [m.id for m in registry.MEASURES if m.type == registry.COUNT][5::7]
    for measure_id in blanked:
        values[measure_id] = None
    report = check(template_bytes(values=values, leads=LEADS))
    assert report.errors == []
    assert all(report.values[m] is None for m in blanked)
    assert report.values == values


def test_the_blank_template_is_read_as_all_blank_and_not_yet_valid():
    report = check(template_bytes(urn="990123", year=YEAR, term=TERM))
    assert not report.refused, "the template itself must never look like child-level data"
    assert report.errors, "a blank template lacks school name and pupils on roll"
    filled = {k: v for k, v in report.values.items() if v is not None}
    assert filled == {"about.template_version": registry.TEMPLATE_VERSION, "about.urn": "990123",
                      "about.academic_year": YEAR, "about.term": TERM}
    assert report.leads == []
