"""The store's generation: every write that changes what the pages show moves it on by exactly one,
in the write's own transaction; writes the pages never show (sign-ins, sessions, emails, drafts, the
record of changes) leave it; a write rolled back leaves it. Each test runs on SQLite and, when
TEST_DATABASE_URL is set, on PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from analysis.thresholds import DEFAULTS
from store import db, sessions, users
from store.audit import write_audit
from store.challenges import add_challenge, update_challenge
from store.deletion import delete_school
from store.drafts import save_draft
from store.outbox import queue_test
from store.phases import set_phase
from store.returns import rename_school, save_return
from store.thresholds import reset_threshold, set_threshold
from tests.store.conftest import make_report

LEADER = "lead@trust.example"
THRESHOLD = sorted(DEFAULTS)[0]


def _store(engine, urn="149001", term="Autumn", seed=1):
    report, content = make_report(urn, "2025/26", term, seed=seed)
    return save_return(engine, report, content, user=LEADER)


def _question(engine):
    return add_challenge(engine, urn="149001", theme="neglect", rule="neglect_drift", indicator="x",
                         academic_year="2025/26", term="Autumn", finding="A finding.", question="Why?",
                         asked_by="Chair", meeting_date=date(2026, 1, 20), user=LEADER)


@pytest.fixture
def stored(engine):
    """A database holding one return, a trust leader and a DSL."""
    _store(engine)
    users.add_user(engine, LEADER, role="trust_leader", password="a long enough password", actor="setup")
    users.add_user(engine, "dsl@school.example", role="dsl", urns=("149001",), actor="setup")
    return engine


# Each write the pages show, as a person would make it.
MOVES = {
    "a return stored": lambda e: _store(e, term="Spring", seed=2),
    "a new version of a return": lambda e: _store(e, seed=3),
    "a school renamed": lambda e: rename_school(e, "149001", "Brackenfold Primary", user=LEADER),
    "a school's phase set": lambda e: set_phase(e, "149001", "Secondary", user=LEADER),
    "a threshold changed": lambda e: set_threshold(e, THRESHOLD, DEFAULTS[THRESHOLD] + 1, user=LEADER),
    "a user added": lambda e: users.add_user(e, "trustee@trust.example", role="trustee", actor=LEADER),
    "a user's role changed": lambda e: users.set_role(e, "dsl@school.example", "trustee", actor=LEADER),
    "a user removed": lambda e: users.remove_user(e, "dsl@school.example", actor=LEADER),
    "a board question raised": _question,
    "a school deleted": lambda e: delete_school(e, "149001", user=LEADER),
}


@pytest.mark.parametrize("write", MOVES, ids=list(MOVES))
def test_every_write_the_pages_show_moves_the_generation_by_one(stored, write):
    before = db.generation(stored)
    MOVES[write](stored)
    assert db.generation(stored) == before + 1


def test_changing_and_resetting_a_threshold_and_answering_a_question_each_move_it(stored):
    item = _question(stored)
    set_threshold(stored, THRESHOLD, DEFAULTS[THRESHOLD] + 1, user=LEADER)
    before = db.generation(stored)
    update_challenge(stored, item, user=LEADER, answer="Because.")
    reset_threshold(stored, THRESHOLD, user=LEADER)
    assert db.generation(stored) == before + 2


# Writes no cached view is made from.
QUIET = {
    "a sign-in": lambda e: users.verify_password(e, LEADER, "a long enough password", source="127.0.0.1"),
    "a failed sign-in": lambda e: users.verify_password(e, LEADER, "wrong", source="127.0.0.1"),
    "a session started and ended": lambda e: sessions.end(e, sessions.start(e, LEADER, source=None)),
    "a line in the record of changes": lambda e: _record(e),
    "an email queued": lambda e: queue_test(e, to=LEADER, name="Lead"),
    "a draft kept": lambda e: save_draft(e, user=LEADER, urn="149001", academic_year="2025/26", term="Summer",
                                         file_name="r.xlsx", content=b"bytes", report_json=None),
}


def _record(engine):
    with db.writing(engine) as conn:
        write_audit(conn, actor=LEADER, action="export", outcome="done", detail={"what": "gap list"})


@pytest.mark.parametrize("write", QUIET, ids=list(QUIET))
def test_writes_no_page_shows_from_its_cache_leave_the_generation(stored, write):
    before = db.generation(stored)
    QUIET[write](stored)
    assert db.generation(stored) == before


def test_a_write_rolled_back_leaves_the_generation(stored):
    before = db.generation(stored)
    with pytest.raises(LookupError):
        rename_school(stored, "999999", "Nowhere", user=LEADER)  # refused after its read: rolled back
    with pytest.raises(RuntimeError), db.writing(stored) as conn:
        conn.execute(users.users.update().values(name="Someone"))
        raise RuntimeError("a failure after the write")
    assert db.generation(stored) == before


def test_the_generation_moves_in_the_writes_own_transaction(stored):
    """Until the write commits, another reader sees neither the change nor the new generation."""
    from store.schema import schools

    before = db.generation(stored)
    with db.writing(stored) as conn:
        conn.execute(schools.update().where(schools.c.urn == "149001").values(name="Renamed"))
        db.bump(conn)  # a write on the driver's own cursor bumps by hand: once more, still one transaction
        assert db.generation(stored) == before
        assert db.generation(conn) == before + 1
    assert db.generation(stored) == before + 2


def test_a_database_before_its_first_write_is_at_generation_zero(empty_engine):
    from store.upgrades import upgrade

    upgrade(empty_engine)
    assert db.generation(empty_engine) == 0
    _store(empty_engine)
    assert db.generation(empty_engine) == 1


@pytest.mark.parametrize("statement, moves", [
    ("INSERT INTO return_values (return_id) VALUES (?)", True),
    ('UPDATE "schools" SET name=%(name)s', True),
    ("DELETE FROM user_schools WHERE email = ?", True),
    ("INSERT INTO a_table_added_later (x) VALUES (1)", True),
    ("INSERT INTO audit (at) VALUES (?)", False),
    ("UPDATE sessions SET last_seen_at=?", False),
    ("DELETE FROM login_attempts WHERE at < ?", False),
    ("UPDATE outbox SET status=?", False),
    ("SELECT name FROM schools", False),
])
def test_which_statements_move_it(statement, moves):
    assert db.moves_generation(statement) is moves
