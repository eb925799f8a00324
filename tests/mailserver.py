"""A real SMTP server on 127.0.0.1 for the tests (aiosmtpd, pinned in requirements.txt): it keeps
every email it accepts, can demand STARTTLS and a password, and can be slow or down.

Not a test module: the tests of the outbox, the notify command and the pages import it.
"""

from __future__ import annotations

import asyncio
import email
import ssl
import threading
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.helpers.network import certificate, free_port

__all__ = ["MailServer", "Received", "certificate", "free_port"]


@dataclass
class Received:
    envelope_to: list[str]
    message: Message
    encrypted: bool  # it came over a connection secured with STARTTLS

    @property
    def to(self) -> str:
        return self.message["To"]

    @property
    def subject(self) -> str:
        return " ".join(str(self.message["Subject"]).split())

    @property
    def body(self) -> str:
        return self.message.get_payload(decode=True).decode("utf-8")


class _Keeper:
    def __init__(self, server: MailServer):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):  # noqa: ARG002 - aiosmtpd's handler signature
        if self.server.delay:
            await asyncio.sleep(self.server.delay)
        with self.server.lock:
            self.server.received.append(Received(list(envelope.rcpt_tos), email.message_from_bytes(
                envelope.original_content or envelope.content), session.ssl is not None))
        return "250 Message accepted for delivery"

    async def handle_RCPT(self, smtp, session, envelope, address, options):  # noqa: ARG002 - as handle_DATA
        if address in self.server.refuse:
            return "550 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class MailServer:
    """``with MailServer() as server: ...``; ``server.received`` holds what arrived. ``tls`` (cert,
    key) offers STARTTLS, ``require_starttls`` demands it; ``login`` (user, password) demands
    signing in; ``delay`` seconds per email; ``refuse`` addresses answered 550."""

    def __init__(self, *, port: int | None = None, tls: tuple[Path, Path] | None = None,
                 require_starttls: bool = False, login: tuple[str, str] | None = None, delay: float = 0,
                 refuse: tuple[str, ...] = ()):
        self.port = port or free_port()
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.delay, self.refuse = delay, set(refuse)
        kwargs = {}
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            kwargs |= {"tls_context": context, "require_starttls": require_starttls}
        if login:
            def check(smtp, session, envelope, mechanism, auth_data):
                ok = (auth_data.login.decode(), auth_data.password.decode()) == login
                return AuthResult(success=ok, handled=False)
            kwargs |= {"authenticator": check, "auth_required": True, "auth_require_tls": bool(tls)}
        self.controller = Controller(_Keeper(self), hostname="127.0.0.1", port=self.port, **kwargs)

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def env(self, monkeypatch, *, starttls: bool = False, ca: Path | None = None) -> None:
        """Point the dashboard's settings at this server."""
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(self.port))
        monkeypatch.setenv("SMTP_STARTTLS", "1" if starttls else "0")
        monkeypatch.setenv("MAIL_FROM", "dashboard@trust.example.org")
        monkeypatch.setenv("DASHBOARD_URL", "https://safeguarding.example.org")
        if ca is not None:
            monkeypatch.setenv("SMTP_CA_FILE", str(ca))
        else:
            monkeypatch.delenv("SMTP_CA_FILE", raising=False)
