"""One conversation with the mail server: connect (STARTTLS, SSL or plain), log in, hand over
one message for some recipients, and say what the server answered, in words."""
from __future__ import annotations

import dataclasses
import smtplib
import socket
import ssl

from core.mail.settings import SmtpSettings

TIMEOUT_S = 20


@dataclasses.dataclass
class Delivery:
    """What the server did with one message: the recipients it took, those it refused (with
    its answer), and `trouble` when the whole message could not be handed over."""
    accepted: list[str]
    refused: dict[str, str]
    trouble: str | None = None
    answer: str = ""


def _answer(code, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(str(text).split())}".strip()


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT_S,
                                context=ssl.create_default_context())
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_S)
    if settings.security == "starttls":
        smtp.starttls(context=ssl.create_default_context())
    return smtp


def deliver(settings: SmtpSettings, password: str | None, message: str,
            recipients: list[str]) -> Delivery:
    """Hand `message` (the whole mail as text) to the server for `recipients`."""
    where = f"{settings.host}:{settings.port}"
    try:
        smtp = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        return Delivery([], {}, f"the mail server {where} could not be reached ({_reason(exc)})")
    try:
        smtp.ehlo_or_helo_if_needed()
        if settings.user:
            if not password:
                return Delivery([], {}, "the mail server needs a password for "
                                f"{settings.user}: set `IMS_SMTP_PASSWORD` or `smtp_password` in "
                                "`.streamlit/secrets.toml`")
            smtp.login(settings.user, password)
        code, text = smtp.mail(settings.from_address)
        if code != 250:
            return Delivery([], {}, f"the mail server refused the sender "
                            f"{settings.from_address} ({_answer(code, text)})")
        accepted, refused = [], {}
        for address in recipients:
            code, text = smtp.rcpt(address)
            if code in (250, 251):
                accepted.append(address)
            else:
                refused[address] = _answer(code, text)
        if not accepted:
            smtp.rset()
            return Delivery([], refused)
        wire = message.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
        code, text = smtp.data(wire)
        if code != 250:
            return Delivery([], {}, f"the mail server did not take the message "
                            f"({_answer(code, text)})")
        return Delivery(accepted, refused, None, _answer(code, text))
    except smtplib.SMTPAuthenticationError as exc:
        return Delivery([], {}, f"the mail server refused the login of {settings.user} "
                        f"({_answer(exc.smtp_code, exc.smtp_error)})")
    except (OSError, smtplib.SMTPException) as exc:
        return Delivery([], {}, f"the mail server {where} broke off ({_reason(exc)})")
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _reason(exc: Exception) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused: is it running?"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"no answer within {TIMEOUT_S} s"
    if isinstance(exc, socket.gaierror):
        return "no such host name"
    if isinstance(exc, ssl.SSLError):
        return f"secure connection failed: {exc.reason or exc}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return _answer(exc.smtp_code, exc.smtp_error)
    return str(exc) or type(exc).__name__
