"""Overview: the trust at a glance for the chosen term: headline figures that tie up with the theme
heatmap, the gaps worth a question (worst first, the question beside each, each school a link to
its profile), what changed since the term before, and which returns are in."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from analysis import challenges as board
from analysis.exports import to_csv_bytes
from analysis.gaps import plural
from analysis.indicators import INDICATORS_BY_ID
from analysis.themes import THEMES, THEMES_BY_ID, short_name
from analysis.views import NOT_YET_DUE, gap_tally, returns_in, term_changes, tracker_cells
from charts.format import fmt_value
from charts.heatmap import theme_heatmap
from charts.palette import SEVERITY_SYMBOL, SEVERITY_WORD
from loaders.registry import term_from_index, term_index
from ui import board_log, look, shell

shell.require_frame()

year, term, urns = shell.selection()
data = shell.dataset()

st.title(f"Trust overview: {term} {year}")

if not data.terms:
    st.info("No returns are stored yet. Upload one on the Upload page, or import a folder with "
            "`python -m loaders import FILE...`.")
    st.stop()

ctx, found = shell.term_gaps(year, term)
chosen = set(urns)
# The heatmap, tallies, gap list and returns lists, and the tables drawn from them, are made once
# per store generation, reader, term and choice of schools (ui/views.py), so a click costs only
# the drawing, however many schools.
picked = tuple(sorted(urns))
keep = shell.link_query()  # what the tables' links to a school's profile keep of this page's address


def _the_schools_chosen():
    expected = [s for s in ctx.expected() if s.urn in chosen]
    return found[found["urn"].isin(urns)], expected, {s.urn for s in expected if s.returned}


gaps, expected, returned = shell.view("schools chosen", _the_schools_chosen, year, term, chosen=picked)

if not returned and not expected:
    st.info(f"No school was due to return for {term} {year}. Choose another term in the sidebar.")
    st.stop()


MAPPED = 50  # schools in the heatmap at most: those whose gaps are the most serious
LISTED = 20  # schools named under each heading of the returns' status at most
CELL = ("school-theme", "school-themes")  # one school and theme: one cell of the heatmap


def headline() -> None:
    """Returns in, and each severity's gaps counted as gaps and as the heatmap's cells, so the
    two tie up: "10 red gaps in 8 school-themes, at 7 of 12 schools"."""
    n_in, n_expected, rest = shell.view("returns counted", lambda: returns_in(ctx, chosen), year, term, chosen=picked)
    cols = st.columns(4)
    cols[0].metric("Returns in", f"{n_in:,} of {n_expected:,}",
                   help="Schools expected this term: every school that had returned by then. Until the "
                        "term's deadline has passed, a return not in is not yet due.")
    cols[0].caption(rest)
    for col, (level, tally) in zip(cols[1:], tally_now.items()):
        col.metric(f"{SEVERITY_SYMBOL[level]} " + ("Questions" if level == "note" else f"{SEVERITY_WORD[level]} gaps"),
                   f"{tally.gaps:,}")
        col.caption(tally_words(level, tally))


def tally_words(level: str, tally) -> str:
    """Where a severity's gaps are, in the heatmap's terms: "in 8 school-themes, at 7 of 12 schools";
    where some share a cell with a more serious gap, which the cell shows, that is said too: "in 17
    school-themes (1 shown red)"."""
    if not tally.gaps:
        return f"at none of {plural(len(expected), 'school')}"
    cells = plural(tally.cells + tally.under_worse, *CELL)
    if tally.under_worse:
        cells += f" ({tally.under_worse:,} shown {'red' if level == 'amber' else 'red or amber'})"
    return f"in {cells}, at {tally.schools:,} of {plural(len(expected), 'school')}"


def _heatmap_chart():
    """The heatmap drawn once, and its narrow form: a line of a list for each school."""
    schools = pd.DataFrame({"urn": [s.urn for s in expected], "name": [s.name for s in expected]})
    chart = theme_heatmap(gaps, schools, returned, not_yet_due=not ctx.past_due, most=MAPPED)
    return shell.drawn(chart), "\n".join(_heatmap_line(row) for row in chart.table.to_dict("records"))


def heatmap() -> None:
    key = ("✖ red and ▲ amber where a measure has a clear better direction, ? a difference worth a question, "
           "✔ nothing raised.")
    red, amber = tally_now["red"], tally_now["amber"]
    # the map counts school-themes, the headline gaps: how the one sits in the other
    cells = (f"So the map counts cells, not gaps: {plural(red.gaps, 'red gap')} in {plural(red.cells, 'cell')}, "
             f"and {plural(amber.gaps, 'amber gap')} in {plural(amber.cells + amber.under_worse, 'cell')}"
             + (f", {amber.under_worse:,} of them shown red" if amber.under_worse else "") + ".")
    chart, lines = shell.view("heatmap", _heatmap_chart, year, term, chosen=picked)
    if len(expected) > MAPPED:
        st.caption(f"The map shows the {MAPPED} of {len(expected):,} schools chosen whose gaps are the most "
                   "serious. Choose schools in the sidebar to map others; the gap list below has every gap.")
    with look.wide("heatmap"):
        st.caption(f"Each cell is one school and theme (a school-theme), shown by its most serious gap: {key} {cells}")
        shell.show_chart(chart, key="heatmap")
    with look.narrow("heatmap"):  # a phone: the grid's words would not fit its cells
        st.caption(f"Each school's gaps by theme: {key}")
        st.markdown(lines)
        st.caption(shell.literal(chart.summary))


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
    return f"- **{shell.literal(row['School'])}**: " + "; ".join(shell.literal(part) for part in found)


def gap_list() -> tuple[list[str], list[str]]:
    """The gap list, of the kinds of gap and the themes chosen above it; returns that choice."""
    st.header("Gaps and the questions to ask")
    left, right = st.columns([2, 3])
    levels = left.pills("Show", ["red", "amber", "note"], default=["red", "amber"], selection_mode="multi",
                        format_func=lambda lv: f"{SEVERITY_SYMBOL[lv]} {SEVERITY_WORD[lv]}", key="ov_levels")
    themes = right.pills("Themes", [t.id for t in THEMES], default=[t.id for t in THEMES], selection_mode="multi",
                         format_func=lambda t: THEMES_BY_ID[t].short, key="ov_themes")
    levels, themes = list(levels or ()), list(themes or ())
    kinds = (picked, tuple(levels), tuple(themes))
    shown = shell.view("gap list", lambda: chosen_kinds(gaps, levels, themes), year, term, chosen=kinds)
    if shown.empty:
        st.success("No gap of the kinds chosen for the schools chosen.", icon=":material/check_circle:")
        return levels, themes
    st.caption("Each school's name opens its profile for this term.")
    look.table(shell.view("gap list table", lambda: shell.gap_frame(shown, items=items, keep=keep), year, term,
                          chosen=(*kinds, keep)), key="gaps")
    # the gap list as shown, as the CSV to download
    csv = shell.view("gap list csv", lambda: to_csv_bytes(shown), year, term, chosen=kinds)
    st.download_button("Download the gap list (CSV)", csv,
                       file_name=f"gaps_{year.replace('/', '-')}_{term}.csv", mime="text/csv",
                       icon=":material/download:", on_click=shell.record, args=("export",),
                       kwargs={"detail": {"what": "gap list", "term": f"{term} {year}"}})
    return levels, themes


def chosen_kinds(found: pd.DataFrame, levels: list[str], themes: list[str]) -> pd.DataFrame:
    return found[found["severity"].isin(levels) & found["theme"].isin(themes)]


def _returns_groups() -> dict[str, list[str]]:
    """The schools chosen, by whether their return for the term is missing (or, before the
    deadline, not yet due), late or on time."""
    shown = term_index(year, term)
    cells = tracker_cells(data, shell.thresholds(), last=shown, today=ctx.today, since=shown)
    cells = cells[cells["urn"].isin(urns)]
    groups = {"missing" if ctx.past_due else NOT_YET_DUE: [], "late": [], "on time": []}
    for r in cells.itertuples():
        group = "late" if r.level == "amber" else "on time" if r.level == "clear" else r.label
        groups[group].append(r.school + (f" ({r.label})" if group == "late" else ""))
    # each group as drawn: its heading and its list, the first LISTED names of a long one
    return {word: (f"**{word.capitalize()}: {len(names):,}**",
                   "\n".join([f"- {shell.literal(n)}" for n in names[:LISTED]]
                             + ([f"- …and {len(names) - LISTED:,} more: the Returns page lists every school"]
                                if len(names) > LISTED else [])) if names else "No school.")
            for word, names in groups.items()}


def returns_status() -> None:
    st.header("Returns for this term")
    groups = shell.view("returns in", _returns_groups, year, term, chosen=picked)
    cols = st.columns(3)
    for col, (word, (heading, names)) in zip(cols, groups.items()):
        col.markdown(f":gray[{heading}]" if word == NOT_YET_DUE else heading)  # grey: nothing is wrong yet
        col.markdown(names)


def board_questions() -> None:
    """The board's questions on these schools still open or answered, carried from earlier terms
    too, with whether their gap is still found; and, for leaders and trustees, the form to add one."""
    board_log.show(board.still_open(items), heading=f"The board's questions still open, as at {term} {year}",
                   empty="The board has no question open on these schools.")
    board_log.raise_form(gaps, year, term, key="overview")


MOVEMENTS = 10  # the largest movements in measures shown


def changes(levels: list[str], themes: list[str]) -> None:
    """What changed since the term before: gaps new this term, gaps closed since (listed of the
    kinds and themes chosen for the gap list, counted in full), and the largest movements in
    measures, each with its school and theme; all from what this reader is shown of the two terms
    (analysis.views.term_changes)."""
    before_year, before_term = term_from_index(term_index(year, term) - 1)
    st.header(f"What changed since {before_term} {before_year}")
    made = shell.view("changes", lambda: term_changes(ctx, gaps, shell.term_gaps(before_year, before_term)[1], urns,
                                                      MOVEMENTS), year, term, chosen=picked)
    if made is None:
        st.caption(f"No school returned for {before_term} {before_year}, so there is nothing to compare with.")
        return
    shown = shell.view("changes shown", lambda: _changes_shown(made, levels, themes, before_year, before_term),
                       year, term, chosen=(picked, tuple(levels), tuple(themes), keep))
    st.caption(shown.said)
    with st.expander(f"Gaps new this term ({shown.new:,} of the kinds chosen above)"):
        if shown.new_table is None:
            st.caption("No gap of the kinds chosen for the list above is new this term.")
        else:
            look.table(shown.new_table, key="gaps-new")
    with st.expander(f"Gaps closed since {before_term} {before_year} ({shown.closed:,} of the kinds chosen above)"):
        if shown.closed_table is None:
            st.caption(f"No gap of the kinds chosen for the list above is closed since {before_term} {before_year}.")
        else:
            look.table(shown.closed_table, key="gaps-closed")
    with st.expander(f"The largest movements in measures ({len(made.movements)})"):
        if shown.movements is None:
            st.caption("No measure's figure is shown for both terms.")
        else:
            st.caption("Only where both terms' figures are shown to you. Largest first, each measured against its "
                       "school's size, so the same jump counts for less at a small school, where chance moves "
                       "figures more.")
            look.table(shown.movements, key="movements")


@dataclass(frozen=True)
class ChangesShown:
    """What the section on changes draws, made once for a choice of schools and kinds of gap."""

    said: str  # the counts in a sentence
    new: int  # gaps new this term of the kinds chosen
    new_table: pd.DataFrame | None  # their table, None when there are none
    closed: int
    closed_table: pd.DataFrame | None
    movements: pd.DataFrame | None  # the largest movements' table, None when there are none


def _changes_shown(made, levels: list[str], themes: list[str], before_year: str, before_term: str) -> ChangesShown:
    said = (f"{plural(len(made.new), 'gap')} new this term{by_level(made.new)} and "
            f"{plural(len(made.closed), 'gap')} closed since {before_term}{by_level(made.closed)}, for the schools "
            "chosen. A gap is new when its school had no gap of the same kind (the same rule on the same measure) "
            "the term before, and closed when it no longer has one.")
    if made.waiting:
        said += (f" {plural(len(made.waiting), 'school has', 'schools have')} not returned for {term} yet, so "
                 "no gap of theirs is counted as closed.")
    new, closed = chosen_kinds(made.new, levels, themes), chosen_kinds(made.closed, levels, themes)
    return ChangesShown(
        said, len(new), None if new.empty else shell.gap_frame(new, keep=keep),
        len(closed), None if closed.empty else shell.gap_frame(closed, question=False, keep=keep,
                                                               found=f"What we found in {before_term} {before_year}"),
        None if made.movements.empty else movements_table(made.movements, before_term, before_year))


def by_level(found: pd.DataFrame) -> str:
    """" (2 red, 3 amber, 1 question)": the gaps of each severity, those there are."""
    parts = [plural((found["severity"] == level).sum(), *words)
             for level, words in (("red", ("red", "red")), ("amber", ("amber", "amber")), ("note", ("question",)))
             if (found["severity"] == level).any()]
    return f" ({', '.join(parts)})" if parts else ""


def movements_table(moved: pd.DataFrame, before_term: str, before_year: str) -> pd.DataFrame:
    """The largest movements as a table, each school a link to its profile."""
    names = data.school_names
    table = pd.DataFrame({
        "School": [names.get(u, u) for u in moved["urn"]],
        "Theme": [short_name(t) for t in moved["theme"]],
        "Measure": [INDICATORS_BY_ID[i].label for i in moved["indicator"]],
        f"{before_term} {before_year}": [fmt_value(v, INDICATORS_BY_ID[i].unit)
                                         for v, i in zip(moved["before"], moved["indicator"])],
        f"{term} {year}": [fmt_value(v, INDICATORS_BY_ID[i].unit) for v, i in zip(moved["now"], moved["indicator"])],
        "Change": [shell.fmt_movement(c, INDICATORS_BY_ID[i].unit, INDICATORS_BY_ID[i].polarity)
                   for c, i in zip(moved["change"], moved["indicator"])],
    })
    table = shell.literal_table(table)
    table["School"] = shell.profile_links([names.get(u, u) for u in moved["urn"]], moved["urn"], [year] * len(moved),
                                           [term] * len(moved), keep=keep)
    return table


tally_now = shell.view("tally", lambda: gap_tally(gaps), year, term, chosen=picked)
items = shell.view("board items", lambda: board_log.state(year, term, gaps, returned, urns), year, term, chosen=picked)
headline()
heatmap()
changes(*gap_list())
board_questions()
returns_status()
