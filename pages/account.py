"""My account, for everyone: who the dashboard knows you as, the emails you receive and why, and
your own choice about them (a trust leader's weekly digest, on or off)."""

from __future__ import annotations

import streamlit as st

import settings
from store import mail, outbox
from store.access import ROLES, TRUST_LEADER
from ui import identity, shell

shell.require_frame()

eng = shell.engine()
who = shell.user()
demo = identity.mode(eng) == "demo"

st.title("My account")
for line in st.session_state.pop("account_said", []):
    st.success(line, icon=":material/check_circle:")

names = shell.dataset().school_names
facts = [f"**Email:** {shell.literal(who.email)}" if not demo else "**Email:** none (a demonstration)",
         f"**Name:** {shell.literal(who.name or 'not given')}",
         f"**Role:** {ROLES.get(who.role, who.role)}"]
if who.urns:
    facts.append("**Schools:** " + ", ".join(shell.literal(names.get(u, f"School {u}")) for u in who.urns))
st.markdown("  \n".join(facts))
st.caption("Your role and schools are set by the trust's leaders: ask them to change either.")

st.header("Emails you receive")
if not settings.mail().on:
    st.info("Email is off on this dashboard just now, so nothing is sent. Once the trust turns it on, you will "
            "receive the emails below.", icon=":material/mail_lock:")
kinds = mail.ROLE_KINDS.get(who.role, ())
st.markdown("\n".join(f"- **{mail.KIND_WORDS[k]}**: {mail.KINDS[k][1]}." for k in kinds))
st.caption("Each says what happened and links to the page to look at; none holds a child's details, a count of "
           "children or a finding. " + ("A DSL's emails are about their own schools only." if who.role == "dsl"
                                        else ""))


def save_digest() -> None:
    on = bool(st.session_state["weekly_digest"])
    changed = shell.run_safely("saving your choice", outbox.set_weekly_digest, eng, who.email, on,
                                actor=who.email, source=shell.where_from())
    if changed:
        st.session_state["account_said"] = [
            "The weekly digest is on: it comes on the first run of python -m analysis notify each week." if on else
            "The weekly digest is off: you will no longer receive it. Turn it on here again at any time."]


if who.role == TRUST_LEADER:
    st.header("Your choices")
    if demo:
        st.caption("In the demonstration there is no account to keep a choice for.")
    else:
        current = shell.run_safely("reading your choices", outbox.weekly_digest, eng, who.email)
        if current is None:
            st.caption("Your account is not one the dashboard keeps choices for (you signed in before it was "
                       "added). Ask a trust leader.")
        else:
            st.toggle("Send me the weekly digest", value=bool(current), key="weekly_digest", on_change=save_digest,
                      help="Every week: returns stored, red gaps new that week, and the board's questions overdue.")
