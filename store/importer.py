"""Import returns from files on disk: check each one, store the valid ones, audit every attempt.

Used by ``python -m loaders import`` and to load the sample trust. Files are stored in term
order whatever order they were named in, so each return is compared with the term before it
even when both arrive in the same batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

import settings
from loaders import check_return, cross_checks, registry
from loaders.checker import DEFAULT_MAX_BYTES, read_file
from loaders.problems import NOT_STORED
from loaders.registry import M
from loaders.report import Problem, ReturnReport
from store import values as coding
from store.audit import FAILED, attempt_of, record_attempt
from store.db import make_engine, trouble, writing
from store.returns import (
    NotStorable,
    SavedReturn,
    ToStore,
    check_storable,
    previous_of_many,
    previous_values,
    store_in,
    store_many,
)
from store.upgrades import upgrade

log = logging.getLogger(__name__)

UK = ZoneInfo("Europe/London")
# A return imported with its own completion date, or the day it was received, counts as
# submitted at this time that day.
SUBMITTED_AT_HOUR = 9
# Returns stored in one transaction (each still whole or not at all): the command line's import,
# the sample trust's and the benchmark's.
RETURNS_PER_TRANSACTION = 50


@dataclass
class ImportOutcome:
    file: str
    report: ReturnReport
    saved: SavedReturn | None = None


def import_paths(paths: list[str], db_url: str | None = None, user: str = "command line", *,
                 engine: Engine | None = None, submitted_at_from_return: bool = False,
                 received: date | None = None, source: str = "command line",
                 per_transaction: int = RETURNS_PER_TRANSACTION) -> list[ImportOutcome]:
    """Check and store each file; one outcome per path, in the order given.

    A missing or unreadable path is an outcome whose report holds the error, never an
    exception. With ``submitted_at_from_return`` a return counts as submitted at 09:00 (UK) on
    its own date completed, so a late return looks late. ``received`` is the day a paper or
    emailed return really arrived: it counts as submitted at 09:00 (UK) that day, whenever it is
    imported, and the day is on the record of changes with each attempt. Up to
    ``per_transaction`` returns are stored in one transaction, each in a savepoint of its own:
    each is stored whole or not at all, and one that cannot be stored says so by its file.
    """
    if engine is None:
        engine = make_engine(db_url)
        upgrade(engine)
    max_bytes = settings.max_upload_bytes()
    outcomes: list[ImportOutcome] = []
    contents: list[bytes | None] = []
    for path in paths:
        data, report = read_file(path, max_bytes=max_bytes)
        if data is not None:
            report = check_return(data, report.file, max_bytes=max_bytes)
        outcomes.append(ImportOutcome(str(path), report))
        contents.append(data)

    noted = {"received": received.isoformat()} if received else {}
    known: dict[tuple[int, str], dict] = {}  # values of the returns this import stored, by id and SHA-256
    order = sorted(range(len(outcomes)), key=lambda i: _term_order(outcomes[i].report))
    for start in range(0, len(order), max(1, per_transaction)):
        batch = [(outcomes[i], contents[i]) for i in order[start:start + max(1, per_transaction)]]
        at = [_at_nine(received) if received else _completed_at(o.report) if submitted_at_from_return else None
              for o, _ in batch]
        try:
            with writing(engine) as conn:
                stored = _import_together(conn, batch, at, known, user=user, source=source, noted=noted,
                                          max_bytes=max_bytes)
                if stored is None:
                    for (outcome, data), submitted_at in zip(batch, at):
                        _import_one(conn, outcome, data, user=user, source=source, noted=noted,
                                    max_bytes=max_bytes, submitted_at=submitted_at)
            known.update(stored or {})  # committed: what later batches compare with
        except SQLAlchemyError as exc:  # the transaction is lost: none of the batch was stored
            log.exception("could not store a batch of returns")
            for outcome, data in batch:
                told = any(p.code == NOT_STORED.code for p in outcome.report.problems)
                if outcome.saved is not None or (data is not None and outcome.report.valid and not told):
                    outcome.saved = None
                    outcome.report.problems.append(_not_stored(exc))
    return outcomes


def _import_together(conn: Connection, batch: list[tuple[ImportOutcome, bytes | None]],
                     at: list[datetime | None], known: dict[tuple[int, str], dict], *, user: str, source: str,
                     noted: dict, max_bytes: int) -> dict[tuple[int, str], dict] | None:
    """What ``_import_one`` does for each return of the batch, in order, with a handful of statements
    for the whole batch (store.returns.store_many) in one savepoint. Each return is checked again
    against last term as stored before it: in the database, earlier in the batch, or by an earlier
    batch (``known``: their values by return id and SHA-256). The values of the returns stored, so
    keyed; or, when the database fails, None (nothing of the batch is written): then the caller
    stores them one at a time, each whole or not at all, to name the one that failed."""
    keys = [o.report.school_term for o, data in batch if data is not None and _has_term(o.report)]
    try:
        in_database = previous_of_many(conn, keys, known)
    except SQLAlchemyError:
        log.exception("could not read last term's returns for a batch; storing them one at a time")
        return None
    in_batch: dict[tuple, dict] = {}
    entries: list[ToStore | dict] = []
    reports, refusals, stored = [], [], []
    values: list[dict] = []
    for (outcome, data), submitted_at in zip(batch, at):
        report, refusal, to_store = outcome.report, None, False
        if data is None:
            entries.append(attempt_of(report, user=user, size=None, action="import", source=source, detail=noted))
        else:
            report = check_against_last_term(conn, data, report, max_bytes=max_bytes,
                                             previous_of=lambda *key: _previous(key, in_batch, in_database))
            if not report.valid:
                entries.append(attempt_of(report, user=user, size=len(data), action="import", source=source,
                                          detail=noted))
            elif (refusal := check_storable(report, data)) is None:
                columns = coding.value_columns(report.values)
                entries.append(ToStore(report, data, submitted_at, columns))
                in_batch[report.school_term] = coding.read_back(columns)
                values.append(in_batch[report.school_term])
                to_store = True
        reports.append(report)
        refusals.append(refusal)
        stored.append(to_store)
    try:
        with conn.begin_nested():
            saved = iter(store_many(conn, entries, user=user, action="import", source=source, detail=noted))
    except SQLAlchemyError:
        log.exception("could not store a batch of returns together; storing them one at a time")
        return None
    by_id, read_back = {}, iter(values)
    for (outcome, _), report, refusal, to_store in zip(batch, reports, refusals, stored):
        outcome.report = report
        if refusal is not None:
            report.problems.append(_not_stored(refusal))
        elif to_store:
            outcome.saved = next(saved)
            by_id[(outcome.saved.return_id, report.sha256)] = next(read_back)
    return by_id


def _has_term(report: ReturnReport) -> bool:
    urn, year, term = report.school_term
    return not report.refused and bool(urn and year and term in registry.TERMS)


def _previous(key: tuple, in_batch: dict, in_database: dict) -> dict | None:
    """The values of the term before ``key``'s: as stored earlier in the batch, else as in the database."""
    urn, year, term = key
    before = (urn, *registry.previous_term(year, term))
    return in_batch[before] if before in in_batch else in_database.get(key)


def _import_one(conn: Connection, outcome: ImportOutcome, data: bytes | None, *, user: str, source: str,
                noted: dict, max_bytes: int, submitted_at: datetime | None) -> None:
    """Check one return again against last term and store it in a savepoint of the transaction
    open on ``conn``; every attempt not stored is audited."""
    if data is None:
        _audit(conn, outcome.report, user=user, size=None, source=source, detail=noted)
        return
    outcome.report = check_against_last_term(conn, data, outcome.report, max_bytes=max_bytes)
    if not outcome.report.valid:
        _audit(conn, outcome.report, user=user, size=len(data), source=source, detail=noted)
        return
    try:
        outcome.saved = store_in(conn, outcome.report, data, user=user, submitted_at=submitted_at, action="import",
                                 source=source, detail=noted)
    except (NotStorable, SQLAlchemyError) as exc:
        outcome.report.problems.append(_not_stored(exc))
        if isinstance(exc, SQLAlchemyError):
            log.exception("could not store %s", outcome.file)
            record_attempt(conn, outcome.report, user=user, size=len(data), action="import", outcome=FAILED,
                           source=source, detail={**noted, "error": type(exc).__name__})


def _not_stored(exc: Exception) -> Problem:
    """The problem saying a return was not stored, and why: the database's own fault (read-only,
    full, down) in a sentence, found behind the failure to undo its savepoint if need be."""
    cause = exc
    while cause is not None and not isinstance(exc, NotStorable) and trouble(cause) is None:
        cause = cause.__context__
    exc = cause or exc
    message = str(exc) if isinstance(exc, NotStorable) else trouble(exc) or \
        "The return could not be stored because of a problem on our side; nothing was saved. Try again."
    return NOT_STORED(message)  # the report is the file's: it names it


def check_against_last_term(bind: Engine | Connection, data: bytes, report: ReturnReport | str, *,
                            max_bytes: int = DEFAULT_MAX_BYTES, allowed=None, previous_of=None) -> ReturnReport:
    """A return checked (``report`` is its check, or its file's name to check it now), then
    checked again against its school's previous term when the database holds that term and the
    comparison could change the report (loaders.cross_checks.growth_queried). ``allowed(urn)`` says
    whose history may be read: another school's is never read for someone who cannot see it.
    The upload page and the import both check so. ``previous_of(urn, year, term)`` gives the
    values of the term before (year, term) as ``previous_values`` would read them (the import's batch knows
    them already); by default they are read on ``bind``."""
    if isinstance(report, str):
        report = check_return(data, report, max_bytes=max_bytes)
    urn, year, term = report.school_term
    if report.refused or not (urn and year and term in registry.TERMS) or (allowed is not None and not allowed(urn)):
        return report
    if previous_of is None:
        previous = previous_values(bind, urn, year, term)
    else:
        previous = previous_of(urn, year, term)
    if previous is None or not cross_checks.growth_queried(report.values, previous):
        return report
    return check_return(data, report.file, previous=previous, max_bytes=max_bytes)


def _term_order(report: ReturnReport) -> int:
    _, year, term = report.school_term
    try:
        return registry.term_index(year, term)
    except (TypeError, ValueError, KeyError):
        return -1  # unreadable ones first: they are only audited


def _completed_at(report: ReturnReport) -> datetime | None:
    completed = report.values.get(M.ABOUT_DATE_COMPLETED)
    if not isinstance(completed, date):
        return None
    if isinstance(completed, datetime):
        completed = completed.date()
    return _at_nine(completed)


def _at_nine(day: date) -> datetime:
    """A return dated by its day alone counts as submitted at 09:00 (UK) that day."""
    return datetime.combine(day, time(SUBMITTED_AT_HOUR), tzinfo=UK)


def _audit(conn: Connection, report: ReturnReport, *, user: str, size: int | None, source: str,
           detail: dict) -> None:
    try:
        with conn.begin_nested():
            record_attempt(conn, report, user=user, size=size, action="import", source=source, detail=detail)
    except SQLAlchemyError:
        log.exception("could not audit the import of %s", report.file)
