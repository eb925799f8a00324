"""The board's questions beside the gaps: what the Overview, theme and school pages share.

Not a page itself. Reads the challenge log within the signed-in user's scope, works out for the
term on show which items are carried forward, overdue, and whether their gap is still found
(analysis.challenges), and offers trust leaders and trustees a form to record a question on a gap.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analysis import challenges as board
from analysis.themes import short_name
from store.challenges import ChallengeError, add_challenge, list_challenges
from ui import shell

COLUMN = "The board's questions"


def log() -> pd.DataFrame:
    """Every item the user may see (their own schools' for a DSL), worded for them: for a reader
    with small counts suppressed, each finding as their own gap list put it. Read once per change
    to the log and kind of reader, not on every click."""
    seen = shell.scope()

    def make() -> pd.DataFrame:
        urns = None if seen.urns is None else sorted(seen.urns)
        items = seen.filter(list_challenges(shell.engine(), urns=urns))
        return board.for_reader(items, seen.suppress, lambda year, term: shell.term_gaps(year, term)[1])
    return shell.view("board log", make)


def state(year: str, term: str, gaps: pd.DataFrame, returned: set[str], urns: list[str] | None = None,
          theme: str | None = None) -> pd.DataFrame:
    """The items a view of the term shows, for the schools (and theme) on the page, with whether
    each is carried forward, overdue, and whether its gap is still found."""
    items = board.for_term(log(), year, term)
    if urns is not None:
        items = items[items["urn"].isin(urns)]
    if theme is not None:
        items = items[items["theme"] == theme]
    return board.with_state(items, gaps, year, term, returned)


def beside(table: pd.DataFrame, gaps: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """The gap table with a column saying, for each gap's school and theme, the board's questions
    still open or answered ("● 1 open, ⚠ overdue: 1"); blank when there are none."""
    if items.empty:
        return table
    words = board.beside_gaps(items)
    out = table.copy()
    out[COLUMN] = [words.get((u, t), "") for u, t in zip(gaps["urn"], gaps["theme"])]
    return out


def show(items: pd.DataFrame, *, heading: str, with_school: bool = True, empty: str | None = None) -> None:
    """The items as a table, overdue ones marked in words and shaded; nothing (or ``empty``) when none."""
    if items.empty:
        if empty:
            st.caption(empty)
        return
    st.markdown(f"**{shell.literal(heading)}**")
    frame = board.table(items, with_school=with_school)
    st.table(highlight(frame), hide_index=True, border="horizontal")


def highlight(frame: pd.DataFrame):
    """Overdue rows shaded as well as marked "⚠ Overdue" in words, so they stand out in grey too; every
    text cell literal (st.table reads Markdown)."""
    frame = shell.literal_table(frame)

    def shade(row):
        late = board.OVERDUE_WORD in str(row.get("Status", ""))
        return ["background-color: #fde0c5; font-weight: 600" if late else "" for _ in row]
    return frame.style.apply(shade, axis=1).hide(axis="index")


def raise_form(gaps: pd.DataFrame, year: str, term: str, *, key: str) -> None:
    """For trust leaders and trustees: record the board's question on one of the gaps shown."""
    flash = st.session_state.pop(f"flash_{key}", None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    if not shell.scope().can_challenge or gaps.empty:
        return
    # the form is drawn only when asked for: on a large trust the choice of gaps is long, and a
    # click elsewhere on the page should not pay for it
    if not st.toggle("Record the board's question on a gap", key=f"ask_{key}"):
        return
    with st.container(border=True):
        rows = gaps.reset_index(drop=True)
        labels = [f"{r.school} · {short_name(r.theme)} · {r.finding}" for r in rows.itertuples()]  # plain text
        pick = st.selectbox("The gap", range(len(rows)), format_func=labels.__getitem__, key=f"gap_{key}")
        with st.form(f"raise_{key}", clear_on_submit=True, border=False):
            question = st.text_area("The board's question", placeholder=str(rows.iloc[pick]["question"]),
                                    help="Leave it empty to record the suggested question shown.", key=f"q_{key}")
            left, right = st.columns(2)
            asked_by = left.text_input("Asked by", placeholder="e.g. Chair of the board", key=f"by_{key}")
            meeting = right.date_input("Meeting date", value=date.today(), format="DD/MM/YYYY", key=f"m_{key}")
            action = st.text_input("Action agreed (optional)", key=f"a_{key}")
            left, right = st.columns(2)
            owner = left.text_input("Action owner", key=f"o_{key}")
            due = right.date_input("Due date", value=None, format="DD/MM/YYYY", key=f"d_{key}")
            sent = st.form_submit_button("Record the question", icon=":material/save:")
        if sent:
            _save(rows.iloc[pick], year, term, key, question=question.strip() or str(rows.iloc[pick]["question"]),
                  asked_by=asked_by, meeting_date=meeting, action=action, owner=owner, due_date=due)


def _save(gap, year: str, term: str, key: str, **fields) -> None:
    if not shell.scope().can_challenge:  # the form is shown only to them; the save checks again
        st.warning("Only trust leaders and trustees record the board's questions.", icon=":material/lock:")
        return
    with shell.apology("recording the board's question"):
        try:
            add_challenge(shell.engine(), urn=gap["urn"], theme=gap["theme"], rule=gap["rule"],
                          indicator=gap["indicator"], academic_year=year, term=term, finding=gap["finding"],
                          user=shell.current_user(), **fields)
        except ChallengeError as exc:
            st.error(str(exc), icon=":material/error:")
            return
        st.session_state[f"flash_{key}"] = (
            f"Recorded the board's question on {shell.literal(gap['school'])}. It stays with the school and theme from term "
            "to term until it is closed on the Board questions page.")
        st.rerun()  # so the tables above show it at once
