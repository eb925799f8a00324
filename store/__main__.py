"""``python -m store``: set up, upgrade, back up and restore the database, and manage who may sign in.

    python -m store init [--db URL]
    python -m store backup -o FILE [--db URL]
    python -m store restore FILE [--db URL]
    python -m store users add EMAIL --role trust_leader|trustee|dsl [--name NAME] [--school URN ...]
                              [--password-stdin] [--db URL]
    python -m store users list [--db URL]
    python -m store users remove EMAIL [--db URL]
    python -m store users set-role EMAIL ROLE [--school URN ...] [--db URL]
    python -m store users unlock EMAIL [--db URL]
    python -m store schools list [--db URL]
    python -m store schools set-phase URN PHASE [--db URL]

A password is never taken on the command line (it would stay in the shell's history and show in
the process list): it is read from standard input with --password-stdin, or asked for when run
at a terminal. Exit 0 when done, 1 when it could not be done, 2 on bad usage.

"""

from __future__ import annotations

import argparse
import getpass
import sys

import sqlalchemy as sa
from sqlalchemy.engine import make_url

import settings
from store.db import checked_url, make_engine, trouble
from store.schema import returns
from store.upgrades import SchemaError, Upgrade, one_line, upgrade

OK, FAILED = 0, 1  # argparse itself exits 2 on bad usage
ACTOR = "command line"
ROLE_CHOICES = ("trust_leader", "trustee", "dsl")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m store", description="Set up the dashboard's database.")
    commands = parser.add_subparsers(dest="command", required=True)
    db_help = "database URL (default: DATABASE_URL or the SQLite file in the data folder)"
    init = commands.add_parser("init", help="create or upgrade the tables; load the sample trust into an empty database")
    init.add_argument("--db", metavar="URL", help=db_help)
    backup = commands.add_parser("backup", help="write a consistent backup of the database, even while the dashboard runs")
    backup.add_argument("-o", "--output", required=True, metavar="FILE", help="the backup file to write")
    backup.add_argument("--db", metavar="URL", help=db_help)
    restore = commands.add_parser("restore", help="restore a backup into an empty database")
    restore.add_argument("file", metavar="FILE", help="a backup made by python -m store backup")
    restore.add_argument("--db", metavar="URL", help=db_help)
    _add_users_parser(commands)
    _add_schools_parser(commands)
    args = parser.parse_args(argv)
    if getattr(args, "db", None):
        try:
            checked_url(args.db)
        except ValueError as exc:
            parser.error(str(exc))  # exit 2, as for any other usage mistake
    if args.command == "users":
        return _users(args)
    if args.command == "schools":
        return _schools(args, parser)
    if args.command in ("backup", "restore"):
        return _backup_or_restore(args)
    return _init(args)


def _init(args) -> int:
    url = args.db or settings.database_url()
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        engine = make_engine(url)
        done = upgrade(engine)
        if done.changed:
            print(_upgrade_words(done, shown))
        imported = 0
        if settings.load_sample_on_first_start():
            from store.sample import ensure_sample

            imported = ensure_sample(engine)
        with engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(returns)).scalar()
    except SchemaError as exc:
        print(str(exc), file=sys.stderr)
        return FAILED
    except Exception as exc:  # noqa: BLE001 - a one-line reason, never a traceback
        print(trouble(exc) or f"Could not set up the database at {shown}: {one_line(exc)}.", file=sys.stderr)
        return FAILED
    extra = f", {imported} sample returns loaded now" if imported else ""
    print(f"Database ready at {shown}: {total} returns stored{extra}.")
    return OK


def _upgrade_words(done: Upgrade, shown: str) -> str:
    if not done.had_tables:
        return f"Created the tables at {shown} (schema revision {done.after})."
    start = (f"revision {done.before}" if done.before else
             "the schema of a release from before schema versions (recognised, nothing recreated)")
    kept = f" A copy taken before the upgrade is at {done.backup}." if done.backup else ""
    return f"Upgraded the database at {shown} from {start} to revision {done.after}.{kept}"


def _backup_or_restore(args) -> int:
    from store import backup

    url = args.db or settings.database_url()
    try:
        if args.command == "backup":
            made = backup.backup(url, args.output)
            print(f"Backed up {made.database} to {made.file} ({made.file.stat().st_size / 1e6:.1f} MB): "
                  f"{made.summary()}.")
            return OK
        made, done = backup.restore(args.file, url)
    except (backup.BackupError, SchemaError) as exc:
        print(str(exc), file=sys.stderr)
        return FAILED
    upgraded = f", then upgraded from revision {done.before} to {done.after}" if done.changed else ""
    print(f"Restored {made.file} into {made.database}{upgraded}: {made.summary()}.")
    return OK


def _add_users_parser(commands) -> None:
    users = commands.add_parser("users", help="add, list, remove users, change their role or unlock them")
    actions = users.add_subparsers(dest="action", required=True, metavar="{add,list,remove,set-role,unlock}")
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", metavar="URL", help="database URL (default: the configured one)")
    add = actions.add_parser("add", parents=[db], help="add a user")
    add.add_argument("email", metavar="EMAIL")
    add.add_argument("--role", required=True, choices=ROLE_CHOICES)
    add.add_argument("--name", help="the person's name as the pages show it")
    add.add_argument("--school", dest="schools", action="append", default=[], metavar="URN",
                     help="a school a DSL holds (repeat for several)")
    add.add_argument("--password-stdin", action="store_true",
                     help="read a local password from standard input (otherwise asked for at a terminal; "
                          "none: the user signs in through single sign-on)")
    actions.add_parser("list", parents=[db], help="list every user")
    remove = actions.add_parser("remove", parents=[db], help="remove a user (they can no longer sign in)")
    remove.add_argument("email", metavar="EMAIL")
    role = actions.add_parser("set-role", parents=[db], help="change a user's role")
    role.add_argument("email", metavar="EMAIL")
    role.add_argument("role", choices=ROLE_CHOICES)
    role.add_argument("--school", dest="schools", action="append", default=None, metavar="URN",
                      help="the schools a DSL holds (repeat for several; default: keep a DSL's schools)")
    unlock = actions.add_parser("unlock", parents=[db], help="let a user locked out by failed sign-ins sign in now")
    unlock.add_argument("email", metavar="EMAIL")


def _users(args) -> int:
    from store import users

    try:
        password = _password(args.password_stdin) if args.action == "add" else None
    except (EOFError, KeyboardInterrupt):
        print("\nNo user added: the password was not given.", file=sys.stderr)
        return FAILED
    except ValueError as exc:
        print(f"{exc} No user added.", file=sys.stderr)
        return FAILED
    url = args.db or settings.database_url()
    try:
        engine = make_engine(url)
        upgrade(engine)
        return _run(users, engine, args, password)
    except (users.UserError, SchemaError) as exc:
        print(str(exc), file=sys.stderr)
        return FAILED
    except Exception as exc:  # noqa: BLE001 - a one-line reason, never a traceback
        shown = make_url(url).render_as_string(hide_password=True)
        print(trouble(exc) or f"Could not change the users at {shown}: {one_line(exc)}.", file=sys.stderr)
        return FAILED


def _run(users, engine, args, password) -> int:
    if args.action == "list":
        print(render_users(users.list_users(engine)))
    elif args.action == "add":
        user = users.add_user(engine, args.email, role=args.role, name=args.name, urns=args.schools,
                              password=password, actor=ACTOR, source=ACTOR)
        how = "with a local password" if password is not None else "signing in through single sign-on"
        print(f"Added {user.email} as {_role_words(user)}, {how}.")
    elif args.action == "remove":
        users.remove_user(engine, args.email, actor=ACTOR, source=ACTOR)
        print(f"Removed {args.email.strip().lower()}: they can no longer sign in.")
    elif args.action == "unlock":
        cleared = users.unlock(engine, args.email, actor=ACTOR, source=ACTOR)
        email = args.email.strip().lower()
        print(f"Unlocked {email}: {cleared} failed sign-in{'' if cleared == 1 else 's'} cleared, so they can sign "
              "in again now." if cleared else f"{email} was not locked out: no failed sign-ins were held against it.")
    else:
        user = users.set_role(engine, args.email, args.role, urns=args.schools, actor=ACTOR, source=ACTOR)
        print(f"{user.email} is now {_role_words(user)}.")
    return OK


def _add_schools_parser(commands) -> None:
    from loaders.registry import PHASES
    from store.phases import NO_PHASE

    schools = commands.add_parser("schools", help="list the schools, or set a school's phase")
    actions = schools.add_subparsers(dest="action", required=True, metavar="{list,set-phase}")
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", metavar="URL", help="database URL (default: the configured one)")
    actions.add_parser("list", parents=[db], help="every school with its phase")
    phase = actions.add_parser("set-phase", parents=[db], help="set or correct a school's phase",
                               description="The phase decides which schools a school is compared with.")
    phase.add_argument("urn", metavar="URN", help="the school's 6-digit URN")
    phase.add_argument("phase", metavar="PHASE",
                       help=f"one of {', '.join(PHASES)} (quote the last), or {NO_PHASE} to record none")


def _schools(args, parser) -> int:
    from store import phases

    if args.action == "set-phase":
        if not (args.urn.strip().isdigit() and len(args.urn.strip()) == 6):
            parser.error(f"'{args.urn}' is not a URN: give the school's 6-digit Unique Reference Number.")
        try:
            phase = phases.phase_of(args.phase)
        except phases.PhaseError as exc:
            parser.error(str(exc))  # exit 2, like any other choice not on the list
    url = args.db or settings.database_url()
    try:
        engine = make_engine(url)
        upgrade(engine)
        if args.action == "list":
            print(render_schools(phases.school_phases(engine)))
            return OK
        changed = phases.set_phase(engine, args.urn.strip(), phase, user=ACTOR, source=ACTOR)
    except (phases.UnknownSchool, SchemaError) as exc:
        print(str(exc), file=sys.stderr)
        return FAILED
    except Exception as exc:  # noqa: BLE001 - a one-line reason, never a traceback
        shown = make_url(url).render_as_string(hide_password=True)
        print(trouble(exc) or f"Could not change the schools at {shown}: {one_line(exc)}.", file=sys.stderr)
        return FAILED
    urn, words = args.urn.strip(), f"the phase {phase}" if phase else phases.NO_PHASE_WORDS
    print(f"School {urn} now has {words}." if changed else f"School {urn} already has {words}; nothing changed.")
    return OK


def render_schools(rows) -> str:
    """One line per school: URN, name, phase (or that it has none), and what its newest return says
    when that is something else."""
    if not rows:
        return "No schools yet: a school is added with its first return."
    lines = []
    for row in rows:
        line = f"{row.urn} {row.name}: {row.phase or 'no phase recorded, so it is compared with the whole trust'}"
        if row.differs:
            line += f" (its newest return says {row.said})"
        lines.append(line)
    return "\n".join(lines)


def _password(from_stdin: bool) -> str | None:
    """The new user's password, or None for single sign-on. Never from the command line itself."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ValueError("No password on standard input: give it as one line, or leave out --password-stdin.")
        return password
    if not sys.stdin.isatty():  # a script without --password-stdin adds a single sign-on user
        return None
    first = getpass.getpass("Password (leave empty for single sign-on): ")
    if not first:
        return None
    if getpass.getpass("The same password again: ") != first:
        raise ValueError("The two passwords differ.")
    return first


def render_users(frame) -> str:
    """One line per user: email, role, schools, how they sign in, and whether removed."""
    if frame.empty:
        return "No users yet: add one with `python -m store users add EMAIL --role trust_leader`."
    lines = []
    for row in frame.itertuples(index=False):
        schools = f" for {', '.join(row.urns)}" if row.urns else ""
        name = f" ({row.name})" if row.name else ""
        how = "removed" if row.disabled else ("local password" if row.password else "single sign-on")
        lines.append(f"{row.email}{name}: {_role_label(row.role)}{schools}; {how}")
    return "\n".join(lines)


def _role_words(user) -> str:
    schools = f" for {', '.join(user.urns)}" if user.urns else ""
    return f"{_role_label(user.role)}{schools}"


def _role_label(role: str) -> str:
    from store.access import ROLES

    return ROLES.get(role, role)


def run() -> int:
    try:
        return main()
    except KeyboardInterrupt:
        print("\nStopped. Anything half-made was taken away again.", file=sys.stderr)
        return FAILED
    except Exception:  # noqa: BLE001
        print("Sorry: something went wrong on our side; nothing was changed. Please report this.", file=sys.stderr)
        return FAILED


if __name__ == "__main__":
    sys.exit(run())
