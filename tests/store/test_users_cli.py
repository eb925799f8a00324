"""``python -m store users ...`` as a data officer would run it.

The contract: exit 0 when done, 1 with one plain sentence when it cannot be done, 2 on bad usage;
never a traceback; a password only ever from standard input or a prompt, never in any output;
every change audited with "command line" as the actor.
"""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
import sqlalchemy as sa

import store.__main__ as cli
from store.db import dispose, make_engine
from store.schema import audit
from store.users import get_user, verify_password
from tests.helpers.cli import NO_DATABASE, run_module

PASSWORD = "pebble harbour violet"


def run(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_module("store", *args, stdin=stdin, env={"DATABASE_URL": NO_DATABASE, **(env or {})})


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'users.db'}"
    yield url
    dispose(make_engine(url))


def test_add_with_a_password_from_stdin_then_sign_in(db):
    done = run("users", "add", "Ceo@Trust.Example", "--role", "trust_leader", "--name", "Avery Quill",
               "--password-stdin", "--db", db, stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Added ceo@trust.example as Trust leader, with a local password."
    engine = make_engine(db)
    assert verify_password(engine, "ceo@trust.example", PASSWORD, source="10.0.0.1").name == "Avery Quill"
    with engine.connect() as conn:
        row = conn.execute(sa.select(audit).where(audit.c.action == "add_user")).one()
    assert (row.actor, row.source) == ("command line", "command line")
    assert PASSWORD not in done.stdout + done.stderr + str(row.detail)


def test_without_a_terminal_or_the_flag_the_user_signs_in_through_single_sign_on(db):
    done = run("users", "add", "dsl@school.example", "--role", "dsl", "--school", "140001", "--school",
               "140002", "--db", db)
    assert done.returncode == 0, done.stderr
    assert "DSL for 140001, 140002, signing in through single sign-on" in done.stdout
    assert get_user(make_engine(db), "dsl@school.example").urns == ("140001", "140002")


def test_list_set_role_and_remove(db):
    run("users", "add", "ceo@trust.example", "--role", "trust_leader", "--password-stdin", "--db", db,
        stdin=PASSWORD + "\n")
    run("users", "add", "head@school.example", "--role", "dsl", "--school", "140003", "--name", "Rowan Ashdown",
        "--db", db)
    listed = run("users", "list", "--db", db)
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == [
        "ceo@trust.example: Trust leader; local password",
        "head@school.example (Rowan Ashdown): DSL for 140003; single sign-on"]
    changed = run("users", "set-role", "head@school.example", "trustee", "--db", db)
    assert (changed.returncode, changed.stdout.strip()) == (0, "head@school.example is now Trustee.")
    removed = run("users", "remove", "HEAD@school.example", "--db", db)
    assert removed.returncode == 0 and "can no longer sign in" in removed.stdout
    assert run("users", "list", "--db", db).stdout.splitlines()[1] == \
        "head@school.example (Rowan Ashdown): Trustee; removed"


def test_unlock_lets_a_locked_out_user_sign_in_at_once_and_says_so(db):
    from store.users import FAILURES_BEFORE_LOCK, TooManyAttempts

    run("users", "add", "ceo@trust.example", "--role", "trust_leader", "--password-stdin", "--db", db,
        stdin=PASSWORD + "\n")
    engine = make_engine(db)
    for _ in range(FAILURES_BEFORE_LOCK):
        verify_password(engine, "ceo@trust.example", "not the password", source="203.0.113.7")
    with pytest.raises(TooManyAttempts):
        verify_password(engine, "ceo@trust.example", PASSWORD, source="203.0.113.7")
    done = run("users", "unlock", "CEO@trust.example", "--db", db)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (
        0, "Unlocked ceo@trust.example: 6 failed sign-ins cleared, so they can sign in again now.", "")
    assert verify_password(engine, "ceo@trust.example", PASSWORD, source="203.0.113.7") is not None
    again = run("users", "unlock", "ceo@trust.example", "--db", db)
    assert (again.returncode, again.stdout.strip()) == (
        0, "ceo@trust.example was not locked out: no failed sign-ins were held against it.")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(audit.c.actor, audit.c.detail).where(audit.c.action == "unlock")).all()
    assert rows == [("command line", {"email": "ceo@trust.example", "failures_cleared": 6}),
                    ("command line", {"email": "ceo@trust.example", "failures_cleared": 0})]


@pytest.mark.parametrize("args, words", [
    (("users", "unlock", "nobody@trust.example"), "There is no user nobody@trust.example."),
    (("users", "add", "dsl@school.example", "--role", "dsl"), "A DSL must hold at least one school"),
    (("users", "add", "not-an-email", "--role", "trustee"), "is not an email address"),
    (("users", "add", "t@trust.example", "--role", "trustee", "--school", "140001"), "Only a DSL"),
    (("users", "remove", "nobody@trust.example"), "There is no user nobody@trust.example."),
    (("users", "set-role", "nobody@trust.example", "trustee"), "There is no user"),
])
def test_what_cannot_be_done_exits_1_with_a_sentence(db, args, words):
    done = run(*args, "--db", db)
    assert done.returncode == 1
    assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_duplicate_a_short_password_and_an_empty_stdin_exit_1(db):
    run("users", "add", "ceo@trust.example", "--role", "trust_leader", "--db", db)
    duplicate = run("users", "add", "CEO@trust.example", "--role", "trustee", "--db", db)
    assert duplicate.returncode == 1 and "already a user" in duplicate.stderr
    short = run("users", "add", "t@trust.example", "--role", "trustee", "--password-stdin", "--db", db,
                stdin="tiny\n")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr and "tiny" not in short.stderr
    empty = run("users", "add", "t@trust.example", "--role", "trustee", "--password-stdin", "--db", db, stdin="")
    assert empty.returncode == 1 and "No password on standard input" in empty.stderr
    last = run("users", "set-role", "ceo@trust.example", "trustee", "--db", db)
    assert last.returncode == 1 and "only trust leader" in last.stderr


@pytest.mark.parametrize("args", [
    ("users", "add", "x@trust.example", "--role", "governor"),
    ("users", "add", "x@trust.example"),
    ("users", "add", "x@trust.example", "--role", "trustee", "--password", PASSWORD),
    ("users", "set-role", "x@trust.example", "owner"),
    ("users",),
])
def test_bad_usage_exits_2_and_there_is_no_password_option(db, args):
    done = run(*args, "--db", db)
    assert done.returncode == 2 and "usage:" in done.stderr


def test_init_is_unchanged(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    done = run("init", "--db", url, env={"LOAD_SAMPLE": "0"})
    assert done.returncode == 0 and done.stdout.strip().splitlines()[-1] == f"Database ready at {url}: 0 returns stored."
    dispose(make_engine(url))


def test_at_a_terminal_the_password_is_asked_for_twice(db, monkeypatch, capsys):
    answers = iter([PASSWORD, PASSWORD, PASSWORD, "something else entirely"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda _prompt: next(answers))
    monkeypatch.setattr(sys, "stdin", _Terminal())
    assert cli.main(["users", "add", "ceo@trust.example", "--role", "trust_leader", "--db", db]) == 0
    assert verify_password(make_engine(db), "ceo@trust.example", PASSWORD, source=None) is not None
    assert cli.main(["users", "add", "coo@trust.example", "--role", "trust_leader", "--db", db]) == 1
    assert "The two passwords differ. No user added." in capsys.readouterr().err
    assert get_user(make_engine(db), "coo@trust.example") is None


def test_the_commands_work_on_each_database(engine, capsys):
    url = engine.url.render_as_string(hide_password=False)
    assert make_engine(url) is engine
    assert cli.main(["users", "add", "ceo@trust.example", "--role", "trust_leader", "--db", url]) == 0
    assert cli.main(["users", "add", "dsl@school.example", "--role", "dsl", "--school", "140001", "--db", url]) == 0
    assert cli.main(["users", "set-role", "dsl@school.example", "dsl", "--school", "140009", "--db", url]) == 0
    assert cli.main(["users", "unlock", "dsl@school.example", "--db", url]) == 0
    assert cli.main(["users", "remove", "dsl@school.example", "--db", url]) == 0
    assert cli.main(["users", "remove", "dsl@school.example", "--db", url]) == 1
    assert cli.main(["users", "unlock", "dsl@school.example", "--db", url]) == 1
    assert cli.main(["users", "list", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "dsl@school.example: DSL; removed" in out
    with engine.connect() as conn:
        actions = conn.execute(sa.select(audit.c.action, audit.c.actor).order_by(audit.c.id)).all()
    assert actions == [("add_user", "command line"), ("add_user", "command line"), ("set_role", "command line"),
                       ("unlock", "command line"), ("remove_user", "command line")]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True
