"""The sign-in route and the reading of proxies' headers (ui/serving.py), over HTTP as a browser
or a reverse proxy would speak to them, on SQLite and PostgreSQL.

The contract: a right password answers with the session cookie (HttpOnly, SameSite=Lax, Path=/, no
expiry date; Secure and __Host- named when the browser came over TLS, directly or as a trusted
proxy says) and sends the browser back to the page it came from, never to another site; anything
else sends it back with a short-lived notice and no session; a form posted from another site is
refused before anything is checked; the address the limits count is the connection's own unless
it is a trusted proxy, then the right-most untrusted one it forwarded. Never a traceback.
"""

from __future__ import annotations

import ipaddress
from html import unescape
from http.cookies import SimpleCookie

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from store import db, sessions
from store.schema import audit, login_attempts
from store.users import FAILURES_BEFORE_LOCK, add_user
from ui import identity, serving

PASSWORD = "lantern meadow copper"
CEO = "ceo@trust.example"
SITE = "http://dash.example"
PROXY = "10.0.0.5"


@pytest.fixture
def served(engine, monkeypatch):
    """The route on the test's database, as app.py mounts it, with 10.0.0.5 a trusted proxy;
    ``served.post(...)`` signs in from ``peer``."""
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr(identity, "sso_configured", lambda: False)
    add_user(engine, CEO, role="trust_leader", password=PASSWORD, actor="setup")
    trusted, _ = serving.trusted_networks([PROXY])
    monkeypatch.setitem(serving._mounted, "routes", serving.mounted())  # as it was, after the test
    app = Starlette(routes=serving.routes(), middleware=[Middleware(serving.ForwardedClient, trusted=trusted)])

    def post(*, email=CEO, password=PASSWORD, next="/school?year=2025%2F26", peer="198.51.100.7", site=SITE,
             origin: str | None = "same", headers=None):
        client = TestClient(app, base_url=site, client=(peer, 50000), follow_redirects=False)
        sent = [("origin", site if origin == "same" else origin)] if origin is not None else []
        more = list(headers.items()) if isinstance(headers, dict) else list(headers or ())
        return client.post(serving.SIGN_IN_PATH, data={"email": email, "password": password, "next": next},
                           headers=sent + more)

    post.engine = engine
    return post


def set_cookies(response) -> dict[str, dict]:
    """Each cookie the answer sets: its value and attributes, as a browser reads them."""
    out = {}
    for header in response.headers.get_list("set-cookie"):
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            attrs = {k.lower(): v for k, v in morsel.items() if v}
            flags = {part.strip().lower() for part in header.split(";")[1:]}
            out[name] = {"value": morsel.value, **attrs, "httponly": "httponly" in flags,
                         "secure": "secure" in flags}
    return out


def attempts(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(login_attempts.c.email, login_attempts.c.source, login_attempts.c.success)
                            .order_by(login_attempts.c.id)).all()


def test_the_right_password_sets_an_httponly_session_cookie_and_goes_back_to_the_page(served):
    answer = served()
    assert answer.status_code == 303 and answer.headers["location"] == "/school?year=2025%2F26"
    cookie = set_cookies(answer)[serving.COOKIE]
    assert cookie["httponly"] and not cookie["secure"]
    assert (cookie["samesite"].lower(), cookie["path"], cookie.get("expires"), cookie.get("max-age")) == (
        "lax", "/", None, None)  # gone when the browser closes; the server ends it sooner when unused
    assert sessions.resolve(served.engine, cookie["value"]).user.email == CEO
    assert serving.SECURE_COOKIE not in set_cookies(answer)


def test_over_tls_the_cookie_is_secure_and_kept_to_this_host(served):
    cookie = set_cookies(served(site="https://dash.example"))[serving.SECURE_COOKIE]
    assert cookie["secure"] and cookie["httponly"] and cookie["path"] == "/" and "domain" not in cookie
    assert sessions.resolve(served.engine, cookie["value"]).user.email == CEO


def test_a_trusted_proxy_saying_tls_makes_it_secure_and_anyone_else_saying_so_does_not(served):
    tls = {"x-forwarded-proto": "https", "x-forwarded-for": "192.0.2.10"}
    through_proxy = served(peer=PROXY, headers=tls)
    assert set_cookies(through_proxy)[serving.SECURE_COOKIE]["secure"]
    direct = served(peer="198.51.100.7", headers=tls)
    assert not set_cookies(direct)[serving.COOKIE]["secure"]
    assert [a.source for a in attempts(served.engine)] == ["192.0.2.10", "198.51.100.7"]


@pytest.mark.parametrize("peer, forwarded, counted", [
    (PROXY, ["192.0.2.10"], "192.0.2.10"),
    (PROXY, ["203.0.113.66, 192.0.2.10"], "192.0.2.10"),  # what the client wrote itself is not believed
    (PROXY, ["192.0.2.10, 10.0.0.5"], "192.0.2.10"),  # through two trusted proxies
    (PROXY, ["192.0.2.10", "10.0.0.5"], "192.0.2.10"),  # the same, as two headers
    (PROXY, ["[2001:db8::7]:4711"], "2001:db8::7"),
    (PROXY, ["not an address"], PROXY),
    (PROXY, [], PROXY),
    ("198.51.100.7", ["192.0.2.10"], "198.51.100.7"),  # not a trusted proxy: the header is ignored
    ("127.0.0.1", ["192.0.2.10"], "192.0.2.10"),  # a proxy on the dashboard's own machine
])
def test_the_address_the_limits_count(served, peer, forwarded, counted):
    served(peer=peer, headers=[("x-forwarded-for", value) for value in forwarded])
    assert [a.source for a in attempts(served.engine)] == [counted]


def test_a_wrong_password_goes_back_with_a_notice_and_no_session(served):
    answer = served(password="not the password")
    assert answer.status_code == 303 and answer.headers["location"] == "/school?year=2025%2F26"
    cookies = set_cookies(answer)
    assert serving.COOKIE not in cookies
    notice = cookies[serving.NOTICE]
    assert (notice["value"], notice["max-age"], notice["httponly"]) == ("mismatch", str(serving.NOTICE_SECONDS), True)


def test_a_locked_account_is_a_notice_with_the_wait_and_the_owner_elsewhere_gets_in(served):
    for _ in range(FAILURES_BEFORE_LOCK):
        served(password="not the password", peer="203.0.113.7")
    refused = served(peer="203.0.113.7")
    assert set_cookies(refused)[serving.NOTICE]["value"] == "wait.account.1"
    assert serving.COOKIE not in set_cookies(refused)
    assert serving.COOKIE in set_cookies(served(peer="198.51.100.7"))


@pytest.mark.parametrize("origin, referer", [
    ("https://evil.example", None), ("null", None), (None, None), (None, "https://evil.example/page"),
    ("http://dash.example.evil.example", None),
])
def test_a_form_posted_from_another_site_is_refused_before_anything_is_checked(served, origin, referer):
    answer = served(origin=origin, headers={"referer": referer} if referer else None)
    assert answer.status_code == 403
    assert "did not come from the dashboard's own page" in unescape(answer.text) and "Traceback" not in answer.text
    assert set_cookies(answer) == {} and attempts(served.engine) == []


def test_a_browser_that_sends_only_its_referer_signs_in(served):
    answer = served(origin=None, headers={"referer": f"{SITE}/school"})
    assert serving.COOKIE in set_cookies(answer)


@pytest.mark.parametrize("asked, sent", [
    ("/school?year=2025%2F26&term=Spring", "/school?year=2025%2F26&term=Spring"),
    ("", "/"), ("https://evil.example/", "/"), ("//evil.example/", "/"), ("/\\evil.example", "/"),
    ("school", "/"), ("/x\r\nSet-Cookie: a=b", "/"),
])
def test_the_browser_is_only_ever_sent_back_to_this_site(served, asked, sent):
    assert served(next=asked).headers["location"] == sent


def test_with_single_sign_on_set_up_no_local_password_is_checked(served, monkeypatch):
    monkeypatch.setattr(identity, "sso_configured", lambda: True)
    answer = served()
    assert set_cookies(answer)[serving.NOTICE]["value"] == "sso" and serving.COOKIE not in set_cookies(answer)
    assert attempts(served.engine) == []


def test_a_database_that_is_down_is_a_notice_not_a_traceback(served, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://dashboard@127.0.0.1:1/safeguarding")
    answer = served()
    assert answer.status_code == 303 and set_cookies(answer)[serving.NOTICE]["value"] == "database.down"
    assert db.TROUBLES["down"] == db.DOWN


def test_a_bug_of_ours_is_a_notice_and_is_logged(served, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(serving.users, "verify_password", broken)
    answer = served()
    assert answer.status_code == 303 and set_cookies(answer)[serving.NOTICE]["value"] == "fault"
    assert "Failed while signing someone in" in caplog.text


def test_only_an_address_or_a_network_is_a_trusted_proxy():
    networks, rejected = serving.trusted_networks(["10.0.0.5", "10.1.0.0/16", "fd00::/8", "proxy.local", "10.0.0.300"])
    assert ipaddress.ip_network("10.1.0.0/16") in networks and ipaddress.ip_network("fd00::/8") in networks
    assert ipaddress.ip_network("127.0.0.0/8") in networks  # the dashboard's own machine, always
    assert rejected == ("proxy.local", "10.0.0.300")


def test_the_setting_names_the_trusted_proxies(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.5, 10.1.0.0/16 ")
    networks, rejected = serving.trusted_networks()
    assert ipaddress.ip_network("10.0.0.5/32") in networks and ipaddress.ip_network("10.1.0.0/16") in networks
    assert rejected == ()
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert serving.trusted_networks() == (serving.LOOPBACK, ())


async def _scope_after(middleware, scope):
    seen = {}

    async def app(inner, receive, send):
        seen.update(inner)

    await middleware(app, trusted=serving.trusted_networks([PROXY])[0])(scope, None, None)
    return seen


@pytest.mark.parametrize("peer, scheme", [(PROXY, "wss"), ("198.51.100.7", "ws")])
def test_the_websocket_pages_use_knows_the_client_and_its_scheme_too(peer, scheme):
    import asyncio

    scope = {"type": "websocket", "scheme": "ws", "client": (peer, 1234),
             "headers": [(b"x-forwarded-for", b"192.0.2.10"), (b"x-forwarded-proto", b"https")]}
    seen = asyncio.run(_scope_after(serving.ForwardedClient, scope))
    assert seen["scheme"] == scheme
    assert seen["client"][0] == ("192.0.2.10" if peer == PROXY else peer)
    assert scope["client"] == (peer, 1234)  # the server's own copy untouched


def test_every_attempt_through_the_route_is_on_record_with_its_address(served):
    served(password="not the password", peer=PROXY, headers={"x-forwarded-for": "192.0.2.10"})
    with served.engine.connect() as conn:
        row = conn.execute(sa.select(audit).where(audit.c.action == "sign_in")).one()
    assert (row.actor, row.outcome, row.source) == (CEO, "rejected", "192.0.2.10")
