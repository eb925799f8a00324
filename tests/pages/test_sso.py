"""Single sign-on in the frame: the login route has what it imports; whatever claims the provider
sends, the person is let in or told why not in a sentence, never shown an error; signing out is
on record. (tests/browser/test_sso.py does the same against a real provider, end to end.)"""

from __future__ import annotations

import inspect
import warnings

import pytest
from streamlit.testing.v1 import AppTest

from store import db
from store.audit import audit_log

from .conftest import ROOT, as_read, assert_no_exception

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
        "client_id": "id", "client_secret": "secret",
        "server_metadata_url": "https://login.example.org/.well-known/openid-configuration"}


def test_the_login_route_can_import_what_it_needs():
    """Streamlit's /auth/login and /oauth2callback build their client from Authlib's Starlette
    integration, which needs httpx; without it pressing "Sign in" is a bare Internal Server Error."""
    from streamlit.web.server.starlette import starlette_auth_routes

    assert "from authlib.integrations import starlette_client" in inspect.getsource(
        starlette_auth_routes._create_oauth_client)
    import authlib.deprecate  # noqa: F401 - sets its warnings to "always" when first imported

    with warnings.catch_warnings():  # Authlib asks for httpx2 by now, and still works with httpx
        warnings.simplefilter("ignore", DeprecationWarning)
        from authlib.integrations import starlette_client  # ModuleNotFoundError without httpx

    assert issubclass(starlette_auth_routes._create_streamlit_oauth_class(starlette_client),
                      starlette_client.OAuth)


@pytest.fixture
def sso_app(sample_app, monkeypatch):
    """The sample trust with single sign-on set up and a trust leader added; ``sign_in(claims)``
    stands in for the provider's ID token."""
    from store.users import add_user
    from ui import identity

    engine = db.make_engine(f"sqlite:///{sample_app / 'app.db'}")
    add_user(engine, "ash.quill@trust.example.org", role="trust_leader", actor="test")
    monkeypatch.delenv("ALLOWED_EMAIL_DOMAINS", raising=False)
    signed_out = []
    monkeypatch.setattr(identity.st, "logout", lambda: signed_out.append(True))

    def sign_in(claims: dict | None, cookie: str | None = None) -> AppTest:
        """A visit whose identity cookie (``cookie``: Streamlit's, as the provider's sign-in left it)
        carries ``claims``."""
        signed_out.clear()
        monkeypatch.setattr(identity, "sso_claims", lambda: None if claims is None or signed_out else dict(claims))
        monkeypatch.setattr(identity, "sso_token", lambda: cookie)
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30)
        at.secrets["auth"] = AUTH
        return at.run()

    sign_in.engine, sign_in.signed_out = engine, signed_out
    return sign_in


def test_an_entra_token_without_email_signs_in_by_its_user_name(sso_app):
    at = sso_app({"sub": "a1", "preferred_username": "Ash.Quill@Trust.example.org", "name": "Ash Quill"})
    assert_no_exception(at)
    assert at.get("plotly_chart") and not at.warning
    assert any("ash.quill@trust.example.org" in as_read(c.value) and "(Trust leader)" in as_read(c.value)
               for c in at.caption)


@pytest.mark.parametrize("claims, says", [
    ({"sub": "a1", "preferred_username": "**jdoe**"}, "a user name “\\*\\*jdoe\\*\\*” that is not an email address"),
    ({"sub": "a1", "email": "ash.quill@trust.example.org", "email_verified": False}, "marked as not verified"),
    ({"sub": "a1"}, "it sent no email address and no user name"),
])
def test_a_token_without_a_usable_address_gets_a_sentence(sso_app, claims, says):
    at = sso_app(claims)
    assert_no_exception(at)
    assert not at.get("plotly_chart") and not at.table
    [warning] = at.warning
    assert says in warning.value  # what the provider sent, shown as sent, not read as Markdown
    assert "Ask your trust" in warning.value
    assert [b.label for b in at.button] == ["Sign out"]


def test_an_address_outside_the_allowed_domains_is_refused(sso_app, monkeypatch):
    monkeypatch.setenv("ALLOWED_EMAIL_DOMAINS", "kestrel.example.org")
    at = sso_app({"sub": "a1", "email": "ash.quill@trust.example.org"})
    assert_no_exception(at)
    assert not at.get("plotly_chart")
    assert "only lets in addresses ending @kestrel" in at.warning[0].value


def test_a_sign_in_is_recorded_once_a_session(sso_app):
    at = sso_app({"sub": "a1", "email": "Ash.Quill@trust.example.org", "email_verified": True})
    at.run()  # another run of the same session
    assert_no_exception(at)
    log = audit_log(sso_app.engine, actor="ash.quill@trust.example.org", actions=["sign_in"])
    assert list(log["outcome"]) == ["accepted"]
    assert log["detail"].iloc[0] == {"by": "single sign-on", "claim": "email"}


def test_signing_out_ends_the_session_and_is_on_record(sso_app):
    at = sso_app({"sub": "a1", "email": "ash.quill@trust.example.org", "email_verified": True})
    [sign_out] = [b for b in at.sidebar.button if b.label == "Sign out"]
    sign_out.click().run()
    assert_no_exception(at)
    assert sso_app.signed_out == [True]  # st.logout: Streamlit's logout route, then the provider's
    assert not at.get("plotly_chart")
    log = audit_log(sso_app.engine, actor="ash.quill@trust.example.org", actions=["sign_in", "sign_out"])
    assert list(log["action"].iloc[::-1]) == ["sign_in", "sign_out"]
    assert list(log["outcome"].iloc[::-1]) == ["accepted", "done"]


def test_a_refused_sign_in_is_on_record(sso_app):
    sso_app({"sub": "a1", "email": "stranger@example.net"}).run()
    log = audit_log(sso_app.engine, actor="stranger@example.net")
    assert list(log["outcome"]) == ["refused"] and log["detail"].iloc[0]["reason"] == "no such user"


def test_a_fault_while_checking_who_is_signed_in_is_an_apology_not_a_traceback(sso_app, monkeypatch):
    from store import sso

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(sso, "resolve", broken)
    at = sso_app({"sub": "a1", "email": "ash.quill@trust.example.org"})
    assert_no_exception(at)
    assert any("something went wrong on our side while checking who you are" in e.value for e in at.error)
    assert not at.get("plotly_chart") and not at.button


ASH = {"sub": "a1", "email": "ash.quill@trust.example.org", "email_verified": True}


def _signed_in(at) -> bool:
    return bool(at.get("plotly_chart")) and any("Signed in as" in as_read(c.value) for c in at.caption)


def test_a_signed_out_identity_cookie_sent_again_lets_nobody_in(sso_app):
    """Streamlit's identity cookie stays good for 30 days; the dashboard's own session for that
    sign-in ends on Sign out, so a copy of the cookie (another tab, a shared machine, a thief) gets
    the sign-in page."""
    at = sso_app(ASH, cookie="identity-cookie-1")
    assert _signed_in(at)
    again = sso_app(ASH, cookie="identity-cookie-1")  # a reload, a new tab: the same sign-in
    assert _signed_in(again)
    [sign_out] = [b for b in again.sidebar.button if b.label == "Sign out"]
    sign_out.click().run()
    assert sso_app.signed_out == [True]

    replayed = sso_app(ASH, cookie="identity-cookie-1")
    assert_no_exception(replayed)
    assert not replayed.get("plotly_chart") and not _signed_in(replayed)
    assert [i.value for i in replayed.info] == ["You have signed out."]
    assert [b.label for b in replayed.button] == ["Sign in"]
    assert _signed_in(sso_app(ASH, cookie="identity-cookie-2"))  # signing in afresh gives a new cookie
    log = audit_log(sso_app.engine, actor="ash.quill@trust.example.org", actions=["sign_in", "sign_out"])
    assert list(log["outcome"].iloc[::-1]) == ["accepted", "accepted", "done", "refused", "accepted"]


def test_an_identity_cookie_left_unused_past_the_idle_limit_lets_nobody_in(sso_app, monkeypatch):
    from datetime import timedelta

    import sqlalchemy as sa

    from store.schema import sessions
    from store.sessions import token_hash

    monkeypatch.setenv("SESSION_IDLE_HOURS", "2")
    assert _signed_in(sso_app(ASH, cookie="identity-cookie-3"))
    mine = sessions.c.token_hash == token_hash("identity-cookie-3")  # the server keeps the hash only
    with sso_app.engine.begin() as conn:
        email, last = conn.execute(sa.select(sessions.c.email, sessions.c.last_seen_at).where(mine)).one()
        assert email == "ash.quill@trust.example.org"
        conn.execute(sessions.update().where(mine).values(last_seen_at=last - timedelta(hours=2, minutes=1)))
    at = sso_app(ASH, cookie="identity-cookie-3")
    assert_no_exception(at)
    assert not _signed_in(at)
    assert "You were signed out after 2 hours without using the dashboard" in at.info[0].value
    assert [b.label for b in at.button] == ["Sign in"]


def test_a_removed_person_is_refused_though_their_identity_cookie_is_still_good(sso_app):
    from store.users import add_user, remove_user

    add_user(sso_app.engine, "casey.leader@trust.example.org", role="trust_leader", actor="test")
    assert _signed_in(sso_app(ASH, cookie="identity-cookie-4"))
    remove_user(sso_app.engine, "ash.quill@trust.example.org", actor="test")
    at = sso_app(ASH, cookie="identity-cookie-4")
    assert_no_exception(at)
    assert not _signed_in(at) and at.warning
