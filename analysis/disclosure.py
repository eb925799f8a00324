"""What a trustee is told is hidden from them and why: the rules in plain words and every group of
counts in the return with what it counts, made from the contract (``loaders.registry``), the
indicators and the suppression threshold, so that the Privacy page and the README say the same.

The README's Privacy section is this module's ``notice_markdown()`` at the default threshold; a
test holds them together.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pandas as pd

from analysis.indicators import INDICATORS, ROLL
from analysis.privacy import about_children
from analysis.suppression import DEFAULT_THRESHOLD, NOT_SHOWN, fewer_than
from loaders.registry import CHILDREN, COUNT, EVENTS, MEASURES, MEASURES_BY_ID, SHEETS_BY_ID, STAFF

# What each kind of count counts, in a trustee's words.
COUNTS_WORDS = {CHILDREN: "children", STAFF: "allegations about staff", EVENTS: "events and staff totals"}
HIDDEN, SHOWN = "hidden: 1 to {last} show as \u201c{words}\u201d", "shown as they are"
GROUP_COLUMNS = ["Sheet", "What is counted", "It counts", "Small counts"]
FIGURE_COLUMNS = ["Figure", "Made from", "For trustees"]
WRAP = 100  # the README's line length


@dataclass(frozen=True)
class MeasureGroup:
    """The counts of one sheet that count the same kind of thing (a sheet can hold more than one)."""

    sheet: str  # the sheet's title
    counts: str  # CHILDREN, STAFF or EVENTS
    rows: tuple[str, ...]  # the rows' labels, each with what its columns count where the sheet says
    columns: tuple[str, ...]  # the columns' labels, when every row has the same ones
    measure_ids: tuple[str, ...]
    suppressed: bool  # whether a small count of it is hidden from trustees (``Measure.suppressed``)


def measure_groups() -> list[MeasureGroup]:
    """Every count of the return in groups by sheet and by what it counts, in the template's order."""
    keyed: dict[tuple[str, str], list] = {}
    for m in MEASURES:
        if m.type == COUNT and m.counts is not None:
            keyed.setdefault((m.sheet, m.counts), []).append(m)
    groups = []
    for (sheet_id, counts), measures in keyed.items():
        sheet = SHEETS_BY_ID[sheet_id]
        row_ids = list(dict.fromkeys(m.row for m in measures))
        rows = {r.id: r for r in sheet.rows}
        hinted = all(rows[r].hint for r in row_ids)
        labels = tuple(f"{rows[r].label}: {rows[r].hint}" if hinted else rows[r].label for r in row_ids)
        columns = () if hinted or len(sheet.columns) < 2 else tuple(c.label for c in sheet.columns)
        ids = tuple(m.id for m in measures)
        groups.append(MeasureGroup(sheet.title, counts, labels, columns, ids, measures[0].suppressed))
    return groups


def groups_frame(threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """One row per measure group: its sheet, its counts, what they count, whether small ones are hidden."""
    rows = []
    for g in measure_groups():
        what = "; ".join(g.rows) + (f" (each: {', '.join(g.columns)})" if g.columns else "")
        small = HIDDEN.format(last=threshold - 1, words=fewer_than(threshold)) if g.suppressed else SHOWN
        rows.append([g.sheet, what, COUNTS_WORDS[g.counts], small])
    return pd.DataFrame(rows, columns=GROUP_COLUMNS)


def figures_frame() -> pd.DataFrame:
    """One row per indicator, in the themes' order: the sheets its counts come from, and whether a
    trustee may find it not shown."""
    rows = []
    for ind in INDICATORS:
        made_from = ", ".join(dict.fromkeys(SHEETS_BY_ID[MEASURES_BY_ID[m].sheet].title for m in ind.numerator))
        if ind.denominator == ROLL:
            made_from += ", over pupils on roll"
        shown = "not shown when a count behind it is hidden" if about_children(ind.id) else "always shown"
        rows.append([ind.label, made_from, shown])
    return pd.DataFrame(rows, columns=FIGURE_COLUMNS)


def rules(threshold: int = DEFAULT_THRESHOLD) -> list[tuple[str, str]]:
    """What is hidden from trustees and why, as (heading, sentences), in plain English."""
    t, small = threshold, f"\u201c{fewer_than(threshold)}\u201d"
    shown_range = f"1 to {t - 1}"
    return [
        ("Small counts of children and of allegations about staff",
         f"A count from {shown_range} shows as {small}. In one school a count that small can point, for "
         "someone who knows the school, to a particular child or to the member of staff an allegation "
         "is about. A 0 shows as 0 (no one can be picked out of none), and a blank, not known, stays "
         "blank."),
        ("Other counts hidden with them",
         f"Where a hidden count could be worked out from what is shown (the trust's total less the "
         f"other schools, the same count used by another figure, or a share's part being no more than "
         f"its whole), another count is hidden too and shows as \u201c{NOT_SHOWN}\u201d. A count is "
         f"hidden or shown the same way in every figure that uses it (flagged children, say, in all six "
         f"neglect figures). A \u201c{NOT_SHOWN}\u201d is always {t} or more."),
        ("Rates built on a hidden count",
         "A rate per 100 pupils, or a share (such as flagged children whose chronology was "
         "reviewed), is not shown when a count it is made from is hidden, and neither is its change "
         "from the term or the year before."),
        ("The trust's own figure, and each phase's",
         f"The trust's figure for a measure, and the figure of the schools of one phase that each of "
         f"them is compared with, is not shown when the counts it is made from add up to {shown_range}, "
         f"or when its total is all that would stop a hidden count being worked out (the trust's total "
         f"less its phases' totals gives the count of the schools in none of them, for instance). "
         f"Where a school's count is hidden, so is where it sits on the funnel; and where the funnel's lines "
         f"allow for the spread between schools (20 schools or more), a trustee's are estimated from the "
         f"figures a trustee sees."),
        ("Gaps are still raised",
         "The gap list is worked out on the real numbers, so a school still shows as higher or lower "
         "than the trust. A finding quotes a count only where a trustee's own tables show it, and never a "
         "difference or sum that would give a hidden one back; otherwise it gives the share in words "
         "(\u201cunder half of the flagged children\u201d). Where what a trustee can see leaves open which side "
         "of a line the hidden counts fall (or whether a count rose), the gap says the counts are too small to "
         "judge; it says so whichever side they really fall, so raising it tells nothing."),
        ("Free text",
         f"The check's messages, DSLs' explanations, and the board's questions and answers reach "
         f"trustees with every number from {shown_range} replaced by {small}, however it was typed "
         "(\u201c3\u201d, \u201cthree\u201d, \u201c3-4\u201d), and every larger count by "
         f"\u201c{t} or more\u201d, since a table may hide such a count to protect a smaller one. "
         "Dates, years, times, percentages and decimals stay as written."),
        ("Counts of events and staff are shown as they are",
         "Counts of meetings, conference reports, early help reviews and training courses, and of "
         "the staff in scope and in date for each course, are not hidden: \u201cattended 2 of 4 "
         "strategy meetings\u201d names no child and no member of staff."),
        ("Who sees the real numbers",
         "Trust leaders see every number, and a school's DSL sees their own school's in full. The "
         "hiding is for trustees, on every page and in the board pack made for them."),
    ]


def notice_markdown(threshold: int = DEFAULT_THRESHOLD) -> str:
    """The rules as a list and the groups as a table, in Markdown (the README's Privacy section)."""
    lines = []
    for heading, text in rules(threshold):
        lines += textwrap.wrap(f"- **{heading}.** {text}", WRAP, subsequent_indent="  ",
                               break_long_words=False, break_on_hyphens=False)
    frame = groups_frame(threshold)
    lines += ["", "| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"
