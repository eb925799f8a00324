"""The upload page as a DSL uses it: download, upload, read the report, explain, submit, resume."""

from __future__ import annotations

import sqlalchemy as sa

from store import db
from store.schema import audit, drafts, return_queries, returns

from .conftest import SAMPLE, assert_no_exception, open_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CLEAN = sorted((SAMPLE / "returns").glob("*.xlsx"))[0]


def upload(at, path, name=None):
    at.get("file_uploader")[0].set_value((name or path.name, path.read_bytes(), XLSX))
    at.run()
    assert_no_exception(at)
    return at


def button(at, label):
    return next(b for b in at.button if b.label == label)


def rows(env, table):
    engine = db.make_engine(f"sqlite:///{env / 'app.db'}")
    with engine.connect() as conn:
        return conn.execute(sa.select(table)).mappings().all()


def test_page_opens_with_template_download_and_uploader(app_env, sign_in):
    sign_in()
    at = open_page("pages/upload.py")
    assert_no_exception(at)
    assert at.title[0].value == "Upload a termly return"
    assert len(at.get("file_uploader")) == 1
    assert list(at.get("file_uploader")[0].proto.type) == [".xlsx", ".xls", ".ods"]  # never .xlsm
    assert any("Download the" in b.proto.label for b in at.get("download_button"))


def test_a_clean_return_is_submitted_and_listed_as_a_version(app_env, sign_in):
    sign_in()
    at = upload(open_page("pages/upload.py"), CLEAN)
    assert "Ready to submit" in at.success[0].value
    assert rows(app_env, drafts), "a checked return is kept as a draft until it is submitted"
    button(at, "Submit the return").click().run()
    assert_no_exception(at)
    assert any("Stored as version 1" in s.value for s in at.success)
    stored = rows(app_env, returns)
    assert [(r["file_name"], r["version"]) for r in stored] == [(CLEAN.name, 1)]
    assert rows(app_env, drafts) == []
    at = upload(at, CLEAN)
    assert any("Versions stored" in h.value for h in at.header)
    assert len(at.dataframe[-1].value) == 1


def test_errors_block_submission_and_are_listed_by_cell(app_env, sign_in):
    sign_in()
    at = upload(open_page("pages/upload.py"), SAMPLE / "invalid" / "invalid_count_in_words.xlsx")
    assert "Not ready" in at.error[0].value
    problems = at.table[0].value
    assert {"Severity", "Sheet", "Cell", "What we found and what to do"} <= set(problems.columns)
    assert (problems["Cell"] != "").any()
    assert button(at, "Submit the return").disabled
    assert rows(app_env, returns) == []
    assert [r["outcome"] for r in rows(app_env, audit)] == ["rejected"]


def test_a_file_with_child_data_is_refused_and_not_kept(app_env, sign_in):
    sign_in()
    at = upload(open_page("pages/upload.py"), SAMPLE / "invalid" / "invalid_child_names.xlsx")
    assert "Refused" in at.error[0].value
    assert not [b for b in at.button if b.label == "Submit the return"]
    (row,) = rows(app_env, audit)
    assert row["outcome"] == "refused"
    assert rows(app_env, returns) == [] and rows(app_env, drafts) == []


def _holds(value, data: bytes) -> bool:
    """Whether a session-state value is or holds the bytes (or an uploaded file of them)."""
    if isinstance(value, (bytes, bytearray)):
        return data in value
    if hasattr(value, "getvalue"):
        return data in value.getvalue()
    if isinstance(value, dict):
        return any(_holds(v, data) for v in value.values())
    if isinstance(value, (list, tuple, set)):
        return any(_holds(v, data) for v in value)
    return False


def test_a_refused_file_is_let_go_by_the_session_once_the_refusal_is_shown(app_env, sign_in):
    sign_in()
    path = SAMPLE / "invalid" / "invalid_child_names.xlsx"
    at = upload(open_page("pages/upload.py"), path)
    assert "Refused" in at.error[0].value and "individual children" in at.error[0].value
    assert at.get("file_uploader")[0].value is None  # a fresh uploader: the file is not held for another go
    data = path.read_bytes()
    assert not [k for k in at.session_state if _holds(at.session_state[k], data)]
    (row,) = rows(app_env, audit)
    assert row["outcome"] == "refused" and row["size"] == len(data)
    assert rows(app_env, returns) == [] and rows(app_env, drafts) == []
    at.run()  # the next run shows the uploader alone, the refusal gone with the file
    assert_no_exception(at)
    assert not at.error


def test_an_explanation_that_reads_like_a_childs_details_is_never_saved(app_env, sign_in):
    sign_in()
    at = upload(open_page("pages/upload.py"), SAMPLE / "invalid" / "queries_blank_row_no_dsl.xlsx")
    at.text_area[0].input("Jayden Smith DOB 03/04/2015 left in January.").run()
    assert_no_exception(at)
    assert any("looks like a child's details" in e.value for e in at.error)
    (draft,) = rows(app_env, drafts)
    assert "Jayden" not in str(draft["explanations_json"])
    button(at, "Submit the return").click().run()
    assert_no_exception(at)
    assert rows(app_env, returns), "the return itself is stored, without that explanation"
    assert not [q for q in rows(app_env, return_queries) if q["explanation"]]


def test_explanations_survive_a_new_session_and_are_stored_with_the_return(app_env, sign_in):
    sign_in()
    at = upload(open_page("pages/upload.py"), SAMPLE / "invalid" / "queries_blank_row_no_dsl.xlsx")
    assert "queries to explain" in at.warning[0].value or "query to explain" in at.warning[0].value
    box = at.text_area[0]
    box.input("The school was closed for two weeks.").run()
    assert_no_exception(at)
    assert [r["action"] for r in rows(app_env, audit)].count("explain") == 1  # on record as typed
    # The connection drops: a new session finds the unfinished upload and carries on.
    again = open_page("pages/upload.py")
    assert any(b.label == "Continue" for b in again.button)
    button(again, "Continue").click().run()
    assert_no_exception(again)
    assert again.text_area[0].value == "The school was closed for two weeks."
    button(again, "Submit the return").click().run()
    assert_no_exception(again)
    explained = [q["explanation"] for q in rows(app_env, return_queries) if q["explanation"]]
    assert explained == ["The school was closed for two weeks."]


def test_something_that_is_not_a_spreadsheet_gets_a_plain_sentence(app_env, sign_in):
    sign_in()
    at = open_page("pages/upload.py")
    at.get("file_uploader")[0].set_value(("notes.xlsx", b"Dear trust, here are our numbers", XLSX))
    at.run()
    assert_no_exception(at)
    assert "Refused" in at.error[0].value
    assert "spreadsheet" in at.error[0].value.lower()
