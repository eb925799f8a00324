"""The term shown first, and returns not yet due: one school returning early for a term still under
way moves nobody's view, and its term shows the others' returns as not yet due, never missing."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from analysis import deadlines
from analysis.context import Context, restrict
from analysis.dataset import chosen_term
from analysis.gaps import find_gaps
from analysis.views import NOT_YET_DUE, returns_in, tracker_cells
from store.access import Scope

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
