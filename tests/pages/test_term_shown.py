"""The term the pages show first: one school returning early for a term still under way moves no
one's view, and that term, chosen, shows the other returns as not yet due, in grey, with no gap."""

from __future__ import annotations

import json
from datetime import date

import pytest

from analysis import deadlines
from tests.helpers.returns import write_return

from .conftest import assert_no_exception, open_page

EARLY = ("990001", "Larkspur Hill Primary School")  # a sample school, returning for Autumn 2026/27 early
BEFORE_END, AFTER_DEADLINE = date(2026, 12, 7), date(2027, 1, 15)  # Autumn 2026/27 is due by 14 January 2027
AUTUMN = {"year": "2026/27", "term": "Autumn"}


@pytest.fixture
def early_return(sample_app, sign_in):
    """The sample trust (every school returned up to Summer 2025/26) and one return for Autumn 2026/27,
    seen by a trust leader (real data is no demonstration)."""
    from store.db import dispose, make_engine
    from store.importer import import_paths

    urn, name = EARLY
    path = write_return(sample_app / "early.xlsx", urn, AUTUMN["year"], AUTUMN["term"], name=name,
                        completed=date(2026, 12, 4))
    engine = make_engine(f"sqlite:///{sample_app / 'app.db'}")
    try:
        (outcome,) = import_paths([str(path)], engine=engine)
        assert outcome.saved is not None, outcome.report.problems
    finally:
        dispose(engine)
    sign_in("trust_leader")
    return sample_app


def on(monkeypatch, today: date) -> None:
    monkeypatch.setattr(deadlines, "current_date", lambda: today)


def headline(at) -> tuple[str, str]:
    return at.metric[0].value, next(c.value for c in at.caption if "due" in c.value or "missing" in c.value)


def test_an_early_return_leaves_the_overview_on_the_term_before(early_return, monkeypatch):
    on(monkeypatch, BEFORE_END)
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    assert at.title[0].value == "Trust overview: Summer 2025/26"


def test_an_early_return_leaves_the_school_that_sent_it_on_the_term_before_too(early_return, monkeypatch,
                                                                                  sign_in):
    on(monkeypatch, BEFORE_END)
    sign_in("dsl", [EARLY[0]], email="dsl@example.org")
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    assert at.title[0].value == "Trust overview: Summer 2025/26"


def test_the_term_under_way_chosen_shows_not_yet_due_in_grey_and_no_missing_gap(early_return, monkeypatch):
    on(monkeypatch, BEFORE_END)
    at = open_page("pages/overview.py")
    at.selectbox(key="year").set_value(AUTUMN["year"])
    at.selectbox(key="term").set_value(AUTUMN["term"]).run()
    assert_no_exception(at)
    assert at.title[0].value == "Trust overview: Autumn 2026/27"  # a term chosen is the term shown
    assert headline(at) == ("1 of 12", "11 not yet due (due by 14 January 2027)")
    words = " ".join(str(t.value.to_string()) for t in at.table) + " ".join(m.value for m in at.markdown)
    assert "No return has been received" not in words
    assert ":gray[**Not yet due: 11**]" in [m.value for m in at.markdown]
    assert not any(m.value.startswith("**Missing") for m in at.markdown)
    heat = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert sum(row.count("– Not yet due") for row in heat["text"]) == 11 * 5  # every theme, grey
    hovers = json.dumps(heat["customdata"])
    assert "Return not yet due" in hovers and "No return has been received" not in hovers


def test_the_returns_page_shows_the_term_under_way_as_not_yet_due(early_return, monkeypatch):
    on(monkeypatch, BEFORE_END)
    at = open_page("pages/returns.py", state=AUTUMN)
    assert_no_exception(at)
    grid = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert grid["x"][-1] == "Aut 2026/27"
    autumn = [row[-1] for row in grid["text"]]
    assert sorted(autumn) == ["– not yet due"] * 11 + ["✔ on time"]
    assert any("14 days after the end of the Autumn term, 14 after Spring and 14 after Summer: for Autumn "
               "2026/27, by 14 January 2027." in c.value for c in at.caption)


def test_once_the_deadline_has_passed_the_overview_moves_to_that_term_and_counts_the_missing(early_return,
                                                                                             monkeypatch):
    on(monkeypatch, AFTER_DEADLINE)
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    assert at.title[0].value == "Trust overview: Autumn 2026/27"
    assert headline(at) == ("1 of 12", "0 late, 11 missing")
    missing = at.table[0].value
    assert missing["What we found"].str.contains("No return has been received").sum() == 11
