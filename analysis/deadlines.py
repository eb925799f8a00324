"""When a term's returns are due, and which term a reader is shown first.

A term's returns are due the trust's days for that term (Autumn, Spring and Summer each, set on the
Settings page; a term not given its own uses the single ``return_due_days`` an older database may
hold, else the default) after the term ends. Until that day has passed a school that has not returned is "not yet due": never missing,
never late. The term every page, the command lines and the board pack show when none is asked for
is the latest with returns whose deadline has passed, or a newer one once every school has
returned for it; so one school returning early does not turn everyone's view to a term still
under way.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from analysis.thresholds import TERM_DUE, resolve
from loaders.registry import term_end, term_index

UK = ZoneInfo("Europe/London")


def current_date() -> date:
    """Today in England, where the trust's deadlines fall."""
    return datetime.now(UK).date()


def days_allowed(term: str, thresholds: dict | None = None) -> int:
    """The trust's days for returning after ``term`` ends (Autumn, Spring or Summer)."""
    return int(resolve(thresholds)[TERM_DUE[term]])


def deadline(academic_year: str, term: str, thresholds: dict | None = None) -> date:
    """The last day a term's return is on time: its end plus the trust's days for that term."""
    return term_end(academic_year, term) + timedelta(days=days_allowed(term, thresholds))


def past_deadline(academic_year: str, term: str, thresholds: dict | None = None, today: date | None = None) -> bool:
    """Whether a term's returns are due by ``today`` (default: today): its deadline has gone by."""
    return (today or current_date()) > deadline(academic_year, term, thresholds)


def default_term(data, thresholds: dict | None = None, today: date | None = None) -> tuple[str, str] | None:
    """The term shown when none is chosen: of the terms with returns, the latest whose deadline
    has passed or for which every school has returned; the earliest when no term is either yet.
    None when nothing is stored. ``data`` is an analysis Dataset (whole trust or a reader's part:
    both know which terms the whole trust has completed, so every reader starts on the same term)."""
    terms = data.terms
    complete = data.complete_terms
    for year, term in reversed(terms):
        if term_index(year, term) in complete or past_deadline(year, term, thresholds, today):
            return year, term
    return terms[0] if terms else None
