"""The Notifications page (trust leaders) and the My account page (everyone), as each role meets
them: email off said plainly, the outbox with its reasons, failed emails sent again, a preview of
every kind, a test email that really arrives; the weekly digest turned off and on, on record."""

from __future__ import annotations

from datetime import date

import pytest

from store import db, mail, outbox
from store.audit import audit_log
from store.users import add_user
from tests.mailserver import MailServer, free_port

from .conftest import assert_no_exception, open_page

LEADER = "leader@example.org"


def _engine(app):
    return db.make_engine(f"sqlite:///{app / 'app.db'}")


def _with_email_off(page: str, sign_in, monkeypatch):
    """``page`` as a trust leader sees it on a dashboard with no SMTP_HOST."""
    monkeypatch.delenv("SMTP_HOST", raising=False)
    sign_in("trust_leader", email=LEADER)
    at = open_page(page)
    assert_no_exception(at)
    return at


def test_with_email_off_the_page_says_so_and_still_previews_every_email(sample_app, sign_in, monkeypatch):
    at = _with_email_off("pages/notifications.py", sign_in, monkeypatch)
    assert at.title[0].value == "Notifications"
    assert any("Email is off: no SMTP_HOST is set" in i.value for i in at.info)
    assert any("No email has been queued yet" in c.value for c in at.caption)
    labels = [e.label for e in at.expander]
    assert len(labels) == len(mail.KINDS) and labels[0].startswith("Return due: to a school's DSLs")
    previews = [c.value for c in at.code]
    assert any(p.startswith("Subject: The board pack for ") for p in previews)
    assert not any(b.label == "Send a test email to me" for b in at.button)


def test_the_outbox_a_test_email_that_arrives_and_failed_ones_sent_again(sample_app, sign_in, monkeypatch):
    engine = _engine(sample_app)
    with MailServer() as server:
        server.env(monkeypatch)
        add_user(engine, "chair@example.org", role="trustee", actor="test")
        from store.packs import record_pack
        record_pack(engine, user=LEADER, academic_year="2025/26", term="Summer", fmt="pdf", reader="trustee")
        sign_in("trust_leader", email=LEADER)
        at = open_page("pages/notifications.py")
        assert_no_exception(at)
        assert any("Email is **on**" in m.value for m in at.markdown)
        (table,) = [d.value for d in at.dataframe]
        assert list(table["To"]) == ["chair@example.org"] and list(table["Status"]) == ["Queued"]
        assert list(table["Email"]) == ["Board pack ready"]

        next(b for b in at.button if b.label == "Send a test email to me").click().run()
        assert_no_exception(at)
        assert any(f"Sent a test email to {LEADER}" in s.value for s in at.success)
        tested = [r for r in server.received if r.to == LEADER]
        assert len(tested) == 1 and tested[0].subject == "Test email from the safeguarding dashboard"
        assert list(audit_log(engine, actions=["send_test_email"])["actor"]) == [LEADER]

    # the server goes away: the next test email fails with its reason, and after a day waits for a leader
    monkeypatch.setenv("SMTP_PORT", str(free_port()))
    next(b for b in at.button if b.label == "Send a test email to me").click().run()
    assert any("could not be sent: Nothing answered at 127.0.0.1" in e.value for e in at.error)
    from datetime import timedelta

    from store.audit import utcnow
    outbox.send_pending(engine, now=utcnow() + timedelta(days=1, hours=1))
    overview = open_page("pages/overview.py")  # the sidebar (AppTest draws it on the first page only)
    assert any("1 email has not gone out for a day" in w.value for w in overview.sidebar.warning)
    at = open_page("pages/notifications.py")
    assert any("tried for a day and could not be sent: Nothing answered" in e.value for e in at.error)
    failed = outbox.outbox_rows(engine, statuses=["failed"])
    assert list(failed["kind"]) == ["test"]
    next(b for b in at.button if b.label == "Send them again").click().run()
    assert_no_exception(at)
    assert any("1 email is back in the queue" in s.value for s in at.success)
    assert outbox.failed_count(engine) == 0
    assert list(audit_log(engine, actions=["send_email_again"])["actor"]) == [LEADER]


@pytest.mark.parametrize("role, urns", [("trustee", ()), ("dsl", ("990002",))])
def test_only_trust_leaders_have_the_notifications_page(sample_app, sign_in, role, urns):
    sign_in(role, urns)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        open_page("pages/notifications.py")


def test_a_trust_leader_turns_the_weekly_digest_off_and_on_on_my_account(sample_app, sign_in, monkeypatch):
    engine = _engine(sample_app)
    add_user(engine, LEADER, role="trust_leader", name="Alex Carter", actor="test")
    at = _with_email_off("pages/account.py", sign_in, monkeypatch)
    assert at.title[0].value == "My account"
    assert any("Email is off on this dashboard just now" in i.value for i in at.info)
    assert "**Weekly digest**" in at.markdown[1].value and "**Returns late**" in at.markdown[1].value
    toggle = at.toggle(key="weekly_digest")
    assert toggle.value is True
    toggle.set_value(False).run()
    assert_no_exception(at)
    assert any("The weekly digest is off" in s.value for s in at.success)
    assert outbox.weekly_digest(engine, LEADER) is False
    at.toggle(key="weekly_digest").set_value(True).run()
    assert outbox.weekly_digest(engine, LEADER) is True
    changes = audit_log(engine, actions=[outbox.SET_DIGEST])
    assert [d["new"] for d in changes["detail"]][::-1] == [False, True] and set(changes["actor"]) == {LEADER}


@pytest.mark.parametrize("role, urns, kinds, absent", [
    ("dsl", ("990002",), ["Return due", "Return stored", "Board question raised", "Action due", "Action overdue"],
     "Weekly digest"),
    ("trustee", (), ["Board pack ready"], "Return due"),
])
def test_everyone_reads_which_emails_they_receive(sample_app, sign_in, role, urns, kinds, absent):
    sign_in(role, urns, email=f"{role}@example.org")
    at = open_page("pages/account.py")
    assert_no_exception(at)
    listed = at.markdown[1].value
    assert all(f"**{k}**" in listed for k in kinds) and f"**{absent}**" not in listed
    assert not at.toggle  # only trust leaders have a digest to turn off
    if role == "dsl":
        assert "Kestrel Vale Primary School" in at.markdown[0].value


def test_a_dsl_answers_their_own_schools_question_and_it_is_on_record(sample_app, sign_in):
    from store.challenges import add_challenge, list_challenges

    engine = _engine(sample_app)
    mine = add_challenge(engine, urn="990002", theme="neglect", rule="neglect_drift", indicator="",
                         academic_year="2025/26", term="Summer", finding="Flags stay on monitoring.",
                         question="What is the plan?", asked_by="Chair", meeting_date=date(2026, 7, 10), user="chair")
    other = add_challenge(engine, urn="990001", theme="neglect", rule="neglect_drift", indicator="",
                          academic_year="2025/26", term="Summer", finding="Flags stay on monitoring.",
                          question="Another school's question", asked_by="Chair", meeting_date=date(2026, 7, 10),
                          user="chair")
    sign_in("dsl", ["990002"], email="dsl@kestrel.example.org")
    at = open_page("pages/board_questions.py")
    assert_no_exception(at)
    assert [h.value for h in at.header] == ["Answer a question"]
    assert at.selectbox(key="cl_reply_pick").options == [
        f"No. {mine} · Kestrel Vale Primary School · What is the plan?"]
    assert not any(b.label == "Save the changes" for b in at.button)  # the board's own form is not offered
    at.text_area(key=f"cl_reply_answer_{mine}").input("Every flag is reviewed half-termly now.")
    at.text_input(key=f"cl_reply_action_{mine}").input("Report the reviews to the board")
    at.text_input(key=f"cl_reply_owner_{mine}").input("DSL")
    at.date_input(key=f"cl_reply_due_{mine}").set_value(date(2026, 12, 18))
    at.checkbox(key=f"cl_reply_done_{mine}").check()
    next(b for b in at.button if b.label == "Save my answer").click().run()
    assert_no_exception(at)
    assert any(f"Saved question No. {mine}" in s.value for s in at.success)
    row = list_challenges(engine).set_index("id").loc[mine]
    assert (row["status"], row["answer"], row["answered_by"], row["owner"]) == (
        "answered", "Every flag is reviewed half-termly now.", "Test dsl, DSL", "DSL")
    assert row["due_date"] == date(2026, 12, 18) and row["answered_at"] is not None
    changes = audit_log(engine, actions=["update_challenge"])
    assert list(changes["actor"]) == ["dsl@kestrel.example.org"]
    assert changes.iloc[0]["detail"]["changes"]["status"] == ["open", "answered"]
    assert list_challenges(engine).set_index("id").loc[other, "answer"] is None
    # the board's table now says who answered and when
    shown = [t for t in at.table if "Answer" in (t.value.data if hasattr(t.value, "data") else t.value).columns]
    cell = (shown[0].value.data if hasattr(shown[0].value, "data") else shown[0].value).iloc[0]["Answer"]
    assert "Test dsl, DSL" in cell.replace("\\", "")
