"""The board's questions: every question the board asked about a gap, its answer, the action and
who owns it, filtered by status, theme, school and overdue; trust leaders and trustees bring
each one up to date and close it, a school's DSL answers those about their own school, and every
change is on record."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analysis import challenges as board
from analysis.exports import to_csv_bytes
from analysis.themes import THEMES, short_name
from store.challenges import CLOSED, LABELS, STATUSES, ChallengeError, challenge_history, update_challenge
from ui import board_log, shell

shell.require_frame()

year, term, urns = shell.selection()
seen = shell.scope()

st.title("The board's questions")
if not shell.dataset().terms:
    st.info("No returns are stored yet, so no gap has been raised to ask about.", icon=":material/info:")
    st.stop()
st.caption("Questions the board asked about gaps, with the answers, the actions and who owns them. An open "
           "question stays with its school and theme from term to term until it is closed. \"The gap now\" "
           f"says whether the gap it was raised on is still found in {term} {year} (chosen in the sidebar).")

log = shell.run_safely("reading the board's questions", board_log.log)
if log is None:
    st.stop()
log = log[log["urn"].isin(urns)]
if log.empty:
    st.info("No question has been recorded for these schools yet. Record one beside a gap on the Overview, "
            "a theme page or a school's profile.", icon=":material/info:")
    st.stop()

ctx, gaps = shell.term_gaps(year, term)
returned = {s.urn for s in ctx.expected() if s.returned}
state = board.with_state(log, gaps, year, term, returned)

cols = st.columns(4)
for col, status in zip(cols, STATUSES):
    col.metric(f"{board.STATUS_SYMBOL[status]} {board.STATUS_WORDS[status]}", int((state["status"] == status).sum()))
cols[3].metric(board.OVERDUE_WORD, int(state["overdue"].sum()), help="A due date has passed and the question is "
               "not closed.")

left, mid, right = st.columns([2, 3, 1])
statuses = left.pills("Status", list(STATUSES), default=["open", "answered"], selection_mode="multi",
                      format_func=lambda s: f"{board.STATUS_SYMBOL[s]} {board.STATUS_WORDS[s]}", key="cl_status")
themes = mid.pills("Themes", [t.id for t in THEMES], default=[t.id for t in THEMES], selection_mode="multi",
                   format_func=short_name, key="cl_themes")
overdue_only = right.toggle("Only overdue", key="cl_overdue")
shown = state[state["status"].isin(statuses or ()) & state["theme"].isin(themes or ())]
if overdue_only:
    shown = shown[shown["overdue"]]

if shown.empty:
    st.success("No question of the kinds chosen.", icon=":material/check_circle:")
else:
    table = board.table(shown)
    table.insert(0, "No.", shown["id"].astype(int).to_numpy())
    st.table(board_log.highlight(table), hide_index=True, border="horizontal")  # every cell literal
    st.download_button("Download these questions (CSV)", to_csv_bytes(table),
                       file_name=f"board_questions_{date.today()}.csv", mime="text/csv",
                       icon=":material/download:", on_click=shell.record, args=("export",),
                       kwargs={"detail": {"what": "board questions", "rows": len(table)}})


def heading(text: str) -> None:
    """A form's heading, with what the last save did under it."""
    st.header(text)
    flash = st.session_state.pop("flash_cl", None)
    if flash:
        st.success(flash, icon=":material/check_circle:")


def choose(items: pd.DataFrame, key: str) -> tuple[int, pd.Series]:
    """The question picked from ``items`` (by number, school and the start of the question): its id and row."""
    by_id = items.set_index(items["id"].astype(int))
    pick = st.selectbox("Question", [int(i) for i in by_id.index], key=key, format_func=lambda i: (
        f"No. {i} · {by_id.loc[i, 'school']} · {by_id.loc[i, 'question'][:90]}"))
    return pick, by_id.loc[pick]


def raised(row: pd.Series) -> None:
    """Which school and theme the question is about, when it was raised and on what finding."""
    st.markdown(f"**{shell.literal(row['school'])}**, {short_name(row['theme'])}, raised "
                f"{row['term']} {row['academic_year']}: {shell.literal(row['finding'])}")


def edit(items: pd.DataFrame) -> None:
    """Bring one question up to date: the answer and who gave it, the action, owner, due date, status."""
    heading("Bring a question up to date")
    pick, row = choose(items, "cl_pick")
    with st.form(f"cl_edit_{pick}", border=True):
        raised(row)
        question = st.text_area("The board's question", value=row["question"], key=f"cl_question_{pick}")
        left, right = st.columns(2)
        asked_by = left.text_input("Asked by", value=row["asked_by"], key=f"cl_asked_by_{pick}")
        meeting = right.date_input("Meeting date", value=row["meeting_date"], format="DD/MM/YYYY",
                                   key=f"cl_meeting_{pick}")
        answer = st.text_area("Answer", value=row["answer"] or "", key=f"cl_answer_{pick}")
        answered_by = st.text_input("Answered by", value=row["answered_by"] or "", key=f"cl_answered_by_{pick}")
        action = st.text_input("Action", value=row["action"] or "", key=f"cl_action_{pick}")
        left, mid, right = st.columns(3)
        owner = left.text_input("Action owner", value=row["owner"] or "", key=f"cl_owner_{pick}")
        due = mid.date_input("Due date", value=row["due_date"], format="DD/MM/YYYY", key=f"cl_due_{pick}")
        status = right.selectbox("Status", STATUSES, index=STATUSES.index(row["status"]),
                                 format_func=lambda s: board.STATUS_WORDS[s], key=f"cl_status_{pick}")
        sent = st.form_submit_button("Save the changes", icon=":material/save:")
    if sent:
        save(pick, question=question, asked_by=asked_by, meeting_date=meeting, answer=answer,
             answered_by=answered_by, action=action, owner=owner, due_date=due, status=status)
    history(pick)


def history(item: int) -> None:
    with st.expander("Changes to this question"):
        changes = shell.run_safely("reading the record", challenge_history, shell.engine(), item)
        if changes is not None:
            changes = board.history_for_reader(changes, shell.scope().suppress)
        if changes is not None and not changes.empty:
            st.dataframe(pd.DataFrame({
                "When (UTC)": pd.to_datetime(changes["at"]).dt.strftime("%d %b %Y %H:%M"),
                "Who": changes["actor"], "What": changes["what"], "Changes": changes["changes"],
            }), hide_index=True, width="stretch")


def answer(items: pd.DataFrame) -> None:
    """For a school's DSL: answer a question about their school, with the action, its owner and due
    date, and mark it answered. The board closes it."""
    heading("Answer a question")
    items = items[items["status"] != CLOSED]
    if items.empty:
        st.caption("No question about your school is waiting for an answer.")
        return
    pick, row = choose(items, "cl_reply_pick")
    with st.form(f"cl_reply_{pick}", border=True):
        raised(row)
        st.markdown(f"**The board asked:** {shell.literal(row['question'])} ({shell.literal(row['asked_by'])}, "
                    f"{row['meeting_date']:%d/%m/%Y})")
        reply = st.text_area("Your answer", value=row["answer"] or "", key=f"cl_reply_answer_{pick}",
                             help="What the school has found or done. No child's name or details.")
        action = st.text_input("Action", value=row["action"] or "", key=f"cl_reply_action_{pick}")
        left, right = st.columns(2)
        owner = left.text_input("Action owner", value=row["owner"] or "", key=f"cl_reply_owner_{pick}")
        due = right.date_input("Due date", value=row["due_date"], format="DD/MM/YYYY", key=f"cl_reply_due_{pick}")
        done = st.checkbox("Mark it answered (the board closes it once satisfied)", value=row["status"] == "answered",
                           key=f"cl_reply_done_{pick}")
        sent = st.form_submit_button("Save my answer", icon=":material/save:")
    if sent:
        fields = {"answer": reply, "action": action, "owner": owner, "due_date": due,
                  "status": board.ANSWERED if done else board.OPEN}
        if (reply or "").strip() != (row["answer"] or ""):  # a new answer is given by whoever typed it
            who = shell.user()
            fields["answered_by"] = f"{who.name or who.email}, DSL"
        save(pick, **fields)
    history(pick)


def save(item: int, **fields) -> None:
    fields = {k: (v or None) if isinstance(v, str) else v for k, v in fields.items()}
    with shell.apology("saving the question"):
        try:  # the store decides who may change what (a DSL: their own school's answer only)
            changed = update_challenge(shell.engine(), item, user=shell.current_user(), scope=shell.scope(),
                                       **fields)
        except ChallengeError as exc:
            st.error(str(exc), icon=":material/error:")
            return
        st.session_state["flash_cl"] = (f"Saved question No. {item}: " + ", ".join(
            LABELS.get(k, k).lower() for k in changed) + ".") if changed else "Nothing had changed."
        st.rerun()


if seen.can_challenge and not shown.empty:
    edit(shown)
elif not seen.can_challenge and seen.role == "dsl":
    answer(state)
elif not seen.can_challenge:
    st.caption("The board's questions are recorded and updated by the trust's leaders and trustees.")
