"""The database connection: one engine per URL, and the single way every write is made.

SQLite (the default, a file in the data folder) and PostgreSQL (``postgresql+psycopg://``) are
both supported. On SQLite each write takes the database's write lock up front with
``BEGIN IMMEDIATE``: a plain deferred transaction that reads, then writes, fails with "database
is locked" when another writer got there first, and a save must never be lost that way.
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

import settings
from store.schema import store_generation

# How long a writer waits for another writer's lock before giving up, in seconds. Saves are
# short (milliseconds), so only a stuck process should ever reach this.
BUSY_TIMEOUT_S = 30

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def make_engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (default: settings.database_url()), made once per URL and reused."""
    url = str(url or settings.database_url())
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _build(url)
            _engines[url] = engine
        return engine


def checked_url(url: str) -> str:
    """``url`` when it names a database this product can open; ValueError with a sentence if not."""
    from sqlalchemy.exc import ArgumentError

    example = "sqlite:///data/dashboard.db or postgresql+psycopg://USER@HOST:5432/DBNAME"
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise ValueError(f"{url!r} is not a database URL: give one such as {example}.") from None
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"{url!r} is a {backend} database; the dashboard keeps its data in SQLite or PostgreSQL "
                         f"({example}).")
    return url


# What a fault of the database itself (not of our code) means for the person in front of it.
READ_ONLY = ("The dashboard's database is read-only just now, so nothing could be saved; nothing already "
             "stored was lost. Whoever runs the server should check the database's permissions, then try again.")
FULL = ("The disk that holds the dashboard's database is full, so nothing could be saved; nothing already "
        "stored was lost. Whoever runs the server should make room, then try again.")
DOWN = ("The dashboard cannot reach its database just now, so nothing can be shown or saved; nothing was lost. "
        "Please try again in a few minutes, and if it goes on, tell whoever runs the server.")
BUSY = ("The dashboard's database is busy with another change that is taking too long; nothing was saved. "
        "Please try again in a minute.")
# Each by a short name, for a sentence carried in a cookie or a code rather than in words.
TROUBLE_NAMES = {READ_ONLY: "read-only", FULL: "full", BUSY: "busy", DOWN: "down"}
TROUBLES = {name: said for said, name in TROUBLE_NAMES.items()}
_SIGNS = (
    (READ_ONLY, ("readonly database", "read-only", "read only transaction", "permission denied")),
    (FULL, ("database or disk is full", "no space left", "could not extend file", "disk full")),
    (BUSY, ("database is locked", "lock timeout", "statement timeout")),
    (DOWN, ("connection refused", "could not connect", "connection failed", "server closed the connection",
            "terminating connection", "the database system is", "unable to open database file",
            "name or service not known", "connection timeout", "timeout expired", "no route to host")),
)


def trouble(exc: BaseException) -> str | None:
    """The sentence for a fault of the database itself (read-only, full, out of reach, locked), or
    None when the error is something else (a bug of ours, to be apologised for)."""
    if not isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.InternalError,
                            sa.exc.ProgrammingError, OSError)):
        return None
    text = str(getattr(exc, "orig", None) or exc).lower()
    return next((said for said, signs in _SIGNS if any(sign in text for sign in signs)), None)


def dispose(engine: Engine) -> None:
    """Close the engine's connections and forget it, so the next make_engine starts afresh."""
    with _engines_lock:
        for key, cached in list(_engines.items()):
            if cached is engine:
                del _engines[key]
    engine.dispose()


def is_sqlite(engine_or_conn: Engine | Connection) -> bool:
    return engine_or_conn.dialect.name == "sqlite"


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction: committed when the block ends, rolled back whole on any error.

    On SQLite it starts with BEGIN IMMEDIATE (the write lock is taken before the first read, so
    read-then-write saves queue up instead of failing); on PostgreSQL it is a normal transaction.
    When it wrote to a table whose rows the pages show (anything but the QUIET ones), the store's
    generation moves on by one just before the commit, in the same transaction.
    """
    global _writes
    _writes += 1
    with engine.connect() as conn:
        conn.execution_options(store_writing=True)
        conn.info[_MOVED] = False
        try:
            with conn.begin():
                yield conn
                if conn.info[_MOVED]:
                    bump(conn)
        finally:
            conn.info.pop(_MOVED, None)


# ---- The store's generation -----------------------------------------------------------------------

# Tables no cached view is made from: a write only to these (a sign-in, a session kept alive, an
# email queued or sent, a draft, a line in the record of changes) leaves the generation where it is,
# so the dashboard's views outlive it. A write to any other table, a new one included, moves it.
QUIET = frozenset({"sessions", "login_attempts", "audit", "outbox", "drafts", "alembic_version", "store_generation"})
_MOVED = "store_generation_moves"
_WRITES_TO = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+(?:"?\w+"?\.)?"?(\w+)',
                        re.IGNORECASE)


def moves_generation(statement: str) -> bool:
    """Whether a statement writes to a table whose rows the pages show (not one of QUIET)."""
    found = _WRITES_TO.match(statement)
    return found is not None and found.group(1).lower() not in QUIET


def bump(conn: Connection) -> int:
    """Move the generation on by one within ``conn``'s transaction; the new generation. A write made
    on the driver's own cursor (which the statement watch cannot see) calls this itself; a database
    whose schema predates the generation (a restore part-way through) is left as it is."""
    global _bumped
    if not _has_generation(conn):
        return 0
    _bumped += 1
    table = store_generation
    statement = upsert_insert(conn, table).values(id=1, generation=1)
    statement = statement.on_conflict_do_update(index_elements=[table.c.id],
                                                set_={"generation": table.c.generation + 1})
    return int(conn.execute(statement.returning(table.c.generation)).scalar_one())


_bumped = 0  # moves made by this process (counted as asked for: a move rolled back is counted too)


_writes = 0  # write transactions begun by this process, of any table


def writes_made_here() -> int:
    """How many write transactions this process has begun: a change in it says something read
    earlier in a page's run (who may sign in, say) may have changed."""
    return _writes


def moves_made_here() -> int:
    """How many times this process has asked to move a generation on: a change in it says a write of
    this process may have moved one, so a generation read earlier in a page's run is read again."""
    return _bumped


def generation(engine_or_conn: Engine | Connection) -> int:
    """The store's generation: a cheap read of one row (0 before the first write that moves it).
    Read on every click, so on an engine it goes through the driver's own cursor, a tenth of the
    cost of a SQLAlchemy query; a fault of the database is raised as SQLAlchemy's error all the same."""
    if isinstance(engine_or_conn, Connection):
        return int(engine_or_conn.execute(sa.text(_READ_GENERATION)).scalar() or 0)
    raw = engine_or_conn.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(_READ_GENERATION)
            row = cursor.fetchone()
        finally:
            cursor.close()
    except engine_or_conn.dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(_READ_GENERATION, None, exc, engine_or_conn.dialect.loaded_dbapi.Error) \
            from exc
    finally:
        raw.close()
    return int(row[0]) if row else 0


_READ_GENERATION = f"SELECT generation FROM {store_generation.name} WHERE id = 1"
_with_generation: set[str] = set()  # databases known to have the table (a table is never dropped)


def _has_generation(conn: Connection) -> bool:
    key = conn.engine.url.render_as_string(hide_password=False)
    if key not in _with_generation:
        if not sa.inspect(conn).has_table(store_generation.name):
            return False
        _with_generation.add(key)
    return True


def _watch_writes(engine: Engine) -> None:
    """Mark a write transaction that changed what the pages show, for ``writing`` to bump."""

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _on_execute(conn, _cursor, statement, _parameters, _context, _executemany):
        if statement[:1] in "IiUuDd" and not conn.info.get(_MOVED, True) and moves_generation(statement):
            conn.info[_MOVED] = True


def _build(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # pre_ping replaces a connection the server dropped instead of failing the next request.
        engine = sa.create_engine(url, pool_pre_ping=True)
        _watch_writes(engine)
        return engine
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
    _take_over_sqlite_transactions(engine, wal=not in_memory)
    _watch_writes(engine)
    return engine


def _take_over_sqlite_transactions(engine: Engine, *, wal: bool) -> None:
    """The pysqlite recipe: the driver stops issuing BEGIN itself and we issue the right one."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA foreign_keys = ON")
        if wal:
            # WAL lets the dashboard read while a return is being saved; NORMAL sync is safe
            # with WAL (a crash can lose the last commit, never corrupt or half-write one).
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):
        writes = conn.get_execution_options().get("store_writing", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def upsert_insert(conn: Connection, table: sa.Table):
    """An INSERT that can take ON CONFLICT clauses, in the connection's own dialect."""
    if is_sqlite(conn):
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert(table)
