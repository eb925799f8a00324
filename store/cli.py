"""What the command lines that open the database share (``python -m store``, ``python -m analysis``,
``python -m reports``): the ``--db`` argument (with ``--year`` and ``--term`` for a term's figures),
checked as the parser reads it, and the work done on the upgraded database with each failure told in
one sentence, never a traceback.

Light to import: SQLAlchemy and the rest of the store are imported when the database is opened,
so that a usage mistake is answered at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

import settings

OK, FAILED = 0, 1  # argparse itself exits 2 on bad usage
DB_HELP = "database URL (default: DATABASE_URL or the SQLite file in the data folder)"


def add_db(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give ``parser`` the ``--db URL`` option; returns the parser."""
    parser.add_argument("--db", metavar="URL", help=DB_HELP)
    return parser


def add_term(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give ``parser`` ``--db URL`` and the term asked for, ``--year`` with ``--term``; returns the parser."""
    add_db(parser)
    parser.add_argument("--year", help="academic year, e.g. 2025/26 (with --term)")
    parser.add_argument("--term", help="Autumn, Spring or Summer (with --year)")
    return parser


def db_parent() -> argparse.ArgumentParser:
    """A parent parser holding ``--db``, for each action of a command (``users add``, ``users list``, ...)."""
    return add_db(argparse.ArgumentParser(add_help=False))


def actions(commands, name: str, help: str, helps: dict[str, str]) -> dict[str, argparse.ArgumentParser]:
    """A command made of actions (``users add``, ``users list``, ...), each with ``--db``: its
    parsers by action, each with its help from ``helps``; the action chosen is ``args.action``."""
    group = commands.add_parser(name, help=help)
    chosen = group.add_subparsers(dest="action", required=True, metavar="{" + ",".join(helps) + "}")
    db = db_parent()
    return {action: chosen.add_parser(action, parents=[db], help=words) for action, words in helps.items()}


def check_db(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """A ``--db`` that is not a database URL is a usage mistake: exit 2 with the reason."""
    from store.db import checked_url

    if getattr(args, "db", None):
        try:
            checked_url(args.db)
        except ValueError as exc:
            parser.error(str(exc))


def run_safely(main: Callable[[], int], *, piped: int = OK, stopped: str | None = None,
               bug: str | None = None) -> int:
    """``main()``'s exit code, and never a traceback for what is not a bug: when the reader of the
    output goes away (``| head``), ``piped``; Ctrl-C, 1 (saying ``stopped`` when given); any other
    exception, 1 with ``bug`` said (without ``bug`` it is raised, as a bug)."""
    try:
        return main()
    except BrokenPipeError:  # the reader went away: not an error worth a trace
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stop Python complaining again at exit
        return piped
    except KeyboardInterrupt:
        if stopped:
            print(stopped, file=sys.stderr)
        return FAILED
    except Exception:
        if bug is None:
            raise
        print(bug, file=sys.stderr)
        return FAILED


def on_database(url: str | None, failing: str, work: Callable, expected: tuple[type[Exception], ...] = ()) -> int:
    """``work(engine)`` on the database at ``url`` (default: the configured one), its tables made or
    upgraded first; its exit code. What ``work`` raises among ``expected`` (and a schema it cannot
    upgrade) is printed as it says; anything else as "Could not {failing} {the database}: why"."""
    from sqlalchemy.engine import make_url

    from store.db import make_engine, trouble
    from store.upgrades import SchemaError, one_line, upgrade

    url = url or settings.database_url()
    try:
        engine = make_engine(url)
        upgrade(engine)
        return work(engine)
    except (*expected, SchemaError) as exc:
        print(str(exc), file=sys.stderr)
        return FAILED
    except Exception as exc:  # noqa: BLE001 - a one-line reason, never a traceback
        shown = make_url(url).render_as_string(hide_password=True)
        print(trouble(exc) or f"Could not {failing} {shown}: {one_line(exc)}.", file=sys.stderr)
        return FAILED
