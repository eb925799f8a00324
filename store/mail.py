"""What every email says: its subject and body, one function per kind, and the link to the page
(and term) it is about.

An email says what happened and where to look, never what was found: no count of children, no
child's details, no finding, not the board's question or an action's words (those can hold
numbers a reader's role decides whether to see). Whoever follows the link signs in, and their role
decides what the dashboard shows them. Counts of schools, returns, queries and questions are
fine: they are not counts of children. Pure: no database, no sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import settings

UK = ZoneInfo("Europe/London")

# The kinds of email, in the order the Notifications and My account pages list them.
RETURN_DUE, RECEIPT, QUESTION, ACTION_DUE, ACTION_OVERDUE = "return_due", "receipt", "question", "action_due", \
    "action_overdue"
LATE, DIGEST, PACK_READY, TEST = "late", "digest", "pack_ready", "test"
KINDS = {  # kind: (who receives it, when)
    RETURN_DUE: ("a school's DSLs", "14 days and 3 days before the school's return for a term is due, until it is in"),
    RECEIPT: ("a school's DSLs", "when a return for the school is stored"),
    QUESTION: ("a school's DSLs", "when the board raises a question about the school"),
    ACTION_DUE: ("a school's DSLs", "7 days before an action agreed with the board for the school is due"),
    ACTION_OVERDUE: ("a school's DSLs",
                     "the day after an action for the school falls due, while its question is not closed"),
    LATE: ("trust leaders", "the day after a term's deadline, listing the schools whose return is not in"),
    DIGEST: ("trust leaders who keep it on", "weekly: returns in, new red gaps, board questions overdue"),
    PACK_READY: ("trustees", "when the board pack for a term is first made for trustees"),
    TEST: ("the trust leader who asks", "from the Notifications page, to check the settings"),
}
# What each role receives (a school's DSLs about their own schools only).
ROLE_KINDS = {"dsl": (RETURN_DUE, RECEIPT, QUESTION, ACTION_DUE, ACTION_OVERDUE),
              "trust_leader": (LATE, DIGEST, TEST), "trustee": (PACK_READY,)}
KIND_WORDS = {RETURN_DUE: "Return due", RECEIPT: "Return stored", QUESTION: "Board question raised",
              ACTION_DUE: "Action due", ACTION_OVERDUE: "Action overdue", LATE: "Returns late",
              DIGEST: "Weekly digest", PACK_READY: "Board pack ready", TEST: "Test email"}

# Pages by the address dashboard.py gives them.
UPLOAD, RETURNS, BOARD, PACK, OVERVIEW, NOTIFICATIONS, ACCOUNT = (
    "upload", "returns", "board-questions", "pack", "", "notifications", "account")
PAGE_NAMES = {UPLOAD: "Upload a return", RETURNS: "Returns", BOARD: "Board questions", PACK: "Board pack",
              OVERVIEW: "Overview", NOTIFICATIONS: "Notifications", ACCOUNT: "My account"}


@dataclass(frozen=True)
class Mail:
    kind: str
    subject: str
    body: str


def link(page: str, year: str | None = None, term: str | None = None) -> str:
    """Where to look: the page's address with the term chosen (the sidebar reads it from the
    address), or, without DASHBOARD_URL, the page's name."""
    base = settings.mail().dashboard_url
    if base is None:
        return f'the dashboard\'s "{PAGE_NAMES[page]}" page' + (f" ({term} {year})" if year and term else "")
    query = urlencode({"year": year, "term": term}) if year and term else ""
    return f"{base}/{page}" + (f"?{query}" if query else "")


def day(value: date | datetime) -> str:
    """'Thursday 14 January 2027'."""
    return f"{value:%A} {value.day} {value:%B %Y}"


def in_days(days: int) -> str:
    return "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"


def _hello(name: str | None) -> str:
    return f"Hello {name}," if name else "Hello,"


def _sign_off(why: str, *, account: bool = False) -> str:
    trust = settings.mail().trust
    lines = ["", "--", f"Safeguarding governance dashboard, {trust}",
             f"You receive this because {why}.",
             "An email from the dashboard says what happened and where to look; it never holds a child's "
             "details or what a return found. Sign in to see what your role may see."]
    if account:
        lines.append(f"Turn the weekly digest on or off on My account: {link(ACCOUNT)}")
    return "\n".join(lines)


def _mail(kind: str, subject: str, name: str | None, why: str, lines: list[str]) -> Mail:
    """An email of a kind: hello, its lines, and the sign-off saying why the reader receives it."""
    return Mail(kind, subject, "\n".join([_hello(name), "", *lines, _sign_off(why)]))


def _dsl_of(school: str) -> str:
    return f"you are a designated safeguarding lead for {school} on the dashboard"


def return_due(*, name: str | None, school: str, year: str, term: str, due: date, today: date) -> Mail:
    """To a school's DSLs before their term's return is due, while it is not in."""
    days = (due - today).days
    subject = f"Safeguarding return due {in_days(days)}: {school}, {term} {year}"
    return _mail(RETURN_DUE, subject, name, _dsl_of(school), [
        f"{school}'s safeguarding return for {term} {year} is due on {day(due)}, {in_days(days)}. "
        "The dashboard has no return for that term from the school yet.", "",
        f"Download the template for {term} {year}, fill it in and upload it on the dashboard's "
        f"\"Upload a return\" page: {link(UPLOAD, year, term)}", "",
        "If it has already gone to the trust another way, the trust's data officer will store it and this "
        "reminder stops.",
    ])


def receipt(*, name: str | None, school: str, year: str, term: str, version: int, stored_at: datetime,
            by: str, queries_open: int) -> Mail:
    """To a school's DSLs when a return for their school is stored."""
    when = _uk(stored_at)
    queries = ("none" if queries_open == 0 else
               f"{queries_open} without an explanation yet (a sentence each, on the Upload page)")
    subject = f"Return stored: {school}, {term} {year} (version {version})"
    return _mail(RECEIPT, subject, name, _dsl_of(school), [
        f"Version {version} of {school}'s safeguarding return for {term} {year} was stored on {day(when)} at "
        f"{when:%H:%M} (UK time), by {by}.", "",
        "Errors: none (a return with errors is never stored).",
        f"Queries open: {queries}.", "",
        f"See the return on the dashboard's \"Returns\" page: {link(RETURNS, year, term)}",
    ])


def question(*, name: str | None, school: str, year: str, term: str, number: int, meeting: date) -> Mail:
    """To a school's DSLs when the board raises a question about their school."""
    subject = f"The board asked a question about {school} (No. {number})"
    return _mail(QUESTION, subject, name, _dsl_of(school), [
        f"At its meeting on {day(meeting)} the board asked a question about {school}, on its return for "
        f"{term} {year}. It is question No. {number}.", "",
        "As the school's DSL you can answer it on the dashboard: the answer, the action, who owns it and when "
        f"it is due. Read and answer it on the \"Board questions\" page: {link(BOARD, year, term)}",
    ])


def action_due(*, name: str | None, school: str, theme: str, number: int, due: date, today: date) -> Mail:
    """To a school's DSLs before an action agreed with the board falls due."""
    days = (due - today).days
    return _action(ACTION_DUE, f"Action due {in_days(days)}", name, school, theme, number,
                   f"is due on {day(due)}, {in_days(days)}.",
                   f"Bring it up to date on the dashboard's \"Board questions\" page: {link(BOARD)}")


def action_overdue(*, name: str | None, school: str, theme: str, number: int, due: date) -> Mail:
    """To a school's DSLs once an action agreed with the board has passed its due date."""
    return _action(ACTION_OVERDUE, "Action overdue", name, school, theme, number,
                   f"was due on {day(due)}, and the question is not closed.",
                   "Say where it stands, or agree a new date with the trust, on the dashboard's \"Board questions\" "
                   f"page: {link(BOARD)}")


def _action(kind: str, what: str, name: str | None, school: str, theme: str, number: int, when: str,
            ask: str) -> Mail:
    """An email about the action agreed on one of the board's questions: ``when`` it is due, what to ``ask``."""
    return _mail(kind, f"{what}: {school} (board question No. {number})", name, _dsl_of(school), [
        f"The action agreed on the board's question No. {number} about {school} ({theme}) {when}", "", ask])


def late(*, name: str | None, year: str, term: str, due: date, schools: list[str]) -> Mail:
    """To trust leaders the day after a term's deadline: the schools whose return is not in."""
    n = len(schools)
    subject = f"Returns late for {term} {year}: {n} school{'' if n == 1 else 's'}"
    return _mail(LATE, subject, name, "you are a trust leader on the dashboard", [
        f"The safeguarding returns for {term} {year} were due on {day(due)}. "
        f"{'This school has' if n == 1 else 'These schools have'} not returned yet:", "",
        *[f"  - {school}" for school in schools], "",
        f"The returns tracker: {link(RETURNS, year, term)}",
    ])


@dataclass(frozen=True)
class Week:
    """What a weekly digest says: the week it covers, the returns stored in it (school, term and
    version), how the term being collected stands, the red gaps new in the week (school, theme),
    and the board's questions overdue (number, school, theme, due date)."""

    start: date  # a Monday
    end: date  # the Sunday after it
    returns_in: list[tuple[str, str, int]]
    collecting: tuple[str, str, int, int, date] | None  # year, term, schools returned, expected, due
    new_red: list[tuple[str, str]]
    overdue: list[tuple[int, str, str, date]]

    @property
    def quiet(self) -> bool:
        return not (self.returns_in or self.new_red or self.overdue)


def digest(*, name: str | None, week: Week) -> Mail:
    """To each trust leader who keeps it on, once a week."""
    lines = [_hello(name), "", f"What happened on the dashboard from {day(week.start)} to {day(week.end)}.", ""]
    lines.append(f"Returns stored: {len(week.returns_in) or 'none'}")
    lines += [f"  - {school}, {label} (version {version})" for school, label, version in week.returns_in]
    if week.collecting is not None:
        year, term, got, expected, due = week.collecting
        lines.append(f"  {term} {year}: {got} of {expected} schools have returned (deadline {day(due)}).")
    lines += ["", f"New red gaps: {len(week.new_red) or 'none'}"]
    lines += [f"  - {school}: {theme}" for school, theme in week.new_red]
    lines += ["", f"Board questions overdue: {len(week.overdue) or 'none'}"]
    lines += [f"  - No. {number}, {school} ({theme}): due {day(due)}" for number, school, theme, due in week.overdue]
    lines += ["", f"The overview: {link(OVERVIEW)}", f"The board's questions: {link(BOARD)}",
              _sign_off("you are a trust leader on the dashboard", account=True)]
    subject = f"Safeguarding dashboard: the week of {week.start.day} {week.start:%B %Y}"
    return Mail(DIGEST, subject, "\n".join(lines))


def pack_ready(*, name: str | None, year: str, term: str) -> Mail:
    """To trustees when the board pack for a term is first made for them. No figures at all."""
    subject = f"The board pack for {term} {year} is ready"
    return _mail(PACK_READY, subject, name, "you are a trustee on the dashboard", [
        f"The safeguarding board pack for {term} {year} is ready on the dashboard. Read it, or download it as a "
        f"PDF, on the \"Board pack\" page: {link(PACK, year, term)}",
    ])


def test(*, name: str | None, asked_at: datetime) -> Mail:
    """To the trust leader who asked for it, to check the settings."""
    when = _uk(asked_at)
    return _mail(TEST, "Test email from the safeguarding dashboard", name, "you asked for a test email", [
        f"This is the test email you asked for on the dashboard's Notifications page on {day(when)} at "
        f"{when:%H:%M} (UK time). It reached you, so the dashboard's email settings work.", "",
        f"The Notifications page: {link(NOTIFICATIONS)}",
    ])


def _uk(moment: datetime) -> datetime:
    """A stored (naive UTC) time as the clock in England shows it."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
    return aware.astimezone(UK)


def examples(school: str, other: str, year: str, term: str, due: date) -> list[Mail]:
    """One email of every kind, about ``school`` (and ``other``, for the emails that list several),
    for the term ``year``/``term`` whose returns are due on ``due``, each as on the day it would
    be sent: what the Notifications page previews. Names of people, numbers and actions are made up."""
    dsl, leader = "Morgan Fairweather", "Alex Carter"
    monday = due - timedelta(days=due.weekday())
    week = Week(monday - timedelta(days=7), monday - timedelta(days=1), [(school, f"{term} {year}", 1)],
                (year, term, 9, 12, due), [(other, "Neglect")],
                [(4, other, "Multi-agency working", due - timedelta(days=5))])
    stored = datetime.combine(due - timedelta(days=9), datetime.min.time()).replace(hour=10, minute=12)
    action = due + timedelta(days=20)
    return [
        return_due(name=dsl, school=school, year=year, term=term, due=due, today=due - timedelta(days=14)),
        receipt(name=dsl, school=school, year=year, term=term, version=2, stored_at=stored,
                by="dsl@school.example.org", queries_open=1),
        question(name=dsl, school=school, year=year, term=term, number=3, meeting=due - timedelta(days=40)),
        action_due(name=dsl, school=school, theme="Neglect", number=3, due=action,
                   today=action - timedelta(days=7)),
        action_overdue(name=dsl, school=school, theme="Neglect", number=3, due=action),
        late(name=leader, year=year, term=term, due=due, schools=[school, other]),
        digest(name=leader, week=week),
        pack_ready(name="Sam Patel", year=year, term=term),
        test(name=leader, asked_at=stored),
    ]
