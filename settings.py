"""Every setting the product reads, in one place.

Each comes from the environment first, then `.streamlit/secrets.toml`, then a default that runs
on a fresh machine: a SQLite file under the git-ignored `data/` folder.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SECRETS_FILE = ROOT / ".streamlit" / "secrets.toml"


@lru_cache(maxsize=1)
def _secrets() -> dict:
    try:
        with SECRETS_FILE.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def get(name: str, default=None):
    """A setting by its upper-case name: environment, then secrets.toml (either case), then default."""
    if name in os.environ:
        return os.environ[name]
    secrets = _secrets()
    for key in (name, name.lower()):
        if key in secrets:
            return secrets[key]
    return default


def data_dir() -> Path:
    return Path(get("DATA_DIR", ROOT / "data"))


def database_url() -> str:
    """DATABASE_URL, or the embedded SQLite file in the data folder."""
    url = get("DATABASE_URL")
    if url:
        return str(url)
    return f"sqlite:///{data_dir() / 'dashboard.db'}"


def max_upload_bytes() -> int:
    """The largest return accepted; a real return is well under 100 KB."""
    return int(float(get("MAX_UPLOAD_MB", 5)) * 1024 * 1024)


def load_sample_on_first_start() -> bool:
    return str(get("LOAD_SAMPLE", "1")).lower() not in ("0", "false", "no")


def allowed_email_domains() -> frozenset[str]:
    """ALLOWED_EMAIL_DOMAINS: the email domains single sign-on may let in; empty lets in any.

    A guard against a mis-set tenant: an address outside these is refused even when a user with
    it exists. Commas or spaces between domains (a list in secrets.toml works too); each domain
    is matched whole, so a subdomain must be listed itself.
    """
    value = get("ALLOWED_EMAIL_DOMAINS")
    auth = _secrets().get("auth")
    if value is None and isinstance(auth, dict):  # written below the [auth] line: read it there
        value = auth.get("ALLOWED_EMAIL_DOMAINS", auth.get("allowed_email_domains"))
    value = "" if value is None else value
    parts = value if isinstance(value, (list, tuple)) else str(value).replace(",", " ").split()
    return frozenset(d.strip().lstrip("@").lower() for d in map(str, parts) if d.strip().lstrip("@"))


def session_idle_hours() -> float:
    """SESSION_IDLE_HOURS: how long a sign-in lasts without being used (default 8 hours)."""
    try:
        hours = float(get("SESSION_IDLE_HOURS", 8))
    except (TypeError, ValueError):
        return 8.0
    return hours if hours > 0 else 8.0


def trusted_proxies() -> tuple[str, ...]:
    """TRUSTED_PROXIES: the reverse proxies (addresses or networks, e.g. "10.0.0.5, 10.1.0.0/16")
    whose X-Forwarded-For and X-Forwarded-Proto headers are believed. Commas or spaces between
    them (a list in secrets.toml works too). ui/serving.py reads them as networks."""
    value = get("TRUSTED_PROXIES") or ""
    parts = value if isinstance(value, (list, tuple)) else str(value).replace(",", " ").split()
    return tuple(str(p).strip() for p in parts if str(p).strip())


# ---- Email ---------------------------------------------------------------------------------------

_OFF = ("0", "false", "no", "off")


@dataclass(frozen=True)
class MailSettings:
    host: str | None
    port: str  # as given: checked when a connection is made, so a mistake is a sentence, not a crash
    starttls: bool
    user: str | None
    password: str | None
    ca_file: str | None
    sender: str | None
    dashboard_url: str | None
    trust: str

    @property
    def on(self) -> bool:
        return self.host is not None

    def __repr__(self) -> str:  # never the password, in a log or a traceback
        return f"MailSettings(host={self.host!r}, port={self.port!r}, starttls={self.starttls}, user={self.user!r})"


def mail() -> MailSettings:
    """How email is sent (README, "Email"). With no SMTP_HOST nothing is queued or sent.

    SMTP_HOST, SMTP_PORT (default 587), SMTP_STARTTLS (default on: the connection is encrypted
    before anything else is said, and the server's certificate is checked), SMTP_USER and
    SMTP_PASSWORD (to sign in to the server, when it asks), SMTP_CA_FILE (a certificate authority
    to trust besides the system's, for a server with the trust's own certificate), MAIL_FROM (the
    sender; default SMTP_USER when that is an address) and DASHBOARD_URL (the dashboard's address,
    for the links in every email; without it an email names the page instead).
    """
    host = str(get("SMTP_HOST") or "").strip() or None
    user = str(get("SMTP_USER") or "").strip() or None
    sender = str(get("MAIL_FROM") or "").strip() or (user if user and "@" in user else None)
    return MailSettings(
        host=host, port=str(get("SMTP_PORT") or "587").strip(),
        starttls=str(get("SMTP_STARTTLS", "1")).strip().lower() not in _OFF,
        user=user, password=None if get("SMTP_PASSWORD") in (None, "") else str(get("SMTP_PASSWORD")),
        ca_file=str(get("SMTP_CA_FILE") or "").strip() or None, sender=sender,
        dashboard_url=str(get("DASHBOARD_URL") or "").strip().rstrip("/") or None,
        trust=str(get("TRUST_NAME", "The trust")),
    )
