"""Run the dashboard in Streamlit's AppTest against a database of the test's own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """A fresh SQLite database; set LOAD_SAMPLE=1 in a test to start from the sample trust."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("LOAD_SAMPLE", "0")
    st.cache_resource.clear()
    st.cache_data.clear()
    yield tmp_path
    st.cache_resource.clear()
    st.cache_data.clear()


DEFAULT_PAGE = "pages/overview.py"


def open_page(page: str, *, timeout: float = 30, state: dict | None = None) -> AppTest:
    """The app as a user meets it, on one page (e.g. "pages/upload.py").

    AppTest drops the sidebar of any page reached by switch_page, so a sidebar choice on such a
    page is given as ``state`` (what the sidebar's widgets would hold); on the default page the
    sidebar is there to use.
    """
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=timeout)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    if page != DEFAULT_PAGE:
        at.switch_page(page)
        at.run()
    return at


def as_read(text):
    """What a reader sees of text a page sent as Markdown with user text made literal
    (ui.shell.literal): the backslash escapes and the invisible word joiners gone."""
    if not isinstance(text, str):
        return text
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text).replace("\u2060", "")


def table_as_read(frame):
    """An st.table's frame (or a styled one's) as its reader sees it."""
    frame = frame.data if hasattr(frame, "data") else frame
    out = frame.map(as_read)
    out.columns = [as_read(c) for c in frame.columns]
    return out


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def sample_app(app_env, sample_db_file, monkeypatch):
    """The app over a copy of the sample trust."""
    import shutil

    shutil.copy(sample_db_file, app_env / "app.db")
    return app_env


@pytest.fixture
def sign_in(monkeypatch):
    """Stand in for the sign-in: ``sign_in("dsl", ["990002"])`` makes the app see that user."""
    from store.users import User
    from ui import identity

    def as_user(role: str = "trust_leader", urns=(), email: str = "leader@example.org") -> User:
        user = User(email, f"Test {role}", role, tuple(urns))
        monkeypatch.setattr(identity, "mode", lambda _engine: "local")
        monkeypatch.setattr(identity, "signed_in_user", lambda _engine: user)
        return user

    return as_user


def sign_in_forms(at) -> list[str]:
    """The sign-in forms a run drew (st.html elements with a form; the page's style is one too)."""
    return [h.proto.body for h in at.get("html") if "<form" in h.proto.body]
