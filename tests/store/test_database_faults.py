"""A return imported just as the database cannot take it, read-only or full: the DSL's report and
the command line say which, in a sentence, and nothing is half-stored. The faults are SQLite's
own (query_only; a page count capped where the file stands), on real connections."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from store import db
from store.importer import import_paths
from store.upgrades import upgrade

from ..pages.test_database_faults import FULL, READ_ONLY, counts, engine_with
from .test_upgrades import RELEASE_DB

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "returns" / "990001_2025-26_Summer.xlsx"


@pytest.mark.parametrize("fault, said", [(READ_ONLY, db.READ_ONLY), (FULL, db.FULL)], ids=["read-only", "disk full"])
def test_an_import_the_database_cannot_take_says_why_and_stores_nothing(tmp_path, fault, said):
    path = tmp_path / "dashboard.db"
    shutil.copy(RELEASE_DB, path)
    upgrade(db.make_engine(f"sqlite:///{path}"))  # brought up to date before the fault
    before = counts(path)
    engine = engine_with(fault, path)
    outcome = import_paths([str(SAMPLE)], engine=engine, user="dsl@school.example.org.uk")[0]
    assert outcome.saved is None
    assert [p.message for p in outcome.report.errors] == [said]
    after = counts(path)
    assert {k: after[k] for k in ("returns", "return_values")} == {k: before[k] for k in ("returns", "return_values")}
    assert after["audit"] - before["audit"] in (0, 1)  # the attempt itself is on record when it can be
    db.dispose(engine)


DOWN_URL = "postgresql+psycopg://dashboard@127.0.0.1:1/safeguarding"


def test_every_command_says_the_database_is_down_in_a_sentence(tmp_path, capsys):
    from analysis.__main__ import main as analysis_main
    from loaders.__main__ import main as loaders_main
    from store.__main__ import main as store_main

    for run in (lambda: store_main(["init", "--db", DOWN_URL]),
                lambda: store_main(["users", "list", "--db", DOWN_URL]),
                lambda: loaders_main(["import", "--db", DOWN_URL, str(SAMPLE)]),
                lambda: analysis_main(["gaps", "--db", DOWN_URL])):
        assert run() == 1
        err = capsys.readouterr().err.strip()
        assert "Traceback" not in err and "\n" not in err
        assert err == db.DOWN or err.startswith("Could not open the database at"), err
