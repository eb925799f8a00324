"""The Schools page: a trust leader sets or corrects a school's phase, and sees when a school has
none (it is then compared with the whole trust) or when its newest return says another."""

from __future__ import annotations

import sqlalchemy as sa

from .conftest import as_read, assert_no_exception, open_page

NONE = "No phase: compare with the whole trust"


def stored(app_dir, urn: str):
    from store import db
    from store.schema import audit, schools

    engine = db.make_engine(f"sqlite:///{app_dir / 'app.db'}")
    with engine.connect() as conn:
        phase = conn.execute(sa.select(schools.c.phase).where(schools.c.urn == urn)).scalar_one()
        changes = conn.execute(sa.select(audit.c.detail).where(audit.c.action == "set_phase", audit.c.urn == urn,
                                                               audit.c.source == "web")).scalars().all()
    return phase, changes


def test_a_trust_leader_corrects_a_schools_phase_and_it_is_recorded(sample_app):
    at = open_page("pages/schools.py", state={"schools_pick": "990012"})
    assert_no_exception(at)
    picker = at.selectbox(key="phase-990012")
    assert picker.value == "Alternative provision", "the phase its version 2 returns gave"
    picker.select("Special").run()
    next(b for b in at.button if b.label == "Save the phase").click().run()
    assert_no_exception(at)
    assert any("Lanternbrook Learning Centre now has the phase Special." in as_read(s.value) for s in at.success)
    phase, changes = stored(sample_app, "990012")
    assert phase == "Special" and changes == [{"from": "Alternative provision", "to": "Special"}]
    # its newest return still says otherwise, and the page says so
    assert any("Its newest return says Alternative provision." in w.value for w in at.warning)


def test_a_school_with_no_phase_says_it_is_compared_with_the_whole_trust(sample_app):
    at = open_page("pages/schools.py", state={"schools_pick": "990001"})
    at.selectbox(key="phase-990001").select(NONE).run()
    next(b for b in at.button if b.label == "Save the phase").click().run()
    assert_no_exception(at)
    assert stored(sample_app, "990001")[0] is None
    assert any("no phase recorded: compared with the whole trust" in as_read(i.value) for i in at.info)
    assert at.selectbox(key="phase-990001").value == NONE
