"""Sending email over SMTP with the standard library, and every way it can fail as one sentence.

With SMTP_STARTTLS on (the default) the connection is encrypted before the sender, the recipients
or a password are said, and the server's certificate is checked against the system's certificate
authorities (and SMTP_CA_FILE's, when set): a server that does not offer STARTTLS, or whose
certificate cannot be checked, is sent nothing. Certificate checks are never turned off.
"""

from __future__ import annotations

import hashlib
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from settings import MailSettings

TIMEOUT_S = 30  # for connecting and for each reply: a stuck server must not hold a run for long


class SendError(Exception):
    """An email (or every email, when ``whole_connection``) could not be sent: the reason in a
    sentence for the Notifications page."""

    def __init__(self, reason: str, *, whole_connection: bool = True):
        super().__init__(reason)
        self.reason, self.whole_connection = reason, whole_connection


def message(cfg: MailSettings, *, recipient: str, subject: str, body: str, key: str) -> EmailMessage:
    """The email as sent: plain text, from MAIL_FROM, with a Message-ID made from what the email is
    (its outbox key), so a mail system that sees it twice can tell."""
    msg = EmailMessage()
    msg["From"] = formataddr((f"Safeguarding dashboard, {cfg.trust}", cfg.sender or ""))
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = (cfg.sender or "dashboard.invalid").rsplit("@", 1)[-1]
    msg["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"  # no out-of-office replies, please (RFC 3834)
    msg.set_content(body)
    return msg


class Connection:
    """One SMTP session for a batch of emails: ``with Connection(cfg) as smtp: smtp.send(msg)``.
    Raises SendError (whole_connection) when the session cannot be opened."""

    def __init__(self, cfg: MailSettings, timeout: float = TIMEOUT_S):
        self.cfg, self.timeout, self.smtp = cfg, timeout, None

    def __enter__(self) -> Connection:
        cfg = self.cfg
        if not cfg.host:
            raise SendError("No SMTP_HOST is set, so email is off.")
        if not cfg.sender:
            raise SendError("MAIL_FROM is not set: say which address the dashboard's emails come from.")
        try:
            port = int(cfg.port)
        except ValueError:
            raise SendError(f"SMTP_PORT is {cfg.port!r}: give the mail server's port as a number, such as 587.") \
                from None
        where = f"{cfg.host}:{port}"
        try:
            self.smtp = smtplib.SMTP(cfg.host, port, timeout=self.timeout)
            self.smtp.ehlo()
            if cfg.starttls:
                if not self.smtp.has_extn("starttls"):
                    raise SendError(f"The mail server at {where} does not offer STARTTLS, so nothing was sent "
                                    "unencrypted. Use a server (or port) that offers it, or, only on a network "
                                    "you trust, set SMTP_STARTTLS=0.")
                self.smtp.starttls(context=_tls(cfg))
                self.smtp.ehlo()
            if cfg.user:
                self.smtp.login(cfg.user, cfg.password or "")
        except SendError:
            self._close()
            raise
        except Exception as exc:  # noqa: BLE001 - each a sentence below
            self._close()
            raise SendError(_why(exc, where, cfg)) from exc
        return self

    def send(self, msg: EmailMessage) -> None:
        """Hand one email to the server; SendError with the reason (whole_connection when the
        session itself broke, so the rest of the batch waits too)."""
        try:
            self.smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            (code, said), = exc.recipients.values()
            raise SendError(f"The mail server refused the address {msg['To']}: {code} {_text(said)}",
                            whole_connection=False) from exc
        except smtplib.SMTPSenderRefused as exc:
            raise SendError(f"The mail server refused the sender {self.cfg.sender} (MAIL_FROM): {exc.smtp_code} "
                            f"{_text(exc.smtp_error)}") from exc
        except smtplib.SMTPResponseException as exc:
            raise SendError(f"The mail server answered {exc.smtp_code} {_text(exc.smtp_error)}",
                            whole_connection=exc.smtp_code < 500 or exc.smtp_code == 530) from exc
        except Exception as exc:  # noqa: BLE001
            raise SendError(_why(exc, f"{self.cfg.host}:{self.cfg.port}", self.cfg)) from exc

    def __exit__(self, *exc) -> None:
        self._close()

    def _close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except Exception:  # noqa: BLE001 - closing a broken session is best effort
                try:
                    self.smtp.close()
                except Exception:  # noqa: BLE001
                    pass
            self.smtp = None


def _tls(cfg: MailSettings) -> ssl.SSLContext:
    """The system's certificate authorities, and SMTP_CA_FILE's too; hostname and chain checked."""
    context = ssl.create_default_context()
    if cfg.ca_file:
        try:
            context.load_verify_locations(cafile=cfg.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise SendError(f"SMTP_CA_FILE {cfg.ca_file} could not be read as certificates ({exc}).") from exc
    return context


def _why(exc: BaseException, where: str, cfg: MailSettings) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"The mail server at {where} showed a certificate that could not be checked "
                f"({exc.verify_message or exc.reason}), so nothing was sent. If the trust signs its own, set "
                "SMTP_CA_FILE to the certificate that signed it.")
    if isinstance(exc, ssl.SSLError):
        return f"The encrypted connection to the mail server at {where} failed ({exc.reason or exc})."
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"The mail server at {where} refused SMTP_USER {cfg.user} with SMTP_PASSWORD: {exc.smtp_code} " \
               f"{_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"The mail server at {where} does not accept signing in (SMTP_USER): leave SMTP_USER out, or ask " \
               "for a port that accepts it."
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"The mail server at {where} answered {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, ConnectionRefusedError):
        return f"Nothing answered at {where}: the mail server is down, or SMTP_HOST or SMTP_PORT is wrong."
    if isinstance(exc, socket.gaierror):
        return f"No mail server is known by the name {cfg.host} (SMTP_HOST)."
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"The mail server at {where} did not answer within {TIMEOUT_S} seconds."
    if isinstance(exc, (smtplib.SMTPServerDisconnected, ConnectionError)):
        return f"The mail server at {where} closed the connection."
    if isinstance(exc, OSError):
        return f"The mail server at {where} could not be reached ({exc.strerror or exc})."
    return f"The email could not be sent ({type(exc).__name__}: {exc})."


def _text(said) -> str:
    text = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
    return " ".join(text.split())[:300]
