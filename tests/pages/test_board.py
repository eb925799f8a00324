"""The board's questions beside the gaps, the Board questions page and the Board pack page, as
trust leaders, trustees and DSLs meet them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from store import db
from store.audit import audit_log
from store.challenges import add_challenge, list_challenges

from .conftest import assert_no_exception, open_page, table_as_read

MINE = "990002"  # Kestrel Vale Primary School in the sample trust


def _engine(app):
    return db.make_engine(f"sqlite:///{app / 'app.db'}")


def _board_table(at):
    """The table of the board's questions on the page (other tables hold charts' numbers)."""
    return next(table_as_read(t.value) for t in at.table if "The board asked" in _data(t.value).columns)


def _data(value):
    return value.data if hasattr(value, "data") else value  # a styled table's frame


def _raise_on_first_gap(app, *, urn=None, **kw):
    """A question recorded straight in the store on a gap of the latest term; returns (id, gap)."""
    from analysis.context import Context
    from analysis.dataset import load_dataset
    from analysis.gaps import find_gaps

    engine = _engine(app)
    data = load_dataset(engine)
    year, term = data.latest_term()
    gaps = [g for g in find_gaps(Context(data, year, term)) if urn is None or g.urn == urn]
    g = gaps[0]
    item = add_challenge(engine, urn=g.urn, theme=g.theme, rule=g.rule, indicator=g.indicator,
                         academic_year=year, term=term, finding=g.finding,
                         question=kw.pop("question", "Why is this so?"), asked_by="Chair",
                         meeting_date=date(2026, 7, 10), user="chair@example.org", **kw)
    return item, g


def test_a_trust_leader_records_the_boards_question_beside_a_gap_on_the_overview(sample_app, sign_in):
    sign_in("trust_leader", email="ceo@example.org")
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    first_gap = at.table[0].value.iloc[0]
    assert "The board's questions" not in at.table[0].value.columns  # none asked yet
    assert not at.text_area  # the form is drawn when asked for
    at.toggle(key="ask_overview").set_value(True).run()
    at.text_area(key="q_overview").input("What has the school done since the last meeting?")
    at.text_input(key="by_overview").input("Chair")
    at.text_input(key="a_overview").input("Report to the next meeting")
    at.text_input(key="o_overview").input("Trust safeguarding lead")
    next(b for b in at.button if b.label == "Record the question").click().run()
    assert_no_exception(at)
    assert any("Recorded the board's question" in s.value for s in at.success)

    table = at.table[0].value
    assert table.iloc[0]["The board's questions"] == "● 1 open"  # beside the gap it was raised on
    assert table.iloc[0]["School"] == first_gap["School"]
    shown = _board_table(at)
    assert "What has the school done since the last meeting? (Chair" in shown.iloc[0]["The board asked"]
    assert shown.iloc[0]["Action"] == "Report to the next meeting (owner: Trust safeguarding lead)"

    log = list_challenges(_engine(sample_app))
    assert len(log) == 1 and log.iloc[0]["created_by"] == "ceo@example.org"
    assert list(audit_log(_engine(sample_app), actions=["add_challenge"])["actor"]) == ["ceo@example.org"]


def test_a_question_without_who_asked_is_refused_with_a_sentence(sample_app, sign_in):
    sign_in("trustee", email="trustee@example.org")
    at = open_page("pages/overview.py")
    at.toggle(key="ask_overview").set_value(True).run()
    next(b for b in at.button if b.label == "Record the question").click().run()
    assert_no_exception(at)
    assert any("Say who asked the question" in e.value for e in at.error)
    assert list_challenges(_engine(sample_app)).empty


def test_the_board_questions_page_lists_filters_and_brings_a_question_up_to_date(sample_app, sign_in):
    item, gap = _raise_on_first_gap(sample_app, action="Check every plan", owner="Head",
                                    due_date=date.today() - timedelta(days=3))
    _raise_on_first_gap(sample_app, question="A second question, not overdue.")
    sign_in("trustee", email="trustee@example.org")
    at = open_page("pages/board_questions.py")
    assert_no_exception(at)
    assert at.title[0].value == "The board's questions"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["● Open"] == "2" and metrics["⚠ Overdue"] == "1"
    table = _board_table(at)
    assert list(table["No."]) == [item, item + 1]
    assert "⚠ Overdue" in table.iloc[0]["Status"] and "Overdue" not in table.iloc[1]["Status"]
    assert table.iloc[0]["School"] == gap.school and table.iloc[0]["The gap now"] == "Raised this term"

    at.toggle(key="cl_overdue").set_value(True).run()
    assert list(_board_table(at)["No."]) == [item]

    # answered, with who gave the answer: saved, audited, and the history says what changed
    at.selectbox(key="cl_pick").set_value(item).run()
    at.text_area(key=f"cl_answer_{item}").input("Every plan was checked on 1 July.")
    at.text_input(key=f"cl_answered_by_{item}").input("Headteacher")
    at.selectbox(key=f"cl_status_{item}").set_value("answered")
    next(b for b in at.button if b.label == "Save the changes").click().run()
    assert_no_exception(at)
    assert any(f"Saved question No. {item}" in s.value for s in at.success)
    row = list_challenges(_engine(sample_app)).set_index("id").loc[item]
    assert (row["status"], row["answer"], row["answered_by"]) == ("answered", "Every plan was checked on 1 July.",
                                                                  "Headteacher")
    changes = audit_log(_engine(sample_app), actions=["update_challenge"])
    assert list(changes["actor"]) == ["trustee@example.org"]
    assert changes.iloc[0]["detail"]["changes"]["status"] == ["open", "answered"]


def test_a_dsl_reads_only_their_own_schools_questions_and_may_only_answer_them(sample_app, sign_in):
    mine, _ = _raise_on_first_gap(sample_app, urn=MINE, question="A question about Kestrel Vale.")
    other, _ = _raise_on_first_gap(sample_app, urn="990001", question="A question about another school.")
    sign_in("dsl", [MINE], email="dsl@kestrel.example.org")
    at = open_page("pages/board_questions.py")
    assert_no_exception(at)
    asked = " ".join(_board_table(at)["The board asked"])
    assert "Kestrel Vale" in asked and "another school" not in asked
    assert not any(b.label == "Save the changes" for b in at.button)  # the board's own form
    assert [int(o.split(" ")[1]) for o in at.selectbox(key="cl_reply_pick").options] == [mine]
    assert not any(s.key and s.key.startswith("cl_status_") for s in at.selectbox)  # nothing to close with
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        open_page("pages/pack.py")  # not in a DSL's page list
    at = open_page("pages/overview.py")
    assert not any(b.label == "Record the question" for b in at.button)
    assert not any(t.key == "ask_overview" for t in at.toggle)  # a DSL is not offered the form


def test_the_board_pack_page_makes_the_html_and_the_workbook_and_puts_them_on_record(sample_app, sign_in):
    _raise_on_first_gap(sample_app, question="Carried into the pack?")
    sign_in("trustee", email="trustee@example.org")
    at = open_page("pages/pack.py")
    assert_no_exception(at)
    assert at.title[0].value.startswith("Board pack: Summer 2025/26")
    assert not at.radio  # a trustee's pack is always the trustees' one
    next(b for b in at.button if b.key == "make_html").click().run()
    assert_no_exception(at)
    next(b for b in at.button if b.key == "make_xlsx").click().run()
    assert_no_exception(at)
    downloads = [d for d in at.get("download_button")]
    assert len(downloads) == 2
    made = audit_log(_engine(sample_app), actions=["board_pack"])
    assert sorted(d["format"] for d in made["detail"]) == ["html", "xlsx"]
    assert {d["for"] for d in made["detail"]} == {"trustee"} and set(made["actor"]) == {"trustee@example.org"}


def test_the_pack_is_short_unless_the_appendix_is_ticked(sample_app, sign_in):
    from io import BytesIO

    from openpyxl import load_workbook

    sign_in("trustee", email="trustee@example.org")
    at = open_page("pages/pack.py")
    assert_no_exception(at)
    box = at.checkbox(key="pack_appendix")
    assert box.label == "Include the appendix of charts and tables" and box.value is False
    sheets = {}
    for appendix in (False, True):
        at.checkbox(key="pack_appendix").set_value(appendix).run()
        next(b for b in at.button if b.key == "make_xlsx").click().run()
        assert_no_exception(at)
        (download,) = at.get("download_button")  # the other form's is no longer offered
        name = "board_pack_2025-26_Summer_trustee" + ("_with_appendix" if appendix else "") + ".xlsx"
        assert name in download.proto.label
        sheets[appendix] = load_workbook(BytesIO(at.session_state["pack_xlsx"][1])).sheetnames
    assert sheets[False] == ["Summary", "Gaps", "Board questions", "How to read"]
    assert sheets[True][:4] == sheets[False] and sheets[True][-1] == "Definitions" and len(sheets[True]) > 6
    # the record of changes says which form each pack was
    made = audit_log(_engine(sample_app), actions=["board_pack"])
    assert [d["appendix"] for d in made["detail"]] == [True, False]
    sign_in("trust_leader", email="ceo@example.org")
    record = open_page("pages/audit.py")  # as the trust's leadership reads it
    assert_no_exception(record)
    details = [d for d in record.dataframe[0].value["Detail"] if d.startswith("format: xlsx")]
    assert details[:2] == ["format: xlsx; for: trustee; appendix: yes", "format: xlsx; for: trustee; appendix: no"]


def test_a_trust_leader_chooses_who_the_pack_is_for(sample_app, sign_in):
    sign_in("trust_leader", email="ceo@example.org")
    at = open_page("pages/pack.py")
    assert_no_exception(at)
    assert at.radio[0].value == "trustee"
    at.radio[0].set_value("leader").run()
    next(b for b in at.button if b.key == "make_html").click().run()
    assert_no_exception(at)
    made = audit_log(_engine(sample_app), actions=["board_pack"])
    assert made.iloc[0]["detail"] == {"format": "html", "for": "leader", "appendix": False}


def test_a_trustee_never_sees_a_small_count_in_a_question_a_leader_raised(sample_app, sign_in):
    """A trust leader raises a question on a gap whose words hold small counts; a trustee reads it
    in the trustees' own words, small numbers as "fewer than 5", on every page that shows it."""
    import re

    from analysis.context import Context
    from analysis.dataset import load_dataset
    from analysis.gaps import find_gaps
    from analysis.indicators import INDICATORS_BY_ID
    from analysis.privacy import about_children

    engine = _engine(sample_app)
    data = load_dataset(engine)
    year, term = data.latest_term()
    small = re.compile(r"(?<![\d,.])[1-4] of ")
    gap = next(g for g in find_gaps(Context(data, year, term)) if small.search(g.finding)  # a count of children
               and g.indicator in INDICATORS_BY_ID and about_children(g.indicator))
    add_challenge(engine, urn=gap.urn, theme=gap.theme, rule=gap.rule, indicator=gap.indicator, academic_year=year,
                  term=term, finding=gap.finding, question="Why were 2 children not seen?", asked_by="CEO",
                  meeting_date=date(2026, 7, 10), user="ceo@example.org")
    sign_in("trustee", email="trustee@example.org")
    for page, state in (("pages/board_questions.py", None), ("pages/school.py", {"school": gap.urn})):
        at = open_page(page, state=state)
        assert_no_exception(at)
        row = _board_table(at).iloc[0]
        assert gap.finding not in row.to_string() and not small.search(row["What we found"])
        assert row["What we found"] != gap.finding
        assert row["The board asked"].startswith("Why were fewer than 5 children not seen?")


@pytest.mark.skipif(not __import__("pathlib").Path("/usr/bin/chromium").exists(),
                    reason="no Chromium: `sudo apt-get install chromium` to make a PDF")
def test_the_board_pack_page_makes_the_pdf(sample_app, sign_in):
    sign_in("trust_leader", email="ceo@example.org")
    at = open_page("pages/pack.py", timeout=240)
    next(b for b in at.button if b.key == "make_pdf").click().run(timeout=240)
    assert_no_exception(at)
    assert not at.warning, [w.value for w in at.warning]
    (download,) = at.get("download_button")
    assert "board_pack_2025-26_Summer_trustee.pdf" in download.proto.label
    made = audit_log(_engine(sample_app), actions=["board_pack"])
    assert made.iloc[0]["detail"] == {"format": "pdf", "for": "trustee", "appendix": False}


def test_a_trustee_reads_a_questions_record_of_changes_with_small_counts_hidden(sample_app, sign_in):
    """The record of changes under a question repeats what was typed into it: a trustee reads it,
    as they read the question, with small counts as "fewer than 5"; a trust leader as typed."""
    item, _ = _raise_on_first_gap(sample_app, question="Why were 2 children not seen?",
                                  answer="Three were seen on 4 March.", answered_by="Head", status="answered")
    for role, shown in (("trustee", "Why were fewer than 5 children not seen?"),
                        ("trust_leader", "Why were 2 children not seen?")):
        sign_in(role, email=f"{role}@example.org")
        at = open_page("pages/board_questions.py", state={"cl_pick": item})
        assert_no_exception(at)
        (changes,) = [d.value for d in at.dataframe if "Changes" in d.value.columns]
        assert shown in changes.iloc[0]["Changes"], role
        if role == "trustee":
            assert "Fewer than 5 were seen on 4 March." in changes.iloc[0]["Changes"]  # a date stays
