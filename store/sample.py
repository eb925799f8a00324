"""The sample trust: fill an empty database with the synthetic returns in sample_data/returns.

Used on first start so the dashboard has something to show. Each return counts as submitted at
09:00 on its own date completed, so the sample's late return looks late.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

import settings
from store.db import is_sqlite
from store.schema import returns
from store.upgrades import sqlite_file, upgrade

SAMPLE_DIR = settings.ROOT / "sample_data"
_PG_SAMPLE_LOCK = 7_246_190_332  # any fixed number, not the upgrade's
from store.overview import SAMPLE_USER


def sample_files(folder: Path | None = None) -> list[Path]:
    return sorted((folder or SAMPLE_DIR / "returns").glob("*.xlsx"))


def ensure_sample(engine: Engine, folder: Path | None = None) -> int:
    """Import every sample return when the database holds no returns; how many were imported.

    Does nothing (returns 0) once any return is stored, so it is safe on every start.
    """
    upgrade(engine)
    files = sample_files(folder)
    if not files:
        return 0
    with _alone(engine):  # two servers starting at once must not both load it
        with engine.connect() as conn:
            if conn.execute(sa.select(returns.c.id).limit(1)).first() is not None:
                return 0
        from store.importer import import_paths  # the file reader, only when there is something to read

        outcomes = import_paths([str(f) for f in files], user=SAMPLE_USER, engine=engine,
                                submitted_at_from_return=True, source="sample")
    return sum(1 for o in outcomes if o.saved is not None)


@contextmanager
def _alone(engine: Engine) -> Iterator[None]:
    """Hold a lock no other process filling the same database can hold: an advisory lock on
    PostgreSQL; on SQLite, a lock on the file itself (independent of SQLite's own locks)."""
    path = sqlite_file(engine)
    if path is not None:
        with path.open("rb") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    if is_sqlite(engine):  # in memory: one process only
        yield
        return
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _PG_SAMPLE_LOCK})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_SAMPLE_LOCK})
            conn.commit()

