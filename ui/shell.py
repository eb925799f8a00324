"""What every page shares: the database engine, who is signed in, and the apology for our bugs.

Not a page itself: `dashboard.py` lists the pages for `st.navigation`, and this module is
imported by them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import plotly.io
import streamlit as st
from plotly.basedatatypes import BaseFigure
from streamlit.runtime.scriptrunner import get_script_run_ctx

import settings
from analysis import deadlines
from analysis.indicators import PER_100
from analysis.themes import short_name
from analysis.views import ABOUT_THE_SAME, direction
from charts.format import fmt_change
from charts.funnel import funnel_plot
from charts.palette import SEVERITY_SYMBOL, SEVERITY_WORD
from loaders.registry import TERMS
from store import db, overview, sample, upgrades
from store import returns as store_returns
from store.access import Scope, scope_for
from store.audit import write_audit
from ui import identity, look, views

log = logging.getLogger("dashboard")

ENTRY = "dashboard.py"

# Set by dashboard.py before it builds the page list. Until the first session of a fresh server
# has run dashboard.py, Streamlit would serve a link straight into a page from the pages/ folder
# without the frame (page settings, navigation, and later sign-in); ``require_frame`` sends such
# a request through the frame first.
_frame = {"started": False}


def frame_started() -> None:
    _frame["started"] = True


def visited() -> bool:
    """Whether anyone's page has run in this server yet."""
    return _frame["started"]


def require_frame() -> None:
    """Send a request that skipped the frame through it; stop a page nobody signed in may see."""
    if not _frame["started"]:
        ctx = get_script_run_ctx()
        if ctx is not None and Path(ctx.main_script_path).name == ENTRY:
            st.switch_page(ENTRY)
    if user() is None:  # the frame's gate stops this first; a page never relies on that alone
        st.warning("Please sign in to see this page.", icon=":material/lock:")
        st.stop()


SCHEMA_TROUBLE = ("The dashboard cannot open its database until whoever runs the server has looked at it. "
                  "Nothing has been changed. (For them: `python -m store init` says what is wrong; once it is "
                  "put right, restart the dashboard.)")


def engine(before_stop: Callable[[], None] | None = None):
    """The database, brought to this release's schema. When this release cannot use it, every page
    says so in a sentence for its visitors (the reason, with its paths, goes to the server's log)
    and stops; ``before_stop`` lets the frame register its hidden page list first."""
    try:
        opened = _engine()
    except Exception as exc:  # noqa: BLE001 - the database out of reach: its sentence (a bug re-raised)
        database_trouble(exc, before_stop)
        st.stop()
    if isinstance(opened, upgrades.SchemaError):
        if before_stop is not None:
            before_stop()
        st.error(SCHEMA_TROUBLE, icon=":material/database:")
        st.stop()
    return opened


def database():
    """The database as ``engine`` opens it (once per process), or the SchemaError that keeps this
    release from using it; for the server's warm-up, which has no page to stop."""
    return _engine()


@st.cache_resource(show_spinner="Opening the database…")
def _engine():
    """One engine per process; the schema brought up to date and the sample trust loaded on first
    start. A database this release cannot use is tried once per process, not on every visit (each
    try of a failing upgrade would copy the database again): the refusal is kept, and logged."""
    eng = db.make_engine(settings.database_url())
    try:
        upgrades.upgrade(eng)
    except upgrades.SchemaError as exc:
        log.error("%s", exc)
        return exc
    if settings.load_sample_on_first_start():
        sample.ensure_sample(eng)
    return eng


def user():
    """The signed-in user (see ui/identity.py), or None."""
    return identity.signed_in_user(engine())


def current_user() -> str:
    """The signed-in person's email, as the record of changes names them."""
    who = user()
    return who.email if who is not None else "nobody signed in"


def scope() -> Scope:
    """What the signed-in user may see: every read of the trust's data below goes through it."""
    who = user()
    if who is None:
        return Scope("none", "", frozenset(), suppress=True, active=False)
    return scope_for(who)


def require_manager() -> None:
    """Stop a page that only trust leaders may use, with a plain sentence for anyone else (and,
    as ``require_frame``, a request that skipped the frame or nobody signed in)."""
    require_frame()
    if not scope().can_manage:
        st.warning("Only the trust's leaders (the CEO, the safeguarding lead and the data officer) use "
                   "this page.", icon=":material/lock:")
        st.stop()


@contextmanager
def apology(action: str):
    """Turn a bug of ours into a short sentence on the page; the detail goes to the log."""
    try:
        yield
    except Exception as exc:
        said = db.trouble(exc)
        if said is not None:  # the database's fault, not ours: say what it means for the person
            log.warning("The database failed while %s: %s", action, upgrades.one_line(exc))
            st.error(said, icon=":material/database:")
            return
        log.exception("Failed while %s", action)
        st.error(
            f"Sorry: something went wrong on our side while {action}. Nothing was half-saved. "
            "Please try again; if it happens again, tell your trust's data officer."
        )


def database_trouble(exc: BaseException, before_stop: Callable[[], None] | None = None) -> None:
    """End a run that met a fault of the database itself with its sentence, or re-raise a bug."""
    said = db.trouble(exc)
    if said is None:
        raise exc
    log.warning("The database failed: %s", upgrades.one_line(exc))
    if before_stop is not None:
        before_stop()
    st.error(said, icon=":material/database:")


def run_safely(action: str, fn: Callable, *args, **kwargs):
    """Call ``fn``; on a bug of ours, apologise and return None."""
    with apology(action):
        return fn(*args, **kwargs)
    return None


# ---- Text a person typed or a file carried, shown as the characters it is -------------------

# Streamlit reads Markdown (and its own :icon:, :colour[...] and $LaTeX$ directives) in
# st.markdown, captions, titles, alerts, table cells, metric and widget labels, expander labels
# and radio or pills options. What a user typed or a file carried goes there only through
# ``literal``, so that a school named "![x](http://...)" shows those characters and loads nothing.
# Select boxes and multiselects show their options as plain text: give them the text as it is.
MARKDOWN_CHARACTERS = frozenset("\\`*_[]()<>#|~$:&!{}")
_BLOCK_START = re.compile(r"^([ \t]*(?:\d+(?=[.)]))?)([-+=.)])", re.MULTILINE)  # a list or an underline
# GitHub's Markdown turns a bare web address (http://, www.) into a link even when its punctuation
# is escaped; an invisible word joiner before it keeps it text. An email address is left exactly
# as it is (someone may copy it to ask for access): at most it becomes a mailto: link, which
# loads nothing.
_LINK_START = re.compile(r"(?i)(https?:|www\.|ftp:)")
WORD_JOINER = "\u2060"
_ESCAPED = str.maketrans({ch: "\\" + ch for ch in MARKDOWN_CHARACTERS})  # each such character, backslashed


def literal(text) -> str:
    """Text shown exactly as typed wherever Streamlit would read Markdown or HTML: every character
    Markdown could take as formatting escaped, and no address turned into a link or an image."""
    return _literal("" if text is None else str(text))


@lru_cache(maxsize=1 << 16)  # a page shows the same findings and names on every click
def _literal(text: str) -> str:
    text = _LINK_START.sub(WORD_JOINER + r"\1", text)
    text = text.translate(_ESCAPED)
    return _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def literal_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame for st.table (whose cells and headers are Markdown) with every text cell literal."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = [literal(v) if isinstance(v, str) else v for v in out[column].tolist()]
    out.columns = [literal(c) if isinstance(c, str) else c for c in out.columns]
    return out


# ---- The trust's data, made once per store generation and kind of reader (ui/views.py) ---------

def view(name: str, make: Callable, *parts, chosen=views.NOTHING_CHOSEN):
    """A page's view of the data for the signed-in reader, kept until the store's generation moves:
    ``name`` and ``parts`` (the page's own choices, such as a term) say what it is, ``make`` makes
    it, ``chosen`` (the schools picked) is kept for its latest value only (ui.views.view)."""
    return views.view(engine(), scope(), name, make, *parts, chosen=chosen)


def dataset():
    """The part of the trust the signed-in user may see."""
    return views.scoped(engine(), scope())


def thresholds() -> dict[str, float]:
    """The thresholds the trust has changed from the documented defaults (the caller's own copy)."""
    return dict(views.thresholds(engine()))


def term_gaps(year: str, term: str):
    """(Context, gap frame) for a term, under the trust's thresholds, within the user's scope, as
    at today (a term's returns are not yet due until its deadline has passed)."""
    return views.term_gaps(engine(), scope(), year, term)


def default_term() -> tuple[str, str] | None:
    """The term shown when none is chosen, the same for every reader (analysis.deadlines)."""
    return deadlines.default_term(dataset(), thresholds())


# ---- The shared sidebar: academic year, term and schools, kept in the URL ---------------------

def sidebar() -> None:
    """Draw the choice of term and schools; pages read it with ``selection()``."""
    data = dataset()
    if not data.terms:
        st.sidebar.info("No returns stored yet.")
        return
    shown_year, shown_term = default_term()
    years = sorted({y for y, _ in data.terms}, reverse=True)
    st.sidebar.selectbox("Academic year", years, index=years.index(shown_year), key="year", bind="query-params")
    st.sidebar.selectbox("Term", TERMS, index=TERMS.index(shown_term), key="term", bind="query-params")
    names = data.school_names
    st.sidebar.multiselect(
        "Schools", sorted(names, key=names.get), format_func=lambda u: names.get(u, u), key="schools",
        bind="query-params", placeholder="All schools",
        help="Leave empty to see every school. The page address keeps your choice, so a link shares this view.",
    )


def selection() -> tuple[str, str, list[str]]:
    """(academic year, term, chosen URNs, or every school when none is chosen)."""
    data = dataset()
    shown = default_term() or (None, None)
    year = st.session_state.get("year") or shown[0]
    term = st.session_state.get("term") or shown[1]
    chosen = list(st.session_state.get("schools") or [])
    return year, term, chosen or list(data.school_names)


# ---- The gap table, and links to a school's profile --------------------------------------------

PROFILE = "school"  # the school profile's address (dashboard.py)
FOUND = "What we found"


def link_query() -> str:
    """What of the page's address a link to a school's profile keeps (the schools chosen): part of
    the key of any view holding such links."""
    return urlencode([(k, v) for k in st.query_params for v in st.query_params.get_all(k)
                      if k not in ("school", "year", "term")])


def profile_links(names, urns, years, terms, *, keep: str | None = None) -> list[str]:
    """Markdown links, for table cells, each to a school's profile at a term: its address names the
    school as the profile's picker does ("Name (URN)") and the term as the sidebar does, and keeps
    whatever else the page's address holds (``keep``, from ``link_query``: the schools chosen)."""
    if keep is None:
        keep = link_query()
    return [_profile_link(keep, *row) for row in zip(names, urns, years, terms)]


@lru_cache(maxsize=1 << 14)
def _profile_link(keep: str, name: str, urn: str, year: str, term: str) -> str:
    query = urlencode([("school", f"{name} ({urn})"), ("year", year), ("term", term)])
    return f"[{literal(name)}]({PROFILE}?{keep + '&' if keep else ''}{query})"


def gap_table(gaps: pd.DataFrame, *, key: str, items: pd.DataFrame | None = None, school: bool = True,
              theme: bool = True, question: bool = True, found: str = FOUND) -> None:
    """Gaps as every page lists them, drawn in this one place: the gap's severity as a symbol and a
    word, its school (a link to the school's profile at the gap's term), its theme, what we found
    (headed ``found``), the question to ask and, given the board's ``items``, the board's
    questions beside it. On a narrow screen each gap is a card (ui.look.table); ``key`` names
    the table, one of its own on a page."""
    look.table(gap_frame(gaps, items=items, school=school, theme=theme, question=question, found=found), key=key)


def gap_frame(gaps: pd.DataFrame, *, items: pd.DataFrame | None = None, school: bool = True, theme: bool = True,
              question: bool = True, found: str = FOUND, keep: str | None = None) -> pd.DataFrame:
    """The table ``gap_table`` draws, every cell ready for st.table: for a page to keep in a view
    (with ``keep``, the address its links keep, from ``link_query``) and draw with ``look.table``."""
    # each column read out whole (a column of text, cell by cell, is many times slower)
    columns = {"Gap": [f"{SEVERITY_SYMBOL[s]} {SEVERITY_WORD[s]}" for s in gaps["severity"].tolist()]}
    if school:
        columns["School"] = gaps["school"].tolist()
    if theme:
        columns["Theme"] = [short_name(t) for t in gaps["theme"].tolist()]
    columns[found] = gaps["finding"].tolist()
    if question:
        columns["A question to ask"] = gaps["question"].tolist()
    table = pd.DataFrame(columns)
    if items is not None:
        from ui import board_log  # it reads the log through this module

        table = board_log.beside(table, gaps, items)
    table = literal_table(table)
    if school:
        table["School"] = profile_links(*(gaps[c].tolist() for c in ("school", "urn", "academic_year", "term")),
                                        keep=keep)
    return table


def movement(change, unit: str, polarity: str) -> tuple[str, str, str] | None:
    """A change in a figure in parts: (arrow, the change, the word): ("▲", "+0.4 per 100", "higher"),
    ("▼", "-5 points", "better"), ("▲", "+1 point", "worse"); the change as charts.format words it,
    the word judging only where the measure has a better direction, and a change that rounds to
    nothing ("", "0.0 per 100", "about the same"), never "-0.0". None when either figure is missing."""
    said = fmt_change(change, unit)
    if said == "no data":
        return None
    number = float(said.split(" ")[0])
    if number == 0:
        return "", "0.0 per 100" if unit == PER_100 else "0 points", ABOUT_THE_SAME
    if abs(number) == 1 and unit != PER_100:
        said = said.replace("points", "point")
    return "▲" if number > 0 else "▼", said, direction(number, polarity)


def fmt_movement(change, unit: str, polarity: str) -> str:
    """A change as a table cell: "▲ +0.4 per 100 (higher)", "0 points (about the same)", "no data"."""
    parts = movement(change, unit, polarity)
    if parts is None:
        return "no data"
    arrow, said, word = parts
    return f"{arrow} {said} ({word})".lstrip()


class _Written(dict):
    """plotly's dictionary of a figure kept in a view, with the JSON plotly wrote of it, once."""

    json: str = ""


class _Drawn(BaseFigure):
    """A figure as plotly's dictionary of it, made once. st.plotly_chart asks a figure for that
    dictionary on every run, and plotly makes it by copying every cell (a 1,500-school heatmap is
    megabytes of it), then writes it out as JSON; a figure kept in a view (``drawn``) hands back
    the dictionary it made, and its JSON (``_to_json``). Nothing changes either after."""

    def __init__(self, spec: _Written) -> None:  # noqa: D107 - not plotly's constructor: nothing to validate again
        object.__setattr__(self, "_spec", spec)

    def to_dict(self) -> dict:
        return self._spec

    def to_plotly_json(self) -> dict:
        return self._spec

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self._spec.get('data', ()))} traces)"


_PLOTLY_TO_JSON = plotly.io.to_json
_AS_STREAMLIT_ASKS = {"validate": False}  # how st.plotly_chart asks for a figure's JSON


def _to_json(fig, *args, **kwargs):
    """plotly.io.to_json, which st.plotly_chart calls on every run: for a figure kept in a view,
    the JSON plotly wrote of it when it was kept (asked the same way, so the same text)."""
    if type(fig) is _Written and not args and kwargs == _AS_STREAMLIT_ASKS:
        return fig.json
    return _PLOTLY_TO_JSON(fig, *args, **kwargs)


plotly.io.to_json = _to_json


def drawn(chart):
    """``chart`` (charts.Chart) with its figure turned into plotly's dictionary and JSON once, for a
    chart kept in a view: each run's ``show_chart`` then only sends it."""
    spec = _Written(chart.figure.to_dict())
    spec.json = _PLOTLY_TO_JSON(spec, **_AS_STREAMLIT_ASKS)
    return replace(chart, figure=_Drawn(spec))


def show_chart(chart, *, key: str) -> None:
    """A figure with its one-sentence summary and, a click away, the table of its numbers. The
    summary also names the chart for screen readers; plotly's toolbar is left off, since its eight
    buttons would each be a stop for the keyboard and the numbers are in the table below."""
    st.plotly_chart(chart.figure, width="stretch", key=key, config={"displayModeBar": False}, alt=chart.summary)
    st.caption(literal(chart.summary))  # it names schools
    with st.expander("The numbers behind this chart"):
        st.dataframe(chart.table, hide_index=True, width="stretch")


def show_funnel(rows: pd.DataFrame, indicator: str, england: float | None = None, chosen: str | None = None, *,
                key: str) -> None:
    """A funnel plot (charts.funnel), ``chosen`` (a school's URN) named on it whatever the number of
    schools. On a narrow screen its title and the line on how to read it are text on the page,
    which wraps, and the plot names only the schools outside the expected range and the one chosen."""
    names = dataset().school_names
    with look.wide(key):
        show_chart(funnel_plot(rows, names, indicator, england, chosen), key=key)
    with look.narrow(key):
        chart = funnel_plot(rows, names, indicator, england, chosen, narrow=True)
        st.markdown(f"**{chart.title}**")
        st.caption(chart.reading)
        show_chart(chart, key=f"{key}_narrow")


def describe_detail(detail) -> str:
    """An audit row's detail in a line: problem codes and cells, counts, old and new values (a
    change as "question: blank → Why were ..."; nothing before or after is "blank", never None)."""
    if not isinstance(detail, dict) or not detail:
        return ""
    parts = []
    for key, value in detail.items():
        if isinstance(value, dict):  # what changed: each field's [before, after]
            value = ", ".join(f"{k.replace('_', ' ')}: {_was(v)}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(_said(v if not isinstance(v, dict) else v.get("code", v)) for v in value[:6]) + \
                ("…" if len(value) > 6 else "")
        parts.append(f"{key.replace('_', ' ')}: {_said(value)}")
    return "; ".join(parts)


def _said(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "blank" if value is None or (isinstance(value, float) and value != value) else str(value)


def _was(change) -> str:
    """A field's change, [before, after], as "before → after"."""
    if isinstance(change, (list, tuple)) and len(change) == 2:
        return f"{_said(change[0])} → {_said(change[1])}"
    return _said(change)


def whole_trust():
    """The whole trust's data, unfiltered: only for what filters it itself (the board pack, made
    for trustees with their suppression) and the demonstration's role switcher. The same cached
    copy the readers' views are made from, never a second one."""
    return views.whole_trust(engine())


def all_school_names() -> dict[str, str]:
    """Every school's name, for the demonstration's role switcher only (the sample trust)."""
    return whole_trust().school_names


def where_from() -> str:
    """Where a request came from, for the record of changes: the address, or "web"."""
    return identity.request_source() or "web"


def record(action: str, *, outcome: str = "done", urn: str | None = None, detail: dict | None = None) -> None:
    """Put an action of the signed-in user on record (an export, an explanation, a sign-in)."""
    def write():
        with db.writing(engine()) as conn:
            write_audit(conn, actor=current_user(), action=action, outcome=outcome, urn=urn, detail=detail,
                        source=where_from())
    run_safely("keeping a record of this", write)


def returns_overview():
    """One row per return the user may see (newest versions), from the store."""
    return scope().filter(overview.returns_overview(engine()))


def schools():
    """The schools the user may see: urn, name, phase."""
    return scope().filter(store_returns.schools(engine()))
