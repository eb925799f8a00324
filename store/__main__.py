"""``python -m store init [--db URL]``: create the tables and, on first start, load the sample trust."""

from __future__ import annotations

import argparse
import sys

import sqlalchemy as sa
from sqlalchemy.engine import make_url

import settings
from store.db import create_schema, make_engine
from store.schema import returns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m store", description="Set up the dashboard's database.")
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="create the tables and load the sample trust into an empty database")
    init.add_argument("--db", help="database URL (default: DATABASE_URL or the SQLite file in the data folder)")
    args = parser.parse_args(argv)

    url = args.db or settings.database_url()
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        engine = make_engine(url)
        create_schema(engine)
        imported = 0
        if settings.load_sample_on_first_start():
            from store.sample import ensure_sample

            imported = ensure_sample(engine)
        with engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(returns)).scalar()
    except Exception as exc:  # a one-line reason, never a traceback
        print(f"Could not set up the database at {shown}: {type(exc).__name__}: {exc}".splitlines()[0],
              file=sys.stderr)
        return 1
    extra = f", {imported} sample returns loaded now" if imported else ""
    print(f"Database ready at {shown}: {total} returns stored{extra}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
