"""Who is signed in: single sign-on, a local account, or a demonstration role.

Not a page. ``signed_in_user`` is the one place the rest of the dashboard learns who is using it
(tests stand in for it); ``gate`` draws whatever sign-in the trust has set up and stops the run
until someone is signed in.

- Single sign-on (OpenID Connect, e.g. Microsoft Entra ID or Google Workspace) when an ``[auth]``
  section is in `.streamlit/secrets.toml`: the address the provider vouches for (store/sso.py says
  which claim) must belong to a user the trust has added, within ALLOWED_EMAIL_DOMAINS when that
  is set; anyone else is politely turned away with a sentence saying why.
- Local accounts otherwise, once any user exists: email and password, attempts rate-limited.
- A demonstration, with a role switcher and a banner, only while the database holds nothing but
  the sample trust and no user exists. Once a real return is stored the dashboard will not serve
  anyone without a sign-in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from store import sso, users
from store.access import DSL, ROLES, TRUST_LEADER, TRUSTEE
from store.db import trouble
from store.overview import only_sample

DEMO_EMAIL = "demo@example.invalid"
STATE = "signed_in_email"
SSO_RECORDED = "sign_in_recorded"  # (address, let in) of this session's sign-in put on record
# What st.user holds besides the provider's claims.
NOT_CLAIMS = ("is_logged_in", "tokens", "provider")

log = logging.getLogger("dashboard")


def sso_configured() -> bool:
    """An [auth] section in the secrets: single sign-on is the way in."""
    try:
        return "auth" in st.secrets and hasattr(st.secrets["auth"], "keys")
    except Exception:  # noqa: BLE001 - no secrets file at all: no single sign-on
        return False


def mode(engine) -> str:
    """"sso", "local", "demo" or "locked" (real data, nobody set up to sign in)."""
    if sso_configured():
        return "sso"
    if users.has_users(engine):
        return "local"
    return "demo" if only_sample(engine) else "locked"


def signed_in_user(engine) -> users.User | None:
    """The signed-in person, or None. In a demonstration, the role being tried."""
    how = mode(engine)
    if how == "demo":
        return st.session_state.get("demo_user") or users.User(DEMO_EMAIL, "Demonstration", TRUST_LEADER, ())
    if how == "sso":
        outcome = sso_sign_in_outcome(engine)
        return outcome.user if outcome is not None else None
    email = st.session_state.get(STATE)
    return users.get_user(engine, email) if email else None


def sso_claims() -> dict | None:
    """The provider's claims about the person signed in through it, or None."""
    info = st.user.to_dict()
    if not info.get("is_logged_in"):
        return None
    return {key: value for key, value in info.items() if key not in NOT_CLAIMS}


def sso_sign_in_outcome(engine) -> sso.SignIn | None:
    """Who single sign-on says is here and whether they may come in; None before signing in."""
    claims = sso_claims()
    return None if claims is None else sso.resolve(engine, claims)


def gate(engine, *, before_stop: Callable[[], object] | None = None) -> users.User:
    """The signed-in, active user; otherwise draw the way in (or the refusal) and stop.

    ``before_stop`` runs before the run stops without a user: the frame registers its page list
    there, hidden, so that a stopped run never falls back to listing the files in pages/.
    """
    how = mode(engine)
    try:
        user = signed_in_user(engine)
        if how == "sso":
            _record_sso_sign_in(engine)
    except Exception as exc:  # noqa: BLE001 - a bug of ours: an apology, never a traceback
        if trouble(exc) is not None:
            raise  # the database's own fault: the frame says what it means
        log.exception("Failed while checking who is signed in")
        user, how = None, "failed"
    if user is not None and not user.disabled:
        if how == "demo":
            demo_banner(engine)
        return user
    if before_stop is not None:
        before_stop()
    st.title("Safeguarding governance")
    if how == "failed":
        st.error("Sorry: something went wrong on our side while checking who you are. Please reload the "
                 "page; if it happens again, tell your trust's data officer.", icon=":material/error:")
    elif how == "locked":
        st.error("This dashboard holds the trust's returns and nobody is set up to sign in yet. A trust "
                 "leader adds the first account on the server with `python -m store users add EMAIL "
                 "--role trust_leader --password-stdin`, or sets up single sign-on in "
                 "`.streamlit/secrets.toml`.", icon=":material/lock:")
    elif how == "sso":
        sso_sign_in(engine)
    else:
        local_sign_in(engine)
    st.stop()


def _record_sso_sign_in(engine) -> None:
    """Single sign-on happens at the provider; the dashboard records the first visit of a session,
    let in or turned away (and again should that change within the session)."""
    claims = sso_claims()
    if claims is None:
        return
    outcome = sso.resolve(engine, claims)
    seen = (outcome.email, outcome.user is not None)
    if st.session_state.get(SSO_RECORDED) != seen:
        sso.record_sign_in(engine, outcome, claims=claims, source=request_source())
        st.session_state[SSO_RECORDED] = seen


def sso_sign_in(engine) -> None:
    outcome = sso_sign_in_outcome(engine)
    if outcome is not None:  # signed in at the provider, but not let in
        icon = ":material/badge:" if outcome.email is None else ":material/person_off:"
        st.warning(plain(outcome.message), icon=icon)
        st.button("Sign out", on_click=st.logout, icon=":material/logout:")
        return
    st.write("Sign in with your trust account to see the safeguarding returns.")
    st.button("Sign in", type="primary", on_click=st.login, icon=":material/login:")


def sso_sign_out(engine, email: str) -> None:
    """Sign out here and, where the provider offers an end-session endpoint, there too (Streamlit's
    logout route sends the browser to it)."""
    sso.record_sign_out(engine, email, source=request_source())
    st.session_state.pop(SSO_RECORDED, None)
    st.logout()


def plain(text: str) -> str:
    """Text shown as it is: what a provider sent is not read as Markdown (pages.common.literal)."""
    from pages.common import literal  # common imports this module

    return literal(text)


def local_sign_in(engine) -> None:
    with st.form("sign_in"):
        st.write("Sign in to see the safeguarding returns.")
        email = st.text_input("Email")
        password = st.text_input("Password", type="password")
        pressed = st.form_submit_button("Sign in", type="primary")
    if not pressed:
        return
    try:
        user = users.verify_password(engine, email, password, source=request_source())
    except users.TooManyAttempts as exc:
        st.error(str(exc), icon=":material/timer:")
        return
    if user is None:
        st.error("That email and password do not match an account here.", icon=":material/block:")
        return
    st.session_state[STATE] = user.email
    st.rerun()


def sign_out(engine=None) -> None:
    email = st.session_state.pop(STATE, None)
    st.session_state.pop("demo_user", None)
    if engine is not None and email:
        sso.record_sign_out(engine, email, by="password", source=request_source())


def demo_banner(engine) -> None:
    st.info("**Demonstration.** This dashboard holds only the made-up sample trust, so nobody needs to "
            "sign in. Try it as each kind of user below. Once a trust stores a real return, everyone "
            "signs in.", icon=":material/science:")


def demo_role_switcher(schools: dict[str, str]) -> None:
    """In the sidebar of a demonstration: try the dashboard as each role."""
    choices = [TRUST_LEADER, TRUSTEE] + [f"{DSL}:{u}" for u in sorted(schools, key=schools.get)]

    def word(choice: str) -> str:
        if choice.startswith(f"{DSL}:"):
            return f"DSL at {schools.get(choice.split(':', 1)[1], choice)}"
        return ROLES[choice]

    choice = st.sidebar.selectbox("Try it as", choices, format_func=word, key="demo_role", bind="query-params")
    role, _, urn = choice.partition(":")
    st.session_state["demo_user"] = users.User(DEMO_EMAIL, word(choice), role, (urn,) if urn else ())


def request_source() -> str | None:
    try:
        address = st.context.ip_address
    except Exception:  # noqa: BLE001 - not every server tells us where a request came from
        return None
    return address if isinstance(address, str) else None
