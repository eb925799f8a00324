"""Sessions: a token signs its person in until they sign out, leave it unused for the idle limit,
are removed or get a new password; the database holds only the token's hash; an ended session
stays ended however often its token is sent again. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from store import sessions
from store.audit import utcnow
from store.schema import audit, login_attempts, users
from store.schema import sessions as sessions_table
from store.users import add_user, remove_user, set_password

PASSWORD = "lantern meadow copper"
CEO, TRUSTEE = "ceo@trust.example", "trustee@trust.example"
HOUR = timedelta(hours=1)


@pytest.fixture
def people(engine):
    add_user(engine, CEO, role="trust_leader", name="Avery Quill", password=PASSWORD, actor="setup")
    add_user(engine, TRUSTEE, role="trustee", password=PASSWORD, actor="setup")
    return engine


def rows(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(sessions_table).order_by(sessions_table.c.created_at)).all()


def test_a_token_signs_in_its_person_and_only_its_hash_is_stored(people):
    token = sessions.start(people, CEO, source="10.0.0.1")
    assert len(token) >= 43  # 256 random bits
    seen = sessions.resolve(people, token)
    assert (seen.user.email, seen.user.name, seen.user.role, seen.ended) == (CEO, "Avery Quill", "trust_leader", None)
    (row,) = rows(people)
    assert (row.token_hash, row.email, row.source, row.ended_at) == (sessions.token_hash(token), CEO, "10.0.0.1", None)
    with people.connect() as conn:
        stored = json.dumps([dict(r._mapping) for t in (sessions_table, users, audit, login_attempts)
                             for r in conn.execute(sa.select(t))], default=str)
    assert token not in stored


@pytest.mark.parametrize("token", [None, "", "a token nobody was given", "x" * 5000])
def test_a_token_never_given_signs_in_nobody(people, token):
    assert sessions.resolve(people, token) == sessions.Seen(None, None)


def test_each_sign_in_is_a_session_of_its_own(people):
    first, second = sessions.start(people, CEO, source=None), sessions.start(people, CEO, source=None)
    assert first != second
    assert sessions.end(people, first) == CEO
    assert sessions.resolve(people, first) == sessions.Seen(None, "signed out")
    assert sessions.resolve(people, second).user.email == CEO


def test_a_signed_out_token_sent_again_signs_in_nobody(people):
    token = sessions.start(people, CEO, source="10.0.0.1")
    assert sessions.end(people, token) == CEO
    for _ in range(3):
        assert sessions.resolve(people, token) == sessions.Seen(None, "signed out")
    assert sessions.end(people, token) is None  # nothing left to end
    (row,) = rows(people)
    assert row.ended_why == "signed out" and row.ended_at is not None


def test_a_session_unused_for_the_idle_limit_ends_and_use_keeps_it_alive(people):
    start = utcnow()
    token = sessions.start(people, CEO, source=None, now=start)
    idle = 8 * HOUR
    assert sessions.resolve(people, token, idle=idle, now=start + 7 * HOUR).user.email == CEO
    assert sessions.resolve(people, token, idle=idle, now=start + 14 * HOUR).user.email == CEO  # 7 hours after use
    assert sessions.resolve(people, token, idle=idle, now=start + 22 * HOUR + timedelta(seconds=1)) == \
        sessions.Seen(None, "idle")
    assert sessions.resolve(people, token, idle=idle, now=start + 22 * HOUR) == sessions.Seen(None, "idle")  # stays
    (row,) = rows(people)
    assert (row.ended_why, row.ended_at) == ("idle", start + 22 * HOUR)  # when it fell idle, not when noticed


def test_the_idle_limit_is_the_setting(people, monkeypatch):
    monkeypatch.setenv("SESSION_IDLE_HOURS", "0.5")
    start = utcnow()
    token = sessions.start(people, CEO, source=None, now=start)
    assert sessions.resolve(people, token, now=start + timedelta(minutes=29)).user is not None
    assert sessions.resolve(people, token, now=start + timedelta(minutes=60)).ended == "idle"
    monkeypatch.setenv("SESSION_IDLE_HOURS", "not a number")
    assert sessions.idle_limit() == 8 * HOUR


def test_removing_a_person_or_giving_a_new_password_ends_their_sessions_only(people):
    ceo, trustee = sessions.start(people, CEO, source=None), sessions.start(people, TRUSTEE, source=None)
    set_password(people, CEO, "a brand new password", actor="setup")
    assert sessions.resolve(people, ceo) == sessions.Seen(None, "new password")
    assert sessions.resolve(people, trustee).user.email == TRUSTEE
    remove_user(people, TRUSTEE, actor=CEO)
    assert sessions.resolve(people, trustee) == sessions.Seen(None, "removed")


def test_a_person_disabled_any_other_way_is_signed_in_nowhere(people):
    token = sessions.start(people, TRUSTEE, source=None)
    with people.begin() as conn:
        conn.execute(users.update().where(users.c.email == TRUSTEE).values(disabled=True))
    assert sessions.resolve(people, token) == sessions.Seen(None, "removed")
    with people.begin() as conn:
        conn.execute(users.update().where(users.c.email == TRUSTEE).values(disabled=False))
    assert sessions.resolve(people, token) == sessions.Seen(None, "removed")  # ended for good


def test_sessions_long_unused_are_deleted(people):
    old = utcnow() - sessions.KEEP_SESSIONS - HOUR
    sessions.start(people, CEO, source="10.0.0.1", now=old)
    sessions.start(people, CEO, source="10.0.0.2")
    assert [r.source for r in rows(people)] == ["10.0.0.2"]


def test_where_an_account_has_signed_in_from_is_remembered_for_the_limits(people):
    sessions.start(people, CEO, source="192.0.2.50")
    with people.connect() as conn:
        now = utcnow()
        assert sessions.signed_in_from(conn, CEO, "192.0.2.50", now=now)
        assert not sessions.signed_in_from(conn, CEO, "192.0.2.51", now=now)
        assert not sessions.signed_in_from(conn, TRUSTEE, "192.0.2.50", now=now)
        assert not sessions.signed_in_from(conn, CEO, None, now=now)
        assert not sessions.signed_in_from(conn, CEO, "192.0.2.50", now=now + sessions.KEEP_SESSIONS)


def test_pages_still_read_when_the_database_cannot_be_written(people, monkeypatch):
    start = utcnow()
    token = sessions.start(people, CEO, source=None, now=start)

    @contextmanager
    def read_only(_engine):
        raise sa.exc.OperationalError("UPDATE sessions", {}, Exception("attempt to write a readonly database"))
        yield

    monkeypatch.setattr(sessions, "writing", read_only)
    assert sessions.resolve(people, token, now=start + HOUR).user.email == CEO  # not extended, still read


def test_a_session_bound_to_a_cookie_issued_elsewhere_ends_like_any_other_and_stays_ended(people):
    """Single sign-on's identity cookie is made by the provider's sign-in, not here: the session is
    bound to it (its hash only), and binding it again, once ended, does not bring it back."""
    cookie = "a signed identity cookie, as Streamlit sets it"
    assert sessions.resolve(people, cookie) == sessions.Seen(None)  # never bound
    sessions.bind(people, cookie, CEO, source="10.0.0.1")
    sessions.bind(people, cookie, CEO, source="10.0.0.2")  # a second tab's first run: one session
    [row] = rows(people)
    assert row.token_hash == sessions.token_hash(cookie) and cookie not in json.dumps([str(v) for v in row])
    assert row.source == "10.0.0.1"
    assert sessions.resolve(people, cookie).user.email == CEO
    assert sessions.end(people, cookie) == CEO
    sessions.bind(people, cookie, CEO, source="10.0.0.1")
    assert sessions.resolve(people, cookie) == sessions.Seen(None, sessions.SIGNED_OUT)
    assert len(rows(people)) == 1


def test_an_ended_session_is_kept_past_the_life_of_an_identity_cookie(people):
    """Streamlit reads its identity cookie for 31 days after the sign-in; the ended session must be
    found that long after its last use, or the cookie would bind afresh."""
    cookie = "an identity cookie signed out at once"
    then = utcnow() - timedelta(days=31)
    sessions.bind(people, cookie, CEO, source=None, now=then)
    sessions.end(people, cookie, now=then)
    sessions.start(people, TRUSTEE, source=None)  # a sign-in today clears out what is old enough
    assert sessions.resolve(people, cookie) == sessions.Seen(None, sessions.SIGNED_OUT)
