"""The people who may sign in: their roles and schools, local passwords, and rate-limited sign-in.

Passwords are hashed with scrypt (memory-hard, in the standard library) with a random salt per
user; the parameters travel in the hash string (``scrypt$n$r$p$salt$hash``) so they can be raised
later without breaking old hashes. A password is never stored, logged or audited in clear.

Removing a user disables them rather than deleting the row: the audit trail keeps naming someone
real, and a sign-in by that address is refused. Adding the address again brings it back.

Every change and every sign-in attempt is an audit row written in the same transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from loaders.values import Bad, read_urn
from store import sessions
from store.access import DSL, ROLES, TRUST_LEADER
from store.audit import ACCEPTED, DONE, REFUSED, REJECTED, utcnow, write_audit
from store.db import writing
from store.schema import login_attempts, user_schools, users

# 24 MiB and about 60 ms a check on a 2-core server: slow for a guesser, unnoticed at sign-in.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 12, 1
MAX_SCRYPT_N = 2**20  # refuse a stored hash that would ask for more memory than this allows
MIN_PASSWORD, MAX_PASSWORD = 12, 1024
# When sign-in is refused without checking the password (see verify_password):
# - an account from one address: after FAILURES_BEFORE_LOCK failures in a row, locked for
#   FIRST_LOCK, then twice as long after each further failure, up to LONGEST_LOCK. Only that
#   address is locked out: a stranger guessing cannot keep the owner out from anywhere else.
# - one address, any accounts: MAX_FAILURES_PER_SOURCE failures within WINDOW. A school's staff
#   often share one address, so this is looser than the limit on one account.
# - the whole trust: MAX_FAILURES_TRUST_WIDE failures within WINDOW, from anywhere or from no
#   known address, stop guessing spread over many addresses; a person signing in from an address
#   their account has signed in from before (store.sessions.KEEP_SESSIONS) still gets in.
FAILURES_BEFORE_LOCK = 5
FIRST_LOCK, LONGEST_LOCK = timedelta(minutes=1), timedelta(hours=1)
WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_SOURCE, MAX_FAILURES_TRUST_WIDE = 20, 100
KEEP_ATTEMPTS = timedelta(days=1)  # older attempts only live on in the audit
# Whose failures a refusal counted, and how the refusal says so.
ACCOUNT, ADDRESS, TRUST = "account", "address", "trust"
REFUSALS = {
    ACCOUNT: "Too many failed sign-ins for this account from this computer or network.",
    ADDRESS: "Too many failed sign-ins from this computer or network.",
    TRUST: "Too many failed sign-ins to this dashboard just now, from many places.",
}
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
NOT_AN_EMAIL = "(not an email address)"  # kept instead of text that may be a mistyped password
SIGN_IN, ADD, SET_ROLE, REMOVE, SET_PASSWORD, UNLOCK = (
    "sign_in", "add_user", "set_role", "remove_user", "set_password", "unlock")


class UserError(ValueError):
    """A request about users that cannot be done; the message is a plain sentence to show."""


class UnknownRole(UserError): pass  # noqa: E701
class NoSchool(UserError): pass  # noqa: E701
class BadEmail(UserError): pass  # noqa: E701
class DuplicateUser(UserError): pass  # noqa: E701
class UnknownUser(UserError): pass  # noqa: E701
class BadPassword(UserError): pass  # noqa: E701
class LastTrustLeader(UserError): pass  # noqa: E701


class TooManyAttempts(UserError):
    """Sign-in refused without checking the password: ``whose`` failures (ACCOUNT, ADDRESS or TRUST)
    and ``retry_after``, for how long."""

    def __init__(self, whose: str, retry_after: timedelta):
        self.whose, self.retry_after = whose, retry_after
        self.minutes = max(1, -(-int(retry_after.total_seconds()) // 60))
        words = f"Please wait {self.minutes} minute{'' if self.minutes == 1 else 's'} and try again."
        if whose == TRUST:
            words += " You can still sign in now from a computer or network you have signed in from before."
        super().__init__(f"{REFUSALS[whose]} {words}")


@dataclass(frozen=True)
class User:
    """Who signed in (or is being managed): what the pages and the access rules need to know."""

    email: str
    name: str | None
    role: str
    urns: tuple[str, ...]
    disabled: bool = False


def hash_password(password: str) -> str:
    """A new salted scrypt hash of ``password`` with its parameters, for the users table."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(_checked_password(password), salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)])


def password_matches(password: str, stored: str | None) -> bool:
    """Does ``password`` match the stored hash? False for no hash or a malformed one."""
    if not isinstance(password, str) or len(password) > 4 * MAX_PASSWORD:
        return False
    try:
        kind, n, r, p, salt, digest = (stored or "").split("$")
        n, r, p = int(n), int(r), int(p)
        if kind != "scrypt" or not (1 < n <= MAX_SCRYPT_N and 0 < r <= 32 and 0 < p <= 4):
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(_normalised(password), base64.b64decode(salt, validate=True), n, r, p, len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def add_user(engine: Engine, email: str, *, role: str, name: str | None = None, urns=(),
             password: str | None = None, actor: str, source: str | None = None) -> User:
    """Add a user (or bring back a removed one). No password: they sign in through single sign-on."""
    email, role, name = _checked_email(email), _checked_role(role), _checked_name(name)
    urns = _checked_urns(role, urns)
    hashed = None if password is None else hash_password(password)
    with writing(engine) as conn:
        old = _row(conn, email, lock=True)
        if old is not None and not old.disabled:
            raise DuplicateUser(f"{email} is already a user ({ROLES[old.role]}).")
        values = dict(name=name, role=role, password_hash=hashed, disabled=False)
        if old is None:
            conn.execute(users.insert().values(email=email, created_at=utcnow(), **values))
        else:
            conn.execute(users.update().where(users.c.email == email).values(**values))
        _set_urns(conn, email, urns)
        write_audit(conn, actor=actor, action=ADD, outcome=DONE, source=source, detail={
            "email": email, "role": role, "urns": list(urns), "name": name,
            "password": hashed is not None, "restored": old is not None})
    return User(email, name, role, urns)


def set_role(engine: Engine, email: str, role: str, *, urns=None, actor: str, source: str | None = None) -> User:
    """Change a user's role; ``urns`` None keeps a DSL's schools. Setting what is there does nothing."""
    email, role = _checked_email(email), _checked_role(role)
    with writing(engine) as conn:
        old = _current(conn, email)
        if urns is None and role == DSL and old.role == DSL:
            urns = old.urns
        new_urns = _checked_urns(role, () if urns is None else urns)
        if (role, new_urns) == (old.role, old.urns):
            return old
        if old.role == TRUST_LEADER and role != TRUST_LEADER:
            _keep_a_trust_leader(conn, email, "change the role of")
        conn.execute(users.update().where(users.c.email == email).values(role=role))
        _set_urns(conn, email, new_urns)
        write_audit(conn, actor=actor, action=SET_ROLE, outcome=DONE, source=source, detail={
            "email": email, "old_role": old.role, "role": role, "old_urns": list(old.urns), "urns": list(new_urns)})
    return User(email, old.name, role, new_urns)


def remove_user(engine: Engine, email: str, *, actor: str, source: str | None = None) -> None:
    """Disable a user: no sign-in, no password kept, no schools. The row stays for the audit's sake."""
    email = _checked_email(email)
    with writing(engine) as conn:
        old = _current(conn, email)
        if old.role == TRUST_LEADER:
            _keep_a_trust_leader(conn, email, "remove")
        conn.execute(users.update().where(users.c.email == email).values(disabled=True, password_hash=None))
        _set_urns(conn, email, ())
        sessions.end_all(conn, email, sessions.REMOVED)
        write_audit(conn, actor=actor, action=REMOVE, outcome=DONE, source=source,
                    detail={"email": email, "role": old.role, "urns": list(old.urns)})


def set_password(engine: Engine, email: str, password: str | None, *, actor: str, source: str | None = None) -> None:
    """Give a user a new local password (None: single sign-on only). Audited, never the password."""
    email = _checked_email(email)
    hashed = None if password is None else hash_password(password)
    with writing(engine) as conn:
        _current(conn, email)
        conn.execute(users.update().where(users.c.email == email).values(password_hash=hashed))
        sessions.end_all(conn, email, sessions.NEW_PASSWORD)  # a browser signed in with the old one
        write_audit(conn, actor=actor, action=SET_PASSWORD, outcome=DONE, source=source,
                    detail={"email": email, "password": hashed is not None})


def unlock(engine: Engine, email: str, *, actor: str, source: str | None = None) -> int:
    """Clear the failed sign-ins held against a user's account, from every address, so that they
    can sign in straight away. Audited. How many failures were cleared (0: it was not locked)."""
    email = _checked_email(email)
    with writing(engine) as conn:
        _current(conn, email)
        cleared = conn.execute(login_attempts.delete().where(
            login_attempts.c.email == email, login_attempts.c.success.is_(False))).rowcount
        write_audit(conn, actor=actor, action=UNLOCK, outcome=DONE, source=source,
                    detail={"email": email, "failures_cleared": cleared})
    return cleared


def get_user(engine: Engine, email: str) -> User | None:
    """The user with this email (removed ones too, marked disabled), or None."""
    try:
        email = _checked_email(email)
    except BadEmail:
        return None
    with engine.connect() as conn:
        return user_in(conn, email)


def user_in(conn: Connection, email: str) -> User | None:
    """The user with this (checked, lower-case) email, read in the caller's transaction."""
    row = _row(conn, email)
    return None if row is None else _user(conn, row)


def has_users(engine: Engine) -> bool:
    """Whether anyone has been added (disabled users count: once accounts exist, sign-in is on)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(users.c.email).limit(1)).first() is not None


def list_users(engine: Engine) -> pd.DataFrame:
    """Every user by email: email, name, role, urns (a tuple), password (a local one is set),
    disabled, created_at. Never the hash."""
    columns = ["email", "name", "role", "urns", "password", "disabled", "created_at"]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(users).order_by(users.c.email)).all()
        links = _all_urns(conn)
    frame = pd.DataFrame(
        [(r.email, r.name, r.role, links.get(r.email, ()), r.password_hash is not None, bool(r.disabled),
          r.created_at) for r in rows], columns=columns, dtype=object)
    return frame.astype({"password": bool, "disabled": bool})


def verify_password(engine: Engine, email: str, password: str, *, source: str | None) -> User | None:
    """Sign in: the user when the password is right, None when not (for any reason).

    Raises TooManyAttempts, unchecked, while the account is locked out from ``source`` (the
    client's address, None when unknown), while ``source`` has failed too often, or while the whole
    trust has (see FAILURES_BEFORE_LOCK and below it). Every attempt is recorded and audited. The
    attempt counts as a failure until the check succeeds, so a burst of parallel guesses cannot
    slip past the limit.
    """
    key, now = _attempt_key(email), utcnow()
    with writing(engine) as conn:
        # Locking the user's row queues parallel attempts on one account behind each other.
        row = _row(conn, key, lock=True)
        user = None if row is None else _user(conn, row)
        stored = row.password_hash if row is not None and not row.disabled else None
        refusal = _refusal(conn, key, source, now)
        attempt = conn.execute(login_attempts.insert().values(
            email=key, at=now, source=source, success=False, refused=refusal is not None)).inserted_primary_key[0]
        conn.execute(login_attempts.delete().where(login_attempts.c.at < now - KEEP_ATTEMPTS))
        if refusal is not None:
            write_audit(conn, actor=key, action=SIGN_IN, outcome=REFUSED, source=source, at=now,
                        detail={"reason": "too many failed attempts", "whose": refusal.whose})
    if refusal is not None:
        raise refusal
    # A dummy check when there is nothing to check, so the time taken does not say who exists.
    matches = password_matches(password, stored or _DUMMY_HASH) and stored is not None
    with writing(engine) as conn:
        if matches:
            conn.execute(login_attempts.update().where(login_attempts.c.id == attempt).values(success=True))
        write_audit(conn, actor=key, action=SIGN_IN, outcome=ACCEPTED if matches else REJECTED, source=source,
                    detail=None if matches else {"reason": _why_not(user, stored)})
    return user if matches else None


def lock_for(failures: int) -> timedelta:
    """How long an account stays locked out from an address after ``failures`` failures in a row."""
    if failures < FAILURES_BEFORE_LOCK:
        return timedelta(0)
    return min(FIRST_LOCK * 2 ** min(failures - FAILURES_BEFORE_LOCK, 32), LONGEST_LOCK)


def _refusal(conn: Connection, key: str, source: str | None, now) -> TooManyAttempts | None:
    failed = sa.and_(login_attempts.c.success.is_(False), login_attempts.c.refused.is_(False))
    recent = sa.and_(failed, login_attempts.c.at > now - WINDOW)
    same_source = login_attempts.c.source.is_(None) if source is None else login_attempts.c.source == source
    # This account from this address: every failure since the last success there counts.
    pair = sa.and_(login_attempts.c.email == key, same_source)
    last_success = sa.select(sa.func.max(login_attempts.c.at)).where(
        pair, login_attempts.c.success.is_(True)).scalar_subquery()
    failures, last = conn.execute(sa.select(sa.func.count(), sa.func.max(login_attempts.c.at)).where(
        failed, pair, sa.or_(last_success.is_(None), login_attempts.c.at > last_success))).one()
    if failures >= FAILURES_BEFORE_LOCK and now < last + lock_for(failures):
        return TooManyAttempts(ACCOUNT, last + lock_for(failures) - now)
    checks = [] if source is None else [(sa.and_(recent, login_attempts.c.source == source),
                                         MAX_FAILURES_PER_SOURCE, ADDRESS)]
    checks.append((recent, MAX_FAILURES_TRUST_WIDE, TRUST))
    for where, limit, whose in checks:
        times = conn.execute(sa.select(login_attempts.c.at).where(where)
                             .order_by(login_attempts.c.at.desc()).limit(limit)).scalars().all()
        if len(times) < limit:
            continue
        if whose == TRUST and sessions.signed_in_from(conn, key, source, now=now):
            continue  # the owner, from where they have signed in before
        return TooManyAttempts(whose, times[-1] + WINDOW - now)
    return None


def _why_not(user: User | None, stored: str | None) -> str:
    if user is None:
        return "no such user"
    if user.disabled:
        return "user removed"
    return "no local password" if stored is None else "wrong password"


def _attempt_key(email) -> str:
    text = str(email or "").strip().lower()
    return text if len(text) <= 254 and EMAIL.fullmatch(text) else NOT_AN_EMAIL


def _row(conn: Connection, email: str, *, lock: bool = False):
    query = sa.select(users).where(users.c.email == email)
    return conn.execute(query.with_for_update() if lock else query).first()


def _current(conn: Connection, email: str) -> User:
    row = _row(conn, email, lock=True)
    if row is None or row.disabled:
        raise UnknownUser(f"There is no user {email}." if row is None else f"{email} has been removed.")
    return _user(conn, row)


def _user(conn: Connection, row) -> User:
    urns = conn.execute(sa.select(user_schools.c.urn).where(user_schools.c.email == row.email)
                        .order_by(user_schools.c.urn)).scalars().all()
    return User(row.email, row.name, row.role, tuple(urns), bool(row.disabled))


def _all_urns(conn: Connection) -> dict[str, tuple[str, ...]]:
    links: dict[str, list[str]] = {}
    for email, urn in conn.execute(sa.select(user_schools).order_by(user_schools.c.email, user_schools.c.urn)):
        links.setdefault(email, []).append(urn)
    return {email: tuple(urns) for email, urns in links.items()}


def _set_urns(conn: Connection, email: str, urns: tuple[str, ...]) -> None:
    conn.execute(user_schools.delete().where(user_schools.c.email == email))
    if urns:
        conn.execute(user_schools.insert(), [{"email": email, "urn": urn} for urn in urns])


def _keep_a_trust_leader(conn: Connection, email: str, doing: str) -> None:
    others = conn.execute(sa.select(users.c.email).where(
        users.c.role == TRUST_LEADER, users.c.disabled.is_(False), users.c.email != email).with_for_update()).first()
    if others is None:
        raise LastTrustLeader(f"Cannot {doing} {email}: they are the trust's only trust leader, and someone "
                              "must be able to manage users. Add another trust leader first.")


def _checked_email(email) -> str:
    text = str(email or "").strip().lower()
    if len(text) > 254 or not EMAIL.fullmatch(text):
        raise BadEmail(f"{str(email)[:80]!r} is not an email address: use one like name@trust.org.uk.")
    return text


def _checked_role(role) -> str:
    if role not in ROLES:
        raise UnknownRole(f"{role!r} is not a role: use trust_leader, trustee or dsl.")
    return role


def _checked_name(name) -> str | None:
    text = " ".join(str(name).split()) if name is not None else ""
    if len(text) > 200:
        raise UserError("A name can be at most 200 characters long.")
    return text or None


def _checked_urns(role: str, urns) -> tuple[str, ...]:
    if isinstance(urns, (str, int)):
        urns = (urns,)
    clean = set()
    for urn in urns or ():
        result = read_urn(urn)
        if result is None or isinstance(result, Bad):
            raise UserError(f"{urn!r} is not a school's URN: a URN has 6 digits, e.g. 123456.")
        clean.add(result)
    if role == DSL and not clean:
        raise NoSchool("A DSL must hold at least one school: give its URN.")
    if role != DSL and clean:
        raise UserError(f"Only a DSL is linked to schools: a {ROLES[role].lower()} sees every school.")
    return tuple(sorted(clean))


def _checked_password(password) -> bytes:
    if not isinstance(password, str):
        raise BadPassword("A password must be text.")
    length = len(unicodedata.normalize("NFKC", password))
    if length < MIN_PASSWORD:
        raise BadPassword(f"A password needs at least {MIN_PASSWORD} characters; three random words "
                          "make a strong one that is easy to remember.")
    if length > MAX_PASSWORD:
        raise BadPassword(f"A password can be at most {MAX_PASSWORD} characters long.")
    return _normalised(password)


def _normalised(password: str) -> bytes:
    # The same password typed on a phone and on a laptop may arrive in different Unicode forms.
    return unicodedata.normalize("NFKC", password).encode("utf-8")


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, dklen: int = 32) -> bytes:
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=256 * n * r * p + 2**20)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


_DUMMY_HASH = "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(b"\0" * 16), _b64(b"\0" * 32)])
