"""Bringing a database to the schema this release expects, without losing anything on the way.

The schema has versions (Alembic revisions in ``store/migrations/versions``). ``upgrade`` is
called before the dashboard serves and by every command that opens a database:

- an empty database gets every table and is marked as being at the newest revision;
- a database made before the schema had versions (tables, no version table) is recognised and
  marked as being at the baseline, then upgraded like any other; nothing in it is recreated;
- a database at an older revision is upgraded. On SQLite a copy of the file is taken first (the
  online backup API, so a running dashboard is not disturbed). All pending revisions run in one
  transaction on either database, so a revision that fails leaves the database exactly as it was;
- a database at a revision this code does not know (made by a newer release) is left alone, and
  the start stops with a sentence saying so.

Two processes starting at once do not both upgrade: on SQLite the transaction takes the write
lock up front, on PostgreSQL an advisory lock, and the revision is read again under the lock.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
BASELINE = "0001"  # the schema as releases made it before it had versions
# Any fixed number: the key of PostgreSQL's advisory lock that one upgrading process holds.
_PG_LOCK_KEY = 7_246_190_331


class SchemaError(RuntimeError):
    """The database cannot be used by this release, in a sentence for whoever runs the server."""


@dataclass(frozen=True)
class Upgrade:
    """What ``upgrade`` did: the revision before (None: no version table) and after, the tables it
    found, and where the copy taken before is (SQLite only; None when nothing had to change)."""

    before: str | None
    after: str
    had_tables: bool
    backup: Path | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def upgrade(engine: Engine, *, revision: str | None = None, backup_dir: Path | None = None,
            extra_versions: tuple[Path, ...] = ()) -> Upgrade:
    """Bring the database to the newest revision (see the module's docstring); raises SchemaError.

    ``revision``: stop at this one instead (a restore recreates a backup's own schema first).
    ``backup_dir``: where the SQLite copy goes (default: ``backups/`` beside the database file).
    ``extra_versions``: more folders of revisions after the shipped ones (the tests use it).
    """
    script_dirs = tuple(str(p) for p in extra_versions)
    shipped = _shipped_head() if revision is None and not extra_versions else None
    if shipped is not None:  # every start: a database already at the newest revision needs no Alembic
        with engine.connect() as conn:
            before = revision_at(conn)
            if before == shipped:
                return Upgrade(before, shipped, bool(_tables(conn)))
    script = _script(script_dirs)
    head = revision or script.get_current_head()
    with engine.connect() as conn:
        before, tables = revision_at(conn), _tables(conn)
    if before == head:
        return Upgrade(before, head, bool(tables))
    _refuse_unknown(script, before)
    copies: list[Path] = []
    try:
        before = _migrate(engine, script, head, _config(script_dirs), backup_dir, copies)
    except SchemaError:
        raise
    except Exception as exc:  # noqa: BLE001 - one sentence for whoever runs the server
        kept = f" A copy taken just before is at {copies[0]}." if copies else ""
        raise SchemaError(
            f"The database could not be brought up to date for this release ({one_line(exc)}). Nothing in it "
            f"was changed; it is still at {_describe(before)}.{kept} Please report this, and keep using the "
            "release you had until it is fixed."
        ) from exc
    return Upgrade(before, head, bool(tables), copies[0] if copies else None)


def current_revision(engine: Engine) -> str | None:
    """The revision a database is at; None when it has no version table (empty, or made before)."""
    with engine.connect() as conn:
        return revision_at(conn)


def head_revision() -> str:
    return _script(()).get_current_head()


def known_revision(revision: str | None) -> bool:
    """Whether this release knows the revision (None, no versions yet, counts as known)."""
    return revision is None or _known(_script(()), revision)


def run_migrations(context) -> None:
    """Called by ``migrations/env.py``: run the revisions on the connection ``upgrade`` passed in,
    inside its transaction; or, for the alembic command used to write a revision, on the
    database named in the configuration."""
    from store.schema import metadata

    options = {"target_metadata": metadata, "render_as_batch": True, "transactional_ddl": True, **COMPARE}
    conn = context.config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    from store.db import make_engine

    with make_engine(context.config.get_main_option("sqlalchemy.url")).connect() as own:
        context.configure(connection=own, **options)
        with context.begin_transaction():
            context.run_migrations()


def _defaults_differ(_context, _inspected_column, _column, inspected: str | None, _default,
                     rendered: str | None) -> bool | None:
    """Server defaults compared as the database spells them back ('open'::character varying on
    PostgreSQL, "''" for '' on SQLite)."""
    if inspected is None or rendered is None:
        return None  # let Alembic decide when one side has none
    return _plain_default(inspected) != _plain_default(rendered)


def _plain_default(text: str) -> str:
    text = re.sub(r"::[a-z ]+(\(\d+\))?$", "", text.strip().strip("()"))
    return text.strip("'\"").lower()


# How the models are compared with a database, both for writing a revision and in the tests that
# fail while the two disagree.
COMPARE = {"compare_type": True, "compare_server_default": _defaults_differ}


def write_revision(message: str, url: str) -> Path:
    """Write the next revision from the difference between the models and ``url`` at head (for
    developers: ``make migration MESSAGE=...``). Returns the new file."""
    from alembic import command

    script = _script(())
    number = f"{len(list(script.walk_revisions())) + 1:04d}"
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40] or "change"
    cfg = _config(())
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.set_main_option("file_template", "%%(rev)s_" + slug)  # %% survives the configparser
    command.revision(cfg, message=message, autogenerate=True, rev_id=number)
    _script.cache_clear()
    return next((MIGRATIONS / "versions").glob(f"{number}_*.py"))


def sqlite_file(engine_or_url) -> Path | None:
    """The file behind a SQLite engine or URL; None for PostgreSQL or an in-memory database."""
    url = make_url(str(engine_or_url.url) if hasattr(engine_or_url, "url") else str(engine_or_url))
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def _migrate(engine: Engine, script, head: str, cfg, backup_dir: Path | None, copies: list[Path]) -> str | None:
    """Every pending revision in one transaction, with the write lock held throughout; on SQLite a
    copy of the file first (added to ``copies``). Returns the revision found under the lock."""
    from alembic.runtime.environment import EnvironmentContext

    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite rebuilds a table to alter it; with foreign keys enforced, dropping the old copy
            # would cascade into the rows that refer to it. The pragma only takes effect outside a
            # transaction, so it is set on the driver's connection before ours begins.
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys = OFF")
        try:
            conn.execution_options(store_writing=True)
            with conn.begin():
                if not sqlite:
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
                current = revision_at(conn)  # again, now that no other process can be upgrading
                _refuse_unknown(script, current)
                if current != head and sqlite and _tables(conn):
                    # Taken under the write lock: readers still read, so the copy sees what we do.
                    copies += [c for c in [_safety_copy(engine, backup_dir, head)] if c is not None]
                if current != head:
                    cfg.attributes["connection"] = conn
                    with EnvironmentContext(cfg, script, fn=lambda rev, _ctx: script._upgrade_revs(head, rev),
                                            destination_rev=head):
                        script.run_env()
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the upgrade would leave {len(broken)} rows pointing at rows "
                                          f"that no longer exist (first in table {broken[0][0]})")
        finally:
            if sqlite:
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys = ON")
    return current


def _safety_copy(engine: Engine, folder: Path | None, head: str) -> Path | None:
    """A copy of a SQLite file before it is upgraded, made with the online backup API."""
    source = sqlite_file(engine)
    if source is None or not source.exists():
        return None
    folder = Path(folder) if folder else source.parent / "backups"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    target = folder / f"{source.stem}-{stamp}-before-{head}.db"
    for n in range(2, 100):  # two upgrades within a second (a test, or a retry) keep both copies
        if not target.exists():
            break
        target = folder / f"{source.stem}-{stamp}-{n}-before-{head}.db"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        copy_sqlite(source, target)
    except (OSError, sqlite3.Error) as exc:
        reason = exc.reason if isinstance(exc, CopyFailed) else one_line(exc)
        raise SchemaError(
            f"The database was not upgraded, because a copy of it could not be taken first into {folder} "
            f"({reason}). Nothing was changed. Make room there (the copy is as large as the database), then "
            "start again."
        ) from exc
    return target


class CopyFailed(OSError):
    """A SQLite copy was not made: ``reading`` says whether the source could not be read (else the
    copy could not be written); ``reason`` is SQLite's or the system's one line."""

    def __init__(self, reading: bool, reason: str):
        super().__init__(reason)
        self.reading, self.reason = reading, reason


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite file, taken in one step under a read lock while others go on
    reading and writing it; written beside the target, readable by its owner only (it holds what
    the database holds), and moved into place only when whole. Nothing is left behind on failure."""
    partial = target.with_name(target.name + ".partial")
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens it, or says why not
    except sqlite3.Error as exc:
        raise CopyFailed(True, one_line(exc)) from exc
    try:
        try:
            _remove(partial)
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
            dst = sqlite3.connect(partial)
        except (OSError, sqlite3.Error) as exc:
            raise CopyFailed(False, one_line(exc)) from exc
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        except sqlite3.Error as exc:
            raise CopyFailed("not a database" in str(exc) or "malformed" in str(exc), one_line(exc)) from exc
        finally:
            dst.close()
        os.replace(partial, target)
    except BaseException:
        _remove(partial)
        raise
    finally:
        src.close()


def _remove(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + "-journal")):
        try:
            leftover.unlink(missing_ok=True)
        except OSError:
            pass


def _refuse_unknown(script, revision: str | None) -> None:
    if revision is not None and not _known(script, revision):
        head = script.get_current_head()
        raise SchemaError(
            f"This database has been upgraded by a newer release of the dashboard (its schema is at revision "
            f"{revision}; this release knows revisions up to {head}). It has not been touched. Update the "
            "code (git pull) and start again, or restore a backup made with this release into an empty database."
        )


def _known(script, revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def revision_at(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def _tables(conn: Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names()) - {VERSION_TABLE}


def _describe(revision: str | None) -> str:
    return f"revision {revision}" if revision else "the schema it had"


def one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


_REVISION_LINE = re.compile(r"""^(down_revision|revision)\s*=\s*(?:"([^"\n]*)"|'([^'\n]*)'|None)\s*$""", re.M)


@lru_cache(maxsize=1)
def _shipped_head() -> str | None:
    """The newest shipped revision, read from each revision file's own ``revision = "0004"`` and
    ``down_revision = "0003"`` lines, without loading Alembic (a second's tenth at every start);
    None whenever those lines do not make one plain line of revisions, and Alembic decides."""
    parents: dict[str, str | None] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found: dict[str, str | None] = {}
        for m in _REVISION_LINE.finditer(path.read_text(encoding="utf-8")):
            if m.group(1) in found:
                return None
            found[m.group(1)] = m.group(2) if m.group(2) is not None else m.group(3)
        if not found.get("revision") or "down_revision" not in found or found["revision"] in parents:
            return None
        parents[found["revision"]] = found["down_revision"]
    heads = set(parents) - set(parents.values())
    roots = [r for r, down in parents.items() if down is None]
    if len(heads) != 1 or len(roots) != 1 or not set(parents.values()) - {None} <= set(parents):
        return None
    return heads.pop()


def _config(extra: tuple[str, ...]):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join((str(MIGRATIONS / "versions"), *extra)))
    return cfg


@lru_cache(maxsize=8)
def _script(extra: tuple[str, ...]):
    """The revisions, read once per process (and per set of extra folders)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config(extra))
    return script
