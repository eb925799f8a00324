"""Backup and restore: a consistent copy taken while returns are being saved, restored into an
empty database only, with every row and every original file's hash as they were.

SQLite always; PostgreSQL (pg_dump and pg_restore, and a SQLite backup moved into PostgreSQL) when
TEST_DATABASE_URL is set. Each PostgreSQL test makes databases of its own and drops them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from store import backup, upgrades
from store.__main__ import main
from store.db import dispose, generation, make_engine
from store.importer import import_paths
from store.schema import return_values, returns

from .test_upgrades import RELEASE_DB, file_hashes_hold, snapshot

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_RETURNS = sorted((ROOT / "sample_data" / "returns").glob("*.xlsx"))


@pytest.fixture
def trust(tmp_path):
    """A SQLite database at the newest revision holding the release fixture's trust."""
    path = tmp_path / "live" / "dashboard.db"
    path.parent.mkdir()
    shutil.copy(RELEASE_DB, path)
    engine = make_engine(f"sqlite:///{path}")
    upgrades.upgrade(engine, backup_dir=tmp_path / "copies")
    yield engine
    dispose(engine)


@pytest.fixture
def pg_database(new_postgres_database):
    return new_postgres_database()


@pytest.fixture
def other_pg_database(new_postgres_database):
    return new_postgres_database()


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _kept(counts: dict[str, int]) -> dict[str, int]:
    """Row counts but the generation's, which a restore moves on (its one row made if need be)."""
    return {table: n for table, n in counts.items() if table != "store_generation"}


def test_backup_then_restore_gives_back_every_row_and_file(trust, tmp_path, capsys):
    before = snapshot(trust)
    out = tmp_path / "trust.backup"
    assert main(["backup", "-o", str(out), "--db", _url(trust)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"Backed up {_url(trust)} to {out}") and "73 returns of 12 schools" in said
    target = f"sqlite:///{tmp_path / 'restored' / 'dashboard.db'}"
    assert main(["restore", str(out), "--db", target]) == 0
    assert "Restored" in capsys.readouterr().out
    restored = make_engine(target)
    assert snapshot(restored) == before and file_hashes_hold(restored) == 73
    assert _kept(backup.row_counts(restored)) == _kept(backup.row_counts(trust))
    assert generation(restored) == generation(trust) + 1  # what read it before reads it afresh
    assert upgrades.current_revision(restored) == upgrades.head_revision()
    dispose(restored)


def test_a_backup_taken_while_returns_are_saved_is_whole(trust, tmp_path):
    """Returns keep arriving while the backup is taken: the copy passes SQLite's own check and holds
    each return it has whole, with all its values, never half of one."""
    stop = threading.Event()
    saved = []

    def keep_saving():
        while not stop.is_set() and len(saved) < 60:
            saved.extend(o for o in import_paths([str(SAMPLE_RETURNS[len(saved) % len(SAMPLE_RETURNS)])],
                                                 engine=trust, user="dsl@school.example.org.uk") if o.saved)

    writer = threading.Thread(target=keep_saving)
    writer.start()
    try:
        while len(saved) < 2:
            threading.Event().wait(0.05)
        made = backup.backup(_url(trust), tmp_path / "during.backup")
    finally:
        stop.set()
        writer.join(120)
    copy = make_engine(f"sqlite:///{made.file}")
    with copy.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        per_return = conn.execute(sa.select(return_values.c.return_id, sa.func.count())
                                  .group_by(return_values.c.return_id)).all()
        stored = conn.execute(sa.select(sa.func.count()).select_from(returns)).scalar()
    with trust.connect() as conn:  # each return as the live database holds it, now that saving has stopped
        whole = dict(conn.execute(sa.select(return_values.c.return_id, sa.func.count())
                                  .group_by(return_values.c.return_id)).all())
    assert stored == len(per_return) > 73
    assert all(n == whole[return_id] for return_id, n in per_return)  # never half of one (v1 and v2 differ)
    assert made.counts["returns"] == stored
    dispose(copy)


def test_restore_goes_into_an_empty_database_only(trust, tmp_path, capsys):
    out = tmp_path / "trust.backup"
    backup.backup(_url(trust), out)
    before = snapshot(trust)
    assert main(["restore", str(out), "--db", _url(trust)]) == 1
    err = capsys.readouterr().err
    assert "is not empty" in err and "nothing is overwritten" in err and "Traceback" not in err
    assert snapshot(trust) == before


def test_restore_refuses_what_is_not_a_backup(tmp_path, capsys):
    target = f"sqlite:///{tmp_path / 'new.db'}"
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    assert main(["restore", str(junk), "--db", target]) == 1
    assert "is not a backup made by python -m store backup" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "missing.backup"), "--db", target]) == 1
    assert "There is no backup file at" in capsys.readouterr().err
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(RELEASE_DB.read_bytes()[:200_000])
    assert main(["restore", str(damaged), "--db", target]) == 1
    assert "nothing was restored" in capsys.readouterr().err
    assert not (tmp_path / "new.db").exists() or backup.row_counts(make_engine(target)) == {}


def test_a_backup_from_a_newer_release_is_not_restored(trust, tmp_path, capsys):
    with trust.begin() as conn:
        conn.execute(sa.text(f"UPDATE {upgrades.VERSION_TABLE} SET version_num = '9999'"))
    out = tmp_path / "newer.backup"
    backup.backup(_url(trust), out)
    assert main(["restore", str(out), "--db", f"sqlite:///{tmp_path / 'new.db'}"]) == 1
    assert "made by a newer release of the dashboard (schema revision 9999" in capsys.readouterr().err


def test_a_backup_of_the_release_before_versions_restores_and_is_upgraded(tmp_path):
    restored_url = f"sqlite:///{tmp_path / 'restored.db'}"
    made, done = backup.restore(RELEASE_DB, restored_url)
    assert done.before is None and done.after == upgrades.head_revision()
    assert made.counts["returns"] == 73 and file_hashes_hold(make_engine(restored_url)) == 73
    dispose(make_engine(restored_url))


def test_backup_says_where_it_cannot_write(trust, tmp_path, capsys):
    assert main(["backup", "-o", str(tmp_path / "no" / "such" / "folder" / "x.backup"), "--db", _url(trust)]) == 1
    assert "There is no folder" in capsys.readouterr().err
    assert main(["backup", "-o", str(tmp_path), "--db", _url(trust)]) == 1
    assert "is a folder" in capsys.readouterr().err
    assert main(["backup", "-o", str(tmp_path / "x.backup"), "--db", f"sqlite:///{tmp_path / 'none.db'}"]) == 1
    assert "There is no database file at" in capsys.readouterr().err


def test_postgresql_backup_and_restore_keep_every_row(trust, pg_database, other_pg_database, tmp_path):
    """The trust moves from SQLite into PostgreSQL, is backed up there with pg_dump, and restored
    into another PostgreSQL database with pg_restore; every row and file hash survives both."""
    before = snapshot(trust)
    moved_from = tmp_path / "sqlite.backup"
    backup.backup(_url(trust), moved_from)
    made, done = backup.restore(moved_from, pg_database)
    assert done.after == upgrades.head_revision() and _kept(made.counts) == _kept(backup.row_counts(trust))
    pg = make_engine(pg_database)
    assert snapshot(pg) == before and file_hashes_hold(pg) == 73
    # new rows get new ids after the move: the identity columns continue past the copied ones
    fresh = import_paths([str(SAMPLE_RETURNS[0])], engine=pg, user="dsl@school.example.org.uk")
    assert fresh[0].saved is not None and fresh[0].saved.version == 2

    dump = tmp_path / "pg.backup"
    assert main(["backup", "-o", str(dump), "--db", pg_database]) == 0
    assert dump.read_bytes().startswith(backup.PG_DUMP_MAGIC)
    assert main(["restore", str(dump), "--db", other_pg_database]) == 0
    again = make_engine(other_pg_database)
    assert snapshot(again) == snapshot(pg) and backup.row_counts(again) == backup.row_counts(pg)
    assert upgrades.current_revision(again) == upgrades.head_revision()
    with pytest.raises(backup.BackupError, match="is not empty"):
        backup.restore(dump, other_pg_database)
    with pytest.raises(backup.BackupError, match="restores into PostgreSQL only"):
        backup.restore(dump, f"sqlite:///{tmp_path / 'x.db'}")


def test_without_pg_dump_the_backup_says_how(pg_database, tmp_path):
    """Run as a server without PostgreSQL's client tools: one sentence, exit 1, no traceback."""
    bare = tmp_path / "bin"
    bare.mkdir()
    env = {**os.environ, "PATH": str(bare)}
    done = subprocess.run([sys.executable, "-m", "store", "backup", "-o", str(tmp_path / "x.backup"),
                           "--db", pg_database], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "pg_dump, which is not installed here" in done.stderr and "postgresql-client" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "x.backup").exists()


def test_a_backup_never_lands_on_a_database_or_a_file_that_is_not_a_backup(trust, tmp_path, capsys):
    live = upgrades.sqlite_file(trust)
    before = live.read_bytes()[:100]
    assert main(["backup", "-o", str(live), "--db", _url(trust)]) == 1
    assert "is the database itself" in capsys.readouterr().err
    beside = tmp_path / "other.db"
    beside.write_bytes(b"")
    (tmp_path / "other.db-wal").write_bytes(b"")
    assert main(["backup", "-o", str(beside), "--db", _url(trust)]) == 1
    assert "is a database in use" in capsys.readouterr().err
    notes = tmp_path / "notes.txt"
    notes.write_text("the minutes of the last board meeting")
    assert main(["backup", "-o", str(notes), "--db", _url(trust)]) == 1
    assert "already exists and is not a backup" in capsys.readouterr().err
    assert notes.read_text() == "the minutes of the last board meeting" and live.read_bytes()[:100] == before
    again = tmp_path / "nightly.backup"  # last week's backup of the same name is replaced, whole
    backup.backup(_url(trust), again)
    assert main(["backup", "-o", str(again), "--db", _url(trust)]) == 0
    assert oct(again.stat().st_mode & 0o777) == "0o600"  # it holds what the database holds
    assert not list(tmp_path.glob("*.partial*"))


def test_a_restore_beside_an_old_databases_leftovers_is_refused(trust, tmp_path, capsys):
    out = tmp_path / "trust.backup"
    backup.backup(_url(trust), out)
    target = tmp_path / "moved" / "dashboard.db"
    target.parent.mkdir()
    (target.parent / "dashboard.db-wal").write_bytes(b"pages of the database that was here")
    assert main(["restore", str(out), "--db", f"sqlite:///{target}"]) == 1
    assert "dashboard.db-wal is still beside" in capsys.readouterr().err
    assert not target.exists()


def test_a_damaged_stored_file_stops_the_restore_and_leaves_nothing(trust, tmp_path, capsys):
    with trust.begin() as conn:  # one stored file altered after it was fingerprinted
        conn.execute(sa.text("UPDATE returns SET content = :c WHERE id = (SELECT MIN(id) FROM returns)"),
                     {"c": b"not the file that was uploaded"})
    out = tmp_path / "damaged.backup"
    backup.backup(_url(trust), out)
    target = tmp_path / "restored.db"
    assert main(["restore", str(out), "--db", f"sqlite:///{target}"]) == 1
    err = capsys.readouterr().err
    assert "is damaged: 1 stored return no longer match" in err and "Nothing was restored" in err
    assert not target.exists() and not list(tmp_path.glob("restored.db*"))


def test_a_restore_into_postgresql_that_fails_leaves_it_empty(trust, pg_database, tmp_path, capsys):
    with trust.begin() as conn:  # SQLite keeps what PostgreSQL's column refuses
        conn.execute(sa.text("UPDATE schools SET urn = 'ten digits' WHERE urn = (SELECT MIN(urn) FROM schools "
                             "WHERE urn NOT IN (SELECT urn FROM returns))"))
        conn.execute(sa.text("INSERT INTO schools (urn, name, created_at) VALUES ('1234567890', 'x', '2026-01-01')"))
    out = tmp_path / "odd.backup"
    backup.backup(_url(trust), out)
    assert main(["restore", str(out), "--db", pg_database]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Nothing was restored into") and "Traceback" not in err
    assert backup.row_counts(make_engine(pg_database)) == {}  # empty again: the restore can simply be retried


def test_a_bad_database_url_is_a_usage_mistake(tmp_path, capsys):
    for url in ("nonsense", str(tmp_path / "x.db"), "mysql://someone@localhost/db"):
        with pytest.raises(SystemExit) as stopped:
            main(["backup", "-o", str(tmp_path / "x.backup"), "--db", url])
        assert stopped.value.code == 2
        err = capsys.readouterr().err
        assert "SQLite or PostgreSQL" in err or "is not a database URL" in err
