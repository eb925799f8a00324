"""Overview: the trust at a glance for the chosen term: the theme heatmap, headline figures, the
gaps worth a question (worst first, the question beside each), and which returns are in."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import settings
from analysis import challenges as board
from analysis.exports import to_csv_bytes
from analysis.themes import THEMES, THEMES_BY_ID
from analysis.views import NOT_YET_DUE, returns_in, tracker_cells
from charts.heatmap import theme_heatmap
from charts.palette import SEVERITY_SYMBOL, SEVERITY_WORD
from loaders.registry import term_index
from pages import common, look, questions
from store.overview import data_version

common.require_frame()

year, term, urns = common.selection()
data = common.dataset()

st.title(f"Trust overview: {term} {year}")

if not data.terms:
    st.info("No returns are stored yet. Upload one on the Upload page, or import a folder with "
            "`python -m loaders import FILE...`.")
    st.stop()

ctx, gaps = common.term_gaps(year, term)
gaps = gaps[gaps["urn"].isin(urns)]
chosen = set(urns)
expected = [s for s in ctx.expected() if s.urn in chosen]
returned = {s.urn for s in expected if s.returned}
# What the heatmap, gap list and returns lists are made from besides the stored returns: built
# once per change to any of it, so a click costs only the drawing, however many schools. The
# schools in the key are the ones this user may see and chose, so one person's view is never
# served to another.
view_key = (settings.database_url(), data_version(common.engine()), year, term,
            tuple(sorted(common.thresholds().items())), tuple(sorted(urns)), common.scope().suppress, ctx.today)

if not returned and not expected:
    st.info(f"No school was due to return for {term} {year}. Choose another term in the sidebar.")
    st.stop()


def headline() -> None:
    n_in, n_expected, rest = returns_in(ctx, chosen)
    cols = st.columns(4)
    cols[0].metric("Returns in", f"{n_in} of {n_expected}",
                   help="Schools expected this term: every school that had returned by then. Until the "
                        "term's deadline has passed, a return not in is not yet due.")
    cols[0].caption(rest)
    for col, level in zip(cols[1:], ("red", "amber", "note")):
        hit = gaps[gaps["severity"] == level]
        col.metric(f"{SEVERITY_SYMBOL[level]} " + ("Questions" if level == "note" else f"{SEVERITY_WORD[level]} gaps"),
                   len(hit))
        col.caption(f"in {hit['urn'].nunique()} of {len(expected)} schools")


@st.cache_resource(max_entries=16, show_spinner=False)
def _heatmap_chart(key: tuple, _gaps: pd.DataFrame, _expected: list, _returned: set):
    schools = pd.DataFrame({"urn": [s.urn for s in _expected], "name": [s.name for s in _expected]})
    return theme_heatmap(_gaps, schools, _returned, not_yet_due=not ctx.past_due)


def heatmap() -> None:
    key = ("✖ red and ▲ amber where a measure has a clear better direction, ? a difference worth a question, "
           "✔ nothing raised.")
    chart = _heatmap_chart(view_key, gaps, expected, returned)
    with look.wide("heatmap"):
        st.caption(f"Each cell is the most serious gap for that school and theme: {key}")
        common.show_chart(chart, key="heatmap")
    with look.narrow("heatmap"):  # a phone: the grid's words would not fit its cells
        st.caption(f"Each school's gaps by theme: {key}")
        st.markdown("\n".join(_heatmap_line(row) for row in chart.table.to_dict("records")))
        st.caption(common.literal(chart.summary))


def _heatmap_line(row: dict) -> str:
    """One school's row of the heatmap as a line of a list: each theme with a gap, its symbol and
    counts; then the themes with nothing raised (or no return) together."""
    quiet_marks = (SEVERITY_SYMBOL["clear"], SEVERITY_SYMBOL["no data"])
    found, quiet = [], {}
    for t in THEMES:
        text = str(row[t.short])
        if text.startswith(quiet_marks):
            quiet.setdefault(text, []).append(t.short)
        else:
            found.append(f"{t.short} {text}")
    found += [f"{text} in " + (", ".join(names) if len(names) < len(THEMES) else "every theme")
              for text, names in quiet.items()]
    return f"- **{common.literal(row['School'])}**: " + "; ".join(common.literal(part) for part in found)


@st.cache_resource(max_entries=32, show_spinner=False)
def _gap_table(key: tuple, levels: tuple, themes: tuple, _gaps: pd.DataFrame):
    """The gap list as shown, and as the CSV to download; None when no gap is of the kinds chosen."""
    shown = _gaps[_gaps["severity"].isin(levels) & _gaps["theme"].isin(themes)]
    if shown.empty:
        return None
    table = pd.DataFrame({
        "Gap": [f"{SEVERITY_SYMBOL[s]} {SEVERITY_WORD[s]}" for s in shown["severity"]],
        "School": shown["school"],
        "Theme": [THEMES_BY_ID[t].short for t in shown["theme"]],
        "What we found": shown["finding"],
        "A question to ask": shown["question"],
    })
    return table, to_csv_bytes(shown)


def gap_list() -> None:
    st.header("Gaps and the questions to ask")
    left, right = st.columns([2, 3])
    levels = left.pills("Show", ["red", "amber", "note"], default=["red", "amber"], selection_mode="multi",
                        format_func=lambda lv: f"{SEVERITY_SYMBOL[lv]} {SEVERITY_WORD[lv]}", key="ov_levels")
    themes = right.pills("Themes", [t.id for t in THEMES], default=[t.id for t in THEMES], selection_mode="multi",
                         format_func=lambda t: THEMES_BY_ID[t].short, key="ov_themes")
    made = _gap_table(view_key, tuple(levels or ()), tuple(themes or ()), gaps)
    if made is None:
        st.success("No gap of the kinds chosen for the schools chosen.", icon=":material/check_circle:")
        return
    table, csv = made
    shown = gaps[gaps["severity"].isin(levels or ()) & gaps["theme"].isin(themes or ())]
    look.table(common.literal_table(questions.beside(table, shown, items)), key="gaps")
    st.download_button("Download the gap list (CSV)", csv,
                       file_name=f"gaps_{year.replace('/', '-')}_{term}.csv", mime="text/csv",
                       icon=":material/download:", on_click=common.record, args=("export",),
                       kwargs={"detail": {"what": "gap list", "term": f"{term} {year}"}})


@st.cache_resource(max_entries=16, show_spinner=False)
def _returns_groups(key: tuple, year: str, term: str, _data, _thresholds: dict, _urns: list) -> dict[str, list[str]]:
    """The schools chosen, by whether their return for the term is missing (or, before the
    deadline, not yet due), late or on time."""
    cells = tracker_cells(_data, _thresholds, last=term_index(year, term), today=ctx.today)
    cells = cells[(cells["academic_year"] == year) & (cells["term"] == term) & cells["urn"].isin(_urns)]
    groups = {"missing" if ctx.past_due else NOT_YET_DUE: [], "late": [], "on time": []}
    for r in cells.itertuples():
        group = "late" if r.level == "amber" else "on time" if r.level == "clear" else r.label
        groups[group].append(r.school + (f" ({r.label})" if group == "late" else ""))
    return groups


def returns_status() -> None:
    st.header("Returns for this term")
    groups = _returns_groups(view_key, year, term, data, dict(view_key[4]), urns)
    cols = st.columns(3)
    for col, (word, names) in zip(cols, groups.items()):
        heading = f"**{word.capitalize()}: {len(names)}**"
        col.markdown(f":gray[{heading}]" if word == NOT_YET_DUE else heading)  # grey: nothing is wrong yet
        col.markdown("\n".join(f"- {common.literal(n)}" for n in names) if names else "None")


def board_questions() -> None:
    """The board's questions on these schools still open or answered, carried from earlier terms
    too, with whether their gap is still found; and, for leaders and trustees, the form to add one."""
    questions.show(board.still_open(items), heading=f"The board's questions still open, as at {term} {year}",
                   empty="The board has no question open on these schools.")
    questions.raise_form(gaps, year, term, key="overview")


items = questions.state(year, term, gaps, returned, urns)
headline()
heatmap()
gap_list()
board_questions()
returns_status()
