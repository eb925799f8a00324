"""Child-level data anywhere in the file refuses it whole and drops its bytes; template labels never do."""

from __future__ import annotations

import pytest

from loaders import check_return, registry
from tests.helpers.workbooks import build_return

PUPIL_LIST = [["Pupil name", "Date of birth", "Concern"], ["Ada Notreal", "01/02/2015", "neglect"]]


def refused_for_children(report, sheet: str, cell: str, heading: str | None = None):
    assert report.refused and not report.keep_bytes and not report.valid
    (problem,) = report.problems
    assert (problem.code, problem.sheet, problem.cell) == ("personal_data", sheet, cell)
    assert problem.message.startswith("This file appears to hold information about individual children: ")
    assert problem.message.endswith("and upload again. The file has not been kept.")
    if heading:
        assert f"{sheet}!{cell} is headed '{heading}'" in problem.message
    assert report.values == {} and report.leads == []


@pytest.mark.parametrize("heading", ["Name", "Pupil name", "Child's name", "First name", "Forename", "Surname",
                                     "Last name", "Full name", "Legal name", "UPN", "Unique pupil number", "ULN",
                                     "Date of birth", "DOB", "D.O.B.", "Birth date", "Address", "Home address",
                                     "Postcode", "NHS number", "date_of_birth", "Date of birth (dd/mm/yyyy)",
                                     "Child", "Pupil", "Student", "Born", "Lives at", "D.O.B", "Pupil surname",
                                     "Child's DOB", "Name of child", "Pupil initials", "Admission number",
                                     "Student ID", "Learner's address"])
def test_a_heading_naming_a_child_refuses_the_file(heading):
    report = check_return(build_return(extra_sheets={"Working": [["Concern", heading]]}).data, "r.xlsx")
    refused_for_children(report, "Working", "B1", heading)


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_a_hidden_sheet_with_a_date_of_birth_column_is_refused(fmt):
    built = build_return(fmt=fmt, hidden_sheets={"Lookup": PUPIL_LIST})
    refused_for_children(check_return(built.data, f"r.{fmt}"), "Lookup", "A1", "Pupil name")


def test_a_hidden_sheet_is_named_as_hidden_in_the_refusal():
    report = check_return(build_return(hidden_sheets={"Lookup": PUPIL_LIST}).data, "r.xlsx")
    assert "Lookup!A1 is headed 'Pupil name'; Lookup is a hidden sheet. The return must hold counts only: remove " \
           "that column and upload again." in report.problems[0].message


def test_a_very_hidden_sheet_is_scanned_too():
    import io

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(build_return().data))
    ws = wb.create_sheet("zz")
    ws["C3"] = "Date of birth"
    ws.sheet_state = "veryHidden"
    out = io.BytesIO()
    wb.save(out)
    report = check_return(out.getvalue(), "r.xlsx")
    refused_for_children(report, "zz", "C3", "Date of birth")
    # Unhide does not list it, so the DSL is told how else to be rid of it.
    assert "zz is a very hidden sheet, which Excel's Unhide does not list. The return must hold counts only: delete " \
           "that sheet (or copy the return's own sheets into a new workbook)" in report.problems[0].message


@pytest.mark.parametrize("text", ["A123456789012", " B987654321098 ", "Referred: K123456789012 on Monday",
                                  "T12345678901Z"])
def test_a_cell_shaped_like_a_upn_refuses_the_file(text):
    built = build_return(extra_sheets={"Notes": [["Notes"], [text]]})
    report = check_return(built.data, "r.xlsx")
    refused_for_children(report, "Notes", "A2")
    assert report.problems[0].message.endswith("remove that column and upload again. The file has not been kept.")
    assert text.strip() not in report.problems[0].message  # the identifier itself is never echoed


@pytest.mark.parametrize("text", ["A12345678901", "AB123456789012", "1234567890123", "A1234567890123"])
def test_near_misses_are_not_upns(text):
    assert check_return(build_return(extra_sheets={"Notes": [[text]]}).data, "r.xlsx").valid


def test_a_name_column_is_allowed_on_leads_only():
    assert check_return(build_return().data, "r.xlsx").valid  # Leads has its Name heading
    report = check_return(build_return(extra_sheets={"Staff": [["Name"]]}).data, "r.xlsx")
    refused_for_children(report, "Staff", "A1", "Name")


def test_a_date_of_birth_column_on_leads_is_still_refused():
    leads = [("Designated safeguarding lead", "Date of birth", None, None)]
    report = check_return(build_return(leads=leads).data, "r.xlsx")
    assert report.refused and not report.keep_bytes


def test_no_label_or_heading_of_the_contract_looks_like_child_data():
    texts = [s.title for s in registry.SHEETS] + [s.header for s in registry.SHEETS]
    texts += [r.label for s in registry.SHEETS for r in s.rows]
    texts += [c.label for s in registry.SHEETS for c in s.columns if s.id != "leads"]  # its Name is for staff
    rows = [[t] for t in texts]
    assert check_return(build_return(extra_sheets={"Every label": rows}).data, "r.xlsx").valid


def test_the_blank_template_is_not_mistaken_for_child_data():
    import io

    from loaders import template

    out = io.BytesIO()
    template.write_template(out)
    report = check_return(out.getvalue(), "blank.xlsx")
    assert not report.refused, report.problems[:1]


def test_nothing_of_a_refused_file_stays_in_the_loaders_memory():
    """The loader remembers text it has read (clean text, labels, the template's parts) to read the
    next return faster; a refusal empties all of it, so even the clean-looking parts of a refused
    file (a name with nothing beside it, a data-validation message) are not kept in the process."""
    from openpyxl.worksheet.datavalidation import DataValidation

    from loaders import labels, personal, places_ods, places_xlsx

    def finish(wb):
        rule = DataValidation(type="whole", prompt="Ellis Moore's group", promptTitle="Whose")
        wb["Neglect"].add_data_validation(rule)
        rule.add("C9")
    data = build_return(extra_sheets={"Working": [["Ellis Moore"], ["A123456789012"]]}, finish=finish).data
    assert check_return(build_return(fmt="ods").data, "r.ods").valid  # fills every memory first
    assert check_return(data, "r.xlsx").refused
    assert not [t for t in personal._CLEAN | personal._CLEAN_LABELS | set(labels._KNOWN) if "Ellis" in t]
    assert places_xlsx._around_cells.cache_info().currsize == places_xlsx._book.cache_info().currsize == 0
    assert places_ods._headers.cache_info().currsize == 0
    assert check_return(build_return().data, "r.xlsx").valid  # and the next return reads as before
    assert "Ellis Moore" not in personal._CLEAN


@pytest.mark.parametrize("heading, shown", [("DOB (03/04/2015)", "DOB"), ("Pupil name (Jayden Smith)", "Pupil name"),
                                            ("Date of birth (dd/mm/yyyy)", "Date of birth (dd/mm/yyyy)")])
def test_a_heading_is_repeated_without_a_hint_that_may_hold_the_details(heading, shown):
    report = check_return(build_return(extra_sheets={"Working": [["Concern", heading]]}).data, "r.xlsx")
    message = report.problems[0].message
    assert f"Working!B1 is headed '{shown}'." in message
    assert "Jayden" not in message and "03/04/2015" not in message


def test_a_sheet_named_like_a_person_is_spoken_of_by_its_number():
    """A sheet made for one child, named after them, holding their details: neither the message
    nor the record of the attempt (which keeps the problem's sheet and cell) repeats the name."""
    report = check_return(build_return(hidden_sheets={"Ellis Moore": [["Concern", "Date of birth"]]}).data, "r.xlsx")
    (problem,) = report.problems
    assert (problem.sheet, problem.cell, problem.where) == (None, None, "the file")
    assert "B1 of sheet 8 of 8 (counting hidden sheets) is headed 'Date of birth'; sheet 8 of 8 (counting hidden " \
           "sheets) is a hidden sheet" in problem.message
    assert "Ellis" not in problem.message and not report.keep_bytes
