"""Signing in with a local password, as the pages see it: the form is a plain form for the
server's sign-in route, with the fields a password manager knows; the session cookie the browser
sends back signs its person in on every page until the session ends, and the page then says why;
the route's notices become sentences; signing out ends the session on the server and is on record.

AppTest has no browser, so the cookies the browser would send are given to ui.identity here;
tests/pages/test_serving.py drives the route, tests/browser/test_signin.py the whole way round.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from store import db, sessions
from store.audit import audit_log, utcnow
from store.users import add_user
from ui import identity, serving

from .conftest import assert_no_exception, open_page, sign_in_forms

CEO = "leader@example.org"


@pytest.fixture
def local(sample_app, monkeypatch):
    """The sample trust with a trust leader who signs in with a password, and the server's sign-in
    route mounted; ``local.cookies`` is what the browser sends."""
    engine = db.make_engine(f"sqlite:///{sample_app / 'app.db'}")
    add_user(engine, CEO, role="trust_leader", password="a long enough password", actor="test")
    cookies: dict[str, str] = {}
    monkeypatch.setattr(identity, "cookie", cookies.get)
    monkeypatch.setitem(serving._mounted, "routes", True)
    return type("Local", (), {"engine": engine, "cookies": cookies})


def form_of(at) -> str:
    [html] = sign_in_forms(at)
    return html


def signed_in(at) -> bool:
    return bool(at.get("plotly_chart")) and any("Signed in as" in c.value for c in at.sidebar.caption)


def test_the_sign_in_form_posts_to_the_route_with_fields_a_password_manager_knows(local):
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    assert not signed_in(at) and not at.text_input  # the form, and nothing of the trust's data
    form = form_of(at)
    assert re.search(r'<form [^>]*method="post" action="/session/sign-in"', form)
    assert re.search(r'<input [^>]*name="email" type="email" autocomplete="username"', form)
    assert re.search(r'<input [^>]*name="password" type="password" autocomplete="current-password"', form)
    assert '<input type="hidden" name="next" value="/">' in form


def test_the_session_cookie_signs_its_person_in_on_every_page_until_they_sign_out(local):
    local.cookies[serving.COOKIE] = sessions.start(local.engine, CEO, source=None)
    school = open_page("pages/school.py")  # AppTest drops the sidebar of a page reached this way
    assert_no_exception(school)
    assert not sign_in_forms(school) and school.get("plotly_chart")
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    assert signed_in(at)
    [sign_out] = [b for b in at.sidebar.button if b.label == "Sign out"]
    sign_out.click().run()
    assert_no_exception(at)
    assert not at.get("plotly_chart")
    assert sessions.resolve(local.engine, local.cookies[serving.COOKIE]).ended == "signed out"
    log = audit_log(local.engine, actor=CEO, actions=["sign_out"])
    assert list(log["outcome"]) == ["done"] and log["detail"].iloc[0] == {"by": "password"}
    again = open_page("pages/overview.py")  # the same cookie, sent again with a reload
    assert not signed_in(again) and form_of(again)
    assert [i.value for i in again.info] == ["You have signed out."]


def test_a_session_left_unused_too_long_asks_for_a_sign_in_again(local, monkeypatch):
    monkeypatch.setenv("SESSION_IDLE_HOURS", "8")
    local.cookies[serving.COOKIE] = sessions.start(local.engine, CEO, source=None, now=utcnow() - timedelta(hours=9))
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    assert not signed_in(at) and form_of(at)
    assert [i.value for i in at.info] == [
        "You were signed out after 8 hours without using the dashboard. Please sign in again."]


def test_over_tls_only_the_secure_cookie_counts(local, monkeypatch):
    local.cookies[serving.COOKIE] = sessions.start(local.engine, CEO, source=None)
    monkeypatch.setattr(identity.st.context.__class__, "url", property(lambda _self: "https://dash.example/"))
    assert not signed_in(open_page("pages/overview.py"))  # a cookie any neighbouring site could have set
    local.cookies[serving.SECURE_COOKIE] = local.cookies.pop(serving.COOKIE)
    assert signed_in(open_page("pages/overview.py"))


@pytest.mark.parametrize("notice, said", [
    ("mismatch", "That email and password do not match an account here."),
    ("wait.account.3", "Too many failed sign-ins for this account from this computer or network. Please wait 3 "
                       "minutes and try again."),
    ("wait.address.1", "Too many failed sign-ins from this computer or network. Please wait 1 minute and try "
                       "again."),
    ("database.read-only", db.READ_ONLY),
    ("fault", "Sorry: something went wrong on our side while signing you in. Please try again; if it happens "
              "again, tell your trust's data officer."),
])
def test_what_the_route_said_is_a_sentence_above_the_form(local, notice, said):
    local.cookies[serving.NOTICE] = notice
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    assert [e.value for e in at.error] == [said] and form_of(at)


@pytest.mark.parametrize("notice", ["wait.everyone.3", "wait.account.0", "wait.account.99999", "database.x", "<b>"])
def test_a_notice_nobody_wrote_says_nothing(local, notice):
    local.cookies[serving.NOTICE] = notice
    at = open_page("pages/overview.py")
    assert not at.error and form_of(at)


def test_started_without_the_sign_in_route_the_page_says_how_to_start_it(local, monkeypatch):
    monkeypatch.setitem(serving._mounted, "routes", False)
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    assert not sign_in_forms(at) and not signed_in(at)
    assert any("started without its sign-in service" in e.value and "make run" in e.value for e in at.error)


def test_a_sign_out_the_database_cannot_record_leaves_you_signed_in_and_says_so(local, monkeypatch):
    import sqlalchemy as sa

    token = local.cookies[serving.COOKIE] = sessions.start(local.engine, CEO, source=None)
    at = open_page("pages/overview.py")
    real_end = sessions.end

    def read_only(*args, **kwargs):
        raise sa.exc.OperationalError("UPDATE sessions", {}, Exception("attempt to write a readonly database"))

    monkeypatch.setattr(sessions, "end", read_only)
    [sign_out] = [b for b in at.sidebar.button if b.label == "Sign out"]
    sign_out.click().run()  # AppTest reruns the page alone here, without the frame that would say so
    assert_no_exception(at)
    assert at.session_state[identity.SIGN_OUT_FAILED] == db.READ_ONLY
    assert sessions.resolve(local.engine, token).user.email == CEO
    monkeypatch.setattr(sessions, "end", real_end)
    shown = open_page("pages/overview.py", state={identity.SIGN_OUT_FAILED: db.READ_ONLY})  # what the frame says
    assert_no_exception(shown)
    assert signed_in(shown) and [e.value for e in shown.error] == [f"You are still signed in. {db.READ_ONLY}"]


def test_the_record_of_changes_shows_a_lock_and_its_lifting(local):
    from store.users import FAILURES_BEFORE_LOCK, TooManyAttempts, unlock, verify_password

    for _ in range(FAILURES_BEFORE_LOCK):
        verify_password(local.engine, CEO, "not the password", source="203.0.113.7")
    with pytest.raises(TooManyAttempts):
        verify_password(local.engine, CEO, "a long enough password", source="203.0.113.7")
    unlock(local.engine, CEO, actor="command line", source="command line")
    local.cookies[serving.COOKIE] = sessions.start(local.engine, CEO, source=None)
    at = open_page("pages/audit.py")
    assert_no_exception(at)
    record = at.dataframe[0].value
    lifted = record[record["What"] == "Sign-in lock lifted"]
    assert list(lifted["Who"]) == ["command line"]
    assert list(lifted["Detail"]) == [f"email: {CEO}; failures cleared: {FAILURES_BEFORE_LOCK + 1}"]
    refused = record[(record["What"] == "Sign-in") & (record["Outcome"] == "refused")]
    assert list(refused["From"]) == ["203.0.113.7"]
    assert list(refused["Detail"]) == ["reason: too many failed attempts; whose: account"]
