"""Every upload attempt leaves an audit row; a file refused for child-level data leaves no bytes."""

from __future__ import annotations

import json

import sqlalchemy as sa

from loaders.report import ERROR, Problem, ReturnReport
from store.audit import audit_log
from store.returns import record_attempt, save_return
from store.schema import audit, drafts, metadata, returns


def _audit_rows(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(audit).order_by(audit.c.id)).all()


def test_accepted_rejected_and_refused_attempts_are_each_audited(engine, report_factory):
    good, content = report_factory(queries=1)
    save_return(engine, good, content, user="dsl@larchmere", source="web")
    bad, bad_content = report_factory(errors=2)
    record_attempt(engine, bad, user="dsl@larchmere", size=len(bad_content))
    refused = ReturnReport(file="notes.pdf", refused=True, sha256="ab" * 32,
                           problems=[Problem("not_a_spreadsheet", ERROR, None, None, "Not a spreadsheet.")])
    record_attempt(engine, refused, user="dsl@larchmere", size=900)

    accepted, rejected, turned_away = _audit_rows(engine)
    assert (accepted.outcome, rejected.outcome, turned_away.outcome) == ("accepted", "rejected", "refused")
    assert accepted.actor == "dsl@larchmere" and accepted.action == "upload"
    assert (accepted.urn, accepted.academic_year, accepted.term) == ("149001", "2025/26", "Autumn")
    assert accepted.sha256 == good.sha256 and accepted.size == len(content)
    assert accepted.detail["version"] == 1 and accepted.detail["n_queries"] == 1
    assert [e["code"] for e in rejected.detail["errors"]] == ["count_in_words", "count_in_words"]
    assert rejected.detail["errors"][0]["where"] == "Referrals!C7"
    assert turned_away.urn is None and turned_away.size == 900
    assert len(audit_log(engine)) == 3 and len(audit_log(engine, urn="149001")) == 2


def test_a_file_with_child_level_data_leaves_no_bytes_and_no_quoted_cells(engine, report_factory):
    secret = b"Pupil name,UPN\nAda Example,A123456789012\n"
    message = "This file appears to hold information about individual children (Sheet1!B2 holds A123456789012)."
    report = ReturnReport(file="list.xlsx", refused=True, keep_bytes=False, sha256="cd" * 32,
                          problems=[Problem("personal_data", ERROR, "Sheet1", "B2", message)])
    record_attempt(engine, report, user="dsl", size=len(secret))
    (row,) = _audit_rows(engine)
    assert row.outcome == "refused" and row.size == len(secret)
    assert row.detail == {"problems": [{"code": "personal_data", "where": "Sheet1!B2"}]}
    # Nothing anywhere in the database holds the bytes or the quoted cell.
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for record in conn.execute(sa.select(table)).all():
                for value in record:
                    text = value if isinstance(value, (bytes, str)) else json.dumps(value, default=str)
                    text = text if isinstance(text, bytes) else text.encode()
                    assert secret not in text and b"A123456789012" not in text, table.name
        assert conn.execute(sa.select(sa.func.count()).select_from(returns)).scalar() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(drafts)).scalar() == 0


def test_audit_has_no_column_for_file_contents():
    assert not any(isinstance(c.type, sa.LargeBinary) for c in audit.columns)


def test_the_record_narrows_to_a_person_an_action_and_a_window(sqlite_engine):
    from datetime import UTC, datetime, timedelta

    from store.audit import audit_facets, audit_log, write_audit
    from store.db import writing

    with writing(sqlite_engine) as conn:
        write_audit(conn, actor="a@example.org", action="upload", outcome="accepted", urn="990001")
        write_audit(conn, actor="b@example.org", action="set_threshold", outcome="done")
    assert set(audit_log(sqlite_engine, actor="a@example.org")["action"]) == {"upload"}
    assert set(audit_log(sqlite_engine, actions=["set_threshold"])["actor"]) == {"b@example.org"}
    now = datetime.now(UTC).replace(tzinfo=None)
    assert len(audit_log(sqlite_engine, since=now - timedelta(minutes=5), until=now + timedelta(minutes=5))) == 2
    assert audit_log(sqlite_engine, until=now - timedelta(days=1)).empty
    facets = audit_facets(sqlite_engine)
    assert facets == {"actors": ["a@example.org", "b@example.org"], "actions": ["set_threshold", "upload"]}


def test_a_file_whose_name_looks_like_a_childs_details_is_recorded_without_its_name(engine):
    from store.audit import WITHHELD_NAME

    named = ReturnReport(file="Jayden Smith DOB 03-04-2015.xlsx", refused=True, keep_bytes=False, sha256="ef" * 32,
                         problems=[Problem("personal_data", ERROR, None, None, "the file's name")])
    plain = ReturnReport(file="Otterbrook spring.pdf", refused=True, sha256="01" * 32,
                         problems=[Problem("not_a_spreadsheet", ERROR, None, None, "Not a spreadsheet.")])
    record_attempt(engine, named, user="dsl", size=10)
    record_attempt(engine, plain, user="dsl", size=10)
    first, second = _audit_rows(engine)
    assert first.file_name == WITHHELD_NAME and "Jayden" not in json.dumps(first.detail)
    assert second.file_name == "Otterbrook spring.pdf"
