"""Every file a page hands out (the gap list, the board's questions, the record of changes and a
check report as CSV; the board pack's workbook; the return template) carries text that begins like
a formula as text: in a CSV behind one apostrophe, in a workbook as a text cell, never a formula,
showing exactly as typed. Numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import sqlalchemy as sa
import streamlit
from openpyxl import load_workbook

from analysis.exports import GUARD
from loaders.formulas import needs_guard
from store import db
from store.challenges import add_challenge
from store.returns import rename_school
from store.schema import leads, return_queries, returns

from .conftest import SAMPLE, assert_no_exception, open_page

MINE = "990002"  # Kestrel Vale Primary School in the sample trust
NAME = '=HYPERLINK("http://127.0.0.1:9/x","Kestrel Vale")'
STAFF = "+cmd|' /C calc'!A0"
EXPLAINED = "-2+3 children were seen twice"
QUESTION = "@SUM(1+1)*cmd|' /C calc'!A0"
ANSWER = "=1+2 children were seen (the minutes)"  # stored trimmed, so no leading tab here
OWNER = "\r=IMPORTXML(\"http://127.0.0.1:9/\", \"//a\")"
LEADER = "leader@example.org"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def hostile_trust(sample_app, sign_in):
    """The sample trust with one school's name, its DSL's name, an explanation and a board
    question, answer and owner each beginning like a formula."""
    from analysis.context import Context
    from analysis.dataset import load_dataset
    from analysis.gaps import find_gaps
    from loaders.registry import DSL_ROLE

    engine = db.make_engine(f"sqlite:///{sample_app / 'app.db'}")
    data = load_dataset(engine)
    year, term = data.latest_term()
    gap = next(g for g in find_gaps(Context(data, year, term)) if g.urn == MINE)
    add_challenge(engine, urn=MINE, theme=gap.theme, rule=gap.rule, indicator=gap.indicator, academic_year=year,
                  term=term, finding=gap.finding, question=QUESTION, asked_by=STAFF, meeting_date=date(2026, 7, 10),
                  user=LEADER, answer=ANSWER, answered_by=STAFF, action="+ring the DSL", owner=OWNER)
    rename_school(engine, MINE, NAME, user=LEADER)
    with engine.begin() as conn:
        ids = [r.id for r in conn.execute(sa.select(returns.c.id).where(returns.c.urn == MINE))]
        conn.execute(leads.update().where(leads.c.return_id.in_(ids), leads.c.role == DSL_ROLE).values(name=STAFF))
        for rid in ids:
            conn.execute(return_queries.insert().values(return_id=rid, key="formula-1", code="Q_TEST",
                                                        sheet="Referrals", cell="C5", message="=1+2",
                                                        explanation=EXPLAINED))
    db.dispose(engine)
    sign_in("trust_leader", email=LEADER)
    return sample_app


@pytest.fixture
def handed_out(monkeypatch):
    """Every file a page offers for download, as (file name, bytes), in the order offered."""
    files: list[tuple[str, bytes]] = []
    real = streamlit.download_button

    def recording(label, data=None, file_name=None, *args, **kwargs):
        made = data() if callable(data) else data
        files.append((file_name or "", made.encode() if isinstance(made, str) else made))
        return real(label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", recording)
    return files


def _csv_fields(data: bytes) -> list[str]:
    assert data.startswith(b"\xef\xbb\xbf")
    return [f for row in csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")) for f in row]


def _assert_csv_guarded(data: bytes, *typed: str) -> None:
    fields = _csv_fields(data)
    assert fields, "an empty export"
    risky = [f for f in fields if needs_guard(f)]
    assert risky == [], f"fields a spreadsheet would run: {risky}"
    for text in typed:  # a cell may go on after it: "question (who asked, when)"
        assert any(f.startswith(GUARD + text) for f in fields), f"{text!r} is not in the export behind an apostrophe"


def _xlsx_cells(data: bytes):
    book = load_workbook(io.BytesIO(data))
    return [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row if cell.value is not None]


def _assert_xlsx_text(data: bytes, *typed: str) -> None:
    cells = _xlsx_cells(data)
    formulas = [(c.parent.title, c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert formulas == [], f"formula cells: {formulas}"
    unmarked = [(c.parent.title, c.coordinate) for c in cells
                if isinstance(c.value, str) and needs_guard(c.value) and not c.quotePrefix]
    assert unmarked == [], f"text a spreadsheet could turn into a formula on editing: {unmarked}"
    texts = [c.value for c in cells if isinstance(c.value, str)]
    for text in typed:
        assert any(text in t for t in texts), f"{text!r} is not in the workbook as typed"
    assert any(isinstance(c.value, (int, float)) and not isinstance(c.value, bool) for c in cells) or not typed


def _last(files, prefix: str, suffix: str) -> bytes:
    """The latest file offered of this kind (the app opens on the overview first, which offers one)."""
    found = [data for name, data in files if name.startswith(prefix) and name.endswith(suffix)]
    assert found, [name for name, _ in files]
    return found[-1]


def test_the_gap_list_csv_carries_a_formula_like_school_name_as_text(hostile_trust, handed_out):
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    _assert_csv_guarded(_last(handed_out, "gaps_", ".csv"), NAME)


def test_the_board_questions_csv_carries_formula_like_questions_answers_and_names_as_text(hostile_trust,
                                                                                          handed_out):
    at = open_page("pages/board_questions.py")
    assert_no_exception(at)
    _assert_csv_guarded(_last(handed_out, "board_questions_", ".csv"), NAME, QUESTION, ANSWER, "+ring the DSL")


def test_the_record_of_changes_csv_carries_the_renamed_school_as_text(hostile_trust, handed_out):
    at = open_page("pages/audit.py")
    assert_no_exception(at)
    fields = _csv_fields(_last(handed_out, "record_of_changes_", ".csv"))
    assert not [f for f in fields if needs_guard(f)]
    assert any(NAME in f for f in fields)  # the rename, in the detail of its entry


def test_a_check_report_csv_is_guarded_too(app_env, sign_in, handed_out):
    sign_in()
    at = open_page("pages/upload.py")
    at.get("file_uploader")[0].set_value(("return.xlsx", (SAMPLE / "invalid" / "invalid_count_in_words.xlsx")
                                          .read_bytes(), XLSX))
    at.run()
    assert_no_exception(at)
    data = _last(handed_out, "return", "_problems.csv")
    assert not [f for f in _csv_fields(data) if needs_guard(f)]


def test_the_template_for_a_school_named_like_a_formula_holds_the_name_as_text(hostile_trust, handed_out):
    at = open_page("pages/upload.py")
    assert_no_exception(at)
    box = next(s for s in at.selectbox if s.key == "tpl_school")
    box.set_value(next(o for o in box.options if o.startswith(NAME))).run()
    assert_no_exception(at)
    data = _last(handed_out, f"safeguarding_return_{MINE}", ".xlsx")
    _assert_xlsx_text(data, NAME)
    about = load_workbook(io.BytesIO(data))["About"]
    (cell,) = [c for row in about.iter_rows() for c in row if c.value == NAME]
    assert cell.data_type == "s" and cell.quotePrefix


def test_the_board_pack_workbook_holds_formula_like_text_as_text(hostile_trust, handed_out):
    at = open_page("pages/pack.py")
    assert_no_exception(at)
    at.radio[0].set_value("leader").run()
    next(b for b in at.button if b.key == "make_xlsx").click().run()
    assert_no_exception(at)
    _assert_xlsx_text(_last(handed_out, "board_pack_", ".xlsx"), NAME, QUESTION, ANSWER)
