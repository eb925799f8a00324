"""Single sign-on end to end, as a trust sets it up: a real OpenID Connect provider
(oidc-provider-mock) and a real dashboard server, both on 127.0.0.1 on free ports, the dashboard
given an ``[auth]`` section in a secrets.toml of the test's own, driven in headless Chromium.

The provider's authorisation page lists its predefined people as buttons and takes any other
``sub`` typed into its form (that person's only claim is then ``email``, the ``sub`` itself).
The people here:

- a trust leader whose email the provider sends in other letters' case than the dashboard holds;
- a DSL at Kestrel Vale;
- an account as Microsoft Entra ID sends one without a mailbox: no ``email``, the user principal
  name in ``preferred_username``;
- an account that sends neither an email nor a user name that is an address;
- a user the trust added whose address lies outside ALLOWED_EMAIL_DOMAINS;
- a stranger typed in at the provider.

Screenshots go to test-artifacts/screens/sso_*.png. Needs Debian's Chromium at /usr/bin/chromium;
elsewhere skipped with the reason, except under CI, where it fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import copy_sample
from tests.helpers.network import free_port, stop

from .conftest import require_chromium
from .conftest import settled as _settled

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screens"

require_chromium()

ALLOWED = "trust.example.org kestrel.example.org"
PROVIDER_PEOPLE = [
    {"sub": "leader", "email": "Casey.Leader@Trust.Example.org", "email_verified": True, "name": "Casey Leader"},
    {"sub": "dsl", "email": "dsl@kestrel.example.org", "email_verified": True, "name": "Dana Lead"},
    {"sub": "entra-no-mailbox", "preferred_username": "Harper.Lead@trust.example.org", "name": "Harper Lead"},
    {"sub": "no-address", "preferred_username": "jdoe", "name": "Jo Doe"},
    {"sub": "contractor", "email": "contractor@example.com", "email_verified": True, "name": "Chris Contractor"},
]
DASHBOARD_USERS = [  # (email, role, schools)
    ("casey.leader@trust.example.org", "trust_leader", ()),
    ("dsl@kestrel.example.org", "dsl", ("990002",)),
    ("harper.lead@trust.example.org", "trust_leader", ()),
    ("contractor@example.com", "trustee", ()),
]
MINE = "Kestrel Vale Primary School"
OTHER_SCHOOLS = ["Larkspur Hill Primary School", "Lanternbrook Learning Centre", "Marrowby High School",
                 "Ottersby Primary School", "Pellow Ridge Academy", "Quillfield Primary School",
                 "Saltwhistle Lane Primary School", "Skylark Fold School", "Thornmere Primary School",
                 "Tillowby Junior School", "Wrenhaven Academy"]
HELPERS = ("shell", "identity", "look", "serving", "theme_page", "theme page", "board_log", "board log")


def _wait_for(url: str, proc: subprocess.Popen, log: Path, what: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{what} did not start: " + log.read_text()[-2000:])


@pytest.fixture(scope="module")
def sso(tmp_path_factory):
    """The provider and a dashboard set up for it, on the sample trust with the trust's users."""
    from store import db
    from store.users import add_user

    folder = tmp_path_factory.mktemp("sso")
    provider_port, app_port = free_port(), free_port()
    provider = f"http://127.0.0.1:{provider_port}"
    app = f"http://127.0.0.1:{app_port}"
    procs: list[subprocess.Popen] = []
    logs = []
    try:
        provider_log = open(folder / "provider.log", "w")
        logs.append(provider_log)
        people = [arg for person in PROVIDER_PEOPLE for arg in ("--user-claims", json.dumps(person))]
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(provider_port),
             *people], cwd=folder, stdout=provider_log, stderr=subprocess.STDOUT))

        url = f"sqlite:///{folder / 'dashboard.db'}"
        copy_sample(folder / "dashboard.db")  # the sample trust, imported once for the whole run
        engine = db.make_engine(url)
        for email, role, urns in DASHBOARD_USERS:
            add_user(engine, email, role=role, urns=urns, actor="test")
        db.dispose(engine)

        secrets = folder / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "{app}/oauth2callback"\n'
            'cookie_secret = "a test cookie secret, long and random enough"\n'
            'client_id = "safeguarding-dashboard"\n'
            'client_secret = "test-client-secret"\n'
            f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n')
        env = {**os.environ, "DATA_DIR": str(folder), "DATABASE_URL": url, "LOAD_SAMPLE": "0",
               "ALLOWED_EMAIL_DOMAINS": ALLOWED}
        app_log = open(folder / "app.log", "w")
        logs.append(app_log)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(app_port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--secrets.files", str(secrets)],
            cwd=ROOT, env=env, stdout=app_log, stderr=subprocess.STDOUT))

        _wait_for(f"{provider}/.well-known/openid-configuration", procs[0], folder / "provider.log", "the provider")
        _wait_for(f"{app}/_stcore/health", procs[1], folder / "app.log", "the dashboard")
        yield SimpleNamespace(app=app, provider=provider, db=url, log=folder / "app.log")
    finally:
        for proc in reversed(procs):
            stop(proc)
        for log in logs:
            log.close()


@pytest.fixture
def page(browser):
    """A page in a browser context of its own: no cookie from another test's sign-in."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    yield context.new_page()
    context.close()


def _no_page_list_and_no_error(page) -> None:
    """Nobody signed in sees no list of pages (least of all the helper modules) and no error."""
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    links = [page.locator("a").nth(i).get_attribute("href") or "" for i in range(page.locator("a").count())]
    assert not [h for h in links if h.rstrip("/").rsplit("/", 1)[-1] in HELPERS]
    _no_error(page)


def _no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    text = page.inner_text("body")
    assert "Traceback" not in text and "Sorry: something went wrong" not in text
    assert "encountered an error" not in text


def _sign_in(page, sso, *, sub: str | None = None, typed: str | None = None) -> None:
    """From the dashboard's front door through the provider and back."""
    page.goto(sso.app, wait_until="domcontentloaded")
    button = page.get_by_role("button", name="Sign in")
    button.wait_for(timeout=60_000)
    _settled(page)
    _no_page_list_and_no_error(page)
    button.click()
    page.wait_for_url(f"{sso.provider}/oauth2/authorize**", timeout=30_000)
    if sub is not None:
        page.locator(f'button[name="sub"][value="{sub}"]').click()
    else:
        page.fill('input[name="sub"]', typed)
        page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{sso.app}/**", timeout=30_000)
    _settled(page)


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"sso_{name}.png"), full_page=True)


def _record(sso, actor: str):
    from store import db
    from store.audit import audit_log

    engine = db.make_engine(sso.db)
    try:
        return audit_log(engine, actor=actor, actions=["sign_in", "sign_out"]).iloc[::-1]
    finally:
        db.dispose(engine)


def _sidebar(page) -> str:
    return page.inner_text('[data-testid="stSidebar"]')


def test_a_trust_leader_signs_in_keeps_the_session_on_reload_and_signs_out_at_the_provider_too(sso, page):
    _sign_in(page, sso, sub="leader")
    _no_error(page)
    assert "Trust overview" in page.inner_text("h1")
    assert "Signed in as casey.leader@trust.example.org (Trust leader)" in _sidebar(page)
    # the whole trust (the heatmap may still be drawing when the page has settled)
    page.wait_for_function("document.body.innerText.includes('Wrenhaven Academy')", timeout=30_000)
    _shot(page, "leader_overview")

    page.reload(wait_until="domcontentloaded")  # a new session: Streamlit's auth cookie signs it in
    _settled(page)
    assert "Trust overview" in page.inner_text("h1")
    assert page.get_by_role("button", name="Sign in").count() == 0

    identity = [c for c in page.context.cookies() if c["name"].startswith("_streamlit_user")]
    assert identity  # Streamlit's identity cookie, good for 30 days whatever the dashboard does
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    # The provider offers an end-session endpoint: the browser goes there, naming the session.
    page.wait_for_url(f"{sso.provider}/oauth2/end_session**", timeout=30_000)
    assert "id_token_hint=" in page.url and "post_logout_redirect_uri=" in page.url
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{sso.app}/**", timeout=30_000)
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    _settled(page)
    _no_page_list_and_no_error(page)
    _shot(page, "signed_out")
    page.reload(wait_until="domcontentloaded")  # and signed out it stays
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)

    # A copy of the identity cookie taken before signing out (another tab, a shared machine, a
    # thief) signs nobody in: the dashboard ended that sign-in's session on its side.
    page.context.add_cookies(identity)
    page.reload(wait_until="domcontentloaded")
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    _settled(page)
    assert "You have signed out." in page.inner_text("body")
    assert "Wrenhaven Academy" not in page.inner_text("body")
    _no_page_list_and_no_error(page)
    _shot(page, "replayed_cookie")
    page.get_by_role("button", name="Sign in").click()  # and the way back in is a fresh sign-in
    page.wait_for_url(f"{sso.provider}/oauth2/authorize**", timeout=30_000)
    page.locator('button[name="sub"][value="leader"]').click()
    page.wait_for_url(f"{sso.app}/**", timeout=30_000)
    _settled(page)
    assert "Trust overview" in page.inner_text("h1")

    record = _record(sso, "casey.leader@trust.example.org")
    assert list(record["action"]) == ["sign_in", "sign_in", "sign_out", "sign_in", "sign_in"]  # one a session
    assert list(record["outcome"]) == ["accepted", "accepted", "done", "refused", "accepted"]
    assert record["detail"].iloc[3]["reason"] == "a sign-in whose session had ended (signed out)"
    assert record["detail"].iloc[0] == {"by": "single sign-on", "claim": "email"}


def test_a_dsl_signs_in_and_sees_only_their_school(sso, page):
    _sign_in(page, sso, sub="dsl")
    _no_error(page)
    assert "Signed in as" in _sidebar(page) and "(DSL)" in _sidebar(page)
    shown = page.inner_text("body") + page.content()
    assert MINE in shown
    assert [school for school in OTHER_SCHOOLS if school in shown] == []
    assert "Settings" not in _sidebar(page)  # a DSL's own page list
    _shot(page, "dsl_overview")


def test_an_account_without_email_signs_in_by_its_user_principal_name(sso, page):
    _sign_in(page, sso, sub="entra-no-mailbox")
    _no_error(page)
    assert "Signed in as harper.lead@trust.example.org (Trust leader)" in _sidebar(page)
    assert "Trust overview" in page.inner_text("h1")
    assert list(_record(sso, "harper.lead@trust.example.org")["detail"].str["claim"]) == ["preferred_username"]


def test_an_unknown_address_is_turned_away(sso, page):
    _sign_in(page, sso, typed="stranger@trust.example.org")
    _no_page_list_and_no_error(page)
    body = page.inner_text("body")
    assert "You are signed in as stranger@trust.example.org, but that address has no access" in body
    assert MINE not in body and page.locator(".js-plotly-plot").count() == 0
    assert page.get_by_role("button", name="Sign out").count() == 1
    _shot(page, "stranger")
    assert list(_record(sso, "stranger@trust.example.org")["outcome"]) == ["refused"]


def test_a_token_without_a_usable_address_gets_a_sentence_not_a_crash(sso, page):
    _sign_in(page, sso, sub="no-address")
    _no_page_list_and_no_error(page)
    body = page.inner_text("body")
    assert "did not tell the dashboard your email address" in body
    assert "a user name “jdoe” that is not an email address" in body  # what the provider sent
    assert "Ask your trust's IT" in body  # and whom to ask
    assert page.locator(".js-plotly-plot").count() == 0
    _shot(page, "no_address")
    record = _record(sso, "(no email address from single sign-on)")
    assert record["detail"].iloc[-1]["reason"] == "no email address"
    assert "preferred_username" in record["detail"].iloc[-1]["claims"]


def test_an_address_outside_the_allowed_domains_is_refused_though_a_user_has_it(sso, page):
    _sign_in(page, sso, sub="contractor")
    _no_page_list_and_no_error(page)
    body = page.inner_text("body")
    assert "only lets in addresses ending @kestrel.example.org or @trust.example.org" in body
    assert page.locator(".js-plotly-plot").count() == 0
    _shot(page, "outside_domains")
    assert list(_record(sso, "contractor@example.com")["detail"].str["reason"]) == ["outside the allowed domains"]
