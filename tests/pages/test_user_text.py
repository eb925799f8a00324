"""User text is text: nothing a user typed or a file carried (a school's name, a staff name, an
explanation, the board's questions and answers, a file's name) is read as Markdown or HTML on a
page. Streamlit reads Markdown in alerts, headings, captions, table cells and labels, so there it
must arrive escaped (ui.shell.literal); a select box shows plain text, so there it must not.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from store import db, drafts
from store.challenges import add_challenge
from store.returns import rename_school
from ui.shell import literal

from .conftest import as_read, assert_no_exception, open_page

MINE = "990002"  # Kestrel Vale Primary School in the sample trust
NAME = ("Oak ![x](http://127.0.0.1:9/x.png) [Sign in](http://127.0.0.1:9/) <img src=x onerror=alert(1)> "
        "**bold** _it_ `code` # Heading & &amp; :red[r] $x$ 1. one")
STAFF = "Ann [Sign in](http://127.0.0.1:9/staff) <b>Lee</b> ![p](http://127.0.0.1:9/p.png)"
EXPLAINED = "Because ![e](http://127.0.0.1:9/e.png) <img src=y> _x_ & www.example.org"
QUESTION = "Why ![q](http://127.0.0.1:9/q.png) **now**?"
ANSWER = "See [the plan](http://127.0.0.1:9/plan) <i>here</i>"
OWNER = "Head <script>alert(1)</script> `owner`"
FILE = "[return](http://127.0.0.1:9/f) <img src=z>.xlsx"
LEADER = "leader@example.org"
# What would show if any of it were read as Markdown or HTML.
INTERPRETED = ("![", "](http", "<img", "<b>", "<i>", "<script", "**bold**", "[Sign in]", "http://127.0.0.1:9")
# GitHub's Markdown makes a bare address a link even when escaped: a word joiner must stand before it.
BARE_ADDRESS = re.compile(r"(?i)(?<!\u2060)(https?\\?:|www\.)")


def interpreted(text: str) -> list[str]:
    """The marks in ``text`` that Markdown would act on: not escaped by a backslash."""
    found = [m for m in INTERPRETED if any(i == 0 or text[i - 1] != "\\"
                                           for i in (j.start() for j in re.finditer(re.escape(m), text)))]
    return found + BARE_ADDRESS.findall(text)


shown = as_read


def test_literal_text_reads_back_as_typed_and_hides_nothing():
    for text in (NAME, STAFF, EXPLAINED, QUESTION, ANSWER, OWNER, FILE, "St Mary's C.E. (Aided) - 1. a\n- b",
                 "a\\b", "x@y.org", ""):
        escaped = literal(text)
        assert shown(escaped) == text
        assert not interpreted(escaped), (text, escaped)
    assert interpreted(NAME) and interpreted(EXPLAINED)  # the check would see them unescaped
    assert literal("Kestrel Vale Primary School") == "Kestrel Vale Primary School"  # plain names unchanged


def _engine(app):
    return db.make_engine(f"sqlite:///{app / 'app.db'}")


def put_user_text_in(app) -> tuple[str, str]:
    """The sample trust with MINE's name, DSL, explanations, a board question and a draft's file
    name all hostile, written by the store's own functions where it has them. Returns (year, term)."""
    from analysis.context import Context
    from analysis.dataset import load_dataset
    from analysis.gaps import find_gaps
    from loaders.registry import DSL_ROLE
    from store.schema import leads, return_queries, returns

    engine = _engine(app)
    data = load_dataset(engine)
    year, term = data.latest_term()
    gap = next(g for g in find_gaps(Context(data, year, term)) if g.urn == MINE)
    add_challenge(engine, urn=gap.urn, theme=gap.theme, rule=gap.rule, indicator=gap.indicator,
                  academic_year=year, term=term, finding=gap.finding, question=QUESTION, asked_by=STAFF,
                  meeting_date=date(2026, 7, 10), user=LEADER, answer=ANSWER, answered_by=STAFF,
                  action="Check [it](http://127.0.0.1:9/a)", owner=OWNER)
    rename_school(engine, MINE, NAME, user=LEADER)
    with engine.begin() as conn:
        ids = [r.id for r in conn.execute(sa.select(returns.c.id).where(returns.c.urn == MINE))]
        conn.execute(leads.update().where(leads.c.return_id.in_(ids), leads.c.role == DSL_ROLE).values(name=STAFF))
        for rid in ids:
            conn.execute(return_queries.insert().values(
                return_id=rid, key="hostile-1", code="Q_TEST", sheet="Referrals", cell="C5",
                message="A figure <b>three</b> times [last](http://127.0.0.1:9/m) term's", explanation=EXPLAINED))
            conn.execute(return_queries.insert().values(
                return_id=rid, key="hostile-2", code="Q_TEST", sheet="Neglect", cell="C6",
                message="Left blank: ![m](http://127.0.0.1:9/m.png)", explanation=None))
    drafts.save_draft(engine, user=LEADER, urn=MINE, academic_year=year, term=term, file_name=FILE,
                      content=b"not a workbook", report_json=None)
    db.dispose(engine)
    return year, term


def _data(value):
    return value.data if hasattr(value, "data") else value  # a styled table's frame


def markdown_texts(at) -> list[str]:
    """Every text on the page that Streamlit reads as Markdown."""
    texts = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "success", "warning", "error"):
        texts += [e.value for e in getattr(at, kind)]
    for table in at.table:
        frame = _data(table.value)
        texts += [str(c) for c in frame.columns] + [v for v in frame.to_numpy().ravel() if isinstance(v, str)]
    texts += [m.label for m in at.metric] + [e.label for e in at.expander]
    for kind in ("text_area", "text_input", "button", "selectbox", "multiselect", "toggle", "radio"):
        for widget in getattr(at, kind):
            texts += [widget.label, widget.help or ""]
    return texts


def assert_literal(at, *expected: str) -> None:
    """No user text is read as Markdown on the page, and each of ``expected`` shows as typed."""
    assert_no_exception(at)
    texts = markdown_texts(at)
    for text in texts:
        assert not interpreted(text), f"{interpreted(text)} would be read as Markdown in {text!r}"
    seen = [shown(t) for t in texts]
    for want in expected:
        assert any(want in s for s in seen), f"{want!r} is not on the page"
    for text in texts:  # escaped once, never twice
        assert "\\\\" not in text and "&amp;amp;" not in text


def plain_options(box) -> list[str]:
    return [str(o) for o in box.options]


@pytest.fixture
def hostile(sample_app, sign_in):
    year, term = put_user_text_in(sample_app)
    sign_in("trust_leader", email=LEADER)
    return {"year": year, "term": term}


def linked(cell: str) -> tuple[str, dict]:
    """A table cell that is a link: its words as a reader reads them, and its address's query."""
    from urllib.parse import parse_qs, urlsplit

    m = re.fullmatch(r"\[(.*)\]\(([^()\s]*)\)", cell, re.S)
    assert m, cell
    return shown(m.group(1)), {k: v[0] for k, v in parse_qs(urlsplit(m.group(2)).query).items()}


def test_the_overview_shows_user_text_as_typed(hostile):
    at = open_page("pages/overview.py")
    assert_literal(at, NAME, QUESTION, ANSWER, OWNER)
    gaps = _data(at.table[0].value)
    links = [linked(s) for s in gaps["School"]]
    assert NAME in [words for words, _ in links]
    # the link to its profile names the school in its address as typed, and nothing else
    assert {query["school"] for words, query in links if words == NAME} == {f"{NAME} ({MINE})"}
    # the school chooser is a multiselect, which shows plain text: the name as typed, no escapes
    assert NAME in plain_options(at.multiselect(key="schools"))


def test_the_school_profile_shows_user_text_as_typed(hostile):
    at = open_page("pages/school.py", state={"school": MINE, **hostile})
    assert_literal(at, NAME, STAFF, EXPLAINED, QUESTION, ANSWER, "A figure <b>three</b> times")
    assert any(shown(h.value).startswith(NAME) for h in at.header)
    assert any(NAME in o for o in plain_options(at.selectbox(key="school")))
    assert not any("\\" in o for o in plain_options(at.selectbox(key="school")))


def test_the_board_questions_page_shows_user_text_as_typed(hostile):
    at = open_page("pages/board_questions.py")
    assert_literal(at, NAME, QUESTION, ANSWER, OWNER, STAFF)
    item = at.selectbox(key="cl_pick")
    assert any(NAME in o and QUESTION in o for o in plain_options(item))  # plain text, as typed
    boxes = {b.key: b.value for b in at.text_area}
    assert QUESTION in boxes.values() and ANSWER in boxes.values()  # editable as typed, no escapes


def test_the_schools_page_shows_user_text_as_typed(hostile):
    at = open_page("pages/schools.py", state={"schools_pick": MINE})
    assert_literal(at, NAME)
    assert at.text_input(key=f"rename-{MINE}").value == NAME
    at.text_input(key=f"rename-{MINE}").input(NAME + " [again](http://127.0.0.1:9/r)")
    next(b for b in at.button if b.label == "Save the name").click().run()
    assert_literal(at, f"Renamed {NAME} to {NAME} [again](http://127.0.0.1:9/r).")


def test_the_returns_page_and_a_draft_on_the_upload_page_show_user_text_as_typed(hostile):
    at = open_page("pages/returns.py", state=hostile)
    assert_literal(at, NAME, "Left blank: ![m](http://127.0.0.1:9/m.png)")
    at = open_page("pages/upload.py")
    assert_literal(at, FILE)


def test_the_theme_pages_read_no_user_text_as_markdown(hostile):
    for page in ("pages/neglect.py", "pages/workforce.py"):
        assert_literal(open_page(page))
