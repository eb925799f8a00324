"""Tables the pages and the board pack show beside the gap list: training and KCSIE compliance
by school, and which returns are in, late or missing, term by term."""

from __future__ import annotations

from datetime import date

import pandas as pd

from analysis import deadlines
from analysis.context import Context, Dataset
from analysis.gaps import GOVERNANCE_DATES, level_below, months_before
from loaders.registry import DSL_ROLE, TRAINING, term_from_index, term_index

DSL_ITEM = "DSL<br>training"
CELL_COLUMNS = ["school", "urn", "item", "level", "label", "detail"]


def compliance_cells(ctx: Context) -> pd.DataFrame:
    """One row per school and check for the context's term: training courses, DSL training, and the
    three governance dates, each with its level (clear, amber, red, no data) and the number behind it."""
    rows = []
    for st in sorted(ctx.returned(), key=lambda s: s.name):
        for course in TRAINING.rows:
            scope, done = st.count(f"training.{course.id}.in_scope"), st.count(f"training.{course.id}.in_date")
            item = _short(course.label)
            if scope is None or done is None or scope == 0:
                rows.append((st.name, st.urn, item, "no data", "no data", f"{course.label}: not reported"))
                continue
            level = level_below(done / scope, ctx.t["training_amber"], ctx.t["training_red"]) or "clear"
            rows.append((st.name, st.urn, item, level, f"{done / scope:.0%}",
                         f"{course.label}: {done:.0f} of {scope:.0f} staff in date"))
        rows.append(_dsl_cell(ctx, st))
        for mid, what, _ in GOVERNANCE_DATES:
            rows.append(_date_cell(ctx, st, mid, what))
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


def _dsl_cell(ctx: Context, st) -> tuple:
    dsl = [lead for lead in st.leads if lead["role"] == DSL_ROLE]
    if not dsl:
        return (st.name, st.urn, DSL_ITEM, "red", "no DSL", "No designated safeguarding lead named")
    lead = dsl[0]
    full, ref = lead["last_full_training"], lead["last_refresher"]
    if full is None or ref is None:
        return (st.name, st.urn, DSL_ITEM, "amber", "no date", "A DSL training date was not given")
    full_age = (st.end - full).days / 365.25
    ref_age = (st.end - ref).days / 365.25
    late = full_age > ctx.t["dsl_full_years"] or ref_age > ctx.t["dsl_refresher_years"]
    detail = f"Full training {full:%d %b %Y}, refresher {ref:%d %b %Y}"
    return (st.name, st.urn, DSL_ITEM, "red" if late else "clear", "lapsed" if late else "in date", detail)


def _date_cell(ctx: Context, st, mid: str, what: str) -> tuple:
    item = {"about.cp_policy_reviewed": "CP<br>policy", "about.filtering_reviewed": "Filtering<br>review",
            "about.central_record_checked": "Central<br>record"}[mid]
    when = st.date(mid)
    if when is None:
        return (st.name, st.urn, item, "amber", "no date", f"{what}: no date given")
    months = months_before(st.end, when)
    level = "red" if months >= ctx.t["governance_months"] else "clear"
    return (st.name, st.urn, item, level, f"{when:%b %y}", f"{what}: {when:%d %B %Y} ({months} months before term end)")


NOT_YET_DUE = "not yet due"


def returns_in(ctx: Context, urns=None) -> tuple[int, int, str]:
    """(returns in, schools expected, the rest in words) for the context's term and the schools
    ``urns`` (default: every school): "2 late, 1 missing"; before the term's deadline, when none can
    be missing or late yet, "11 not yet due (due by 14 January 2027)"."""
    expected = [s for s in ctx.expected() if urns is None or s.urn in urns]
    returned = sum(1 for s in expected if s.returned)
    outstanding = len(expected) - returned
    if not ctx.past_due:
        return returned, len(expected), f"{outstanding} {NOT_YET_DUE} (due by {ctx.due:%-d %B %Y})"
    late = sum(1 for s in expected if s.returned and (s.days_late or 0) > 0)
    return returned, len(expected), f"{late} late, {outstanding} missing"

TRACKER_COLUMNS = ["school", "urn", "academic_year", "term", "term_label", "level", "label", "days_late"]


def tracker_cells(data: Dataset, thresholds: dict | None = None, *, last: int | None = None,
                  today: date | None = None) -> pd.DataFrame:
    """Every expected school-term up to ``last`` (default: the latest term with a return): on
    time, late (with how late), or missing. A return not in for a term whose deadline has not
    passed by ``today`` (default: today) is "not yet due", in grey: never missing."""
    if not data.terms:
        return pd.DataFrame(columns=TRACKER_COLUMNS)
    today = today or deadlines.current_date()
    first_term = term_index(*data.terms[0])
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
                rows.append((school.name, school.urn, year, term, label_term, "amber", f"{late} days late", late))
            else:
                rows.append((school.name, school.urn, year, term, label_term, "clear", "on time", 0))
    return pd.DataFrame(rows, columns=TRACKER_COLUMNS)
