"""Import returns from files on disk: check each one, store the valid ones, audit every attempt.

Used by ``python -m loaders import`` and to load the sample trust. Files are stored in term
order whatever order they were named in, so each return is compared with the term before it
even when both arrive in the same batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

import settings
from loaders import cross_checks, registry
from loaders.problems import FILE_UNREADABLE, NOT_STORED
from loaders.registry import M
from loaders.report import ReturnReport
from store.audit import record_attempt
from store.db import make_engine, trouble
from store.returns import NotStorable, SavedReturn, previous_values, save_return
from store.upgrades import upgrade

log = logging.getLogger(__name__)

UK = ZoneInfo("Europe/London")
# A return imported with its own completion date, or the day it was received, counts as
# submitted at this time that day.
SUBMITTED_AT_HOUR = 9


@dataclass
class ImportOutcome:
    file: str
    report: ReturnReport
    saved: SavedReturn | None = None


def import_paths(paths: list[str], db_url: str | None = None, user: str = "command line", *,
                 engine: Engine | None = None, submitted_at_from_return: bool = False,
                 received: date | None = None, source: str = "command line") -> list[ImportOutcome]:
    """Check and store each file; one outcome per path, in the order given.

    A missing or unreadable path is an outcome whose report holds the error, never an
    exception. With ``submitted_at_from_return`` a return counts as submitted at 09:00 (UK) on
    its own date completed, so a late return looks late. ``received`` is the day a paper or
    emailed return really arrived: it counts as submitted at 09:00 (UK) that day, whenever it is
    imported, and the day is on the record of changes with each attempt.
    """
    from loaders import check_return  # the loader is only needed once there is something to check

    if engine is None:
        engine = make_engine(db_url)
        upgrade(engine)
    max_bytes = settings.max_upload_bytes()
    outcomes: list[ImportOutcome] = []
    contents: list[bytes | None] = []
    for path in paths:
        data, report = _read(path)
        if data is not None:
            report = check_return(data, Path(path).name, max_bytes=max_bytes)
        outcomes.append(ImportOutcome(str(path), report))
        contents.append(data)

    noted = {"received": received.isoformat()} if received else {}
    for i in sorted(range(len(outcomes)), key=lambda i: _term_order(outcomes[i].report)):
        outcome, data = outcomes[i], contents[i]
        if data is None:
            _audit(engine, outcome.report, user=user, size=None, source=source, detail=noted)
            continue
        outcome.report = _with_previous(engine, outcome.report, data, check_return, max_bytes)
        if not outcome.report.valid:
            _audit(engine, outcome.report, user=user, size=len(data), source=source, detail=noted)
            continue
        submitted_at = _at_nine(received) if received else \
            _completed_at(outcome.report) if submitted_at_from_return else None
        try:
            outcome.saved = save_return(engine, outcome.report, data, user=user, submitted_at=submitted_at,
                                        action="import", source=source, detail=noted)
        except (NotStorable, SQLAlchemyError) as exc:
            message = str(exc) if isinstance(exc, NotStorable) else trouble(exc) or \
                "The return could not be stored because of a problem on our side; nothing was saved. Try again."
            outcome.report.problems.append(NOT_STORED(message))
    return outcomes


def _read(path) -> tuple[bytes | None, ReturnReport]:
    name = str(path)
    try:
        return Path(path).read_bytes(), ReturnReport(file=name)
    except FileNotFoundError:
        message = f"There is no file at {name}. Check the name and the folder."
    except IsADirectoryError:
        message = f"{name} is a folder, not a file. Name the return files themselves."
    except OSError as exc:
        message = f"{name} could not be opened ({exc.strerror or exc}). Check it is not open elsewhere."
    return None, ReturnReport(file=name, problems=[FILE_UNREADABLE(message)],
                              refused=True)


def _with_previous(engine: Engine, report: ReturnReport, data: bytes, check_return, max_bytes: int) -> ReturnReport:
    """The report again, compared with last term's return when the database has one."""
    urn, year, term = report.school_term
    if not (urn and year and term in registry.TERMS):
        return report
    previous = previous_values(engine, urn, year, term)
    if previous is None or not _comparison_matters(report.values, previous):
        return report
    return check_return(data, report.file, previous=previous, max_bytes=max_bytes)


def _comparison_matters(values: dict, previous: dict) -> bool:
    """Whether checking again with last term's values could change the report.

    The loader uses last term's values for one thing only: a query on a count more than
    GROWTH_FACTOR times last term's. When no count grew that much the second check would give
    the same report, so the file is not read twice (reading is most of an import's time).
    """
    factor = getattr(cross_checks, "GROWTH_FACTOR", 1)
    for mid in registry.COUNT_IDS:
        now, before = values.get(mid), previous.get(mid)
        if _is_number(now) and _is_number(before) and before > 0 and now > factor * before:
            return True
    return False


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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


def _audit(engine: Engine, report: ReturnReport, *, user: str, size: int | None, source: str,
           detail: dict) -> None:
    try:
        record_attempt(engine, report, user=user, size=size, action="import", source=source, detail=detail)
    except SQLAlchemyError:
        log.exception("could not audit the import of %s", report.file)
