"""The outbox: an email is queued in the same transaction as the change that causes it (so a change
rolled back sends nothing), once per email, to the right people only; with no SMTP_HOST nothing
is queued at all. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from store import outbox
from store.access import DSL, TRUST_LEADER, TRUSTEE, Scope
from store.challenges import ChallengeError, add_challenge
from store.packs import record_pack
from store.returns import save_return
from store.schema import challenges, returns
from store.schema import outbox as outbox_table
from store.users import add_user, remove_user

MINE, OTHER = "149001", "149002"


@pytest.fixture
def mail_on(monkeypatch):
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MAIL_FROM", "dashboard@trust.example.org")
    monkeypatch.setenv("DASHBOARD_URL", "https://safeguarding.example.org")


@pytest.fixture
def people(engine):
    add_user(engine, "dsl@mine.example.org", role="dsl", urns=[MINE], name="Morgan Fairweather", actor="test")
    add_user(engine, "deputy@mine.example.org", role="dsl", urns=[MINE], actor="test")
    add_user(engine, "dsl@other.example.org", role="dsl", urns=[OTHER], actor="test")
    add_user(engine, "ceo@trust.example.org", role="trust_leader", actor="test")
    add_user(engine, "chair@trust.example.org", role="trustee", name="Sam Patel", actor="test")
    add_user(engine, "vice@trust.example.org", role="trustee", actor="test")
    return engine


def emails(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(outbox_table).order_by(outbox_table.c.id)).mappings()]


def store(engine, report_factory, urn=MINE, **kw):
    report, content = report_factory(urn=urn, name=f"School {urn}", **kw)
    return save_return(engine, report, content, user="dsl@mine.example.org")


def test_a_stored_return_queues_a_receipt_to_its_schools_dsls_only(people, report_factory, mail_on):
    saved = store(people, report_factory, queries=2)
    sent = emails(people)
    assert sorted(e["recipient"] for e in sent) == ["deputy@mine.example.org", "dsl@mine.example.org"]
    assert {(e["kind"], e["urn"], e["status"]) for e in sent} == {("receipt", MINE, "queued")}
    first = next(e for e in sent if e["recipient"] == "dsl@mine.example.org")
    assert first["subject"] == f"Return stored: School {MINE}, Autumn 2025/26 (version 1)"
    assert first["body"].startswith("Hello Morgan Fairweather,")
    assert "Errors: none" in first["body"] and "Queries open: 2 without an explanation yet" in first["body"]
    assert "https://safeguarding.example.org/returns?year=2025%2F26&term=Autumn" in first["body"]
    # a second version is a second receipt
    store(people, report_factory, seed=2)
    assert len(emails(people)) == 4 and saved.version == 1


def test_a_return_that_is_rolled_back_sends_no_receipt(people, report_factory, mail_on, monkeypatch):
    """The receipt is written in the return's own transaction: when anything after it fails, neither stays."""
    real = outbox.queue_receipt

    def then_fail(conn, **kw):
        real(conn, **kw)
        assert emails_in(conn), "queued inside the transaction"
        raise RuntimeError("the disk filled up just then")

    monkeypatch.setattr(outbox, "queue_receipt", then_fail)
    with pytest.raises(RuntimeError):
        store(people, report_factory)
    with people.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(returns)).scalar() == 0
    assert emails(people) == []


def emails_in(conn) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(outbox_table)).scalar()


def test_with_no_smtp_host_nothing_is_queued_and_the_return_is_stored_as_ever(people, report_factory, monkeypatch):
    monkeypatch.delenv("SMTP_HOST", raising=False)
    saved = store(people, report_factory)
    assert saved.version == 1 and emails(people) == []
    assert outbox.send_pending(people).sent == 0


def test_a_question_raised_emails_the_schools_dsls_and_a_refused_one_emails_nobody(people, report_factory, mail_on):
    store(people, report_factory)
    before = len(emails(people))
    item = add_challenge(people, urn=MINE, theme="neglect", rule="neglect_drift", indicator="", academic_year="2025/26",
                         term="Autumn", finding="Flags stay on monitoring for 3 children.",
                         question="Why are 2 children still on monitoring?", asked_by="Chair",
                         meeting_date=date(2026, 1, 20), user="chair@trust.example.org")
    new = emails(people)[before:]
    assert sorted(e["recipient"] for e in new) == ["deputy@mine.example.org", "dsl@mine.example.org"]
    assert {e["kind"] for e in new} == {"question"}
    for e in new:
        assert e["subject"] == f"The board asked a question about School {MINE} (No. {item})"
        # neither the finding nor the question travels: they can hold counts of children
        assert "monitoring" not in e["body"] and "children" not in e["body"].split("--")[0]
        assert "Tuesday 20 January 2026" in e["body"]
    with pytest.raises(ChallengeError):  # no such school: nothing stored, nothing queued
        add_challenge(people, urn="999999", theme="neglect", rule="r", indicator="", academic_year="2025/26",
                      term="Autumn", finding="f", question="q", asked_by="Chair", meeting_date=date(2026, 1, 20),
                      user="x")
    assert len(emails(people)) == before + 2


def test_a_dsl_cannot_raise_a_question(people, report_factory, mail_on):
    from store.challenges import NotYours

    store(people, report_factory)
    with pytest.raises(NotYours, match="Only trust leaders and trustees"):
        add_challenge(people, urn=MINE, theme="neglect", rule="r", indicator="", academic_year="2025/26", term="Autumn",
                      finding="f", question="q", asked_by="me", meeting_date=date(2026, 1, 20), user="dsl@mine",
                      scope=Scope(DSL, "dsl@mine.example.org", frozenset({MINE}), suppress=False))
    with people.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(challenges)).scalar() == 0


def test_the_trustees_pack_tells_each_trustee_once_a_term_and_a_leaders_pack_nobody(people, mail_on):
    record_pack(people, user="ceo@trust.example.org", academic_year="2025/26", term="Autumn", fmt="pdf",
                reader="leader")
    assert emails(people) == []
    for fmt in ("pdf", "html", "xlsx"):  # made three times, told once
        record_pack(people, user="ceo@trust.example.org", academic_year="2025/26", term="Autumn", fmt=fmt,
                    reader="trustee")
    told = emails(people)
    assert sorted(e["recipient"] for e in told) == ["chair@trust.example.org", "vice@trust.example.org"]
    assert {e["subject"] for e in told} == {"The board pack for Autumn 2025/26 is ready"}
    assert "https://safeguarding.example.org/pack?year=2025%2F26&term=Autumn" in told[0]["body"]
    record_pack(people, user="ceo@trust.example.org", academic_year="2025/26", term="Spring", fmt="pdf",
                reader="trustee")
    assert len(emails(people)) == 4


def test_removed_people_are_not_written_to(people, report_factory, mail_on):
    remove_user(people, "deputy@mine.example.org", actor="test")
    store(people, report_factory)
    assert [e["recipient"] for e in emails(people)] == ["dsl@mine.example.org"]


def test_the_same_email_is_queued_once(people, mail_on):
    from store import mail

    m = mail.pack_ready(name=None, year="2025/26", term="Autumn")
    with people.begin() as conn:
        first = outbox.queue(conn, m, to="chair@trust.example.org", key="k")
        again = outbox.queue(conn, m, to="chair@trust.example.org", key="k")
        other = outbox.queue(conn, m, to="vice@trust.example.org", key="k")
    assert first is not None and again is None and other not in (None, first)
    with people.connect() as conn:
        asked = [outbox.Person("chair@trust.example.org", None), outbox.Person("x@y.org", None)]
        assert outbox.missing(conn, "pack_ready", "k", asked) == [outbox.Person("x@y.org", None)]


def test_recipients_by_role_and_the_weekly_digest_choice(people):
    with people.connect() as conn:
        assert [p.email for p in outbox.people(conn, TRUST_LEADER, digest=True)] == ["ceo@trust.example.org"]
        assert [p.email for p in outbox.people(conn, TRUSTEE)] == ["chair@trust.example.org", "vice@trust.example.org"]
        assert {u: [p.email for p in ps] for u, ps in outbox.dsl_schools(conn).items()} == {
            MINE: ["deputy@mine.example.org", "dsl@mine.example.org"], OTHER: ["dsl@other.example.org"]}
    assert outbox.weekly_digest(people, "ceo@trust.example.org") is True
    assert outbox.set_weekly_digest(people, "CEO@trust.example.org", False, actor="ceo@trust.example.org")
    assert not outbox.set_weekly_digest(people, "ceo@trust.example.org", False, actor="ceo@trust.example.org")
    with people.connect() as conn:
        assert outbox.people(conn, TRUST_LEADER, digest=True) == []
    from store.audit import audit_log
    log = audit_log(people, actions=[outbox.SET_DIGEST])
    assert list(log["detail"]) == [{"email": "ceo@trust.example.org", "old": True, "new": False}]
    with pytest.raises(LookupError):
        outbox.set_weekly_digest(people, "nobody@trust.example.org", True, actor="x")


def test_deleting_a_school_deletes_the_emails_about_it(people, report_factory, mail_on):
    from store.deletion import delete_school

    store(people, report_factory)
    store(people, report_factory, urn=OTHER)
    counts = delete_school(people, MINE, user="ceo@trust.example.org")
    assert counts["emails"] == 2
    assert [e["urn"] for e in emails(people)] == [OTHER]
