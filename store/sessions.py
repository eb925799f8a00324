"""Sessions: a browser signed in with a local password stays signed in across reloads and new tabs
until its person signs out or leaves it unused for SESSION_IDLE_HOURS.

The browser holds a random 256-bit token in an HttpOnly cookie (ui/serving.py sets it); the
database keeps only the token's SHA-256, so neither a copy of the database nor its backups can sign
anyone in. Every page asks ``resolve`` who the token belongs to: an ended session, an idle one, or a
removed person signs in nobody, whenever and however often the cookie is sent again.

No Streamlit or web framework here: the callers pass the token they were given.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

import settings
from store import users as store_users
from store.audit import utcnow
from store.db import trouble, writing
from store.schema import sessions, users

SIGNED_OUT, IDLE, REMOVED, NEW_PASSWORD = "signed out", "idle", "removed", "new password"
# Ended sessions are kept this long after their last use: the sign-in limits ask where an account
# has signed in from before (store.users), and a single sign-on identity cookie, which its provider's
# sign-in makes good for 30 days (and Streamlit reads for a day more), must still find its ended
# session however long ago it was last used.
KEEP_SESSIONS = timedelta(days=32)
TOKEN_BYTES = 32

log = logging.getLogger("dashboard")


@dataclass(frozen=True)
class Seen:
    """What a session token comes to: the user while the session lasts, otherwise why not
    (``ended``: "signed out", "idle", "removed", "new password"; None for a token never issued)."""

    user: store_users.User | None
    ended: str | None = None


def idle_limit() -> timedelta:
    return timedelta(hours=settings.session_idle_hours())


def start(engine: Engine, email: str, *, source: str | None, now: datetime | None = None) -> str:
    """A new session for the user ``email`` (already checked): the token for the cookie."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    bind(engine, token, email, source=source, now=now)
    return token


def bind(engine: Engine, token: str, email: str, *, source: str | None, now: datetime | None = None) -> None:
    """A new session for ``email`` under a token issued elsewhere: single sign-on's identity cookie,
    which the provider's sign-in sets. From then on ``resolve`` and ``end`` treat it as any session,
    so signing out or leaving it idle ends it here whatever that cookie still says. A token already
    bound (two tabs opened at once) is left as it is."""
    now, key = now or utcnow(), token_hash(token)
    try:
        with writing(engine) as conn:
            if conn.execute(sa.select(sessions.c.token_hash).where(sessions.c.token_hash == key)).first() is None:
                conn.execute(sessions.insert().values(token_hash=key, email=email, created_at=now,
                                                      last_seen_at=now, source=source))
            conn.execute(sessions.delete().where(sessions.c.last_seen_at < now - KEEP_SESSIONS))
    except sa.exc.IntegrityError:
        pass  # bound meanwhile by another tab's first run: that one stands


def resolve(engine: Engine, token: str | None, *, idle: timedelta | None = None,
            now: datetime | None = None) -> Seen:
    """Who ``token`` signs in now. A session unused for longer than ``idle`` (default
    SESSION_IDLE_HOURS) is ended here; a live one is marked as used (at most every few seconds to a
    minute, so that a page's reruns do not each write)."""
    if not token:
        return Seen(None)
    idle, now, key = idle or idle_limit(), now or utcnow(), token_hash(token)
    with engine.connect() as conn:
        row = conn.execute(sa.select(sessions, users.c.disabled).join(users, users.c.email == sessions.c.email)
                           .where(sessions.c.token_hash == key)).first()
        if row is None:
            return Seen(None)
        if row.ended_at is not None:
            return Seen(None, row.ended_why)
        if row.disabled:
            _end(engine, key, REMOVED, now)
            return Seen(None, REMOVED)
        if now - row.last_seen_at > idle:
            _end(engine, key, IDLE, now, row.last_seen_at + idle)
            return Seen(None, IDLE)
        user = store_users.user_in(conn, row.email)
    if now - row.last_seen_at >= min(timedelta(minutes=1), idle / 20):
        _touch(engine, key, now)
    return Seen(user)


def end(engine: Engine, token: str | None, *, why: str = SIGNED_OUT, now: datetime | None = None) -> str | None:
    """End the session ``token`` belongs to; the email it signed in, or None when there was no live
    session. The cookie, sent again, signs nobody in."""
    if not token:
        return None
    now, key = now or utcnow(), token_hash(token)
    with writing(engine) as conn:
        email = conn.execute(sa.select(sessions.c.email).where(
            sessions.c.token_hash == key, sessions.c.ended_at.is_(None))).scalar()
        if email is not None:
            _ended(conn, sessions.c.token_hash == key, why, now)
    return email


def end_all(conn: Connection, email: str, why: str, now: datetime | None = None) -> int:
    """End every live session of ``email`` in the caller's transaction; how many there were."""
    return _ended(conn, sessions.c.email == email, why, now or utcnow())


def signed_in_from(conn: Connection, email: str, source: str | None, *, now: datetime) -> bool:
    """Whether ``email`` signed in from the address ``source`` within KEEP_SESSIONS."""
    if source is None:
        return False
    return conn.execute(sa.select(sessions.c.token_hash).where(
        sessions.c.email == email, sessions.c.source == source,
        sessions.c.created_at > now - KEEP_SESSIONS).limit(1)).first() is not None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _ended(conn: Connection, where, why: str, at: datetime) -> int:
    return conn.execute(sessions.update().where(where, sessions.c.ended_at.is_(None))
                        .values(ended_at=at, ended_why=why)).rowcount


def _end(engine: Engine, key: str, why: str, now: datetime, at: datetime | None = None) -> None:
    with writing(engine) as conn:
        _ended(conn, sessions.c.token_hash == key, why, at or now)


def _touch(engine: Engine, key: str, now: datetime) -> None:
    """Mark a session as used. On a database that cannot be written just now (read-only, full,
    busy) the pages still read: the session is simply not extended this time."""
    try:
        with writing(engine) as conn:
            conn.execute(sessions.update().where(sessions.c.token_hash == key, sessions.c.ended_at.is_(None))
                         .values(last_seen_at=now))
    except Exception as exc:  # noqa: BLE001 - a fault of the database is logged; a bug of ours is raised
        if trouble(exc) is None:
            raise
        log.warning("Could not mark a session as used: %s", trouble(exc))
