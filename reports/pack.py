"""Gathering the board pack: one term's gaps, charts and tables, for a trust leader or a trustee.

The pack is short unless its appendix is asked for: a cover, a page of summary, the gaps by theme
with their questions, the board's questions and how to read it. The appendix adds each theme's
charts and tables of every school's figures, the definitions and the methods; its sections are
only made when it is asked for.

The pack is read through the same scope as the dashboard: for trustees the Dataset is restricted
with a trustee's scope, so small counts of children are already "fewer than 5" before any chart
or table is made from them. Every figure comes from charts/, every number from analysis/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

import settings
from analysis import deadlines
from analysis.benchmarks import england, phase_figures
from analysis.challenges import closed_since, for_reader, for_term, still_open, with_state
from analysis.compare import yardstick
from analysis.context import Context, Dataset
from analysis.dataset import Unavailable, as_role, board_inputs, chosen_term
from analysis.gaps import SEVERITY_ORDER, find_gaps, gaps_frame
from analysis.indicators import INDICATORS, PER_100
from analysis.suppression import fewer_than, suppression_threshold
from analysis.themes import THEMES, Theme
from analysis.views import compliance_cells, returns_in, tracker_cells
from charts import Chart
from charts.funnel import POSITION_WORDS, funnel_plot
from charts.heatmap import theme_heatmap
from charts.palette import SEVERITY_WORD
from charts.tables import compliance_grid, returns_tracker
from charts.trend import trend_chart
from loaders.registry import previous_term, term_end, term_index

__all__ = ["Pack", "Section", "Unavailable", "board_since_words", "build_pack", "pack_from_dataset", "definitions",
           "methods", "reader_note", "ROLES", "TOP_GAPS"]

TOP_GAPS = 5
ROLES = ("leader", "trustee")
PACK_READER, TRUSTEE = "pack@local", "trustee"
POLARITY_WORDS = {"higher_better": "higher is better", "lower_better": "lower is better",
                  "none": "no better direction: a difference is a question"}


@dataclass
class Section:
    """One review theme: its learning, its charts (title, Chart) and the gaps raised on it."""

    theme: Theme
    charts: list[tuple[str, Chart]]
    gaps: pd.DataFrame
    measures: pd.DataFrame  # every school's figure on each of the theme's measures this term


@dataclass
class Pack:
    trust: str
    academic_year: str
    term: str
    made: date
    data_as_at: datetime | None
    for_trustees: bool
    returned: int
    expected: int
    returns_rest: str  # the returns not in, in words: "1 late, 2 missing", or "3 not yet due (due by ...)"
    heatmap: Chart
    gaps: pd.DataFrame
    themes: tuple[Theme, ...] = tuple(THEMES)  # a section each, in this order
    # the board's questions: those still open or answered, and those closed since the last pack,
    # each with whether the gap it was raised on is still found this term
    board_open: pd.DataFrame = field(default_factory=pd.DataFrame)
    board_closed: pd.DataFrame = field(default_factory=pd.DataFrame)
    last_pack: datetime | None = None  # when the pack for an earlier term was last made
    appendix: bool = False  # with the appendix of charts and tables (each theme's section), the definitions and methods
    # each theme's section is made when first asked for, and kept
    make_section: Callable[[Theme], Section] | None = field(default=None, repr=False, compare=False)
    _made: list[Section] = field(default_factory=list, repr=False, compare=False)

    def each_section(self) -> Iterator[Section]:
        """Each theme's section in turn, made as it is reached: a PDF printer draws one theme's
        charts while the next theme's are made."""
        for k, theme in enumerate(self.themes):
            if k == len(self._made):
                self._made.append(self.make_section(theme))
            yield self._made[k]

    @property
    def sections(self) -> list[Section]:
        return list(self.each_section())

    def gaps_by_theme(self) -> Iterator[tuple[Theme, pd.DataFrame]]:
        """Each theme, in order, with its gaps (worst first, as the gap list orders them)."""
        for theme in self.themes:
            yield theme, self.gaps[self.gaps["theme"] == theme.id].reset_index(drop=True)

    @property
    def gap_counts(self) -> pd.DataFrame:
        """How many gaps of each severity each theme has, and in all: a row a theme, then "All themes"."""
        levels = list(SEVERITY_ORDER)
        rows = [{"Theme": theme.title, **{lv: int((gaps["severity"] == lv).sum()) for lv in levels}}
                for theme, gaps in self.gaps_by_theme()]
        rows.append({"Theme": "All themes", **{lv: sum(r[lv] for r in rows) for lv in levels}})
        frame = pd.DataFrame(rows, columns=["Theme", *levels])
        frame["All gaps"] = frame[levels].sum(axis=1)
        return frame.rename(columns={lv: SEVERITY_WORD[lv] for lv in levels})

    @property
    def top_gaps(self) -> pd.DataFrame:
        """The gaps that most need a question: the worst first, as the gap list orders them."""
        return self.gaps.head(TOP_GAPS)

    @property
    def title(self) -> str:
        return f"Safeguarding board pack: {self.term} {self.academic_year}"


def build_pack(url: str | None = None, year: str | None = None, term: str | None = None, *,
               role: str = "leader", today: date | None = None, appendix: bool = False) -> Pack:
    """The pack from the database at ``url`` (default: the configured one) for a term (default: the
    one the dashboard shows first, analysis.deadlines.default_term, as at ``today``), short unless
    ``appendix``. Unavailable, with a plain sentence, when it cannot be made."""
    got = board_inputs(url, year, term, today)
    return pack_from_dataset(got.data, got.year, got.term, role=role, thresholds=got.thresholds, today=today,
                             challenges=got.challenges, last_pack=got.last_pack, appendix=appendix)


def pack_from_dataset(data: Dataset, year: str | None = None, term: str | None = None, *,
                      role: str = "leader", thresholds: dict | None = None, today: date | None = None,
                      challenges: pd.DataFrame | None = None, last_pack: datetime | None = None,
                      appendix: bool = False) -> Pack:
    """The pack from a loaded dataset. ``challenges`` is the board's log (store.challenges'
    columns) and ``last_pack`` when the pack for an earlier term was made: items closed after it
    are reported as closed since the last pack (after the previous term's end when None).
    ``appendix`` adds each theme's charts and tables, the definitions and the methods."""
    if role not in ROLES:
        raise ValueError(f"{role!r} is not a pack reader: use one of {', '.join(ROLES)}.")
    made = today or deadlines.current_date()
    year, term = chosen_term(data, year, term, thresholds, made)
    if role == "trustee":
        data = as_role(data, TRUSTEE, PACK_READER)
    ctx = Context(data, year, term, thresholds, made)
    gaps = gaps_frame(find_gaps(ctx))
    expected = ctx.expected()
    returned = {s.urn for s in expected if s.returned}
    schools = pd.DataFrame({"urn": [s.urn for s in expected], "name": [s.name for s in expected]})
    pack = Pack(
        trust=str(settings.get("TRUST_NAME", "The trust")), academic_year=year, term=term,
        made=made, data_as_at=_as_at(data, ctx.index), for_trustees=data.suppress,
        returned=len(returned), expected=len(expected), returns_rest=returns_in(ctx)[2],
        heatmap=theme_heatmap(gaps, schools, returned, not_yet_due=not ctx.past_due), gaps=gaps, appendix=appendix,
        make_section=lambda theme: _section(theme, ctx, gaps, thresholds),
    )
    _board_log(pack, challenges, ctx, gaps, returned, last_pack)
    return pack


def _board_log(pack: Pack, log: pd.DataFrame | None, ctx: Context, gaps: pd.DataFrame, returned: set[str],
               last_pack: datetime | None) -> None:
    """The board's questions as this term sees them: still open or answered, and closed since the
    last pack (or since the previous term ended, when no earlier pack is on record). In a trustees'
    pack each finding is worded as the trustees' own gap list put it, small counts hidden."""
    pack.last_pack = last_pack
    if log is None or log.empty:
        return
    year, term = pack.academic_year, pack.term
    log = for_reader(log, ctx.data.suppress, lambda y, t: gaps if (y, t) == (year, term) else
                     gaps_frame(find_gaps(Context(ctx.data, y, t, ctx.t, ctx.today))), upto=(year, term))
    live = with_state(for_term(log, year, term), gaps, year, term, returned, pack.made)
    pack.board_open = still_open(live).reset_index(drop=True)
    since = last_pack or datetime.combine(term_end(*previous_term(year, term)), datetime.max.time())
    raised = [term_index(y, t) <= term_index(year, term) for y, t in zip(log["academic_year"], log["term"])]
    closed = closed_since(log[raised], since)
    pack.board_closed = with_state(closed, gaps, year, term, returned, pack.made).reset_index(drop=True)


def board_since_words(pack: Pack) -> str:
    """What "since the last pack" means in this pack, in words."""
    if pack.last_pack is not None:
        return f"since the last pack was made, on {pack.last_pack.strftime('%d %B %Y')}"
    prev = term_end(*previous_term(pack.academic_year, pack.term))
    return f"since the end of the previous term, {prev.strftime('%d %B %Y')} (no earlier pack is on record)"


def _as_at(data: Dataset, index: int) -> datetime | None:
    """The newest submission behind the pack (returns for its term and the terms before it)."""
    r = data.returns
    behind = r[[term_index(y, t) <= index for y, t in zip(r["academic_year"], r["term"])]]
    if behind.empty:
        return None
    newest = pd.to_datetime(behind["submitted_at"]).max()
    return None if pd.isna(newest) else newest.to_pydatetime()


def _section(theme: Theme, ctx: Context, gaps: pd.DataFrame, thresholds: dict | None) -> Section:
    data = ctx.data
    charts: list[tuple[str, Chart]] = []
    if theme.id == "workforce":
        cells = compliance_cells(ctx)
        if not cells.empty:
            charts.append(("Training and checks", compliance_grid(cells)))
    if theme.id == "oversight":
        cells = tracker_cells(data, thresholds, last=ctx.index, today=ctx.today)
        if not cells.empty:
            charts.append(("Returns received", returns_tracker(cells)))
    measures = []
    # a pack for an earlier term shows the trend up to that term, as the board would have seen it
    upto = data.compared[data.compared["term_index"] <= ctx.index]
    pooled = data.pooled[data.pooled["term_index"] <= ctx.index]
    for ind in (i for i in INDICATORS if i.theme == theme.id):
        rows = upto[upto["indicator"] == ind.id]
        now = rows[rows["term_index"] == ctx.index]
        bench = england(ind.id)
        line = bench[0] if bench else None
        if now["value"].notna().any():
            charts.append((f"{ind.label}: schools compared", funnel_plot(now, data.school_names, ind.id, line)))
        trust_line = pooled[pooled["indicator"] == ind.id]
        if len(rows):
            charts.append((f"{ind.label}: term by term", trend_chart(rows, trust_line, data.school_names, ind.id,
                                                                       england=line)))
        measures.append(_measure_rows(ind, now, data.school_names))
    table = pd.concat(measures, ignore_index=True) if measures else pd.DataFrame(columns=MEASURE_COLUMNS)
    return Section(theme, charts, gaps[gaps["theme"] == theme.id].reset_index(drop=True), table)


MEASURE_COLUMNS = ["Measure", "School", "URN", "Count", "Base", "Value", "Unit", "Trust", "Against the trust",
                   "Compared with"]


def _measure_rows(ind, now: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """One row a school: counts as numbers, or the words that stand for a hidden one; the value
    as a number (a share from 0 to 1, or a rate per 100 pupils); blank stays blank."""
    rows = []
    for r in now.sort_values("urn").itertuples():
        num_note = getattr(r, "numerator_note", "") or ""
        den_note = getattr(r, "denominator_note", "") or ""
        hidden = bool(num_note or den_note)
        rows.append({
            "Measure": ind.label, "School": names.get(r.urn, r.urn), "URN": r.urn,
            "Count": num_note or _number(r.numerator), "Base": den_note or _number(r.denominator),
            "Value": "not shown" if hidden else _number(r.value, 4),
            "Unit": "per 100 pupils" if ind.unit == PER_100 else "share (1 = 100%)",
            "Trust": _number(r.trust, 4), "Against the trust": POSITION_WORDS.get(getattr(r, "position", ""), ""),
            "Compared with": yardstick(getattr(r, "group", ""), ind.id) if ind.funnel else "",
        })
    return pd.DataFrame(rows, columns=MEASURE_COLUMNS)


def _number(v, digits: int | None = None):
    if v is None or pd.isna(v):
        return None
    return round(float(v), digits) if digits is not None else float(v)


def definitions() -> pd.DataFrame:
    """The appendix: every measure the pack shows, what it divides by what, and how to read it."""
    titles = {t.id: t.title for t in THEMES}
    return pd.DataFrame({
        "Theme": [titles.get(i.theme, i.theme) for i in INDICATORS],
        "Measure": [i.label for i in INDICATORS],
        "Definition": [i.definition for i in INDICATORS],
        "Unit": [i.unit for i in INDICATORS],
        "Direction": [POLARITY_WORDS.get(i.polarity, i.polarity) for i in INDICATORS],
    })


def reader_note(pack: Pack) -> str:
    """Who the pack is for, and what that hides, in a sentence for its cover."""
    if not pack.for_trustees:
        return "For the trust's leaders: every figure in full."
    t = suppression_threshold()
    return f"For trustees: counts of children from 1 to {t - 1} are shown as \"{fewer_than(t)}\"."


def methods(pack: Pack) -> list[str]:
    """How the figures were made, in plain sentences, for the appendix."""
    lines = [
        "Each school's figure is its own count divided by its base (pupils on roll, or the children "
        "or staff counted), from the newest version of its return for the term.",
        "The trust's figure pools every school's counts. Schools are placed on funnel plots, whose 95% "
        "and 99.8% limits show the range chance alone would give a school of that size around the "
        "figure it is held against.",
        "Each school is held against schools like it: the trust's schools of its phase when there are "
        "three or more with figures that term; where there are fewer, England's published figure for "
        "schools of its phase, where one exists for the measure (its source and year are named beside "
        "the school); otherwise the school is not placed. A school whose phase is not recorded is held "
        "against the whole trust. The 'Compared with' column says which.",
        "England's figures for one phase: " + "; ".join(sorted({b.citation for _, _, b in phase_figures()})) + ".",
        "Measures with a better direction (training, checks in date) are red or amber against the "
        "trust's thresholds; counts of concerns, flags and referrals have none, and a difference is "
        "shown only as higher or lower than the trust, as a question to ask.",
        "A blank in a return stays blank: it is never counted as zero.",
    ]
    if pack.for_trustees:
        t = suppression_threshold()
        lines.append(f"This pack is for trustees: counts of children from 1 to {t - 1} are shown as "
                     f"\"fewer than {t}\", with a further figure \"not shown\" where the trust's total "
                     "would give one away, and rates built on them are not shown.")
    return lines
