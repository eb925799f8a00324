"""The upload page as a DSL uses it: download, upload, read the report, explain, submit, resume."""

from __future__ import annotations

import sqlalchemy as sa

from store import db
from store.schema import audit, drafts, return_queries, returns

from .conftest import SAMPLE, as_read, assert_no_exception, open_page

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
    assert any("Versions stored" in h.value for h in at.header)  # the receipt, and the versions now stored
    assert len(at.dataframe[-1].value) == 1
    assert not at.get("file_uploader")
    button(at, "Upload another return").click().run()
    assert not [s for s in at.success if "Stored as version" in s.value]
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
    assert any("2 queries have no explanation" in w.value for w in at.warning), "that text explains nothing"
    button(at, "Submit anyway").click().run()
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
    button(again, "Submit anyway").click().run()  # the other query left unexplained
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


QUERIES = SAMPLE / "invalid" / "queries_blank_row_no_dsl.xlsx"  # valid, with two queries


def _errors_and_queries(tmp_path):
    """The queries' file with a count written as a word too: an error and two queries."""
    from openpyxl import load_workbook

    from sample_data.broken import cell_of

    book = load_workbook(QUERIES)
    cell_of(book, "referrals.neglect.concerns").value = "five"
    path = tmp_path / "errors_and_queries.xlsx"
    book.save(path)
    return path


def test_while_errors_block_the_queries_are_listed_without_boxes_then_boxes_open_once_they_are_fixed(
        app_env, sign_in, tmp_path):
    sign_in()
    at = upload(open_page("pages/upload.py"), _errors_and_queries(tmp_path))
    assert "Not ready: 1 error to fix and 2 queries" in as_read(at.error[0].value)
    assert "3. Explain the queries" in [h.value for h in at.header]
    assert not at.text_area, "no box to explain a query while an error blocks the return"
    assert any("2 queries can be explained once the errors above are fixed" in i.value for i in at.info)
    listed = next(m.value for m in at.markdown if m.value.startswith("- "))
    assert "Pupils on a part-time timetable" in as_read(listed) and "Designated safeguarding lead" in as_read(listed)
    at = upload(at, QUERIES)  # the error fixed
    assert not at.error and len(at.text_area) == 2
    assert not any("can be explained once" in i.value for i in at.info)


def test_submitting_with_queries_unexplained_asks_once_then_goes_through(app_env, sign_in):
    sign_in()
    at = upload(open_page("pages/upload.py"), QUERIES)
    at.text_area[0].input("The timetable figure is not known this term.").run()
    button(at, "Submit the return").click().run()
    assert_no_exception(at)
    assert [w.value for w in at.warning if "Submit anyway" in w.value] == [
        "1 query has no explanation. Submit anyway?"]
    assert {"Submit anyway", "Go back and explain"} <= {b.label for b in at.button}
    assert rows(app_env, returns) == [], "nothing is stored until the DSL says so"
    button(at, "Go back and explain").click().run()  # back: the boxes, and Submit as it was
    assert not [w for w in at.warning if "Submit anyway" in w.value]
    assert len(at.text_area) == 2 and at.text_area[0].value == "The timetable figure is not known this term."
    button(at, "Submit the return").click().run()
    button(at, "Submit anyway").click().run()
    assert_no_exception(at)
    assert len(rows(app_env, returns)) == 1
    (receipt,) = [s.value for s in at.success if "Stored as version" in s.value]
    assert as_read(receipt).startswith("**Stored as version 1 for Larkspur Hill Primary School, Summer 2025/26.**")
    assert "Errors: none. Queries open: 1 of 2, with no explanation." in as_read(receipt)
    explained = [q["explanation"] for q in rows(app_env, return_queries)]
    assert sorted(explained, key=str) == sorted([None, "The timetable figure is not known this term."], key=str)


def test_with_every_query_explained_submit_goes_straight_through(app_env, sign_in):
    sign_in()
    at = upload(open_page("pages/upload.py"), QUERIES)
    at.text_area[0].input("Not known this term.").run()
    at.text_area[1].input("Our DSL left at Easter; the deputy leads until September.").run()
    button(at, "Submit the return").click().run()
    assert_no_exception(at)
    assert not [w for w in at.warning if "Submit anyway" in w.value]
    (receipt,) = [as_read(s.value) for s in at.success if "Stored as version" in s.value]
    assert "Errors: none. Queries open: none (2 queries, each explained)." in receipt
    assert all(q["explanation"] for q in rows(app_env, return_queries))


def test_the_receipt_comes_first_on_the_page_after_a_submit(app_env, sign_in):
    sign_in()
    at = upload(open_page("pages/upload.py"), CLEAN)
    button(at, "Submit the return").click().run()
    assert_no_exception(at)
    main = [e for e in at.main if e.type != "title"]
    first = next(e for e in main if getattr(e, "value", None))
    assert "Stored as version 1 for " in first.value and "Queries: none." in first.value


def _dsl_in_the_demonstration(urn="990001"):
    return open_page("pages/upload.py", state={"demo_role": f"dsl:{urn}"})


def test_a_dsl_trying_the_demonstration_uploads_fixes_explains_and_submits_and_it_stays_a_demonstration(sample_app):
    from store.overview import DEMO_USER, only_sample
    from ui import identity

    engine = db.make_engine(f"sqlite:///{sample_app / 'app.db'}")
    before = len(rows(sample_app, returns))
    at = upload(_dsl_in_the_demonstration(), SAMPLE / "invalid" / "invalid_count_in_words.xlsx")
    assert "Not ready" in at.error[0].value
    at = upload(at, QUERIES)
    said = [i.value for i in at.info]
    assert ("This is a demonstration: your upload is stored as demonstration data and shown to the other "
            "demonstration roles.") in said
    at.text_area[0].input("Not known this term.").run()
    at.text_area[1].input("The deputy leads until September.").run()
    button(at, "Submit the return").click().run()
    assert_no_exception(at)
    assert any("Stored as version 2 for Larkspur Hill Primary School, Summer 2025/26" in as_read(s.value)
               for s in at.success), "the receipt, not a lock screen"
    assert not any("nobody is set up to sign in" in e.value for e in at.error)
    stored = rows(sample_app, returns)
    assert len(stored) == before + 1 and stored[-1]["submitted_by"] == DEMO_USER
    assert only_sample(engine) and identity.mode(engine) == "demo"
    at = open_page("pages/overview.py", state={"demo_role": "trustee"})  # another role sees the demonstration
    assert_no_exception(at)
    assert any("Demonstration" in i.value for i in at.info)
    assert not any("nobody is set up to sign in" in e.value for e in at.error)


def test_in_the_demonstration_a_return_for_a_school_outside_the_sample_trust_is_refused(sample_app):
    from loaders.template import template_bytes
    from store.overview import only_sample
    from tests.helpers.returns import make_report

    report, _ = make_report("149001", "2025/26", "Summer", name="Brackenfold Primary Academy")
    path = sample_app / "brackenfold.xlsx"
    path.write_bytes(template_bytes(urn="149001", school_name="Brackenfold Primary Academy", year="2025/26",
                                    term="Summer", values=report.values, leads=report.leads))
    before = len(rows(sample_app, returns))
    at = upload(open_page("pages/upload.py"), path)  # the demonstration's trust leader may try any school
    assert any("not one of the sample trust's schools" in e.value for e in at.error)
    assert not [b for b in at.button if b.label == "Submit the return"]
    assert len(rows(sample_app, returns)) == before
    assert only_sample(db.make_engine(f"sqlite:///{sample_app / 'app.db'}"))
    (attempt,) = [r for r in rows(sample_app, audit) if r["action"] == "upload"]
    assert attempt["outcome"] == "refused" and attempt["urn"] == "149001"
