"""Sending the outbox to a real SMTP server on 127.0.0.1 (tests/mailserver.py): delivered and marked
sent; STARTTLS accepted with the trust's own certificate and refused in every way that should
refuse it; a server that is down keeps everything queued, tried again with back-off, and nothing
is lost; after a day of failures an email waits for a trust leader; two senders at once send each
email once. On SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from store import mail, outbox
from store.audit import utcnow
from store.schema import outbox as outbox_table
from tests.mailserver import MailServer, certificate, free_port

ROOT = Path(__file__).resolve().parents[2]


def queue_some(engine, n: int, *, to: str = "chair@trust.example.org") -> list[int]:
    ids = []
    with engine.begin() as conn:
        for i in range(n):
            ids.append(outbox.queue(conn, mail.pack_ready(name=f"Reader {i}", year="2025/26", term="Autumn"),
                                    to=f"{i}.{to}" if n > 1 else to, key=f"k{i}"))
    return ids


def rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(outbox_table).order_by(outbox_table.c.id)).mappings()]


@pytest.fixture
def server():
    with MailServer() as s:
        yield s


@contextmanager
def tls_server(folder: Path, monkeypatch, *, starttls: bool = True, trusted: bool = True,
               login: tuple[str, str] | None = None, signs_in_as: tuple[str, str] | None = None):
    """A server with a self-signed certificate that demands STARTTLS (and, with ``login``, a
    password); the dashboard pointed at it with STARTTLS on or off, its certificate ``trusted`` (as
    SMTP_CA_FILE) or not, signing in as ``signs_in_as`` (user, password) when given."""
    cert, key = certificate(folder)
    with MailServer(tls=(cert, key), require_starttls=True, login=login) as server:
        server.env(monkeypatch, starttls=starttls, ca=cert if trusted else None)
        if signs_in_as:
            monkeypatch.setenv("SMTP_USER", signs_in_as[0])
            monkeypatch.setenv("SMTP_PASSWORD", signs_in_as[1])
        yield server


def test_an_email_is_delivered_once_and_marked_sent(engine, server, monkeypatch):
    server.env(monkeypatch)
    (item,) = queue_some(engine, 1)
    done = outbox.send_pending(engine)
    assert (done.sent, done.failed, done.gave_up) == (1, 0, 0)
    (got,) = server.received
    assert got.envelope_to == ["chair@trust.example.org"] and got.to == "chair@trust.example.org"
    assert got.subject == "The board pack for Autumn 2025/26 is ready"
    assert got.message["From"] == '"Safeguarding dashboard, The trust" <dashboard@trust.example.org>'
    assert got.message["Auto-Submitted"] == "auto-generated"
    assert got.message["Message-ID"].endswith("@trust.example.org>")
    assert got.body.startswith("Hello Reader 0,") and "https://safeguarding.example.org/pack?year=2025%2F26" in got.body
    (row,) = rows(engine)
    assert row["id"] == item and row["status"] == "sent" and row["sent_at"] is not None and row["claim"] is None
    assert outbox.send_pending(engine).sent == 0 and len(server.received) == 1  # never twice


def test_starttls_with_the_trusts_own_certificate_is_accepted(engine, tmp_path, monkeypatch):
    login = ("dashboard", "s3cret-word")
    with tls_server(tmp_path, monkeypatch, login=login, signs_in_as=login) as server:
        queue_some(engine, 1)
        assert outbox.send_pending(engine).sent == 1
        assert [r.encrypted for r in server.received] == [True]


def test_starttls_on_by_default_refuses_a_server_that_does_not_offer_it(engine, server, monkeypatch):
    server.env(monkeypatch)
    monkeypatch.delenv("SMTP_STARTTLS")  # the default: on
    queue_some(engine, 1)
    done = outbox.send_pending(engine)
    assert (done.sent, done.failed) == (0, 1)
    assert "does not offer STARTTLS, so nothing was sent unencrypted" in done.reasons[0]
    assert server.received == []
    (row,) = rows(engine)
    assert (row["status"], row["attempts"]) == ("queued", 1) and "STARTTLS" in row["last_error"]


def test_a_certificate_that_cannot_be_checked_is_refused(engine, tmp_path, monkeypatch):
    with tls_server(tmp_path, monkeypatch, trusted=False) as server:  # no SMTP_CA_FILE
        queue_some(engine, 1)
        done = outbox.send_pending(engine)
        assert done.sent == 0 and "certificate that could not be checked" in done.reasons[0]
        assert "SMTP_CA_FILE" in done.reasons[0] and server.received == []


def test_a_server_that_demands_starttls_refuses_a_client_with_it_off(engine, tmp_path, monkeypatch):
    with tls_server(tmp_path, monkeypatch, starttls=False) as server:
        queue_some(engine, 1)
        done = outbox.send_pending(engine)
        assert done.sent == 0 and "530" in done.reasons[0] and server.received == []


def test_a_wrong_password_is_a_sentence_and_nothing_is_sent(engine, tmp_path, monkeypatch):
    with tls_server(tmp_path, monkeypatch, login=("dashboard", "right"), signs_in_as=("dashboard", "wrong")) as server:
        queue_some(engine, 1)
        done = outbox.send_pending(engine)
        assert done.sent == 0 and "refused SMTP_USER dashboard with SMTP_PASSWORD" in done.reasons[0]
        assert "wrong" not in done.reasons[0] and server.received == []


def test_a_refused_address_fails_alone_and_the_rest_go(engine, monkeypatch):
    with MailServer(refuse=("1.chair@trust.example.org",)) as server:
        server.env(monkeypatch)
        queue_some(engine, 3)
        done = outbox.send_pending(engine)
        assert (done.sent, done.failed) == (2, 1)
        assert sorted(r.to for r in server.received) == ["0.chair@trust.example.org", "2.chair@trust.example.org"]
        assert "refused the address 1.chair@trust.example.org: 550" in done.reasons[0]


def test_a_server_that_is_down_loses_nothing_retries_with_back_off_and_delivers_once_it_is_up(engine, monkeypatch):
    server = MailServer(port=free_port())  # not started: nothing listens there
    server.env(monkeypatch)
    queue_some(engine, 3)
    start = utcnow()
    done = outbox.send_pending(engine, now=start)
    assert (done.sent, done.failed) == (0, 3) and "Nothing answered at 127.0.0.1" in done.reasons[0]
    assert {(r["status"], r["attempts"]) for r in rows(engine)} == {("queued", 1)}
    assert all(r["next_attempt_at"] == start + timedelta(minutes=1) for r in rows(engine))
    # not tried again before its time
    assert outbox.send_pending(engine, now=start + timedelta(seconds=30)).failed == 0
    outbox.send_pending(engine, now=start + timedelta(minutes=1))
    assert {(r["attempts"], r["next_attempt_at"]) for r in rows(engine)} == {(2, start + timedelta(minutes=3))}
    assert [outbox.retry_after(n) for n in (1, 2, 3, 7, 8, 30)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 60, 60, 60)]
    with server:
        done = outbox.send_pending(engine, now=start + timedelta(minutes=3))
        assert done.sent == 3
        assert sorted(r.to for r in server.received) == [f"{i}.chair@trust.example.org" for i in range(3)]
    assert {r["status"] for r in rows(engine)} == {"sent"}


def test_after_a_day_of_failures_an_email_waits_for_a_leader_who_sends_it_again(engine, monkeypatch):
    server = MailServer(port=free_port())
    server.env(monkeypatch)
    (item,) = queue_some(engine, 1)
    start = utcnow()
    outbox.send_pending(engine, now=start)
    done = outbox.send_pending(engine, now=start + timedelta(days=1, minutes=1))
    assert done.gave_up == 1
    (row,) = rows(engine)
    assert row["status"] == "failed" and row["attempts"] == 2 and "Nothing answered" in row["last_error"]
    assert outbox.failed_count(engine) == 1
    assert outbox.send_pending(engine, now=start + timedelta(days=3)).sent == 0  # put aside, not retried
    with server:
        assert outbox.send_again(engine, [item], user="ceo@trust.example.org") == 1
        assert outbox.send_pending(engine).sent == 1 and len(server.received) == 1
    assert outbox.failed_count(engine) == 0


def test_two_senders_at_once_send_each_email_once(engine, monkeypatch):
    with MailServer(delay=0.02) as server:
        server.env(monkeypatch)
        queue_some(engine, 60)
        results = []
        threads = [threading.Thread(target=lambda: results.append(outbox.send_pending(engine))) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(r.sent for r in results) == 60
        to = [r.to for r in server.received]
        assert len(to) == 60 and len(set(to)) == 60
        assert sum(1 for r in results if r.sent) >= 2, "the senders shared the work"


def test_two_notify_commands_at_once_send_each_email_once(engine, monkeypatch):
    """Two processes of `python -m analysis notify`, as cron and a person might start together."""
    url = engine.url.render_as_string(hide_password=False)
    with MailServer(delay=0.02) as server:
        server.env(monkeypatch)
        queue_some(engine, 2 * outbox.BATCH + 20)  # more than one claim's worth each
        procs = [subprocess.Popen([sys.executable, "-m", "analysis", "notify", "--db", url], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        to = [r.to for r in server.received]
        assert len(to) == 2 * outbox.BATCH + 20 and len(set(to)) == len(to)
    assert {r["status"] for r in rows(engine)} == {"sent"}


def test_a_claim_left_by_a_run_that_died_is_taken_over_after_the_lease(engine, server, monkeypatch):
    server.env(monkeypatch)
    (item,) = queue_some(engine, 1)
    start = utcnow()
    with engine.begin() as conn:  # as a run that claimed it and then stopped would leave it
        conn.execute(outbox_table.update().values(status="sending", claim="dead", claimed_at=start))
    assert outbox.send_pending(engine, now=start + timedelta(minutes=5)).sent == 0
    assert outbox.send_pending(engine, now=start + outbox.LEASE + timedelta(seconds=1)).sent == 1
    assert len(server.received) == 1


def test_sent_emails_are_kept_a_year(engine, server, monkeypatch):
    server.env(monkeypatch)
    queue_some(engine, 1)
    outbox.send_pending(engine)
    assert outbox.prune(engine, now=utcnow() + timedelta(days=300)) == 0
    assert outbox.prune(engine, now=utcnow() + timedelta(days=366)) == 1
    assert rows(engine) == []


def test_settings_that_cannot_work_are_sentences(engine, server, monkeypatch):
    server.env(monkeypatch)
    queue_some(engine, 1)
    monkeypatch.setenv("SMTP_PORT", "five-eight-seven")
    assert "SMTP_PORT is 'five-eight-seven'" in outbox.send_pending(engine).reasons[0]
    monkeypatch.setenv("SMTP_PORT", str(server.port))
    monkeypatch.delenv("MAIL_FROM")
    later = utcnow() + timedelta(hours=2)
    assert "MAIL_FROM is not set" in outbox.send_pending(engine, now=later).reasons[0]
    monkeypatch.setenv("SMTP_HOST", "no-such-host.invalid")
    monkeypatch.setenv("MAIL_FROM", "dashboard@trust.example.org")
    assert "No mail server is known by the name no-such-host.invalid" in \
        outbox.send_pending(engine, now=later + timedelta(hours=2)).reasons[0]
    assert server.received == []


def test_the_notify_command_says_what_it_queued_and_sent_and_fails_plainly(engine, monkeypatch, capsys):
    from analysis.__main__ import main
    from store.users import add_user

    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.delenv("SMTP_HOST", raising=False)
    assert main(["notify", "--db", url]) == 0
    assert capsys.readouterr().out.strip() == "Email is off: no SMTP_HOST is set, so nothing was queued or sent."
    with pytest.raises(SystemExit) as bad:
        main(["notify", "--today", "15/01/2027"])
    assert bad.value.code == 2 and "'15/01/2027' is not a day: write it as YYYY-MM-DD" in capsys.readouterr().err

    add_user(engine, "dsl@school.example.org", role="dsl", urns=["149001"], actor="test")
    with MailServer() as server:
        server.env(monkeypatch)
        # 1 January 2027: Autumn 2026/27's returns are due in 13 days, and the school has sent none
        assert main(["notify", "--db", url, "--today", "2027-01-01"]) == 0
        out = capsys.readouterr().out
        assert out == "Queued 1 email (return due 1).\nSent 1 email.\n"
        assert [r.subject for r in server.received] == [
            "Safeguarding return due in 13 days: School 149001, Autumn 2026/27"]
        assert main(["notify", "--db", url, "--today", "2027-01-01"]) == 0
        assert capsys.readouterr().out == "Nothing new fell due.\nNothing was waiting to be sent.\n"
    # the server is down: the reminder is kept, the command says so and exits 1
    assert main(["notify", "--db", url, "--today", "2027-01-12"]) == 1
    said = capsys.readouterr()
    assert said.out == "Queued 1 email (return due 1).\nSent none.\n"
    assert said.err.startswith("1 email could not be sent and will be tried again: Nothing answered at 127.0.0.1")
    assert [r["status"] for r in rows(engine)] == ["sent", "queued"]


def test_the_email_settings_come_from_the_environment_or_the_secrets_with_safe_defaults(monkeypatch):
    import settings

    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS", "SMTP_USER", "SMTP_PASSWORD", "SMTP_CA_FILE", "MAIL_FROM",
                 "DASHBOARD_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings, "_secrets", lambda: {})
    off = settings.mail()
    assert not off.on and off.port == "587" and off.starttls and off.sender is None and off.dashboard_url is None
    monkeypatch.setattr(settings, "_secrets", lambda: {
        "SMTP_HOST": "smtp.example.org", "SMTP_PORT": 2525, "smtp_starttls": 0, "SMTP_USER": "robot@example.org",
        "SMTP_PASSWORD": "hunter2-long", "DASHBOARD_URL": "https://dash.example.org/"})
    on = settings.mail()
    assert (on.on, on.host, on.port, on.starttls) == (True, "smtp.example.org", "2525", False)
    assert on.sender == "robot@example.org"  # MAIL_FROM defaults to SMTP_USER when that is an address
    assert on.dashboard_url == "https://dash.example.org"
    assert "hunter2" not in repr(on)  # the password never reaches a log
    monkeypatch.setenv("MAIL_FROM", "dashboard@example.org")
    monkeypatch.setenv("SMTP_STARTTLS", "yes")
    assert settings.mail().sender == "dashboard@example.org" and settings.mail().starttls
