"""The benchmark's made-up trusts on PostgreSQL (BENCH_DATABASE_URL): each SQLite trust of
bench/trusts.py copied table by table with COPY into a schema of its own, kept and reused by the
next run (a schema of the same trust made by older code is dropped)."""

from __future__ import annotations

import json

import sqlalchemy as sa

from bench.trusts import BenchDatabase
from store import db, upgrades

COPY_BATCH = 20_000


def postgres_url(url: str, schema: str) -> str:
    """``url`` with its search_path set to ``schema``."""
    from sqlalchemy.engine import make_url

    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def on_postgres(base: BenchDatabase, url: str, *, schema: str | None = None) -> str:
    """The trust of ``base`` copied into a schema of its own on the PostgreSQL database ``url``
    (named after the SQLite file, so kept and reused by the next run; another ``schema`` is made
    afresh): the URL that reads it. Each table's rows go over with COPY."""
    from sqlalchemy.pool import NullPool

    kept = schema is None
    schema = schema or f"bench_{base.path.stem}".lower()[:63]
    admin = sa.create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            # one builder at a time (another run of the bench may want the same trust): the others
            # wait, then find it made
            conn.execute(sa.text("SELECT pg_advisory_lock(hashtext(:s))"), {"s": schema})
            if kept and conn.execute(sa.text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"),
                                     {"s": schema}).first():
                return postgres_url(url, schema)
            stem = "bench_" + base.path.stem.rsplit("_", 1)[0].lower()
            for (old,) in conn.execute(sa.text("SELECT schema_name FROM information_schema.schemata "
                                               "WHERE schema_name LIKE :p"), {"p": stem + "%"}).all():
                if kept and old != schema:  # made by older code, or half made
                    conn.execute(sa.text(f'DROP SCHEMA "{old}" CASCADE'))
            building = f"{schema[:50]}_building" if kept else schema
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{building}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{building}"'))
            _copy_tables(base, postgres_url(url, building))
            if kept:
                conn.execute(sa.text(f'ALTER SCHEMA "{building}" RENAME TO "{schema}"'))
    finally:
        admin.dispose()  # the lock goes with the connection
    return postgres_url(url, schema)


def drop_schema(url: str, schema: str) -> None:
    from sqlalchemy.pool import NullPool

    admin = sa.create_engine(url, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _copy_tables(base: BenchDatabase, target_url: str) -> None:
    from store.schema import metadata

    source, target = db.make_engine(base.url), db.make_engine(target_url)
    try:
        upgrades.upgrade(target)
        with source.connect() as read, target.begin() as write:
            cursor = write.connection.driver_connection.cursor()
            for table in metadata.sorted_tables:
                names = [c.name for c in table.columns]
                rows = read.execution_options(yield_per=COPY_BATCH).execute(sa.select(*table.columns))
                quoted = ", ".join(f'"{n}"' for n in names)
                with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(_plain(row, table))
                serial = [c.name for c in table.primary_key.columns if c.autoincrement is True]
                for column in serial:
                    write.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
                                          f"COALESCE((SELECT max({column}) FROM {table.name}), 0) + 1, false)")
            write.exec_driver_sql("ANALYZE")
    finally:
        db.dispose(source)
        db.dispose(target)


def _plain(row, table: sa.Table) -> tuple:
    """A row as COPY takes it: JSON columns as JSON text."""
    out = []
    for value, column in zip(row, table.columns):
        if isinstance(column.type, sa.JSON) and value is not None:
            value = json.dumps(value)
        out.append(value)
    return tuple(out)
