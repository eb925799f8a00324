"""Returns in the database: store a checked return as a new version, and read versions back.

A save is one write transaction: the school, the return row with the original bytes and their
SHA-256, every value of the contract, the leads, the queries with their explanations, the audit
row, the removal of the user's draft, and the receipt emailed to the school's DSLs (store.outbox).
Either all of it is stored or none of it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from loaders import registry
from loaders.registry import M
from loaders.report import Lead, ReturnReport
from store import outbox
from store import values as coding
from store.audit import ACCEPTED, DONE, FAILED, as_utc, record_attempt, utcnow, write_audit
from store.db import is_sqlite, upsert_insert, writing
from store.overview import latest_values, returns_overview
from store.phases import phase_from_return
from store.schema import drafts, leads, return_queries, return_values, returns
from store.schema import schools as schools_table

__all__ = [
    "NotStorable", "SavedReturn", "save_return", "store_in", "record_attempt", "previous_values", "versions",
    "latest_values", "returns_overview", "schools", "rename_school",
    "return_content",
]

log = logging.getLogger(__name__)

# Two saves of the same school and term can still clash on the version number in rare races
# (and SQLite can time out behind a very long writer): such a save is simply tried again.
SAVE_ATTEMPTS = 8


class NotStorable(ValueError):
    """The report cannot be stored as a return; the message says why in plain words."""


@dataclass(frozen=True)
class SavedReturn:
    return_id: int
    urn: str
    academic_year: str
    term: str
    version: int


def save_return(engine: Engine, report: ReturnReport, content: bytes, *, user: str,
                explanations: dict[str, str] | None = None, submitted_at: datetime | None = None,
                action: str = "upload", source: str = "web", detail: dict | None = None) -> SavedReturn:
    """Store a valid return as the next version for its school and term; the newest counts.

    ``explanations`` are keyed by ``Problem.key`` of the report's queries; ``detail`` is added to
    the audit row's (e.g. the day a paper return was received). Raises NotStorable for a report
    that is not valid (nothing is written then).
    """
    _check_storable(report, content)
    _check_explanations(explanations or {})
    at = as_utc(submitted_at) if submitted_at else utcnow()
    for attempt in range(1, SAVE_ATTEMPTS + 1):
        try:
            with writing(engine) as conn:
                return _store(conn, report, content, user=user, explanations=explanations or {},
                              at=at, action=action, source=source, detail=detail or {})
        except (IntegrityError, OperationalError) as exc:
            if attempt < SAVE_ATTEMPTS and _worth_retrying(exc):
                time.sleep(0.01 * attempt)
                continue
            _note_failure(engine, report, content, user=user, action=action, source=source, exc=exc)
            raise
        except Exception as exc:
            _note_failure(engine, report, content, user=user, action=action, source=source, exc=exc)
            raise
    raise AssertionError("unreachable")  # the loop either returns or raises


def store_in(conn: Connection, report: ReturnReport, content: bytes, *, user: str,
             submitted_at: datetime | None = None, action: str = "import", source: str = "command line",
             detail: dict | None = None) -> SavedReturn:
    """What ``save_return`` stores, on a write transaction the caller holds (store.db.writing), in
    a savepoint of its own: several returns stored in one transaction, each whole or not at all.
    NotStorable for a report that is not valid; a database error leaves the savepoint undone."""
    _check_storable(report, content)
    at = as_utc(submitted_at) if submitted_at else utcnow()
    with conn.begin_nested():
        return _store(conn, report, content, user=user, explanations={}, at=at, action=action, source=source,
                      detail=detail or {})


def previous_values(bind: Engine | Connection, urn: str, academic_year: str, term: str) -> dict[str, object] | None:
    """The values of the term before (academic_year, term) for this school, newest version, read
    on ``bind``: a connection already open, or a new one from an engine.

    Typed back (counts int, dates date, text str, blank None); None when that term has no return.
    """
    prev_year, prev_term = registry.previous_term(academic_year, term)
    newest = (
        sa.select(returns.c.id)
        .where(returns.c.urn == urn, returns.c.academic_year == prev_year, returns.c.term == prev_term)
        .order_by(returns.c.version.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = sa.select(return_values.c.measure_id, return_values.c.value_num, return_values.c.value_text) \
        .where(return_values.c.return_id == newest)
    if isinstance(bind, Connection):
        rows = bind.execute(query).all()
    else:
        with bind.connect() as conn:
            rows = conn.execute(query).all()
    if not rows:
        return None
    return {mid: coding.from_columns(mid, num, text) for mid, num, text in rows}


def versions(engine: Engine, urn: str, academic_year: str, term: str) -> list[dict]:
    """Every version stored for one school and term, newest first."""
    n_queries, n_explained = _query_counts()
    query = (
        sa.select(
            returns.c.id.label("return_id"), returns.c.version, returns.c.submitted_at,
            returns.c.submitted_by, returns.c.file_name, returns.c.sha256, returns.c.size,
            n_queries, n_explained,
        )
        .where(returns.c.urn == urn, returns.c.academic_year == academic_year, returns.c.term == term)
        .order_by(returns.c.version.desc())
    )
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def schools(engine: Engine) -> pd.DataFrame:
    """Every school known to the database: urn, name, phase, created_at, by name."""
    query = sa.select(schools_table).order_by(schools_table.c.name, schools_table.c.urn)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=[c.name for c in schools_table.columns])



def rename_school(engine: Engine, urn: str, name: str, *, user: str) -> None:
    """Change a school's display name (audited). LookupError for an unknown school."""
    name = " ".join(str(name or "").split())
    if not name:
        raise ValueError("A school needs a name.")
    with writing(engine) as conn:
        old = conn.execute(sa.select(schools_table.c.name).where(schools_table.c.urn == urn)).scalar()
        if old is None:
            raise LookupError(f"No school with URN {urn}.")
        conn.execute(schools_table.update().where(schools_table.c.urn == urn).values(name=name))
        write_audit(conn, actor=user, action="rename_school", outcome=DONE, urn=urn,
                    detail={"from": old, "to": name})


def return_content(engine: Engine, return_id: int) -> tuple[str, bytes]:
    """The original file of a stored return: (file name, bytes). LookupError when unknown."""
    query = sa.select(returns.c.file_name, returns.c.content).where(returns.c.id == return_id)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        raise LookupError(f"No stored return with id {return_id}.")
    return row.file_name, bytes(row.content)


# --- the save, step by step -------------------------------------------------------------------

def _store(conn: Connection, report: ReturnReport, content: bytes, *, user: str,
           explanations: dict[str, str], at: datetime, action: str, source: str, detail: dict) -> SavedReturn:
    urn, year, term = report.school_term
    _ensure_school(conn, urn, report.values.get(M.ABOUT_SCHOOL_NAME), at)
    phase = report.values.get(M.ABOUT_PHASE) if phase_from_return(conn, urn, report.values.get(M.ABOUT_PHASE)) else None
    version = _next_version(conn, urn, year, term)
    sha256 = hashlib.sha256(content).hexdigest()
    return_id = conn.execute(
        returns.insert().values(
            urn=urn, academic_year=year, term=term, version=version, status="submitted",
            submitted_by=user, submitted_at=at, file_name=report.file, sha256=sha256,
            content=content, size=len(content), date_completed=report.values.get(M.ABOUT_DATE_COMPLETED),
        )
    ).inserted_primary_key[0]
    value_rows = coding.rows_for(report.values, return_id=return_id, urn=urn, academic_year=year, term=term)
    _insert_values(conn, value_rows)
    _insert_leads(conn, return_id, report.leads)
    n_explained = _insert_queries(conn, return_id, report, explanations)
    write_audit(
        conn, actor=user, action=action, outcome=ACCEPTED, urn=urn, academic_year=year, term=term,
        file_name=report.file, sha256=sha256, size=len(content), source=source, at=utcnow(),
        detail={"return_id": return_id, "version": version, "n_queries": len(report.queries),
                "n_explained": n_explained,
                "n_blank": sum(1 for r in value_rows if r["value_num"] is None and r["value_text"] is None),
                **({"phase": phase} if phase else {}), **detail},  # phase: the school's, recorded from this return
    )
    conn.execute(drafts.delete().where(drafts.c.user == user, drafts.c.urn == urn,
                                       drafts.c.academic_year == year, drafts.c.term == term))
    # The receipt to the school's DSLs, in this same transaction: sent only if the return is stored.
    outbox.queue_receipt(conn, return_id=return_id, urn=urn, year=year, term=term, version=version, stored_at=at,
                         by=user, source=source, queries_open=len(report.queries) - n_explained)
    return SavedReturn(return_id, urn, year, term, version)


def _insert_values(conn: Connection, rows: list[dict]) -> None:
    """One return's values: with COPY on PostgreSQL, one executemany on SQLite."""
    if is_sqlite(conn):
        conn.execute(return_values.insert(), rows)
        return
    columns = [c.name for c in return_values.columns]
    cursor = conn.connection.cursor()
    try:
        with cursor.copy(f"COPY {return_values.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
    finally:
        cursor.close()


def _ensure_school(conn: Connection, urn: str, name: object, at: datetime) -> None:
    name = " ".join(str(name or "").split()) or f"School {urn}"
    conn.execute(
        upsert_insert(conn, schools_table).values(urn=urn, name=name, created_at=at)
        .on_conflict_do_nothing(index_elements=["urn"])
    )
    if not is_sqlite(conn):
        # Holding the school's row for the rest of the transaction queues saves for the same
        # school, so each reads the newest version number only after the one before committed.
        conn.execute(sa.select(schools_table.c.urn).where(schools_table.c.urn == urn).with_for_update())


def _next_version(conn: Connection, urn: str, year: str, term: str) -> int:
    newest = conn.execute(
        sa.select(sa.func.max(returns.c.version))
        .where(returns.c.urn == urn, returns.c.academic_year == year, returns.c.term == term)
    ).scalar()
    return (newest or 0) + 1


def _insert_leads(conn: Connection, return_id: int, people: list[Lead]) -> None:
    rows = [
        {"return_id": return_id, "role": p.role, "name": p.name,
         "last_full_training": p.last_full_training, "last_refresher": p.last_refresher}
        for p in people
    ]
    if rows:
        conn.execute(leads.insert(), rows)


def _insert_queries(conn: Connection, return_id: int, report: ReturnReport, explanations: dict[str, str]) -> int:
    rows = []
    for p in report.queries:
        explanation = (explanations.get(p.key) or "").strip() or None
        rows.append({"return_id": return_id, "key": p.key, "code": p.code, "sheet": p.sheet,
                     "cell": p.cell, "message": p.message, "explanation": explanation})
    if rows:
        conn.execute(return_queries.insert(), rows)
    return sum(1 for r in rows if r["explanation"])


def _query_counts():
    """Scalar subqueries: a return's number of queries, and how many carry an explanation."""
    q = return_queries
    n_queries = (
        sa.select(sa.func.count()).where(q.c.return_id == returns.c.id).scalar_subquery().label("n_queries")
    )
    n_explained = (
        sa.select(sa.func.count()).where(q.c.return_id == returns.c.id, q.c.explanation.is_not(None))
        .scalar_subquery().label("n_explained")
    )
    return n_queries, n_explained


_URN = re.compile(r"^\d{6}$")
_YEAR = re.compile(r"^\d{4}/\d{2}$")


def _check_storable(report: ReturnReport, content: bytes) -> None:
    if report.refused or not report.keep_bytes:
        raise NotStorable(f"{report.file} was refused, so it cannot be stored.")
    if report.errors:
        raise NotStorable(f"{report.file} has errors to fix before it can be stored.")
    urn, year, term = report.school_term
    if not (isinstance(urn, str) and _URN.match(urn) and isinstance(year, str) and _YEAR.match(year)
            and term in registry.TERMS):
        raise NotStorable(f"{report.file} does not say which school, year and term it is for.")
    if not isinstance(content, (bytes, bytearray)) or not content:
        raise NotStorable(f"{report.file} is empty, so there is nothing to store.")
    if report.sha256 and report.sha256 != hashlib.sha256(content).hexdigest():
        raise NotStorable(f"{report.file} changed after it was checked: check it again before storing it.")


def _check_explanations(explanations: dict[str, str]) -> None:
    """Explanations are about numbers: one that reads like a child's details is never stored."""
    from loaders.personal import explanation_details  # the file reader's screen, loaded when first needed

    for text in explanations.values():
        kind = explanation_details(text or "")
        if kind:
            raise NotStorable(f"An explanation looks like a child's details ({kind}). Explain the numbers without "
                              "a child's name, UPN, date of birth or address; nothing was stored.")


def _worth_retrying(exc: Exception) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    if isinstance(exc, IntegrityError):
        return "uq_returns_version" in text or "returns.urn, returns.academic_year" in text
    return "locked" in text or "deadlock" in text or "could not serialize" in text


def _note_failure(engine: Engine, report: ReturnReport, content: bytes, *, user: str, action: str,
                  source: str, exc: Exception) -> None:
    """Our fault, not the file's: log it, and audit the attempt as failed if the database lets us."""
    log.exception("could not store %s", report.file)
    try:
        record_attempt(engine, report, user=user, size=len(content), action=action, outcome=FAILED,
                       source=source, detail={"error": type(exc).__name__})
    except Exception:  # the database itself may be the problem; the log above has the cause
        log.exception("could not audit the failed save of %s", report.file)
