"""Upgrades keep every trust's data: the schema has versions, a database made by the release before
versions is recognised rather than recreated, every revision keeps every row, a failing revision
leaves the database exactly as it was, and a database newer than the code is left alone.

Each test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL. The database "made by
the release before versions" is tests/fixtures/release_6c4471e.db, written by that release's own
code (see tests/fixtures/make_release_db.py); on PostgreSQL its rows are copied into the tables
that release would have created there.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from store import upgrades
from store.__main__ import main
from store.backup import _copy_table, read_only
from store.db import dispose, make_engine
from store.schema import metadata
from store.upgrades import SchemaError, upgrade

RELEASE_DB = Path(__file__).resolve().parents[1] / "fixtures" / "release_6c4471e.db"
BASELINE = Path(upgrades.MIGRATIONS / "versions" / "0001_baseline.py")

# A later revision as a real one would be: a column added to the returns table (which SQLite can
# only do for this column by rebuilding the table, the case where foreign keys would cascade)
# and a table filled from existing rows.
ADD_COLUMN = '''
import sqlalchemy as sa
from alembic import op

revision = "later"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade():
    # SQLite rebuilds the table (as it must for most changes to a column); PostgreSQL alters it.
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("returns", recreate="always" if sqlite else "auto") as batch:
        batch.add_column(sa.Column("note", sa.Text, nullable=True))
    op.create_table("school_notes", sa.Column("urn", sa.String(6), primary_key=True),
                    sa.Column("n", sa.Integer, nullable=False))
    op.execute("INSERT INTO school_notes (urn, n) SELECT urn, COUNT(*) FROM returns GROUP BY urn")
    {fail}
'''


def _revision(folder: Path, *, fail: bool = False) -> Path:
    folder.mkdir(exist_ok=True)
    body = ADD_COLUMN.format(fail='raise RuntimeError("the new column could not be filled")' if fail else "",
                             head=upgrades.head_revision())
    (folder / "later_test.py").write_text(body)
    return folder


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every table the store had at the baseline, in a stable order."""
    tables = _baseline_metadata().sorted_tables
    with engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
        return {t.name: sorted((tuple(r) for r in conn.execute(sa.select(*t.columns))), key=repr)
                for t in tables if t.name in present}


def columns(engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        return {name: sorted(c["name"] for c in inspector.get_columns(name)) for name in inspector.get_table_names()}


def file_hashes_hold(engine) -> int:
    """Every stored original file still hashes to the SHA-256 stored beside it; how many there are."""
    from store.schema import returns

    with engine.connect() as conn:
        rows = conn.execute(sa.select(returns.c.sha256, returns.c.content)).all()
    assert rows and all(hashlib.sha256(content).hexdigest() == sha for sha, content in rows)
    return len(rows)


def _baseline_metadata() -> sa.MetaData:
    import importlib.util

    spec = importlib.util.spec_from_file_location("baseline_revision", BASELINE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.baseline()


@pytest.fixture
def release_db(empty_engine, tmp_path):
    """The database the release before versions left, on each database in turn (no version table)."""
    if empty_engine.dialect.name == "sqlite":
        dispose(empty_engine)
        path = upgrades.sqlite_file(empty_engine)
        shutil.copy(RELEASE_DB, path)
        engine = make_engine(str(empty_engine.url))
        yield engine
        dispose(engine)
        return
    old = _baseline_metadata()
    source = read_only(RELEASE_DB)
    have = sa.MetaData()
    with empty_engine.begin() as conn:
        old.create_all(conn)  # what that release's start-up ran on PostgreSQL
    with source.connect() as src, empty_engine.begin() as dst:
        have.reflect(src)
        for table in old.sorted_tables:
            _copy_table(src, have.tables[table.name], dst, table)
    source.dispose()
    yield empty_engine


def test_the_models_and_the_revisions_agree(empty_engine):
    """A database upgraded to head is exactly what store/schema.py describes: writing a revision
    now would find nothing to do. (Change the schema without a revision and this fails.)"""
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=upgrades.COMPARE)
        assert compare_metadata(context, metadata) == []
        # the comparison does see a difference when there is one
        drifted = sa.MetaData()
        for table in metadata.sorted_tables:
            table.to_metadata(drifted)
        drifted.tables["schools"].append_column(sa.Column("a_column_no_revision_adds", sa.Text))
        assert [d[0] for d in compare_metadata(context, drifted)] == ["add_column"]


def test_the_baseline_is_exactly_what_the_release_before_versions_made():
    engine = read_only(RELEASE_DB)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts=upgrades.COMPARE)
            assert compare_metadata(context, _baseline_metadata()) == []
    finally:
        engine.dispose()


def test_an_empty_database_gets_every_table_at_the_newest_revision(empty_engine):
    done = upgrade(empty_engine)
    assert (done.before, done.after, done.had_tables, done.backup) == (None, upgrades.head_revision(), False, None)
    assert set(columns(empty_engine)) == set(metadata.tables) | {upgrades.VERSION_TABLE}
    again = upgrade(empty_engine)
    assert not again.changed and again.before == upgrades.head_revision()


def test_the_newest_revision_read_from_the_files_is_alembics():
    """A start on a database already up to date reads the newest revision from the revision files'
    own lines, without Alembic: the same revision Alembic finds."""
    assert upgrades._shipped_head() == upgrades.head_revision()


def test_a_database_from_the_release_before_versions_is_recognised_and_keeps_everything(release_db, tmp_path):
    before = snapshot(release_db)
    assert len(before["returns"]) == 73 and len(before["users"]) == 3 and len(before["challenges"]) == 1
    assert any(r[4] == 3 for r in before["returns"])  # a return stored in three versions
    done = upgrade(release_db, backup_dir=tmp_path / "copies")
    assert done.before is None and done.after == upgrades.head_revision() and done.had_tables
    assert snapshot(release_db) == before
    assert file_hashes_hold(release_db) == 73
    if release_db.dialect.name == "sqlite":  # the copy taken first is the database as it was
        copy = make_engine(f"sqlite:///{done.backup}")
        assert snapshot(copy) == before and upgrades.current_revision(copy) is None
        dispose(copy)


def test_init_on_a_database_from_the_release_before_versions_says_what_it_did(tmp_path, capsys, monkeypatch):
    path = tmp_path / "data" / "dashboard.db"
    path.parent.mkdir()
    shutil.copy(RELEASE_DB, path)
    assert main(["init", "--db", f"sqlite:///{path}"]) == 0
    upgraded, ready = capsys.readouterr().out.strip().splitlines()
    assert "from the schema of a release from before schema versions (recognised, nothing recreated)" in upgraded
    copies = list((path.parent / "backups").glob("dashboard-*-before-*.db"))
    assert len(copies) == 1 and str(copies[0]) in upgraded
    assert ready.startswith("Database ready") and "73 returns stored." in ready  # the sample was not loaded again
    dispose(make_engine(f"sqlite:///{path}"))


def test_a_database_missing_tables_of_later_releases_gains_them(release_db):
    with release_db.begin() as conn:
        conn.execute(sa.text("DROP TABLE challenges"))
        conn.execute(sa.text("DROP TABLE thresholds"))
    before = snapshot(release_db)
    upgrade(release_db)
    assert snapshot(release_db) == before | {"challenges": [], "thresholds": []}


def test_a_real_revision_keeps_every_row_and_every_file(release_db, tmp_path):
    """A revision that rebuilds the returns table, which other tables refer to with ON DELETE
    CASCADE: on SQLite the rebuild drops the old table, and nothing that refers to it may go."""
    upgrade(release_db)
    before = snapshot(release_db)
    done = upgrade(release_db, extra_versions=(_revision(tmp_path / "later"),), backup_dir=tmp_path / "copies")
    assert (done.before, done.after) == (upgrades.head_revision(), "later")
    assert snapshot(release_db) == before  # every row of every table, the returns with a new blank column
    assert "note" in columns(release_db)["returns"]
    assert file_hashes_hold(release_db) == 73
    with release_db.connect() as conn:
        assert conn.execute(sa.text("SELECT SUM(n) FROM school_notes")).scalar() == 73
        if release_db.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # enforced again afterwards


def test_a_failing_revision_leaves_the_database_exactly_as_it_was(release_db, tmp_path):
    upgrade(release_db)
    before, shape = snapshot(release_db), columns(release_db)
    with pytest.raises(SchemaError) as refused:
        upgrade(release_db, extra_versions=(_revision(tmp_path / "later", fail=True),), backup_dir=tmp_path / "c")
    message = str(refused.value)
    assert "could not be brought up to date" in message and "the new column could not be filled" in message
    assert f"Nothing in it was changed; it is still at revision {upgrades.head_revision()}" in message
    assert "Traceback" not in message
    assert columns(release_db) == shape and snapshot(release_db) == before
    assert upgrades.current_revision(release_db) == upgrades.head_revision()


def test_a_database_newer_than_the_code_is_left_alone(release_db, tmp_path, capsys):
    upgrade(release_db, extra_versions=(_revision(tmp_path / "later"),))
    before, shape = snapshot(release_db), columns(release_db)
    with pytest.raises(SchemaError, match="upgraded by a newer release of the dashboard .* revision later"):
        upgrade(release_db)
    assert snapshot(release_db) == before and columns(release_db) == shape
    assert main(["init", "--db", release_db.url.render_as_string(hide_password=False)]) == 1
    err = capsys.readouterr().err
    assert "newer release" in err and "git pull" in err and "Traceback" not in err


def test_two_servers_starting_at_once_upgrade_once(release_db, tmp_path):
    later = (_revision(tmp_path / "later"),)
    results, errors = [], []

    def start():
        try:
            results.append(upgrade(release_db, extra_versions=later, backup_dir=tmp_path / "copies"))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(results) == 3
    assert upgrades.current_revision(release_db) == "later"
    with release_db.connect() as conn:  # the revision's data step ran once
        assert conn.execute(sa.text("SELECT SUM(n) FROM school_notes")).scalar() == 73


def test_no_room_for_the_copy_means_no_upgrade(tmp_path):
    path = tmp_path / "dashboard.db"
    shutil.copy(RELEASE_DB, path)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the copies' folder would go")
    engine = make_engine(f"sqlite:///{path}")
    with pytest.raises(SchemaError, match="was not upgraded, because a copy of it could not be taken first"):
        upgrade(engine, backup_dir=blocked)
    assert upgrades.current_revision(engine) is None
    dispose(engine)


def test_the_release_fixture_is_what_its_docstring_says():
    """The fixture stays a file of the release before versions: no version table, sample trust."""
    conn = sqlite3.connect(f"file:{RELEASE_DB}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert upgrades.VERSION_TABLE not in tables and "returns" in tables
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def test_a_database_at_0003_gains_the_generation_and_keeps_everything(release_db, tmp_path):
    """From the revision before it: every row kept, the generation at 0 until the first write that
    changes what the pages show, which makes it 1."""
    from store.db import generation, writing
    from store.schema import schools

    upgrade(release_db, revision="0003")
    assert "store_generation" not in columns(release_db)
    before = snapshot(release_db)
    done = upgrade(release_db, backup_dir=tmp_path / "copies")
    assert (done.before, done.after) == ("0003", "0004") and upgrades.head_revision() == "0004"
    assert snapshot(release_db) == before
    assert file_hashes_hold(release_db) == 73
    assert columns(release_db)["store_generation"] == ["generation", "id"]
    assert generation(release_db) == 0
    with writing(release_db) as conn:
        conn.execute(schools.update().where(schools.c.urn == before["schools"][0][0]).values(name="Renamed"))
    assert generation(release_db) == 1
