"""The term shown first, and returns not yet due: one school returning early for a term still under
way moves nobody's view, and its term shows the others' returns as not yet due, never missing."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from analysis import deadlines
from analysis.context import Context, restrict
from analysis.dataset import chosen_term
from analysis.gaps import find_gaps
from analysis.thresholds import resolve
from analysis.views import NOT_YET_DUE, returns_in, tracker_cells
from loaders.registry import term_index
from store.access import Scope
from store.thresholds import load_thresholds, set_threshold

LAST, NOW = ("2025/26", "Summer"), ("2026/27", "Autumn")  # Summer due 14 Aug 2026; Autumn due 14 Jan 2027
SCHOOLS = [f"1000{i:02d}" for i in range(1, 13)]
BEFORE_END, AFTER_END, AFTER_DEADLINE = date(2026, 12, 7), date(2027, 1, 10), date(2027, 1, 15)


def early(trust, *, who=SCHOOLS[:1], on=datetime(2026, 12, 4, 9)):
    """Twelve schools returned last term; ``who`` have returned for the term under way, on ``on``."""
    for urn in SCHOOLS:
        trust.add(urn, year=LAST[0], term=LAST[1])
    for urn in who:
        trust.add(urn, year=NOW[0], term=NOW[1], submitted=on)
    return trust.dataset()


def test_one_early_return_keeps_everyones_default_on_the_term_before(trust):
    data = early(trust)
    assert data.latest_term() == NOW
    assert deadlines.default_term(data, today=BEFORE_END) == LAST
    assert deadlines.default_term(data, today=AFTER_END) == LAST  # ended, but not yet due
    dsl = Scope("dsl", "dsl@example.org", frozenset({SCHOOLS[0]}), suppress=False, active=True)
    trustee = Scope("trustee", "t@example.org", None, suppress=True, active=True)
    for reader in (dsl, trustee):  # the school that returned early too: everyone starts on the same term
        assert deadlines.default_term(restrict(data, reader), today=BEFORE_END) == LAST
    assert chosen_term(data, None, None, today=BEFORE_END) == LAST
    assert chosen_term(data, *NOW, today=BEFORE_END) == NOW  # asked for, it is given


def test_the_term_under_way_shows_not_yet_due_and_no_red_gap(trust):
    ctx = Context(early(trust), *NOW, today=BEFORE_END)
    assert not ctx.past_due and ctx.due == date(2027, 1, 14)
    gaps = find_gaps(ctx)
    assert not [g for g in gaps if g.indicator == "return"]
    assert not any("No return has been received" in g.finding for g in gaps)
    assert returns_in(ctx) == (1, 12, "11 not yet due (due by 14 January 2027)")
    cells = tracker_cells(ctx.data, today=BEFORE_END)
    now = cells[(cells["academic_year"] == NOW[0]) & (cells["term"] == NOW[1])]
    assert sorted(now["label"]) == [NOT_YET_DUE] * 11 + ["on time"]
    assert set(now[now["label"] == NOT_YET_DUE]["level"]) == {"no data"}  # grey: neither red nor amber


def test_once_the_deadline_passes_the_default_moves_and_the_rest_are_missing(trust):
    data = early(trust)
    assert deadlines.default_term(data, today=AFTER_DEADLINE) == NOW
    ctx = Context(data, *NOW, today=AFTER_DEADLINE)
    missing = [g for g in find_gaps(ctx) if g.rule == "missing_return"]
    assert len(missing) == 11 and {g.severity for g in missing} == {"red"}
    assert returns_in(ctx) == (1, 12, "0 late, 11 missing")
    cells = tracker_cells(data, today=AFTER_DEADLINE)
    assert (cells[cells["term"] == NOW[1]]["label"] == "missing").sum() == 11


def test_the_tracker_from_one_term_is_that_terms_rows_of_the_whole_tracker(trust):
    """The Overview asks the tracker for the term shown alone (``since``): the same rows the whole
    tracker has for that term, in the same order, and for no other term."""
    data = early(trust)
    whole = tracker_cells(data, today=AFTER_DEADLINE)
    for year, term in data.terms:
        index = term_index(year, term)
        alone = tracker_cells(data, today=AFTER_DEADLINE, last=index, since=index)
        mine = whole[(whole["academic_year"] == year) & (whole["term"] == term)].reset_index(drop=True)
        assert len(alone) and len(alone) == len(mine)
        pd.testing.assert_frame_equal(alone, mine, check_dtype=False)  # a term with none missing has whole days late


def test_once_every_school_has_returned_the_current_term_is_the_default(trust):
    data = early(trust, who=SCHOOLS)
    assert deadlines.default_term(data, today=BEFORE_END) == NOW
    assert returns_in(Context(data, *NOW, today=BEFORE_END))[:2] == (12, 12)


@pytest.mark.parametrize("days, due", [(14, date(2027, 1, 14)), (30, date(2027, 1, 30))])
def test_the_trusts_own_days_for_returning_set_every_deadline(trust, days, due):
    data = early(trust)
    limits = {"return_due_days": days}
    assert deadlines.deadline(*NOW, limits) == due
    after_the_usual = date(2027, 1, 20)
    moved = days == 14
    assert deadlines.default_term(data, limits, after_the_usual) == (NOW if moved else LAST)
    ctx = Context(data, *NOW, limits, today=after_the_usual)
    assert ctx.due == due and ctx.past_due == moved
    assert bool([g for g in find_gaps(ctx) if g.rule == "missing_return"]) == moved
    cells = tracker_cells(data, limits, today=after_the_usual)
    assert (cells[cells["term"] == NOW[1]]["label"] == NOT_YET_DUE).sum() == (0 if moved else 11)


def test_lateness_is_counted_from_the_trusts_deadline(trust):
    data = early(trust, on=datetime(2027, 1, 20, 9))
    assert Context(data, *NOW, today=date(2027, 2, 1)).school_term(SCHOOLS[0]).days_late == 6
    assert Context(data, *NOW, {"return_due_days": 30}, today=date(2027, 2, 1)).school_term(SCHOOLS[0]).days_late == -10


def test_when_no_term_is_due_yet_the_earliest_is_shown(trust):
    trust.add(SCHOOLS[0], year=NOW[0], term=NOW[1], submitted=datetime(2026, 12, 4, 9))
    trust.school(SCHOOLS[1])  # known to the trust, not yet returned
    assert deadlines.default_term(trust.dataset(), today=BEFORE_END) == NOW


def test_each_term_has_the_trusts_own_days_and_summer_may_run_to_september():
    limits = {"return_due_autumn": 10, "return_due_spring": 20, "return_due_summer": 61}
    assert deadlines.deadline("2025/26", "Autumn", limits) == date(2026, 1, 10)
    assert deadlines.deadline("2025/26", "Spring", limits) == date(2026, 4, 20)
    assert deadlines.deadline("2025/26", "Summer", limits) == date(2026, 9, 30)
    assert [deadlines.deadline("2025/26", t) for t in ("Autumn", "Spring", "Summer")] == [
        date(2026, 1, 14), date(2026, 4, 14), date(2026, 8, 14)]  # the defaults: two weeks each


def test_an_old_databases_single_days_stay_the_fallback_for_each_term_until_it_has_its_own():
    old = {"return_due_days": 30}  # stored before each term had its own
    assert [deadlines.deadline("2025/26", t, old) for t in ("Autumn", "Spring", "Summer")] == [
        date(2026, 1, 30), date(2026, 4, 30), date(2026, 8, 30)]
    own_summer = {**old, "return_due_summer": 45}
    assert [deadlines.deadline("2025/26", t, own_summer) for t in ("Autumn", "Spring", "Summer")] == [
        date(2026, 1, 30), date(2026, 4, 30), date(2026, 9, 14)]
    # once resolved (as a Context holds them) the fallback is kept, and resolving again changes nothing
    resolved = resolve(own_summer)
    assert resolve(resolved) == resolved
    assert deadlines.deadline("2025/26", "Autumn", resolved) == date(2026, 1, 30)


def test_an_old_database_keeps_its_deadlines_through_the_store(sqlite_engine):
    set_threshold(sqlite_engine, "return_due_days", 30, user="ceo@trust")
    stored = load_thresholds(sqlite_engine)
    assert deadlines.deadline(*NOW, stored) == date(2027, 1, 30)
    set_threshold(sqlite_engine, "return_due_autumn", 7, user="ceo@trust")
    assert deadlines.deadline(*NOW, load_thresholds(sqlite_engine)) == date(2027, 1, 7)
    assert deadlines.deadline(*LAST, load_thresholds(sqlite_engine)) == date(2026, 8, 30)


def test_a_terms_own_days_move_its_default_term_and_its_missing_returns(trust):
    data = early(trust)
    after_a_week = date(2027, 1, 8)
    quick = {"return_due_autumn": 7, "return_due_summer": 60}
    assert deadlines.default_term(data, quick, after_a_week) == NOW
    assert len([g for g in find_gaps(Context(data, *NOW, quick, today=after_a_week))
                if g.rule == "missing_return"]) == 11
    assert deadlines.default_term(data, {"return_due_spring": 7}, after_a_week) == LAST  # another term's days


def test_reminders_and_late_emails_follow_each_terms_deadline():
    from analysis.notify import next_deadline, terms_due_near

    limits = {"return_due_summer": 61}
    assert next_deadline(date(2026, 8, 20), limits) == ("2025/26", "Summer", date(2026, 9, 30))
    assert next_deadline(date(2026, 8, 20), {}) == ("2026/27", "Autumn", date(2027, 1, 14))
    assert terms_due_near(date(2026, 10, 1), limits, before=-1, after=3) == [("2025/26", "Summer", date(2026, 9, 30))]
