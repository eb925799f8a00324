"""Privacy: what the dashboard holds, what it refuses, who sees what (what trustees do not see and
why, made from the contract by analysis.disclosure, as the README's Privacy section is), how long
returns are kept and how a school's data is deleted, in plain words for DSLs, trustees and the
trust's data protection officer."""

from __future__ import annotations

import streamlit as st

from analysis.disclosure import figures_frame, groups_frame, rules
from analysis.suppression import suppression_threshold
from ui import shell


def show_what_trustees_do_not_see() -> None:
    """The rules and the table of the return's counts, made from the contract (as the README's are)."""
    try:
        t = suppression_threshold()
    except ValueError as exc:  # the server's setting is wrong: its own sentence says how
        st.error(str(exc), icon=":material/settings:")
        return
    st.header("What trustees do not see")
    st.markdown("\n".join(f"- **{heading}.** {text}" for heading, text in rules(t)))
    st.markdown("**Every count in the return**, sheet by sheet: what it counts, and whether a small one is "
                "hidden from trustees.")
    st.table(shell.literal_table(groups_frame(t)).set_index("Sheet"))
    with st.expander("Which figures are made from which counts"):
        st.table(shell.literal_table(figures_frame()).set_index("Figure"))
    st.caption(f"The threshold is {t}: counts from 1 to {t - 1} are hidden. The trust's data officer sets it "
               "on the server (SUPPRESSION_THRESHOLD); it is never below 3.")


shell.require_frame()

st.title("Privacy")
st.markdown(
    """
**What the dashboard holds.** Each school's termly return: counts of children and staff (how
many children were flagged for neglect, how many staff are in date with their training, how many
conferences the school attended), the school's URN and name, three governance dates, and for the
school's safeguarding leads their role, optionally their name, and the dates of their training.
It keeps the file exactly as it was uploaded, with a fingerprint (SHA-256) of it, so the trust can
show what was submitted and when. It keeps the explanations DSLs type against queries, and a
record of every upload, sign-in and change: who, when, what.

**What it refuses.** Anything about a named child. A file with a column headed like a child's
name, UPN, date of birth or address, a Unique Pupil Number (however it is spaced), or a name
beside a date of birth or a home address, on any sheet (hidden and very hidden sheets included)
or anywhere else a workbook keeps text (a comment, a page header or footer, a defined name, a
chart or text box, a data-validation message, a sheet's name, the document's properties, the
file's own name) is refused whole. Its contents are not kept, not even as a draft: the record of
the attempt holds only the file name (not even that, when the name is the problem), its
fingerprint and where the problem was found. An explanation that reads like a child's details is
not saved.

**Who sees what.**
- *Trust leaders* (the CEO, the trust safeguarding lead, the data officer) see every school,
  manage users and settings, and read the record of changes.
- *Trustees* see the whole trust, read-only, with small numbers hidden: what and why is below.
- *DSLs* upload for their own school and see their own school's figures in full beside the
  trust's pooled figures, never another school's.
"""
)

show_what_trustees_do_not_see()

st.markdown(
    """
**How long returns are kept.** Every version of every return is kept while the school is in the
trust, so that trends over years can be read and any figure traced back to the file it came from.
A trust sets its own retention period in its records policy; when a school leaves the trust, or
its returns pass that period, a trust leader deletes them.

**Deleting a school's data.** A trust leader can delete a school's returns, values, leads,
explanations and files. The deletion is recorded (who, when, which school), and nothing of the
deleted returns remains in the dashboard.

**Where it lives.** On the trust's own server: a database file on that machine, or the trust's
PostgreSQL database. Nothing is sent anywhere else, but the emails below.

**Emails.** When the trust turns email on, the dashboard emails reminders and receipts to DSLs,
late returns and a weekly digest to trust leaders, and word that the board pack is ready to
trustees, through the mail server the trust names. An email says what happened and links to the
dashboard; it never holds a child's details, a count of children or what a return found, and a
DSL's emails are about their own schools only. The dashboard keeps each email it sends (to whom,
its subject and words) for a year, for the trust leaders' Notifications page, then deletes it.
"""
)
st.caption("Questions about this dashboard's data go to the trust's data protection officer.")
