"""Drafts: a half-finished upload kept in the database, surviving a lost connection."""

from __future__ import annotations

import sqlalchemy as sa

from store.db import dispose, make_engine
from store.drafts import discard_draft, load_draft, load_drafts, save_draft, update_explanations

KEY = {"user": "dsl@brackenfold", "urn": "149001", "academic_year": "2025/26", "term": "Spring"}


def test_a_draft_is_saved_replaced_explained_and_discarded(engine, report_factory):
    report, content = report_factory(queries=2)
    first = save_draft(engine, **KEY, file_name="v1.xlsx", content=content, report_json=report,
                       explanations={report.queries[0].key: "Started"})
    assert first.report_json["values"]["about.date_completed"] == report.values["about.date_completed"].isoformat()
    again = save_draft(engine, **KEY, file_name="v2.xlsx", content=b"newer", report_json={"valid": True})
    assert again.id == first.id and again.file_name == "v2.xlsx" and again.content == b"newer"
    assert again.explanations == {}
    assert update_explanations(engine, **KEY, explanations={"row_blank:Inclusion!B5": "Not known yet"})
    (only,) = load_drafts(engine, KEY["user"])
    assert only.explanations == {"row_blank:Inclusion!B5": "Not known yet"}
    assert only.report_json == {"valid": True}
    assert load_drafts(engine, "someone else") == []
    assert discard_draft(engine, **KEY)
    assert not discard_draft(engine, **KEY)
    assert not update_explanations(engine, **KEY, explanations={})
    assert load_draft(engine, **KEY) is None


def test_drafts_survive_a_new_engine(engine, report_factory):
    report, content = report_factory(queries=1)
    save_draft(engine, **KEY, file_name="f.xlsx", content=content, report_json=report,
               explanations={report.queries[0].key: "A family of five joined"})
    url = engine.url.render_as_string(hide_password=False)
    dispose(engine)  # every pooled connection closed, as when the app restarts
    fresh = make_engine(url)
    try:
        assert fresh is not engine
        draft = load_draft(fresh, **KEY)
        assert draft.content == content
        assert draft.explanations == {report.queries[0].key: "A family of five joined"}
    finally:
        dispose(fresh)


def test_each_user_and_term_has_its_own_draft(engine):
    for user in ("a", "b"):
        for term in ("Autumn", "Spring"):
            save_draft(engine, user=user, urn="149001", academic_year="2025/26", term=term,
                       file_name=f"{user}{term}.xlsx", content=b"x", report_json=None)
    assert sorted(d.file_name for d in load_drafts(engine, "a")) == ["aAutumn.xlsx", "aSpring.xlsx"]


def test_a_connection_the_server_dropped_is_replaced(postgres_engine):
    save_draft(postgres_engine, **KEY, file_name="f.xlsx", content=b"kept", report_json=None)
    with postgres_engine.connect() as conn:  # the pool keeps this connection for the next call
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    admin = sa.create_engine(postgres_engine.url, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    assert load_draft(postgres_engine, **KEY).content == b"kept"


def test_a_refused_file_is_never_kept_as_a_draft(engine, report_factory):
    import pytest

    report, content = report_factory()
    report.refused, report.keep_bytes = True, False
    with pytest.raises(ValueError, match="not kept"):
        save_draft(engine, **KEY, file_name="list.xlsx", content=content, report_json=report)
    assert load_draft(engine, **KEY) is None


def test_an_explanation_that_reads_like_a_childs_details_is_not_saved(engine, report_factory):
    import pytest

    report, content = report_factory(queries=1)
    key = report.queries[0].key
    save_draft(engine, **KEY, file_name="f.xlsx", content=content, report_json=report, explanations={key: "Two moved"})
    with pytest.raises(ValueError, match="child's details"):
        update_explanations(engine, **KEY, explanations={key: "Jayden Smith DOB 03/04/2015 moved away"})
    with pytest.raises(ValueError, match="child's details"):
        save_draft(engine, **KEY, file_name="f.xlsx", content=content, report_json=report,
                   explanations={key: "UPN A123 4567 8901 2"})
    assert load_draft(engine, **KEY).explanations == {key: "Two moved"}


def test_explaining_one_query_keeps_the_others(engine, report_factory):
    """The upload page saves each explanation as it is typed: the second must not drop the first."""
    report, content = report_factory(queries=3)
    first, second, third = (q.key for q in report.queries)
    save_draft(engine, **KEY, file_name="f.xlsx", content=content, report_json=report, explanations={})
    assert update_explanations(engine, **KEY, explanations={first: "A new family joined."})
    assert update_explanations(engine, **KEY, explanations={second: "Counted once, not twice."})
    assert update_explanations(engine, **KEY, explanations={third: "Not known."})
    assert update_explanations(engine, **KEY, explanations={third: ""})  # cleared again
    assert load_draft(engine, **KEY).explanations == {first: "A new family joined.", second: "Counted once, not twice."}
    assert not update_explanations(engine, **{**KEY, "term": "Summer"}, explanations={first: "x"})  # no such draft
