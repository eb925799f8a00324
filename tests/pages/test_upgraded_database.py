"""The dashboard works on a trust's database made by the release before schema versions: opened
by this release, upgraded on the way in, every page shows its data; and a database this release
cannot use stops every page with the sentence saying why, not a traceback."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from store import upgrades
from store.db import dispose, make_engine
from ui import shell

from ..store.test_upgrades import RELEASE_DB, release_db  # noqa: F401 - a fixture
from .conftest import assert_no_exception, open_page
from .test_pages import PAGES


@pytest.fixture
def release_app(app_env, monkeypatch):
    shutil.copy(RELEASE_DB, app_env / "app.db")
    monkeypatch.setenv("LOAD_SAMPLE", "1")  # as make run has it: the sample must not be loaded on top
    return app_env


@pytest.mark.parametrize("page", PAGES)
def test_every_page_works_on_a_database_from_the_release_before_versions(release_app, sign_in, page):
    sign_in("trust_leader")
    at = open_page(page)
    assert_no_exception(at)
    assert at.title[0].value.startswith(PAGES[page]["text"])
    assert len(at.get("plotly_chart")) == PAGES[page]["charts"]
    engine = make_engine(f"sqlite:///{release_app / 'app.db'}")
    assert upgrades.current_revision(engine) == upgrades.head_revision()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM returns")).scalar() == 73
    dispose(engine)


@pytest.mark.parametrize("empty_engine", ["postgresql"], indirect=True)
def test_the_pages_work_on_it_on_postgresql_too(app_env, release_db, sign_in, monkeypatch):  # noqa: F811 - the fixture
    """The same database of the release before versions, as it stood on PostgreSQL (see
    release_db): upgraded by the dashboard's start, its pages show the trust."""
    monkeypatch.setenv("DATABASE_URL", release_db.url.render_as_string(hide_password=False))
    sign_in("trust_leader")
    for page in ("pages/overview.py", "pages/school.py", "pages/board_questions.py", "pages/audit.py"):
        at = open_page(page)
        assert_no_exception(at)
        assert at.title[0].value.startswith(PAGES[page]["text"])
    assert upgrades.current_revision(release_db) == upgrades.head_revision()
    with release_db.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM returns")).scalar() == 73


def test_a_database_from_a_newer_release_stops_the_page_with_a_sentence(release_app, sign_in, caplog):
    engine = make_engine(f"sqlite:///{release_app / 'app.db'}")
    upgrades.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {upgrades.VERSION_TABLE} SET version_num = '9999'"))
    dispose(engine)
    sign_in("trust_leader")
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    assert [e.value for e in at.error] and at.error[0].value == shell.SCHEMA_TROUBLE
    assert "backups" not in at.error[0].value and "/" not in at.error[0].value.split("(")[0]  # no server paths
    assert not at.get("plotly_chart")
    assert caplog_has(caplog, "upgraded by a newer release of the dashboard")  # the reason, for the server's log


def caplog_has(caplog, words: str) -> bool:
    return any(words in r.getMessage() for r in caplog.records)
