"""Signing in with a local password in a real browser, as a trust without single sign-on runs the
dashboard: served by app.py (as `make run` serves it) over TLS with a certificate of the test's own,
on the sample trust with a trust leader added, driven in headless Chromium.

What a person would check: the form's fields say what they hold (so the browser's password manager
fills them); a shared link leads back to its own page after signing in; the session holds across a
reload and in a new tab; its cookie is HttpOnly, Secure, SameSite=Lax and kept to this host; after
Sign out the same cookie, sent again from anywhere, signs nobody in; a session left unused past
SESSION_IDLE_HOURS (set tiny here) asks for a sign-in again; and failures from one address lock
that address out without locking out the account's owner elsewhere. The browser is on 127.0.0.1,
a proxy the dashboard always believes, so an X-Forwarded-For it sends stands for where a person is.

Screenshots go to test-artifacts/screens/signin_*.png. Needs Debian's Chromium at /usr/bin/chromium;
elsewhere skipped with the reason, except under CI, where it fails.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import copy_sample
from tests.helpers.network import certificate, free_port, stop

from .conftest import require_chromium
from .conftest import settled as _settled

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screens"
CEO, PASSWORD = "ceo@trust.example.org", "lantern meadow copper"
IDLE_HOURS = 0.006  # 21.6 seconds: long enough for each step, short enough to wait out
SHARED = "/school?year=2024%2F25&term=Spring"

require_chromium()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from store import db
    from store.users import add_user

    folder = tmp_path_factory.mktemp("signin")
    url = f"sqlite:///{folder / 'dashboard.db'}"
    copy_sample(folder / "dashboard.db")  # the sample trust, imported once for the whole run
    engine = db.make_engine(url)
    add_user(engine, CEO, role="trust_leader", name="Avery Quill", password=PASSWORD, actor="test")
    db.dispose(engine)
    cert, key = certificate(folder)
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(folder), "DATABASE_URL": url, "LOAD_SAMPLE": "0",
           "SESSION_IDLE_HOURS": str(IDLE_HOURS)}
    env.pop("TRUSTED_PROXIES", None)
    log = open(folder / "app.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--server.sslCertFile", str(cert),
         "--server.sslKeyFile", str(key)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    app = f"https://127.0.0.1:{port}"
    unchecked = ssl.create_default_context()
    unchecked.check_hostname, unchecked.verify_mode = False, ssl.CERT_NONE
    try:
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            try:
                if urllib.request.urlopen(f"{app}/_stcore/health", timeout=2, context=unchecked).status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("the dashboard did not start: " + (folder / "app.log").read_text()[-2000:])
        yield SimpleNamespace(app=app, db=url, log=folder / "app.log")
    finally:
        stop(proc)
        log.close()


@pytest.fixture
def contexts(browser, server):
    """``contexts(where=None)``: a browser of its own (no cookie from another test), optionally
    standing at the address ``where``; the first visit also starts the server's frame."""
    made = []

    def make(where: str | None = None):
        context = browser.new_context(ignore_https_errors=True, viewport={"width": 1300, "height": 1000},
                                      extra_http_headers={"X-Forwarded-For": where} if where else None)
        made.append(context)
        return context

    warm = make().new_page()
    warm.goto(server.app, wait_until="domcontentloaded")
    _settled(warm)
    yield make
    for context in made:
        context.close()


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    _settled(page)


def _no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    text = page.inner_text("body")
    assert "Traceback" not in text and "Sorry: something went wrong" not in text


def _asked_to_sign_in(page) -> bool:
    return page.locator("form.sign-in").count() == 1 and page.locator('[data-testid="stSidebarNav"]').count() == 0


def _sign_in(page, email: str = CEO, password: str = PASSWORD) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    _settled(page)


def _signed_in_as(page) -> str | None:
    sidebar = page.locator('[data-testid="stSidebar"]')
    if sidebar.count() == 0 or "Signed in as" not in sidebar.inner_text():
        return None
    return sidebar.inner_text().split("Signed in as", 1)[1].split("\n")[0].strip()


def _session_cookie(context) -> dict:
    [cookie] = [c for c in context.cookies() if "dashboard_session" in c["name"]]
    return cookie


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"signin_{name}.png"), full_page=True)


def _record(server, actions):
    from store import db
    from store.audit import audit_log

    engine = db.make_engine(server.db)
    try:
        return audit_log(engine, actor=CEO, actions=actions).iloc[::-1]
    finally:
        db.dispose(engine)


def test_a_shared_link_signs_in_stays_signed_in_and_signing_out_ends_the_session_everywhere(server, contexts):
    context = contexts()
    page = context.new_page()
    _open(page, server.app + SHARED)  # a link a colleague shared
    _no_error(page)
    assert _asked_to_sign_in(page) and page.locator("h1").inner_text() == "Safeguarding governance"
    email, password = page.locator('input[name="email"]'), page.locator('input[name="password"]')
    assert (email.get_attribute("type"), email.get_attribute("autocomplete")) == ("email", "username")
    assert (password.get_attribute("type"), password.get_attribute("autocomplete")) == ("password", "current-password")
    _shot(page, "form")

    _sign_in(page)
    _no_error(page)
    assert page.url == server.app + SHARED  # back on the page the link named
    assert "School profile" in page.locator("h1").inner_text()
    assert _signed_in_as(page) == "Avery Quill (Trust leader)"
    cookie = _session_cookie(context)
    assert (cookie["name"], cookie["httpOnly"], cookie["secure"], cookie["sameSite"], cookie["path"]) == (
        "__Host-dashboard_session", True, True, "Lax", "/")
    assert cookie["expires"] == -1  # gone when the browser closes
    assert cookie["value"] not in page.evaluate("document.cookie")  # no script in the page can read it
    _shot(page, "signed_in")

    page.reload(wait_until="domcontentloaded")
    _settled(page)
    assert _signed_in_as(page) == "Avery Quill (Trust leader)" and not _asked_to_sign_in(page)

    tab = context.new_page()  # the page's address in a new tab of the same browser
    _open(tab, page.url)
    _no_error(tab)
    assert "School profile" in tab.locator("h1").inner_text() and _signed_in_as(tab) == "Avery Quill (Trust leader)"

    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    page.locator("form.sign-in").wait_for(timeout=60_000)
    _settled(page)
    _no_error(page)
    assert "You have signed out." in page.inner_text("body") and _signed_in_as(page) is None
    _shot(page, "signed_out")

    _open(tab, tab.url)  # the other tab, reloaded: its cookie is worth nothing now
    assert _asked_to_sign_in(tab)
    replay = contexts()  # the same cookie, copied into another browser
    replay.add_cookies([{key: cookie[key] for key in ("name", "value", "secure", "httpOnly", "sameSite")}
                        | {"url": server.app}])
    elsewhere = replay.new_page()
    _open(elsewhere, server.app + SHARED)
    assert _asked_to_sign_in(elsewhere) and "Wrenhaven Academy" not in elsewhere.inner_text("body")

    record = _record(server, ["sign_in", "sign_out"])
    assert list(record["action"]) == ["sign_in", "sign_out"] and list(record["outcome"]) == ["accepted", "done"]


def test_a_session_left_unused_past_the_idle_limit_asks_for_a_sign_in_again(server, contexts):
    page = contexts().new_page()
    _open(page, server.app)
    _sign_in(page)
    assert _signed_in_as(page) is not None
    page.wait_for_timeout(IDLE_HOURS * 3600 * 1000 + 3000)
    page.reload(wait_until="domcontentloaded")
    _settled(page)
    _no_error(page)
    assert _asked_to_sign_in(page)
    assert "You were signed out after 0.006 hours without using the dashboard." in page.inner_text("body")
    _shot(page, "idle")
    _sign_in(page)  # and signing in again works at once
    assert _signed_in_as(page) is not None


def test_failures_from_one_place_lock_that_place_out_but_not_the_owner_elsewhere(server, contexts):
    from store.users import FAILURES_BEFORE_LOCK

    stranger = contexts(where="203.0.113.7").new_page()
    _open(stranger, server.app)
    for _ in range(FAILURES_BEFORE_LOCK):
        _sign_in(stranger, password="not the password at all")
        assert "That email and password do not match an account here." in stranger.inner_text("body")
    _sign_in(stranger)  # even the right password, from there, now waits
    _no_error(stranger)
    assert ("Too many failed sign-ins for this account from this computer or network. Please wait 1 minute and "
            "try again.") in stranger.inner_text("body")
    assert _asked_to_sign_in(stranger)
    _shot(stranger, "locked_out")

    owner = contexts(where="198.51.100.20").new_page()
    _open(owner, server.app)
    _sign_in(owner)
    assert _signed_in_as(owner) == "Avery Quill (Trust leader)"

    from store import db
    from store.audit import audit_log

    engine = db.make_engine(server.db)
    try:
        log = audit_log(engine, actor=CEO, actions=["sign_in"]).iloc[::-1]
    finally:
        db.dispose(engine)
    tail = log.tail(FAILURES_BEFORE_LOCK + 2)
    assert list(tail["source"]) == ["203.0.113.7"] * (FAILURES_BEFORE_LOCK + 1) + ["198.51.100.20"]
    assert list(tail["outcome"]) == ["rejected"] * FAILURES_BEFORE_LOCK + ["refused", "accepted"]
