"""Every deliberately broken file does what its name says, and the README explains each."""

from __future__ import annotations

import pytest

from loaders import check_return
from sample_data import broken

from .support import COMMITTED

FOLDER = COMMITTED / "invalid"


def test_the_folder_holds_exactly_the_cases():
    assert sorted(p.name for p in FOLDER.iterdir()) == sorted(c.filename for c in broken.CASES)
    prefixes = {"refused": "invalid_", "error": "invalid_", "query": "queries_"}
    assert all(c.filename.startswith(prefixes[c.outcome]) for c in broken.CASES)


def test_the_readme_lists_every_file():
    readme = (COMMITTED / "README.md").read_text(encoding="utf-8")
    for case in broken.CASES:
        assert f"`{case.filename}`" in readme


@pytest.mark.parametrize("case", broken.CASES, ids=lambda c: c.filename)
def test_each_file_fails_as_its_name_says(case):
    report = check_return((FOLDER / case.filename).read_bytes(), case.filename)
    if case.outcome == "refused":
        assert report.refused and not report.valid and report.errors
        return
    assert not report.refused
    problems = report.errors if case.outcome == "error" else report.queries
    if case.outcome == "error":
        assert not report.valid
    else:
        assert report.valid and report.errors == []
    where = [p for p in problems if p.sheet == case.sheet]
    assert where, [p.as_dict() for p in report.problems]
    if case.measure:
        cell = broken.cell_of_measure(case.measure)
        assert cell in {p.cell for p in where}, [p.as_dict() for p in report.problems]
    if case.code:
        assert case.code in {p.code for p in where}


def test_child_level_data_is_refused_and_not_kept():
    report = check_return((FOLDER / "invalid_child_names.xlsx").read_bytes(), "invalid_child_names.xlsx")
    assert report.refused and report.keep_bytes is False


def test_the_queries_file_names_no_dsl_among_its_queries():
    report = check_return((FOLDER / "queries_blank_row_no_dsl.xlsx").read_bytes(), "q.xlsx")
    assert any(p.sheet == "Leads" or "safeguarding lead" in p.message.lower() for p in report.queries)
