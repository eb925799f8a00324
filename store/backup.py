"""Backing the database up while the dashboard runs, and restoring a backup into an empty database.

- SQLite: the backup is a SQLite file, copied with SQLite's online backup API in one step under a
  read lock, so it is consistent even while returns are being saved.
- PostgreSQL: the backup is ``pg_dump``'s custom format (a consistent snapshot), when PostgreSQL's
  client tools are installed; otherwise a sentence says how to get them.

A restore goes into an empty database only, so it can never overwrite a trust's data. A SQLite
backup restores into SQLite, or row by row into PostgreSQL (the way a trust moves from one to the
other); a PostgreSQL backup restores into PostgreSQL with ``pg_restore``. Either way the restored
database is then brought up to this release's schema, as any start would.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import NullPool

from store import upgrades
from store.db import bump, dispose, make_engine, writing

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
_BATCH = 1000
_CLIENT_TOOLS = ("Install PostgreSQL's client tools of the server's major version or newer (on Debian or "
                 "Ubuntu: sudo apt-get install postgresql-client), or back up with your database host's own "
                 "tools (a managed database's snapshots, or pg_dump run where it is installed).")


class BackupError(RuntimeError):
    """Why a backup or restore was not made, as a sentence for whoever runs the server."""


@dataclass(frozen=True)
class Outcome:
    """What was backed up or restored: the file, the database (password hidden), the schema
    revision and how many rows each table holds."""

    file: Path
    database: str
    revision: str | None
    counts: dict[str, int]

    def summary(self) -> str:
        c = self.counts
        return (f"{_n(c.get('returns', 0), 'return')} of {_n(c.get('schools', 0), 'school')}, "
                f"{_n(c.get('users', 0), 'user')}, {_n(c.get('challenges', 0), 'board question')} and "
                f"{_n(c.get('audit', 0), 'entry', 'entries')} in the record of changes")


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def backup(url: str, out: Path) -> Outcome:
    """Write a consistent backup of the database at ``url`` to ``out`` (replaced only when whole)."""
    out = Path(out)
    source = upgrades.sqlite_file(url)
    if source is not None and source.resolve() == out.resolve():
        raise BackupError(f"{out} is the database itself: write the backup to a file of its own, for example "
                          f"{out.with_suffix('.backup')}.")
    _check_output(out)
    if make_url(url).get_backend_name() == "sqlite":
        if source is None or not source.is_file():
            raise BackupError(f"There is no database file at {source or url} to back up.")
        try:
            upgrades.copy_sqlite(source, out)
        except upgrades.CopyFailed as exc:
            raise BackupError(f"The database at {source} could not be read ({exc.reason}): no backup was made."
                              if exc.reading else f"The backup could not be written to {out} ({exc.reason}).") from exc
        return _outcome_of_sqlite(out, shown(url))
    _pg_dump(url, out)
    engine = make_engine(url)
    return Outcome(out, shown(url), upgrades.current_revision(engine), row_counts(engine))


def _check_output(out: Path) -> None:
    """Refuse a folder, a missing folder, a live database and any file that is not a backup."""
    if out.is_dir():
        raise BackupError(f"{out} is a folder: give the backup file's name, for example {out / 'dashboard.backup'}.")
    if not out.parent.is_dir():
        raise BackupError(f"There is no folder {out.parent} to write the backup into: create it first.")
    live = [p.name for p in _companions(out) if p.exists()]
    if live:
        raise BackupError(f"{out} is a database in use ({', '.join(live)} beside it): write the backup to a file of "
                          "its own.")
    if out.exists():
        try:
            _kind(out)
        except BackupError:
            raise BackupError(f"{out} already exists and is not a backup: nothing was written. Choose another name, "
                              "or move that file aside.") from None


def _companions(path: Path) -> list[Path]:
    """The files SQLite keeps beside a database while it is open, or after a crash."""
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def restore(file: Path, url: str) -> tuple[Outcome, upgrades.Upgrade]:
    """Restore ``file`` into the empty database at ``url`` and bring it to this release's schema.
    Anything that fails on the way leaves the target as empty as it was."""
    file = Path(file)
    kind = _kind(file)
    target_is_sqlite = make_url(url).get_backend_name() == "sqlite"
    if kind == "postgresql" and target_is_sqlite:
        raise BackupError(f"{file} is a PostgreSQL backup: it restores into PostgreSQL only. Give --db "
                          "postgresql+psycopg://USER@HOST/DBNAME, an empty database.")
    if kind == "sqlite":
        _check_sqlite_backup(file)
    _refuse_unless_empty(url)
    try:
        if kind == "postgresql":
            _pg_restore(file, url)
        elif target_is_sqlite:
            _sqlite_into_sqlite(file, url)
        else:
            _copy_into(file, url)
        engine = make_engine(url)
        _check_files(engine, file)
        done = upgrades.upgrade(engine)
        with writing(engine) as conn:
            bump(conn)  # whatever read this database before reads it afresh
        return Outcome(file, shown(url), done.after, row_counts(engine)), done
    except BaseException as exc:
        _empty_again(url)
        if isinstance(exc, (BackupError, KeyboardInterrupt, SystemExit)):
            raise
        if isinstance(exc, upgrades.SchemaError):
            raise BackupError(f"The backup was restored but could not be brought up to date, so it was taken out "
                              f"again: {exc}") from exc
        raise BackupError(f"Nothing was restored into {shown(url)}: {upgrades.one_line(exc)}.") from exc


def _sqlite_into_sqlite(file: Path, url: str) -> None:
    target = upgrades.sqlite_file(url)
    if target is None:
        raise BackupError("Restore into a SQLite file, not an in-memory database.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        upgrades.copy_sqlite(file, target)
    except OSError as exc:
        reason = exc.reason if isinstance(exc, upgrades.CopyFailed) else (exc.strerror or str(exc))
        raise BackupError(f"The restored database could not be written to {target} ({reason}): nothing was "
                          "restored.") from exc


def _check_files(engine: Engine, file: Path) -> None:
    """Every stored original file still hashes to the SHA-256 kept beside it."""
    import hashlib

    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, sha256, content FROM returns"))
        damaged = [rid for rid, sha, content in rows if hashlib.sha256(bytes(content)).hexdigest() != sha]
    if damaged:
        raise BackupError(f"{file} is damaged: {_n(len(damaged), 'stored return')} no longer match their "
                          f"fingerprints (the first is return {damaged[0]}). Nothing was restored; use an earlier "
                          "backup.")


def _empty_again(url: str) -> None:
    """Take out whatever a failed restore put in: the target was empty before it began."""
    path = upgrades.sqlite_file(url)
    try:
        if path is not None:
            dispose(make_engine(url))
            for leftover in (path, *_companions(path)):
                leftover.unlink(missing_ok=True)
            return
        engine = make_engine(url)
        with writing(engine) as conn:
            have = sa.MetaData()
            have.reflect(conn)
            have.drop_all(conn)
    except (OSError, sa.exc.SQLAlchemyError):
        pass  # said in the sentence that reaches the person: the target may need emptying by hand


def row_counts(engine: Engine) -> dict[str, int]:
    """How many rows each of the store's tables holds."""
    with engine.connect() as conn:
        names = sorted(set(sa.inspect(conn).get_table_names()) - {upgrades.VERSION_TABLE})
        return {name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar() for name in names}


def read_only(file: Path) -> Engine:
    """An engine that reads a SQLite file and can never write to it (a backup, or a fixture)."""
    return sa.create_engine(f"sqlite:///file:{file}?mode=ro&uri=true", poolclass=NullPool)


def shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _kind(file: Path) -> str:
    try:
        with file.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"There is no backup file at {file}.") from None
    except OSError as exc:
        raise BackupError(f"The backup file {file} could not be read: {exc.strerror or exc}.") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{file} is not a backup made by python -m store backup (neither a SQLite file nor a "
                      "PostgreSQL custom-format dump): nothing was restored.")


def _check_sqlite_backup(file: Path) -> None:
    """The file is whole, holds the store's tables, and was made by a release this one knows."""
    try:
        conn = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            revision = (conn.execute(f"SELECT version_num FROM {upgrades.VERSION_TABLE}").fetchone() or [None])[0] \
                if upgrades.VERSION_TABLE in tables else None
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{file} cannot be read as a SQLite backup ({exc}): nothing was restored.") from None
    if verdict != "ok":
        raise BackupError(f"{file} is damaged (SQLite's check says: {verdict}): nothing was restored. "
                          "Use an earlier backup.")
    if "returns" not in tables:
        raise BackupError(f"{file} is a SQLite file but not a backup of this dashboard (it has no returns "
                          "table): nothing was restored.")
    if not upgrades.known_revision(revision):
        raise BackupError(f"{file} was made by a newer release of the dashboard (schema revision {revision}; "
                          f"this release knows up to {upgrades.head_revision()}). Update the code (git pull), "
                          "then restore it.")


def _refuse_unless_empty(url: str) -> None:
    path = upgrades.sqlite_file(url)
    if path is not None and not path.exists():
        _refuse_leftovers(path)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = sorted(sa.inspect(conn).get_table_names())
    except sa.exc.SQLAlchemyError as exc:
        raise BackupError(f"Could not open the database at {shown(url)}: {upgrades.one_line(exc)}.") from None
    if tables:
        listed = ", ".join(tables[:4]) + (" …" if len(tables) > 4 else "")
        raise BackupError(
            f"The database at {shown(url)} is not empty (it holds {listed}). A restore goes into an empty "
            "database only, so that nothing is overwritten: create a new empty database (or, for SQLite, name a "
            "file that does not exist yet) and restore into that."
        )
    if path is not None:  # an empty SQLite file: let the copy replace it whole
        dispose(engine)
        _refuse_leftovers(path)


def _refuse_leftovers(path: Path) -> None:
    stale = [p.name for p in _companions(path) if p.exists()]
    if stale:
        raise BackupError(f"{', '.join(stale)} {'is' if len(stale) == 1 else 'are'} still beside {path}: left by the "
                          "database that was there, they would be read into the restored one. Move them aside with "
                          "it, then restore again.")


def _copy_into(file: Path, url: str) -> None:
    """A SQLite backup into an empty PostgreSQL database: the schema at the backup's revision, then
    every row, in one transaction, then each identity column moved past the highest id."""
    source = read_only(file)
    try:
        with source.connect() as src:
            revision = upgrades.revision_at(src)
            have = sa.MetaData()
            have.reflect(src)
        target = make_engine(url)
        upgrades.upgrade(target, revision=revision or upgrades.BASELINE)
        want = sa.MetaData()
        with source.connect() as src, writing(target) as dst:
            want.reflect(dst)
            for table in want.sorted_tables:
                if table.name in have.tables and table.name != upgrades.VERSION_TABLE:
                    _copy_table(src, have.tables[table.name], dst, table)
    finally:
        source.dispose()


def _copy_table(src: Connection, old: sa.Table, dst: Connection, new: sa.Table) -> None:
    columns = [c.name for c in old.columns if c.name in new.columns]
    rows = src.execution_options(yield_per=_BATCH).execute(sa.select(*(old.c[c] for c in columns)))
    for batch in rows.partitions(_BATCH):
        dst.execute(new.insert(), [dict(zip(columns, row)) for row in batch])
    for column in new.primary_key.columns:
        if column.autoincrement is True or (column.autoincrement == "auto" and isinstance(column.type, sa.Integer)
                                            and len(new.primary_key.columns) == 1):
            dst.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence(:t, :c), COALESCE((SELECT MAX({column.name}) FROM "
                f"{new.name}), 0) + 1, false) WHERE pg_get_serial_sequence(:t, :c) IS NOT NULL"),
                {"t": new.name, "c": column.name})


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A URL pg_dump understands, and the environment carrying the password (never an argument)."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"PostgreSQL databases are backed up and restored with {name}, which is not installed "
                          f"here. {_CLIENT_TOOLS}")
    return path


def _pg_dump(url: str, out: Path) -> None:
    dsn, env = _libpq(url)
    partial = out.with_name(out.name + ".partial")
    command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}",
               f"--dbname={dsn}"]
    try:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))  # its owner's alone
        _run(command, env, f"The backup of {shown(url)} was not made")
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _pg_restore(file: Path, url: str) -> None:
    dsn, env = _libpq(url)
    command = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
               f"--dbname={dsn}", str(file)]
    _run(command, env, f"Nothing was restored into {shown(url)}")


def _run(command: list[str], env: dict[str, str], failed: str) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackupError(f"{failed}: {exc}.") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[0] if lines else f"{Path(command[0]).name} stopped with status {done.returncode}"
        hint = f" {_CLIENT_TOOLS}" if "version mismatch" in done.stderr else ""
        raise BackupError(f"{failed}: {reason.strip()}.{hint}")


def _outcome_of_sqlite(file: Path, database: str) -> Outcome:
    engine = read_only(file)
    try:
        with engine.connect() as conn:
            revision = upgrades.revision_at(conn)
        return Outcome(file, database, revision, row_counts(engine))
    finally:
        engine.dispose()
