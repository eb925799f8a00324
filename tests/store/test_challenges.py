"""The board's challenge log in the store: raised on a gap, answered, actioned, closed; every
change audited with old and new values in the same write; bad input refused with a sentence and
nothing stored."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from store import upgrades
from store.audit import utcnow
from store.challenges import ChallengeError, add_challenge, challenge_history, list_challenges, update_challenge
from store.deletion import delete_school
from store.schema import audit, challenges, schools

GAP = dict(urn="990001", theme="neglect", rule="neglect_drift", indicator="neglect_monitoring_share",
           academic_year="2025/26", term="Autumn", finding="Most neglect flags sit on monitoring.")


@pytest.fixture
def school(engine):
    with engine.begin() as conn:
        conn.execute(schools.insert().values(urn="990001", name="Kestrel Vale Primary School", created_at=utcnow()))
        conn.execute(schools.insert().values(urn="990002", name="Heron Bridge Academy", created_at=utcnow()))
    return engine


def _audit(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(audit).order_by(audit.c.id)).all()


def _raise(engine, **kw):
    args = dict(GAP, question="Why do so many flags stay on monitoring?", asked_by="Chair",
                meeting_date=date(2026, 1, 20), user="chair@trust") | kw
    return add_challenge(engine, **args)


def test_a_question_raised_on_a_gap_is_stored_with_the_gap_and_audited(school):
    item = _raise(school, action="Review every flag older than a term", owner="Trust safeguarding lead",
                  due_date=date(2026, 3, 1))
    log = list_challenges(school)
    assert len(log) == 1
    row = log.iloc[0]
    assert row["id"] == item and row["school"] == "Kestrel Vale Primary School"
    assert (row["theme"], row["rule"], row["indicator"]) == ("neglect", "neglect_drift", "neglect_monitoring_share")
    assert (row["academic_year"], row["term"], row["status"]) == ("2025/26", "Autumn", "open")
    assert row["meeting_date"] == date(2026, 1, 20) and row["due_date"] == date(2026, 3, 1)
    assert row["answer"] is None and row["closed_at"] is None
    (entry,) = _audit(school)
    assert (entry.action, entry.outcome, entry.actor, entry.urn) == ("add_challenge", "done", "chair@trust", "990001")
    assert entry.detail["id"] == item
    assert entry.detail["changes"]["question"] == [None, "Why do so many flags stay on monitoring?"]
    assert entry.detail["changes"]["due_date"] == [None, "2026-03-01"]
    assert "answer" not in entry.detail["changes"]


def test_the_lifecycle_open_answered_closed_is_audited_field_by_field(school):
    item = _raise(school)
    changed = update_challenge(school, item, user="ceo@trust", answer="Flags are reviewed half-termly now.",
                               answered_by="Headteacher", status="answered")
    assert changed == {"answer": [None, "Flags are reviewed half-termly now."],
                       "answered_by": [None, "Headteacher"], "status": ["open", "answered"]}
    assert list_challenges(school).iloc[0]["closed_at"] is None

    update_challenge(school, item, user="chair@trust", status="closed")
    row = list_challenges(school).iloc[0]
    assert row["status"] == "closed" and isinstance(row["closed_at"], datetime)
    assert row["updated_by"] == "chair@trust"

    # reopening clears the closing time
    update_challenge(school, item, user="chair@trust", status="open")
    assert list_challenges(school).iloc[0]["closed_at"] is None

    actions = [(a.action, a.actor) for a in _audit(school)]
    assert actions == [("add_challenge", "chair@trust"), ("update_challenge", "ceo@trust"),
                       ("update_challenge", "chair@trust"), ("update_challenge", "chair@trust")]
    history = challenge_history(school, item)
    assert list(history["what"]) == ["changed", "changed", "changed", "raised"]
    assert "Status: answered → closed" in history.iloc[1]["changes"]
    assert "Answer: Flags are reviewed half-termly now." in history.iloc[2]["changes"]


def test_saving_what_is_already_stored_changes_nothing_and_audits_nothing(school):
    item = _raise(school)
    assert update_challenge(school, item, user="x", question="  Why do so many flags stay on monitoring? ") == {}
    assert len(_audit(school)) == 1


@pytest.mark.parametrize("kw, words", [
    ({"question": "   "}, "Type the board's question"),
    ({"asked_by": ""}, "who asked"),
    ({"meeting_date": None}, "date of the meeting"),
    ({"meeting_date": "20/01/2026"}, "must be a date"),
    ({"status": "pending"}, "open, answered or closed"),
    ({"status": "answered"}, "Type the answer"),
    ({"action": "Audit the flags"}, "owns the action"),
    ({"question": "x" * 5000}, "keep it under"),
    ({"urn": "999999"}, "No school with URN 999999"),
])
def test_bad_input_is_refused_with_a_sentence_and_nothing_is_stored(school, kw, words):
    with pytest.raises(ChallengeError, match=words):
        _raise(school, **kw)
    assert list_challenges(school).empty
    assert _audit(school) == []


def test_a_refused_change_leaves_the_item_and_the_audit_as_they_were(school):
    item = _raise(school)
    before = list_challenges(school)
    with pytest.raises(ChallengeError, match="Type the answer"):
        update_challenge(school, item, user="x", status="answered")
    with pytest.raises(ChallengeError, match="cannot be changed"):
        update_challenge(school, item, user="x", urn="990002")
    with pytest.raises(ChallengeError, match="no board question numbered 999"):
        update_challenge(school, 999, user="x", status="closed")
    assert list_challenges(school).equals(before)
    assert len(_audit(school)) == 1


def test_the_log_can_be_read_for_some_schools_only(school):
    _raise(school)
    _raise(school, urn="990002")
    assert list(list_challenges(school, urns=["990002"])["urn"]) == ["990002"]
    assert list_challenges(school, urns=[]).empty
    assert len(list_challenges(school)) == 2


def test_deleting_a_school_takes_its_questions_with_it(school):
    _raise(school)
    _raise(school, urn="990002")
    counts = delete_school(school, "990001", user="ceo@trust")
    assert counts["challenges"] == 1
    assert list(list_challenges(school)["urn"]) == ["990002"]


def test_a_database_from_before_the_log_gains_an_empty_one_when_upgraded(engine):
    from .test_upgrades import _baseline_metadata

    released = set(_baseline_metadata().tables)
    with engine.begin() as conn:
        challenges.drop(conn)
        conn.execute(sa.text(f"DROP TABLE {upgrades.VERSION_TABLE}"))
        # a release from before the versions had none of the tables added since, nor their columns
        for name in sorted(set(sa.inspect(conn).get_table_names()) - released):
            conn.execute(sa.text(f"DROP TABLE {name}"))
        for name in sorted(released - {"challenges"}):
            had = set(_baseline_metadata().tables[name].columns.keys())
            for column in sa.inspect(conn).get_columns(name):
                if column["name"] not in had:
                    conn.execute(sa.text(f"ALTER TABLE {name} DROP COLUMN {column['name']}"))
    assert upgrades.upgrade(engine).before is None
    assert list_challenges(engine).empty


def test_a_blank_field_reads_back_as_none_beside_filled_ones(school):
    first = _raise(school)
    _raise(school, urn="990002", action="Audit the flags", owner="Head")
    update_challenge(school, first, user="x", answer="Done.", answered_by="Head", status="answered")
    log = list_challenges(school).set_index("id")
    assert log.loc[first, "action"] is None and log.loc[first, "owner"] is None
    assert log.loc[first + 1, "answer"] is None and log.loc[first + 1, "answered_by"] is None


def test_the_stores_generation_moves_with_every_change_to_the_log_and_only_then(school):
    """What a reader's cached copy of the log is keyed on (ui/views.py)."""
    from store.db import generation

    empty = generation(school)
    item = _raise(school)
    raised = generation(school)
    assert raised == empty + 1 and generation(school) == raised
    update_challenge(school, item, user="x", owner="Head")
    assert generation(school) == raised + 1
    update_challenge(school, item, user="x", owner="Head")  # nothing changed
    assert generation(school) == raised + 1


# ---- A school's DSL answers the board ------------------------------------------------------------

def _dsl(*urns, active=True):
    from store.access import DSL, Scope

    return Scope(DSL, "dsl@kestrel.example.org", frozenset(urns), suppress=False, active=active)


def test_a_dsl_answers_a_question_about_their_own_school_and_every_change_is_audited(school):
    item = _raise(school)
    changed = update_challenge(school, item, user="dsl@kestrel.example.org", scope=_dsl("990001"),
                               answer="Every flag was reviewed in March.", answered_by="Morgan Fairweather, DSL",
                               action="Review flags half-termly", owner="DSL", due_date=date(2026, 4, 30),
                               status="answered")
    assert set(changed) == {"answer", "answered_by", "action", "owner", "due_date", "status"}
    row = list_challenges(school).iloc[0]
    assert (row["status"], row["answered_by"]) == ("answered", "Morgan Fairweather, DSL")
    assert isinstance(row["answered_at"], datetime) and row["answered_at"] == row["updated_at"]
    (_, entry) = _audit(school)
    assert (entry.actor, entry.action, entry.urn) == ("dsl@kestrel.example.org", "update_challenge", "990001")
    assert entry.detail["changes"]["answer"] == [None, "Every flag was reviewed in March."]
    assert entry.detail["changes"]["status"] == ["open", "answered"]
    # changing the action later keeps when the answer was given; a new answer moves it
    first = row["answered_at"]
    update_challenge(school, item, user="dsl@kestrel.example.org", scope=_dsl("990001"), owner="Deputy DSL")
    assert list_challenges(school).iloc[0]["answered_at"] == first
    update_challenge(school, item, user="dsl@kestrel.example.org", scope=_dsl("990001"), answer="Reviewed again.")
    assert list_challenges(school).iloc[0]["answered_at"] > first


@pytest.mark.parametrize("scope, changes, words", [
    (_dsl("990002"), {"answer": "Not my school."}, "only the board's questions about your own school"),
    (_dsl(), {"answer": "A DSL of no school."}, "only the board's questions about your own school"),
    (_dsl("990001", active=False), {"answer": "Removed."}, "only the board's questions about your own school"),
    (_dsl("990001"), {"status": "closed"}, "Only a trust leader or a trustee closes"),
    (_dsl("990001"), {"question": "A softer question?"}, "question can be changed by trust leaders"),
    (_dsl("990001"), {"asked_by": "Me", "meeting_date": date(2026, 1, 1)}, "asked by, meeting date can be changed"),
])
def test_a_dsl_is_refused_in_the_store_and_nothing_changes(school, scope, changes, words):
    from store.challenges import NotYours

    item = _raise(school)
    before = list_challenges(school)
    with pytest.raises(NotYours, match=words):
        update_challenge(school, item, user="dsl@kestrel.example.org", scope=scope, **changes)
    assert list_challenges(school).equals(before) and len(_audit(school)) == 1


def test_a_question_the_board_closed_is_no_longer_the_dsls_to_change(school):
    from store.access import TRUSTEE, Scope
    from store.challenges import NotYours

    item = _raise(school)
    chair = Scope(TRUSTEE, "chair@trust", None, suppress=True)
    update_challenge(school, item, user="chair@trust", scope=chair, answer="Seen.", status="closed")
    with pytest.raises(NotYours, match="closed this question"):
        update_challenge(school, item, user="dsl@kestrel.example.org", scope=_dsl("990001"), answer="More to say.")
    # the board reopens it, and the DSL may answer again
    update_challenge(school, item, user="chair@trust", scope=chair, status="open")
    assert update_challenge(school, item, user="dsl@kestrel.example.org", scope=_dsl("990001"), answer="More.")


def test_unchanged_fields_a_dsl_may_not_change_can_come_with_the_answer(school):
    """A form sends every field back: the ones left as they were are no change, so not refused."""
    item = _raise(school)
    changed = update_challenge(school, item, user="dsl@kestrel.example.org", scope=_dsl("990001"),
                               question="Why do so many flags stay on monitoring?", answer="They were reviewed.")
    assert set(changed) == {"answer"}
