"""The board's questions as a term sees them: which are carried forward, which are overdue, and
whether the gap each was raised on is still found.

An item raised in one term stays with its school and theme in every later term until it is
closed; once closed it is still shown for the term in which that happened, then drops out. The
gap is "still found" when the same rule fires for the same school and measure in the term being
looked at, "no longer found" when the school made a return and it does not, and cannot be told
when the school made no return that term.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pandas as pd

from analysis.privacy import mask_counts
from analysis.themes import short_name
from loaders.registry import previous_term, term_end, term_index

OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
STATUS_WORDS = {OPEN: "Open", ANSWERED: "Answered", CLOSED: "Closed"}
STATUS_SYMBOL = {OPEN: "●", ANSWERED: "◐", CLOSED: "○"}
OVERDUE_WORD = "⚠ Overdue"
RAISED_NOW, STILL, GONE, UNKNOWN = "raised this term", "still found", "no longer found", "no return: cannot tell"
LATER = "raised later"
GAP_WORDS = {RAISED_NOW: "Raised this term", STILL: "Gap still found", GONE: "Gap no longer found",
             UNKNOWN: "No return this term: cannot tell", LATER: "Raised after this term"}
STATE_COLUMNS = ["carried", "overdue", "gap_now"]
NOT_SHOWN = "Not shown here: the finding as it was raised may hold small counts of children."


def for_term(log: pd.DataFrame, year: str, term: str) -> pd.DataFrame:
    """The items a view of ``term`` shows: raised in it or before, and not closed before it began."""
    if log.empty:
        return log.copy()
    now = term_index(year, term)
    began = datetime.combine(term_end(*previous_term(year, term)), datetime.max.time())
    raised = pd.Series([term_index(y, t) for y, t in zip(log["academic_year"], log["term"])], index=log.index)
    closed_at = pd.to_datetime(log["closed_at"])
    keep = (raised <= now) & ((log["status"] != CLOSED) | closed_at.isna() | (closed_at > began))
    return log[keep].copy()


def with_state(log: pd.DataFrame, gaps: pd.DataFrame, year: str, term: str, returned: set[str],
               today: date | None = None) -> pd.DataFrame:
    """``log`` with three columns more: carried (raised in an earlier term), overdue (a due date
    passed and not closed) and gap_now (one of RAISED_NOW, STILL, GONE, UNKNOWN for ``term``, or
    LATER for an item raised after it)."""
    out = log.copy()
    if out.empty:
        for col in STATE_COLUMNS:
            out[col] = pd.Series(dtype=object)
        return out
    today = today or date.today()
    now = term_index(year, term)
    found = set(zip(gaps["urn"], gaps["rule"], gaps["indicator"].fillna(""))) if len(gaps) else set()
    raised = [term_index(y, t) for y, t in zip(out["academic_year"], out["term"])]
    out["carried"] = [r < now for r in raised]
    out["overdue"] = [due is not None and not _blank(due) and due < today and status != CLOSED
                      for due, status in zip(out["due_date"], out["status"])]
    states = []
    for r, urn, rule, indicator in zip(raised, out["urn"], out["rule"], out["indicator"].fillna("")):
        if r > now:
            states.append(LATER)
        elif r == now:
            states.append(RAISED_NOW)
        elif (urn, rule, indicator) in found:
            states.append(STILL)
        elif urn in returned:
            states.append(GONE)
        else:
            states.append(UNKNOWN)
    out["gap_now"] = states
    return out


def raised_terms(log: pd.DataFrame) -> list[tuple[str, str]]:
    """The terms the items were raised in, oldest first."""
    if log.empty:
        return []
    return sorted(set(zip(log["academic_year"], log["term"])), key=lambda yt: term_index(*yt))


def for_reader(log: pd.DataFrame, suppress: bool, gaps_for: Callable[[str, str], pd.DataFrame],
               upto: tuple[str, str] | None = None) -> pd.DataFrame:
    """The items as a reader with small counts suppressed may see them: each finding in the words
    that reader's own gap list used for it in the term it was raised (``gaps_for(year, term)``,
    asked once for each term items were raised in, up to ``upto`` when given), or withheld when
    that gap cannot be found; small numbers in the typed question, answer and action written as
    "fewer than 5". Unchanged for a reader who sees every figure."""
    if not suppress or log.empty:
        return log
    terms = [yt for yt in raised_terms(log) if upto is None or term_index(*yt) <= term_index(*upto)]
    words: dict[tuple, list[str]] = {}
    for year, term in terms:
        for g in gaps_for(year, term).itertuples():
            words.setdefault((g.urn, g.rule, g.indicator or "", year, term), []).append(g.finding)

    def reworded(row) -> str:
        seen = words.get((row.urn, row.rule, row.indicator or "", row.academic_year, row.term), [])
        # a rule can raise two gaps on one measure (a DSL's full training and refresher): the
        # one whose words are unchanged is the one raised; otherwise the reader's first
        return row.finding if row.finding in seen else (seen[0] if seen else NOT_SHOWN)

    out = log.copy()
    out["finding"] = [reworded(r) for r in out.itertuples()]
    for col in ("question", "answer", "action", "asked_by", "answered_by", "owner"):
        out[col] = pd.Series([mask_counts(_txt(v)) for v in out[col]], index=out.index, dtype=object)
    return out


def history_for_reader(history: pd.DataFrame, suppress: bool) -> pd.DataFrame:
    """An item's record of changes (store.challenges.challenge_history) as a reader with small
    counts suppressed may see it: the words typed into it (the question, answer, action, who
    asked, who answered, the owner) with their small numbers as "fewer than 5", as ``for_reader``
    shows them in the item itself. Unchanged for a reader who sees every figure."""
    if not suppress or history.empty:
        return history
    out = history.copy()
    out["changes"] = pd.Series([mask_counts(_txt(v) or "") for v in out["changes"]], index=out.index, dtype=object)
    return out


def still_open(state: pd.DataFrame) -> pd.DataFrame:
    """The items not closed: open or answered."""
    return state[state["status"] != CLOSED] if len(state) else state


def beside_gaps(state: pd.DataFrame) -> dict[tuple[str, str], str]:
    """A few words for each school and theme with board questions, to stand beside its gaps:
    "2 open (1 overdue), 1 answered"; closed items are left out."""
    words: dict[tuple[str, str], str] = {}
    if state.empty:
        return words
    live = still_open(state)
    for (urn, theme), group in live.groupby(["urn", "theme"], sort=False):
        parts = []
        for status in (OPEN, ANSWERED):
            n = int((group["status"] == status).sum())
            if n:
                parts.append(f"{STATUS_SYMBOL[status]} {n} {status}")
        overdue = int(group["overdue"].sum())
        if overdue:
            parts.append(f"{OVERDUE_WORD.lower()}: {overdue}")
        words[(urn, theme)] = ", ".join(parts)
    return words


def closed_since(log: pd.DataFrame, since: datetime | None, until: datetime | None = None) -> pd.DataFrame:
    """Items closed after ``since`` (all closed items when it is None) and not after ``until``."""
    if log.empty:
        return log.copy()
    closed_at = pd.to_datetime(log["closed_at"])
    keep = (log["status"] == CLOSED) & closed_at.notna()
    if since is not None:
        keep &= closed_at > pd.Timestamp(since)
    if until is not None:
        keep &= closed_at <= pd.Timestamp(until)
    return log[keep].copy()


def status_words(row) -> str:
    """"● Open", "◐ Answered", "○ Closed", with "⚠ Overdue" after it when the due date has passed."""
    words = f"{STATUS_SYMBOL.get(row.status, '')} {STATUS_WORDS.get(row.status, row.status)}"
    return f"{words} · {OVERDUE_WORD}" if getattr(row, "overdue", False) else words


def table(state: pd.DataFrame, *, with_school: bool = True) -> pd.DataFrame:
    """The items as people read them: status (with overdue), school, theme, the question and who
    asked it when, the answer with who gave it and when, the action with its owner and due date,
    and what became of the gap."""
    rows = []
    for r in state.itertuples():
        row = {"Status": status_words(r)}
        if with_school:
            row["School"] = r.school
        row |= {
            "Theme": short_name(r.theme),
            "Raised": f"{r.term} {r.academic_year}",
            "What we found": r.finding,
            "The board asked": f"{r.question} ({r.asked_by}, {_day(r.meeting_date)})",
            "Answer": _answer(r),
            "Action": _with(_txt(r.action), _txt(r.owner), "owner: "),
            "Due": _day(r.due_date),
            "The gap now": GAP_WORDS.get(getattr(r, "gap_now", ""), ""),
        }
        rows.append(row)
    columns = ["Status", *(["School"] if with_school else []), "Theme", "Raised", "What we found", "The board asked",
               "Answer", "Action", "Due", "The gap now"]
    return pd.DataFrame(rows, columns=columns)


def _txt(value) -> str | None:
    """Typed text, or None for a blank (which pandas may hand over as NaN)."""
    return value if isinstance(value, str) and value.strip() else None


def _answer(row) -> str:
    """"The answer (who gave it, on what day)": who and when as far as they are known."""
    text = _txt(row.answer)
    if not text:
        return ""
    when = getattr(row, "answered_at", None)
    said = [part for part in (_txt(row.answered_by), None if _blank(when) else _day(when)) if part]
    return f"{text} ({', '.join(said)})" if said else text


def _with(text: str | None, who: str | None, lead: str = "") -> str:
    if not text:
        return ""
    return f"{text} ({lead}{who})" if who else text


def _day(value) -> str:
    return value.strftime("%d/%m/%Y") if isinstance(value, (date, datetime)) else ""


def _blank(value) -> bool:
    """No date: None, NaN, or pandas' NaT (which passes for a datetime)."""
    if isinstance(value, (date, datetime)):
        return value is pd.NaT
    return value is None or pd.isna(value)
