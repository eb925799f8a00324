"""Who is signed in: single sign-on, a local account, or a demonstration role.

Not a page. ``signed_in_user`` is the one place the rest of the dashboard learns who is using it
(tests stand in for it); ``gate`` draws whatever sign-in the trust has set up and stops the run
until someone is signed in.

- Single sign-on (OpenID Connect, e.g. Microsoft Entra ID or Google Workspace) when an ``[auth]``
  section is in `.streamlit/secrets.toml`: the address the provider vouches for (store/sso.py says
  which claim) must belong to a user the trust has added, within ALLOWED_EMAIL_DOMAINS when that
  is set; anyone else is politely turned away with a sentence saying why.
- Local accounts otherwise, once any user exists: email and password, attempts limited. The form
  posts to the server's sign-in route (ui/serving.py), which sets an HttpOnly session cookie;
  each run reads that cookie and asks store/sessions.py whose session it is, so a sign-in holds
  across reloads and new tabs until its person signs out or leaves it unused too long.
- A demonstration, with a role switcher and a banner, only while the database holds nothing but
  the sample trust and no user exists. A trial upload made in the demonstration for one of the
  sample trust's schools is kept as demonstration data (store.overview.only_sample), so the
  dashboard stays a demonstration. Once a real return is stored the dashboard will not serve
  anyone without a sign-in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from html import escape
from urllib.parse import urlencode, urlsplit

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import settings
from store import db, sessions, sso, users
from store.access import DSL, ROLES, TRUST_LEADER, TRUSTEE
from store.db import trouble
from store.overview import DEMO_USER, only_sample
from ui import look, serving

DEMO_EMAIL = DEMO_USER  # every demonstration role is this user: what it uploads stays demonstration data
SEEN = "session_seen"  # what this run's session cookie came to (store.sessions.Seen)
SSO_SEEN = "sso_session_seen"  # the same for a single sign-on
SSO_COOKIE = "_streamlit_user"  # Streamlit's identity cookie, set by the provider's sign-in
SIGN_OUT_FAILED = "sign_out_failed"
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
    """"sso", "local", "demo" or "locked" (real data, nobody set up to sign in): worked out once
    in a page's run (every element that shows who is signed in asks), and again after any write this
    process made during it (the first account added ends the demonstration)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return _mode(engine)
    # Streamlit gives each run a fresh ``cursors`` dict, held here so no later run is taken for it
    run, since = ctx.cursors, (str(engine.url), db.writes_made_here())
    held = getattr(ctx, _MODE_IN_RUN, None)
    if held is None or held[0] is not run or held[1] != since:
        held = (run, since, _mode(engine))
        setattr(ctx, _MODE_IN_RUN, held)
    return held[2]


_MODE_IN_RUN = "_dashboard_sign_in_mode"


def _mode(engine) -> str:
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
        return sso_session(engine).user
    return session(engine).user


def session(engine, *, fresh: bool = False) -> sessions.Seen:
    """What this browser's session cookie comes to: looked up afresh at the start of every run (by
    ``gate``), then kept for the rest of the run."""
    if fresh or SEEN not in st.session_state:
        st.session_state[SEEN] = sessions.resolve(engine, session_token())
    return st.session_state[SEEN]


def session_token() -> str | None:
    """The session cookie the browser sent when this page was opened (HttpOnly: the server sees it,
    no script in the page can)."""
    try:
        url = st.context.url
    except Exception:  # noqa: BLE001 - no browser behind this run (a test): no cookie
        url = None
    return cookie(serving.cookie_name(isinstance(url, str) and url.startswith("https:")))


def cookie(name: str) -> str | None:
    """A cookie the browser sent when this page was opened, or None."""
    try:
        value = st.context.cookies.get(name)
    except Exception:  # noqa: BLE001 - no browser behind this run (a test)
        return None
    return value if isinstance(value, str) and value else None


def sso_session(engine, *, fresh: bool = False) -> sessions.Seen:
    """What single sign-on comes to for this browser: the person the provider vouches for, let in,
    while the dashboard's own session for this sign-in lasts.

    The provider's sign-in leaves Streamlit's identity cookie, good for 30 days whatever happens
    here. So the first run after a sign-in binds a session on the server to that cookie (its
    SHA-256 only), and every run asks ``store.sessions`` about it as about a password's session:
    once its person signs out, or leaves it unused for SESSION_IDLE_HOURS, or is removed, the same
    cookie sent again lets nobody in. Looked up afresh at the start of every run (by ``gate``)."""
    if fresh or SSO_SEEN not in st.session_state:
        outcome = sso_sign_in_outcome(engine)
        if outcome is None or outcome.user is None:
            seen = sessions.Seen(None)
        else:
            token = sso_token()
            # Streamlit knows the person only from that cookie, so a server has it whenever it has
            # claims; only a run with no browser behind it (a test) has claims and no cookie.
            seen = sessions.resolve(engine, token) if token else sessions.Seen(outcome.user)
            if token and seen.user is None and seen.ended is None:  # this sign-in's first run
                sessions.bind(engine, token, outcome.user.email, source=request_source())
                seen = sessions.Seen(outcome.user)
        st.session_state[SSO_SEEN] = seen
    return st.session_state[SSO_SEEN]


def sso_token() -> str | None:
    """Streamlit's identity cookie as the browser sent it (split into numbered chunks when long),
    or None."""
    try:
        sent = dict(st.context.cookies)
    except Exception:  # noqa: BLE001 - no browser behind this run (a test): no cookie
        return None
    chunks = sorted((int(name[len(SSO_COOKIE) + 2:]), value) for name, value in sent.items()
                    if name.startswith(SSO_COOKIE + "__") and name[len(SSO_COOKIE) + 2:].isdigit())
    first = sent.get(SSO_COOKIE)
    return "".join([first] + [value for _, value in chunks]) if isinstance(first, str) and first else None


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
    user, how = _signed_in(engine)
    if user is not None and not user.disabled:
        if how == "demo":
            demo_banner()
        if st.session_state.get(SIGN_OUT_FAILED):
            st.error(f"You are still signed in. {st.session_state.pop(SIGN_OUT_FAILED)}", icon=":material/logout:")
        return user
    if before_stop is not None:
        before_stop()
    _way_in(engine, how)
    st.stop()


def _signed_in(engine) -> tuple[users.User | None, str]:
    """Who is signed in (None for nobody), and how people come in: the mode, or "failed" when a
    bug of ours stopped us finding out."""
    how = mode(engine)
    try:
        if how == "local":
            session(engine, fresh=True)
        elif how == "sso":
            sso_session(engine, fresh=True)
        user = signed_in_user(engine)
        if how == "sso":
            _record_sso_sign_in(engine)
    except Exception as exc:  # noqa: BLE001 - a bug of ours: an apology, never a traceback
        if trouble(exc) is not None:
            raise  # the database's own fault: the frame says what it means
        log.exception("Failed while checking who is signed in")
        return None, "failed"
    return user, how


def _way_in(engine, how: str) -> None:
    """The page for someone not (or no longer) let in: the way to sign in, or why there is none."""
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


def _record_sso_sign_in(engine) -> None:
    """Single sign-on happens at the provider; the dashboard records the first visit of a session,
    let in or turned away (and again should that change within the session)."""
    claims = sso_claims()
    if claims is None:
        return
    outcome = sso.resolve(engine, claims)
    ended = sso_session(engine).ended if outcome.user is not None else None
    seen = (outcome.email, outcome.user is not None and ended is None)
    if st.session_state.get(SSO_RECORDED) != seen:
        sso.record_sign_in(engine, outcome, claims=claims, source=request_source(), ended=ended)
        st.session_state[SSO_RECORDED] = seen


def sso_sign_in(engine) -> None:
    outcome = sso_sign_in_outcome(engine)
    ended = sso_session(engine).ended
    if outcome is not None and outcome.user is not None and ended is not None:
        # let in by the provider, but this sign-in's session has ended here: a fresh sign-in
        _ended_notice(ended)
        st.button("Sign in", type="primary", on_click=st.login, icon=":material/login:")
        return
    if outcome is not None:  # signed in at the provider, but not let in
        icon = ":material/badge:" if outcome.email is None else ":material/person_off:"
        st.warning(plain(outcome.message), icon=icon)
        st.button("Sign out", on_click=st.logout, icon=":material/logout:")
        return
    st.write("Sign in with your trust account to see the safeguarding returns.")
    st.button("Sign in", type="primary", on_click=st.login, icon=":material/login:")


def sso_sign_out(engine, email: str) -> None:
    """Sign out here, ending this sign-in's session on the server, and, where the provider offers an
    end-session endpoint, there too (Streamlit's logout route sends the browser to it)."""
    if _end_session(engine, sso_token()) is False:
        return
    sso.record_sign_out(engine, email, source=request_source())
    st.session_state.pop(SSO_RECORDED, None)
    st.session_state.pop(SSO_SEEN, None)
    st.logout()


def plain(text: str) -> str:
    """Text shown as it is: what a provider sent is not read as Markdown (ui.shell.literal)."""
    from ui.shell import literal  # common imports this module

    return literal(text)


# What the sign-in route's notice (ui/serving.py) and an ended session say on the sign-in page.
NOTICES = {
    serving.MISMATCH: "That email and password do not match an account here.",
    serving.FAULT: "Sorry: something went wrong on our side while signing you in. Please try again; if it happens "
                   "again, tell your trust's data officer.",
    serving.SSO: "This dashboard signs people in through the trust's single sign-on.",
}
ENDED = {
    sessions.SIGNED_OUT: "You have signed out.",
    sessions.NEW_PASSWORD: "Your password has been changed, so please sign in again with the new one.",
}


def local_sign_in(engine) -> None:
    """The sign-in form: a plain form that posts to the server's sign-in route, so that the answer
    can set the session cookie and the browser's password manager knows the fields."""
    said = sign_in_notice()
    if said is not None:
        st.error(said, icon=":material/block:")
    else:
        _ended_notice(session(engine).ended)
    if not serving.mounted():
        st.error("This dashboard was started without its sign-in service, so nobody can sign in. Whoever runs the "
                 "server should start it with `make run` (or `streamlit run app.py`), not `streamlit run "
                 "dashboard.py`.", icon=":material/error:")
        return
    st.write("Sign in to see the safeguarding returns.")
    st.html(sign_in_form(_here()))


def _ended_notice(ended: str | None) -> None:
    """Why this browser's session ended, on the way back in (nothing for one never started)."""
    if ended == sessions.IDLE:
        hours = f"{settings.session_idle_hours():g}"
        st.info(f"You were signed out after {hours} hour{'' if hours == '1' else 's'} without using the dashboard. "
                "Please sign in again.", icon=":material/timer:")
    elif ended in ENDED:
        st.info(ENDED[ended], icon=":material/logout:")


def sign_in_form(back: str) -> str:
    """The form, posting to the sign-in route and naming the page to come back to."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    action = (f"/{base}" if base else "") + serving.SIGN_IN_PATH
    # Fields and button at least 44 px high (WCAG 2.5.8 asks 24); the fields' border 3.5:1 on white.
    return f"""<style>
.sign-in {{max-width: 24rem}}
.sign-in label {{display: block; font-size: 0.875rem; margin: 0.75rem 0 0.25rem}}
.sign-in input {{width: 100%; min-height: 2.75rem; box-sizing: border-box; padding: 0.5rem 0.75rem; font: inherit;
  border: 1px solid #8a8986; border-radius: 0.5rem; background: #fff}}
.sign-in input:focus {{outline: 3px solid {look.ACCENT}; outline-offset: 1px}}
.sign-in button {{margin-top: 1rem; min-height: 2.75rem; min-width: 6rem; padding: 0.4rem 1rem; font: inherit;
  color: #fff; cursor: pointer; background: {look.ACCENT}; border: 1px solid {look.ACCENT}; border-radius: 0.5rem}}
.sign-in button:focus-visible {{outline: 3px solid {look.ACCENT}; outline-offset: 2px}}
</style>
<form class="sign-in" method="post" action="{escape(action)}">
<label for="sign-in-email">Email</label>
<input id="sign-in-email" name="email" type="email" autocomplete="username" required autofocus>
<label for="sign-in-password">Password</label>
<input id="sign-in-password" name="password" type="password" autocomplete="current-password" required>
<input type="hidden" name="next" value="{escape(back)}">
<button type="submit">Sign in</button>
</form>"""


def _here() -> str:
    """This page's path and query (the sidebar's choices), to come back to after signing in."""
    try:
        url = st.context.url
        path = (urlsplit(url).path if isinstance(url, str) else "") or "/"
        query = urlencode([(key, value) for key in st.query_params for value in st.query_params.get_all(key)])
    except Exception:  # noqa: BLE001 - no browser behind this run (a test): the front page
        return "/"
    return serving.safe_next(path + (f"?{query}" if query else ""))


def sign_in_notice() -> str | None:
    """What the sign-in route said about the last try from this browser, if it let nobody in."""
    code = cookie(serving.NOTICE) or ""
    if code in NOTICES:
        return NOTICES[code]
    kind, _, rest = code.partition(".")
    if kind == "database" and rest in db.TROUBLES:
        return db.TROUBLES[rest]
    whose, _, minutes = rest.partition(".")
    if kind == "wait" and whose in users.REFUSALS and minutes.isdigit() and 0 < int(minutes) <= 24 * 60:
        return str(users.TooManyAttempts(whose, timedelta(minutes=int(minutes))))
    return None


def sign_out(engine=None) -> None:
    """Sign out: the session ends on the server, so this browser's cookie signs nobody in again."""
    st.session_state.pop("demo_user", None)
    if engine is None:
        return
    email = _end_session(engine, session_token())
    if email is False:
        return
    if email is not None:
        sso.record_sign_out(engine, email, by="password", source=request_source())
    st.session_state.pop(SEEN, None)


def _end_session(engine, token: str | None) -> str | None | bool:
    """End the session ``token`` belongs to on the server: the email it signed in (None if there was
    no live session), or False when it could not be ended, which the next run says on the page."""
    try:
        return sessions.end(engine, token)
    except Exception as exc:  # noqa: BLE001 - said on the page, never a traceback
        said = trouble(exc)
        if said is None:
            log.exception("Failed while signing someone out")
        st.session_state[SIGN_OUT_FAILED] = said or (
            "Sorry: something went wrong on our side while signing you out. Please try again.")
        return False


def demo_banner() -> None:
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
