"""Tables the pages and the board pack show beside the gap list: training and KCSIE compliance
by school, which returns are in, late or missing, term by term; how the gaps tally against the
heatmap's cells; what changed since the term before; and a school's own trend and oversight."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from analysis import deadlines
from analysis.context import Context, Dataset
from analysis.gaps import SEVERITY_ORDER, level_below, months_before, plural
from analysis.indicators import HIGHER_BETTER, INDICATORS_BY_ID, LOWER_BETTER, PER_100
from loaders.registry import DSL_ROLE, GOVERNANCE_DATES, TRAINING, GovernanceDate, term_from_index, term_index

DSL_ITEM = "DSL<br>training"
CELL_COLUMNS = ["school", "urn", "item", "level", "label", "detail"]


def compliance_cells(ctx: Context) -> pd.DataFrame:
    """One row per school and check for the context's term: training courses, DSL training, and the
    three governance dates, each with its level (clear, amber, red, no data) and the number behind it."""
    rows = []
    for school in sorted(ctx.returned(), key=lambda s: s.name):
        for course in TRAINING.rows:
            scope, done = school.count(f"training.{course.id}.in_scope"), school.count(f"training.{course.id}.in_date")
            item = _short(course.label)
            if scope is None or done is None or scope == 0:
                rows.append((school.name, school.urn, item, "no data", "no data", f"{course.label}: not reported"))
                continue
            level = level_below(done / scope, ctx.t["training_amber"], ctx.t["training_red"]) or "clear"
            rows.append((school.name, school.urn, item, level, f"{done / scope:.0%}",
                         f"{course.label}: {done:.0f} of {scope:.0f} staff in date"))
        rows.append(_dsl_cell(ctx, school))
        for check in GOVERNANCE_DATES:
            rows.append(_date_cell(ctx, school, check))
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def _short(label: str) -> str:
    return {
        "Safeguarding and child protection (all staff)": "All staff",
        "Keeping children safe in education part one read": "KCSIE<br>part one",
        "Prevent duty": "Prevent",
        "Online safety, including filtering and monitoring": "Online<br>safety",
        "Safer recruitment (interview panel members)": "Safer<br>recruitment",
        "Governors: safeguarding training": "Governors",
    }.get(label, label)


def _dsl_cell(ctx: Context, school) -> tuple:
    dsl = [lead for lead in school.leads if lead["role"] == DSL_ROLE]
    if not dsl:
        return (school.name, school.urn, DSL_ITEM, "red", "no DSL", "No designated safeguarding lead named")
    lead = dsl[0]
    full, ref = lead["last_full_training"], lead["last_refresher"]
    if full is None or ref is None:
        return (school.name, school.urn, DSL_ITEM, "amber", "no date", "A DSL training date was not given")
    full_age = (school.end - full).days / 365.25
    ref_age = (school.end - ref).days / 365.25
    late = full_age > ctx.t["dsl_full_years"] or ref_age > ctx.t["dsl_refresher_years"]
    detail = f"Full training {full:%d %b %Y}, refresher {ref:%d %b %Y}"
    return (school.name, school.urn, DSL_ITEM, "red" if late else "clear", "lapsed" if late else "in date", detail)


def _date_cell(ctx: Context, school, check: GovernanceDate) -> tuple:
    item, what = check.short.replace(" ", "<br>", 1), check.check
    when = school.date(check.measure)
    if when is None:
        return (school.name, school.urn, item, "amber", "no date", f"{what}: no date given")
    months = months_before(school.end, when)
    level = "red" if months >= ctx.t["governance_months"] else "clear"
    return (school.name, school.urn, item, level, f"{when:%b %y}",
            f"{what}: {when:%d %B %Y} ({plural(months, 'month')} before term end)")


NOT_YET_DUE = "not yet due"


def returns_in(ctx: Context, urns=None) -> tuple[int, int, str]:
    """(returns in, schools expected, the rest in words) for the context's term and the schools
    ``urns`` (default: every school): "2 late, 1 missing"; before the term's deadline, when none can
    be missing or late yet, "11 not yet due (due by 14 January 2027)"."""
    expected = [s for s in ctx.expected() if urns is None or s.urn in urns]
    returned = sum(1 for s in expected if s.returned)
    outstanding = len(expected) - returned
    if not ctx.past_due:
        return returned, len(expected), f"{outstanding:,} {NOT_YET_DUE} (due by {ctx.due:%-d %B %Y})"
    late = sum(1 for s in expected if s.returned and (s.days_late or 0) > 0)
    return returned, len(expected), f"{late:,} late, {outstanding:,} missing"

TRACKER_COLUMNS = ["school", "urn", "academic_year", "term", "term_label", "level", "label", "days_late"]


def tracker_cells(data: Dataset, thresholds: dict | None = None, *, last: int | None = None,
                  today: date | None = None, since: int | None = None) -> pd.DataFrame:
    """Every expected school-term up to ``last`` (default: the latest term with a return), from
    ``since`` (default: the first term with a return): on time, late (with how late), or missing.
    A return not in for a term whose deadline has not passed by ``today`` (default: today) is "not
    yet due", in grey: never missing."""
    if not data.terms:
        return pd.DataFrame(columns=TRACKER_COLUMNS)
    today = today or deadlines.current_date()
    first_term = max(term_index(*data.terms[0]), since if since is not None else -1)
    last = term_index(*data.terms[-1]) if last is None else last
    first = data.first_return
    rows = []
    for school in data.schools.sort_values("name").itertuples():
        for i in range(first_term, last + 1):
            if first.get(school.urn, -1) > i:
                continue
            year, term = term_from_index(i)
            due = deadlines.deadline(year, term, thresholds)
            submitted = data.submitted.get((school.urn, year, term))
            label_term = f"{term[:3]} {year}"
            if submitted is None:
                if today <= due:
                    rows.append((school.name, school.urn, year, term, label_term, "no data", NOT_YET_DUE, None))
                else:
                    rows.append((school.name, school.urn, year, term, label_term, "red", "missing", None))
                continue
            late = (submitted.date() - due).days
            if late > 0:
                rows.append((school.name, school.urn, year, term, label_term, "amber", f"{plural(late, 'day')} late", late))
            else:
                rows.append((school.name, school.urn, year, term, label_term, "clear", "on time", 0))
    return pd.DataFrame(rows, columns=TRACKER_COLUMNS)


# ---- the gaps as the headline counts them, and as the heatmap does ------------------------------

@dataclass(frozen=True)
class Tally:
    """The gaps of one severity: how many, in how many schools, and in how many school-themes (the
    heatmap's cells): ``cells`` where it is the most serious gap, so the cell shows it, and
    ``under_worse`` where a more serious gap in the same cell is what the cell shows."""

    gaps: int
    schools: int
    cells: int
    under_worse: int


def gap_tally(gaps: pd.DataFrame) -> dict[str, Tally]:
    """Each severity's Tally (red, amber, note), so a headline of gaps and a heatmap of cells tie up."""
    if gaps.empty:
        return {level: Tally(0, 0, 0, 0) for level in SEVERITY_ORDER}
    rank = gaps["severity"].map(SEVERITY_ORDER)
    worst = rank.groupby([gaps["urn"], gaps["theme"]]).transform("min")
    out = {}
    for level, order in SEVERITY_ORDER.items():
        mine = gaps[rank == order]
        cells = mine.drop_duplicates(["urn", "theme"])
        shown_worse = (worst[cells.index] < order).sum()
        out[level] = Tally(len(mine), mine["urn"].nunique(), len(cells) - int(shown_worse), int(shown_worse))
    return out


# ---- how a figure moved ------------------------------------------------------------------------

ABOUT_THE_SAME = "about the same"


def direction(change: float, polarity: str) -> str:
    """A movement in words: "better" or "worse" where the measure has a better direction, "higher"
    or "lower" where it has none; "about the same" for none."""
    if change == 0:
        return ABOUT_THE_SAME
    up = change > 0
    if polarity in (HIGHER_BETTER, LOWER_BETTER):
        return "better" if up == (polarity == HIGHER_BETTER) else "worse"
    return "higher" if up else "lower"


def shown_figures(compared: pd.DataFrame) -> pd.DataFrame:
    """The rows of a reader's compared table whose figure that reader is shown, with the counts
    behind it: asked, not hidden, its numerator and denominator known and the denominator not 0."""
    hidden = compared["hidden"].fillna(False).astype(bool) if "hidden" in compared else False
    asked = compared["asked"].ne(False) if "asked" in compared else True
    keep = (compared["value"].notna() & compared["numerator"].notna() & compared["denominator"].gt(0)
            & ~hidden & asked)
    return compared[keep]


def movement_z(before_num, before_den, now_num, now_den, per_100) -> np.ndarray:
    """How far a school's figure moved from one term to the next, in standard errors of the
    difference (counts shown to the reader only): a share as two proportions, a rate per 100
    pupils as two Poisson rates. A large school's move of a point says more than a small one's."""
    n0, d0, n1, d1 = (np.asarray(x, dtype=float) for x in (before_num, before_den, now_num, now_den))
    p = (n0 + n1) / (d0 + d1)
    spread = np.where(np.asarray(per_100, dtype=bool), p, p * (1 - p)) * (1 / d0 + 1 / d1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (n1 / d1 - n0 / d0) / np.sqrt(spread)
    return np.where(spread > 0, z, 0.0)


MOVEMENT_COLUMNS = ["urn", "theme", "indicator", "before", "now", "change", "z"]


def movements(compared: pd.DataFrame, index: int, urns, limit: int = 10) -> pd.DataFrame:
    """The largest movements in measures from the term before ``index`` to it, for the schools
    ``urns``: a school and measure only where both terms' figures are shown to the reader (so no
    movement is a difference of hidden counts), ranked by how far beyond chance it is
    (``movement_z``), at most ``limit``. Columns: MOVEMENT_COLUMNS."""
    at = compared["term_index"].to_numpy()
    return _moved(compared[at == index], compared[at == index - 1], urns, limit)


def _moved(now: pd.DataFrame, before: pd.DataFrame, urns, limit: int) -> pd.DataFrame:
    """``movements`` from one term's compared rows (``before``) to the next's (``now``)."""
    wanted = list(urns)

    def seen(rows: pd.DataFrame) -> pd.DataFrame:  # only the columns a movement reads: the frames are large
        rows = rows[[c for c in ("urn", "indicator", "value", "numerator", "denominator", "hidden", "asked") if c in rows]]
        rows = shown_figures(rows[rows["urn"].isin(wanted)])
        return rows[["urn", "indicator", "value", "numerator", "denominator"]]

    both = seen(now).merge(seen(before), on=["urn", "indicator"], suffixes=("", "_before"))
    if both.empty:
        return pd.DataFrame(columns=MOVEMENT_COLUMNS)
    code, ids = pd.factorize(both["indicator"])  # each measure's unit and theme looked up once
    per_100 = np.array([INDICATORS_BY_ID[i].unit == PER_100 for i in ids], dtype=bool)[code]
    out = pd.DataFrame({
        "urn": both["urn"], "theme": np.array([INDICATORS_BY_ID[i].theme for i in ids], dtype=object)[code],
        "indicator": both["indicator"], "before": both["value_before"], "now": both["value"],
        "change": both["value"] - both["value_before"],
        "z": movement_z(both["numerator_before"], both["denominator_before"], both["numerator"],
                        both["denominator"], per_100),
    })
    out = out[out["z"].abs() > 0]
    order = np.lexsort((-out["change"].abs().to_numpy(), -out["z"].abs().to_numpy()))
    return out.iloc[order].head(limit).reset_index(drop=True)


# ---- what changed since the term before -------------------------------------------------------

GAP_KIND = ["urn", "theme", "indicator", "rule"]  # a gap of the same kind: its school, theme, measure and rule


@dataclass
class TermChanges:
    """What changed between the term before and this one, for the schools chosen: the gaps new this
    term and those closed since (a gap of a kind its school did not have the term before, or no
    longer has), and the largest movements in measures. A school whose return for this term is not
    in yet has closed nothing: ``waiting`` names those schools."""

    before: tuple[str, str]
    new: pd.DataFrame
    closed: pd.DataFrame
    movements: pd.DataFrame
    waiting: list[str]


def term_changes(ctx: Context, gaps_now: pd.DataFrame, gaps_before: pd.DataFrame, urns,
                 limit: int = 10) -> TermChanges | None:
    """What changed since the term before the context's, for the schools ``urns``, from the two
    terms' gap lists as this reader is given them and the reader's own figures; None when no
    school returned the term before."""
    if not ctx.data.returned_by_index.get(ctx.index - 1):
        return None
    urns = set(urns)
    now = gaps_now[gaps_now["urn"].isin(urns)]
    before = gaps_before[gaps_before["urn"].isin(urns)]
    returned = {s.urn for s in ctx.expected() if s.returned}
    kinds_now = set(map(tuple, now[GAP_KIND].to_numpy()))
    kinds_before = set(map(tuple, before[GAP_KIND].to_numpy()))
    new = now[[k not in kinds_before for k in map(tuple, now[GAP_KIND].to_numpy())]]
    closed = before[[k not in kinds_now and k[0] in returned for k in map(tuple, before[GAP_KIND].to_numpy())]]
    waiting = sorted(u for u in set(before["urn"]) if u not in returned)
    return TermChanges(term_from_index(ctx.index - 1), new, closed,
                       _movements_between(ctx, urns, limit), waiting)


def _movements_between(ctx: Context, urns, limit: int) -> pd.DataFrame:
    """``movements`` into the context's term, from the two terms' comparisons as they are kept."""
    return _moved(ctx.data.compared_at(ctx.index), ctx.data.compared_at(ctx.index - 1), urns, limit)


# ---- one school: its trend, and its oversight checks --------------------------------------------

@dataclass(frozen=True)
class Trend:
    """A school's first and last figure shown on a measure, with the trust's at the last term."""

    first: int  # term index
    first_value: float
    last: int
    last_value: float
    trust: float | None


def school_trend(values: pd.DataFrame, pooled: pd.DataFrame) -> Trend | None:
    """From one school's compared rows of one measure (as its reader sees them) and the trust's
    pooled rows of it: its first and last figure shown, or None with fewer than two."""
    seen = shown_figures(values).sort_values("term_index")
    if len(seen) < 2:
        return None
    first, last = seen.iloc[0], seen.iloc[-1]
    trust = pooled.loc[pooled["term_index"] == last["term_index"], "value"].dropna()
    return Trend(int(first["term_index"]), float(first["value"]), int(last["term_index"]), float(last["value"]),
                 float(trust.iloc[0]) if len(trust) else None)


# The oversight theme's rows of a school's profile: the return itself, never a count of children
RETURN_RECEIVED, BLANK_COUNTS, UNEXPLAINED = ("Return received", "Counts left blank (not known)",
                                              "Sharp changes left unexplained")


@dataclass(frozen=True)
class Oversight:
    """A school's return for a term as the oversight theme reads it: how late (None when it did not
    return), the counts it left blank of those asked, and the share left blank the term before and
    a year before (None where it did not return), and the sharp changes the check queried that the
    DSL did not explain."""

    days_late: int | None
    blank: int | None
    asked: int | None
    blank_before: float | None
    blank_year_ago: float | None
    unexplained: int | None


def oversight(ctx: Context, urn: str) -> Oversight:
    school = ctx.school_term(urn)
    if not school.returned:
        return Oversight(None, None, None, None, None, None)
    earlier = [ctx.school_term(urn, ctx.index - back) for back in (1, 3)]
    return Oversight(max(school.days_late or 0, 0), sum(v is None for v in school.counts.values()), len(school.counts),
                     *(e.blank_share if e.returned else None for e in earlier), len(school.unexplained_changes))


def is_missing(v) -> bool:
    """A value that is not there: None, or a float NaN."""
    return v is None or (isinstance(v, float) and math.isnan(v))
