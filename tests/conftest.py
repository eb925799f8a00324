"""Shared fixtures: a database engine with the schema in place, on SQLite and on PostgreSQL.

``engine`` runs each test twice: on a SQLite file of its own, and on PostgreSQL in a schema of
its own (dropped afterwards) when TEST_DATABASE_URL is set; otherwise the PostgreSQL run is
skipped with the reason. ``sqlite_engine`` is the SQLite one alone. ``empty_engine`` is each
database with no tables at all, as a new server's is; ``new_postgres_database`` makes whole new
PostgreSQL databases. ``sample_engine`` is a SQLite database holding the sample trust, made once
per test session.
"""

from __future__ import annotations

import os
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from store.db import dispose, make_engine  # noqa: E402
from store.upgrades import upgrade  # noqa: E402

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
NO_POSTGRES = "PostgreSQL not configured: set TEST_DATABASE_URL=postgresql+psycopg://... to run these"


def _sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'test.db'}"


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = make_engine(_sqlite_url(tmp_path))
    upgrade(engine)
    yield engine
    dispose(engine)


@contextmanager
def _postgres_schema():
    """An engine whose search_path points at a fresh, empty schema, dropped afterwards."""
    if not TEST_DATABASE_URL:
        pytest.skip(NO_POSTGRES)
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(TEST_DATABASE_URL, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(TEST_DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        dispose(engine)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def new_postgres_database():
    """Makes new, empty PostgreSQL databases (a restore needs a whole one); returns each one's URL.
    Every database made is dropped after the test."""
    if not TEST_DATABASE_URL:
        pytest.skip(NO_POSTGRES)
    admin = sa.create_engine(TEST_DATABASE_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        made.append(f"test_{uuid.uuid4().hex[:16]}")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{made[-1]}"'))
        return make_url(TEST_DATABASE_URL).set(database=made[-1]).render_as_string(hide_password=False)

    yield make
    for name in made:
        dispose(make_engine(make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)))
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_engine():
    """PostgreSQL, in a schema of the test's own with the store's tables in place."""
    with _postgres_schema() as engine:
        upgrade(engine)
        yield engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request):
    """The schema in place on each supported database in turn."""
    return request.getfixturevalue(f"{'sqlite' if request.param == 'sqlite' else 'postgres'}_engine")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request, tmp_path):
    """Each supported database in turn with no tables at all, as a new server's is."""
    if request.param == "sqlite":
        engine = make_engine(_sqlite_url(tmp_path))
        yield engine
        dispose(engine)
        return
    with _postgres_schema() as engine:
        yield engine


@pytest.fixture(scope="session")
def sample_engine(tmp_path_factory):
    """A SQLite database holding the sample trust (sample_data/returns)."""
    from store.sample import ensure_sample, sample_files

    assert sample_files(), "the sample trust's returns are in sample_data/returns"
    engine = make_engine(_sqlite_url(tmp_path_factory.mktemp("sample_db")))
    ensure_sample(engine)
    yield engine
    dispose(engine)
