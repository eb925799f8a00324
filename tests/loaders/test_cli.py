"""`python -m loaders` as a data officer or a script uses it: exit codes 0/1/2, the JSON shape, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from loaders import registry
from tests.helpers.cli import run_module
from tests.helpers.workbooks import BLANK, ROOT, build_return

JSON_KEYS = {"file", "valid", "errors", "queries", "values", "leads"}


def run(*args: str, code: str | None = None) -> subprocess.CompletedProcess:
    if code is None:
        return run_module("loaders", *args)
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "good.xlsx"
    good.write_bytes(build_return().data)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(build_return(values={"referrals.cse.concerns": "five", "inclusion.suspended": BLANK}).data)
    blanks = tmp_path / "blanks.xlsx"
    blanks.write_bytes(build_return(values={"neglect.new_flags": BLANK}).data)
    return good, bad, blanks


def test_check_a_valid_file_exits_0(files):
    result = run("check", str(files[0]))
    assert result.returncode == 0, result.stderr
    assert "good.xlsx: Ready to submit: no problems found." in result.stdout


def test_check_with_errors_exits_1_and_lists_sheet_cell_and_message(files):
    result = run("check", str(files[0]), str(files[1]))
    assert result.returncode == 1
    assert "bad.xlsx: Not ready: 1 error to fix" in result.stdout
    # the Sheet!Cell column, then the message: the row's label, the sheet and cell, what is wrong
    assert 'Referrals!B10  Child sexual exploitation, children with concerns recorded (Referrals, B10): ' \
        'the cell holds "five".' in result.stdout
    assert "Traceback" not in result.stderr


def test_a_missing_file_is_a_per_file_error(files, tmp_path):
    result = run("check", str(files[0]), str(tmp_path / "nowhere.xlsx"))
    assert result.returncode == 1
    assert "nowhere.xlsx: Refused: There is no file at" in result.stdout
    assert "good.xlsx: Ready to submit" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("args", [[], ["check"], ["frobnicate", "x.xlsx"], ["template"], ["check", "--bogus", "x"]])
def test_bad_usage_exits_2(args):
    result = run(*args)
    assert result.returncode == 2
    assert "usage:" in result.stderr and "Traceback" not in result.stderr


def test_json_is_a_list_with_one_object_a_file(files):
    good, bad, blanks = files
    result = run("check", "--json", str(good), str(bad), str(blanks))
    assert result.returncode == 1
    reports = json.loads(result.stdout)
    assert [r["file"] for r in reports] == ["good.xlsx", "bad.xlsx", "blanks.xlsx"]
    for report in reports:
        assert set(report) == JSON_KEYS
        assert set(report["values"]) == set(registry.MEASURES_BY_ID)
    assert [r["valid"] for r in reports] == [True, False, True]
    assert reports[1]["errors"][0] == {"code": "not_a_number", "sheet": "Referrals", "cell": "B10",
                                       "message": reports[1]["errors"][0]["message"]}
    assert reports[1]["values"]["inclusion.suspended"] is None  # blank is null, never 0
    assert reports[2]["values"]["neglect.new_flags"] is None
    assert reports[0]["values"]["about.date_completed"] == "2026-03-27"
    assert reports[0]["values"]["about.urn"] == "999001"
    assert reports[0]["leads"][0]["role"] == "Designated safeguarding lead"


def test_json_for_a_refused_file(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("a,b\n1,2\n")
    result = run("check", "--json", str(path))
    assert result.returncode == 1
    (report,) = json.loads(result.stdout)
    assert report["valid"] is False and report["values"] == {}
    assert report["errors"][0]["code"] == "not_a_spreadsheet"


def test_a_macro_enabled_workbook_is_refused_in_a_sentence():
    """The upload page offers no .xlsm; one given to the command line is turned away as plainly."""
    result = run("check", str(ROOT / "sample_data" / "invalid" / "invalid_macro_enabled.xlsm"))
    assert result.returncode == 1
    assert result.stdout.strip() == ("invalid_macro_enabled.xlsm: Refused: This file is macro-enabled; save as "
                                     ".xlsx (Excel Workbook) and upload that. Files carrying macros are never "
                                     "opened here.")
    assert "Traceback" not in result.stderr


def test_a_bug_is_a_one_line_apology_not_a_traceback(files):
    code = ("import sys, loaders.__main__ as cli\n"
            "def boom(*a, **k): raise RuntimeError('bug')\n"
            "cli.check_file = boom\nsys.argv = ['loaders', *sys.argv[1:]]\nsys.exit(cli.run())")
    result = run("check", str(files[0]), code=code)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("Sorry") and "good.xlsx" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args, phrase", [
    (["--term", "Winter"], "Autumn, Spring or Summer"),
    (["--year", "2025/27"], "2025/26"),
    (["--urn", "12ab"], "6-digit URN"),
])
def test_template_refuses_bad_arguments_with_exit_2(tmp_path, args, phrase):
    result = run("template", *args, "-o", str(tmp_path / "t.xlsx"))
    assert result.returncode == 2
    assert phrase in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "t.xlsx").exists()


def test_template_writes_a_return_the_loader_reads(tmp_path):
    target = tmp_path / "out" / "blank.xlsx"
    result = run("template", "--urn", "999001", "--year", "2025-2026", "--term", "spring term",
                 "--school-name", "Otterbrook Fictional Primary Academy", "-o", str(target))
    assert result.returncode == 0, result.stderr
    from loaders import check_file

    report = check_file(target)
    assert not report.refused
    assert report.values["about.urn"] == "999001"
    assert report.values["about.academic_year"] == "2025/26" and report.values["about.term"] == "Spring"


def test_import_stores_versions_and_exits_by_errors(files, tmp_path):
    good, bad, _ = files
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    first = run("import", "--db", db, str(good))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "good.xlsx: stored as version 1 of 999001 2025/26 Spring" in first.stdout
    again = run("import", "--db", db, str(good), str(bad))
    assert again.returncode == 1
    assert "good.xlsx: stored as version 2 of 999001 2025/26 Spring" in again.stdout
    assert "bad.xlsx: Not ready" in again.stdout


def test_received_dates_a_paper_return_and_its_lateness_follows(files, tmp_path):
    """Back-filling last year: each return counts as submitted the day it really arrived, so it is
    late only if that day was after its deadline (Spring 2025/26: due by 14 April 2026)."""
    from datetime import date, datetime

    import sqlalchemy as sa

    from analysis.context import Context
    from analysis.dataset import load_dataset
    from store.db import dispose, make_engine
    from store.returns import versions
    from store.schema import audit

    good = files[0]
    db = f"sqlite:///{tmp_path / 'received.db'}"
    on_time = run("import", "--db", db, "--received", "2026-04-10", str(good))
    assert on_time.returncode == 0, on_time.stdout + on_time.stderr
    late = run("import", "--db", db, "--received", " 2026-04-20 ", str(good))
    assert late.returncode == 0, late.stdout + late.stderr
    engine = make_engine(db)
    try:
        stored = {v["version"]: v["submitted_at"] for v in versions(engine, "999001", "2025/26", "Spring")}
        assert stored == {1: datetime(2026, 4, 10, 8), 2: datetime(2026, 4, 20, 8)}  # 09:00 in the UK, as UTC
        data = load_dataset(engine)
        with engine.connect() as conn:
            details = [r.detail for r in conn.execute(sa.select(audit).order_by(audit.c.id))]
    finally:
        dispose(engine)
    assert [d.get("received") for d in details] == ["2026-04-10", "2026-04-20"]  # on the record of changes
    # lateness runs from the first arrival; a resubmission does not make a return late
    assert Context(data, "2025/26", "Spring", today=date(2026, 6, 1)).school_term("999001").days_late == -4
    assert Context(data, "2025/26", "Spring", {"return_due_days": 5},
                   today=date(2026, 6, 1)).school_term("999001").days_late == 5
    # the term's own days, where the trust set them, over the single days of an older database
    assert Context(data, "2025/26", "Spring", {"return_due_days": 5, "return_due_spring": 12},
                   today=date(2026, 6, 1)).school_term("999001").days_late == -2


@pytest.mark.parametrize("given, phrase", [
    ("10/04/2026", "is not a date: give the day the return arrived as YYYY-MM-DD"),
    ("2026-02-30", "is not a date"), ("20260410", "is not a date"), ("", "is not a date"),
    ("2999-01-01", "is after today"),
])
def test_a_bad_received_date_is_a_sentence_and_exit_2(files, tmp_path, given, phrase):
    db = tmp_path / "nothing.db"
    result = run("import", "--db", f"sqlite:///{db}", "--received", given, str(files[0]))
    assert result.returncode == 2
    assert f"--received {given!r} {phrase}" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not db.exists()  # nothing stored, nothing opened
