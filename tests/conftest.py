"""Shared fixtures: a database engine with the schema in place, on SQLite and on PostgreSQL.

``engine`` runs each test twice: on a SQLite file of its own, and on PostgreSQL in a schema of
its own (dropped afterwards) when TEST_DATABASE_URL is set; otherwise the PostgreSQL run is
skipped with the reason. ``sqlite_engine`` is the SQLite one alone. ``empty_engine`` is each
database with no tables at all, as a new server's is; ``new_postgres_database`` makes whole new
PostgreSQL databases. ``sample_engine`` is a SQLite database holding the sample trust, made once
per test session; ``sample_file`` is the sample trust imported once for the whole run (every
pytest-xdist worker shares it) and ``copy_sample`` copies it for a test to change.
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


# The groups that take a worker longest, longest first (about a minute or more each in a full run
# on two cores): handed out first, so that the many short groups after them even out the workers'
# ends. pytest-xdist would otherwise hand groups out by their count of tests, and a long group
# handed out late keeps one worker busy alone while the other has finished.
LONGEST = ("privacy-readings", "tests/browser/test_browser.py", "tests/pages/test_no_stray_values.py",
           "tests/browser/test_accessibility.py", "tests/analysis/test_cli.py", "tests/browser/test_narrow.py",
           "tests/browser/test_signin.py", "tests/bench/test_bench.py")


def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False  # the order below, not by count of tests


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under `make test` (pytest-xdist, --dist loadgroup) a test file's tests run together on one
    worker, so what a module starts once (a Streamlit server, Chromium) is started once; files
    that share something costly made once per worker (the privacy folder's readings) name one
    group with ``pytest.mark.xdist_group`` and run together. The longest groups go first."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
    rank = {group: i for i, group in enumerate(LONGEST)}

    def group(item) -> str:
        mark = item.get_closest_marker("xdist_group")
        return mark.args[0] if mark.args else mark.kwargs["name"]

    items.sort(key=lambda item: rank.get(group(item), len(LONGEST)))  # stable: each group's own order kept


_shared: list[Path] = []  # the folder every xdist worker of this run shares (see shared_folder)


@pytest.fixture(scope="session", autouse=True)
def shared_folder(tmp_path_factory) -> Path:
    """A folder this whole test run shares: under pytest-xdist, every worker's (the parent of each
    worker's own base folder); otherwise the run's base folder."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    _shared[:] = [root]
    return root


def sample_file() -> Path:
    """The sample trust in a SQLite file, imported once for the whole run (the first worker to need
    it builds it while the others wait) and never written to afterwards: copy it (``copy_sample``)."""
    import fcntl

    from store.sample import ensure_sample, sample_files

    assert sample_files(), "the sample trust's returns are in sample_data/returns"
    root = _shared[0]
    path = root / "sample_trust.db"
    with open(root / "sample_trust.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            building = root / f"sample_trust.{os.getpid()}.building"
            engine = make_engine(f"sqlite:///{building}")
            upgrade(engine)
            imported = ensure_sample(engine)
            dispose(engine)  # the last connection closed folds the WAL back into the file
            assert imported > 0, "the sample trust's returns were not imported"
            os.replace(building, path)
    return path


def copy_sample(to: Path) -> Path:
    """A copy of the sample trust's database at ``to`` (a file path), for a test to change freely."""
    import shutil

    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sample_file(), to)
    return to


@pytest.fixture(scope="session")
def sample_db_file() -> Path:
    """The sample trust in a SQLite file, made once; tests copy it so each starts the same."""
    return sample_file()


@pytest.fixture(scope="session")
def sample_engine(tmp_path_factory):
    """A SQLite database holding the sample trust."""
    path = copy_sample(tmp_path_factory.mktemp("sample_db") / "test.db")
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    dispose(engine)
