"""What every theme page shows: the learning from the reviews, the theme's charts, its gaps.

Not a page itself: pages/neglect.py and its siblings call ``render`` with their theme's id.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import challenges as board
from analysis.benchmarks import england
from analysis.compare import ENGLAND_GROUPS, is_england
from analysis.indicators import INDICATORS, INDICATORS_BY_ID
from analysis.themes import THEMES_BY_ID
from charts.trend import trend_chart
from loaders.registry import term_index
from ui import board_log, shell


def render(theme_id: str, *, extra=None) -> None:
    theme = THEMES_BY_ID[theme_id]
    year, term, urns = shell.selection()
    data = shell.dataset()
    st.title(theme.title)
    learning(theme)
    if not data.terms:
        st.info("No returns are stored yet.")
        return
    ctx, gaps = shell.term_gaps(year, term)
    if extra is not None:
        extra(ctx, urns)
    indicator_section(theme_id, year, term, urns)
    mine = gaps[(gaps["theme"] == theme_id) & gaps["urn"].isin(urns)]
    returned = {s.urn for s in ctx.expected() if s.returned}
    items = board_log.state(year, term, gaps, returned, urns, theme=theme_id)
    gap_section(mine, year, term, items)
    board_log.show(board.still_open(items), heading="The board's questions on this theme still open",
                   empty="The board has no question open on this theme.")
    board_log.raise_form(mine, year, term, key=f"theme_{theme_id}")


def learning(theme) -> None:
    with st.container(border=True):
        st.markdown(f"**What the reviews found.** {theme.learning}")
        st.markdown(f"**The question for the board:** {theme.question}")
        st.caption("Sources: " + "; ".join(str(s) for s in theme.sources))


def indicator_section(theme_id: str, year: str, term: str, urns: list[str]) -> None:
    options = [i.id for i in INDICATORS if i.theme == theme_id]
    if not options:
        return
    st.header(f"Schools compared, {term} {year}")
    chosen = st.selectbox("Measure", options, format_func=lambda i: INDICATORS_BY_ID[i].label,
                          key=f"measure_{theme_id}")
    ind = INDICATORS_BY_ID[chosen]
    st.caption(ind.definition + ("" if ind.judges else " A difference here is a question, not a failing: "
                                 "it is shown as higher or lower than the trust, never red."))
    data = shell.dataset()
    compared = data.compared[(data.compared["indicator"] == chosen) & data.compared["urn"].isin(urns)]
    bench = england(chosen)
    now = compared[compared["term_index"] == term_index(year, term)]
    if now["value"].notna().sum() == 0:
        st.info("No school reported the numbers for this measure this term.")
    else:
        shell.show_funnel(now, chosen, bench[0] if bench else None, key=f"funnel_{chosen}")
    trust_line = data.pooled[data.pooled["indicator"] == chosen]
    shell.show_chart(trend_chart(compared, trust_line, data.school_names, chosen,
                                  england=bench[0] if bench else None), key=f"trend_{chosen}")
    if bench:
        st.caption(f"England: {bench[1].citation}.")
    for group in sorted(g for g in now["group"].dropna().unique() if is_england(g)):
        st.caption(f"Held against England's figure for {ENGLAND_GROUPS[group].lower()} schools, the trust having "
                   f"fewer than three like them: {england(chosen, ENGLAND_GROUPS[group])[1].citation}.")


def gap_section(gaps: pd.DataFrame, year: str, term: str, items: pd.DataFrame) -> None:
    st.header(f"Gaps on this theme, {term} {year}")
    if gaps.empty:
        st.success("Nothing raised on this theme for the schools chosen.", icon=":material/check_circle:")
        return
    st.caption("Each school's name opens its profile for this term.")
    shell.gap_table(gaps, items=items, theme=False, key="gaps")
    st.caption("Behind these: " + shell.literal("; ".join(sorted(set(gaps["source"])))))
