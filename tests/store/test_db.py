"""The connection layer: engines per URL, SQLite's settings, and writes that take the lock first."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from store.db import dispose, make_engine, writing
from store.schema import metadata
from store.upgrades import upgrade


def test_engine_is_made_once_per_url_and_sqlite_folder_is_created(tmp_path):
    url = f"sqlite:///{tmp_path / 'nested' / 'deeper' / 'x.db'}"
    engine = make_engine(url)
    try:
        assert make_engine(url) is engine
        upgrade(engine)
        assert (tmp_path / "nested" / "deeper" / "x.db").exists()
    finally:
        dispose(engine)
    assert make_engine(url) is not engine
    dispose(make_engine(url))


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(sqlite_engine):
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar().lower() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_foreign_keys_are_enforced(engine):
    from store.schema import returns

    try:
        with writing(engine) as conn:
            conn.execute(returns.insert().values(
                urn="999999", academic_year="2025/26", term="Autumn", version=1, submitted_by="x",
                submitted_at=sa.func.now(), file_name="f.xlsx", sha256="0" * 64, content=b"x", size=1))
    except sa.exc.IntegrityError:
        pass
    else:
        raise AssertionError("a return for an unknown school was stored")


def test_upgrade_is_idempotent(engine):
    upgrade(engine)
    upgrade(engine)
    names = set(sa.inspect(engine).get_table_names())
    assert set(metadata.tables) <= names


def test_a_write_takes_the_sqlite_lock_before_its_first_read(sqlite_engine):
    """Two read-then-write transactions queue up; neither fails with "database is locked"."""
    order: list[str] = []
    first_inside = threading.Event()

    def first():
        with writing(sqlite_engine) as conn:
            conn.exec_driver_sql("SELECT count(*) FROM schools").scalar()
            first_inside.set()
            time.sleep(0.3)
            order.append("first done")

    def second():
        first_inside.wait()
        with writing(sqlite_engine) as conn:
            order.append("second started")
            conn.exec_driver_sql("SELECT count(*) FROM schools").scalar()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # With a deferred BEGIN the second would have read alongside the first.
    assert order == ["first done", "second started"]


def test_a_failed_write_leaves_nothing(engine):
    from store.schema import schools

    try:
        with writing(engine) as conn:
            conn.execute(schools.insert().values(urn="149001", name="A", created_at=sa.func.now()))
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schools)).scalar() == 0
