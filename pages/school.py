"""School profile: one school across every theme and term, set against the trust, with its DSL's
explanations beside the numbers they explain."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.benchmarks import england
from analysis.indicators import INDICATORS, INDICATORS_BY_ID
from analysis.themes import THEMES, THEMES_BY_ID
from charts.format import NOT_ASKED, fmt_change, fmt_numbers, fmt_value
from charts.funnel import POSITION_WORDS
from charts.palette import SEVERITY_SYMBOL, SEVERITY_WORD
from charts.trend import trend_chart
from loaders.registry import DSL_ROLE, term_index
from pages import common, questions

common.require_frame()

year, term, urns = common.selection()
data = common.dataset()
names = data.school_names

st.title("School profile")
if not names:
    st.info("No schools yet: they appear with their first return.")
    st.stop()

options = sorted(urns, key=lambda u: names.get(u, u))
urn = st.selectbox("School", options, format_func=lambda u: f"{names.get(u, u)} ({u})", key="school",
                   bind="query-params")
ctx, gaps = common.term_gaps(year, term)
mine = ctx.school_term(urn)
index = term_index(year, term)


def header() -> None:
    st.header(f"{common.literal(names.get(urn, urn))}, {term} {year}")
    if not mine.returned and not ctx.past_due:  # grey: nothing is wrong until the deadline has passed
        st.caption(f":material/schedule: The return for {term} {year} is not yet due: it is due by "
                   f"{ctx.due:%-d %B %Y}.")
        return
    if not mine.returned:
        st.warning(f"No return from this school for {term} {year}.", icon=":material/warning:")
        return
    cols = st.columns(4)
    cols[0].metric("Pupils on roll", fmt_count(mine.count("about.pupils_on_roll")))
    dsl = [lead for lead in mine.leads if lead["role"] == DSL_ROLE]
    cols[1].metric("Designated safeguarding lead", "named" if dsl else "none named")
    if dsl and dsl[0]["name"]:
        cols[1].caption(common.literal(dsl[0]["name"]))
    cols[2].metric("Return", "late" if (mine.days_late or 0) > 0 else "on time",
                   help=f"{mine.days_late} days after it was due" if (mine.days_late or 0) > 0 else None)
    cols[3].metric("Counts left blank", f"{(mine.blank_share or 0):.0%}")


def fmt_count(v) -> str:
    return "no data" if v is None else f"{v:,.0f}"


def school_gaps() -> None:
    st.subheader("Gaps raised this term")
    here = gaps[gaps["urn"] == urn]
    items = questions.state(year, term, gaps, {urn} if mine.returned else set(), [urn])
    if here.empty:
        st.success("Nothing raised for this school this term.", icon=":material/check_circle:")
    else:
        st.table(common.literal_table(questions.beside(pd.DataFrame({
            "Gap": [f"{SEVERITY_SYMBOL[s]} {SEVERITY_WORD[s]}" for s in here["severity"]],
            "Theme": [THEMES_BY_ID[t].short for t in here["theme"]],
            "What we found": here["finding"],
            "A question to ask": here["question"],
        }), here, items)), hide_index=True, border="horizontal")
    questions.show(items, heading="The board's questions on this school", with_school=False,
                   empty="No question of the board's is open on this school.")
    questions.raise_form(here, year, term, key="school")


def measures() -> None:
    st.subheader("Every measure against the trust")
    c = data.compared
    rows = c[(c["urn"] == urn) & (c["term_index"] == index)].set_index("indicator")
    table = []
    for ind in INDICATORS:
        if ind.id not in rows.index:
            continue
        r = rows.loc[ind.id]
        bench = england(ind.id)
        numbers = fmt_numbers(r["numerator"], r["denominator"], r.get("numerator_note", ""),
                              r.get("denominator_note", ""))
        hidden, asked = bool(r.get("hidden", False)), r.get("asked", True) is not False
        table.append({
            "Theme": THEMES_BY_ID[ind.theme].short, "Measure": ind.label,
            "This school": NOT_ASKED if not asked else "not shown" if hidden else fmt_value(r["value"], ind.unit),
            "Numbers": numbers,
            "Change on last term": fmt_change(r["change_term"], ind.unit),
            "On a year ago": fmt_change(r["change_year"], ind.unit),
            "Trust": fmt_value(r["trust"], ind.unit),
            "England": fmt_value(bench[0], ind.unit) if bench else "",
            "Against the trust": POSITION_WORDS[r["position"]],
        })
    frame = pd.DataFrame(table)
    theme = st.pills("Theme", [t.short for t in THEMES if t.id != "oversight"], key="school_theme",
                     default=None, help="Choose one to narrow the table.")
    if theme:
        frame = frame[frame["Theme"] == theme]
    st.dataframe(frame, hide_index=True, width="stretch", height=min(600, 36 * (len(frame) + 1) + 4))


def explanations() -> None:
    st.subheader("The DSL's explanations")
    q = data.queries
    here = q[(q["urn"] == urn) & (q["academic_year"] == year) & (q["term"] == term)]
    if here.empty:
        st.caption("The return raised no queries this term.")
        return
    st.table(common.literal_table(pd.DataFrame({
        "Where": [f"{s}!{c}" if c else s for s, c in zip(here["sheet"], here["cell"])],
        "The check asked": list(here["message"]),
        "The DSL explained": [e if isinstance(e, str) and e.strip() else "— not explained —"
                              for e in here["explanation"]],
    })), hide_index=True, border="horizontal")


def trend() -> None:
    st.subheader("Term by term")
    chosen = st.selectbox("Measure", [i.id for i in INDICATORS], format_func=lambda i: INDICATORS_BY_ID[i].label,
                          key="school_measure")
    c = data.compared[data.compared["indicator"] == chosen]
    bench = england(chosen)
    trust = data.pooled[data.pooled["indicator"] == chosen]
    common.show_chart(trend_chart(c[c["urn"] == urn], trust, names, chosen, highlight=[urn],
                                  england=bench[0] if bench else None), key="school_trend")


header()
school_gaps()
if mine.returned:
    measures()
    explanations()
trend()
