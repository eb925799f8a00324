"""Schools, for trust leaders: rename a school, set or correct its phase (which schools it is
compared with), or delete everything stored for one (a school that has left the trust, or whose
returns are past the trust's retention period)."""

from __future__ import annotations

import streamlit as st

from charts.format import plural
from loaders.registry import PHASES
from store.deletion import delete_school
from store.phases import NO_PHASE_WORDS, school_phases, set_phase
from store.returns import rename_school, schools
from ui import shell

shell.require_manager()

eng = shell.engine()
user = shell.current_user()
state = st.session_state

st.title("Schools")
for line in state.pop("schools_done", []):
    st.success(line, icon=":material/check_circle:")

known = shell.run_safely("reading the schools", schools, eng)
if known is None or known.empty:
    st.info("No schools yet: a school is added with its first return.")
    st.stop()
names = dict(zip(known["urn"], known["name"]))
urn = st.selectbox("School", sorted(names, key=names.get), format_func=lambda u: f"{names[u]} ({u})",
                   key="schools_pick")

st.header("Rename")
new_name = st.text_input("Name as the dashboard shows it", value=names[urn], key=f"rename-{urn}")
if st.button("Save the name", key="rename") and new_name.strip() != names[urn]:
    renamed = shell.run_safely("renaming the school",
                                lambda: rename_school(eng, urn, new_name, user=user) or True)
    if renamed:
        state["schools_done"] = [f"Renamed {shell.literal(names[urn])} to {shell.literal(new_name.strip())}."]
        st.rerun()

st.header("Phase")
phases = {row.urn: row for row in shell.run_safely("reading the schools' phases", school_phases, eng) or []}
mine = phases.get(urn)
NONE = "No phase: compare with the whole trust"
st.caption("A school is compared with the schools of its own phase. Its returns give the phase; what is "
           "set here stands until it is changed here again.")
if mine is not None and mine.phase is None:
    st.info(f"{shell.literal(names[urn])} has {NO_PHASE_WORDS}.", icon=":material/info:")
if mine is not None and mine.differs:
    st.warning(f"Its newest return says {mine.said}.", icon=":material/warning:")
current = mine.phase if mine is not None and mine.phase in PHASES else NONE
picked = st.selectbox("Phase", [NONE, *PHASES], index=[NONE, *PHASES].index(current), key=f"phase-{urn}")
if st.button("Save the phase", key="phase") and picked != current:
    chosen = None if picked == NONE else picked
    changed = shell.run_safely("setting the school's phase",
                                lambda: set_phase(eng, urn, chosen, user=user, source=shell.where_from()))
    if changed is not None:
        words = f"the phase {chosen}" if chosen else NO_PHASE_WORDS
        state["schools_done"] = [f"{shell.literal(names[urn])} now has {words}."]
        st.rerun()

st.header("Delete everything stored for this school")
st.markdown(f"Every return **{shell.literal(names[urn])}** has sent (every version, with its file), its values, leads, "
            "queries and explanations, and any unfinished upload, will be deleted for good. The record of "
            "changes keeps only the fact of the deletion.")
typed = st.text_input(f"To confirm, type the school's URN ({urn})", key=f"confirm-{urn}")
if st.button("Delete this school's data", type="primary", disabled=typed.strip() != urn, key="delete"):
    counts = shell.run_safely("deleting the school's data", delete_school, eng, urn, user=user)
    if counts is not None:
        state["schools_done"] = [f"Deleted {shell.literal(names[urn])}: {plural(counts['returns'], 'return')} and everything with them."]
        st.rerun()
