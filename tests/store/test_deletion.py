"""Deleting a school's data leaves nothing of it but the record that it was deleted."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from store.audit import audit_log
from store.deletion import delete_school
from store.drafts import save_draft
from store.sample import ensure_sample
from store.schema import drafts, leads, return_queries, return_values, returns, schools


def count(engine, table, where=None):
    query = sa.select(sa.func.count()).select_from(table)
    if where is not None:
        query = query.where(where)
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def test_a_school_is_deleted_whole_and_the_deletion_audited(engine):
    ensure_sample(engine)
    urn = "990002"
    save_draft(engine, user="dsl@example.org", urn=urn, academic_year="2026/27", term="Autumn",
               file_name="draft.xlsx", content=b"bytes", report_json={}, explanations={})
    others_before = count(engine, returns, returns.c.urn != urn)
    counts = delete_school(engine, urn, user="leader@example.org")
    assert counts["returns"] == 6 and counts["values"] > 0 and counts["drafts"] == 1
    assert count(engine, returns, returns.c.urn == urn) == 0
    assert count(engine, return_values, return_values.c.urn == urn) == 0
    assert count(engine, schools, schools.c.urn == urn) == 0
    assert count(engine, drafts, drafts.c.urn == urn) == 0
    assert count(engine, returns) == others_before  # no other school touched
    ids = sa.select(returns.c.id)
    assert count(engine, leads, ~leads.c.return_id.in_(ids)) == 0
    assert count(engine, return_queries, ~return_queries.c.return_id.in_(ids)) == 0
    log = audit_log(engine)
    row = log[log["action"] == "delete_school"].iloc[0]
    assert row["actor"] == "leader@example.org" and row["urn"] == urn and row["detail"]["returns"] == 6


def test_an_unknown_school_is_a_plain_lookup_error(engine):
    with pytest.raises(LookupError, match="No school with URN 123456"):
        delete_school(engine, "123456", user="leader@example.org")
