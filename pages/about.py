"""About the data: every indicator's definition, polarity, method and source, how schools are
compared, and every problem a check of a return can report, in plain words."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.benchmarks import england, phase_figures
from analysis.indicators import HIGHER_BETTER, INDICATORS, INDICATORS_BY_ID, LOWER_BETTER, PER_100
from analysis.themes import THEMES, THEMES_BY_ID
from analysis.thresholds import listed, resolve
from loaders.problems import CATALOGUE
from loaders.report import ERROR
from ui import shell

shell.require_frame()

POLARITY_WORDS = {HIGHER_BETTER: "Higher is better", LOWER_BETTER: "Lower is better", "none": "No judgement"}

st.title("About the data")
st.markdown(
    """
Every figure here comes from the schools' termly returns: counts of children and staff, never a
child's name or details. A blank cell in a return means *not known* and stays blank on every
chart and table ("no data"); it is never counted as zero.

**How schools are compared.** Schools differ in size, so the dashboard compares rates (per 100
pupils on roll) and shares (of flagged children, of staff in scope, of meetings due), and always
shows the numbers behind them. The trust's figure is pooled: all the schools' counts added up
and divided by all their bases. Each school is then placed on a *funnel plot*: around the trust's
figure, two pairs of lines mark where a school of that size would fall by chance alone, 95% and
99.8% of the time. The lines are wide for small schools and narrow for large ones, so a small
school is not singled out for a few children and a large school cannot hide behind its size.
A school is called higher or lower than the trust only when a count at least as far from the
trust's as its own would happen by chance less than 1 time in 40 (95%) or 1 in 1,000 (99.8%),
judged on the exact Poisson distribution for rates and the binomial for shares. The lines are
drawn where that chance is reached, for every size of school, as England's public-health funnel
plots draw them: a school is called above or below a line exactly when it is drawn beyond it,
and a school on a line is within it.

**Like with like.** A primary school is not set beside a secondary. Where the trust has recorded
each school's phase (Primary, Secondary, All-through, Special, Alternative provision; a trust
leader sets it on the Schools page), a school is compared with the trust's schools of its own
phase: its expected figure is its size times their pooled figure, and the lines are drawn around
that, one set of lines for each phase on the chart. A phase with fewer than three schools in the
trust has no fair yardstick among the trust's own schools. Where England publishes a figure for
schools of that phase on the same measure, the school is set beside England's instead: its
expected figure is its size times England's figure for its phase, the lines are drawn around
that by the same method, and the table names England's figure and the year it covers (see
below). England's figure is a published one: the school's counts still count in the trust's
figure, and in no phase's. Where England publishes no such figure, the school is not placed on
the funnel (the table says "no school like it in the trust"). A school whose phase is not
recorded is compared with the whole trust, and the table says so.

**Real differences between schools.** Even among schools of one phase, intake and area make real
differences that chance alone does not. With 20 or more schools compared, the dashboard measures
that spread from the schools' own figures (with the most extreme tenth at each end pulled in, so
that one unusual school does not widen everyone's lines) and widens the lines by it, as
Spiegelhalter and England's public-health methods advise. With fewer schools the spread cannot be
told from chance, and the lines are chance's alone.

**When colour judges.** Red, amber and green appear only where a measure has a clear better
direction: training in date, checks done, meetings attended, reports on time. Counts of concerns,
flags and referrals have no better direction: a school that notices and refers more is often the
safer school. Those are shown as higher or lower than the trust, in blue and purple, and raised
as a question, not a failing. Every colour carries a symbol and a word, so the pages read in
black and white and for colour-blind readers.
"""
)

st.header("The themes")
for t in THEMES:
    st.markdown(f"**{t.title}.** {t.learning}")
    st.caption("Sources: " + "; ".join(str(s) for s in t.sources))

st.header("Every indicator")
rows = []
for ind in INDICATORS:
    bench = england(ind.id)
    rows.append({
        "Theme": THEMES_BY_ID[ind.theme].short,
        "Indicator": ind.label,
        "Definition": ind.definition,
        "Unit": "per 100 pupils a term" if ind.unit == PER_100 else "share",
        "Polarity": POLARITY_WORDS[ind.polarity],
        "Compared by funnel": "yes" if ind.funnel else "no",
        "England": bench[1].citation if bench else "",
    })
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
st.caption("England's permanent exclusion figures count exclusions in a year per 100 pupils; the dashboard "
           "shows a third of them beside pupils excluded in a term, so read them as a rough guide, not a "
           "like-for-like comparison.")

st.header("England's figures for one phase")
st.markdown("Used only for a school the trust has fewer than three schools like, on the measures below. Where "
            "no figure is listed for a phase and a measure, the dashboard holds no published one, and such a "
            "school is not placed on that measure.")
st.dataframe(pd.DataFrame([{
    "Indicator": INDICATORS_BY_ID[ind_id].label, "Phase": bench.phase,
    "England": f"{value:.3g}" if INDICATORS_BY_ID[ind_id].unit == PER_100 else f"{value:.1%}",
    "Unit": "per 100 pupils a term" if INDICATORS_BY_ID[ind_id].unit == PER_100 else "share of pupils",
    "Covers": bench.period, "Source": bench.source, "How it is counted": bench.definition,
} for ind_id, value, bench in phase_figures()]),
    hide_index=True, width="stretch")
st.caption("Permanent exclusions are counted over a year; a third of England's yearly rate is set beside a "
           "term's. England's count of pupils with one or more suspensions in a year is no termly figure (a pupil "
           "suspended in two terms counts once), so pupils suspended in a term are not set beside it.")

st.header("The lines the gap list draws")
changed = shell.thresholds()
current = resolve(changed)
st.dataframe(pd.DataFrame([{
    "Setting": t.label, "Meaning": t.meaning,
    "Default": f"{t.default:.0%}" if t.unit == "share" else f"{t.default:g}",
    "This trust": f"{current[t.id]:.0%}" if t.unit == "share" else f"{current[t.id]:g}",
} for t in listed(changed)]), hide_index=True, width="stretch")
st.caption("A trust leader can change these on the Settings page; every change is recorded.")

st.header("What a check of a return can say")
st.markdown("Every return is checked when it is uploaded, and each problem found has a code. An **error** "
            "blocks the return: nothing is stored until it is fixed. A **query** lets the return in and asks the "
            "school's DSL to explain it. The message a school sees names the sheet and cell; this is what each "
            "code means and what to do about it.")
st.dataframe(pd.DataFrame([{
    "Code": kind.code, "Severity": "Error" if kind.severity == ERROR else "Query", "Problem": kind.title,
    "What to do": kind.todo,
} for kind in CATALOGUE]), hide_index=True, width="stretch")
