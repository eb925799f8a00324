"""Faults of the database itself, met as a person would meet them: a database that is down, one
that has gone read-only, and a full disk. Every page, sign-in included, says what it means in a
sentence (no traceback, no page files listed) and nothing stored is lost or half-saved.

The faults are real ones: a PostgreSQL address nothing listens on; and the dashboard's own SQLite
engine with SQLite's query_only switched on (SQLite refuses every write, exactly as it does for a
file it may not write) or its page count capped where the file stands (SQLite answers "database
or disk is full", exactly as it does when the disk runs out).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from store import db

from .conftest import assert_no_exception, open_page, sign_in_forms
from .test_pages import PAGES

DOWN_URL = "postgresql+psycopg://dashboard@127.0.0.1:1/safeguarding"
READ_ONLY = lambda _conn: "PRAGMA query_only = ON"  # noqa: E731 - SQLite then refuses every write
FULL = lambda conn: f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}"  # noqa: E731


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/upload.py", "pages/board_questions.py"])
def test_a_database_that_is_down_is_a_sentence_on_every_page(app_env, monkeypatch, page):
    monkeypatch.setenv("DATABASE_URL", DOWN_URL)
    at = open_page(page)
    assert_no_exception(at)
    assert [e.value for e in at.error] == [db.DOWN]
    assert not at.get("plotly_chart") and not at.button  # nothing offered that could not work


def test_the_sign_in_page_says_so_too(app_env, monkeypatch, sign_in):
    monkeypatch.setenv("DATABASE_URL", DOWN_URL)
    at = open_page("pages/overview.py")
    assert [e.value for e in at.error] == [db.DOWN] and not at.text_input and not sign_in_forms(at)  # no password asked for


def engine_with(pragma_for, path):
    """The app's own engine (one per URL), with a real SQLite setting on every connection."""
    engine = db.make_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "connect")
    def _limit(dbapi_conn, _record):
        dbapi_conn.execute(pragma_for(dbapi_conn))

    engine.dispose()  # connections made from now on carry it
    return engine


def counts(path) -> dict[str, int]:
    probe = sa.create_engine(f"sqlite:///{path}")
    with probe.connect() as conn:
        names = ("returns", "return_values", "challenges", "audit")
        counts = {n: conn.execute(sa.text(f"SELECT COUNT(*) FROM {n}")).scalar() for n in names}
    probe.dispose()
    return counts


def test_a_change_that_cannot_be_saved_says_why_and_loses_nothing(sample_app):
    """A trust leader deletes a school's data just as the database cannot be written: the sentence,
    and every row still there."""
    path = sample_app / "app.db"
    open_page("pages/overview.py")  # the database opened and the sample trust in place first
    before = counts(path)
    engine_with(READ_ONLY, path)
    at = open_page("pages/schools.py", state={"schools_pick": "990002"})
    assert_no_exception(at)
    at.text_input(key="confirm-990002").input("990002").run()
    next(b for b in at.button if b.label == "Delete this school's data").click().run()
    assert_no_exception(at)
    assert db.READ_ONLY in [e.value for e in at.error]
    assert not [e for e in at.error if "Sorry" in e.value] and not at.success
    assert counts(path) == before  # nothing half-saved, nothing lost
    db.dispose(db.make_engine(f"sqlite:///{path}"))


def test_reading_pages_still_work_on_a_read_only_database(sample_app, sign_in):
    path = sample_app / "app.db"
    open_page("pages/overview.py")
    engine_with(READ_ONLY, path)
    sign_in("trustee", email="trustee@example.org")
    for page in ("pages/overview.py", "pages/neglect.py"):
        at = open_page(page)
        assert_no_exception(at)
        assert at.title[0].value.startswith(PAGES[page]["text"])
    db.dispose(db.make_engine(f"sqlite:///{path}"))
