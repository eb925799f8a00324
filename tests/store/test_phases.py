"""A school's phase: from its version 2 return where none is recorded, then the trust leader's to
set or correct (audited), from the Schools page or ``python -m store schools``.

Contract: a phase is one of the contract's five or none; a return never overwrites a recorded
phase; every change is an audit row; bad input is a plain sentence with nothing changed, and the
command line exits 0 when done, 1 when it cannot be done, 2 on bad usage, never with a traceback.
A version 1 return stores no row for a measure its version does not ask.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from loaders import registry
from store import phases
from store.db import dispose, make_engine
from store.overview import latest_values, returns_overview
from store.returns import previous_values, save_return
from store.schema import audit, return_values, schools
from store.upgrades import upgrade
from tests.helpers.returns import make_report

ROOT = Path(__file__).resolve().parents[2]
LEADER = "leader@trust.example"


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'phases.db'}"
    engine = make_engine(url)
    upgrade(engine)
    yield url, engine
    dispose(engine)


def version_2(urn="149001", term="Autumn", phase="Secondary", **kw):
    report, content = make_report(urn, term=term, **kw)
    report.values.update({"about.template_version": 2, "about.phase": phase})
    return report, content


def version_1(urn="149001", term="Autumn", **kw):
    report, content = make_report(urn, term=term, **kw)
    report.values = {k: v for k, v in report.values.items() if k in registry.ASKED_IDS[1]}
    report.values["about.template_version"] = 1
    return report, content


def phase_rows(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(audit.c.actor, audit.c.urn, audit.c.source, audit.c.detail)
                            .where(audit.c.action == "set_phase").order_by(audit.c.id)).all()


def recorded(engine, urn="149001"):
    with engine.connect() as conn:
        return conn.execute(sa.select(schools.c.phase).where(schools.c.urn == urn)).scalar_one()


def uploads(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(audit.c.detail).where(audit.c.outcome == "accepted")
                            .order_by(audit.c.id)).scalars().all()


def test_the_first_return_that_gives_a_phase_records_it_and_says_so_in_the_record(db):
    _, engine = db
    save_return(engine, *version_1(), user="dsl@school.example")
    assert recorded(engine) is None
    save_return(engine, *version_2(term="Spring"), user="dsl@school.example")
    save_return(engine, *version_2(term="Summer", phase="Special"), user="dsl@school.example")
    assert recorded(engine) == "Secondary"
    assert [d.get("phase") for d in uploads(engine)] == [None, "Secondary", None]
    assert phase_rows(engine) == [], "no change by a person"


def test_a_return_never_overwrites_a_phase_the_trust_leader_set(db):
    _, engine = db
    save_return(engine, *version_2(), user="dsl@school.example")
    assert phases.set_phase(engine, "149001", "all-through", user=LEADER, source="web") is True
    save_return(engine, *version_2(term="Spring", phase="Secondary"), user="dsl@school.example")
    assert recorded(engine) == "All-through"
    (school,) = phases.school_phases(engine)
    assert (school.phase, school.said, school.differs) == ("All-through", "Secondary", True)
    (row,) = phase_rows(engine)
    assert (row.actor, row.urn, row.source, row.detail) == (LEADER, "149001", "web",
                                                            {"from": "Secondary", "to": "All-through"})


def test_none_takes_a_phase_away_and_the_same_phase_again_changes_nothing(db):
    _, engine = db
    save_return(engine, *version_2(), user="dsl@school.example")
    assert phases.set_phase(engine, "149001", "Secondary", user=LEADER) is False
    assert phases.set_phase(engine, "149001", None, user=LEADER) is True
    assert recorded(engine) is None
    assert len(phase_rows(engine)) == 1


@pytest.mark.parametrize("phase, said", [
    ("Middle", "'Middle' is not a phase: give one of Primary, Secondary, All-through, Special or "
               "Alternative provision, or 'none' for no phase."),
    (" free   school ", "'free school' is not a phase"),
])
def test_a_phase_not_in_the_contract_is_a_sentence_and_nothing_changes(db, phase, said):
    _, engine = db
    save_return(engine, *version_2(), user="dsl@school.example")
    with pytest.raises(phases.PhaseError) as caught:
        phases.set_phase(engine, "149001", phase, user=LEADER)
    assert str(caught.value).startswith(said)
    assert recorded(engine) == "Secondary" and phase_rows(engine) == []


def test_an_unknown_school_is_a_sentence_and_nothing_is_written(db):
    _, engine = db
    with pytest.raises(phases.UnknownSchool) as caught:
        phases.set_phase(engine, "149999", "Primary", user=LEADER)
    assert str(caught.value) == "No school with URN 149999 is stored: a school is added with its first return."
    assert phase_rows(engine) == []


def test_an_older_databases_lower_case_phase_is_shown_by_the_contracts_name(db):
    _, engine = db
    save_return(engine, *version_1(), user="dsl@school.example")
    with engine.begin() as conn:
        conn.execute(schools.update().values(phase="alternative provision"))
    assert [s.phase for s in phases.school_phases(engine)] == ["Alternative provision"]
    assert phases.set_phase(engine, "149001", "Alternative provision", user=LEADER) is False


def test_a_version_1_return_stores_no_row_for_what_it_was_not_asked(db):
    _, engine = db
    save_return(engine, *version_1(), user="dsl@school.example")
    with engine.connect() as conn:
        stored = set(conn.execute(sa.select(return_values.c.measure_id)).scalars())
    assert stored == registry.ASKED_IDS[1]
    assert returns_overview(engine)["n_blank"].tolist() == [0], "not asked is not blank"
    assert set(latest_values(engine)["measure_id"]) == registry.ASKED_IDS[1]
    later = previous_values(engine, "149001", "2025/26", "Spring")
    assert "about.social_worker" not in later and later["about.template_version"] == 1


# --- the command line -----------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DATABASE_URL": "sqlite:////nonexistent/none.db"}
    done = subprocess.run([sys.executable, "-m", "store", *args], cwd=ROOT, env=environment,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr + done.stdout
    return done


def test_list_then_set_a_phase_from_the_command_line(db):
    url, engine = db
    save_return(engine, *version_1(), user="dsl@school.example")
    save_return(engine, *version_2("149002", name="Quillmoor Academy", phase="Special"), user="dsl@school.example")
    listed = run("schools", "list", "--db", url)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "149001 Brackenfold Primary Academy: no phase recorded, so it is compared with the whole trust",
        "149002 Quillmoor Academy: Special"]
    done = run("schools", "set-phase", "149001", "primary", "--db", url)
    assert (done.returncode, done.stdout.strip()) == (0, "School 149001 now has the phase Primary.")
    again = run("schools", "set-phase", "149001", "Primary", "--db", url)
    assert (again.returncode, again.stdout.strip()) == (0, "School 149001 already has the phase Primary; nothing changed.")
    cleared = run("schools", "set-phase", "149002", "none", "--db", url)
    assert cleared.stdout.strip() == "School 149002 now has no phase recorded: compared with the whole trust."
    rows = phase_rows(engine)
    assert [(r.actor, r.source, r.urn, r.detail) for r in rows] == [
        ("command line", "command line", "149001", {"from": None, "to": "Primary"}),
        ("command line", "command line", "149002", {"from": "Special", "to": None})]


@pytest.mark.parametrize("args, code, said", [
    (("149001", "Middle"), 2, "'Middle' is not a phase: give one of Primary, Secondary, All-through"),
    (("14900", "Primary"), 2, "'14900' is not a URN: give the school's 6-digit Unique Reference Number."),
    (("149999", "Primary"), 1, "No school with URN 149999 is stored: a school is added with its first return."),
])
def test_bad_input_is_a_sentence_with_its_exit_code_and_nothing_changes(db, args, code, said):
    url, engine = db
    save_return(engine, *version_2(), user="dsl@school.example")
    done = run("schools", "set-phase", *args, "--db", url)
    assert done.returncode == code and said in done.stderr
    assert recorded(engine) == "Secondary" and phase_rows(engine) == []


def test_an_empty_trust_lists_a_sentence(db):
    url, _ = db
    done = run("schools", "list", "--db", url)
    assert (done.returncode, done.stdout.strip()) == (0, "No schools yet: a school is added with its first return.")
