"""Read what analysis needs from the store, once, into a Dataset; and open a database for the
command lines with a plain sentence when it cannot be read."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from analysis.context import Dataset
from store import overview
from store.returns import schools


NO_RETURNS = "No returns stored yet: import some with python -m loaders import FILE..."


class Unavailable(Exception):
    """Why a gap list or a pack cannot be made, as a plain sentence for the person asking."""


def load_dataset(engine: Engine) -> Dataset:
    return Dataset(
        schools=schools(engine)[["urn", "name", "phase"]],
        values=overview.latest_values(engine),
        returns=overview.submissions(engine),
        leads=overview.latest_leads(engine),
        queries=overview.latest_queries(engine),
    )


def open_database(url: str | None):
    """An engine on a database that holds returns; Unavailable (a plain sentence) otherwise."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    import settings
    from store.db import make_engine
    from store.schema import returns

    url = url or settings.database_url()
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise Unavailable(f"{url!r} is not a database URL: give one such as sqlite:///data/dashboard.db "
                          "or postgresql+psycopg://user@host/dbname.") from None
    shown = parsed.render_as_string(hide_password=True)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database and not database.startswith(("file:", ":memory:")):
        if not Path(database).expanduser().is_file():
            raise Unavailable(f"There is no database at {database}. Start the dashboard once (make run), "
                              "or run python -m store init, to create it.")
    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            stored = sa.inspect(conn).has_table(returns.name) and conn.execute(
                sa.select(returns.c.id).limit(1)).first() is not None
    except (SQLAlchemyError, ImportError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise Unavailable(f"Could not open the database at {shown}: {reason[0] if reason else type(exc).__name__}"
                          .rstrip(".") + ".") from None
    if not stored:
        raise Unavailable(NO_RETURNS)
    return engine
