"""Run the dashboard in Streamlit's AppTest against a database of the test's own."""

from __future__ import annotations

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


def open_page(page: str, *, timeout: float = 30) -> AppTest:
    """The app as a user meets it, switched to one page (e.g. "pages/upload.py")."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=timeout)
    at.run()
    at.switch_page(page)
    at.run()
    return at


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
