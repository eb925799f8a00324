"""The audit trail: who tried to upload or change what, when, and what came of it.

Every upload attempt is recorded, refused ones included, but never a file's bytes. For a file
refused because it held child-level data even the problem messages are left out (they may quote
the offending cells): only the problem codes and where they were found are kept. A file whose
very name looks like a child's details is recorded without its name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from loaders.report import ReturnReport
from store.db import writing
from store.schema import audit

ACCEPTED = "accepted"  # stored as a new version
REJECTED = "rejected"  # read, but errors block it
REFUSED = "refused"  # turned away whole (not a spreadsheet, macros, child-level data, ...)
CHECKED = "checked"  # valid, but not (yet) submitted
FAILED = "failed"  # our fault: the save did not complete, nothing was stored
DONE = "done"  # a change other than an upload went through
WITHHELD_NAME = "(name withheld: it looked like a child's details)"


def utcnow() -> datetime:
    """Now, as the naive UTC timestamp every table stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def as_utc(moment: datetime) -> datetime:
    """A timestamp in naive UTC; a naive input is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def outcome_of(report: ReturnReport) -> str:
    if report.refused:
        return REFUSED
    return REJECTED if report.errors else CHECKED


def detail_of(report: ReturnReport) -> dict:
    """What to remember about a report's problems without keeping anything personal."""
    if not report.keep_bytes:
        return {"problems": [{"code": p.code, "where": p.where} for p in report.problems]}
    return {
        "errors": [{"code": p.code, "where": p.where, "message": p.message} for p in report.errors],
        "n_queries": len(report.queries),
    }


def file_name_of(name: str | None) -> str | None:
    """The file's name as the record keeps it: withheld when the name itself looks like a child's details."""
    from loaders.personal import named_like_a_child  # the file reader's screen, loaded when first needed

    return WITHHELD_NAME if named_like_a_child(name) else name


def write_audit(conn: Connection, *, actor: str, action: str, outcome: str, urn=None,
                academic_year=None, term=None, file_name=None, sha256=None, size=None,
                detail: dict | None = None, source: str | None = None,
                at: datetime | None = None) -> int:
    """Add one audit row inside the caller's transaction; returns its id."""
    result = conn.execute(
        audit.insert().values(
            **attempt_row(actor=actor, action=action, outcome=outcome, urn=urn, academic_year=academic_year,
                          term=term, file_name=file_name, sha256=sha256, size=size, detail=detail, source=source,
                          at=at)
        )
    )
    return result.inserted_primary_key[0]


def attempt_row(*, actor: str, action: str, outcome: str, urn=None, academic_year=None, term=None,
                file_name=None, sha256=None, size=None, detail: dict | None = None, source: str | None = None,
                at: datetime | None = None) -> dict:
    """One audit row as ``write_audit`` writes it, for ``write_audits``."""
    return {"at": at or utcnow(), "actor": actor, "action": action, "outcome": outcome, "urn": urn,
            "academic_year": academic_year, "term": term, "file_name": file_name, "sha256": sha256 or None,
            "size": size, "detail": detail, "source": source}


def write_audits(conn: Connection, rows: list[dict]) -> None:
    """Several audit rows (``attempt_row``) in one statement, in order, inside the caller's transaction."""
    if rows:
        conn.execute(audit.insert(), rows)


def attempt_of(report: ReturnReport, *, user: str, size: int | None, action: str = "upload",
               outcome: str | None = None, source: str = "web", detail: dict | None = None) -> dict:
    """The audit row ``record_attempt`` writes for an upload that was not stored."""
    urn, year, term = report.school_term
    return attempt_row(
        actor=user, action=action, outcome=outcome or outcome_of(report),
        urn=_text_or_none(urn), academic_year=_text_or_none(year), term=_text_or_none(term),
        file_name=file_name_of(report.file), sha256=report.sha256, size=size,
        detail={**detail_of(report), **(detail or {})}, source=source,
    )


def record_attempt(engine: Engine | Connection, report: ReturnReport, *, user: str, size: int | None,
                   action: str = "upload", outcome: str | None = None, source: str = "web",
                   detail: dict | None = None) -> int:
    """Record an upload that was not stored (refused, rejected, or only checked).

    ``outcome`` defaults to what the report says: refused, rejected or checked. No bytes are
    ever written here. Returns the audit row's id. Given a connection, it is written in the
    transaction open on it; given an engine, in one of its own.
    """
    row = attempt_of(report, user=user, size=size, action=action, outcome=outcome, source=source, detail=detail)
    with _writing_on(engine) as conn:
        return write_audit(conn, **row)


@contextmanager
def _writing_on(bind: Engine | Connection) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind
    else:
        with writing(bind) as conn:
            yield conn


def audit_log(engine: Engine, *, limit: int = 500, urn: str | None = None, actor: str | None = None,
              actions: list[str] | None = None, since: datetime | None = None,
              until: datetime | None = None) -> pd.DataFrame:
    """The newest audit rows first (all columns), optionally narrowed to a school, a person,
    some actions and a time window (``until`` exclusive)."""
    query = sa.select(audit).order_by(audit.c.id.desc()).limit(limit)
    if urn is not None:
        query = query.where(audit.c.urn == urn)
    if actor:
        query = query.where(audit.c.actor == actor)
    if actions:
        query = query.where(audit.c.action.in_(actions))
    if since is not None:
        query = query.where(audit.c.at >= as_utc(since))
    if until is not None:
        query = query.where(audit.c.at < as_utc(until))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in audit.columns])


def _text_or_none(value) -> str | None:
    # A report of an unreadable file may hold odd types here; the audit keeps plain text only.
    return None if value is None else str(value)


def audit_facets(engine: Engine) -> dict[str, list[str]]:
    """The people and actions on record, for the audit page's filters."""
    with engine.connect() as conn:
        actors = conn.execute(sa.select(audit.c.actor).distinct().order_by(audit.c.actor)).scalars().all()
        actions = conn.execute(sa.select(audit.c.action).distinct().order_by(audit.c.action)).scalars().all()
    return {"actors": list(actors), "actions": list(actions)}
