"""E-mail that really goes out: the mail server's settings, sending with a log of every mail,
retries by the worker, the test mail (docs/mail.md).

- core/mail/settings.py: host, port, security, user, from-address; the password from
  IMS_SMTP_PASSWORD or `.streamlit/secrets.toml` (smtp_password), never the store;
- core/mail/transport.py: one conversation with the server, its answer in words;
- core/mail/outbox.py: `send_mail` (logged in `mail_log`, -> MailOutcome), `retry_due_mails`
  (the worker), `mail_log`, `send_test_mail`.
"""
from __future__ import annotations

from core.mail.outbox import (
    MAX_ATTEMPTS,
    RETRY_MINUTES,
    STATE_WORDS,
    STATES,
    MailOutcome,
    mail_log,
    mail_log_table,
    retry_due_mails,
    send_mail,
    send_test_mail,
)
from core.mail.settings import (
    PASSWORD_ENV,
    SECURITIES,
    MailSettingsError,
    SmtpSettings,
    email_problem,
    read_smtp_settings,
    save_smtp_settings,
    smtp_password,
)

__all__ = ["MAX_ATTEMPTS", "PASSWORD_ENV", "RETRY_MINUTES", "SECURITIES", "STATES",
           "STATE_WORDS", "MailOutcome", "MailSettingsError", "SmtpSettings", "email_problem",
           "mail_log", "mail_log_table", "read_smtp_settings", "retry_due_mails", "save_smtp_settings",
           "send_mail", "send_test_mail", "smtp_password"]
