"""Everything a reader receives from the dashboard, gathered as that reader.

Every page the reader can open is run in Streamlit's AppTest for every term with a return (and,
on the pages that offer one, every measure and every school), and every element it sends is
kept: text, metrics, tables, the figures' JSON and the files its download buttons hand over.
The board pack is made on the pack page (as HTML and as Excel, short and with its appendix) for
every term, and the gap list comes from the command line (``python -m analysis gaps --role ...
--json``). Each thing kept is an ``Item``: what it is, where it came from (a route a person can
follow), and its context (the term, the school or measure chosen on the page).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import re
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
import streamlit.testing.v1.app_test as app_test
from openpyxl import load_workbook
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from loaders.registry import term_index
from tests.pages.conftest import as_read, open_page

TRUSTEE_PAGES = ("overview", "school", "board_questions", "pack", "neglect", "adolescents", "multi_agency",
                 "workforce", "returns", "about", "privacy", "account")
THEME_MEASURE = {"neglect": "measure_neglect", "adolescents": "measure_adolescents",
                 "multi_agency": "measure_multi_agency", "workforce": "measure_workforce"}
QUIET = {"selectbox", "multiselect", "toggle", "checkbox", "button", "button_group", "radio", "expander", "text_input",
         "text_area", "date_input", "form_submit_button", "divider", "empty", "spinner"}
STYLE_ONLY = re.compile(r"\s*<style>[^<]*</style>\s*")
TEXT_TYPES = {"markdown", "caption", "title", "header", "subheader", "success", "info", "warning", "error",
              "exception", "text", "code", "latex"}


@dataclass
class Item:
    """One thing the reader received."""

    kind: str  # "text", "metric", "table", "chart", "file"
    where: str  # the route, as a person would follow it
    data: object  # str, DataFrame, a figure's dict, or bytes
    year: str | None = None
    term: str | None = None
    urn: str | None = None  # the school chosen on the page, when the page is about one
    title: str = ""  # the figure a table belongs to (its title), or the heading above it
    section: str = ""  # the theme (or part) of the page or pack the item sits in

    @property
    def term_index(self) -> int | None:
        return term_index(self.year, self.term) if self.year and self.term else None


@dataclass
class Harvest:
    items: list[Item] = field(default_factory=list)
    runs: int = 0  # how many times a page was run
    _seen: set = field(default_factory=set)

    def add(self, item: Item) -> None:
        key = (item.kind, item.year, item.term, item.urn, item.title, item.section, _digest(item.data))
        if key not in self._seen:
            self._seen.add(key)
            self.items.append(item)


def _digest(data) -> str:
    if isinstance(data, pd.DataFrame):
        text = data.to_json(orient="split", default_handler=str)
    elif isinstance(data, (dict, list)):
        text = json.dumps(data, sort_keys=True, default=str)
    elif isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest()
    else:
        text = str(data)
    return hashlib.sha256(text.encode()).hexdigest()


# ---- the pages, in AppTest ---------------------------------------------------------------------

class _Downloads(MemoryMediaFileStorage):
    """The app's media store, keeping every file a download button handed over."""

    files: dict[str, bytes] = {}

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        file_id = super().load_and_get_id(path_or_data, mimetype, kind, filename)
        _Downloads.files[file_id] = self._files_by_id[file_id].content
        return file_id


def harvest_pages(db_path: Path, role: str, *, pages=TRUSTEE_PAGES, terms=None, schools=None,
                  trends: int = 1, packs: str = "last") -> Harvest:
    """Run the pages as a reader of ``role`` over the database at ``db_path``.

    ``terms`` (default: every term with a return) and ``schools`` (default: every school) narrow
    what is run. The school page's term-by-term chart shows every term at once, so it is run for
    every measure on the first ``trends`` schools only (the theme pages' charts show every school's
    terms). The pack page is read for every term; it makes the pack for the last term only when
    ``packs`` is "last" (the other terms' packs are made by the same call, in ``pack_files``), for
    every term ("all"), or never ("none": its buttons left unpressed)."""
    from analysis.dataset import load_dataset
    from store import db
    from store.users import User
    from ui import identity

    url = f"sqlite:///{db_path}"
    engine = db.make_engine(url)
    data = load_dataset(engine)
    db.dispose(engine)
    terms = list(terms or data.terms)
    urns = list(schools or sorted(data.school_names))
    user = User(f"{role}@example.org", f"A {role}", role, ())
    out = Harvest()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.setenv("LOAD_SAMPLE", "0")
        mp.setattr(identity, "mode", lambda _engine: "local")
        mp.setattr(identity, "signed_in_user", lambda _engine: user)
        mp.setattr(app_test, "MemoryMediaFileStorage", _Downloads)
        st.cache_resource.clear()
        st.cache_data.clear()
        try:
            for year, term in terms:
                state = {"year": year, "term": term}
                last = (year, term) == terms[-1]
                for page in pages:
                    _run_page(out, page, state, urns, last=last, trends=urns[:trends] if last else [], packs=packs)
        finally:
            st.cache_resource.clear()
            st.cache_data.clear()
    return out


def pages_not_read_every_term(items: list[Item], pages, terms) -> dict[str, list]:
    """Each of ``pages`` whose items were not read for exactly the ``terms``: the terms read."""
    out = {}
    for page in pages:
        read = {(i.year, i.term) for i in items if i.where.startswith(f"the {page.replace('_', ' ')} page")}
        if read != set(terms):
            out[page] = sorted(read)
    return out


def _run_page(out: Harvest, page: str, state: dict, urns: list[str], *, last: bool, trends: list[str],
              packs: str = "last") -> None:
    """One page for one term: every school on the school page (every measure's term-by-term
    chart for the schools in ``trends``), every measure on a theme page, every question's record
    of changes on the board questions page (in the ``last`` term only: they have no term), and
    both packs on the pack page."""
    year, term = state["year"], state["term"]
    where = f"the {page.replace('_', ' ')} page, {term} {year}"
    if page == "school":
        for urn in urns:
            _run_school(out, {**state, "school": urn}, f"{where}, school {urn}", urn in trends)
        return
    at = _open(out, page, state)
    if page == "overview":
        at.button_group(key="ov_levels").set_value(["red", "amber", "note"]).run()  # questions too
        out.runs += 1
    _collect(out, at, where, year, term, section=page)
    if page in THEME_MEASURE:
        for option in _option_values(at.selectbox(key=THEME_MEASURE[page]))[1:]:
            at.selectbox(key=THEME_MEASURE[page]).set_value(option).run()
            out.runs += 1
            _collect(out, at, f"{where}, measure {option}", year, term, section=page)
    if page == "board_questions" and last:
        _run_questions(out, at, where, year, term)
    if page == "pack" and (packs == "all" or packs == "last" and last):
        _run_packs(out, at, where, year, term)


def _run_school(out: Harvest, state: dict, where: str, trends: bool) -> None:
    """The school page for one school; with ``trends``, every measure's term-by-term chart too."""
    year, term, urn = state["year"], state["term"], state["school"]
    at = _open(out, "school", state)
    _collect(out, at, where, year, term, urn=urn)
    if trends:
        for option in _option_values(at.selectbox(key="school_measure"))[1:]:
            at.selectbox(key="school_measure").set_value(option).run()
            out.runs += 1
            _collect(out, at, f"{where}, term-by-term chart of {option}", year, term, urn=urn)


def _run_questions(out: Harvest, at, where: str, year: str, term: str) -> None:
    """Each question's record of changes on the board questions page."""
    picks = [b for b in at.selectbox if b.key == "cl_pick"]
    for option in (picks[0].options[1:] if picks else []):
        at.selectbox(key="cl_pick").set_value(int(option.split(" · ")[0].removeprefix("No. "))).run()
        out.runs += 1
        _collect(out, at, f"{where}, question {option.split(' · ')[0]}", year, term, section="board_questions")


def _run_packs(out: Harvest, at, where: str, year: str, term: str) -> None:
    """Both packs, short and with the appendix, in each format the pack page makes."""
    for appendix in (False, True):  # the short pack, then the pack with its appendix
        at.checkbox(key="pack_appendix").set_value(appendix).run(timeout=120)
        out.runs += 1
        for fmt in ("html", "xlsx"):
            (button,) = [b for b in at.button if b.key == f"make_{fmt}"]
            button.click().run(timeout=120)
            out.runs += 1
            _collect(out, at, f"{where}, {fmt} pack{PACK_FORMS[appendix]}", year, term, section="pack")


def _option_values(box) -> list:
    """A select box's values (AppTest shows its labels)."""
    from analysis.indicators import INDICATORS_BY_ID

    by_label = {i.label: i.id for i in INDICATORS_BY_ID.values()}
    return [by_label.get(label, label) for label in box.options]


def _open(out: Harvest, page: str, state: dict):
    at = open_page(f"pages/{page}.py", state=state, timeout=120)
    out.runs += 1
    assert not at.exception, [e.value for e in at.exception]
    return at


def _collect(out: Harvest, at, where: str, year: str, term: str, *, urn: str | None = None,
             section: str = "") -> None:
    """Every element the run sent, in order; a table under a chart is tied to the chart's title."""
    state = {"title": "", "heading": ""}

    def walk(node):
        kind = getattr(node, "type", None)
        read = _read_node(node, kind, state, where)
        if read is not None:
            what, label, content, under = read
            out.add(Item(what, label, content, year, term, urn, under, section))
        children = getattr(node, "children", None)
        if children:
            inside = kind == "expander" and getattr(node, "label", "") == "The numbers behind this chart"
            before = state.get("in_chart")
            state["in_chart"] = inside
            for child in children.values():
                walk(child)
            state["in_chart"] = before

    walk(at._tree)


def _read_node(node, kind: str | None, state: dict, where: str) -> tuple[str, str, object, str] | None:
    """What one element says: (kind of item, where it was read, what it holds, the title or
    heading it stands under); None for an element that says nothing. A chart or heading moves
    ``state``'s title and heading on."""
    proto = getattr(node, "proto", None)
    if kind == "plotly_chart":
        figure = decode_figure(json.loads(proto.spec))
        state["title"] = figure_title(figure)
        return "chart", f"{where}: chart \"{state['title']}\"", figure, state["title"]
    if kind in ("dataframe", "table"):
        inside = state["title"] if state.get("in_chart") else state["heading"]
        return "table", f"{where}: table under \"{inside}\"", _frame_of(node, kind), inside
    if kind in TEXT_TYPES:
        text = as_read(getattr(node, "value", "") or "")
        if kind in ("header", "subheader", "title"):
            state["heading"], state["title"] = text, ""
        return "text", f"{where}: {kind}", text, state["heading"]
    if kind == "metric":
        text = f"{as_read(node.label)}: {node.value}" + (f" ({proto.help})" if proto.help else "")
        return "metric", f"{where}: metric \"{as_read(node.label)}\"", text, state["heading"]
    if kind == "html" and STYLE_ONLY.fullmatch(proto.body):
        return None  # the page's style sheet (ui/look.py): no words, no numbers a reader reads
    if kind == "download_button":
        content = _Downloads.files.get(proto.url.rsplit("/", 1)[-1].split(".")[0])
        if content is None:  # made only when pressed (a leader's blank template): unread, so never passed
            return "unknown", f"{where}: download \"{proto.label}\", made when pressed", str(proto), proto.label
        return "file", f"{where}: download \"{proto.label}\"", content, proto.label
    if kind is not None and kind not in QUIET and proto is not None and not hasattr(node, "children"):
        return "unknown", f"{where}: {kind}", str(proto), state["heading"]
    return None


def _frame_of(node, kind: str) -> pd.DataFrame:
    """A dataframe's or table's frame, as the reader reads its cells and headings."""
    frame = node.value
    frame = frame.data if hasattr(frame, "data") else frame
    frame = frame.map(as_read) if kind == "table" else frame
    frame.columns = [as_read(c) for c in frame.columns]
    return frame.reset_index(drop=True)


# ---- figures -----------------------------------------------------------------------------------

def decode_figure(spec) -> dict:
    """A figure's JSON with plotly's packed arrays ({"dtype", "bdata", "shape"}) made lists."""
    if isinstance(spec, dict):
        if "bdata" in spec and "dtype" in spec:
            array = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype(spec["dtype"]))
            if spec.get("shape"):
                array = array.reshape([int(n) for n in str(spec["shape"]).split(",")])
            return array.tolist()
        return {k: decode_figure(v) for k, v in spec.items()}
    if isinstance(spec, list):
        return [decode_figure(v) for v in spec]
    return spec


def figure_title(figure: dict) -> str:
    """The figure's title; for a phone's form of a figure, whose title the page shows as text, the
    one it keeps in its ``meta``."""
    layout = figure.get("layout", {})
    title = layout.get("title", {})
    text = title.get("text", "") if isinstance(title, dict) else str(title)
    meta = layout.get("meta")
    return as_read(text or (meta.get("title", "") if isinstance(meta, dict) else ""))


# ---- the board pack, as files ------------------------------------------------------------------

PACK_FORMS = {False: "", True: " with the appendix"}  # the short pack, the default; the pack with its appendix


def pack_items(out: Harvest) -> list[Item]:
    """The packs the pack page handed over, opened: the HTML's tables, figures and words, and the
    workbook's sheets."""
    found = []
    for item in [i for i in out.items if i.kind == "file" and i.section == "pack"]:
        where = f"the {item.term} {item.year} board pack{PACK_FORMS['with_appendix' in item.title]}"
        if item.data[:2] == b"PK":
            found += xlsx_items(item.data, f"{where} (Excel)", item.year, item.term)
        else:
            found += html_items(item.data.decode("utf-8"), f"{where} (HTML)", item.year, item.term)
    return found


def xlsx_items(content: bytes, where: str, year: str, term: str) -> list[Item]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    out = []
    for sheet in book.worksheets:
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        if not rows:
            continue
        frame = pd.DataFrame(rows[1:], columns=[str(c) for c in rows[0]])
        out.append(Item("table", f"{where}, sheet \"{sheet.title}\"", frame, year, term, None, sheet.title,
                        sheet.title))
    return out


class _Pack(HTMLParser):
    """The pack's HTML read as a person (and a program) reads it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, object, str, str]] = []  # (kind, data, title, section)
        self.heading = self.section = self.chart = ""
        self._text: list[str] | None = None
        self._tag = ""
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._script: list[str] | None = None
        self._in_chart = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._script = []
        elif tag == "table":
            self._table = []
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag in ("h1", "h2", "h3", "p", "li", "figcaption", "summary", "title") and self._table is None:
            self._text, self._tag = [], tag
        elif tag == "details":
            self._in_chart = True

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self._figures("".join(self._script))
            self._script = None
        elif tag in ("td", "th") and self._cell is not None:
            self._table[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table" and self._table is not None:
            rows = [r for r in self._table if r]
            frame = pd.DataFrame(rows[1:], columns=rows[0]) if rows else pd.DataFrame()
            self.items.append(("table", frame, self.chart if self._in_chart else self.heading, self.section))
            self._table = None
        elif tag == "details":
            self._in_chart = False
        elif tag == self._tag and self._text is not None:
            text = "".join(self._text).strip()
            if tag in ("h2", "h3"):
                self.heading = text
                if tag == "h2":
                    self.section = text
            self.items.append(("text", text, self.heading, self.section))
            self._text = None

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)
        elif self._cell is not None:
            self._cell.append(data)
        elif self._text is not None:
            self._text.append(data)

    def _figures(self, script: str) -> None:
        for match in re.finditer(r"Plotly\.newPlot\(\s*\"[0-9a-f-]{36}\",\s*", script):
            decoder = json.JSONDecoder()
            traces, end = decoder.raw_decode(script, match.end())
            rest = re.match(r"\s*,\s*", script[end:])
            layout, _ = decoder.raw_decode(script, end + rest.end())
            figure = decode_figure({"data": traces, "layout": layout})
            self.chart = figure_title(figure)
            self.items.append(("chart", figure, self.chart, self.section))


def html_items(text: str, where: str, year: str, term: str) -> list[Item]:
    parser = _Pack()
    parser.feed(text)
    out = []
    for kind, data, title, section in parser.items:
        what = {"table": f"table under \"{title}\"", "chart": f"chart \"{title}\"", "text": "text"}[kind]
        out.append(Item(kind, f"{where}, {section}: {what}", data, year, term, None, title, section))
    return out


# ---- the command line --------------------------------------------------------------------------

def gap_list_items(db_path: Path, role: str, terms) -> list[Item]:
    """``python -m analysis gaps --role ROLE --json`` for every term."""
    from analysis.__main__ import main

    out = []
    for year, term in terms:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            code = main(["gaps", "--db", f"sqlite:///{db_path}", "--year", year, "--term", term, "--role", role,
                         "--json"])
        assert code == 0
        frame = pd.DataFrame(json.loads(buffer.getvalue()))
        out.append(Item("table", f"python -m analysis gaps --role {role} --json, {term} {year}", frame, year, term,
                        None, "gap list", "command line"))
    return out


def pack_files(db_path: Path, role: str, terms) -> list[Item]:
    """The board pack for each term, made as the pack page makes it (``pack_from_dataset`` over the
    whole trust, for ``role``), short and with its appendix, as HTML and as Excel, opened."""
    from analysis.dataset import load_dataset
    from reports.html import render_html
    from reports.pack import pack_from_dataset
    from reports.xlsx import render_xlsx
    from store import db
    from store.challenges import list_challenges
    from store.packs import last_pack_before
    from store.thresholds import load_thresholds

    engine = db.make_engine(f"sqlite:///{db_path}")
    try:
        data, thresholds, log = load_dataset(engine), load_thresholds(engine), list_challenges(engine)
        out = []
        for year, term in terms:
            whole = pack_from_dataset(data, year, term, role=role, thresholds=thresholds, challenges=log,
                                      last_pack=last_pack_before(engine, year, term), appendix=True)
            for pack in (replace(whole, appendix=False), whole):  # the same pack, short and with its appendix
                where = f"the {term} {year} board pack{PACK_FORMS[pack.appendix]}"
                out += html_items(render_html(pack), f"{where} (HTML)", year, term)
                out += xlsx_items(render_xlsx(pack), f"{where} (Excel)", year, term)
    finally:
        db.dispose(engine)
    return out


def everything(db_path: Path, role: str = "trustee", pages: Harvest | None = None, **kw) -> list[Item]:
    """Every item a reader of ``role`` receives, from the pages (``pages``, when they were already
    harvested with ``harvest_pages(db_path, role, **kw)``), the packs and the command line."""
    if pages is None:
        pages = harvest_pages(db_path, role, **kw)
    terms = sorted({(i.year, i.term) for i in pages.items if i.year}, key=lambda yt: term_index(*yt))
    made = {(i.year, i.term) for i in pages.items if i.kind == "file" and i.section == "pack"}
    pack_role = "trustee" if role == "trustee" else "leader"
    role_cli = "trustee" if role == "trustee" else "trust_leader"
    return (pages.items + pack_items(pages) + pack_files(db_path, pack_role, [t for t in terms if t not in made])
            + gap_list_items(db_path, role_cli, terms))
