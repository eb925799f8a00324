"""Overview: the trust at a glance for the chosen term: the theme heatmap, headline figures, the
gaps worth a question (worst first, the question beside each), and which returns are in."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.themes import THEMES, THEMES_BY_ID
from analysis.views import tracker_cells
from charts.heatmap import theme_heatmap
from charts.palette import SEVERITY_SYMBOL, SEVERITY_WORD
from loaders.registry import term_index
from pages import common

year, term, urns = common.selection()
data = common.dataset()

st.title(f"Trust overview: {term} {year}")

if not data.terms:
    st.info("No returns are stored yet. Upload one on the Upload page, or import a folder with "
            "`python -m loaders import FILE...`.")
    st.stop()

ctx, gaps = common.term_gaps(year, term)
gaps = gaps[gaps["urn"].isin(urns)]
expected = [s for s in ctx.expected() if s.urn in urns]
returned = {s.urn for s in expected if s.returned}

if not returned and not expected:
    st.info(f"No school was due to return for {term} {year}. Choose another term in the sidebar.")
    st.stop()


def headline() -> None:
    late = sum(1 for s in expected if s.returned and (s.days_late or 0) > 0)
    cols = st.columns(4)
    cols[0].metric("Returns in", f"{len(returned)} of {len(expected)}",
                   help="Schools expected this term: every school that had returned by then.")
    cols[0].caption(f"{late} late, {len(expected) - len(returned)} missing")
    for col, level in zip(cols[1:], ("red", "amber", "note")):
        hit = gaps[gaps["severity"] == level]
        col.metric(f"{SEVERITY_SYMBOL[level]} " + ("Questions" if level == "note" else f"{SEVERITY_WORD[level]} gaps"),
                   len(hit))
        col.caption(f"in {hit['urn'].nunique()} of {len(expected)} schools")


def heatmap() -> None:
    st.caption("Each cell is the most serious gap for that school and theme: ✖ red and ▲ amber where a "
               "measure has a clear better direction, ? a difference worth a question, ✔ nothing raised.")
    schools = pd.DataFrame({"urn": [s.urn for s in expected], "name": [s.name for s in expected]})
    common.show_chart(theme_heatmap(gaps, schools, returned), key="heatmap")


def gap_list() -> None:
    st.subheader("Gaps and the questions to ask")
    left, right = st.columns([2, 3])
    levels = left.pills("Show", ["red", "amber", "note"], default=["red", "amber"], selection_mode="multi",
                        format_func=lambda lv: f"{SEVERITY_SYMBOL[lv]} {SEVERITY_WORD[lv]}", key="ov_levels")
    themes = right.pills("Themes", [t.id for t in THEMES], default=[t.id for t in THEMES], selection_mode="multi",
                         format_func=lambda t: THEMES_BY_ID[t].short, key="ov_themes")
    shown = gaps[gaps["severity"].isin(levels or []) & gaps["theme"].isin(themes or [])]
    if shown.empty:
        st.success("No gap of the kinds chosen for the schools chosen.", icon=":material/check_circle:")
        return
    table = pd.DataFrame({
        "": [f"{SEVERITY_SYMBOL[s]} {SEVERITY_WORD[s]}" for s in shown["severity"]],
        "School": shown["school"],
        "Theme": [THEMES_BY_ID[t].short for t in shown["theme"]],
        "What we found": shown["finding"],
        "A question to ask": shown["question"],
    })
    st.table(table, hide_index=True, border="horizontal")
    st.download_button("Download the gap list (CSV)", shown.to_csv(index=False).encode("utf-8"),
                       file_name=f"gaps_{year.replace('/', '-')}_{term}.csv", mime="text/csv",
                       icon=":material/download:", on_click="ignore")


def returns_status() -> None:
    st.subheader("Returns for this term")
    cells = tracker_cells(data, common.thresholds(), last=term_index(year, term))
    cells = cells[(cells["academic_year"] == year) & (cells["term"] == term) & cells["urn"].isin(urns)]
    groups = {"missing": [], "late": [], "on time": []}
    for r in cells.itertuples():
        key = "missing" if r.level == "red" else "late" if r.level == "amber" else "on time"
        groups[key].append(r.school + (f" ({r.label})" if key == "late" else ""))
    cols = st.columns(3)
    for col, (word, names) in zip(cols, groups.items()):
        col.markdown(f"**{word.capitalize()}: {len(names)}**")
        col.markdown("\n".join(f"- {n}" for n in names) if names else "None")


headline()
heatmap()
gap_list()
returns_status()
