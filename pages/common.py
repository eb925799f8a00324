"""What every page shares: the database engine, who is signed in, and the apology for our bugs.

Not a page itself: `dashboard.py` lists the pages for `st.navigation`, and this module is
imported by them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager

import streamlit as st

import settings
from store import db, sample

log = logging.getLogger("dashboard")

DEMO_USER = "demo user"


@st.cache_resource(show_spinner="Opening the database…")
def engine():
    """One engine per process; the schema made and the sample trust loaded on first start."""
    eng = db.make_engine(settings.database_url())
    db.create_schema(eng)
    if settings.load_sample_on_first_start():
        sample.ensure_sample(eng)
    return eng


def current_user() -> str:
    """The signed-in person's email, or the demo user when no sign-in is configured."""
    try:
        if st.user.is_logged_in:
            return str(st.user.email)
    except Exception:  # no [auth] section configured: st.user has nothing to say
        pass
    return DEMO_USER


@contextmanager
def apology(action: str):
    """Turn a bug of ours into a short sentence on the page; the detail goes to the log."""
    try:
        yield
    except Exception:
        log.exception("Failed while %s", action)
        st.error(
            f"Sorry: something went wrong on our side while {action}. Nothing was half-saved. "
            "Please try again; if it happens again, tell your trust's data officer."
        )


def run_safely(action: str, fn: Callable, *args, **kwargs):
    """Call ``fn``; on a bug of ours, apologise and return None."""
    with apology(action):
        return fn(*args, **kwargs)
    return None
