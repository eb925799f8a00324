"""The pages' cached views follow the store's generation: a school renamed shows at once on every
page, a return stored shows on the next click, each reader's views stay theirs, and a server that
keeps storing returns keeps one dataset in memory, not one more per return."""

from __future__ import annotations

import ctypes
import gc
from pathlib import Path

import pytest
import sqlalchemy as sa

from .conftest import as_read, assert_no_exception, open_page

URN = "990001"


def _engine(app_dir: Path):
    from store import db

    return db.make_engine(f"sqlite:///{app_dir / 'app.db'}")


def _name(app_dir: Path, urn: str) -> str:
    from store.schema import schools

    with _engine(app_dir).connect() as conn:
        return conn.execute(sa.select(schools.c.name).where(schools.c.urn == urn)).scalar_one()


def _heatmap_schools(at) -> list[str]:
    return [as_read(s) for s in at.dataframe[0].value["School"]]


def test_a_school_renamed_on_the_schools_page_shows_at_once_on_the_overview(sample_app, sign_in):
    sign_in("trust_leader")
    old = _name(sample_app, URN)
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    assert old in _heatmap_schools(at)
    at.switch_page("pages/schools.py")
    at.session_state["schools_pick"] = URN
    at.run()
    at.text_input(key=f"rename-{URN}").input("Thornfield Vale Academy")
    next(b for b in at.button if b.label == "Save the name").click().run()
    assert_no_exception(at)
    assert _name(sample_app, URN) == "Thornfield Vale Academy"
    at.switch_page("pages/overview.py")
    at.run()
    assert_no_exception(at)
    shown = _heatmap_schools(at)
    assert "Thornfield Vale Academy" in shown and old not in shown
    assert all(old not in as_read(c.value) for c in at.caption)  # the heatmap's sentence names it too


def test_a_rename_made_elsewhere_shows_on_the_next_click_and_nothing_else_is_made_again(sample_app, sign_in):
    """Another process (the command line) renames: the next rerun reads the new generation; a
    rerun with nothing written reuses every view."""
    from store.returns import rename_school
    from ui import views

    sign_in("trust_leader")
    at = open_page("pages/overview.py")
    engine = _engine(sample_app)
    held = views.current(engine)
    dataset = views.whole_trust(engine)
    at.run()
    assert views.current(engine) is held and views.whole_trust(engine) is dataset
    rename_school(engine, URN, "Thornfield Vale Academy", user="someone@trust.example")
    at.run()
    assert "Thornfield Vale Academy" in _heatmap_schools(at)
    assert views.current(engine) is not held and views.whole_trust(engine) is not dataset


def test_each_readers_views_are_their_own(sample_app):
    """Two kinds of reader of the same generation are never handed each other's views; two
    trustees share theirs."""
    from store.access import Scope
    from ui import views

    engine = _engine(sample_app)
    leader = Scope("trust_leader", "a@x", None, suppress=False)
    trustee, other_trustee = (Scope("trustee", e, None, suppress=True) for e in ("b@x", "c@x"))
    dsl = Scope("dsl", "d@x", frozenset({URN}), suppress=False)
    made = {s.email: views.scoped(engine, s) for s in (leader, trustee, other_trustee, dsl)}
    assert made["b@x"] is made["c@x"] and made["b@x"] is not made["a@x"]
    assert set(made["d@x"].schools["urn"]) == {URN} and made["b@x"].suppress and not made["a@x"].suppress
    assert views.view(engine, dsl, "x", lambda: "dsl's") == "dsl's"
    assert views.view(engine, trustee, "x", lambda: "trustee's") == "trustee's"
    assert views.view(engine, dsl, "x", lambda: "made again") == "dsl's"


def test_a_view_for_a_choice_of_schools_keeps_only_the_latest_choice(sample_app):
    from store.access import Scope
    from ui import views

    engine = _engine(sample_app)
    leader = Scope("trust_leader", "a@x", None, suppress=False)
    made = []
    for choice in [("1",), ("2",), ("1",), ("1",)]:
        views.view(engine, leader, "heatmap", lambda c=choice: made.append(c) or c, "2025/26", "Summer", chosen=choice)
    assert made == [("1",), ("2",), ("1",)]  # the same choice twice running is made once
    assert sum(key[0] == "heatmap" for key in views.current(engine).views) == 1


def _rss_mb() -> float:
    """The process's resident memory once Python has collected what nothing holds and the C library
    has handed back the pages it keeps free."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.fixture
def generated_trust(app_env, tmp_path_factory):
    """A made-up trust of 30 schools over 9 terms, stored but for 20 of its last term's returns,
    which are handed back to store one by one."""
    from sample_data import large
    from store import db, upgrades
    from store.returns import save_return

    plan = large.large_trust(30, 9, seed=3)
    engine = db.make_engine(f"sqlite:///{app_env / 'app.db'}")
    upgrades.upgrade(engine)
    last = plan.terms[-1]
    held_back = []
    for planned, report, content in large.iter_reports(plan):
        if (planned.academic_year, planned.term) == last and len(held_back) < 20:
            held_back.append((report, content))
            continue
        save_return(engine, report, content, user="setup@trust.example", source="test")
    assert len(held_back) == 20
    return engine, held_back


def test_storing_20_returns_while_the_app_runs_keeps_one_dataset_in_memory(generated_trust, sign_in):
    """The Overview is drawn after each of 20 returns is stored: the process's memory after the
    20th is within 15% of what it was after the first (it used to grow by a dataset per return)."""
    from store.returns import save_return
    from ui import views

    engine, held_back = generated_trust
    sign_in("trust_leader")
    at = open_page("pages/overview.py", timeout=120)
    assert_no_exception(at)
    sizes = []
    for report, content in held_back:
        save_return(engine, report, content, user="dsl@school.example", source="test")
        at.run()
        assert_no_exception(at)
        at.run()  # a click after the first view of a generation
        sizes.append(_rss_mb())
    print("RSS after each return stored, MB:", " ".join(f"{s:.0f}" for s in sizes))
    assert len(set(views.whole_trust(engine).returns["urn"])) == 30
    assert sizes[-1] <= 1.15 * sizes[0], f"memory grew from {sizes[0]:.0f} MB to {sizes[-1]:.0f} MB: {sizes}"


def test_the_server_reads_the_returns_and_makes_the_first_pages_views_as_it_starts(sample_app, sign_in):
    """app.py's warm-up: the dataset and the trust leaders' gaps of the term shown first and the
    term before are made before anyone visits, and the first visitor's page uses them."""
    from store.access import TRUST_LEADER, Scope
    from ui import serving, shell, views

    thread = serving.warm_up()
    thread.join(300)
    assert not thread.is_alive()
    engine = shell.database()
    held = views.current(engine)
    leader = views.reader(Scope(TRUST_LEADER, "", None, suppress=False))
    made = {(key[0], key[1], key[2]) for key in held.views}
    dataset = held.views[("dataset", views.WHOLE_TRUST, ())][1]
    assert len([1 for name, who, _ in made if name == "gaps" and who == leader]) == 2  # shown first, and before
    sign_in("trust_leader")
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    assert views.current(engine) is held and views.whole_trust(engine) is dataset


def test_a_new_generation_keeps_earlier_terms_gap_lists_and_makes_the_rest_from_what_changed(generated_trust):
    """A return stored for the last term: the gap list of the term before is kept as it was (and
    is what a full read makes), the last term's is made again; a trustee's, whose small numbers
    are hidden across terms, are all made again."""
    from pandas.testing import assert_frame_equal

    from analysis import deadlines
    from analysis.context import Context, restrict
    from analysis.dataset import load_dataset
    from analysis.gaps import find_gaps, gaps_frame
    from store.access import Scope
    from store.returns import save_return
    from ui import views

    engine, held_back = generated_trust
    leader = Scope("trust_leader", "a@x", None, suppress=False)
    trustee = Scope("trustee", "b@x", None, suppress=True)
    old = views.whole_trust(engine)
    last, before = old.terms[-1], old.terms[-2]
    made = {(who.role, term): views.term_gaps(engine, who, *term)[1] for who in (leader, trustee) for term in (last, before)}
    save_return(engine, *held_back[0], user="dsl@school.example", source="test")

    def full(scope, term):
        data = restrict(load_dataset(engine), scope)
        return gaps_frame(find_gaps(Context(data, *term, {}, deadlines.current_date())))

    ctx, kept = views.term_gaps(engine, leader, *before)
    assert kept is made[("trust_leader", before)] and ctx.data is views.whole_trust(engine) is not old
    assert views.whole_trust(engine).first_changed is not None  # read from the old one, not whole
    for who in (leader, trustee):
        for term in (last, before):
            now = views.term_gaps(engine, who, *term)[1]
            assert_frame_equal(now, full(who, term))
            if (who, term) != (leader, before):
                assert now is not made[(who.role, term)]
