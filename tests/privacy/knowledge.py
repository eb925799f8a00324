"""What a reader can know from what they received: every number read as a fact about the counts.

The unknowns are the counts of each school-term's return, one per measure (``Var``: urn, term
index, measure id). Whatever the reader was given becomes one of:

- ``Bound``: a sum of counts lies between two numbers (a count shown, "fewer than 5" as 1 to 4,
  "not shown" as 5 or more, the relations the contract and the gap rules state);
- ``Ratio``: a rate or share, a school's or the trust's, lies between two numbers (a rounded
  figure in a table, an exact one in a figure's JSON), that is lo <= scale * num / den <= hi;
- ``Position``: where a school sits on the funnel plot ("above the expected range (95%)"), against
  its comparison group (its phase's schools, or the whole trust), whose pooled figure the group's
  drawn limits give (``targets``: a group's figure is known like the trust's, over the schools
  the funnel table says are compared with it);
- ``Change``: a figure's change from another term;
- ``Text``: every sentence, for the free-text attack.

Every table and figure must be understood: one the reader was given that no parser here knows is
listed in ``unparsed``, and the adversary fails on it, so a new way of showing numbers cannot
slip past unread.
"""

from __future__ import annotations

import html
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.challenges import NOT_SHOWN as FINDING_WITHHELD
from analysis.compare import ALONE, PHASES, england_group
from analysis.compare import TRUST as WHOLE_TRUST
from analysis.indicators import INDICATORS, INDICATORS_BY_ID, PER_100
from analysis.privacy import about_children
from analysis.suppression import NOT_SHOWN, fewer_than, suppression_threshold
from analysis.thresholds import THRESHOLDS
from analysis.views import BLANK_COUNTS, RETURN_RECEIVED, UNEXPLAINED
from charts.format import NOT_ASKED
from charts.funnel import POSITION_WORDS
from loaders.registry import COUNT, MEASURES, MEASURES_BY_ID, REFERRAL_ROUTES, REFERRALS, RULES, TERMS, term_index

Var = tuple  # (urn, term_index, measure id)
Expr = tuple  # ((Var, coefficient), ...), sorted

T = suppression_threshold()
FEWER = fewer_than(T)
INF = math.inf
LABELS = {i.label: i for i in INDICATORS}
POSITIONS = {words: code for code, words in POSITION_WORDS.items()}
POSITION_ORDER = {"below_998": 0, "below_95": 1, "within": 2, "above_95": 3, "above_998": 4}
TERM_SHORT = {t[:3]: t for t in TERMS}
NO_DATA = ("no data", NOT_ASKED, "", None)  # NOT_ASKED: a measure its return's template version did not ask
ROUNDED = 0.005  # the About page shows the gap rules' lines to the nearest per cent
PEOPLE = r"(?:children|child(?! protection| in need|-on-child)|pupils?|referrals?|allegations?|young people|students?|famil(?:y|ies)|learners?|" \
         r"girls?|boys?|siblings?|cases?|victims?|families)"


def expr(*terms: tuple[Var, float]) -> Expr:
    merged: dict = defaultdict(float)
    for var, coef in terms:
        merged[var] += coef
    return tuple(sorted((v, c) for v, c in merged.items() if c))


def part(indicator: str, which: str, urn: str, ti: int) -> Expr:
    ind = INDICATORS_BY_ID[indicator]
    return expr(*(((urn, ti, m), 1.0) for m in getattr(ind, which)))


def scale(indicator: str) -> float:
    return 100.0 if INDICATORS_BY_ID[indicator].unit == PER_100 else 1.0


@dataclass
class Bound:
    expr: Expr
    lo: float
    hi: float
    route: str
    kind: str = "shown"  # shown, fewer, not shown, finding, rule, query


@dataclass
class Ratio:
    num: Expr
    den: Expr
    lo: float  # of scale * num / den
    hi: float
    scale: float
    route: str
    kind: str = "value"  # value (a school's), trust


@dataclass
class Position:
    urn: str
    ti: int
    indicator: str
    position: str
    route: str


@dataclass
class Change:
    urn: str
    ti: int
    indicator: str
    back: int  # terms back: 1 (last term) or 3 (a year ago)
    lo: float  # of the change, in the indicator's unit (a share 0 to 1, or per 100)
    hi: float
    route: str


@dataclass
class Knowledge:
    bounds: list[Bound] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    trust: dict = field(default_factory=lambda: defaultdict(list))  # (ti, indicator) -> [(lo, hi, route)]
    # (ti, indicator) -> urn -> what the school is compared with: a phase, WHOLE_TRUST, ALONE or ""
    groups: dict = field(default_factory=lambda: defaultdict(dict))
    # (ti, indicator, group) -> [(lo, hi, route)]: a comparison group's pooled figure, read off its
    # drawn limits
    targets: dict = field(default_factory=lambda: defaultdict(list))
    spreads: dict = field(default_factory=dict)  # (ti, indicator) -> the spread between schools the lines allow
    # (ti, indicator) -> urn -> (numerator present, denominator present and not 0): who is pooled
    rows: dict = field(default_factory=lambda: defaultdict(dict))
    texts: list[tuple[str, str]] = field(default_factory=list)  # (text, route)
    findings: dict = field(default_factory=dict)  # (urn, ti, finding) -> route: each read once
    raised: dict = field(default_factory=lambda: defaultdict(set))  # (urn, ti) -> the kinds of finding seen
    gap_lists: set = field(default_factory=set)  # terms whose whole gap list was read (the CSV, the command line)
    unparsed: list[str] = field(default_factory=list)
    thresholds: dict = field(default_factory=lambda: {t.id: t.default for t in THRESHOLDS})
    names: dict = field(default_factory=dict)  # school name -> urn

    def bound(self, e: Expr, lo: float, hi: float, route: str, kind: str = "shown") -> None:
        if e:
            self.bounds.append(Bound(e, lo, hi, route, kind))

    def count(self, indicator: str, which: str, urn: str, ti: int, cell, route: str) -> None:
        """A table's count cell: a number, "fewer than 5", "not shown", or blank."""
        e = part(indicator, which, urn, ti)
        read = read_count(cell)
        if read is None:
            self.unparsed.append(f"{route}: a count cell {cell!r}")
        elif read == "blank":
            self._row(indicator, which, urn, ti, False)
        else:
            lo, hi, kind = read
            self.bound(e, lo, hi, route, kind)
            self._row(indicator, which, urn, ti, which == "numerator" or hi > 0)

    def _row(self, indicator, which, urn, ti, present: bool) -> None:
        num, den = self.rows[(ti, indicator)].get(urn, (None, None))
        self.rows[(ti, indicator)][urn] = (present, den) if which == "numerator" else (num, present)

    def value(self, indicator: str, urn: str, ti: int, lo: float, hi: float, route: str) -> None:
        self.ratios.append(Ratio(part(indicator, "numerator", urn, ti), part(indicator, "denominator", urn, ti),
                                 lo, hi, scale(indicator), route))

    def urn(self, name) -> str | None:
        name = html.unescape(str(name)) if name is not None else ""
        return self.names.get(name)


# ---- reading one cell --------------------------------------------------------------------------

def read_count(cell):
    """(lo, hi, kind) for a count cell, "blank" for no data, None when not a count."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return "blank"
    if isinstance(cell, (int, float)):
        return (float(cell), float(cell), "shown")
    text = str(cell).strip()
    if text in NO_DATA:
        return "blank"
    if text == FEWER:
        return (1.0, T - 1.0, "fewer")
    if text == NOT_SHOWN:
        return (float(T), INF, "not shown")
    if re.fullmatch(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?", text):
        n = float(text.replace(",", ""))
        return (n, n, "shown")
    return None


def read_value(text, unit: str):
    """(lo, hi) of a figure as a page shows it ("2.4 per 100", "85%", "2.4 per 100 pupils"), in the
    indicator's unit (per 100, or a share from 0 to 1); "blank" for no data; None otherwise."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return "blank"
    if isinstance(text, (int, float)):  # the pack's workbook: rounded to 4 places
        return (float(text) - 5e-5, float(text) + 5e-5)
    text = str(text).strip()
    if text in NO_DATA or text == NOT_SHOWN:
        return "blank"
    m = re.fullmatch(r"(-?\d+(?:\.(\d+))?) per 100(?: pupils)?", text)
    if m and unit == PER_100:
        half = 0.5 * 10 ** -len(m.group(2) or "")
        return (float(m.group(1)) - half, float(m.group(1)) + half)
    m = re.fullmatch(r"(-?\d+(?:\.(\d+))?)%", text)
    if m and unit != PER_100:
        half = 0.5 * 10 ** -len(m.group(2) or "")
        return ((float(m.group(1)) - half) / 100, (float(m.group(1)) + half) / 100)
    return None


def read_change(text, unit: str):
    """(lo, hi) of a change ("+0.4 per 100", "-5 points", "▲ +1 point (better)", "0.0 per 100 (about
    the same)"); "blank" for no data."""
    if text is None or str(text).strip() in NO_DATA:
        return "blank"
    text = str(text).strip()
    m = re.fullmatch(r"(?:[▲▼] )?([+-]?\d+(?:\.(\d+))?) (per 100|points?)"
                     r"(?: \((?:better|worse|higher|lower|about the same)\))?", text)
    if not m or (m.group(3).startswith("point")) == (unit == PER_100):
        return None
    half = 0.5 * 10 ** -len(m.group(2) or "")
    k = 1 if unit == PER_100 else 100
    return ((float(m.group(1)) - half) / k, (float(m.group(1)) + half) / k)


def exact(v: float) -> tuple[float, float]:
    """A figure from a chart's JSON: exact but for floating point."""
    slack = 1e-9 * max(1.0, abs(v))
    return (v - slack, v + slack)


def link_text(cell):
    """A table cell as its reader reads it: a Markdown link ("[Name](school?...)") is its words."""
    m = re.fullmatch(r"\[(.*)\]\([^()\s]*\)", cell, re.S) if isinstance(cell, str) else None
    return m.group(1) if m else cell


def term_of_label(label: str) -> int | None:
    """"Aut 2024/25" or "Autumn 2024/25" to its term index."""
    m = re.fullmatch(r"(Aut|Spr|Sum)\w* (\d{4}/\d{2})", str(label).strip())
    return term_index(m.group(2), TERM_SHORT[m.group(1)]) if m else None


# ---- reading everything ------------------------------------------------------------------------

IGNORED_TABLES = {
    # what the table holds, and why no count of children is in it
    ("Theme", "Indicator", "Definition"): "definitions",
    ("Theme", "Measure", "Definition"): "definitions",
    ("School", "Cells filled", "Blank (not known)"): "blank cells and queries per return",
    ("When (UTC)", "Who", "What", "Changes"): None,  # read as free text
    ("Note",): "a sentence",
    ("What is counted", "It counts", "Small counts"): "the privacy page: what each group of counts counts",
    ("Made from", "For trustees"): "the privacy page: which figures go with a hidden count",
    ("Indicator", "Phase", "England"): "England's published figures for one phase: no count of the trust's",
    ("Theme", "✖ Red", "▲ Amber", "? Question", "All gaps"): "the pack's gaps counted by theme and level: the "
                                                             "heatmap's cells, added up",
    ("Mark", "Word", "What it means"): "how to read the pack: its symbols and words",
    ("Topic", "What it means"): "how to read the pack, in its workbook",
}


def read_all(items, names: dict[str, str]) -> Knowledge:
    """Everything a list of harvested items tells a reader who knows the product and the schools'
    names (``names``: urn -> name)."""
    k = Knowledge(names={html.unescape(n): u for u, n in names.items()})
    # the thresholds first: the gap rules are read with them
    for item in items:
        if item.kind == "table" and list(item.data.columns)[:4] == ["Setting", "Meaning", "Default", "This trust"]:
            _thresholds(k, item)
    for item in items:
        try:
            _read(k, item)
        except Exception as exc:  # noqa: BLE001 - the adversary must understand everything
            k.unparsed.append(f"{item.where}: could not be read ({type(exc).__name__}: {exc})")
    return k


def _read(k: Knowledge, item) -> None:
    if item.kind in ("text", "metric"):
        k.texts.append((str(item.data), item.where))
        if item.kind == "metric":
            _metric(k, item)
        return
    if item.kind == "chart":
        _chart(k, item)
        return
    if item.kind == "file":
        if item.where.endswith('(CSV)"'):
            from io import StringIO
            frame = pd.read_csv(StringIO(item.data.decode("utf-8-sig")), dtype=str, keep_default_na=False)
            _table(k, item, frame)
        return  # the packs are read from their opened parts (harvest.pack_items)
    if item.kind == "table":
        _table(k, item, item.data)
        return
    k.unparsed.append(f"{item.where}: {str(item.data)[:200]}")


def _texts_of(k: Knowledge, frame: pd.DataFrame, where: str) -> None:
    for column in frame.columns:
        for v in frame[column]:
            if isinstance(v, str) and v.strip():
                k.texts.append((v, where))


def _table(k: Knowledge, item, frame: pd.DataFrame) -> None:
    frame = frame.map(link_text)
    cols = [str(c) for c in frame.columns]
    where = item.where
    _texts_of(k, frame, where)
    if any(tuple(cols[:len(start)]) == start for start in IGNORED_TABLES):
        return
    if cols[:4] == ["Setting", "Meaning", "Default", "This trust"]:
        return
    if cols == ["Code", "Severity", "Problem", "What to do"]:
        return  # About the data's catalogue of problem codes: words the same for every trust
    reader = _table_reader(cols)
    if reader is not None:
        return reader(k, item, frame)
    found_then = [c for c in cols if re.fullmatch(r"What we found in \w+ \d{4}/\d{2}", c)]
    if found_then:  # the gaps of an earlier term (closed since): read as that term's
        then = term_of_label(found_then[0].removeprefix("What we found in "))
        return _gap_table(k, item, frame.rename(columns={found_then[0]: "What we found"}), then)
    if cols == ["Item", "Value"]:
        return _summary_table(k, item, frame)
    if "Where" in cols and ("The check asked" in cols or "Query" in cols):
        return _query_table(k, item, frame, cols)
    if cols and cols[0] == "School" and _grid_of_labels(frame):
        return  # the theme heatmap, training and checks, the returns tracker: levels and events
    k.unparsed.append(f"{where}: a table with columns {cols}")


def _table_reader(cols: list[str]):
    """The reader of a table known by its columns alone; None for any other."""
    if cols == ["School", "Count", "Base", "Value", "Trust", "Compared with", "Against the trust"]:
        return _funnel_table
    if cols[:2] == ["Term", "Trust"]:
        return _trend_table
    if cols[:4] == ["Theme", "Measure", "This school", "Numbers"]:
        return _school_table
    if cols[:3] == ["School", "Theme", "Measure"] and cols[-1] == "Change":
        return _movement_table
    if cols[:6] == ["Measure", "School", "URN", "Count", "Base", "Value"]:
        return _pack_table
    if "The board asked" in cols:
        return _board_table
    if "What we found" in cols or "finding" in cols:
        return _gap_table
    return None


def _summary_table(k: Knowledge, item, frame: pd.DataFrame) -> None:
    """The pack's summary: its top gaps are findings."""
    for name, value in zip(frame["Item"], frame["Value"]):
        m = re.fullmatch(r"(.+?): (.+) Ask: .+", str(value), re.S) if str(name).startswith("Top gap") else None
        if m:
            _finding(k, k.urn(m.group(1)), item.term_index, m.group(2), item.where)


def _query_table(k: Knowledge, item, frame: pd.DataFrame, cols: list[str]) -> None:
    """What the check asked of a return (of the item's school, or of each row's)."""
    column = "The check asked" if "The check asked" in cols else "Query"
    for i, message in enumerate(frame[column]):
        urn = item.urn if "School" not in cols else k.urn(frame["School"].iloc[i])
        _query(k, urn, item.term_index, str(message), item.where)


def _grid_of_labels(frame: pd.DataFrame) -> bool:
    """A grid of levels (the heatmap, training and checks, returns): each cell a symbol and words
    ("✔ No gap", "▲ 2 amber", "✖ 95%", "✔ on time", "▲ 12 days late", "✖ Mar 25")."""
    ok = re.compile(r"(?:[✔▲✖?–] .*|–|\d{6})")
    cells = frame.drop(columns=["School"]).astype(str)
    return bool(cells.map(lambda v: bool(ok.fullmatch(v.strip())) if v.strip() else True).all().all())


FUNNEL_TITLES = (": each school against the trust", ": each school against schools of its phase")


def _indicator_of(title: str, route: str, k: Knowledge):
    for suffix in (*FUNNEL_TITLES, ", term by term", ": schools compared", ": term by term"):
        if title.endswith(suffix):
            ind = LABELS.get(title[: -len(suffix)])
            if ind is None:
                k.unparsed.append(f"{route}: no measure is called {title[: -len(suffix)]!r}")
            return ind
    return None


def _funnel_table(k: Knowledge, item, frame) -> None:
    ind = _indicator_of(item.title, item.where, k)
    ti = item.term_index
    if ind is None or ti is None:
        k.unparsed.append(f"{item.where}: a funnel table with no measure or term")
        return
    for r in frame.itertuples(index=False):
        urn = k.urn(r.School)
        route = f"{item.where}, {r.School}"
        k.count(ind.id, "numerator", urn, ti, r.Count, route)
        k.count(ind.id, "denominator", urn, ti, r.Base, route)
        _value_cell(k, ind, urn, ti, r.Value, route)
        _trust_cell(k, ind, ti, r.Trust, route)
        _group(k, ind, urn, ti, compared_with(r[5]), route)
        _position(k, ind, urn, ti, r[6], route)


def compared_with(cell):
    """The group a funnel table's "Compared with" names (as charts.funnel words it), or None."""
    text = str(cell).strip()
    fixed = {"the whole trust": WHOLE_TRUST, "not compared": "", "no school like it in the trust": ALONE}
    if text in fixed:
        return fixed[text]
    m = re.fullmatch(r"England's (.+) schools(?:, .+)?", text)
    if m:
        return england_group(m.group(1))
    m = re.fullmatch(r"(.+) schools in the trust", text)
    return m.group(1) if m else None


def _group(k: Knowledge, ind, urn, ti, group, route) -> None:
    if group is None or urn is None:
        k.unparsed.append(f"{route}: what it is compared with {group!r}")
        return
    known = k.groups[(ti, ind.id)].setdefault(urn, group)
    if known != group:
        k.unparsed.append(f"{route}: compared with {group!r} here and {known!r} elsewhere")


def _value_cell(k: Knowledge, ind, urn, ti, cell, route) -> None:
    read = read_value(cell, ind.unit)
    if read is None:
        k.unparsed.append(f"{route}: a value {cell!r}")
    elif read != "blank":
        k.value(ind.id, urn, ti, *read, route)


def _trust_cell(k: Knowledge, ind, ti, cell, route) -> None:
    read = read_value(cell, ind.unit)
    if read is None:
        k.unparsed.append(f"{route}: a trust figure {cell!r}")
    elif read != "blank":
        k.trust[(ti, ind.id)].append((*read, route))


def _position(k: Knowledge, ind, urn, ti, words, route) -> None:
    code = POSITIONS.get(str(words))
    if code is None:
        k.unparsed.append(f"{route}: a position {words!r}")
    elif code:
        k.positions.append(Position(urn, ti, ind.id, code, route))


def _trend_table(k: Knowledge, item, frame) -> None:
    ind = _indicator_of(item.title, item.where, k)
    if ind is None:
        k.unparsed.append(f"{item.where}: a term-by-term table with no measure")
        return
    for _, row in frame.iterrows():
        ti = term_of_label(row["Term"])
        _trust_cell(k, ind, ti, row["Trust"], f"{item.where}, {row['Term']}")
        for name in frame.columns[2:]:
            urn, cell = k.urn(name), str(row[name])
            route = f"{item.where}, {name}, {row['Term']}"
            if cell in ("not shown", *NO_DATA[:2]):
                continue
            m = re.fullmatch(r"(.+) \((\S+) of (\S+)\)", cell)
            if not m:
                k.unparsed.append(f"{route}: {cell!r}")
                continue
            _value_cell(k, ind, urn, ti, m.group(1), route)
            k.count(ind.id, "numerator", urn, ti, m.group(2), route)
            k.count(ind.id, "denominator", urn, ti, m.group(3), route)


def _school_table(k: Knowledge, item, frame) -> None:
    urn, ti = item.urn, item.term_index
    for r in frame.itertuples(index=False):
        if r.Measure in (RETURN_RECEIVED, BLANK_COUNTS, UNEXPLAINED):
            continue  # the oversight theme's rows: the return's timeliness and cells, no count of children
        ind = LABELS.get(r.Measure)
        route = f"{item.where}, {r.Measure}"
        if ind is None:
            k.unparsed.append(f"{route}: no measure is called {r.Measure!r}")
            continue
        if r.Numbers:
            m = re.fullmatch(r"(.+) of (.+)", r.Numbers)
            k.count(ind.id, "numerator", urn, ti, m.group(1), route)
            k.count(ind.id, "denominator", urn, ti, m.group(2), route)
        _value_cell(k, ind, urn, ti, r[2], route)
        _trust_cell(k, ind, ti, r.Trust, route)
        _position(k, ind, urn, ti, r[8], route)
        for back, cell in ((1, r[4]), (3, r[5])):
            read = read_change(cell, ind.unit)
            if read is None:
                k.unparsed.append(f"{route}: a change {cell!r}")
            elif read != "blank":
                k.changes.append(Change(urn, ti, ind.id, back, *read, f"{route}, change on {back} term(s) before"))


def _movement_table(k: Knowledge, item, frame) -> None:
    """What changed since the term before: a school's figure in each of two terms (the columns
    named by term) and the change between them."""
    terms = [term_of_label(c) for c in frame.columns[3:5]]
    if None in terms or item.term_index not in terms:
        k.unparsed.append(f"{item.where}: a table of movements between {list(frame.columns[3:5])}")
        return
    for r in frame.itertuples(index=False):
        ind, urn = LABELS.get(r.Measure), k.urn(r.School)
        route = f"{item.where}, {r.School}, {r.Measure}"
        if ind is None or urn is None:
            k.unparsed.append(f"{route}: no measure or school")
            continue
        for ti, cell in zip(terms, (r[3], r[4])):
            _value_cell(k, ind, urn, ti, cell, route)
        read = read_change(r.Change, ind.unit)
        if read in (None, "blank"):
            k.unparsed.append(f"{route}: a change {r.Change!r}")
        else:
            k.changes.append(Change(urn, max(terms), ind.id, abs(terms[1] - terms[0]), *read,
                                    f"{route}, the change between terms"))


def _pack_table(k: Knowledge, item, frame) -> None:
    ti = item.term_index
    for r in frame.itertuples(index=False):
        ind = LABELS.get(r.Measure)
        urn = str(r.URN)
        route = f"{item.where}, {r.School}, {r.Measure}"
        if ind is None:
            k.unparsed.append(f"{route}: no measure is called {r.Measure!r}")
            continue
        k.count(ind.id, "numerator", urn, ti, r.Count, route)
        k.count(ind.id, "denominator", urn, ti, r.Base, route)
        if r.Value != "not shown":
            _value_cell(k, ind, urn, ti, r.Value, route)
        _trust_cell(k, ind, ti, r.Trust, route)
        _position(k, ind, urn, ti, r[8] or "", route)


def _board_table(k: Knowledge, item, frame) -> None:
    for _, row in frame.iterrows():
        name = row["School"] if "School" in frame.columns else None
        urn = k.urn(name) if name is not None else item.urn
        raised = term_of_label(row["Raised"])
        _finding(k, urn, raised, str(row["What we found"]), item.where)


def _gap_table(k: Knowledge, item, frame, term: int | None = None) -> None:
    if "finding" in frame.columns:  # the CSV and the command line: every field, every gap of the term
        if "command line" in item.where or item.where.endswith('(CSV)"'):
            k.gap_lists.add(item.term_index)
        for _, row in frame.iterrows():
            _finding(k, str(row["urn"]), term_index(row["academic_year"], row["term"]), row["finding"], item.where,
                     severity=row["severity"])
        return
    for _, row in frame.iterrows():
        urn = k.urn(row["School"]) if "School" in frame.columns else item.urn
        severity = str(row.get("Gap", row.get("", row.get("Severity", ""))))
        _finding(k, urn, item.term_index if term is None else term, str(row["What we found"]), item.where,
                 severity=severity)


def _metric(k: Knowledge, item) -> None:
    m = re.match(r"Pupils on roll: ([\d,]+)$", str(item.data))
    if m and item.urn:
        n = float(m.group(1).replace(",", ""))
        k.bound(expr(((item.urn, item.term_index, "about.pupils_on_roll"), 1.0)), n, n, item.where)


def _thresholds(k: Knowledge, item) -> None:
    by_label = {t.label: t for t in THRESHOLDS}
    for label, value in zip(item.data["Setting"], item.data["This trust"]):
        t = by_label.get(label)
        if t is None:
            continue
        text = str(value)
        k.thresholds[t.id] = float(text[:-1]) / 100 if text.endswith("%") else float(text)


# ---- figures -----------------------------------------------------------------------------------

def _chart(k: Knowledge, item) -> None:
    fig, title = item.data, item.title
    traces = fig.get("data", [])
    heading = fig.get("layout", {}).get("title", {})
    subtitle = heading.get("subtitle", {}).get("text", "") if isinstance(heading, dict) else ""
    if subtitle:  # the line under a title saying how to read the figure
        k.texts.append((html.unescape(subtitle.replace("<br>", " ")), item.where))
    if title.endswith(FUNNEL_TITLES):
        return _funnel_chart(k, item, fig)
    if title.endswith(", term by term"):
        return _trend_chart(k, item, fig)
    if title == "Where the reviews' themes show a gap, by school":
        return _heatmap_chart(k, item, traces)
    if title in ("Training and KCSIE checks, by school", "Returns received, by school and term"):
        for trace in traces:
            for row in trace.get("customdata", []):
                k.texts += [(html.unescape(str(v)), item.where) for v in row]
        return
    k.unparsed.append(f"{item.where}: a figure titled {title!r}")


def _heatmap_chart(k: Knowledge, item, traces: list) -> None:
    """The theme heatmap: each cell's hover names its school and theme, then the findings."""
    for trace in traces:
        for _name, row in zip(trace.get("y", []), trace.get("customdata", [])):
            for hover in row:
                head, *lines = html.unescape(str(hover)).split("<br>")
                # the side's name may be shortened ("Saint Swithun's Church of England Pri…"):
                # the hover starts with the full one, and the theme
                m = re.fullmatch(r"<b>(?P<name>.+)</b> — (?P<theme>.+)", head)
                if m is None or k.urn(m.group("name")) is None:
                    k.unparsed.append(f"{item.where}: a cell's hover that names no school: {head!r}")
                    continue
                k.texts.append((head, item.where))
                for line in lines:
                    line = line.removeprefix("• ").strip()
                    k.texts.append((line, item.where))
                    if line not in ("No gap found", "No return for this term") and not \
                            re.fullmatch(r"…and \d+ more", line):
                        _finding(k, k.urn(m.group("name")), item.term_index, line, item.where)


def _funnel_chart(k: Knowledge, item, fig) -> None:
    ind = _indicator_of(item.title, item.where, k)
    ti = item.term_index
    layout = fig.get("layout", {})
    for shape, note in zip(layout.get("shapes", []), layout.get("annotations", [])):
        text = html.unescape(note.get("text", ""))
        k.texts.append((text, item.where))
        if text.startswith("Trust "):
            k.trust[(ti, ind.id)].append((*exact(shape["y0"]), f"{item.where}: the trust's line"))
    for note in layout.get("annotations", [])[len(layout.get("shapes", [])):]:  # the schools' names by their points
        k.texts.append((html.unescape(re.sub(r"</?b>", "", note.get("text", ""))), item.where))
    lines: dict = defaultdict(dict)  # group -> which line -> (bases, values)
    for trace in fig.get("data", []):
        meta = str(trace.get("meta", ""))
        if trace.get("hoverinfo") == "skip" and re.fullmatch(r".+\|(?:lower|upper)_(?:95|998)", meta):
            group, which = meta.rsplit("|", 1)
            lines[group][which] = (trace.get("x", []), trace.get("y", []))
            continue
        if meta == "key" and not [v for v in (*trace.get("x", []), *trace.get("y", [])) if v is not None]:
            k.texts.append((html.unescape(str(trace.get("name", ""))), item.where))  # a legend's entry: no point
            continue
        if trace.get("name") != "Schools":
            k.unparsed.append(f"{item.where}: a trace {trace.get('name')!r}")
            continue
        xs, ys, data = trace.get("x", []), trace.get("y", []), trace.get("customdata") or []
        for x, y, extra in zip(xs, ys, data):
            if len(extra) != 6 or POSITION_WORDS.get(extra[3]) != extra[2] or not \
                    re.fullmatch(r"(?:<br>expected range for its size: .+ to .+)?", str(extra[4])):
                k.unparsed.append(f"{item.where}: a point's hover data {extra!r}")
                continue
            # the range chance gives at the school's base (rounded) is read exactly off the lines
            name, numerator, words, _, _, group = extra
            urn = k.urn(name)
            route = f"{item.where}, {html.unescape(str(name))}'s point and hover"
            k.count(ind.id, "denominator", urn, ti, float(x), route)
            k.count(ind.id, "numerator", urn, ti, float(numerator), route)
            k.value(ind.id, urn, ti, *exact(float(y)), route)
            _group(k, ind, urn, ti, str(group), route)
            _position(k, ind, urn, ti, words, route)
        k.texts += [(html.unescape(str(t)), item.where) for t in trace.get("text", []) if t]
    for group, drawn in lines.items():
        _limit_lines(k, ind, ti, group, drawn, f"{item.where}: the {group} group's limit lines")


LINES = {"lower_95": (0.95, 0), "upper_95": (0.95, 1), "lower_998": (0.998, 0), "upper_998": (0.998, 1)}
TARGET_SLACK = 1e-7  # of a group's figure read off its lines (the limits' own solvers work to ~1e-7 of a count)


def _limit_lines(k: Knowledge, ind, ti, group: str, drawn: dict, route: str) -> None:
    """A comparison group's four limit lines give its pooled figure (the target the limits are drawn
    around): the figure whose limits, by the published method (analysis.funnel), pass through the
    lines' points at the largest base drawn, checked against every point of every line."""
    if set(drawn) != set(LINES):
        k.unparsed.append(f"{route}: lines {sorted(drawn)}")
        return
    per_100 = ind.unit == PER_100
    found = target_of_lines(drawn, per_100)
    if found is None:
        k.unparsed.append(f"{route}: limit lines that no figure explains without spread between schools")
        return
    lo, hi = found * (1 - TARGET_SLACK), found * (1 + TARGET_SLACK)
    k.targets[(ti, ind.id, group)].append((lo, hi, route))
    k.spreads[(ti, ind.id)] = 0.0
    if group == WHOLE_TRUST:
        k.trust[(ti, ind.id)].append((lo, hi, route))


_TARGETS: dict[tuple, float | None] = {}  # target_of_lines's answers, by the exact lines asked about


def target_of_lines(drawn: dict, per_100: bool, spread: float = 0.0) -> float | None:
    """The figure whose drawn limits (``spread`` between schools allowed for) are these lines, by
    bisection on the line furthest from the figure at the largest base; None if none fits them
    all. Worked out once for each set of lines (to the bit): a funnel is drawn again on many pages,
    in each term it is shown."""
    key = (bool(per_100), np.asarray(spread, dtype=float).tobytes(),
           tuple(sorted((which, tuple(np.asarray(v, dtype=float).tobytes() for v in line))
                        for which, line in drawn.items())))
    if key not in _TARGETS:
        _TARGETS[key] = _target_of_lines(drawn, per_100, spread)
    return _TARGETS[key]


def _target_of_lines(drawn: dict, per_100: bool, spread: float) -> float | None:
    lines = _DrawnLines(drawn, per_100, spread)
    # none, all, or the figure some line at its widest base is drawn from
    for target in (0.0, *([1.0] if not per_100 else []), *(lines.bisect(which) for which in LINES)):
        if target is not None and lines.fits(target):
            return target
    return None


class _DrawnLines:
    """A funnel's drawn limit lines, and the limits a figure would draw."""

    def __init__(self, drawn: dict, per_100: bool, spread: float):
        self.drawn, self.per_100, self.spread = drawn, per_100, spread
        _, uy = self.points("upper_998")
        self.top = float(uy.max()) if len(uy) else 0.0

    def limit(self, which, target, base):
        from analysis.funnel import drawn_limits

        level, side = LINES[which]
        return drawn_limits(np.asarray(target, dtype=float), np.asarray(base, dtype=float), level, self.per_100,
                            self.spread)[side]

    def points(self, which):
        """A line's points at whole bases: the schools' own (the lines pass through every one). The
        grid's bases between are left: a share's limit at a base such as 6.6 can send the
        binomial solver walking without end (analysis.funnel._bracket)."""
        xs, ys = (np.asarray(v, dtype=float) for v in self.drawn[which])
        ok = np.isfinite(xs) & np.isfinite(ys) & (np.abs(xs - np.round(xs)) < 1e-9)
        return xs[ok], ys[ok]

    def bisect(self, which) -> float | None:
        xs, ys = self.points(which)
        ok = np.ones(len(xs), dtype=bool)
        if not ok.any():
            return None
        at = np.flatnonzero(ok)[np.argmax(xs[ok])]
        x, y = xs[at], ys[at]
        # a share strictly between 0 and 1 (both ends were tried): the limits' solver walks from there
        lo, hi = (1e-9, 1 - 1e-9) if not self.per_100 else (0.0, self.top * (1 + 1e-9) + 1e-12)  # the upper limit lies above its figure
        for _ in range(200):  # a limit rises with its figure
            mid = (lo + hi) / 2
            if self.limit(which, mid, x) < y:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-15 * max(1.0, hi):
                break
        return (lo + hi) / 2

    def fits(self, target) -> bool:
        for which in LINES:
            bx, by = self.points(which)
            if not len(bx):
                return False
            again = self.limit(which, np.full(len(bx), target), bx)
            if not np.allclose(again, by, rtol=1e-6, atol=1e-9):
                return False
        return True


def _trend_chart(k: Knowledge, item, fig) -> None:
    ind = _indicator_of(item.title, item.where, k)
    factor = 1.0 if ind.unit == PER_100 else 100.0
    for trace in fig.get("data", []):
        name = html.unescape(str(trace.get("name", "")))
        xs, ys = trace.get("x", []), trace.get("y", [])
        if name == "England":
            continue
        if name == "Trust":
            for x, y in zip(xs, ys):
                if y is not None and not math.isnan(y):
                    k.trust[(term_of_label(x), ind.id)].append((*exact(y / factor), f"{item.where}: the trust's line"))
            continue
        labels = trace.get("text") if name == "Schools" else [name] * len(xs)
        for x, y, who in zip(xs, ys, labels or []):
            if x is None or y is None or (isinstance(y, float) and math.isnan(y)):
                continue
            urn, ti = k.urn(who), term_of_label(x)
            if urn is None or ti is None:
                k.unparsed.append(f"{item.where}: a point {who!r} at {x!r}")
                continue
            k.value(ind.id, urn, ti, *exact(y / factor), f"{item.where}, {html.unescape(str(who))}'s line at {x}")


# ---- findings ----------------------------------------------------------------------------------

NUM = r"[\d,]+"
# whose figure an outlier finding sets a school against: the trust's, the trust's schools of its
# phase, or England's schools of its phase (a published figure, pooled from none of the trust's
# counts)
AGAINST = (r"(?:the trust's (?:(?P<group>[a-z][a-z -]*) schools' )?|"
           r"England's (?P<england>[a-z][a-z -]*) schools' )")
# the line a ratio rule's finding was held against (the About page shows the same lines)
BELOW_LINE = r", below the trust's line of \d+% \(red below \d+%\)"
FROM_LINE = r", at or above the trust's line of \d+% \(red from \d+%\)"
EVERY_ONE = r", against a line of every one referred \(100%\)"
MORE_THAN_PLANS = r"; the trust asks whenever more are persistently absent than have a plan"
NOT_ESCALATED = r"; the trust asks whenever a referral turned down is not escalated"
VALUE = r"[\d.]+(?: per 100 pupils|%)"  # a rate or a share, as an outlier finding gives it
BY_CHANCE = r", beyond what chance would explain for a school this size\."
A_TERM = r"\w+ \d{4}/\d{2}"  # Spring 2025/26
ROSE = r"The number of (?P<noun>.+?) rose in each of the last two terms"
FINDINGS = {name: re.compile(pattern) for name, pattern in {
    "drift": (rf"(?:(?P<a>{NUM}) of (?P<b>{NUM}) children with a neglect flag \(\d+%\)|(?P<band>Under half|"
              r"Half or more) of the children with a neglect flag) have been monitored in school only for "
              rf"two terms or more{FROM_LINE}\."),
    "chronology": (rf"Chronologies were reviewed this term for (?:(?P<a>{NUM}) of (?P<b>{NUM}) flagged "
                   rf"children \(\d+%\)|(?P<band>under half|half or more) of the flagged children){BELOW_LINE}\."),
    "absent": (rf"(?P<a>{NUM}) flagged (?:child is|children are) persistently absent, but only (?P<b>{NUM}) "
               rf"flagged (?:child has|children have) an early help or child protection plan{MORE_THAN_PLANS}\."),
    "absent_words": (r"More flagged children are persistently absent than have an early help or child "
                     rf"protection plan{MORE_THAN_PLANS}\."),
    "lado": (rf"(?P<a>{NUM}) of (?P<b>{NUM}) allegations about staff \(\d+%\) were not referred to the "
             r"LADO\."),
    # version 2's wording: the harm-threshold row, or version 1's mixed row (a question)
    "lado_v2": (rf"The school did not refer (?:(?P<a>{NUM}) of (?P<b>{NUM}) allegations about staff"
                rf"(?: that may meet the harm threshold)? \(\d+%\)|(?P<band>under half|half or more) of "
                r"the allegations about staff(?: that may meet the harm threshold)?) to the LADO"
                rf"{EVERY_ONE}\."
                r"(?: This return's row counted every allegation, low-level concerns among them, so some "
                r"may rightly have stayed in school\.)?"),
    "social_worker": (rf"(?:(?P<a>{NUM}) of (?P<b>{NUM}) children with a social worker \(\d+%\)|"
                      r"(?P<band>Under half|Half or more) of the children with a social worker) are "
                      r"persistently absent, against (?:\d+% of )?its pupils as a whole; the trust asks when "
                      r"their share is more than (?:[\w.]+ times |twice )?the school's, beyond what chance would "
                      r"explain\."),
    "looked_after": (rf"The return counts (?:(?P<a>{NUM}) looked-after (?:child|children)|looked-after "
                     r"children) on roll but names no designated teacher for them; KCSIE requires one "
                     r"wherever a school has looked-after children\."),
    "lado_words": (r"Not every allegation about staff received this term was referred to the LADO\."),
    "refused": (rf"(?P<a>{NUM}) referrals? (?:was|were) not accepted this term and none was escalated"
                rf"{NOT_ESCALATED}\."),
    "refused_words": (rf"Referrals were not accepted this term and none was escalated{NOT_ESCALATED}\."),
    "outlier": (rf"(?P<label>.+): (?P<v>{VALUE}) \((?P<a>{NUM}) of (?P<b>{NUM})\), (?P<side>higher|lower) "
                rf"than {AGAINST}(?P<t>{VALUE}){BY_CHANCE}"),
    "outlier_words": (rf"(?P<label>.+): (?P<side>higher|lower) than (?:the trust|{AGAINST}(?P<t>{VALUE}))"
                      rf"{BY_CHANCE}"),
    "missing": (rf"The school recorded a concern about going missing from home or care for (?:(?P<a>{NUM}) "
                r"(?:child|children)|children) this term and made no referral to early help, children's "
                r"social care, police, Prevent or health; the trust asks whenever none is made\."),
    "cme": (rf"(?:(?P<a>{NUM}) (?:child was|children were)|Children were) reported to the local authority as "
            r"missing education this term(?: \(how many is not shown, to protect small numbers\))?; the "
            r"trust asks about any child reported\."),
    "rising": (rf"{ROSE}: (?P<c2>{NUM}) in (?P<t2>{A_TERM}), (?P<c1>{NUM}) in (?P<t1>{A_TERM}), "
               rf"(?P<c0>{NUM}) this term\."),
    "rising_words": (rf"{ROSE}, from {A_TERM} to {A_TERM} to this term; some of the counts are not shown, "
                     r"to protect small numbers\."),
    # a rule whose outcome turns on counts hidden from the reader: said either way, so it says nothing
    "too_small": (r"Some counts behind (?P<what>.+) are too small to show, so whether this is a gap cannot "
                  r"be read from the figures shown here\."),
    "quiet": (rf"A school of (?P<roll>{NUM}) pupils recorded no (?P<what>exploitation|child-on-child abuse) "
              r"concerns in (?:its one term|any of the (?P<k>\d+) terms) of (?P<year>\d{4}/\d{2}) returned "
              r"so far; the trust asks whenever a school with older pupils records none\."),
    "change": (r"(?P<where>[A-Za-z-]+![A-Z]+\d+|[A-Za-z-]+): (?P<said>.+) No explanation was given; the "
               r"trust asks for one whenever the check queries a change\."),
    # no count of children in these: events, staff, dates, returns
    "events": (rf"(?:The school attended .+|.+ reports for child protection conferences.* were submitted "
               rf"on time{BELOW_LINE}\.|\d+ safeguarding courses? (?:is|are) below the trust's line .+|.+ DSL.+|"
               r"The .+ (?:(?:date )?was not given(?: \(due every .+\))?|was last done on .+|is (?:overdue|due within a month) "
               r"\(due every .+; last done .+\))\.|The return names no designated .+|"
               r"No return has been received for .+|The return arrived \d+ days? after it was due \(by .+\)\.|"
               r"\d+% of the counts in the return were left blank \(not known\), at or above the trust's "
               r"line of \d+%\.|"
               r"(?:The designated safeguarding lead|A deputy DSL)'s .+)"),
}.items()}


def _finding(k: Knowledge, urn, ti, text: str, route: str, severity: str = "") -> None:
    text = html.unescape(str(text)).strip()
    k.texts.append((text, route))
    if text == FINDING_WITHHELD or urn is None or ti is None:
        if text != FINDING_WITHHELD:
            k.unparsed.append(f"{route}: a finding with no school or term: {text!r}")
        return
    key = (urn, ti, text)
    if key in k.findings:
        return
    k.findings[key] = route
    route = f"{route}: \"{text}\""
    red = "Red" in severity or severity == "red"
    amber = "Amber" in severity or severity == "amber"
    for name, pattern in FINDINGS.items():
        m = pattern.fullmatch(text)
        if not m:
            continue
        k.raised[(urn, ti)].add(name.removesuffix("_words").removesuffix("_v2"))
        read = _FINDING_READERS.get(name)  # none for "events": no count of children in them
        if read is not None:
            read(_Found(k, urn, ti, name, m, route, red, amber))
        return
    k.unparsed.append(f"{route}: a finding no reader's rule explains")


@dataclass(frozen=True)
class _Found:
    """A finding whose wording FINDINGS knows: the school-term it is about, the match, where it
    was read, and whether it was raised red or amber."""
    k: Knowledge
    urn: str
    ti: int
    name: str
    m: re.Match
    route: str
    red: bool
    amber: bool

    def v(self, measure: str) -> tuple[tuple, float]:
        """The school-term's count of ``measure``, once."""
        return (self.urn, self.ti, measure), 1.0

    def bound(self, e: tuple, lo: float, hi: float) -> None:
        self.k.bound(e, lo, hi, self.route, "finding")


def _n(s: str) -> float:
    return float(s.replace(",", ""))


def _share_finding(f: _Found) -> None:
    """Drift and chronologies: a part of the flagged children, said or banded, and the level
    that says where the share lies (the About page's lines are rounded to a per cent)."""
    m, v, th = f.m, f.v, f.k.thresholds
    part_id = "neglect.monitoring_only_2_terms" if f.name == "drift" else "neglect.chronology_reviewed"
    flags = expr(v("neglect.active_flags"))
    f.bound(flags, 1, INF)
    if m.group("a"):
        f.bound(expr(v(part_id)), _n(m.group("a")), _n(m.group("a")))
        f.bound(flags, _n(m.group("b")), _n(m.group("b")))
    elif m.group("band").lower() == "under half":  # part < flags / 2
        f.bound(expr(v(part_id), (v("neglect.active_flags")[0], -0.5)), -INF, 0)
    else:
        f.bound(expr(v(part_id), (v("neglect.active_flags")[0], -0.5)), 0, INF)

    def at_least(line):
        f.bound(expr(v(part_id), (v("neglect.active_flags")[0], -(line - ROUNDED))), 0, INF)

    def below(line):
        f.bound(expr(v(part_id), (v("neglect.active_flags")[0], -(line + ROUNDED))), -INF, 0)

    if f.name == "drift":
        if f.red:
            at_least(th["drift_red"])
        if f.amber:
            at_least(th["drift_amber"])
            below(th["drift_red"])
    else:
        if f.red:
            below(th["chronology_red"])
        if f.amber:
            at_least(th["chronology_red"])
        if f.red or f.amber:
            below(th["chronology_amber"])


def _absent_finding(f: _Found) -> None:
    m, v = f.m, f.v
    if f.name == "absent":
        f.bound(expr(v("neglect.persistently_absent")), _n(m.group("a")), _n(m.group("a")))
        plans = expr(v("neglect.early_help_plan"), v("neglect.cp_plan_neglect"))
        f.bound(plans, _n(m.group("b")), _n(m.group("b")))
    else:
        f.bound(expr(v("neglect.persistently_absent"), (v("neglect.early_help_plan")[0], -1),
                     (v("neglect.cp_plan_neglect")[0], -1)), 1, INF)


def _lado_finding(f: _Found) -> None:
    m, v = f.m, f.v
    due, done = v("multi_agency.lado.due"), v("multi_agency.lado.done")
    if f.name == "lado":
        not_referred, due_n = _n(m.group("a")), _n(m.group("b"))
        f.bound(expr(due), due_n, due_n)
        f.bound(expr(due, (done[0], -1)), not_referred, not_referred)
    elif f.name == "lado_words":
        f.bound(expr(due, (done[0], -1)), 1, INF)
    else:
        f.bound(expr(due, (done[0], -1)), 1, INF)
        if m.group("a"):
            f.bound(expr(due), _n(m.group("b")), _n(m.group("b")))
            f.bound(expr(due, (done[0], -1)), _n(m.group("a")), _n(m.group("a")))
        elif m.group("band") == "under half":  # due - done < due / 2
            f.bound(expr((due[0], 0.5), (done[0], -1)), -INF, 0)
        else:
            f.bound(expr((due[0], 0.5), (done[0], -1)), 0, INF)


def _social_worker_finding(f: _Found) -> None:
    m = f.m
    part, whole = f.v("inclusion.sw_persistently_absent"), f.v("about.social_worker")
    if m.group("a"):
        f.bound(expr(part), _n(m.group("a")), _n(m.group("a")))
        f.bound(expr(whole), _n(m.group("b")), _n(m.group("b")))
    elif m.group("band").lower() == "under half":
        f.bound(expr(part, (whole[0], -0.5)), -INF, 0)
    else:
        f.bound(expr(part, (whole[0], -0.5)), 0, INF)


def _at_least_one(f: _Found) -> tuple[float, float]:
    """The count the finding says (group a), or at least one where it says none."""
    return (_n(f.m.group("a")),) * 2 if f.m.group("a") else (1, INF)


def _looked_after_finding(f: _Found) -> None:
    f.bound(expr(f.v("about.looked_after")), *_at_least_one(f))


def _refused_finding(f: _Found) -> None:
    refused = expr(*(f.v(f"referrals.{r.id}.not_accepted") for r in REFERRALS.rows))
    lo, hi = (_n(f.m.group("a")),) * 2 if f.name == "refused" else (1, INF)
    f.bound(refused, lo, hi)
    f.bound(expr(*(f.v(f"referrals.{r.id}.escalated") for r in REFERRALS.rows)), 0, 0)


def _outlier_finding(f: _Found) -> None:
    k, m, urn, ti, route = f.k, f.m, f.urn, f.ti, f.route
    ind = LABELS.get(m.group("label"))
    if ind is None:
        k.unparsed.append(f"{route}: no measure is called {m.group('label')!r}")
        return
    side = "above_998" if m.group("side") == "higher" else "below_998"
    k.positions.append(Position(urn, ti, ind.id, side, route))
    if f.name == "outlier":
        k.count(ind.id, "numerator", urn, ti, m.group("a"), route)
        k.count(ind.id, "denominator", urn, ti, m.group("b"), route)
        _value_cell(k, ind, urn, ti, m.group("v"), route)
    national = m.group("england")
    group = m.group("group") or national
    if group:  # against its phase's schools: their pooled figure, or England's for its phase, rounded
        phase = next((p for p in PHASES if p.lower() == group), None)
        if national:
            phase = england_group(phase) if phase else None
        read = read_value(m.group("t"), ind.unit)
        if phase is None or read in (None, "blank"):
            k.unparsed.append(f"{route}: a group {group!r} or its figure {m.group('t')!r}")
            return
        _group(k, ind, urn, ti, phase, route)
        k.targets[(ti, ind.id, phase)].append((*read, route))
    elif m.group("t"):
        _group(k, ind, urn, ti, WHOLE_TRUST, route)
        _trust_cell(k, ind, ti, m.group("t"), route)


def _missing_finding(f: _Found) -> None:
    f.bound(expr(f.v("referrals.missing.concerns")), *_at_least_one(f))
    f.bound(expr(*(f.v(f"referrals.missing.{r}") for r in REFERRAL_ROUTES)), 0, 0)


def _cme_finding(f: _Found) -> None:
    f.bound(expr(f.v("inclusion.cme_reported")), *_at_least_one(f))


def _rising_finding(f: _Found) -> None:
    m, urn, ti = f.m, f.urn, f.ti
    measure = RISING_NOUNS.get(m.group("noun"))
    if measure is None:
        f.k.unparsed.append(f"{f.route}: no count is called {m.group('noun')!r}")
        return
    for later in (ti, ti - 1):  # up on the term before, in each of the last two terms
        f.bound(expr(((urn, later, measure), 1.0), ((urn, later - 1, measure), -1.0)), 1, INF)
    if f.name == "rising":  # and every count said
        years = [term_index(*reversed(m.group(t).split(" "))) for t in ("t2", "t1")]
        for index, said in zip((*years, ti), (m.group("c2"), m.group("c1"), m.group("c0"))):
            f.bound(expr(((urn, index, measure), 1.0)), _n(said), _n(said))


def _too_small_finding(f: _Found) -> None:
    what = f.m.group("what")
    kind = TOO_SMALL.get(what) or ("lado" if re.fullmatch(r"the .+ received and referred", what) else None) or \
        next((f"rising {noun}" for noun in RISING_NOUNS if what.startswith(f"the {noun} in ")), None)
    if kind is None:
        f.k.unparsed.append(f"{f.route}: counts too small for a rule no reader knows: {what!r}")
        return
    f.k.raised[(f.urn, f.ti)].add(kind)  # the rule looked and says nothing: no absence is read from it


def _quiet_finding(f: _Found) -> None:
    rows = ("cse", "cce") if f.m.group("what") == "exploitation" else ("child_on_child",)
    year = f.m.group("year")
    for t in TERMS[:TERMS.index(_term_name(f.ti)) + 1]:
        index = term_index(year, t)
        if index <= f.ti:
            f.bound(expr(*(((f.urn, index, f"referrals.{r}.concerns"), 1.0) for r in rows)), 0, 0)


def _change_finding(f: _Found) -> None:
    measure = CELLS.get(f.m.group("where"))
    if measure is None:
        return
    said = f.m.group("said")
    if said == "The figure is more than three times last term's.":
        _growth(f.k, f.urn, f.ti, measure, None, None, f.route)
    else:
        _query(f.k, f.urn, f.ti, said, f.route)


# how each wording in FINDINGS is read (the "events" say no count of children)
_FINDING_READERS = {
    "drift": _share_finding, "chronology": _share_finding,
    "absent": _absent_finding, "absent_words": _absent_finding,
    "lado": _lado_finding, "lado_v2": _lado_finding, "lado_words": _lado_finding,
    "social_worker": _social_worker_finding, "looked_after": _looked_after_finding,
    "refused": _refused_finding, "refused_words": _refused_finding,
    "outlier": _outlier_finding, "outlier_words": _outlier_finding,
    "missing": _missing_finding, "cme": _cme_finding,
    "rising": _rising_finding, "rising_words": _rising_finding,
    "too_small": _too_small_finding, "quiet": _quiet_finding, "change": _change_finding,
}


# what the rising rules count, as their findings name it
RISING_NOUNS = {"pupils on a part-time timetable": "inclusion.part_time_timetable",
                "pupils suspended": "inclusion.suspended",
                "pupils removed from roll for elective home education": "inclusion.ehe_removals"}
TOO_SMALL = {"the flagged children monitored in school only": "drift", "the chronologies reviewed": "chronology",
             "the flagged children persistently absent and those with a plan": "absent",
             "the children with a social worker persistently absent": "social_worker"}


def _term_name(ti: int) -> str:
    return TERMS[ti % 3]


def _growth(k: Knowledge, urn, ti, measure, now, before, route) -> None:
    """The check's query: this term's count is more than three times last term's, which was not 0,
    and grew by GROWTH_AT_LEAST (5) or more."""
    from loaders.cross_checks import GROWTH_AT_LEAST

    this, last = ((urn, ti, measure), 1.0), ((urn, ti - 1, measure), 1.0)
    k.bound(expr(this, (last[0], -3.0)), 1, INF, route, "query")  # now >= 3 * before + 1
    k.bound(expr(this, (last[0], -1.0)), GROWTH_AT_LEAST, INF, route, "query")  # now >= before + 5
    k.bound(expr(last), 1, INF, route, "query")
    for which, cell in ((this, now), (last, before)):
        more = re.fullmatch(r"(\d+) or more", str(cell).strip()) if cell is not None else None
        read = (float(more.group(1)), INF, "query") if more else read_count(cell) if cell is not None else "blank"
        if read not in ("blank", None):
            k.bound(expr(which), read[0], read[1], route, read[2])


def _query(k: Knowledge, urn, ti, message: str, route: str) -> None:
    k.texts.append((message, route))
    m = re.match(r"(?P<where>.+ \([^()]+, [A-Z]+\d+\)): the cell holds (?P<now>[\d,]+|fewer than \d+|\d+ or more); "
                 r"last term (?P<before>[\d,.]+|fewer than \d+|\d+ or more)\. That is more than three times as many", message)
    if m and CELLS.get(m.group("where")) and urn is not None and ti is not None:
        _growth(k, urn, ti, CELLS[m.group("where")], m.group("now"), m.group("before").rstrip("."),
                f"{route}: \"{message}\"")
        return
    if m or "three times" in message:
        k.unparsed.append(f"{route}: the check's growth query, not read: {message!r}")
        return
    m = re.match(r"(?P<where>.+ \([^()]+, [A-Z]+\d+\)): the cell holds (?P<now>[\d,]+|fewer than \d+), more than "
                 r"the (?P<roll>[\d,]+) pupils on roll\.", message)
    if m and CELLS.get(m.group("where")) and urn is not None and ti is not None:
        read = read_count(m.group("now"))
        if read not in ("blank", None):
            k.bound(expr(((urn, ti, CELLS[m.group("where")]), 1.0)), read[0], read[1], f"{route}: \"{message}\"",
                    read[2])


def _cells() -> dict[str, str]:
    """Where each count sits in the template ("Neglect!B5"), as every DSL and trustee can see."""
    from sample_data.large import _template_places

    places = _template_places()
    out = {}
    for m in MEASURES:
        if m.type == COUNT:
            try:
                sheet, ref = places.of(m.id)
                out[places.name(m.id)] = m.id  # as the check's messages name it: "Label (Sheet, B7)"
                if ref:
                    out[f"{sheet}!{ref}"] = m.id  # as a gap's finding names it: "Sheet!B7"
            except (KeyError, TypeError):
                continue
    return out


CELLS = _cells()


# ---- what the contract and the gap rules tell every reader ---------------------------------------

def contract(k: Knowledge, school_terms) -> None:
    """The contract's rules (a part at most its whole) for every school-term returned: every reader
    can read them in the template. (What a gap not raised says is attacks.absences.)"""
    for urn, ti in school_terms:
        for rule in RULES:
            k.bound(expr(((urn, ti, rule.left), 1.0), *(((urn, ti, r), -1.0) for r in rule.right)), -INF, 0,
                    f"the contract's rule {rule.code}", "rule")


def suppressed_measures() -> list[str]:
    return [m.id for m in MEASURES if m.type == COUNT and m.suppressed]


def indicator_parts() -> list[tuple[str, str]]:
    """(indicator, numerator/denominator) for every part that counts children or allegations."""
    out = []
    for ind in INDICATORS:
        for which in ("numerator", "denominator"):
            if any(MEASURES_BY_ID[m].suppressed for m in getattr(ind, which)) and about_children(ind.id):
                out.append((ind.id, which))
    return out
