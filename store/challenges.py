"""The board's challenge log: questions asked about gaps, their answers and actions, every change audited.

An item is raised against one gap (its school, theme, rule and measure, in the term it was found)
with the question, who asked it and at which meeting. Later it gets an answer (and who gave it),
an action with an owner and a due date, and a status: open, answered, closed. Nothing is ever
deleted here except with the school itself; every change writes an audit row naming each field's
old and new value in the same transaction.

Who may change what is decided here, from the signed-in person's scope: trust leaders and
trustees raise, change and close questions; a school's DSL answers the questions about their own
school (the answer, the action, its owner and due date, and marking it answered) and nothing
else: never another school's, never closing one, never one already closed. When the answer is
given or changed, the time is kept beside who gave it, for the next pack.

Raising a question emails the school's DSLs (store.outbox), in the same transaction.

Whether an item is carried to a later term, and whether the gap it was raised on has closed, is
worked out in analysis.challenges from these rows and the term's gaps.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import outbox
from store.access import DSL, Scope
from store.audit import DONE, utcnow, write_audit
from store.db import writing
from store.schema import audit, challenges, schools

OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
STATUSES = (OPEN, ANSWERED, CLOSED)
ADD, UPDATE = "add_challenge", "update_challenge"
EDITABLE = ("question", "asked_by", "meeting_date", "answer", "answered_by", "action", "owner", "due_date",
            "status")
# What a school's DSL may change on a question about their own school, and the statuses they may give.
DSL_EDITABLE = ("answer", "answered_by", "action", "owner", "due_date", "status")
DSL_STATUSES = ("open", "answered")
LABELS = {"question": "Question", "asked_by": "Asked by", "meeting_date": "Meeting date", "answer": "Answer",
          "answered_by": "Answered by", "action": "Action", "owner": "Action owner", "due_date": "Due date",
          "status": "Status"}
MAX_TEXT = 4000  # characters in any one field: a paragraph or two, not a document
COLUMNS = ["id", "urn", "school", "theme", "rule", "indicator", "academic_year", "term", "finding", "question",
           "asked_by", "meeting_date", "answer", "answered_by", "answered_at", "action", "owner", "due_date",
           "status", "created_by", "created_at", "updated_by", "updated_at", "closed_at"]
HISTORY_COLUMNS = ["at", "actor", "what", "changes"]


class ChallengeError(ValueError):
    """What was asked cannot be stored, in a sentence the person who typed it can act on."""


class NotYours(ChallengeError):
    """The signed-in person may not make this change: a sentence saying who may."""


def add_challenge(engine: Engine, *, urn: str, theme: str, rule: str, indicator: str | None,
                  academic_year: str, term: str, finding: str, question: str, asked_by: str,
                  meeting_date: date, user: str, answer: str | None = None, answered_by: str | None = None,
                  action: str | None = None, owner: str | None = None, due_date: date | None = None,
                  status: str = OPEN, scope: Scope | None = None) -> int:
    """Record the board's question on a gap (audited) and email the school's DSLs; returns the new
    item's id. ``scope``, the signed-in person's: only trust leaders and trustees raise questions
    (None: a caller of our own, such as a script or a test)."""
    if scope is not None and not scope.can_challenge:
        raise NotYours("Only trust leaders and trustees record the board's questions.")
    fields = _checked({
        "question": question, "asked_by": asked_by, "meeting_date": meeting_date, "answer": answer,
        "answered_by": answered_by, "action": action, "owner": owner, "due_date": due_date, "status": status,
    })
    gap = {"urn": _text(urn, "school"), "theme": _text(theme, "theme"), "rule": _text(rule, "gap"),
           "indicator": (indicator or "").strip(), "academic_year": _text(academic_year, "academic year"),
           "term": _text(term, "term"), "finding": _text(finding, "finding")}
    at = utcnow()
    with writing(engine) as conn:
        if conn.execute(sa.select(schools.c.urn).where(schools.c.urn == gap["urn"])).first() is None:
            raise ChallengeError(f"No school with URN {gap['urn']} is stored, so no question can be recorded on it.")
        new = conn.execute(challenges.insert().values(
            **gap, **fields, created_by=user, created_at=at, updated_by=user, updated_at=at,
            closed_at=at if fields["status"] == CLOSED else None, answered_at=at if fields["answer"] else None,
        ))
        item = new.inserted_primary_key[0]
        write_audit(conn, actor=user, action=ADD, outcome=DONE, urn=gap["urn"], academic_year=gap["academic_year"],
                    term=gap["term"], at=at, detail={
                        "id": item, "theme": gap["theme"], "rule": gap["rule"], "indicator": gap["indicator"],
                        "changes": {k: [None, _plain(v)] for k, v in fields.items() if v is not None},
                    })
        outbox.queue_question(conn, item=item, urn=gap["urn"], year=gap["academic_year"], term=gap["term"],
                              meeting=fields["meeting_date"])
    return item


def update_challenge(engine: Engine, item: int, *, user: str, scope: Scope | None = None,
                     **changes) -> dict[str, list]:
    """Change some fields of an item (audited); returns {field: [old, new]} of what changed, empty
    when nothing did (and then no audit row is written).

    ``scope`` is the signed-in person's (None: a caller of our own, such as a script or a test).
    A DSL may answer a question about a school they hold, and nothing more (see the module's
    docstring); anyone else who is not a trust leader or trustee may change nothing: NotYours.
    """
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ChallengeError(f"{', '.join(unknown)} cannot be changed on a board question.")
    with writing(engine) as conn:
        row = conn.execute(sa.select(challenges).where(challenges.c.id == item).with_for_update()).mappings().first()
        if row is None:
            raise ChallengeError(f"There is no board question numbered {item}; it may have been removed with its school.")
        if scope is not None:
            _may_change(scope, row, changes)
        merged = _checked({**{k: row[k] for k in EDITABLE}, **changes})
        diff = {k: [_plain(row[k]), _plain(merged[k])] for k in EDITABLE if merged[k] != row[k]}
        if not diff:
            return {}
        at = utcnow()
        values = {k: merged[k] for k in diff} | {"updated_by": user, "updated_at": at}
        if "status" in diff:
            values["closed_at"] = at if merged["status"] == CLOSED else None
        if "answer" in diff:
            values["answered_at"] = at if merged["answer"] else None
        conn.execute(challenges.update().where(challenges.c.id == item).values(**values))
        write_audit(conn, actor=user, action=UPDATE, outcome=DONE, urn=row["urn"], academic_year=row["academic_year"],
                    term=row["term"], at=at, detail={"id": item, "changes": diff})
    return diff


def _may_change(scope: Scope, row, changes: dict) -> None:
    """NotYours unless the scope may make these changes to this item (see the module's docstring)."""
    if scope.can_challenge:
        return
    if not (scope.active and scope.role == DSL and scope.allows(row["urn"])):
        raise NotYours("You can answer only the board's questions about your own school; trust leaders and "
                       "trustees bring the others up to date.")
    others = sorted(k for k in changes if k not in DSL_EDITABLE and changes[k] != row[k])
    if others:
        raise NotYours(f"A school's DSL answers the board's question; {', '.join(LABELS[k].lower() for k in others)} "
                       "can be changed by trust leaders and trustees only.")
    if row["status"] == CLOSED:
        raise NotYours("The board has closed this question, so it can no longer be changed here. Ask a trust "
                       "leader to reopen it if there is more to say.")
    if changes.get("status", row["status"]) not in DSL_STATUSES:
        raise NotYours("Only a trust leader or a trustee closes a question, once the board is satisfied. Mark it "
                       "answered instead.")


def list_challenges(engine: Engine, *, urns: list[str] | None = None) -> pd.DataFrame:
    """Every item (of the schools given, when given), oldest first, with the school's name."""
    query = (sa.select(challenges, schools.c.name.label("school"))
             .join(schools, schools.c.urn == challenges.c.urn).order_by(challenges.c.id))
    if urns is not None:
        query = query.where(challenges.c.urn.in_(list(urns)))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows], columns=COLUMNS).astype({"id": "Int64"})
    for col in ("meeting_date", "due_date"):
        frame[col] = [_as_date(v) for v in frame[col]]
    for col in ("answer", "answered_by", "action", "owner"):  # blank stays None, never NaN
        frame[col] = pd.Series([v if isinstance(v, str) else None for v in frame[col]], index=frame.index, dtype=object)
    return frame


def challenge_history(engine: Engine, item: int) -> pd.DataFrame:
    """Every change to one item, newest first: when, who, what (raised or changed), the changes."""
    query = (sa.select(audit.c.at, audit.c.actor, audit.c.action, audit.c.detail)
             .where(audit.c.action.in_((ADD, UPDATE))).order_by(audit.c.id.desc()))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    out = []
    for r in rows:
        detail = r.detail if isinstance(r.detail, dict) else {}
        if detail.get("id") != item:
            continue
        words = "; ".join(_change_words(k, v) for k, v in (detail.get("changes") or {}).items())
        out.append((r.at, r.actor, "raised" if r.action == ADD else "changed", words))
    return pd.DataFrame(out, columns=HISTORY_COLUMNS)


def _change_words(field: str, change) -> str:
    old, new = (change + [None, None])[:2] if isinstance(change, list) else (None, change)
    label = LABELS.get(field, field)
    if old in (None, ""):
        return f"{label}: {new}"
    return f"{label}: {old} → {new if new not in (None, '') else '(cleared)'}"


def _checked(fields: dict) -> dict:
    """The fields as stored, or ChallengeError naming the first thing to put right."""
    out = {k: _optional(fields.get(k), LABELS[k]) for k in ("question", "asked_by", "answer", "answered_by",
                                                              "action", "owner")}
    if not out["question"]:
        raise ChallengeError("Type the board's question before saving.")
    if not out["asked_by"]:
        raise ChallengeError("Say who asked the question (a name or a role, such as 'Chair').")
    out["meeting_date"] = _date(fields.get("meeting_date"), "meeting date")
    if out["meeting_date"] is None:
        raise ChallengeError("Give the date of the meeting where the question was asked.")
    out["due_date"] = _date(fields.get("due_date"), "due date")
    status = fields.get("status") or OPEN
    if status not in STATUSES:
        raise ChallengeError(f"The status must be open, answered or closed, not {status!r}.")
    if status == ANSWERED and not out["answer"]:
        raise ChallengeError("Type the answer before marking the question answered.")
    if out["action"] and not out["owner"]:
        raise ChallengeError("Name who owns the action, so it can be followed up.")
    out["status"] = status
    return out


def _optional(value, label: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ChallengeError(f"{label} must be text.")
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise ChallengeError(f"{label} is {len(value):,} characters long; keep it under {MAX_TEXT:,}.")
    return value or None


def _text(value, label: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ChallengeError(f"The {label} the question is about is missing.")
    return value.strip()


def _date(value, label: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ChallengeError(f"The {label} must be a date, such as 2026-03-12.")


def _as_date(value) -> date | None:
    if value is None or (not isinstance(value, (date, str)) and pd.isna(value)):
        return None
    return _date(value, "date")


def _plain(value):
    """A value as JSON can hold it in the audit row."""
    return value.isoformat() if isinstance(value, (date, datetime)) else value
