"""Returns: which schools have returned, on time or late, how complete each return is, the queries
still open, and every version stored."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.deadlines import days_allowed, deadline
from analysis.thresholds import resolve
from analysis.views import NOT_YET_DUE, tracker_cells
from charts.format import plural
from charts.tables import returns_tracker
from loaders.registry import ASKED, term_index
from ui import shell

shell.require_frame()

year, term, urns = shell.selection()
data = shell.dataset()
st.title("Returns")
if not data.terms:
    st.info("No returns are stored yet.")
    st.stop()

limits = resolve(shell.thresholds())
cells = tracker_cells(data, limits, last=max(term_index(year, term), term_index(*data.terms[-1])))
cells = cells[cells["urn"].isin(urns)]
st.header("Received, by school and term")
st.caption(f"✔ on time, ▲ late (with how late), ✖ missing, – {NOT_YET_DUE} (grey: the term's deadline has not "
           f"passed). A return is due {plural(days_allowed('Autumn', limits), 'day')} after the end of the Autumn "
           f"term, {days_allowed('Spring', limits)} after Spring and {days_allowed('Summer', limits)} after Summer: for "
           f"{term} {year}, by {deadline(year, term, limits):%-d %B %Y}.")
shell.show_chart(returns_tracker(cells), key="tracker")

st.header(f"Completeness and queries, {term} {year}")
ret = shell.returns_overview()
ret = ret[(ret["academic_year"] == year) & (ret["term"] == term) & ret["urn"].isin(urns)]
subs = data.returns
versions = subs[(subs["academic_year"] == year) & (subs["term"] == term)].groupby("urn")["version"].max()
if ret.empty:
    st.info(f"No returns for {term} {year}.")
else:
    # Each return is asked what its template version asks; what it was not asked is not a blank.
    asked = [len(ASKED.get(data.versions.get((u, year, term)), ASKED[max(ASKED)])) for u in ret["urn"]]
    st.dataframe(pd.DataFrame({
        "School": ret["name"],
        "Cells filled": [f"{1 - b / n:.0%}" for b, n in zip(ret["n_blank"], asked)],
        "Blank (not known)": ret["n_blank"],
        "Queries": ret["n_queries"],
        "Explained": ret["n_explained"],
        "Open": ret["n_queries"] - ret["n_explained"],
        "Versions": [int(versions.get(u, 1)) for u in ret["urn"]],
        "Latest submitted": pd.to_datetime(ret["submitted_at"]).dt.strftime("%d %b %Y"),
    }), hide_index=True, width="stretch")

st.header("Queries still open")
q = data.queries
open_q = q[(q["academic_year"] == year) & (q["term"] == term) & q["urn"].isin(urns)
           & ~q["explanation"].fillna("").astype(str).str.strip().astype(bool)]
if open_q.empty:
    st.success("Every query this term has an explanation.", icon=":material/check_circle:")
else:
    st.table(shell.literal_table(pd.DataFrame({
        "School": [data.school_names.get(u, u) for u in open_q["urn"]],
        "Where": [f"{s}!{c}" if c else s for s, c in zip(open_q["sheet"], open_q["cell"])],
        "Query": list(open_q["message"]),
    })), hide_index=True, border="horizontal")
