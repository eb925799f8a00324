"""Template versions 1 and 2 (RETURN_TEMPLATE.md, "Version 2").

Contract: the template hands out version 2, and a version 2 template filled in by openpyxl reads
back clean and exact. A version 1 return still loads under version 1's rules: the measures version
2 adds are *not asked* (no value at all, never a query), and its "Allegations about staff" row is
read as the ``lado`` row. Each check version 2 adds names the sheet, the cell and the row's label.
"""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from loaders import check_return, registry
from loaders.template import FIRST_ROW, template_bytes
from tests.helpers.workbooks import BLANK, LEADS, build_return, valid_values

LATER = sorted(registry.ASKED_IDS[2] - registry.ASKED_IDS[1])


def codes(problems) -> list[str]:
    return [p.code for p in problems]


def check(**knobs):
    built = build_return(**knobs)
    return built, check_return(built.data, "return.xlsx")


# --- the contract as data -------------------------------------------------------------------


def test_version_2_adds_exactly_the_measures_the_spec_names():
    assert registry.TEMPLATE_VERSION == 2
    assert LATER == sorted([
        "about.phase", "about.social_worker", "inclusion.sw_persistently_absent", "inclusion.private_fostering",
        "multi_agency.low_level.due", "multi_agency.low_level.done"])


@pytest.mark.parametrize("measure_id, counts", [
    ("about.social_worker", registry.CHILDREN), ("inclusion.sw_persistently_absent", registry.CHILDREN),
    ("inclusion.private_fostering", registry.CHILDREN), ("multi_agency.lado.due", registry.STAFF),
    ("multi_agency.lado.done", registry.STAFF), ("multi_agency.low_level.due", registry.STAFF),
    ("multi_agency.low_level.done", registry.STAFF), ("multi_agency.peps.due", registry.CHILDREN),
    ("multi_agency.strategy.due", registry.EVENTS), ("about.phase", None),
])
def test_each_new_measure_counts_what_the_spec_says_so_trustees_see_it_suppressed_or_not(measure_id, counts):
    measure = registry.MEASURES_BY_ID[measure_id]
    assert measure.counts == counts
    assert measure.suppressed is (counts in (registry.CHILDREN, registry.STAFF))


def test_the_lado_row_is_relabelled_in_version_2_only():
    (lado,) = [row for row in registry.MULTI_AGENCY.rows if row.id == "lado"]
    assert lado.label_in(1) == "Allegations about staff"
    assert lado.label_in(2) == "Allegations about staff that may meet the harm threshold"


# --- version 2: the template handed out -----------------------------------------------------


def fill(ws, by_label: dict[str, tuple]) -> None:
    """Type values into a template sheet beside their labels, as a DSL would."""
    for r in range(FIRST_ROW, ws.max_row + 1):
        label = ws.cell(r, 1).value
        for offset, value in enumerate(by_label.get(label, ())):
            ws.cell(r, 2 + offset).value = value


def filled_by_openpyxl(version: int = registry.TEMPLATE_VERSION) -> bytes:
    """The blank template, opened in openpyxl, every shaded cell typed in, saved again."""
    values = valid_values(version)
    book = load_workbook(BytesIO(template_bytes(urn="999001", school_name=values["about.school_name"],
                                                year="2025/26", term="Spring", version=version)))
    for sheet in registry.SHEETS:
        ws = book[sheet.title]
        if sheet.kind == "leads":
            for i, lead in enumerate(LEADS):
                for c, value in enumerate(lead, start=1):
                    ws.cell(FIRST_ROW + i, c).value = value
            continue
        rows = {}
        for row in sheet.rows_in(version):
            ids = [registry.measure_id(sheet.id, row.id, None if len(sheet.columns) == 1 else c.id)
                   for c in sheet.columns]
            if row.type != registry.INTEGER:  # the version is the template's, locked
                rows[row.label_in(version)] = tuple(values[i] for i in ids)
        fill(ws, rows)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_version_2_template_filled_in_reads_back_clean_and_exact():
    report = check_return(filled_by_openpyxl(), "return.xlsx")
    assert report.problems == [], [p.message for p in report.problems]
    want = valid_values()
    want["about.urn"] = str(want["about.urn"])
    assert report.values == want
    assert report.values["about.template_version"] == 2 and report.values["about.phase"] == "Primary"
    assert [lead.role for lead in report.leads] == [role for role, *_ in LEADS]


def test_the_template_offers_the_phases_as_a_drop_down_and_prints_the_new_rows():
    book = load_workbook(BytesIO(template_bytes()))
    about = book["About"]
    (r,) = [r for r in range(FIRST_ROW, about.max_row + 1) if about.cell(r, 1).value == "Phase"]
    (dv,) = [dv for dv in about.data_validations.dataValidation if f"B{r}" in dv.sqref]
    assert dv.type == "list" and dv.formula1 == '"Primary,Secondary,All-through,Special,Alternative provision"'
    labels = {ws.title: [ws.cell(r, 1).value for r in range(FIRST_ROW, ws.max_row + 1)] for ws in book.worksheets}
    assert "Children with a social worker at term end" in labels["About"]
    assert labels["Inclusion"][-2:] == [
        "Children with a social worker persistently absent (below 90% attendance)",
        "Private fostering arrangements notified to the local authority this term"]
    assert labels["Multi-agency"][-2:] == ["Allegations about staff that may meet the harm threshold",
                                          "Low-level concerns about staff"]
    instructions = " ".join(str(c.value) for row in book["Instructions"].iter_rows() for c in row if c.value)
    assert "version 2 of the return" in instructions and "low-level concerns" in instructions


# --- version 1: still loads, under its own rules --------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_a_version_1_return_loads_clean_with_the_new_measures_not_asked(fmt):
    built = build_return(version=1, fmt=fmt)
    report = check_return(built.data, f"return.{fmt}")
    assert report.problems == [], [p.message for p in report.problems]
    assert set(report.values) == registry.ASKED_IDS[1], "a measure not asked has no value, not a blank"
    assert not set(LATER) & set(report.values)
    assert report.values["multi_agency.lado.due"] == 1, "version 1's 'Allegations about staff' is the lado row"


def test_the_command_lines_json_for_a_version_1_return_leaves_out_what_it_was_not_asked():
    report = check_return(build_return(version=1).data, "return.xlsx")
    values = report.as_json()["values"]
    assert report.version == 1 and values["about.template_version"] == 1
    assert set(values) == registry.ASKED_IDS[1] and "about.phase" not in values


def test_a_version_1_template_filled_in_loads_clean():
    report = check_return(filled_by_openpyxl(version=1), "return.xlsx")
    assert report.problems == [], [p.message for p in report.problems]
    assert report.values["about.template_version"] == 1


def test_a_version_1_return_is_never_queried_about_what_it_was_not_asked():
    # Blank rows, missing rows and every check that a version 2 return would be queried about.
    _, report = check(version=1, values={"multi_agency.peps.due": BLANK, "multi_agency.peps.done": BLANK},
                      drop_rows=[("inclusion", "suspended")])
    assert sorted(codes(report.queries)) == ["row_blank", "row_missing"]
    said = " ".join(p.message for p in report.problems)
    for sheet, rows in (("about", ("phase", "social_worker")),
                        ("inclusion", ("sw_persistently_absent", "private_fostering")),
                        ("multi_agency", ("low_level",))):
        for row in registry.SHEETS_BY_ID[sheet].rows:
            if row.id in rows:
                assert row.label not in said


def test_a_version_1_return_speaks_of_its_rows_by_the_labels_it_has():
    built, report = check(version=1, values={"multi_agency.lado.done": 2})
    (error,) = report.errors
    sheet, cell = built.cells["multi_agency.lado.done"]
    assert error.message.startswith(f"Allegations about staff, done ({sheet}, {cell}): Done (2)")


def test_a_version_1_return_is_still_asked_for_its_designated_teacher():
    dsl_only = [LEADS[0]]
    built, report = check(version=1, leads=dsl_only)
    (query,) = report.queries
    assert query.code == "no_designated_teacher"
    assert (query.sheet, query.cell) == built.cells["about.looked_after"]


def test_a_file_whose_version_cannot_be_read_is_judged_by_its_layout():
    # A version 1 layout with a version the contract does not know: one error, and no queries
    # about version 2's rows, which it never had.
    built, report = check(version=1, values={"about.template_version": 3})
    assert codes(report.problems) == ["wrong_template_version"]
    assert report.problems[0].message.startswith(
        "Template version (About, {}): the cell holds 3.".format(built.cells["about.template_version"][1]))
    _, blank = check(values={"about.template_version": BLANK})
    assert codes(blank.problems) == ["required_missing"]


# --- version 2's own checks: each names the sheet, the cell and the row ----------------------


def test_more_children_with_a_social_worker_absent_than_with_a_social_worker_is_an_error():
    built, report = check(values={"inclusion.sw_persistently_absent": 18, "about.social_worker": 17})
    (error,) = report.errors
    assert error.code == "inclusion_sw_absent_above_social_worker"
    assert (error.sheet, error.cell) == built.cells["inclusion.sw_persistently_absent"]
    sheet, cell = built.cells["inclusion.sw_persistently_absent"]
    assert error.message.startswith("Children with a social worker persistently absent (below 90% attendance) "
                                    f"({sheet}, {cell}): This count (18) is more than")
    assert "(17), in About at {}.".format(built.cells["about.social_worker"][1]) in error.message


@pytest.mark.parametrize("absent, with_social_worker", [(17, 17), (0, 0), (5, BLANK), (BLANK, 3)])
def test_the_social_worker_rule_holds_at_equality_and_skips_blanks(absent, with_social_worker):
    _, report = check(values={"inclusion.sw_persistently_absent": absent, "about.social_worker": with_social_worker})
    assert report.errors == []


def test_low_level_concerns_reviewed_above_recorded_is_an_error_at_its_cell():
    built, report = check(values={"multi_agency.low_level.done": 4})
    (error,) = report.errors
    assert (error.code, error.sheet, error.cell) == ("multi_agency_done_above_due",
                                                     *built.cells["multi_agency.low_level.done"])
    sheet, cell = built.cells["multi_agency.low_level.done"]
    assert error.message.startswith(f"Low-level concerns about staff, done ({sheet}, {cell}): Done (4)")


def test_a_phase_not_in_the_list_is_an_error_naming_the_cell_and_the_row():
    built, report = check(values={"about.phase": "Middle"})
    (error,) = report.errors
    assert (error.code, error.sheet, error.cell) == ("bad_phase", *built.cells["about.phase"])
    sheet, cell = built.cells["about.phase"]
    assert error.message.startswith(f'Phase ({sheet}, {cell}): the cell holds "Middle". The Phase must be one of')


def test_a_blank_phase_is_a_query_naming_the_cell_and_the_row():
    built, report = check(values={"about.phase": BLANK})
    (query,) = report.queries
    assert query.code == "row_blank" and (query.sheet, query.cell) == built.cells["about.phase"]
    sheet, cell = built.cells["about.phase"]
    assert query.message.startswith(f"Phase ({sheet}, {cell}): the cell is blank. Pick the school's phase from the "
                                    "list")
    assert report.values["about.phase"] is None


def test_a_version_2_return_without_the_new_rows_is_queried_for_them():
    _, report = check(drop_rows=[("inclusion", "sw_persistently_absent"), ("multi_agency", "low_level")])
    assert sorted((q.code, q.sheet) for q in report.queries) == [("row_missing", "Inclusion"),
                                                                 ("row_missing", "Multi-agency")]
    assert "'Low-level concerns about staff'" in " ".join(q.message for q in report.queries)
    assert report.values["multi_agency.low_level.due"] is None


def test_looked_after_children_and_no_designated_teacher_is_a_query_naming_the_cell_and_the_row():
    built, report = check(leads=LEADS[:2])
    (query,) = report.problems
    assert query.code == "no_designated_teacher" and query.severity == "query"
    assert (query.sheet, query.cell) == built.cells["about.looked_after"]
    sheet, cell = built.cells["about.looked_after"]
    assert query.message.startswith(f"Looked-after children on roll ({sheet}, {cell}): the cell holds 4, but no row "
                                    "on Leads names a Designated teacher for looked-after children.")


@pytest.mark.parametrize("looked_after", [0, BLANK])
def test_no_looked_after_children_or_not_known_needs_no_designated_teacher(looked_after):
    _, report = check(leads=LEADS[:2], values={"about.looked_after": looked_after})
    assert "no_designated_teacher" not in codes(report.problems)


def test_a_designated_teacher_named_by_another_common_title_counts():
    leads = [*LEADS[:2], ("Designated teacher for LAC", None, None, None)]
    _, report = check(leads=leads)
    assert report.problems == []
