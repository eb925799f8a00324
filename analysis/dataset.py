"""Read what analysis needs from the store, once, into a Dataset; and open a database for the
command lines with a plain sentence when it cannot be read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine

from analysis.context import Dataset
from analysis.deadlines import default_term
from store import overview
from store.returns import schools

NO_RETURNS = "No returns stored yet: import some with python -m loaders import FILE..."


class Unavailable(Exception):
    """Why a gap list or a pack cannot be made, as a plain sentence for the person asking."""


def load_dataset(engine: Engine) -> Dataset:
    """Everything the store holds that analysis reads, with the ids of the returns it was read
    from (``stored``: what analysis.refresh reads the changes since)."""
    stored = frozenset(overview.stored_returns(engine)["id"].tolist())
    data = Dataset(
        schools=school_table(engine),
        values=overview.value_columns(engine),
        returns=overview.submissions(engine),
        leads=overview.latest_leads(engine),
        queries=overview.latest_queries(engine),
    )
    data.stored = stored
    return data


def school_table(engine: Engine):
    """The schools as analysis reads them: urn, name, phase."""
    return schools(engine)[["urn", "name", "phase"]]


def open_database(url: str | None):
    """An engine on a database that holds returns; Unavailable (a plain sentence) otherwise."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    import settings
    from store.db import make_engine
    from store.schema import returns
    from store.upgrades import SchemaError, upgrade

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
        upgrade(engine)
        with engine.connect() as conn:
            stored = conn.execute(sa.select(returns.c.id).limit(1)).first() is not None
    except SchemaError as exc:
        raise Unavailable(str(exc)) from None
    except (SQLAlchemyError, ImportError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise Unavailable(f"Could not open the database at {shown}: {reason[0] if reason else type(exc).__name__}"
                          .rstrip(".") + ".") from None
    if not stored:
        raise Unavailable(NO_RETURNS)
    return engine


def chosen_term(data: Dataset, year: str | None, term: str | None, thresholds: dict | None = None,
                today: date | None = None) -> tuple[str, str]:
    """The term asked for, or the one shown when none is asked (analysis.deadlines.default_term,
    under the trust's thresholds); Unavailable when there is none."""
    if not data.terms:
        raise Unavailable(NO_RETURNS)
    if year is None:
        return default_term(data, thresholds, today)
    if (year, term) not in data.terms:
        shown = ", ".join(f"{t} {y}" for y, t in data.terms)
        raise Unavailable(f"No returns are stored for {term} {year}. Terms with returns: {shown}.")
    return year, term


def term_asked(args, parser) -> tuple[str | None, str | None]:
    """--year and --term from a command line, as the store writes them; (None, None) for the term
    shown by default."""
    from loaders import values

    if (args.year is None) != (args.term is None):
        parser.error("--year and --term go together: give both (e.g. --year 2025/26 --term Spring), "
                     "or neither for the latest term whose returns are due.")
    if args.year is None:
        return None, None
    year, term = values.read_year(args.year.strip()), values.read_term(args.term)
    for flag, raw, result in (("--year", args.year, year), ("--term", args.term, term)):
        if result is None or isinstance(result, values.Bad):
            advice = result.advice if isinstance(result, values.Bad) else "It is blank."
            parser.error(f"{flag} {raw!r}: {advice}")
    return year, term


def as_role(data: Dataset, role: str, who: str = "command line") -> Dataset:
    """The dataset as a reader of ``role`` who is no one in particular sees it (the command line, a
    pack made for trustees): the store's scope for that role, applied in analysis.context.restrict."""
    from analysis.context import restrict
    from store.access import scope_for
    from store.users import User

    return restrict(data, scope_for(User(who, None, role, ())))


@dataclass(frozen=True)
class BoardInputs:
    """What a board pack is made from, read in one go from the database."""

    data: Dataset
    thresholds: dict
    challenges: object  # the board's log, store.challenges' columns
    year: str
    term: str
    last_pack: object  # when the pack for an earlier term was last made, or None


def board_inputs(url: str | None, year: str | None, term: str | None, today: date | None = None) -> BoardInputs:
    """The dataset, the trust's thresholds, the board's log and the last pack before the term, from
    the database at ``url`` (default: the configured one). Unavailable says why not."""
    from store.challenges import list_challenges
    from store.packs import last_pack_before
    from store.thresholds import load_thresholds

    engine = open_database(url)
    try:
        data = load_dataset(engine)
        thresholds = load_thresholds(engine)
        log = list_challenges(engine)
        year, term = chosen_term(data, year, term, thresholds, today)
        last = last_pack_before(engine, year, term)
    finally:
        engine.dispose()
    return BoardInputs(data, thresholds, log, year, term, last)
