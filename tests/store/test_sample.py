"""The sample trust loads once into an empty database, and `python -m store init` sets it all up."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from store.__main__ import main
from store.db import DOWN
from store.sample import ensure_sample, sample_files
from store.schema import returns
from store.upgrades import head_revision


def _n_returns(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(returns)).scalar()


@pytest.fixture
def sample_folder():
    files = sample_files()
    assert files, "the sample trust's returns are in sample_data/returns"
    return files


def test_ensure_sample_imports_every_return_once(engine, sample_folder):
    imported = ensure_sample(engine)
    assert imported == len(sample_folder)
    assert _n_returns(engine) == imported
    assert ensure_sample(engine) == 0
    assert _n_returns(engine) == imported


def test_ensure_sample_leaves_a_database_with_returns_alone(sqlite_engine, report_factory, sample_folder):
    from store.returns import save_return

    report, content = report_factory()
    save_return(sqlite_engine, report, content, user="u")
    assert ensure_sample(sqlite_engine) == 0
    assert _n_returns(sqlite_engine) == 1


def test_ensure_sample_from_a_folder(sqlite_engine, tmp_path, sample_folder):
    folder = tmp_path / "returns"
    folder.mkdir()
    for f in sample_folder[:3]:
        shutil.copy(f, folder)
    assert ensure_sample(sqlite_engine, folder) == 3


def test_init_creates_the_tables_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOAD_SAMPLE", "0")
    url = f"sqlite:///{tmp_path / 'data' / 'dashboard.db'}"
    assert main(["init", "--db", url]) == 0
    created, ready = capsys.readouterr().out.strip().splitlines()
    assert created.startswith("Created the tables") and f"revision {head_revision()}" in created
    assert ready.startswith("Database ready") and "0 returns" in ready
    assert main(["init", "--db", url]) == 0  # a second start changes nothing, and says only that it is ready
    again = capsys.readouterr().out.strip()
    assert again.startswith("Database ready") and "\n" not in again


def test_init_with_a_bad_url_says_so_in_one_line(capsys):
    assert main(["init", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == DOWN and "\n" not in err


def test_a_trial_upload_in_the_demonstration_for_a_sample_school_keeps_it_a_demonstration(engine, report_factory):
    """The demonstration's user stores a return for one of the sample trust's schools: still nothing
    but the sample. The same user for a school outside it, or anyone else for a sample school, is
    real data."""
    from store.overview import DEMO_USER, SAMPLE_USER, only_sample, sample_schools
    from store.returns import save_return

    assert only_sample(engine) and sample_schools(engine) == frozenset()
    save_return(engine, *report_factory(urn="990001"), user=SAMPLE_USER)
    assert only_sample(engine) and sample_schools(engine) == {"990001"}
    save_return(engine, *report_factory(urn="990001", seed=2), user=DEMO_USER)
    assert only_sample(engine), "a trial upload for a sample school is demonstration data"
    assert sample_schools(engine) == {"990001"}, "and does not make its school a sample school twice over"
    save_return(engine, *report_factory(urn="149001"), user=DEMO_USER)
    assert not only_sample(engine), "a school outside the sample trust is real data, whoever stored it"


def test_a_real_users_return_for_a_sample_school_is_real_data(engine, report_factory):
    from store.overview import SAMPLE_USER, only_sample
    from store.returns import save_return

    save_return(engine, *report_factory(urn="990001"), user=SAMPLE_USER)
    save_return(engine, *report_factory(urn="990001", seed=2), user="dsl@kestrel.example.org")
    assert not only_sample(engine)
