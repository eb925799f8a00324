"""The trust's data as the pages see it, made once per store generation and kind of reader.

Every view worth keeping between clicks (the dataset, a reader's part of it, a term's gaps, the
board's log, a page's figures) is made here through ``view``, keyed on the database's URL, its
generation (``store.db.generation``: every write that changes what the pages show moves it on),
the day (a return becomes due at midnight) and the reader's scope: which schools they see and
whether small numbers are hidden from them. A page names its view and the choices of its own that
it depends on (a term, the schools chosen); never the database, the generation or the reader.

Memory is bounded by what is held, not by a count of entries: one set of views per database, made
from one dataset. When the generation or the day moves, the set is replaced whole, so the old
dataset and everything made from it are let go together. Within a generation a view made for a
choice of schools (``chosen``) keeps only the latest choice for its reader and parameters, so
clicking through choices does not pile copies up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analysis import deadlines
from analysis.context import Context, Dataset, restrict
from analysis.dataset import load_dataset
from analysis.gaps import find_gaps, gaps_frame
from loaders.registry import term_from_index, term_index
from store import db
from store.access import Scope
from store.thresholds import load_thresholds

# The reader of a view made before any reader's scope is applied (the whole trust, its thresholds).
WHOLE_TRUST = ("the whole trust",)
NOTHING_CHOSEN = object()


@dataclass
class Generation:
    """The views of one database at one generation and day."""

    number: int
    today: date
    views: dict[Hashable, tuple[Any, Any]] = field(default_factory=dict)  # key: (what was chosen, view)
    _making: dict[Hashable, threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: Hashable, make: Callable[[], Any], chosen: Any = NOTHING_CHOSEN) -> Any:
        """The view under ``key`` (made for ``chosen``), made by ``make`` when missing; one session
        makes it while any other asking for it waits, so no view is ever made twice at once."""
        found = self.views.get(key)
        if found is not None and found[0] == chosen:
            return found[1]
        with self._lock:
            maker = self._making.setdefault(key, threading.Lock())
        with maker:
            found = self.views.get(key)
            if found is not None and found[0] == chosen:
                return found[1]
            made = make()
            self.views[key] = (chosen, made)
            return made


class _Database:
    """The current generation's views of one database."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current: Generation | None = None


@st.cache_resource(show_spinner=False)
def _database(url: str) -> _Database:  # noqa: ARG001 - the database it holds views of: the cache key
    return _Database()


def current(engine: Engine) -> Generation:
    """The views of ``engine``'s database for its generation now (and today). The generation is
    read under a lock, so sessions see it move forwards only; when it has moved, the old views are
    dropped here, before anything new is made."""
    held = _database(engine.url.render_as_string(hide_password=False))
    with held.lock:
        stamp = db.generation(engine), deadlines.current_date()
        if held.current is None or (held.current.number, held.current.today) != stamp:
            held.current = Generation(*stamp)
        return held.current


def reader(scope: Scope | None) -> tuple:
    """What a reader's views depend on: which schools they see and whether small numbers are hidden
    (never their name: two trustees share their views, a trustee and a trust leader never do)."""
    if scope is None:
        return WHOLE_TRUST
    return (scope.active, scope.urns if scope.active else frozenset(), scope.suppress)


def view(engine: Engine, scope: Scope | None, name: str, make: Callable[[], Any], *parts: Hashable,
         chosen: Hashable = NOTHING_CHOSEN) -> Any:
    """The view ``name`` of the current generation for this reader (None: the whole trust) and
    ``parts``, made by ``make`` when missing. ``chosen`` (the schools a person picked) is kept only
    for its latest value."""
    return current(engine).get((name, reader(scope), parts), make, chosen)


# ---- The views every page reads ------------------------------------------------------------------

def whole_trust(engine: Engine) -> Dataset:
    """Everything stored, unfiltered: the one dataset in memory for this database."""
    def make():
        if get_script_run_ctx(suppress_warning=True) is None:  # made as the server starts
            return load_dataset(engine)
        with st.spinner("Reading the returns…"):
            return load_dataset(engine)
    return view(engine, None, "dataset", make)


def thresholds(engine: Engine) -> dict[str, float]:
    """The thresholds the trust has changed from the documented defaults."""
    return view(engine, None, "thresholds", lambda: load_thresholds(engine))


def scoped(engine: Engine, scope: Scope) -> Dataset:
    """The part of the trust a reader may see, made from the one dataset (filtering and suppression
    are not redone on every click)."""
    return view(engine, scope, "dataset", lambda: restrict(whole_trust(engine), scope))


def term_gaps(engine: Engine, scope: Scope, year: str, term: str) -> tuple[Context, Any]:
    """(Context, gap frame) for a term, under the trust's thresholds, within the reader's scope, as
    at today (a term's returns are not yet due until its deadline has passed)."""
    def make():
        ctx = Context(scoped(engine, scope), year, term, dict(thresholds(engine)), current(engine).today)
        return ctx, gaps_frame(find_gaps(ctx))
    return view(engine, scope, "gaps", make, year, term)


def warm(engine: Engine, scopes: tuple[Scope, ...] = (), *, wanted: Callable[[], bool] = lambda: True) -> None:
    """Make the views the first visitor will ask for: the dataset, and for each scope given (in
    turn, while ``wanted()``) its part and the gaps of the term shown first and of the term before
    it, which the Overview compares it with."""
    whole_trust(engine)
    for n, scope in enumerate(scopes):
        if n and not wanted():
            return
        data = scoped(engine, scope)
        shown = deadlines.default_term(data, thresholds(engine))
        if shown is None:
            continue
        term_gaps(engine, scope, *shown)
        before = term_from_index(term_index(*shown) - 1)
        if before in data.terms:
            term_gaps(engine, scope, *before)
