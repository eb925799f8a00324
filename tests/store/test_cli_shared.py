"""What the command lines share (store.cli): each way a command can end is an exit code and at most
a sentence, never a traceback, and a failure on the database is told in one line."""

from __future__ import annotations

import sys

import pytest

from store.cli import FAILED, OK, on_database, run_safely


def _raises(exc):
    def main():
        raise exc
    return main


def test_a_reader_going_away_ends_quietly_with_the_code_asked_for(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # run_safely points stdout elsewhere: put it back after
    assert run_safely(_raises(BrokenPipeError())) == OK
    assert run_safely(_raises(BrokenPipeError()), piped=FAILED) == FAILED


def test_a_stop_and_a_bug_are_a_sentence_and_exit_1(capsys):
    assert run_safely(_raises(KeyboardInterrupt()), stopped="Stopped.") == FAILED
    assert run_safely(_raises(RuntimeError("boom")), bug="Sorry: something went wrong.") == FAILED
    err = capsys.readouterr().err
    assert err.splitlines() == ["Stopped.", "Sorry: something went wrong."] and "boom" not in err
    assert run_safely(lambda: 7) == 7


def test_a_bug_with_no_sentence_to_say_is_raised():
    with pytest.raises(RuntimeError):
        run_safely(_raises(RuntimeError("a bug of ours")))


def test_work_on_the_database_runs_on_its_tables_and_each_failure_is_one_line(tmp_path, capsys):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    tables = on_database(url, "read the tables at", lambda engine: len(sa.inspect(engine).get_table_names()))
    assert tables > 0  # made on first use, then handed to the work

    class Refused(Exception):
        pass

    assert on_database(url, "change the users at", lambda _engine: _raises(Refused("There is no user x."))(),
                       (Refused,)) == FAILED
    assert on_database(url, "change the users at", lambda _engine: _raises(ValueError("disk full"))()) == FAILED
    err = capsys.readouterr().err.splitlines()
    assert err[-2] == "There is no user x."
    assert err[-1].startswith("Could not change the users at sqlite:///") and err[-1].endswith(": disk full.")
