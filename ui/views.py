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

A new generation's dataset is made from the one before by reading only the school-terms stored
since (analysis.refresh); the gaps of a term earlier than any of them, under the same thresholds,
day and reader, are the same as before and are kept, for readers who see every count (a reader
whose small numbers are hidden has them hidden across terms, so theirs are made again).
"""

from __future__ import annotations

import ctypes
import gc
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
from analysis.gaps import find_gaps, gaps_frame
from analysis.refresh import refresh
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
    previous: Generation | None = None  # the generation before, until this one's dataset is made
    kept: dict[Hashable, Any] = field(default_factory=dict)  # gap lists still true, from the one before
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
    _settle()
    return _Database()


_settled = threading.Event()


def _settle() -> None:
    """Once, before the first dataset is made: what the process holds now (the libraries, the
    pages' code) is set aside from the cyclic garbage collector, so the collection that lets an old
    dataset go (give_back_memory) looks only at what came after, in milliseconds; and Arrow's memory
    comes from the C library (_arrow_memory_from_the_c_library)."""
    if not _settled.is_set():
        _settled.set()
        _arrow_memory_from_the_c_library()
        gc.collect()
        gc.freeze()


def _arrow_memory_from_the_c_library() -> None:
    """pandas keeps text in Arrow's columns, and Arrow allocates them from a pool of its own, which
    keeps what is freed for Arrow to reuse: while a dataset's views are made, a server's peak was
    its data's size plus all that Arrow had freed. From the C library, what Arrow frees is reused
    by everything else, and handed back to the system with the rest (give_back_memory)."""
    try:
        import pyarrow
    except ImportError:
        return
    pyarrow.set_memory_pool(pyarrow.system_memory_pool())


def current(engine: Engine) -> Generation:
    """The views of ``engine``'s database for its generation now (and today). The generation is
    read under a lock, so sessions see it move forwards only; when it has moved, the old views are
    dropped here, before anything new is made."""
    url = engine.url.render_as_string(hide_password=False)
    run, read = _this_run()
    seen = read.get(url)
    if seen is not None and seen[0] == db.moves_made_here():
        return seen[1]
    held = _database(url)
    with held.lock:
        moves = db.moves_made_here()
        stamp = db.generation(engine), deadlines.current_date()
        if held.current is None or (held.current.number, held.current.today) != stamp:
            held.current = Generation(*stamp, previous=held.current)
            if held.current.previous is not None:
                held.current.previous.previous = None  # one generation back at most
        if run is not None:
            read[url] = (moves, held.current)
        return held.current


_READ_IN_RUN = "_store_generations_read"


def _this_run() -> tuple[Any, dict]:
    """The page run under way (None outside one) and the generations read in it so far, by database.
    A run reads each database's generation once, the first time it asks for a view, and keeps to it:
    every view of one run comes from one generation, and a click costs one read, not one per view.
    A write made by this process during the run (``db.moves_made_here``) has it read again."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return None, {}
    # Streamlit gives each run of the page a fresh ``cursors`` dict; the one held here stays alive
    # while it is held, so it cannot be confused with a later run's.
    run = ctx.cursors
    held = getattr(ctx, _READ_IN_RUN, None)
    if held is None or held[0] is not run:
        held = (run, {})
        setattr(ctx, _READ_IN_RUN, held)
    return run, held[1]


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
    """Everything stored, unfiltered: the one dataset in memory for this database, made from the
    generation before's by reading what was stored since."""
    generation = current(engine)

    def make():
        before = generation.previous
        old = before.views.get(("dataset", WHOLE_TRUST, ()), (None, None))[1] if before else None
        if get_script_run_ctx(suppress_warning=True) is None or old is not None:  # the server starting, or quick
            data = refresh(engine, old)
        else:
            with st.spinner("Reading the returns…"):
                data = refresh(engine, old)
        if before is not None:
            generation.kept = _still_true(engine, before, generation, old, data)
            generation.previous = before = old = None  # the old dataset and its views can go
        give_back_memory()  # and what reading the new one took while it was read
        return data
    return view(engine, None, "dataset", make)


def give_back_memory() -> None:
    """Hand the memory freed by an old dataset, and by the reading of a new one, back to the system. The C library keeps what was
    freed for the process to reuse, in pools per thread (each session's script runs on a thread of
    its own), so without this a server's size after a few stored returns is that of several
    datasets rather than one. Only where the C library is glibc; elsewhere nothing happens."""
    gc.collect()  # what the old dataset held in cycles (pandas' frames keep some) goes now, not later
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _still_true(engine: Engine, before: Generation, now: Generation, old: Dataset | None, data: Dataset) -> dict:
    """The gap lists of ``before`` that ``now`` would make the same: of terms earlier than any
    school-term stored since, with the same thresholds and day, for readers who see every count."""
    if old is None or before.today != now.today:
        return {}
    changed = float("inf") if data is old else data.first_changed  # None: read whole
    said = before.views.get(("thresholds", WHOLE_TRUST, ()))
    if changed is None or said is None or said[1] != thresholds(engine):
        return {}
    return {key: made[1][1] for key, made in before.views.items()
            if key[0] == "gaps" and key[1] != WHOLE_TRUST and not key[1][2] and term_index(*key[2]) < changed}


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
        generation = current(engine)
        ctx = Context(scoped(engine, scope), year, term, dict(thresholds(engine)), generation.today)
        kept = generation.kept.pop(("gaps", reader(scope), (year, term)), None)
        return ctx, kept if kept is not None else gaps_frame(find_gaps(ctx))
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
