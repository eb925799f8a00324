"""Every problem about a cell is worded one way: the row's label as the DSL sees it in the file the
template made, then the sheet and cell, then what is wrong and what to do.

The walk covers every broken return in sample_data/invalid and a few more made here, of both
template versions, so each kind of cell problem the check can raise is met at least once. The
label expected is read from the file itself (the text in the row's label column), never from the
loader.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import coordinate_from_string

from loaders import check_return, registry
from tests.helpers.workbooks import BLANK, LEADS, ROOT, Formula, build_return

INVALID = sorted((ROOT / "sample_data" / "invalid").glob("*.xls*"))
HEADERS = {spec.title: spec.header for spec in registry.SHEETS}


def _made_here() -> list[tuple[str, bytes, dict | None]]:
    """(name, bytes, last term's values) of returns broken in ways the sample's files are not."""
    v2 = build_return(
        values={**{f"referrals.online.{c.id}": BLANK for c in registry.REFERRALS.columns},  # a whole row blank
                "inclusion.suspended": "#DIV/0!",  # an Excel error typed or pasted in
                "neglect.active_flags": 900,  # above the pupils on roll
                "referrals.neglect.concerns": 30,  # last term 2: more than three times as many
                "about.date_completed": date(2025, 12, 1),  # before the Spring term began
                "about.filtering_reviewed": date(2026, 3, 30),  # after the return was completed
                "about.phase": BLANK},
        leads=[("Designated safeguarding lead", None, "soon", None),  # a date that is no date
               ("Head of pastoral", None, None, None),  # a role the return does not know
               (None, "Kit Madeup", date(2024, 1, 9), None)],  # no role, the rest filled in
        finish=lambda book: book["Inclusion"].append(["Pupils suspended this term", 3]))  # a row twice
    v1 = build_return(
        version=1,
        values={"multi_agency.lado.done": 4, "multi_agency.lado.due": 1,  # v1's mixed row, done above due
                "about.pupils_on_roll": 0,  # no pupils on roll
                "neglect.new_flags": Formula("1+1")},  # a formula never calculated
        leads=LEADS[:2],  # looked-after children on roll and no designated teacher
        finish=lambda book: book["Multi-agency"].append(["Allegations about staff", 1, 1]))
    return [("made_v2.xlsx", v2.data, {"referrals.neglect.concerns": 2}), ("made_v1.xlsx", v1.data, None)]


CASES = [(p.name, p.read_bytes(), None) for p in INVALID] + _made_here()


def _row_label(data: bytes, sheet: str, cell: str) -> str:
    """The text in the label column (A) of the cell's row, as the file shows it; a row whose label
    cell is empty (a lead with no role) goes by the column's heading."""
    ws = load_workbook(BytesIO(data))[sheet]
    row = coordinate_from_string(cell)[1]
    text = ws.cell(row, 1).value
    if text is not None and str(text).strip():
        return str(text).strip()
    heading = HEADERS[sheet]
    assert any(ws.cell(r, 1).value == heading for r in range(1, row)), f"{sheet}!{cell}: no label and no heading"
    return heading


@pytest.fixture(scope="module")
def checked():
    return [(name, data, check_return(data, name, previous=previous)) for name, data, previous in CASES]


def test_every_cell_problem_leads_with_its_rows_label_then_the_sheet_and_cell(checked):
    walked = 0
    for name, data, report in checked:
        if report.refused:  # turned away whole before any cell was read: nothing to label
            continue
        for problem in report.problems:
            if problem.cell is None:
                continue
            label = _row_label(data, problem.sheet, problem.cell)
            assert problem.message.startswith(label), f"{name}: {problem.message}"
            rest = problem.message[len(label):]
            if rest.startswith(", "):  # a table's column: "Neglect, children with concerns recorded (..."
                rest = rest[rest.index(" (", 2):]
            assert rest.startswith(f" ({problem.sheet}, {problem.cell}"), f"{name}: {problem.message}"
            said = rest[rest.index("): ") + 3:]
            assert said and said.rstrip().endswith("."), f"{name}: says nothing after the place: {problem.message}"
            walked += 1
    assert walked >= 25


def test_the_walk_meets_every_kind_of_cell_problem(checked):
    met = {p.code for _, _, r in checked if not r.refused for p in r.problems if p.cell}
    assert met >= {
        "not_a_number", "negative", "excel_error", "bad_date", "formula_without_value", "wrong_template_version",
        "required_missing", "roll_zero", "unknown_role", "row_twice", "row_blank", "count_above_roll",
        "more_than_three_times_last_term", "date_after_completed", "completed_before_term", "no_designated_teacher",
        *(rule.code for rule in registry.RULES if rule.code != "inclusion_sw_absent_above_social_worker"),
    }
    versions = {r.version for _, _, r in checked if not r.refused and r.problems}
    assert versions == {1, 2}


def test_a_version_1_row_is_named_as_version_1s_template_printed_it(checked):
    (report,) = [r for name, _, r in checked if name == "made_v1.xlsx"]
    lado = [p for p in report.problems if p.code in ("multi_agency_done_above_due", "row_twice")]
    assert len(lado) == 2
    for problem in lado:
        assert problem.message.startswith("Allegations about staff ") or \
            problem.message.startswith("Allegations about staff, done (")
        assert "harm threshold" not in problem.message


def test_the_command_line_keeps_the_sheet_and_cell_column_before_each_message(checked):
    from loaders.__main__ import render

    for _, _, report in checked:
        if report.refused:
            continue
        lines = render(report).splitlines()
        for problem in report.problems:
            if problem.cell:
                assert f"    {problem.sheet}!{problem.cell}  {problem.message}" in lines


def test_the_files_walked_are_the_sample_trusts_broken_ones_and_more():
    assert len(INVALID) >= 14 and any(p.suffix == ".xlsm" for p in INVALID)
    assert Path(ROOT / "sample_data" / "invalid" / "invalid_count_in_words.xlsx") in INVALID
