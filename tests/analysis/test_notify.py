"""What falls due by date, queued by analysis.notify: return reminders 14 and 3 days before the
deadline while a school has not returned, late returns the day after it, action reminders, the
weekly digest; each once, on time or a few days late, never for an old term, and a DSL never
about another school. On SQLite and PostgreSQL, for a small trust built by hand; the digest's new
red gaps on the sample trust."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from analysis.notify import as_at, last_week, queue_due, week_of
from store import outbox
from store.challenges import add_challenge, update_challenge
from store.returns import save_return
from store.schema import outbox as outbox_table
from store.users import add_user
from tests.helpers.returns import make_report

A, B, C = "149001", "149002", "149003"
NAMES = {A: "Brackenfold Primary Academy", B: "Heron Bridge Academy", C: "Copperbeech School"}
# Autumn 2026/27 ends on 31 December 2026; with the default 14 days, its returns are due on 14 January 2027.
DUE = date(2027, 1, 14)


@pytest.fixture
def mail_on(monkeypatch):
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MAIL_FROM", "dashboard@trust.example.org")
    monkeypatch.setenv("DASHBOARD_URL", "https://safeguarding.example.org")


def store(engine, urn, year="2025/26", term="Summer", at=None):
    report, content = make_report(urn, year, term, name=NAMES[urn])
    return save_return(engine, report, content, user="data officer", source="command line", submitted_at=at)


@pytest.fixture
def trust(engine, mail_on):
    """Three schools that all returned for Summer 2025/26, so each is expected for Autumn 2026/27;
    a DSL for A, one for B (none for C), two trust leaders and a trustee."""
    for urn in (A, B, C):
        store(engine, urn, at=datetime(2026, 8, 1, 9))
    add_user(engine, "dsl@a.example.org", role="dsl", urns=[A], name="Ash Ames", actor="test")
    add_user(engine, "dsl@b.example.org", role="dsl", urns=[B], actor="test")
    add_user(engine, "ceo@trust.example.org", role="trust_leader", name="Alex Carter", actor="test")
    add_user(engine, "officer@trust.example.org", role="trust_leader", actor="test")
    add_user(engine, "chair@trust.example.org", role="trustee", actor="test")
    with engine.begin() as conn:
        conn.execute(outbox_table.delete())  # the receipts of the set-up
    return engine


def emails(engine, since: int = 0) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(outbox_table).where(outbox_table.c.id > since)
                                              .order_by(outbox_table.c.id)).mappings()]


def last_id(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.coalesce(sa.func.max(outbox_table.c.id), 0))).scalar()


def on(engine, day: date, *kinds: str) -> list[tuple[str, str, str]]:
    """Run as notify would on ``day``: (kind, recipient, subject) of what was newly queued (of
    these kinds, when given)."""
    since = last_id(engine)
    queue_due(engine, day)
    return [(e["kind"], e["recipient"], e["subject"]) for e in emails(engine, since) if not kinds or e["kind"] in kinds]


def test_return_reminders_14_then_3_days_ahead_while_the_school_has_not_returned(trust):
    assert on(trust, DUE - timedelta(days=15)) == []
    assert sorted(on(trust, DUE - timedelta(days=14))) == [
        ("return_due", "dsl@a.example.org", f"Safeguarding return due in 14 days: {NAMES[A]}, Autumn 2026/27"),
        ("return_due", "dsl@b.example.org", f"Safeguarding return due in 14 days: {NAMES[B]}, Autumn 2026/27"),
    ]
    assert on(trust, DUE - timedelta(days=14)) == []  # every few minutes: each once
    assert on(trust, DUE - timedelta(days=5)) == []
    store(trust, A, "2026/27", "Autumn", at=datetime(2027, 1, 10, 9))  # A returns before the second reminder
    assert on(trust, DUE - timedelta(days=3), "return_due") == [
        ("return_due", "dsl@b.example.org", f"Safeguarding return due in 3 days: {NAMES[B]}, Autumn 2026/27")]
    assert on(trust, DUE, "return_due") == [] and on(trust, DUE - timedelta(days=1), "return_due") == []
    (first,) = [e for e in emails(trust) if e["recipient"] == "dsl@b.example.org"][:1]
    assert "due on Thursday 14 January 2027, in 14 days" in first["body"]
    assert "https://safeguarding.example.org/upload?year=2026%2F27&term=Autumn" in first["body"]
    assert first["urn"] == B


def test_a_run_missed_for_days_sends_the_reminder_due_now_and_not_the_stale_one(trust):
    assert sorted(k for k, *_ in on(trust, DUE - timedelta(days=2))) == ["return_due", "return_due"]
    assert {e["subject"].split(":")[0] for e in emails(trust)} == {"Safeguarding return due in 2 days"}
    assert "due on Thursday 14 January 2027, in 2 days" in emails(trust)[0]["body"]


def test_the_day_after_the_deadline_each_leader_gets_one_email_listing_the_schools_not_in(trust):
    store(trust, A, "2026/27", "Autumn", at=datetime(2027, 1, 12, 9))
    assert on(trust, DUE, "late") == []  # the deadline day itself is still on time
    late = on(trust, DUE + timedelta(days=1), "late")
    assert sorted(late) == [("late", to, "Returns late for Autumn 2026/27: 2 schools")
                            for to in ("ceo@trust.example.org", "officer@trust.example.org")]
    body = emails(trust)[-1]["body"]
    assert f"  - {NAMES[C]}" in body and f"  - {NAMES[B]}" in body and NAMES[A] not in body
    assert "https://safeguarding.example.org/returns?year=2026%2F27&term=Autumn" in body
    assert on(trust, DUE + timedelta(days=2), "late") == []


def test_a_late_email_is_sent_a_few_days_late_but_never_for_an_old_term(trust):
    assert [k for k, *_ in on(trust, DUE + timedelta(days=7), "late")] == ["late", "late"]
    fresh = emails(trust)
    with trust.begin() as conn:
        conn.execute(outbox_table.delete())
    assert on(trust, DUE + timedelta(days=8), "late") == [] and fresh


def test_every_school_in_means_no_late_email(trust):
    for urn in (A, B, C):
        store(trust, urn, "2026/27", "Autumn", at=datetime(2027, 1, 12, 9))
    assert on(trust, DUE + timedelta(days=1), "late") == []


def test_an_action_is_announced_7_days_ahead_and_once_overdue_to_its_schools_dsls(trust):
    item = add_challenge(trust, urn=A, theme="neglect", rule="neglect_drift", indicator="", academic_year="2025/26",
                         term="Summer", finding="f", question="q", asked_by="Chair", meeting_date=date(2026, 9, 20),
                         user="chair", action="Review the flags", owner="DSL", due_date=date(2026, 10, 20))
    with trust.begin() as conn:
        conn.execute(outbox_table.delete())  # the email about the question itself
    assert on(trust, date(2026, 10, 12)) == []
    assert on(trust, date(2026, 10, 13)) == [
        ("action_due", "dsl@a.example.org", f"Action due in 7 days: {NAMES[A]} (board question No. {item})")]
    assert on(trust, date(2026, 10, 20)) == []
    assert on(trust, date(2026, 10, 21)) == [
        ("action_overdue", "dsl@a.example.org", f"Action overdue: {NAMES[A]} (board question No. {item})")]
    assert "(Neglect) was due on Tuesday 20 October 2026" in emails(trust)[-1]["body"]
    # a new due date is a new reminder; a closed question is left alone
    update_challenge(trust, item, user="chair", due_date=date(2026, 11, 1))
    assert [k for k, *_ in on(trust, date(2026, 10, 27))] == ["action_due"]
    update_challenge(trust, item, user="chair", status="closed")
    assert on(trust, date(2026, 11, 2)) == []


def test_a_dsl_is_told_only_about_their_own_school(trust):
    add_user(trust, "dsl@both.example.org", role="dsl", urns=[A, C], actor="test")
    for day in (DUE - timedelta(days=14), DUE - timedelta(days=3), DUE + timedelta(days=1)):
        on(trust, day)
    for e in emails(trust):
        if e["recipient"].startswith("dsl@"):
            held = {"dsl@a.example.org": {A}, "dsl@b.example.org": {B}, "dsl@both.example.org": {A, C}}[e["recipient"]]
            assert e["urn"] in held
            assert not [name for urn, name in NAMES.items() if urn != e["urn"] and name in e["subject"] + e["body"]]
    both = [e["urn"] for e in emails(trust) if e["recipient"] == "dsl@both.example.org"]
    assert sorted(both) == [A, A, C, C]  # one email per school, never one about both


def test_the_weekly_digest_goes_once_a_week_to_leaders_who_keep_it_on(trust):
    store(trust, A, "2026/27", "Autumn", at=datetime(2027, 1, 12, 10))  # Tuesday of the week 11 to 17 January
    outbox.set_weekly_digest(trust, "officer@trust.example.org", False, actor="officer@trust.example.org")
    monday = date(2027, 1, 18)
    got = on(trust, monday, "digest") + on(trust, monday + timedelta(days=3), "digest")
    assert got == [("digest", "ceo@trust.example.org", "Safeguarding dashboard: the week of 11 January 2027")]
    body = next(e["body"] for e in emails(trust) if e["kind"] == "digest")
    assert "from Monday 11 January 2027 to Sunday 17 January 2027" in body
    assert f"Returns stored: 1\n  - {NAMES[A]}, Autumn 2026/27 (version 1)" in body
    assert "Autumn 2026/27: 1 of 3 schools have returned (deadline Thursday 14 January 2027)" in body
    assert "Turn the weekly digest on or off on My account: https://safeguarding.example.org/account" in body


def test_a_quiet_week_sends_no_digest(trust):
    assert on(trust, date(2026, 10, 12), "digest") == []


def test_with_email_off_nothing_is_queued(trust, monkeypatch):
    monkeypatch.delenv("SMTP_HOST")
    assert queue_due(trust, DUE + timedelta(days=1)) == {} and emails(trust) == []


def test_week_of_is_the_monday_to_sunday_before():
    assert week_of(date(2027, 1, 18)) == (date(2027, 1, 11), date(2027, 1, 17))
    assert week_of(date(2027, 1, 24)) == (date(2027, 1, 11), date(2027, 1, 17))
    assert week_of(date(2027, 1, 25)) == (date(2027, 1, 18), date(2027, 1, 24))


# ---- The digest on the sample trust --------------------------------------------------------------

@pytest.fixture
def sample(sample_engine, tmp_path):
    from store.db import dispose, make_engine
    from store.upgrades import copy_sqlite, sqlite_file

    path = tmp_path / "sample.db"
    copy_sqlite(sqlite_file(sample_engine), path)  # its WAL too
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    dispose(engine)


def test_the_week_a_deadline_passes_a_missing_return_is_a_new_red_gap_and_only_that_week(sample):
    """Saltwhistle Lane made no return for Autumn 2025/26, due on 14 January 2026: the week of 12
    January it becomes a red gap, new that week; the week after it is not new."""
    from analysis.dataset import load_dataset
    from store.challenges import list_challenges

    data = load_dataset(sample)
    week = last_week(data, {}, list_challenges(sample), date(2026, 1, 19))
    assert ("Saltwhistle Lane Primary School", "Oversight and data quality") in week.new_red
    returned = {name for name, label, _ in week.returns_in}
    assert all(label == "Autumn 2025/26" for _, label, _ in week.returns_in) and returned
    assert "Saltwhistle Lane Primary School" not in returned
    assert week.collecting[:2] == ("2025/26", "Autumn") and week.collecting[3] == 12
    after = last_week(data, {}, list_challenges(sample), date(2026, 1, 26))
    assert ("Saltwhistle Lane Primary School", "Oversight and data quality") not in after.new_red


def test_the_trust_as_it_stood_holds_only_the_returns_stored_by_then(sample):
    from analysis.dataset import load_dataset

    data = load_dataset(sample)
    then = as_at(data, datetime(2025, 6, 1))
    assert set(then.returns["academic_year"]) == {"2024/25"} and set(then.returns["term"]) == {"Autumn", "Spring"}
    assert set(then.values["term"]) == {"Autumn", "Spring"} and set(then.values["academic_year"]) == {"2024/25"}
    assert len(then.schools) == len(data.schools)
