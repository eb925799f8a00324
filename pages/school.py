"""School profile: one school across every theme and term, set against the trust, with its DSL's
explanations beside the numbers they explain. Each measure's change says which way it went and,
where the measure has a better direction, whether that is better or worse."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from analysis.benchmarks import england
from analysis.gaps import plural
from analysis.indicators import INDICATORS, INDICATORS_BY_ID, LOWER_BETTER, SHARE
from analysis.themes import THEMES, THEMES_BY_ID
from analysis.views import BLANK_COUNTS, RETURN_RECEIVED, UNEXPLAINED, is_missing, oversight, school_trend
from charts.format import NOT_ASKED, fmt_count, fmt_numbers, fmt_value
from charts.funnel import POSITION_WORDS
from charts.trend import term_label, trend_chart
from loaders.registry import DSL_ROLE, M, term_index
from ui import board_log, look, shell

shell.require_frame()

year, term, urns = shell.selection()
data = shell.dataset()
names = data.school_names

st.title("School profile")
if not names:
    st.info("No schools yet: they appear with their first return.")
    st.stop()

options = sorted(urns, key=lambda u: names.get(u, u))
urn = st.selectbox("School", options, format_func=lambda u: f"{names.get(u, u)} ({u})", key="school",
                   bind="query-params")
ctx, gaps = shell.term_gaps(year, term)
mine = ctx.school_term(urn)
index = term_index(year, term)


def header() -> None:
    st.header(f"{shell.literal(names.get(urn, urn))}, {term} {year}")
    if not mine.returned and not ctx.past_due:  # grey: nothing is wrong until the deadline has passed
        st.caption(f":material/schedule: The return for {term} {year} is not yet due: it is due by "
                   f"{ctx.due:%-d %B %Y}.")
        return
    if not mine.returned:
        st.warning(f"No return from this school for {term} {year}.", icon=":material/warning:")
        return
    cols = st.columns(4)
    cols[0].metric("Pupils on roll", fmt_count(mine.count(M.ABOUT_PUPILS_ON_ROLL)))
    dsl = [lead for lead in mine.leads if lead["role"] == DSL_ROLE]
    cols[1].metric("Designated safeguarding lead", "named" if dsl else "none named")
    name = dsl[0]["name"] if dsl else None
    if not is_missing(name) and str(name).strip():
        cols[1].caption(shell.literal(name))
    late = max(mine.days_late or 0, 0)
    cols[2].metric("Return", "late" if late else "on time",
                   help=f"{plural(late, 'day')} after it was due" if late else None)
    cols[3].metric("Counts left blank", "no data" if mine.blank_share is None else f"{mine.blank_share:.0%}")


def school_gaps() -> None:
    st.subheader("Gaps raised this term")
    here = gaps[gaps["urn"] == urn]
    items = board_log.state(year, term, gaps, {urn} if mine.returned else set(), [urn])
    if here.empty:
        st.success("Nothing raised for this school this term.", icon=":material/check_circle:")
    else:
        shell.gap_table(here, items=items, school=False, key="gaps")
    board_log.show(items, heading="The board's questions on this school", with_school=False,
                   empty="No question of the board's is open on this school.")
    board_log.raise_form(here, year, term, key="school")


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
            "Change on last term": shell.fmt_movement(r["change_term"], ind.unit, ind.polarity),
            "On a year ago": shell.fmt_movement(r["change_year"], ind.unit, ind.polarity),
            "Trust": fmt_value(r["trust"], ind.unit),
            "England": fmt_value(bench[0], ind.unit) if bench else "",
            "Against the trust": POSITION_WORDS[r["position"]],
        })
    table += oversight_rows()
    frame = pd.DataFrame(table)
    theme = st.pills("Theme", [t.short for t in THEMES], key="school_theme",
                     default=None, help="Choose one to narrow the table.")
    if theme:
        frame = frame[frame["Theme"] == theme]
    st.caption("▲ and ▼ say which way a figure moved; better or worse where a measure has a better direction, "
               "higher or lower where it has none.")
    # a table that wraps its words, so every column is in view on a laptop's screen (cards on a phone)
    look.table(shell.literal_table(frame), key="measures")


def oversight_rows() -> list[dict]:
    """The oversight theme's rows of the table: the return's lateness, its counts left blank (a
    share with a better direction: fewer blanks) and the sharp changes left unexplained."""
    seen = oversight(ctx, urn)
    theme = THEMES_BY_ID["oversight"].short
    empty = {"Numbers": "", "Change on last term": "", "On a year ago": "", "Trust": "", "England": "",
             "Against the trust": ""}
    share = seen.blank / seen.asked if seen.asked else None
    return [
        {"Theme": theme, "Measure": RETURN_RECEIVED, **empty,
         "This school": f"{plural(seen.days_late, 'day')} late" if seen.days_late else "on time"},
        {"Theme": theme, "Measure": BLANK_COUNTS, **empty,
         "This school": fmt_value(share, SHARE),
         "Numbers": f"{seen.blank:,} of {seen.asked:,}" if seen.asked else "",
         **{column: shell.fmt_movement(None if share is None or then is None else share - then, SHARE, LOWER_BETTER)
            for column, then in (("Change on last term", seen.blank_before), ("On a year ago", seen.blank_year_ago))}},
        {"Theme": theme, "Measure": UNEXPLAINED, **empty,
         "This school": "none" if not seen.unexplained else plural(seen.unexplained, "change")},
    ]


def explanations() -> None:
    st.subheader("The DSL's explanations")
    q = data.queries
    here = q[(q["urn"] == urn) & (q["academic_year"] == year) & (q["term"] == term)]
    if here.empty:
        st.caption("The return raised no queries this term.")
        return
    look.table(shell.literal_table(pd.DataFrame({
        "Where": [f"{s}!{c}" if c else s for s, c in zip(here["sheet"], here["cell"])],
        "The check asked": list(here["message"]),
        "The DSL explained": [e if isinstance(e, str) and e.strip() else "— not explained —"
                              for e in here["explanation"]],
    })), key="explanations")


def trend() -> None:
    st.subheader("One measure: against the other schools, and term by term")
    chosen = st.selectbox("Measure", [i.id for i in INDICATORS], format_func=lambda i: INDICATORS_BY_ID[i].label,
                          key="school_measure")
    c = data.compared[data.compared["indicator"] == chosen]
    bench = england(chosen)
    now = c[(c["term_index"] == index) & c["urn"].isin(urns)]
    compared = INDICATORS_BY_ID[chosen].funnel
    if compared and now.loc[now["urn"] == urn, "value"].notna().any():
        # the school is named on the plot, in bold, however many schools there are
        shell.show_funnel(now, chosen, bench[0] if bench else None, chosen=urn, key="school_funnel")
    elif compared:
        st.caption(f"{shell.literal(names.get(urn, urn))} has no figure for this measure in {term} {year}, so it is "
                   "not set against the other schools.")
    trust = data.pooled[data.pooled["indicator"] == chosen]
    chart = trend_chart(c[c["urn"] == urn], trust, names, chosen, highlight=[urn], england=bench[0] if bench else None)
    shell.show_chart(replace(chart, summary=trend_sentence(chosen, c[c["urn"] == urn], trust)), key="school_trend")


def trend_sentence(indicator: str, values: pd.DataFrame, trust: pd.DataFrame) -> str:
    """What the chart shows of this school (not of the trust): its first and last figure shown to
    the reader, which way it went, and the trust's figure at the last."""
    ind = INDICATORS_BY_ID[indicator]
    school = names.get(urn, urn)
    seen = school_trend(values, trust)
    if seen is None:
        return f"{ind.label} at {school}: too few of its figures are shown to see a trend."
    _, change, word = shell.movement(seen.last_value - seen.first_value, ind.unit, ind.polarity)
    said = (f"{ind.label} at {school}: {fmt_value(seen.first_value, ind.unit)} in {term_label(seen.first)}, "
            f"{fmt_value(seen.last_value, ind.unit)} in {term_label(seen.last)} ({change}, {word})")
    if seen.trust is not None:
        said += f"; the trust's figure was {fmt_value(seen.trust, ind.unit)} in {term_label(seen.last)}"
    return said + "."


header()
school_gaps()
if mine.returned:
    measures()
    explanations()
trend()
