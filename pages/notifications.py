"""Notifications, for trust leaders: whether email is on and how it is sent, every email the
dashboard has queued, sent or failed to send (with the reason), failed ones sent again, a preview
of each kind of email, and a test email to check the settings."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import settings
from analysis.deadlines import current_date
from analysis.notify import next_deadline
from store import mail, outbox
from ui import identity, shell

shell.require_manager()

eng = shell.engine()
cfg = settings.mail()
state = st.session_state

st.title("Notifications")
st.caption("The emails the dashboard sends: reminders and receipts to DSLs, late returns and a weekly digest to "
           "trust leaders, and the board pack to trustees. Each says what happened and links to the right page; "
           "none holds a child's details, a count of children or a finding.")
for kind, line in state.pop("notify_said", []):
    getattr(st, kind)(line, icon=":material/mail:")


def settings_section() -> None:
    if not cfg.on:
        st.info("Email is off: no SMTP_HOST is set, so nothing is queued or sent, and the rest of the dashboard "
                "works as it always has. Whoever runs the server sets it up (README, \"Email\").",
                icon=":material/mail_lock:")
        return
    tls = "encrypted with STARTTLS, the server's certificate checked" if cfg.starttls else \
        "NOT encrypted (SMTP_STARTTLS is off)"
    st.markdown(f"Email is **on**: sent through {shell.literal(cfg.host)}, port {shell.literal(cfg.port)}, "
                f"{tls}, from {shell.literal(cfg.sender or 'no address (MAIL_FROM is not set)')}.")
    if not cfg.sender:
        st.warning("MAIL_FROM is not set, so no email can be sent: set the address the emails come from.",
                   icon=":material/warning:")
    if not cfg.dashboard_url:
        st.warning("DASHBOARD_URL is not set, so emails name the page to open instead of linking to it.",
                   icon=":material/link_off:")
    if not cfg.starttls:
        st.warning("SMTP_STARTTLS is off: emails (and the mail server's password, if any) cross the network "
                   "unencrypted. Turn it back on unless the mail server is on this machine.", icon=":material/warning:")
    st.caption("`python -m analysis notify`, run every few minutes (README, \"Email\"), queues what falls due by date "
               "and sends what is waiting.")


def outbox_section() -> None:
    st.header("The outbox")
    counts = shell.run_safely("reading the emails", outbox.counts, eng)
    if counts is None:
        return
    cols = st.columns(4)
    for col, status in zip(cols, outbox.STATUS_WORDS):
        col.metric(outbox.STATUS_WORDS[status], counts[status])
    if counts[outbox.FAILED]:
        failing = shell.run_safely("reading the emails", outbox.outbox_rows, eng, statuses=[outbox.FAILED])
        why = sorted(set(failing["last_error"].dropna())) if failing is not None else []
        st.error(f"{counts[outbox.FAILED]} email{' was' if counts[outbox.FAILED] == 1 else 's were'} tried for a "
                 "day and could not be sent: " + " ".join(shell.literal(w) for w in why) +
                 " Put it right, then send them again below.", icon=":material/error:")
    chosen = st.pills("Show", list(outbox.STATUS_WORDS), default=list(outbox.STATUS_WORDS), selection_mode="multi",
                      format_func=outbox.STATUS_WORDS.get, key="outbox_status")
    rows = shell.run_safely("reading the emails", outbox.outbox_rows, eng, statuses=list(chosen or ()))
    if rows is None:
        return
    if rows.empty:
        st.caption("No email of the kinds chosen." if sum(counts.values()) else "No email has been queued yet.")
    else:
        st.dataframe(pd.DataFrame({
            "No.": rows["id"], "Status": rows["status"].map(lambda s: outbox.STATUS_WORDS.get(s, s)),
            "Email": rows["kind"].map(lambda k: mail.KIND_WORDS.get(k, k)), "To": rows["recipient"],
            "Queued (UTC)": _when(rows["created_at"]), "Sent (UTC)": _when(rows["sent_at"]),
            "Tries": rows["attempts"], "Why it has not gone": rows["last_error"].fillna(""),
            "Subject": rows["subject"],
        }), hide_index=True, width="stretch")
    failed = rows[rows["status"] == outbox.FAILED] if len(rows) else rows
    if len(failed):
        again = st.multiselect("Failed emails to send again", [int(i) for i in failed["id"]],
                               default=[int(i) for i in failed["id"]], key="outbox_again",
                               format_func=lambda i: f"No. {i}")
        if st.button("Send them again", icon=":material/forward_to_inbox:", disabled=not again):
            n = shell.run_safely("putting the emails back in the queue", outbox.send_again, eng, again,
                                  user=shell.current_user(), source=shell.where_from())
            if n is not None:
                state["notify_said"] = [("success", f"{n} email{' is' if n == 1 else 's are'} back in the queue, "
                                                    "to go out on the next run of python -m analysis notify.")]
                st.rerun()


def preview_section() -> None:
    st.header("What each email says")
    st.caption("Each as it would be sent, about schools of this trust and the next term due; the people, "
               "numbers and actions are made up. Who receives each, and when:")
    names = sorted(shell.dataset().school_names.values())
    school, other = (names + ["Example Primary School", "Example Academy"])[:2]
    year, term, due = next_deadline(current_date(), shell.thresholds())
    for example in mail.examples(school, other, year, term, due):
        who, when = mail.KINDS[example.kind]
        with st.expander(f"{mail.KIND_WORDS[example.kind]}: to {who}, {when}"):
            st.code(f"Subject: {example.subject}\n\n{example.body}", language=None, wrap_lines=True)


def test_section() -> None:
    st.header("Send a test email to me")
    who = shell.user()
    if not cfg.on:
        st.caption("Email is off, so there is nothing to test yet.")
        return
    if identity.mode(eng) == "demo":
        st.caption("In the demonstration nobody is signed in with an address of their own, so no test email can "
                   "be sent.")
        return
    st.caption(f"Sends one email to {shell.literal(who.email)} straight away and says what happened.")
    if st.button("Send a test email to me", icon=":material/send:"):
        with st.spinner("Sending…"):
            done = shell.run_safely("sending the test email", send_test, who)
        if done is not None:
            state["notify_said"] = [done]
            st.rerun()


def send_test(who) -> tuple[str, str]:
    item = outbox.queue_test(eng, to=who.email, name=who.name)
    if item is None:
        return "warning", "Email is off, so nothing was sent."
    sent = outbox.send_pending(eng, only=[item])
    shell.record("send_test_email", detail={"to": who.email, "sent": bool(sent.sent)})
    if sent.sent:
        return "success", f"Sent a test email to {shell.literal(who.email)}. If it does not arrive, look in spam."
    reason = " ".join(sent.reasons) or "It is queued and will be tried again."
    return "error", f"The test email could not be sent: {shell.literal(reason)} It will be tried again."


def _when(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column).dt.strftime("%d %b %Y %H:%M").fillna("")


settings_section()
outbox_section()
preview_section()
test_section()
