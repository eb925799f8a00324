"""The challenge log as a term sees it: carried forward until closed, overdue when a due date has
passed, and whether the gap it was raised on is still found; checked by hand on small logs and on
the sample trust's real gaps across terms."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from analysis.challenges import (
    GONE,
    LATER,
    RAISED_NOW,
    STILL,
    UNKNOWN,
    beside_gaps,
    closed_since,
    for_term,
    table,
    with_state,
)
from analysis.context import Context
from analysis.dataset import load_dataset
from analysis.gaps import find_gaps, gaps_frame
from store.challenges import COLUMNS, add_challenge, list_challenges


def _item(i, *, urn="990001", theme="neglect", rule="neglect_drift", indicator="ind", year="2025/26",
          term="Autumn", status="open", due=None, closed_at=None):
    row = {c: None for c in COLUMNS}
    row |= {"id": i, "urn": urn, "school": f"School {urn}", "theme": theme, "rule": rule, "indicator": indicator,
            "academic_year": year, "term": term, "finding": "f", "question": f"q{i}", "asked_by": "Chair",
            "meeting_date": date(2026, 1, 20), "status": status, "due_date": due, "closed_at": closed_at}
    return row


def _log(*rows):
    return pd.DataFrame(list(rows), columns=COLUMNS)


def _gaps(*keys):
    return pd.DataFrame([{"urn": u, "rule": r, "indicator": i, "theme": "neglect"} for u, r, i in keys],
                        columns=["urn", "rule", "indicator", "theme"])


def test_an_open_item_is_carried_into_every_later_term_and_never_into_an_earlier_one():
    log = _log(_item(1, term="Spring"))
    assert for_term(log, "2025/26", "Autumn").empty
    for year, term in [("2025/26", "Spring"), ("2025/26", "Summer"), ("2026/27", "Autumn")]:
        assert list(for_term(log, year, term)["id"]) == [1]


def test_a_closed_item_shows_for_the_term_it_was_closed_in_then_drops_out():
    # Spring 2025/26 runs from 1 January to 31 March; closed in February
    log = _log(_item(1, status="closed", closed_at=datetime(2026, 2, 10, 9)))
    assert list(for_term(log, "2025/26", "Autumn")["id"]) == [1]
    assert list(for_term(log, "2025/26", "Spring")["id"]) == [1]
    assert for_term(log, "2025/26", "Summer").empty


def test_the_state_of_the_gap_each_item_was_raised_on():
    log = _log(_item(1), _item(2, urn="990002"), _item(3, urn="990003"), _item(4, urn="990004", term="Spring"),
               _item(5, term="Summer"))
    gaps = _gaps(("990001", "neglect_drift", "ind"), ("990002", "neglect_drift", "other measure"),
                 ("990004", "neglect_drift", "ind"))
    state = with_state(log, gaps, "2025/26", "Spring", returned={"990001", "990002", "990004"},
                       today=date(2026, 3, 1))
    assert list(state["gap_now"]) == [STILL, GONE, UNKNOWN, RAISED_NOW, LATER]
    assert list(state["carried"]) == [True, True, True, False, False]


def test_overdue_means_a_due_date_passed_and_not_closed():
    log = _log(_item(1, due=date(2026, 2, 1)), _item(2, due=date(2026, 3, 1)), _item(3, due=None),
               _item(4, due=date(2026, 2, 1), status="answered"),
               _item(5, due=date(2026, 2, 1), status="closed", closed_at=datetime(2026, 2, 20)))
    state = with_state(log, _gaps(), "2025/26", "Spring", set(), today=date(2026, 3, 1))
    assert list(state["overdue"]) == [True, False, False, True, False]
    words = table(state)
    assert "⚠ Overdue" in words.iloc[0]["Status"] and "⚠ Overdue" not in words.iloc[1]["Status"]
    assert words.iloc[3]["Status"].startswith("◐ Answered")
    assert words.iloc[4]["Status"] == "○ Closed"
    assert words.iloc[0]["Due"] == "01/02/2026" and words.iloc[2]["Due"] == ""


def test_beside_each_gap_the_live_questions_of_its_school_and_theme():
    log = _log(_item(1, due=date(2026, 1, 1)), _item(2, status="answered"), _item(3, theme="workforce"),
               _item(4, status="closed", closed_at=datetime(2026, 2, 1)), _item(5, urn="990002", status="closed",
                                                                                closed_at=datetime(2026, 2, 1)))
    words = beside_gaps(with_state(log, _gaps(), "2025/26", "Spring", set(), today=date(2026, 3, 1)))
    assert words == {("990001", "neglect"): "● 1 open, ◐ 1 answered, ⚠ overdue: 1",
                     ("990001", "workforce"): "● 1 open"}


def test_closed_since_the_last_pack():
    log = _log(_item(1, status="closed", closed_at=datetime(2026, 1, 5)),
               _item(2, status="closed", closed_at=datetime(2026, 2, 5)), _item(3))
    assert list(closed_since(log, datetime(2026, 1, 31))["id"]) == [2]
    assert list(closed_since(log, None)["id"]) == [1, 2]
    assert list(closed_since(log, None, until=datetime(2026, 1, 31))["id"]) == [1]


def test_an_empty_log_reads_as_empty_everywhere():
    empty = _log()
    assert for_term(empty, "2025/26", "Spring").empty
    state = with_state(empty, _gaps(), "2025/26", "Spring", set())
    assert state.empty and {"carried", "overdue", "gap_now"} <= set(state.columns)
    assert beside_gaps(state) == {} and table(state).empty


def test_carried_forward_on_the_sample_trust(tmp_path):
    """A question raised on a real gap stays with its school and theme next term, and the gap's
    state there is what the next term's own gap list says."""
    from store import db
    from tests.conftest import copy_sample

    engine = db.make_engine(f"sqlite:///{copy_sample(tmp_path / 's.db')}")
    try:
        data = load_dataset(engine)
        (y1, t1), (y2, t2) = data.terms[-3], data.terms[-2]
        first = gaps_frame(find_gaps(Context(data, y1, t1)))
        second_ctx = Context(data, y2, t2)
        second = gaps_frame(find_gaps(second_ctx))
        keys_next = set(zip(second["urn"], second["rule"], second["indicator"]))
        returned = {s.urn for s in second_ctx.expected() if s.returned}
        picked = first.drop_duplicates(["urn", "rule", "indicator"]).head(12)
        for g in picked.itertuples():
            add_challenge(engine, urn=g.urn, theme=g.theme, rule=g.rule, indicator=g.indicator,
                          academic_year=y1, term=t1, finding=g.finding, question=g.question, asked_by="Chair",
                          meeting_date=date(2026, 1, 20), user="chair@trust")
        log = list_challenges(engine)
        state = with_state(for_term(log, y2, t2), second, y2, t2, returned)
        assert len(state) == len(picked) and state["carried"].all()
        for r in state.itertuples():
            if (r.urn, r.rule, r.indicator) in keys_next:
                assert r.gap_now == STILL
            else:
                assert r.gap_now == (GONE if r.urn in returned else UNKNOWN)
        # the sample trust has gaps of both kinds here, so both branches were tried
        assert STILL in set(state["gap_now"]) and {GONE, UNKNOWN} & set(state["gap_now"])
    finally:
        db.dispose(engine)


def test_a_reader_with_small_counts_hidden_sees_each_finding_in_their_own_words():
    from analysis.challenges import NOT_SHOWN, for_reader

    log = _log(_item(1), _item(2, urn="990002"), _item(3, rule="dsl_training", indicator=""))
    log["finding"] = ["Reviewed for 2 of 3 flagged children (67%).", "Something else of 4 children.",
                      "Refresher last on 12 June 2024."]
    log["question"] = ["Why were 2 not reviewed?", "What next?", "When is it booked?"]
    log["answer"] = pd.Series([None, "3 children now have plans.", None], dtype=object)
    trustee_gaps = {("2025/26", "Autumn"): pd.DataFrame([
        {"urn": "990001", "rule": "neglect_drift", "indicator": "ind",
         "finding": "Reviewed for fewer than 5 of fewer than 5 flagged children."},
        {"urn": "990001", "rule": "dsl_training", "indicator": "", "finding": "Full training last on 8 Nov 2023."},
        {"urn": "990001", "rule": "dsl_training", "indicator": "", "finding": "Refresher last on 12 June 2024."},
    ])}
    asked = []

    def gaps_for(year, term):
        asked.append((year, term))
        return trustee_gaps[(year, term)]

    shown = for_reader(log, True, gaps_for)
    assert list(shown["finding"]) == ["Reviewed for fewer than 5 of fewer than 5 flagged children.", NOT_SHOWN,
                                      "Refresher last on 12 June 2024."]
    assert list(shown["question"]) == ["Why were fewer than 5 not reviewed?", "What next?", "When is it booked?"]
    assert shown.iloc[1]["answer"] == "fewer than 5 children now have plans." and shown.iloc[0]["answer"] is None
    assert asked == [("2025/26", "Autumn")]  # each term's gap list is asked for once
    assert for_reader(log, False, gaps_for) is log  # a leader reads what was typed
    assert asked == [("2025/26", "Autumn")]


def test_a_reader_sees_an_item_raised_after_the_term_looked_at_withheld_and_its_term_is_not_looked_up():
    from analysis.challenges import NOT_SHOWN, for_reader

    log = _log(_item(1, term="Autumn"), _item(2, term="Summer"))
    log["finding"] = ["Reviewed for 2 of 3 flagged children.", "Reviewed for 1 of 2 flagged children."]
    asked = []

    def gaps_for(year, term):
        asked.append((year, term))
        return pd.DataFrame([{"urn": "990001", "rule": "neglect_drift", "indicator": "ind",
                              "finding": f"Reviewed in {term} for fewer than 5."}])

    shown = for_reader(log, True, gaps_for, upto=("2025/26", "Spring"))
    assert asked == [("2025/26", "Autumn")]
    assert list(shown["finding"]) == ["Reviewed in Autumn for fewer than 5.", NOT_SHOWN]
    assert list(for_reader(log, True, gaps_for)["finding"]) == ["Reviewed in Autumn for fewer than 5.",
                                                               "Reviewed in Summer for fewer than 5."]


def test_a_reader_with_small_counts_hidden_reads_an_items_changes_with_them_hidden_too():
    """The record of changes repeats what was typed; a trustee reads it as they read the item."""
    from analysis.challenges import history_for_reader

    history = pd.DataFrame({
        "at": [datetime(2026, 3, 2, 9), datetime(2026, 3, 1, 9)], "actor": ["ceo@trust", "ceo@trust"],
        "what": ["changed", "raised"],
        "changes": ["Answer: Two were seen on 3 March → 3 were seen; Status: open → answered",
                    "Question: Why were 2 children not seen?; Asked by: Chair; Meeting date: 2026-01-30"],
    })
    shown = history_for_reader(history, True)
    assert list(shown["changes"]) == [
        "Answer: Fewer than 5 were seen on 3 March → fewer than 5 were seen; Status: open → answered",
        "Question: Why were fewer than 5 children not seen?; Asked by: Chair; Meeting date: 2026-01-30"]
    assert history_for_reader(history, False) is history  # a leader reads what was typed
    assert history_for_reader(history.iloc[0:0], True).empty


def test_the_answer_says_who_gave_it_and_on_what_day_as_far_as_known():
    rows = [_item(1) | {"answer": "Reviewed.", "answered_by": "Morgan Fairweather, DSL",
                        "answered_at": datetime(2027, 1, 12, 15, 30)},
            _item(2) | {"answer": "Reviewed.", "answered_by": "Head"},  # answered before the day was kept
            _item(3) | {"answer": "Reviewed.", "answered_at": pd.Timestamp("2027-01-13 09:00")},
            _item(4) | {"answered_at": pd.NaT}]
    shown = table(_log(*rows))
    assert list(shown["Answer"]) == ["Reviewed. (Morgan Fairweather, DSL, 12/01/2027)", "Reviewed. (Head)",
                                     "Reviewed. (13/01/2027)", ""]


def test_the_next_pack_says_who_answered_and_when(sample_engine, tmp_path):
    """A school's DSL answers the board's question; the next term's pack, the leaders' and the
    trustees', shows the answer with who gave it and the day."""
    from reports.html import render_html
    from reports.pack import pack_from_dataset
    from store import db
    from store.access import DSL, Scope
    from store.challenges import update_challenge
    from store.upgrades import copy_sqlite, sqlite_file

    copy_sqlite(sqlite_file(sample_engine), tmp_path / "s.db")
    engine = db.make_engine(f"sqlite:///{tmp_path / 's.db'}")
    try:
        data = load_dataset(engine)
        (y1, t1), (y2, t2) = data.terms[-2], data.terms[-1]
        gap = next(g for g in find_gaps(Context(data, y1, t1)) if g.urn == "990002")
        item = add_challenge(engine, urn=gap.urn, theme=gap.theme, rule=gap.rule, indicator=gap.indicator,
                             academic_year=y1, term=t1, finding=gap.finding, question="What is the plan?",
                             asked_by="Chair", meeting_date=date(2026, 4, 20), user="chair@trust")
        update_challenge(engine, item, user="dsl@kestrel", answer="A plan is agreed with the local authority.",
                         answered_by="Morgan Fairweather, DSL", status="answered",
                         scope=Scope(DSL, "dsl@kestrel", frozenset({"990002"}), suppress=False))
        day = list_challenges(engine).iloc[0]["answered_at"].strftime("%d/%m/%Y")
        for role in ("leader", "trustee"):
            pack = pack_from_dataset(data, y2, t2, role=role, challenges=list_challenges(engine))
            assert list(table(pack.board_open)["Answer"]) == [
                f"A plan is agreed with the local authority. (Morgan Fairweather, DSL, {day})"], role
            assert f"A plan is agreed with the local authority. (Morgan Fairweather, DSL, {day})" in render_html(pack)
    finally:
        db.dispose(engine)
