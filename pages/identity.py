"""Who is signed in: single sign-on, a local account, or a demonstration role.

Not a page. ``signed_in_user`` is the one place the rest of the dashboard learns who is using it
(tests stand in for it); ``gate`` draws whatever sign-in the trust has set up and stops the run
until someone is signed in.

- Single sign-on (OpenID Connect, e.g. Microsoft Entra ID or Google Workspace) when an ``[auth]``
  section is in `.streamlit/secrets.toml`: the signed-in email must belong to a user the trust
  has added; anyone else is politely turned away.
- Local accounts otherwise, once any user exists: email and password, attempts rate-limited.
- A demonstration, with a role switcher and a banner, only while the database holds nothing but
  the sample trust and no user exists. Once a real return is stored the dashboard will not serve
  anyone without a sign-in.
"""

from __future__ import annotations

import streamlit as st

from store import users
from store.access import DSL, ROLES, TRUST_LEADER, TRUSTEE
from store.overview import only_sample

DEMO_EMAIL = "demo@example.invalid"
STATE = "signed_in_email"


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
        if not getattr(st.user, "is_logged_in", False):
            return None
        return users.get_user(engine, str(st.user.email))
    email = st.session_state.get(STATE)
    return users.get_user(engine, email) if email else None


def gate(engine) -> users.User:
    """The signed-in, active user; otherwise draw the way in (or the refusal) and stop."""
    how = mode(engine)
    user = signed_in_user(engine)
    if user is not None and not user.disabled:
        if how == "demo":
            demo_banner(engine)
        elif how == "sso" and not st.session_state.get("sign_in_recorded"):
            _record_sso_sign_in(engine, user.email)
        return user
    st.title("Safeguarding governance")
    if how == "locked":
        st.error("This dashboard holds the trust's returns and nobody is set up to sign in yet. A trust "
                 "leader adds the first account on the server with `python -m store users add EMAIL "
                 "--role trust_leader --password-stdin`, or sets up single sign-on in "
                 "`.streamlit/secrets.toml`.", icon=":material/lock:")
    elif how == "sso":
        sso_sign_in(engine)
    else:
        local_sign_in(engine)
    st.stop()


def _record_sso_sign_in(engine, email: str) -> None:
    """Single sign-on happens at the provider; the dashboard records the first visit of a session."""
    from store.audit import write_audit
    from store.db import writing

    with writing(engine) as conn:
        write_audit(conn, actor=email, action="sign_in", outcome="accepted", detail={"by": "single sign-on"},
                    source=request_source())
    st.session_state["sign_in_recorded"] = True


def sso_sign_in(engine) -> None:
    if getattr(st.user, "is_logged_in", False):
        st.warning(f"You are signed in as {st.user.email}, but that address has no access to this dashboard. "
                   "Ask your trust's safeguarding lead or data officer to add you.", icon=":material/person_off:")
        st.button("Sign out", on_click=st.logout)
        return
    st.write("Sign in with your trust account to see the safeguarding returns.")
    st.button("Sign in", type="primary", on_click=st.login, icon=":material/login:")


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


def sign_out() -> None:
    st.session_state.pop(STATE, None)
    st.session_state.pop("demo_user", None)


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
