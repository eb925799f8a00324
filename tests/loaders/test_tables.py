"""Tables are found by label however the DSL has moved things about, and every value keeps its cell."""

from __future__ import annotations

from datetime import date

import pytest

from loaders import check_return, registry
from loaders.tables import normalise
from tests.helpers.workbooks import build_return, valid_values

LEAD_DSL = ("Designated safeguarding lead", None, None, None)


def expected() -> dict[str, object]:
    want = valid_values()
    want["about.urn"] = str(want["about.urn"])
    return want


def clean(built, **kw):
    report = check_return(built.data, "return.xlsx", **kw)
    assert report.valid, [p.message for p in report.problems]
    return report


@pytest.mark.parametrize("text, key", [
    ("Completed by (role)", "completed by"), ("  COMPLETED   BY ", "completed by"),
    ("Referred to children's social care", "referred to childrens social care"),
    ("Referred to children’s social care:", "referred to childrens social care"),
    ("multi_agency", "multi agency"), ("Multi-agency", "multi agency"), ("MULTI-AGENCY", "multi agency"),
    ("Personal education plans (looked-after children)", "personal education plans"),
    ("Referrals (term 2) (copy)", "referrals"), ("Governors: safeguarding training", "governors safeguarding training"),
])
def test_labels_normalise_case_spacing_punctuation_and_a_trailing_hint(text, key):
    assert normalise(text) == key


def test_every_label_and_id_is_distinct_after_normalising():
    for sheet in registry.SHEETS:
        keys = [normalise(r.label) for r in sheet.rows] + [normalise(r.id) for r in sheet.rows]
        labels = {normalise(r.label) for r in sheet.rows}
        ids = {normalise(r.id) for r in sheet.rows}
        assert len(labels) == len(sheet.rows) and len(ids) == len(sheet.rows), keys


def test_a_valid_return_reads_every_value_exactly(valid_xlsx):
    report = clean(valid_xlsx)
    assert report.values == expected()
    assert [lead.role for lead in report.leads] == [role for role in registry.LEAD_ROLES]


@pytest.mark.parametrize("knobs", [
    {"reverse_rows": True},
    {"title_rows": False},
    {"spacer_rows": True},
    {"notes_column_first": True},
    {"lower_sheet_names": True},
    {"text_numbers": True},
    {"date_style": "text_uk"},
    {"date_style": "serial"},
    {"no_value_header": True},
    {"extra_sheets": {"Our notes": [["Anything we like"], ["Term", "Spring"]], "Chart data": [[1, 2, 3]]}},
    {"reverse_rows": True, "spacer_rows": True, "notes_column_first": True, "text_numbers": True,
     "lower_sheet_names": True, "date_style": "text_uk"},
], ids=lambda k: "+".join(k))
def test_messy_but_honest_files_load_cleanly(knobs):
    assert clean(build_return(**knobs)).values == expected()


@pytest.mark.parametrize("name", ["multi_agency", "MULTI-AGENCY", "Multi agency", "Multi-agency (Spring)"])
def test_sheet_names_match_by_label_or_id(name):
    built = build_return(rename_sheets={"multi_agency": name})
    assert clean(built).values["multi_agency.peps.done"] == 4


def test_problems_point_at_the_cell_where_the_value_really_is():
    built = build_return(reverse_rows=True, notes_column_first=True, spacer_rows=True,
                         values={"referrals.cse.concerns": "five"})
    report = check_return(built.data, "return.xlsx")
    problem = next(p for p in report.errors if p.code == "not_a_number")
    sheet, cell = built.cells["referrals.cse.concerns"]
    assert (problem.sheet, problem.cell) == (sheet, cell)
    assert problem.message.startswith(f'Child sexual exploitation, children with concerns recorded ({sheet}, {cell}): '
                                      'the cell holds "five". Enter a whole number such as 5')


def test_a_missing_row_is_a_query_and_its_values_stay_missing():
    built = build_return(drop_rows=[("referrals", "online"), ("inclusion", "suspended")])
    report = check_return(built.data, "return.xlsx")
    assert report.valid
    assert {p.code for p in report.queries} == {"row_missing"}
    assert len(report.queries) == 2
    assert all(report.values[f"referrals.online.{c.id}"] is None for c in registry.REFERRAL_COLUMNS)
    assert report.values["inclusion.suspended"] is None


def test_a_missing_sheet_is_an_error_and_its_values_are_missing():
    report = check_return(build_return(drop_sheets=["inclusion"]).data, "return.xlsx")
    assert [(p.code, p.sheet) for p in report.errors] == [("sheet_missing", "Inclusion")]
    assert all(report.values[m.id] is None for m in registry.MEASURES if m.sheet == "inclusion")
    assert set(report.values) == set(registry.MEASURES_BY_ID)


def test_a_row_given_twice_is_an_error():
    rows = [["Measure", "Count"], ["Pupils suspended this term", 3], ["Pupils suspended this term", 4]]
    data = build_return(drop_sheets=["inclusion"], extra_sheets={"Inclusion": rows}).data
    report = check_return(data, "return.xlsx")
    assert "row_twice" in {p.code for p in report.errors}
    assert report.values["inclusion.suspended"] == 3


def test_a_renamed_column_heading_is_an_error_not_a_silent_gap():
    rows = [["Category", "Children with concerns recorded", "Sent to early help"], ["Neglect", 3, 1]]
    data = build_return(drop_sheets=["referrals"], extra_sheets={"Referrals": rows}).data
    report = check_return(data, "return.xlsx")
    missing = [p for p in report.errors if p.code == "column_missing"]
    assert any("Referred to early help" in p.message for p in missing)
    assert report.values["referrals.neglect.concerns"] == 3
    assert report.values["referrals.neglect.early_help"] is None


def test_a_one_value_sheet_without_its_heading_row_still_reads():
    rows = [["Pupils persistently absent (below 90% attendance)", 40], ["Pupils severely absent", 5]]
    data = build_return(drop_sheets=["inclusion"], extra_sheets={"Inclusion": rows}).data
    report = check_return(data, "return.xlsx")
    assert report.values["inclusion.persistently_absent"] == 40
    assert report.values["inclusion.severely_absent"] == 5


def test_an_exact_sheet_beats_an_excel_copy_of_it():
    copy = [["Category", "Children with concerns recorded"], ["Neglect", 999]]
    report = clean(build_return(extra_sheets={"Referrals (2)": copy}))
    assert report.values["referrals.neglect.concerns"] == 11


def test_two_sheets_equally_like_one_sheet_is_an_error():
    copy = [["Category", "Children with concerns recorded"], ["Neglect", 999]]
    report = check_return(build_return(extra_sheets={"REFERRALS.": copy}).data, "return.xlsx")
    assert "sheet_twice" in {p.code for p in report.errors}


def test_a_hidden_copy_loses_to_the_visible_sheet():
    copy = [["Category", "Children with concerns recorded"], ["Neglect", 999]]
    report = clean(build_return(rename_sheets={"referrals": "Referrals (2)"}, hidden_sheets={"Referrals": copy}))
    assert report.values["referrals.neglect.concerns"] == 11


def test_leads_accept_obvious_role_synonyms_and_skip_spacer_rows():
    leads = [("DSL", "Robin Placeholder", date(2024, 10, 1), None), (None, None, None, None),
             ("deputy designated safeguarding lead", None, None, None), ("Designated teacher", None, None, None),
             ("  DEPUTY dsl ", "Sam Example", None, date(2025, 6, 2))]
    report = clean(build_return(leads=leads))
    assert [lead.role for lead in report.leads] == [
        "Designated safeguarding lead", "Deputy DSL", "Designated teacher for looked-after children", "Deputy DSL"]
    assert report.leads[0].name == "Robin Placeholder" and report.leads[0].last_refresher is None
    assert report.leads[3].last_refresher == date(2025, 6, 2)


def test_an_unknown_role_is_an_error_naming_the_cell_and_the_allowed_roles():
    leads = [("Designated safeguarding lead", None, None, None), ("Head of pastoral", "Kit Madeup", None, None)]
    built = build_return(leads=leads)
    report = check_return(built.data, "return.xlsx")
    (problem,) = report.errors
    sheet, cell = built.lead_cells[1]["role"]
    assert (problem.code, problem.sheet, problem.cell) == ("unknown_role", sheet, cell)
    assert problem.message.startswith(f"Head of pastoral ({sheet}, {cell}): not a role the return knows.")
    assert all(role in problem.message for role in registry.LEAD_ROLES)


def test_a_lead_with_a_name_but_no_role_is_an_error():
    report = check_return(build_return(leads=[LEAD_DSL, (None, "Kit Madeup", None, None)]).data, "r.xlsx")
    assert [p.code for p in report.errors] == ["unknown_role"]


def test_a_bad_lead_date_is_an_error_at_its_cell():
    built = build_return(leads=[("Designated safeguarding lead", None, "last spring", None)])
    report = check_return(built.data, "return.xlsx")
    (problem,) = report.errors
    assert (problem.code, problem.cell) == ("bad_date", built.lead_cells[0]["full"][1])


def test_a_blank_about_value_stays_blank_though_a_note_sits_beside_it():
    about = [["Field", "Value", "Notes"]] + [[r.label, None if r.id == "looked_after" else 1, "see note"]
                                             for r in registry.ABOUT.rows]
    report = check_return(build_return(drop_sheets=["about"], extra_sheets={"About": about}).data, "r.xlsx")
    assert report.values["about.looked_after"] is None
    assert report.values["about.pupils_fsm"] == 1


def test_a_sheet_holding_none_of_its_rows_is_one_error_not_a_query_per_row():
    rows = [["Measure", "Count"], ["Something else entirely", 3]]
    report = check_return(build_return(drop_sheets=["neglect"], extra_sheets={"Neglect": rows}).data, "r.xlsx")
    assert [p.code for p in report.problems] == ["sheet_unrecognised"]
    assert all(report.values[m.id] is None for m in registry.MEASURES if m.sheet == "neglect")


def test_a_missing_about_sheet_is_one_error():
    report = check_return(build_return(drop_sheets=["about"]).data, "r.xlsx")
    assert [p.code for p in report.errors] == ["sheet_missing"]
