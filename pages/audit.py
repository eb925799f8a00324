"""The record of changes, for trust leaders: every upload attempt (accepted, rejected or refused,
and why), resubmission, explanation, threshold change and deletion, filtered and exported."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from analysis.exports import to_csv_bytes
from charts.format import plural
from store.audit import audit_facets, audit_log
from ui import shell

shell.require_manager()

LIMIT = 5000
ACTION_WORDS = {
    "upload": "Upload", "import": "Import", "export": "Export", "explain": "Explanation", "sign_in": "Sign-in",
    "sign_out": "Sign-out", "add_user": "User added", "set_role": "Role changed", "remove_user": "User removed",
    "set_password": "Password set", "unlock": "Sign-in lock lifted", "rename_school": "School renamed", "set_threshold": "Threshold changed",
    "reset_threshold": "Threshold reset", "delete_school": "School deleted",
    "add_challenge": "Board question raised", "update_challenge": "Board question changed",
    "board_pack": "Board pack made", "set_weekly_digest": "Weekly digest turned on or off",
    "send_email_again": "Emails sent again", "send_test_email": "Test email sent",
}

eng = shell.engine()
st.title("Record of changes")
st.caption("Every upload attempt and change, newest first: who, when, what, and from where. "
           "It never holds the contents of a return.")

facets = shell.run_safely("reading the record", audit_facets, eng) or {"actors": [], "actions": []}
names = shell.dataset().school_names
left, mid, right = st.columns([2, 2, 2])
actor = left.selectbox("Person", ["Everyone", *facets["actors"]], key="audit_actor")
actions = mid.multiselect("What", facets["actions"], format_func=lambda a: ACTION_WORDS.get(a, a),
                          key="audit_actions", placeholder="Everything")
urn = right.selectbox("School", ["Every school", *sorted(names, key=names.get)],
                      format_func=lambda u: names.get(u, u), key="audit_school")
today = date.today()
period = st.date_input("Between", (today - timedelta(days=365), today), key="audit_period", format="DD/MM/YYYY")
since, until = (period if isinstance(period, tuple) and len(period) == 2 else (today - timedelta(days=365), today))

log = shell.run_safely(
    "reading the record", audit_log, eng, limit=LIMIT,
    urn=None if urn == "Every school" else urn, actor=None if actor == "Everyone" else actor,
    actions=actions or None, since=datetime.combine(since, time.min),
    until=datetime.combine(until + timedelta(days=1), time.min),
)
if log is None:
    st.stop()
if log.empty:
    st.info("Nothing on record for that choice.")
    st.stop()

shown = pd.DataFrame({
    "When (UTC)": pd.to_datetime(log["at"]).dt.strftime("%d %b %Y %H:%M"),
    "Who": log["actor"],
    "What": [ACTION_WORDS.get(a, a) for a in log["action"]],
    "Outcome": log["outcome"],
    "School": [names.get(u, u) if isinstance(u, str) else "" for u in log["urn"]],
    "Term": [f"{t} {y}" if isinstance(t, str) else "" for t, y in zip(log["term"], log["academic_year"])],
    "File": log["file_name"].fillna(""),
    "From": log["source"].fillna(""),
    "Detail": [shell.describe_detail(d) for d in log["detail"]],
})
st.caption(plural(len(shown), "entry", "entries") + (f" (the newest {LIMIT:,})" if len(shown) == LIMIT else ""))
st.dataframe(shown, hide_index=True, width="stretch")
st.download_button("Download the record (CSV)", to_csv_bytes(shown), file_name=f"record_of_changes_{today}.csv",
                   mime="text/csv", icon=":material/download:", on_click=shell.record, args=("export",),
                   kwargs={"detail": {"what": "record of changes", "rows": len(shown)}})
