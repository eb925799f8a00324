"""Half-finished uploads: a checked file and the explanations typed so far, kept in the database.

A draft is keyed by (user, urn, academic year, term), so a dropped connection or a closed tab
loses nothing: the DSL comes back to the same file and explanations. Submitting the return
removes the draft in the same transaction that stores it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from loaders.report import ReturnReport
from store.audit import utcnow
from store.db import upsert_insert, writing
from store.schema import drafts


@dataclass(frozen=True)
class Draft:
    id: int
    user: str
    urn: str
    academic_year: str
    term: str
    file_name: str
    content: bytes
    report_json: dict | None
    explanations: dict[str, str]
    updated_at: datetime


def save_draft(engine: Engine, *, user: str, urn: str, academic_year: str, term: str, file_name: str,
               content: bytes, report_json: dict | ReturnReport | None,
               explanations: dict[str, str] | None = None) -> Draft:
    """Keep (or replace) the user's draft for this school and term. A refused file is never kept,
    nor an explanation that reads like a child's details (ValueError)."""
    if isinstance(report_json, ReturnReport):
        if report_json.refused or not report_json.keep_bytes:
            raise ValueError(f"{report_json.file} was refused, so it is not kept, not even as a draft.")
        report_json = report_json.as_json()
    _check_explanations(explanations or {})
    row = {
        "user": user, "urn": urn, "academic_year": academic_year, "term": term,
        "file_name": file_name, "content": bytes(content), "report_json": _plain(report_json),
        "explanations_json": _plain(dict(explanations or {})), "updated_at": utcnow(),
    }
    keys = ("user", "urn", "academic_year", "term")
    with writing(engine) as conn:
        insert = upsert_insert(conn, drafts).values(**row)
        conn.execute(insert.on_conflict_do_update(
            index_elements=list(keys),
            set_={k: insert.excluded[k] for k in row if k not in keys},
        ))
        stored = conn.execute(sa.select(drafts).where(*_same(user, urn, academic_year, term))).first()
    return _draft(stored)


def update_explanations(engine: Engine, *, user: str, urn: str, academic_year: str, term: str,
                        explanations: dict[str, str]) -> bool:
    """Add or change explanations of a draft, keeping the others (an empty one is taken away);
    False when there is no such draft. An explanation that reads like a child's details is refused
    (ValueError) and nothing is written."""
    _check_explanations(explanations)
    with writing(engine) as conn:
        row = conn.execute(sa.select(drafts.c.explanations_json).where(*_same(user, urn, academic_year, term))).first()
        if row is None:
            return False
        merged = {**(row.explanations_json or {}), **explanations}
        conn.execute(drafts.update().where(*_same(user, urn, academic_year, term)).values(
            explanations_json=_plain({k: v for k, v in merged.items() if isinstance(v, str) and v.strip()}),
            updated_at=utcnow()))
    return True


def load_drafts(engine: Engine, user: str) -> list[Draft]:
    """The user's drafts, most recently touched first."""
    query = sa.select(drafts).where(drafts.c.user == user).order_by(drafts.c.updated_at.desc(), drafts.c.id.desc())
    with engine.connect() as conn:
        return [_draft(row) for row in conn.execute(query)]


def load_draft(engine: Engine, *, user: str, urn: str, academic_year: str, term: str) -> Draft | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(drafts).where(*_same(user, urn, academic_year, term))).first()
    return None if row is None else _draft(row)


def discard_draft(engine: Engine, *, user: str, urn: str, academic_year: str, term: str) -> bool:
    """Throw the draft away; False when there was none."""
    with writing(engine) as conn:
        result = conn.execute(drafts.delete().where(*_same(user, urn, academic_year, term)))
    return result.rowcount > 0


def _check_explanations(explanations: dict[str, str]) -> None:
    from loaders.personal import explanation_details  # the file reader's screen, loaded when first needed

    for text in explanations.values():
        kind = explanation_details(text or "")
        if kind:
            raise ValueError(f"An explanation looks like a child's details ({kind}); it was not saved.")


def _same(user, urn, academic_year, term):
    return (drafts.c.user == user, drafts.c.urn == urn, drafts.c.academic_year == academic_year,
            drafts.c.term == term)


def _draft(row) -> Draft:
    return Draft(
        id=row.id, user=row.user, urn=row.urn, academic_year=row.academic_year, term=row.term,
        file_name=row.file_name, content=bytes(row.content), report_json=row.report_json,
        explanations=dict(row.explanations_json or {}), updated_at=row.updated_at,
    )


def _plain(value):
    """JSON-safe: dates become ISO text, so the draft reads back the same on both databases."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, (date, datetime)) else str(v)))
