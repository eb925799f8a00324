"""What the dashboard's server adds to Streamlit's own: the route that signs a browser in with a
session cookie, and the client's real address behind the trust's reverse proxies. Not a page.

A Streamlit script answers over a websocket and cannot set a cookie, least of all an HttpOnly one.
So the sign-in form (ui/identity.py) posts straight to ``/session/sign-in`` here: the password
is checked, a session started (store/sessions.py), and the cookie set on the answer, which sends
the browser back to the page it was on. Every page then reads the cookie Streamlit was sent
(``st.context.cookies``) and asks the store whose session it is; signing out ends the session
there, so the cookie is worth nothing afterwards, however often it is sent again.

The cookie holds only a random 256-bit token (the database keeps its hash): HttpOnly, so no script
in the page can read it; SameSite=Lax; Path=/; no expiry date, so it goes when the browser closes
(the server ends it sooner after SESSION_IDLE_HOURS unused); Secure, and named with the __Host-
prefix (which browsers keep to this host and to TLS), whenever the browser reached the dashboard
over TLS: directly, or through a trusted proxy that says so with X-Forwarded-Proto.

A proxy's X-Forwarded-For and X-Forwarded-Proto are believed only from a proxy on the dashboard's
own machine (as the web server underneath, uvicorn, already does) or one named in TRUSTED_PROXIES;
the client is then the right-most address in X-Forwarded-For that is not itself a trusted proxy.
From anyone else those headers are ignored and the connection's own address is the client's.

``app.py`` mounts all this on Streamlit's server (st.App); started as ``streamlit run dashboard.py``
instead, the dashboard has no sign-in route, and the sign-in page says how to start it.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from functools import lru_cache
from urllib.parse import urlsplit

import settings

log = logging.getLogger("dashboard")

COOKIE, SECURE_COOKIE = "dashboard_session", "__Host-dashboard_session"
NOTICE = "dashboard_sign_in"  # what came of a sign-in that let nobody in, for the page to say
NOTICE_SECONDS = 20
SIGN_IN_PATH = "/session/sign-in"
# Always believed: a proxy on the dashboard's own machine, as the README sets it up.
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
MISMATCH, FAULT, SSO = "mismatch", "fault", "sso"
_mounted = {"routes": False}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def mounted() -> bool:
    """Whether this server has the sign-in route (it was started from app.py)."""
    return _mounted["routes"]


# ---- Who is asking: the client's address and whether it came over TLS ------------------------

def trusted_networks(entries=None) -> tuple[tuple[Network, ...], tuple[str, ...]]:
    """(the networks whose forwarding headers are believed, the TRUSTED_PROXIES entries that are
    neither an address nor a network). ``entries`` defaults to the setting."""
    networks, rejected = list(LOOPBACK), []
    for entry in settings.trusted_proxies() if entries is None else entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            rejected.append(entry)
    return tuple(networks), tuple(rejected)


def client_address(peer: str | None, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str | None:
    """The client's address: ``peer`` (who connected) unless it is a trusted proxy; then the
    right-most address in X-Forwarded-For (each proxy appends whom it heard from) that is not a
    trusted proxy itself. None when the peer is unknown."""
    if peer is None or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:  # not an address at all: believe nothing further left
            break
        client = address
        if not _trusted(address, trusted):
            break
    return client


class ForwardedClient:
    """ASGI middleware: the client's address and scheme, as a trusted proxy reports them, put where
    Streamlit and the routes read them (the connection's ``client`` and ``scheme``)."""

    def __init__(self, app, trusted: tuple[Network, ...] | None = None):
        self.app = app
        self.trusted = trusted if trusted is not None else trusted_networks()[0]

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not _asked.is_set() and not scope.get("path", "").startswith(SERVER_PATHS):
            _asked.set()  # a browser has come for the page: the warm-up leaves it the machine
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            peer = scope["client"][0]
            if _trusted(peer, self.trusted):
                # only the two headers read here are decoded (a page's load is a hundred requests)
                headers = [(k.lower(), v.decode("latin-1")) for k, v in scope.get("headers", ())
                           if k.lower() in FORWARDED_HEADERS]
                scope = dict(scope)
                forwarded = [v for k, v in headers if k == b"x-forwarded-for"]
                scope["client"] = (client_address(peer, forwarded, self.trusted), 0)
                proto = next((v.split(",")[-1].strip().lower() for k, v in reversed(headers)
                              if k == b"x-forwarded-proto"), None)
                if proto in ("http", "https"):
                    scope["scheme"] = proto if scope["type"] == "http" else proto.replace("http", "ws")
        await self.app(scope, receive, send)


FORWARDED_HEADERS = (b"x-forwarded-for", b"x-forwarded-proto")
# Streamlit's own addresses (its health check, which a load balancer or a start script polls, and
# the like): any other request is someone's browser come for the page.
SERVER_PATHS = "/_stcore/"
_asked = threading.Event()


def page_asked() -> bool:
    """Whether a browser has asked this server for the page yet."""
    return _asked.is_set()


@lru_cache(maxsize=1024)
def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    parsed = _address(address)
    return parsed is not None and any(ipaddress.ip_address(parsed) in net for net in trusted)


def _address(text: str) -> str | None:
    """The IP address in ``text`` (an X-Forwarded-For hop may carry a port), or None."""
    text = text.strip()
    if text.startswith("["):  # [IPv6]:port
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # IPv4:port
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


# ---- The sign-in route --------------------------------------------------------------------------

def cookie_name(secure: bool) -> str:
    return SECURE_COOKIE if secure else COOKIE


def routes(base: str = "") -> list:
    """The routes app.py mounts on Streamlit's server (and under server.baseUrlPath when set)."""
    from starlette.routing import Route

    _mounted["routes"] = True
    paths = {SIGN_IN_PATH} | ({f"/{base.strip('/')}{SIGN_IN_PATH}"} if base.strip("/") else set())
    return [Route(path, sign_in, methods=["POST"]) for path in sorted(paths)]


async def sign_in(request):
    """The sign-in form's answer: the session cookie and back to the page, or back to the page
    with a notice saying why not. Never a traceback."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import HTMLResponse, RedirectResponse

    if not same_origin(request):
        return HTMLResponse(_page(
            "This sign-in did not come from the dashboard's own page, so it was not accepted. Open the "
            "dashboard at its usual address and sign in there."), status_code=403)
    secure = request.url.scheme == "https" or urlsplit(request.headers.get("origin", "")).scheme == "https"
    back = "/"
    try:
        form = await request.form()
        back = safe_next(form.get("next"))
        notice, token = await run_in_threadpool(_check, str(form.get("email") or ""),
                                                str(form.get("password") or ""), client_of(request))
    except Exception:  # noqa: BLE001 - a bug of ours (or a mangled form): logged, and the page apologises
        log.exception("Failed while signing someone in")
        notice, token = FAULT, None
    answer = RedirectResponse(back, status_code=303)
    if token is not None:
        answer.set_cookie(cookie_name(secure), token, httponly=True, secure=secure, samesite="lax", path="/")
        answer.delete_cookie(NOTICE, path="/")
    else:
        answer.set_cookie(NOTICE, notice, max_age=NOTICE_SECONDS, httponly=True, secure=secure, samesite="lax",
                          path="/")
    return answer


def __getattr__(name: str):
    """The store's modules the sign-in route uses (``db``, ``sessions``, ``users``), imported when
    first asked for: app.py imports this module before the server answers at all, and the store
    (SQLAlchemy, pandas) is the warm-up's to import, in its own thread."""
    if name in ("db", "sessions", "users"):
        import importlib

        return importlib.import_module(f"store.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _check(email: str, password: str, source: str | None) -> tuple[str | None, str | None]:
    """(a notice, None) when nobody is let in; (None, the new session's token) when they are."""
    from store import db, sessions, users
    from ui.identity import sso_configured  # identity reads this module's names

    if sso_configured():  # a local password never gets round the trust's single sign-on
        return SSO, None
    engine = db.make_engine(settings.database_url())
    try:
        user = users.verify_password(engine, email, password, source=source)
        if user is None:
            return MISMATCH, None
        return None, sessions.start(engine, user.email, source=source)
    except users.TooManyAttempts as refused:
        return f"wait.{refused.whose}.{refused.minutes}", None
    except Exception as exc:  # noqa: BLE001 - the database's own fault is a notice; a bug is raised
        said = db.trouble(exc)
        if said is None:
            raise
        log.warning("The database failed while signing someone in: %s", said)
        return f"database.{db.TROUBLE_NAMES[said]}", None


def client_of(request) -> str | None:
    """The client's address as the middleware left it (None when unknown)."""
    return request.client.host if request.client else None


def same_origin(request) -> bool:
    """Whether a form was posted from a page of this very host (the browser's Origin, or failing
    that its Referer, names the host the request was sent to): another site cannot sign a
    visitor in to an account of its choosing."""
    origin = request.headers.get("origin") or request.headers.get("referer") or ""
    if origin in ("", "null"):
        return False
    host = urlsplit("//" + request.headers.get("host", "")).hostname
    return host is not None and urlsplit(origin).hostname == host


def safe_next(value) -> str:
    """Where to send the browser afterwards: a path on this site, never another site's address."""
    text = str(value or "")
    if (not text.startswith("/") or text.startswith(("//", "/\\")) or len(text) > 2000
            or any(ord(ch) < 32 or ch == "\\" for ch in text)):
        return "/"
    return text


def _page(sentence: str) -> str:
    from html import escape

    return ("<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Safeguarding governance</title>"
            f"<body style=\"font-family:sans-serif;max-width:40rem;margin:4rem auto\"><p>{escape(sentence)}</p>"
            "<p><a href=\"/\">Go to the dashboard</a></p></body></html>")


# ---- Warming up as the server starts ------------------------------------------------------------

def warm_up() -> threading.Thread:
    """Make what the first visitor would otherwise wait for, in a thread of its own while the server
    starts: the libraries the pages use imported (pandas, plotly, the analysis), the database opened
    and brought up to date, the dataset read, and the trust leaders' views of the term shown first
    (ui/views.py); then the trustees' too, unless a browser has asked for the page meanwhile (their
    own page makes what it needs, and the warm-up would only slow the browser loading it). A
    visitor who comes sooner waits for the views being made, never makes them twice; anything that
    fails here is left for the first visitor's page to say in words."""
    thread = threading.Thread(target=_warm, name="warm-up", daemon=True)
    thread.start()
    return thread


def _warm() -> None:
    started = time.perf_counter()
    try:
        import plotly.graph_objects as go
        import plotly.io

        from store.access import TRUST_LEADER, TRUSTEE, Scope
        from ui import shell, views

        plotly.io.to_json(go.Figure(go.Heatmap(z=[[0]])), validate=False)  # the first figure loads plotly's parts
        engine = shell.database()
        if isinstance(engine, Exception):
            return
        views.warm(engine, (Scope(TRUST_LEADER, "", None, suppress=False), Scope(TRUSTEE, "", None, suppress=True)),
                   wanted=lambda: not (shell.visited() or page_asked()))
    except Exception:  # noqa: BLE001 - the first visitor's page says what is wrong, in words
        log.warning("Could not get the dashboard ready before its first visitor", exc_info=True)
        return
    log.info("Ready for the first visitor in %.1f s: the returns are read and the first page's views made.",
             time.perf_counter() - started)
