"""Who single sign-on says a person is, and whether they may come in.

The provider's ID token carries claims; which of them names the person differs by provider.
Google sends ``email`` with ``email_verified``. Microsoft Entra ID always sends
``preferred_username`` (the user principal name, usually the work address) and leaves ``email``
out for an account without a mailbox. So the address is, in order:

1. ``email``, when it is an email address and the provider, if it sends ``email_verified``,
   says true;
2. otherwise ``preferred_username``, then ``upn``, when it is an email address.

The address is matched to a user case-insensitively (addresses are stored in lower case). With
``ALLOWED_EMAIL_DOMAINS`` set, an address outside those domains is refused even when a user with
it exists: a guard against a tenant set up wrongly. No usable address is a plain sentence saying
what the provider sent and what to ask the trust's IT to change, never an error.

Every sign-in through the provider, let in or refused, and every sign-out goes on the record of
changes. No Streamlit here: the page passes in the claims it was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import Engine

import settings
from store.audit import ACCEPTED, DONE, REFUSED, write_audit
from store.db import writing
from store.users import EMAIL, SIGN_IN, User, get_user

SIGN_OUT = "sign_out"
BY = "single sign-on"
NO_ADDRESS = "(no email address from single sign-on)"  # the record's actor when none was usable
# Claims that may name the person, in the order they are tried.
EMAIL_CLAIM, USERNAME_CLAIMS = "email", ("preferred_username", "upn")
# Refusals, as the record of changes names them.
NO_IDENTITY, OUTSIDE_DOMAINS, NO_SUCH_USER, REMOVED = (
    "no email address", "outside the allowed domains", "no such user", "user removed")


@dataclass(frozen=True)
class SignIn:
    """What came of a sign-in: ``user`` when let in, else ``reason`` and a ``message`` to show."""

    email: str | None  # the address used, lower case; None when the provider sent none usable
    claim: str | None  # the claim it came from
    user: User | None = None
    reason: str | None = None
    message: str | None = None


def is_email(value) -> bool:
    return isinstance(value, str) and len(value.strip()) <= 254 and EMAIL.fullmatch(value.strip()) is not None


def verified(claims: Mapping) -> bool:
    """Whether the provider vouches for ``email``: true, or not said at all."""
    if "email_verified" not in claims:
        return True
    flag = claims["email_verified"]
    return flag is True or (isinstance(flag, str) and flag.strip().lower() == "true")


def claimed_email(claims: Mapping) -> tuple[str | None, str | None]:
    """(the address in lower case, the claim it came from), or (None, None)."""
    if is_email(claims.get(EMAIL_CLAIM)) and verified(claims):
        return claims[EMAIL_CLAIM].strip().lower(), EMAIL_CLAIM
    for name in USERNAME_CLAIMS:
        if is_email(claims.get(name)):
            return claims[name].strip().lower(), name
    return None, None


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[1]


def resolve(engine: Engine, claims: Mapping, allowed_domains: frozenset[str] | None = None) -> SignIn:
    """Who these claims name and whether they may come in. ``allowed_domains`` defaults to the
    ALLOWED_EMAIL_DOMAINS setting."""
    email, claim = claimed_email(claims)
    if email is None:
        return SignIn(None, None, reason=NO_IDENTITY, message=no_identity_message(claims))
    allowed = settings.allowed_email_domains() if allowed_domains is None else allowed_domains
    if allowed and domain_of(email) not in allowed:
        listed = " or ".join(f"@{d}" for d in sorted(allowed))
        return SignIn(email, claim, reason=OUTSIDE_DOMAINS, message=(
            f"You are signed in as {email}, but this dashboard only lets in addresses ending {listed}. "
            "If you meant to use your trust account, sign out and sign in with it. If this is your trust "
            "account, ask your trust's IT to check how single sign-on is set up for the dashboard."))
    user = get_user(engine, email)
    if user is None or user.disabled:
        return SignIn(email, claim, reason=REMOVED if user is not None else NO_SUCH_USER, message=(
            f"You are signed in as {email}, but that address has no access to this dashboard. Ask your "
            "trust's safeguarding lead or data officer to add you."))
    return SignIn(email, claim, user=user)


def no_identity_message(claims: Mapping) -> str:
    """What the provider sent instead of a usable address, and what the trust's IT can change."""
    sent = []
    if EMAIL_CLAIM not in claims:
        sent.append("no email address")
    elif not is_email(claims[EMAIL_CLAIM]):
        sent.append(f"an email “{_shown(claims[EMAIL_CLAIM])}” that is not an email address")
    else:
        sent.append(f"the email {_shown(claims[EMAIL_CLAIM])} marked as not verified")
    names = [name for name in USERNAME_CLAIMS if name in claims]
    if not names:
        sent.append("no user name")
    for name in names:
        word = "user name" if name == "preferred_username" else "user principal name"
        sent.append(f"a {word} “{_shown(claims[name])}” that is not an email address")
    return (
        "Your trust's sign-in service knows who you are, but did not tell the dashboard your email address: "
        f"it sent {_listed(sent)}. Ask your trust's IT to send a verified email address when you sign in. "
        "In Microsoft Entra ID, the account needs a user principal name that is your email address, or "
        "an email address of its own (a mailbox); in Google Workspace, sign in with your school or trust "
        "account. Then sign in again.")


def record_sign_in(engine: Engine, outcome: SignIn, *, claims: Mapping, source: str | None,
                   ended: str | None = None) -> None:
    """Put a sign-in through the provider on the record, let in or refused. ``ended`` says why the
    dashboard's session for this sign-in is over (store.sessions), when the identity cookie is sent
    again after that: refused, whatever the provider vouched for."""
    detail = {"by": BY, "claim": outcome.claim}
    let_in = outcome.user is not None and ended is None
    if outcome.user is not None and ended is not None:
        detail["reason"] = f"a sign-in whose session had ended ({ended})"
    elif outcome.user is None:
        detail["reason"] = outcome.reason
        if outcome.email is None:  # what came instead: the claims' names, never their values
            detail["claims"] = sorted(str(k) for k in claims if k not in ("tokens", "is_logged_in"))
    with writing(engine) as conn:
        write_audit(conn, actor=outcome.email or NO_ADDRESS, action=SIGN_IN,
                    outcome=ACCEPTED if let_in else REFUSED, detail=detail, source=source)


def record_sign_out(engine: Engine, email: str, *, by: str = BY, source: str | None) -> None:
    """Put a sign-out on the record."""
    with writing(engine) as conn:
        write_audit(conn, actor=email, action=SIGN_OUT, outcome=DONE, detail={"by": by}, source=source)


def _shown(value) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 80 else text[:79] + "…"


def _listed(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
