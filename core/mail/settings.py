"""The mail server's settings: host, port, security, user and from-address in the store's
settings rows; the password only from the environment (`IMS_SMTP_PASSWORD`) or
`.streamlit/secrets.toml` (`smtp_password`), never the store."""
from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from pathlib import Path

from core.store import get_setting, put_setting

SECURITIES = {"starttls": "STARTTLS", "ssl": "SSL/TLS", "none": "none (plain)"}
PASSWORD_ENV = "IMS_SMTP_PASSWORD"
SECRETS_FILE = Path(".streamlit") / "secrets.toml"
SECRETS_KEY = "smtp_password"
EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_KEYS = ("smtp_host", "smtp_port", "smtp_security", "smtp_user", "smtp_from")


class MailSettingsError(ValueError):
    """A mail setting that cannot be used; the message names the field."""


@dataclasses.dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 587
    security: str = "starttls"          # starttls | ssl | none
    user: str = ""
    from_address: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.host and self.from_address)


def email_problem(address: str) -> str | None:
    """Why `address` is not an e-mail address, in words, or None."""
    if not EMAIL_RE.match(str(address or "").strip()):
        return f"'{address}' is not an e-mail address (name@example.com)"
    return None


def read_smtp_settings(con) -> SmtpSettings:
    values = {k: get_setting(con, k) for k in _KEYS}
    try:
        port = int(values["smtp_port"] or 587)
    except ValueError:
        port = 587
    return SmtpSettings(host=values["smtp_host"] or "", port=port,
                        security=values["smtp_security"] or "starttls",
                        user=values["smtp_user"] or "", from_address=values["smtp_from"] or "")


def save_smtp_settings(con, settings: SmtpSettings, actor: str = "") -> SmtpSettings:
    """Check and keep the settings (one transaction is the caller's; `actor`: who, for the
    action log); raises MailSettingsError naming the field."""
    host = settings.host.strip()
    if not host or any(c.isspace() for c in host):
        raise MailSettingsError("Host: give the mail server's name, e.g. smtp.example.com")
    try:
        port = int(settings.port)
    except (TypeError, ValueError):
        raise MailSettingsError(f"Port: '{settings.port}' is not a number") from None
    if not 1 <= port <= 65535:
        raise MailSettingsError(f"Port: {port} is outside 1 to 65535")
    if settings.security not in SECURITIES:
        raise MailSettingsError("Security: choose STARTTLS, SSL/TLS or none")
    problem = email_problem(settings.from_address)
    if problem:
        raise MailSettingsError(f"From address: {problem}")
    clean = SmtpSettings(host, port, settings.security, settings.user.strip(),
                         settings.from_address.strip())
    for key, value in zip(_KEYS, (clean.host, clean.port, clean.security, clean.user,
                                  clean.from_address), strict=True):
        put_setting(con, key, str(value))
    if actor:
        con.execute("INSERT INTO action_log (actor, kind, note) VALUES (?, 'settings', ?)",
                    [actor, (f"mail server {clean.host}:{clean.port} ({clean.security}), "
                             f"user {clean.user or 'none'}, from {clean.from_address}")])
    return clean


def smtp_password() -> tuple[str | None, str]:
    """(the password, where it comes from in words), or (None, "") when none is set."""
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password, f"`{PASSWORD_ENV}` in the environment"
    try:
        with SECRETS_FILE.open("rb") as f:
            password = tomllib.load(f).get(SECRETS_KEY)
    except (OSError, tomllib.TOMLDecodeError):
        password = None
    if password:
        return str(password), f"`{SECRETS_KEY}` in `{SECRETS_FILE}`"
    return None, ""
