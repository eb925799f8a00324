"""The board's questions in the pack: those open or answered (carried from earlier terms), those
closed since the last pack, and whether the gap each was raised on is still found; in the HTML
and in the Excel workbook, for leaders and trustees alike."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from io import BytesIO

import openpyxl
import pytest
import sqlalchemy as sa

from analysis.challenges import GONE, STILL
from reports.html import render_html
from reports.pack import board_since_words, build_pack, pack_from_dataset
from reports.xlsx import render_xlsx
from store import db
from store.audit import utcnow
from store.challenges import add_challenge, update_challenge
from store.packs import last_pack_before, record_pack
from store.schema import challenges


@pytest.fixture(scope="module")
def board(sample_engine, tmp_path_factory):
    """A copy of the sample trust with questions raised in the term before the latest: one on a gap
    still found, one on a gap that has gone, one closed this term and one closed long ago."""
    from analysis.context import Context
    from analysis.dataset import load_dataset
    from analysis.gaps import find_gaps, gaps_frame

    path = tmp_path_factory.mktemp("board") / "board.db"
    # the sample database is open and in WAL mode: copy it through SQLite, not byte by byte
    with sqlite3.connect(sample_engine.url.database) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    engine = db.make_engine(f"sqlite:///{path}")
    data = load_dataset(engine)
    (y1, t1), (y2, t2) = data.terms[-2], data.terms[-1]
    before = gaps_frame(find_gaps(Context(data, y1, t1)))
    ctx = Context(data, y2, t2)
    now = set(zip(*(gaps_frame(find_gaps(ctx))[c] for c in ("urn", "rule", "indicator"))))
    returned = {s.urn for s in ctx.expected() if s.returned}
    keys = list(zip(before["urn"], before["rule"], before["indicator"]))
    still = before.iloc[next(i for i, k in enumerate(keys) if k in now)]
    gone = before.iloc[next(i for i, k in enumerate(keys) if k not in now and k[0] in returned)]

    def raise_on(g, question, **kw):
        return add_challenge(engine, urn=g.urn, theme=g.theme, rule=g.rule, indicator=g.indicator,
                             academic_year=y1, term=t1, finding=g.finding, question=question, asked_by="Chair",
                             meeting_date=date(2026, 1, 20), user="chair@trust", **kw)

    ids = {
        "still": raise_on(still, "What is being done about this, and by when?", action="Report back to the board",
                          owner="Headteacher", due_date=date(2026, 2, 1)),
        "gone": raise_on(gone, "Has the school's practice changed?"),
        "closed_now": raise_on(still, "Was the plan agreed at the last meeting carried out?"),
        "closed_long_ago": raise_on(gone, "An old question, long settled."),
    }
    update_challenge(engine, ids["closed_now"], user="chair@trust", answer="Yes, in full.",
                     answered_by="Headteacher", status="closed")
    update_challenge(engine, ids["closed_long_ago"], user="chair@trust", status="closed")
    with engine.begin() as conn:  # closed before the previous term ended
        conn.execute(challenges.update().where(challenges.c.id == ids["closed_long_ago"])
                     .values(closed_at=datetime(2020, 1, 1)))
    yield engine, ids, (still, gone), returned
    db.dispose(engine)


@pytest.fixture(scope="module")
def leader(board):
    engine = board[0]
    return build_pack(engine.url.render_as_string(hide_password=False), role="leader", today=date(2026, 3, 1))


def test_open_items_are_carried_into_the_pack_with_the_state_of_their_gap(board, leader):
    engine, ids, (still, gone), returned = board
    open_ = leader.board_open.set_index("id")
    assert set(open_.index) == {ids["still"], ids["gone"]}
    assert open_.loc[ids["still"], "gap_now"] == STILL
    assert open_.loc[ids["gone"], "gap_now"] == GONE
    assert open_["carried"].all()
    assert bool(open_.loc[ids["still"], "overdue"]) and not bool(open_.loc[ids["gone"], "overdue"])


def test_closed_since_the_last_pack_leaves_out_what_was_closed_long_before(board, leader):
    _, ids, _, _ = board
    assert list(leader.board_closed["id"]) == [ids["closed_now"]]
    assert "no earlier pack is on record" in board_since_words(leader)


def test_a_recorded_pack_for_an_earlier_term_moves_the_line(board):
    engine, ids, _, _ = board
    url = engine.url.render_as_string(hide_password=False)
    pack = build_pack(url, role="leader")
    assert last_pack_before(engine, pack.academic_year, pack.term) is None
    record_pack(engine, user="ceo@trust", academic_year=pack.academic_year, term=pack.term, fmt="pdf",
                reader="leader")
    # a pack for this same term is not "the last pack" of this term
    assert last_pack_before(engine, pack.academic_year, pack.term) is None
    from loaders.registry import term_from_index, term_index
    nxt = term_from_index(term_index(pack.academic_year, pack.term) + 1)
    made = last_pack_before(engine, *nxt)
    assert made is not None and abs(made - utcnow()) < timedelta(minutes=1)
    # a pack reckoned from that moment counts nothing as closed since: all was closed before it
    from analysis.dataset import load_dataset
    from store.challenges import list_challenges
    later = pack_from_dataset(load_dataset(engine), pack.academic_year, pack.term,
                              challenges=list_challenges(engine), last_pack=made)
    assert later.board_closed.empty and len(later.board_open) == 2
    assert "since the last pack was made, on" in board_since_words(later)
    with engine.begin() as conn:  # leave the shared copy as the other tests expect it
        conn.execute(sa.text("DELETE FROM audit WHERE action = 'board_pack'"))


def test_the_html_and_excel_carry_the_questions_answers_and_gap_state(board, leader):
    _, ids, (still, _), _ = board
    html = render_html(leader)
    assert 'id="challenge-log"' in html and "<h2>The board's questions</h2>" in html
    for words in ("What is being done about this, and by when?", "Has the school&#x27;s practice changed?",
                  "Was the plan agreed at the last meeting carried out?", "Gap still found", "Gap no longer found",
                  "⚠ Overdue", "Report back to the board (owner: Headteacher)", "Yes, in full. (Headteacher, "):  # and the day
        assert words in html, words
    assert "An old question, long settled." not in html

    book = openpyxl.load_workbook(BytesIO(render_xlsx(leader)))
    ws = book["Board questions"]
    rows = list(ws.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[0] == "In this pack as" and "The gap now" in header
    assert len(body) == 3
    assert sum(1 for r in body if r[0] == "Open or answered") == 2
    assert sum(1 for r in body if str(r[0]).startswith("Closed since")) == 1
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Board questions open or answered"] == 2
    assert summary["Board questions overdue"] == 1
    assert summary["Board questions closed since the last pack"] == 1


def test_the_trustees_pack_has_the_same_questions(board):
    engine, ids, _, _ = board
    pack = build_pack(engine.url.render_as_string(hide_password=False), role="trustee")
    assert set(pack.board_open["id"]) == {ids["still"], ids["gone"]}
    assert "What is being done about this, and by when?" in render_html(pack)


def test_the_trustees_pack_words_each_finding_as_the_trustees_gap_list_did(board, sample_data):
    from analysis.context import Context, restrict
    from analysis.gaps import find_gaps
    from store.access import scope_for
    from store.users import User

    engine, ids, (still, gone), _ = board
    pack = build_pack(engine.url.render_as_string(hide_password=False), role="trustee")
    (y1, t1) = sample_data.terms[-2]
    theirs: dict[tuple, list[str]] = {}
    for g in find_gaps(Context(restrict(sample_data, scope_for(User("pack@local", None, "trustee", ()))), y1, t1)):
        theirs.setdefault((g.urn, g.rule, g.indicator), []).append(g.finding)
    by_id = pack.board_open.set_index("id")
    html = render_html(pack)
    for item, gap in ((ids["still"], still), (ids["gone"], gone)):
        words = theirs[(gap.urn, gap.rule, gap.indicator)]
        shown = by_id.loc[item, "finding"]
        assert shown == (gap.finding if gap.finding in words else words[0])
        if gap.finding not in words:  # the leader's words held a small count: never in the trustees' pack
            assert gap.finding not in html
