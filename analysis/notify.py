"""The emails that fall due by date, queued in the outbox (store.outbox) by ``python -m analysis notify``.

- To a school's DSLs: their term's return is due in 14 days, then in 3 days, while the school has
  not returned (a term's return is due the trust's days for that term after it ends: see
  analysis.deadlines); an action agreed with the board for their school is due in 7 days, then
  overdue, while the question is not closed.
- To trust leaders: the day after a term's deadline, one email listing the schools whose return
  is not in (the schools the dashboard expects, as its returns tracker does); and once a week,
  to each who keeps it on, a digest of the week before (Monday to Sunday): returns stored, red
  gaps new in the week, and the board's questions overdue. A week with none of these sends none.

Each is looked for from its day until CATCH_UP days after it, so a run missed for a few days
still sends it late rather than never, and turning email on does not send a flood about old
terms. Each email has its own key in the outbox, so running this every few minutes, or twice at
once, queues each email once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.engine import Engine

from analysis import deadlines
from analysis.context import Context, Dataset
from analysis.dataset import load_dataset
from analysis.gaps import find_gaps
from analysis.themes import THEMES_BY_ID
from loaders.registry import TERMS, term_end, term_index
from store import mail as texts
from store import outbox
from store.access import TRUST_LEADER
from store.challenges import CLOSED, list_challenges
from store.db import writing
from store.overview import submissions
from store.returns import schools
from store.thresholds import load_thresholds

UK = ZoneInfo("Europe/London")
REMINDERS = (14, 3)  # days before a return is due
ACTION_NOTICE = 7  # days before an action is due
CATCH_UP = 7  # days after its day that an email is still sent


@dataclass(frozen=True)
class Due:
    """One email due today: its key in the outbox, who it is for, the school it is about."""

    mail: texts.Mail
    key: str
    to: outbox.Person
    urn: str | None = None


def queue_due(engine: Engine, today: date | None = None) -> dict[str, int]:
    """Queue every email due by ``today`` (default: today in England) that is not queued yet; how
    many of each kind were queued. Nothing when email is off."""
    if not outbox.enabled():
        return {}
    today = today or deadlines.current_date()
    data, limits, log = _returns_only(engine), load_thresholds(engine), list_challenges(engine)
    week_key = week_of(today)[0].isoformat()
    with engine.connect() as conn:
        readers = outbox.missing(conn, texts.DIGEST, week_key, outbox.people(conn, TRUST_LEADER, digest=True))
    # the slow part (every value of every return, and the gaps), once a week, before the write lock
    week = last_week(load_dataset(engine), limits, log, today) if readers else None
    queued: Counter[str] = Counter()
    with writing(engine) as conn:
        holdings = outbox.dsl_schools(conn)
        due = [*return_reminders(data, limits, today, holdings), *action_notices(log, today, holdings),
               *late_returns(data, limits, today, outbox.people(conn, TRUST_LEADER))]
        if week is not None and not week.quiet:
            due += [Due(texts.digest(name=p.name, week=week), week_key, p)
                    for p in outbox.people(conn, TRUST_LEADER, digest=True)]
        for d in due:
            if outbox.queue(conn, d.mail, to=d.to.email, key=d.key, urn=d.urn):
                queued[d.mail.kind] += 1
    return dict(queued)


def _returns_only(engine: Engine) -> Dataset:
    """The schools and their returns (when each arrived), without the values: all that the
    reminders and late returns need, read on every run."""
    none = pd.DataFrame(columns=["urn", "academic_year", "term"])
    return Dataset(schools=schools(engine)[["urn", "name", "phase"]], values=none, returns=submissions(engine),
                   leads=none, queries=none)


def next_deadline(today: date, limits: dict) -> tuple[str, str, date]:
    """(year, term, deadline) of the first term whose returns are due on or after ``today``."""
    return terms_due_near(today, limits, before=366, after=0)[0]


def terms_due_near(today: date, limits: dict, before: int, after: int) -> list[tuple[str, str, date]]:
    """(year, term, deadline) of the terms whose deadline is from ``after`` days ago to ``before``
    days ahead, oldest first."""
    out = []
    for first in range(today.year - 2, today.year + 2):
        year = f"{first}/{(first + 1) % 100:02d}"
        for term in TERMS:
            due = deadlines.deadline(year, term, limits)
            if -after <= (due - today).days <= before:
                out.append((year, term, due))
    return sorted(out, key=lambda t: term_index(t[0], t[1]))


def return_reminders(data: Dataset, limits: dict, today: date, holdings: dict[str, list]) -> list[Due]:
    """To each school's DSLs, while the school has not returned: the reminder 14 days before the
    deadline (up to 4 days before), then the one 3 days before (up to the day itself)."""
    returned = set(zip(data.returns["urn"], data.returns["academic_year"], data.returns["term"]))
    out = []
    for year, term, due in terms_due_near(today, limits, before=max(REMINDERS), after=0):
        left = (due - today).days
        which = min(r for r in REMINDERS if r >= left)
        for urn, dsls in holdings.items():
            if (urn, year, term) in returned:
                continue
            school = data.school_names.get(urn, f"School {urn}")
            out += [Due(texts.return_due(name=p.name, school=school, year=year, term=term, due=due, today=today),
                        f"{year}:{term}:{urn}:{which}", p, urn) for p in dsls]
    return out


def late_returns(data: Dataset, limits: dict, today: date, leaders: list) -> list[Due]:
    """To trust leaders, from the day after a term's deadline: the schools expected that have not
    returned (every school whose first return is no later, as analysis.context says), in one
    email; none when every school has."""
    out = []
    for year, term, due in terms_due_near(today, limits, before=-1, after=CATCH_UP):
        index = term_index(year, term)
        returned = set(data.returned_by_index.get(index, []))
        missing = [data.school_names.get(urn, urn) for urn, first in data.first_return.items()
                   if first <= index and urn not in returned]
        if missing:
            out += [Due(texts.late(name=p.name, year=year, term=term, due=due, schools=sorted(missing)),
                        f"{year}:{term}", p) for p in leaders]
    return out


def action_notices(log: pd.DataFrame, today: date, holdings: dict[str, list]) -> list[Due]:
    """To a school's DSLs, for each question about it not closed whose action has a due date: 7 days
    before it (up to the day), then from the day after it."""
    out = []
    for row in log.itertuples():
        due = row.due_date
        if row.status == CLOSED or not isinstance(due, date):
            continue
        left = (due - today).days
        theme = theme_name(row.theme)
        for p in holdings.get(row.urn, []):
            if 0 <= left <= ACTION_NOTICE:
                out.append(Due(texts.action_due(name=p.name, school=row.school, theme=theme, number=int(row.id),
                                                due=due, today=today), f"{row.id}:{due.isoformat()}", p, row.urn))
            elif -CATCH_UP <= left < 0:
                out.append(Due(texts.action_overdue(name=p.name, school=row.school, theme=theme, number=int(row.id),
                                                    due=due), f"{row.id}:{due.isoformat()}", p, row.urn))
    return out


def last_week(data: Dataset, limits: dict, log: pd.DataFrame, today: date) -> texts.Week | None:
    """What the weekly digest says in the week ``today`` is in: the week before it, Monday to
    Sunday; None before any return is stored."""
    if data.returns.empty:
        return None
    start, end = week_of(today)
    began, ended = _uk_midnight(start), _uk_midnight(end + timedelta(days=1))
    now, then = as_at(data, ended), as_at(data, began)
    submitted = pd.to_datetime(data.returns["submitted_at"])
    arrived = data.returns[(submitted >= began) & (submitted < ended)].sort_values("submitted_at")
    names = data.school_names
    returns_in = [(names.get(r.urn, r.urn), f"{r.term} {r.academic_year}", int(r.version))
                  for r in arrived.itertuples()]
    # the terms the dashboard shows (those with returns) that the week may have changed: those
    # returns arrived for, the one shown by default, and the one being collected
    collecting = _collecting(now, limits, end)
    terms = {(y, t) for y, t in zip(arrived["academic_year"], arrived["term"])}
    terms |= {yt for yt in (deadlines.default_term(now, limits, end), collecting and collecting[:2])
              if yt and yt in now.terms}
    new_red: set[tuple[str, str]] = set()
    for year, term in sorted(terms, key=lambda yt: term_index(*yt)):
        after = _red(Context(now, year, term, limits, end))
        before = _red(Context(then, year, term, limits, start - timedelta(days=1)))
        new_red |= {(names.get(urn, urn), theme_name(theme)) for urn, theme, *_ in after - before}
    overdue = [(int(r.id), r.school, theme_name(r.theme), r.due_date) for r in log.itertuples()
               if r.status != CLOSED and isinstance(r.due_date, date) and r.due_date <= end]
    return texts.Week(start, end, returns_in, collecting, sorted(new_red), overdue)


def week_of(today: date) -> tuple[date, date]:
    """The week a digest sent in ``today``'s week covers: the Monday and Sunday before."""
    start = today - timedelta(days=today.weekday() + 7)
    return start, start + timedelta(days=6)


def _collecting(data: Dataset, limits: dict, end: date) -> tuple[str, str, int, int, date] | None:
    """The latest term ended by ``end``: (year, term, schools returned, schools expected, deadline)."""
    ended = [(year, term) for first in range(end.year - 2, end.year + 1)
             for year in [f"{first}/{(first + 1) % 100:02d}"] for term in TERMS if term_end(year, term) <= end]
    y, t = max(ended, key=lambda yt: term_index(*yt))
    expected = Context(data, y, t, limits, end).expected()
    if not expected:
        return None
    return y, t, sum(s.returned for s in expected), len(expected), deadlines.deadline(y, t, limits)


def _red(ctx: Context) -> set[tuple]:
    return {(g.urn, g.theme, g.rule, g.indicator) for g in find_gaps(ctx) if g.severity == "red"}


def as_at(data: Dataset, moment: datetime) -> Dataset:
    """The trust's data as it stood at ``moment`` (naive UTC): the returns stored before it."""
    r = data.returns
    returns = r[pd.to_datetime(r["submitted_at"]) < moment]
    keys = set(zip(returns["urn"], returns["academic_year"], returns["term"]))

    def before(frame: pd.DataFrame) -> pd.DataFrame:
        keep = [k in keys for k in zip(frame["urn"], frame["academic_year"], frame["term"])]
        return frame[keep] if len(frame) else frame

    return Dataset(schools=data.schools, values=before(data.values), returns=returns, leads=before(data.leads),
                   queries=before(data.queries), suppress=data.suppress)


def theme_name(theme_id: str) -> str:
    theme = THEMES_BY_ID.get(theme_id)
    return theme.title if theme else theme_id


def _uk_midnight(day: date) -> datetime:
    """The start of a day in England, as the naive UTC time the store keeps."""
    return datetime.combine(day, time(0), tzinfo=UK).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
