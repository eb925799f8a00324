"""The command lines' term when none is named: `analysis gaps`, `analysis compare` and `reports pack`
stay on the term whose returns are due while one school has returned early for the next, and move
once that term's deadline has passed."""

from __future__ import annotations

import json
import sqlite3
from datetime import date

import pytest

from analysis import deadlines
from analysis.__main__ import main as analysis_main
from reports.__main__ import main as reports_main
from store.db import dispose, make_engine
from store.importer import import_paths
from tests.helpers.returns import write_return

BEFORE_END, AFTER_DEADLINE = date(2026, 12, 7), date(2027, 1, 15)  # Autumn 2026/27 is due by 14 January 2027


@pytest.fixture
def early_url(sample_engine, tmp_path) -> str:
    """A copy of the sample trust (returned up to Summer 2025/26) and one early return for Autumn 2026/27."""
    path = tmp_path / "early.db"
    with sqlite3.connect(sample_engine.url.database) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    try:
        early = write_return(tmp_path / "early.xlsx", "990001", "2026/27", "Autumn",
                             name="Larkspur Hill Primary School", completed=date(2026, 12, 4))
        (outcome,) = import_paths([str(early)], engine=engine)
        assert outcome.saved is not None, outcome.report.problems
    finally:
        dispose(engine)
    return url


@pytest.mark.parametrize("today, shown", [(BEFORE_END, ("2025/26", "Summer")), (AFTER_DEADLINE, ("2026/27", "Autumn"))])
def test_the_command_lines_default_term_is_the_one_due(early_url, tmp_path, capsys, monkeypatch, today, shown):
    monkeypatch.setattr(deadlines, "current_date", lambda: today)
    assert analysis_main(["gaps", "--db", early_url, "--json"]) == 0
    gaps = json.loads(capsys.readouterr().out)
    assert {(g["academic_year"], g["term"]) for g in gaps} == {shown}
    missing = [g for g in gaps if g["rule"] == "missing_return"]
    assert len(missing) == (11 if shown[0] == "2026/27" else 0)
    assert analysis_main(["compare", "--db", early_url]) == 0
    assert f"{shown[1]} {shown[0]}" in capsys.readouterr().out
    assert reports_main(["pack", "--db", early_url, "-o", str(tmp_path / "pack.html")]) == 0
    assert f"Board pack for {shown[1]} {shown[0]}" in capsys.readouterr().out


def test_the_term_under_way_named_shows_its_returns_not_yet_due(early_url, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(deadlines, "current_date", lambda: BEFORE_END)
    assert analysis_main(["gaps", "--db", early_url, "--year", "2026/27", "--term", "Autumn", "--json"]) == 0
    assert not [g for g in json.loads(capsys.readouterr().out) if g["indicator"] == "return"]
    out = tmp_path / "pack.html"
    assert reports_main(["pack", "--db", early_url, "--year", "2026/27", "--term", "Autumn", "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Returns in: <strong>1 of 12</strong> schools expected; 11 not yet due (due by 14 January 2027)." in html
    assert "No return has been received" not in html
