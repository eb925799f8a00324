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
from store.cli import FAILED, OK, actions, add_db, check_db, on_database, run_safely
from store.db import make_engine, trouble
from store.schema import returns
from store.upgrades import SchemaError, Upgrade, one_line, upgrade

ACTOR = "command line"
ROLE_CHOICES = ("trust_leader", "trustee", "dsl")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m store", description="Set up the dashboard's database.")
    commands = parser.add_subparsers(dest="command", required=True)
    add_db(commands.add_parser("init", help="create or upgrade the tables; load the sample trust into an empty "
                               "database"))
    backup = add_db(commands.add_parser("backup", help="write a consistent backup of the database, even while the "
                                        "dashboard runs"))
    backup.add_argument("-o", "--output", required=True, metavar="FILE", help="the backup file to write")
    restore = add_db(commands.add_parser("restore", help="restore a backup into an empty database"))
    restore.add_argument("file", metavar="FILE", help="a backup made by python -m store backup")
    _add_users_parser(commands)
    _add_schools_parser(commands)
    args = parser.parse_args(argv)
    check_db(args, parser)
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
    action = actions(commands, "users", "add, list, remove users, change their role or unlock them", {
        "add": "add a user", "list": "list every user", "remove": "remove a user (they can no longer sign in)",
        "set-role": "change a user's role", "unlock": "let a user locked out by failed sign-ins sign in now"})
    for name in ("add", "remove", "set-role", "unlock"):
        action[name].add_argument("email", metavar="EMAIL")
    add = action["add"]
    add.add_argument("--role", required=True, choices=ROLE_CHOICES)
    add.add_argument("--name", help="the person's name as the pages show it")
    add.add_argument("--school", dest="schools", action="append", default=[], metavar="URN",
                     help="a school a DSL holds (repeat for several)")
    add.add_argument("--password-stdin", action="store_true",
                     help="read a local password from standard input (otherwise asked for at a terminal; "
                          "none: the user signs in through single sign-on)")
    role = action["set-role"]
    role.add_argument("role", choices=ROLE_CHOICES)
    role.add_argument("--school", dest="schools", action="append", default=None, metavar="URN",
                      help="the schools a DSL holds (repeat for several; default: keep a DSL's schools)")


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
    return on_database(args.db, "change the users at", lambda engine: _run(users, engine, args, password),
                       (users.UserError,))


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

    phase = actions(commands, "schools", "list the schools, or set a school's phase", {
        "list": "every school with its phase", "set-phase": "set or correct a school's phase"})["set-phase"]
    phase.description = "The phase decides which schools a school is compared with."
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
        return on_database(args.db, "change the schools at",
                           lambda engine: _set_phase(phases, engine, args.urn, phase), (phases.UnknownSchool,))
    return on_database(args.db, "read the schools at", lambda engine: _list_schools(phases, engine))


def _list_schools(phases, engine) -> int:
    print(render_schools(phases.school_phases(engine)))
    return OK


def _set_phase(phases, engine, urn: str, phase: str | None) -> int:
    changed = phases.set_phase(engine, urn.strip(), phase, user=ACTOR, source=ACTOR)
    urn, words = urn.strip(), f"the phase {phase}" if phase else phases.NO_PHASE_WORDS
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
    return run_safely(main, stopped="\nStopped. Anything half-made was taken away again.",
                      bug="Sorry: something went wrong on our side; nothing was changed. Please report this.")


if __name__ == "__main__":
    sys.exit(run())
