"""The outbox: every email the dashboard sends is first a row here, written in the same transaction
as the change that causes it (the transactional outbox), then sent by ``python -m analysis notify``.

- Queued with a key naming what the email is (its kind, what it is about, who it is for): the
  same email is never queued twice, however often the change or the run that queues it repeats.
- With no SMTP_HOST set, nothing is queued (and nothing sent): email is off.
- Sending claims rows first (status ``sending`` with a token of the run's own) in a short write
  transaction: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite, so two
  runs at once never claim the same row; then sends each and marks it sent. A run that died
  mid-way leaves its claims, which another run takes over after LEASE.
- A failed send is tried again after a minute, then after twice as long each time, up to an hour
  apart; after a day of failures it is marked failed and shown to trust leaders, who can send it
  again from the Notifications page.
- Recipients are read from the users in the transaction that queues: a school's DSLs (active,
  holding that school), trust leaders (those keeping the weekly digest on, for the digest), trustees.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

import settings
from store import mail as texts
from store.access import DSL, TRUSTEE
from store.audit import DONE, utcnow, write_audit
from store.db import is_sqlite, upsert_insert, writing
from store.mailer import Connection as Smtp
from store.mailer import SendError, message
from store.schema import outbox, schools, user_schools, users

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
STATUS_WORDS = {QUEUED: "Queued", SENDING: "Sending", SENT: "Sent", FAILED: "Failed"}
LEASE = timedelta(minutes=15)  # a claim older than this belongs to a run that stopped
FIRST_RETRY, LONGEST_RETRY = timedelta(minutes=1), timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=1)
KEEP_SENT = timedelta(days=365)  # sent emails are kept a year on the Notifications page, then deleted
BATCH = 50
COLUMNS = ["id", "kind", "recipient", "urn", "subject", "body", "status", "created_at", "next_attempt_at", "attempts",
           "first_failed_at", "last_error", "sent_at"]
SET_DIGEST, RETRY = "set_weekly_digest", "send_email_again"


def enabled() -> bool:
    """Whether email is on: an SMTP_HOST is set."""
    return settings.mail().on


# ---- Who receives what ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    email: str
    name: str | None


def dsls_of(conn: Connection, urn: str) -> list[Person]:
    """The active DSLs who hold a school."""
    query = (sa.select(users.c.email, users.c.name).join(user_schools, user_schools.c.email == users.c.email)
             .where(user_schools.c.urn == urn, users.c.role == DSL, users.c.disabled.is_(False))
             .order_by(users.c.email))
    return [Person(e, n) for e, n in conn.execute(query)]


def dsl_schools(conn: Connection) -> dict[str, list[Person]]:
    """Every school some active DSL holds, with its DSLs."""
    query = (sa.select(user_schools.c.urn, users.c.email, users.c.name)
             .join(users, users.c.email == user_schools.c.email)
             .where(users.c.role == DSL, users.c.disabled.is_(False)).order_by(user_schools.c.urn, users.c.email))
    out: dict[str, list[Person]] = {}
    for urn, email, name in conn.execute(query):
        out.setdefault(urn, []).append(Person(email, name))
    return out


def people(conn: Connection, role: str, *, digest: bool = False) -> list[Person]:
    """The active users with a role (trust leaders keeping the weekly digest on, with ``digest``)."""
    query = sa.select(users.c.email, users.c.name).where(users.c.role == role, users.c.disabled.is_(False))
    if digest:
        query = query.where(users.c.weekly_digest.is_(True))
    return [Person(e, n) for e, n in conn.execute(query.order_by(users.c.email))]


def school_name(conn: Connection, urn: str) -> str:
    return conn.execute(sa.select(schools.c.name).where(schools.c.urn == urn)).scalar() or f"School {urn}"


# ---- Queueing --------------------------------------------------------------------------------------

def queue(conn: Connection, mail: texts.Mail, *, to: str, key: str, urn: str | None = None,
          at: datetime | None = None) -> int | None:
    """Add one email inside the caller's transaction; its id, or None when email is off or the
    same email (its kind, ``key`` and recipient) is already queued or sent."""
    if not enabled():
        return None
    at = at or utcnow()
    return conn.execute(
        upsert_insert(conn, outbox).values(
            kind=mail.kind, dedupe=dedupe(mail.kind, key, to), recipient=to, urn=urn, subject=mail.subject,
            body=mail.body, status=QUEUED, created_at=at, next_attempt_at=at, attempts=0,
        ).on_conflict_do_nothing(index_elements=["dedupe"]).returning(outbox.c.id)
    ).scalar()


def dedupe(kind: str, key: str, to: str) -> str:
    """What makes an email the same email: its kind, what it is about, and who it is for."""
    return f"{kind}:{key}:{to}"[:300]


def missing(conn: Connection, kind: str, key: str, recipients: list[Person]) -> list[Person]:
    """Those of ``recipients`` who have not been queued this email yet."""
    keys = {dedupe(kind, key, p.email): p for p in recipients}
    have = set(conn.execute(sa.select(outbox.c.dedupe).where(outbox.c.dedupe.in_(list(keys)))).scalars()) \
        if keys else set()
    return [p for k, p in keys.items() if k not in have]


def queue_receipt(conn: Connection, *, return_id: int, urn: str, year: str, term: str, version: int,
                  stored_at: datetime, by: str, source: str, queries_open: int) -> int:
    """A return was stored: a receipt to each of its school's DSLs. How many were queued."""
    if not enabled():
        return 0
    school = school_name(conn, urn)
    who = by if source == "web" else f"the trust ({source})"
    return sum(bool(queue(conn, texts.receipt(name=p.name, school=school, year=year, term=term, version=version,
                                         stored_at=stored_at, by=who, queries_open=queries_open),
                     to=p.email, key=str(return_id), urn=urn)) for p in dsls_of(conn, urn))


def queue_question(conn: Connection, *, item: int, urn: str, year: str, term: str, meeting: date) -> int:
    """The board raised a question about a school: an email to each of its DSLs."""
    if not enabled():
        return 0
    school = school_name(conn, urn)
    return sum(bool(queue(conn, texts.question(name=p.name, school=school, year=year, term=term, number=item,
                                               meeting=meeting), to=p.email, key=str(item), urn=urn))
               for p in dsls_of(conn, urn))


def queue_pack_ready(conn: Connection, *, year: str, term: str) -> int:
    """A pack for trustees was made: each trustee is told once per term that it is ready."""
    if not enabled():
        return 0
    return sum(bool(queue(conn, texts.pack_ready(name=p.name, year=year, term=term), to=p.email,
                          key=f"{year}:{term}")) for p in people(conn, TRUSTEE))


def queue_test(engine: Engine, *, to: str, name: str | None) -> int | None:
    """A test email to the person asking; its id, or None when email is off."""
    with writing(engine) as conn:
        return queue(conn, texts.test(name=name, asked_at=utcnow()), to=to, key=secrets.token_hex(8))


# ---- Sending ---------------------------------------------------------------------------------------

@dataclass
class Sent:
    """What one sending run did: how many were sent, failed (to be tried again), and given up
    (after a day of failures), with the reasons."""

    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    reasons: list[str] = field(default_factory=list)


def send_pending(engine: Engine, *, now: datetime | None = None, only: list[int] | None = None,
                 cfg: settings.MailSettings | None = None) -> Sent:
    """Send every email that is due (``only``: just these ids, if due); safe to run in several
    processes at once."""
    cfg = cfg or settings.mail()
    done = Sent()
    if not cfg.on:
        return done
    token = secrets.token_hex(16)
    while True:
        at = now or utcnow()
        rows = _claim(engine, at, token, only)
        if not rows:
            return done
        if not _send_batch(engine, rows, token, cfg, done, now):
            return done  # the server cannot be reached: the rest wait for the next run, unclaimed


def _claim(engine: Engine, at: datetime, token: str, only: list[int] | None) -> list[dict]:
    due = sa.or_(sa.and_(outbox.c.status == QUEUED, outbox.c.next_attempt_at <= at),
                 sa.and_(outbox.c.status == SENDING, outbox.c.claimed_at < at - LEASE))
    query = sa.select(outbox.c.id).where(due).order_by(outbox.c.id).limit(BATCH)
    if only is not None:
        query = query.where(outbox.c.id.in_(list(only)))
    with writing(engine) as conn:
        if not is_sqlite(conn):
            query = query.with_for_update(skip_locked=True)
        ids = conn.execute(query).scalars().all()
        if not ids:
            return []
        conn.execute(outbox.update().where(outbox.c.id.in_(ids)).values(status=SENDING, claim=token, claimed_at=at))
        return [dict(r) for r in conn.execute(sa.select(outbox).where(outbox.c.id.in_(ids))
                                              .order_by(outbox.c.id)).mappings()]


def _send_batch(engine: Engine, rows: list[dict], token: str, cfg, done: Sent, now: datetime | None) -> bool:
    """Send the claimed rows over one session; False when the session failed (the rows not sent
    wait for their next try)."""
    try:
        with Smtp(cfg) as smtp:
            for i, row in enumerate(rows):
                try:
                    smtp.send(message(cfg, recipient=row["recipient"], subject=row["subject"], body=row["body"],
                                      key=row["dedupe"]))
                except SendError as exc:
                    if not exc.whole_connection:
                        _failed(engine, [row], token, exc.reason, now or utcnow(), done)
                        continue
                    _failed(engine, rows[i:], token, exc.reason, now or utcnow(), done)
                    return False
                _mark(engine, row["id"], token, status=SENT, sent_at=now or utcnow(), last_error=None)
                done.sent += 1
    except SendError as exc:  # the session could not be opened: every row of the batch waits
        _failed(engine, rows, token, exc.reason, now or utcnow(), done)
        return False
    return True


def _mark(engine: Engine, item: int, token: str, **values) -> None:
    """Change a row this run claimed; nothing when another run has since taken it over."""
    with writing(engine) as conn:
        conn.execute(outbox.update().where(outbox.c.id == item, outbox.c.claim == token)
                     .values(claim=None, claimed_at=None, **values))


def _failed(engine: Engine, rows: list[dict], token: str, reason: str, at: datetime, done: Sent) -> None:
    for row in rows:
        attempts = row["attempts"] + 1
        first = row["first_failed_at"] or at
        if at - first >= GIVE_UP_AFTER:
            _mark(engine, row["id"], token, status=FAILED, attempts=attempts, first_failed_at=first,
                  last_error=reason)
            done.gave_up += 1
        else:
            _mark(engine, row["id"], token, status=QUEUED, attempts=attempts, first_failed_at=first,
                  last_error=reason, next_attempt_at=at + retry_after(attempts))
            done.failed += 1
        if reason not in done.reasons:
            done.reasons.append(reason)


def retry_after(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: a minute, doubling, at most an hour."""
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LONGEST_RETRY)


def send_again(engine: Engine, ids: list[int], *, user: str, source: str = "web") -> int:
    """Put failed emails back in the queue, to be sent on the next run (audited). How many."""
    with writing(engine) as conn:
        again = conn.execute(outbox.update().where(outbox.c.id.in_(list(ids)), outbox.c.status == FAILED).values(
            status=QUEUED, next_attempt_at=utcnow(), first_failed_at=None)).rowcount
        if again:
            write_audit(conn, actor=user, action=RETRY, outcome=DONE, source=source,
                        detail={"emails": sorted(int(i) for i in ids)})
    return again


def prune(engine: Engine, *, now: datetime | None = None) -> int:
    """Delete sent emails older than KEEP_SENT. How many."""
    with writing(engine) as conn:
        return conn.execute(outbox.delete().where(outbox.c.status == SENT,
                                                  outbox.c.sent_at < (now or utcnow()) - KEEP_SENT)).rowcount


# ---- What the pages read ---------------------------------------------------------------------------

def outbox_rows(engine: Engine, *, statuses: list[str] | None = None, limit: int = 500) -> pd.DataFrame:
    """The newest emails first (every column but the claim), optionally of some statuses."""
    query = sa.select(*(outbox.c[c] for c in COLUMNS)).order_by(outbox.c.id.desc()).limit(limit)
    if statuses is not None:
        query = query.where(outbox.c.status.in_(list(statuses)))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=COLUMNS)


def counts(engine: Engine) -> dict[str, int]:
    """How many emails are in each status."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)).all()
    return {status: 0 for status in STATUS_WORDS} | {s: int(n) for s, n in rows}


def failed_count(engine: Engine) -> int:
    """Emails given up on after a day of failures, waiting for a trust leader."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).where(outbox.c.status == FAILED)).scalar())


def weekly_digest(engine: Engine, email: str) -> bool | None:
    """Whether a user keeps the weekly digest on; None for no such user."""
    with engine.connect() as conn:
        return conn.execute(sa.select(users.c.weekly_digest).where(users.c.email == email.strip().lower())).scalar()


def set_weekly_digest(engine: Engine, email: str, on: bool, *, actor: str, source: str = "web") -> bool:
    """Turn a user's weekly digest on or off (audited); whether anything changed. LookupError for
    no such user."""
    email = email.strip().lower()
    with writing(engine) as conn:
        was = conn.execute(sa.select(users.c.weekly_digest).where(users.c.email == email).with_for_update()).first()
        if was is None:
            raise LookupError(f"There is no user {email}.")
        if bool(was[0]) == bool(on):
            return False
        conn.execute(users.update().where(users.c.email == email).values(weekly_digest=bool(on)))
        write_audit(conn, actor=actor, action=SET_DIGEST, outcome=DONE, source=source,
                    detail={"email": email, "old": bool(was[0]), "new": bool(on)})
    return True
