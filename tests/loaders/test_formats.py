""".xlsx, .xls and .ods all load the same, as our writers and as LibreOffice really writes them;
formula cells count by their saved value, and a formula with none is an error at its cell."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from loaders import check_file, check_return, registry
from loaders.report import Lead
from loaders.template import write_template
from tests.helpers.workbooks import FIXTURES, LEADS, Formula, build_return, valid_values


def expected(version: int = registry.TEMPLATE_VERSION) -> dict[str, object]:
    want = valid_values(version)
    want["about.urn"] = str(want["about.urn"])
    return want


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_each_format_reads_the_same_values(fmt):
    report = check_return(build_return(fmt=fmt).data, f"return.{fmt}")
    assert report.valid, report.problems
    assert report.values == expected()
    assert len(report.leads) == 3


@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_messy_files_in_other_formats(fmt):
    built = build_return(fmt=fmt, reverse_rows=True, spacer_rows=True, notes_column_first=True,
                         lower_sheet_names=True, text_numbers=True, date_style="text_uk")
    report = check_return(built.data, f"return.{fmt}")
    assert report.valid, report.problems
    assert report.values == expected()


@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_problems_point_at_the_right_cell_in_other_formats(fmt):
    built = build_return(fmt=fmt, values={"referrals.cse.concerns": "five"}, reverse_rows=True)
    (problem,) = check_return(built.data, f"return.{fmt}").errors
    assert (problem.sheet, problem.cell) == built.cells["referrals.cse.concerns"]


@pytest.mark.parametrize("name", ["libreoffice_valid.xlsx", "libreoffice_valid.xls", "libreoffice_valid.ods",
                                  "libreoffice_formulas.xlsx", "libreoffice_formulas.ods"])
def test_files_as_libreoffice_writes_them(name):
    # Version 1 returns, saved by LibreOffice before version 2 existed: they still load, clean.
    report = check_file(FIXTURES / name)
    assert report.valid, report.problems
    assert report.problems == []
    assert report.values == expected(1)
    assert report.file == name and len(report.sha256) == 64


@pytest.mark.parametrize("name", ["libreoffice_template_v2.ods", "libreoffice_template_v2.xlsx"])
def test_a_filled_version_2_template_as_libreoffice_saves_it(name):
    """The template the dashboard hands out, filled and saved by LibreOffice Calc as .ods, and that
    .ods saved again as .xlsx: its drop-downs, locked cells and relabelled rows all read back."""
    report = check_file(FIXTURES / name)
    assert report.problems == [], [p.message for p in report.problems]
    assert report.values == expected()
    assert [lead.role for lead in report.leads] == [role for role, *_ in LEADS]


def filled_template(path):
    write_template(path, values=valid_values(), leads=[Lead(*lead) for lead in LEADS])


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed here")
@pytest.mark.parametrize("fmt", ["ods", "xlsx"])
def test_the_template_saved_by_libreoffice_now_loads(tmp_path, fmt):
    """The fixtures above, made again by the LibreOffice on this machine, so a newer Calc is tried too."""
    def convert(source, to, folder):
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                        "--convert-to", to, "--outdir", str(folder), str(source)],
                       check=True, capture_output=True, timeout=120)
        return folder / f"return.{to}"

    source = tmp_path / "in" / "return.xlsx"
    source.parent.mkdir()
    filled_template(source)
    if fmt == "xlsx":  # through .ods and back, as a DSL who keeps the file in Calc would send it
        source = convert(source, "ods", tmp_path / "ods")
    report = check_file(convert(source, fmt, tmp_path / "out"))
    assert report.problems == [], [p.message for p in report.problems]
    assert report.values == expected()


def test_an_xlsx_formula_with_a_saved_value_counts_as_that_value():
    built = build_return(values={"neglect.active_flags": Formula("5+6", 11), "about.pupils_on_roll": Formula("400+20", 420)})
    report = check_return(built.data, "return.xlsx")
    assert report.valid and report.problems == []
    assert report.values["neglect.active_flags"] == 11 and report.values["about.pupils_on_roll"] == 420


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_formula_with_no_saved_value_is_an_error_at_its_cell(fmt):
    built = build_return(fmt=fmt, values={"neglect.chronology_reviewed": Formula("4+5")})
    report = check_return(built.data, f"return.{fmt}")
    (problem,) = report.errors
    assert problem.code == "formula_without_value"
    assert (problem.sheet, problem.cell) == built.cells["neglect.chronology_reviewed"]
    sheet, cell = built.cells["neglect.chronology_reviewed"]
    assert problem.message.startswith(f"Flagged children whose chronology was reviewed this term ({sheet}, {cell}): "
                                      "the cell holds a formula with no saved value. Open and save the file in Excel")
    assert report.values["neglect.chronology_reviewed"] is None


def test_an_unsaved_formula_in_a_required_field_is_one_error_not_two():
    built = build_return(values={"about.pupils_on_roll": Formula("400+20")})
    assert [p.code for p in check_return(built.data, "r.xlsx").errors] == ["formula_without_value"]


def test_an_unsaved_formula_outside_the_return_is_ignored():
    built = build_return(extra_sheets={"Workings": [["Total", Formula("1+2")]]})
    assert check_return(built.data, "r.xlsx").valid


def test_an_excel_error_value_is_an_error_not_a_blank():
    built = build_return(values={"inclusion.suspended": "#DIV/0!"})
    report = check_return(built.data, "return.xlsx")
    (problem,) = report.errors
    assert problem.code == "excel_error" and "#DIV/0!" in problem.message
    assert (problem.sheet, problem.cell) == built.cells["inclusion.suspended"]


def test_dates_survive_every_format_as_dates():
    for fmt in ("xlsx", "xls", "ods"):
        report = check_return(build_return(fmt=fmt).data, f"r.{fmt}")
        assert report.values["about.date_completed"].isoformat() == "2026-03-27"
        assert report.leads[0].last_full_training.isoformat() == "2024-10-01"
