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
from store.audit import ACCEPTED, DONE, FAILED, as_utc, attempt_row, record_attempt, utcnow, write_audit, write_audits
from store.db import is_sqlite, upsert_insert, writing
from store.overview import latest_values, returns_overview
from store.phases import phase_from_return
from store.schema import drafts, leads, return_queries, return_values, returns
from store.schema import schools as schools_table

__all__ = [
    "NotStorable", "SavedReturn", "save_return", "store_in", "ToStore", "store_many", "check_storable",
    "record_attempt", "previous_values", "versions",
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


@dataclass
class ToStore:
    """One return for ``store_many``: a valid report (check_storable passed), its bytes, and when it
    counts as submitted (None: now)."""

    report: ReturnReport
    content: bytes
    submitted_at: datetime | None = None
    columns: list[tuple] | None = None  # store.values.value_columns of its values, when known already


def check_storable(report: ReturnReport, content: bytes) -> NotStorable | None:
    """Why the report cannot be stored as a return, or None when it can (nothing is written)."""
    try:
        _check_storable(report, content)
    except NotStorable as exc:
        return exc
    return None


def store_many(conn: Connection, entries: list[ToStore | dict], *, user: str, action: str = "import",
               source: str = "command line", detail: dict | None = None) -> list[SavedReturn]:
    """What ``store_in`` stores for each return in ``entries``, all of them together in a handful of
    statements on the write transaction the caller holds (store.db.writing): one insert per table
    for the batch, not one per return. Each return is stored as it would be alone and in order
    (versions, the school's first name and phase, the audit row, the receipt); an entry that is a
    dict is an audit row of an attempt not stored (store.audit.attempt_row), kept in its place in
    the record. A database error means none of it was written once the caller's savepoint is
    undone: the caller then stores them one at a time to learn which one failed. Each return must
    have passed ``check_storable``. The saved returns, in the order given."""
    items = [e for e in entries if isinstance(e, ToStore)]
    detail = detail or {}
    keys = [e.report.school_term for e in items]
    ats = [as_utc(e.submitted_at) if e.submitted_at else utcnow() for e in items]
    named: dict[str, dict] = {}
    for item, (urn, _, _), at in zip(items, keys, ats):
        if urn not in named:
            name = " ".join(str(item.report.values.get(M.ABOUT_SCHOOL_NAME) or "").split()) or f"School {urn}"
            named[urn] = {"urn": urn, "name": name, "created_at": at}
    recorded = _phases_from_returns(conn, named, items)
    versions = _next_versions(conn, keys)
    digests = [hashlib.sha256(item.content).hexdigest() for item in items]
    ids: list[int] = []
    if items:
        ids = list(conn.execute(
            returns.insert().returning(returns.c.id, sort_by_parameter_order=True),
            [{"urn": urn, "academic_year": year, "term": term, "version": version, "status": "submitted",
              "submitted_by": user, "submitted_at": at, "file_name": item.report.file, "sha256": sha256,
              "content": item.content, "size": len(item.content),
              "date_completed": item.report.values.get(M.ABOUT_DATE_COMPLETED)}
             for item, (urn, year, term), version, at, sha256 in zip(items, keys, versions, ats, digests)],
        ).scalars())
    value_rows, lead_rows, query_rows, blanks = [], [], [], []
    for item, return_id, (urn, year, term) in zip(items, ids, keys):
        columns = item.columns if item.columns is not None else coding.value_columns(item.report.values)
        blanks.append(sum(1 for _, num, text in columns if num is None and text is None))
        value_rows += [(return_id, urn, year, term, mid, num, text) for mid, num, text in columns]
        lead_rows += _lead_rows(return_id, item.report.leads)
        query_rows += _query_rows(return_id, item.report, {})
    _insert_value_tuples(conn, value_rows)
    _insert_lead_rows(conn, lead_rows)
    if query_rows:
        conn.execute(return_queries.insert(), query_rows)
    audit_rows, done = [], iter(zip(items, ids, keys, versions, digests, blanks, recorded))
    for entry in entries:
        if not isinstance(entry, ToStore):
            audit_rows.append(entry)
            continue
        item, return_id, (urn, year, term), version, sha256, n_blank, phase = next(done)
        audit_rows.append(attempt_row(
            actor=user, action=action, outcome=ACCEPTED, urn=urn, academic_year=year, term=term,
            file_name=item.report.file, sha256=sha256, size=len(item.content), source=source,
            detail={"return_id": return_id, "version": version, "n_queries": len(item.report.queries),
                    "n_explained": 0, "n_blank": n_blank, **({"phase": phase} if phase else {}), **detail}))
    write_audits(conn, audit_rows)
    if items:
        conn.execute(drafts.delete().where(drafts.c.user == sa.bindparam("d_user"), drafts.c.urn == sa.bindparam("d_urn"),
                                           drafts.c.academic_year == sa.bindparam("d_year"),
                                           drafts.c.term == sa.bindparam("d_term")),
                     [{"d_user": user, "d_urn": u, "d_year": y, "d_term": t} for u, y, t in dict.fromkeys(keys)])
    saved = []
    for item, return_id, (urn, year, term), version, at in zip(items, ids, keys, versions, ats):
        # The receipt to the school's DSLs, in this same transaction: sent only if the return is stored.
        outbox.queue_receipt(conn, return_id=return_id, urn=urn, year=year, term=term, version=version,
                             stored_at=at, by=user, source=source, queries_open=len(item.report.queries))
        saved.append(SavedReturn(return_id, urn, year, term, version))
    return saved


def _phases_from_returns(conn: Connection, named: dict[str, dict], items: list[ToStore]) -> list[str | None]:
    """The schools of ``named`` made where new (each under the name its first return gives) and,
    on PostgreSQL, held for the rest of the transaction as ``_ensure_school`` holds one; then each
    return's phase recorded where its school has none yet, the first return that gives one
    winning, as ``phase_from_return`` does one return at a time. Per return, the phase it recorded."""
    if not named:
        return []
    conn.execute(upsert_insert(conn, schools_table).on_conflict_do_nothing(index_elements=["urn"]),
                 sorted(named.values(), key=lambda row: row["urn"]))  # in the order the rows are locked
    query = sa.select(schools_table.c.urn, schools_table.c.phase).where(schools_table.c.urn.in_(list(named)))
    if not is_sqlite(conn):
        query = query.order_by(schools_table.c.urn).with_for_update()
    phases = dict(conn.execute(query).all())
    recorded: list[str | None] = []
    for item in items:
        urn, phase = item.report.school_term[0], item.report.values.get(M.ABOUT_PHASE)
        new = isinstance(phase, str) and phase in registry.PHASES and phases.get(urn) is None
        recorded.append(phase if new else None)
        if new:
            phases[urn] = phase
    updates = [{"p_urn": item.report.school_term[0], "p_phase": phase} for item, phase in zip(items, recorded) if phase]
    if updates:
        conn.execute(schools_table.update().where(schools_table.c.urn == sa.bindparam("p_urn"),
                                                  schools_table.c.phase.is_(None))
                     .values(phase=sa.bindparam("p_phase")), updates)
    return recorded


def _next_versions(conn: Connection, keys: list[tuple[str, str, str]]) -> list[int]:
    """Each return's version, in order: one more than the newest stored or given before it."""
    if not keys:
        return []
    newest = {(urn, year, term): version for urn, year, term, version in conn.execute(
        sa.select(returns.c.urn, returns.c.academic_year, returns.c.term, sa.func.max(returns.c.version))
        .where(returns.c.urn.in_(sorted({k[0] for k in keys})))
        .group_by(returns.c.urn, returns.c.academic_year, returns.c.term))}
    out = []
    for key in keys:
        newest[key] = (newest.get(key) or 0) + 1
        out.append(newest[key])
    return out


def previous_of_many(bind: Connection, keys: list[tuple[str, str, str]],
                     known: dict[tuple[int, str], dict] | None = None) -> dict[tuple[str, str, str], dict | None]:
    """``previous_values`` for each (urn, academic_year, term) of ``keys``, read in two queries
    whatever their number: the newest version of each term before, then the values of those not
    ``known`` already (by return id and SHA-256: what this process stored, as they read back)."""
    known = known or {}
    wanted = {key: registry.previous_term(key[1], key[2]) for key in set(keys)}
    newest: dict[tuple[str, str, str], tuple[int, tuple[int, str]]] = {}
    if wanted:
        before = {(urn, *prev) for (urn, _, _), prev in wanted.items()}
        for rid, sha256, urn, year, term, version in bind.execute(
                sa.select(returns.c.id, returns.c.sha256, returns.c.urn, returns.c.academic_year, returns.c.term,
                          returns.c.version).where(returns.c.urn.in_(sorted({k[0] for k in wanted})))):
            key = (urn, year, term)
            if key in before and (key not in newest or version > newest[key][0]):
                newest[key] = (version, (rid, sha256))
    found: dict[int, dict] = {held[0]: {} for _, held in newest.values() if held not in known}
    if found:
        for rid, mid, num, text in bind.execute(
                sa.select(return_values.c.return_id, return_values.c.measure_id, return_values.c.value_num,
                          return_values.c.value_text).where(return_values.c.return_id.in_(sorted(found)))):
            found[rid][mid] = coding.from_columns(mid, num, text)
    out = {}
    for key, prev in wanted.items():
        held = newest.get((key[0], *prev))
        out[key] = ((known[held[1]] if held[1] in known else found[held[1][0]]) or None) if held else None
    return out


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
        rows = [tuple(row) for row in conn.execute(query)]  # plain tuples: pandas asks a Row what it is
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


_VALUE_COLUMNS = [c.name for c in return_values.columns]


def _insert_values(conn: Connection, rows: list[dict]) -> None:
    """One return's values: with COPY on PostgreSQL, one executemany on SQLite."""
    _insert_value_tuples(conn, [tuple(row[c] for c in _VALUE_COLUMNS) for row in rows])


def _insert_value_tuples(conn: Connection, rows: list[tuple]) -> None:
    """Values of one return or several, each a tuple in the table's column order: with COPY on
    PostgreSQL, one executemany of the driver's own on SQLite (the statement watch still sees it)."""
    if not rows:
        return
    if is_sqlite(conn):
        conn.exec_driver_sql(f"INSERT INTO {return_values.name} ({', '.join(_VALUE_COLUMNS)}) "
                             f"VALUES ({', '.join('?' for _ in _VALUE_COLUMNS)})", rows)
        return
    cursor = conn.connection.cursor()
    try:
        with cursor.copy(f"COPY {return_values.name} ({', '.join(_VALUE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
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
    _insert_lead_rows(conn, _lead_rows(return_id, people))


def _lead_rows(return_id: int, people: list[Lead]) -> list[dict]:
    return [
        {"return_id": return_id, "role": p.role, "name": p.name,
         "last_full_training": p.last_full_training, "last_refresher": p.last_refresher}
        for p in people
    ]


def _insert_lead_rows(conn: Connection, rows: list[dict]) -> None:
    """Leads of one return or of several, in one statement."""
    if rows:
        conn.execute(leads.insert(), rows)


def _query_rows(return_id: int, report: ReturnReport, explanations: dict[str, str]) -> list[dict]:
    rows = []
    for p in report.queries:
        explanation = (explanations.get(p.key) or "").strip() or None
        rows.append({"return_id": return_id, "key": p.key, "code": p.code, "sheet": p.sheet,
                     "cell": p.cell, "message": p.message, "explanation": explanation})
    return rows


def _insert_queries(conn: Connection, return_id: int, report: ReturnReport, explanations: dict[str, str]) -> int:
    rows = _query_rows(return_id, report, explanations)
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
