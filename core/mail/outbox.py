"""Send a mail and keep it: every mail is a row of `mail_log` before it goes out, and ends
sent, refused (a recipient the server would not take), retrying (the server down or not set
up) or failed (given up after MAX_ATTEMPTS). Refused and retrying mails are tried again by the
worker (`retry_due_mails`) with a growing wait; nothing is dropped without a word.

`store` is the store's location (a DuckDB file or a team-mode URL; None: the configured one)
or an open connection of it. The store is not held while the mail server talks.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import mimetypes
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from core.clock import to_store, utc_now
from core.mail.settings import SmtpSettings, email_problem, read_smtp_settings, smtp_password
from core.mail.transport import Delivery, deliver
from core.store import connect, transaction
from core.timefmt import shown_clock, shown_time

STATES = ("sent", "refused", "retrying", "failed")
STATE_WORDS = {"sent": "sent", "refused": "refused by the server", "retrying": "will retry",
               "failed": "failed, not retried"}
MAX_ATTEMPTS = 5
# The wait after the 1st, 2nd, 3rd and 4th failed try; the 5th ends in "failed".
RETRY_MINUTES = (5, 15, 60, 180)
# A mail being sent now is not taken by a retrying worker for this long.
LEASE = dt.timedelta(minutes=2)


@dataclasses.dataclass(frozen=True)
class MailOutcome:
    state: str          # sent | refused | retrying | failed
    message: str        # what happened, in plain words
    mail_id: int | None


@contextlib.contextmanager
def _store(store):
    if hasattr(store, "execute"):
        yield store
    else:
        with connect(store) as con:
            yield con


def compose(settings: SmtpSettings, to: list[str], subject: str, html: str,
            attachments) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.from_address or "ims-reco-sync@localhost"
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=(settings.from_address.split("@")[-1] or None)
                                   if settings.from_address else None)
    msg.set_content(html, subtype="html", cte="quoted-printable")
    for name, data in attachments:
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        main, sub = kind.split("/", 1)
        msg.add_attachment(bytes(data), maintype=main, subtype=sub, filename=name)
    return msg


def _split(text: str) -> list[str]:
    return [a for a in (text or "").split(",") if a]


def send_mail(store=None, *, to: list[str], subject: str, html: str,
              attachments: list[tuple[str, bytes]] = (), sent_by: str, purpose: str,
              business_id=None, retry: bool = True) -> MailOutcome:
    """Log the mail, hand it to the mail server, and say how it ended (`MailOutcome`).
    `retry=False` (the test mail) ends a mail that did not go out in "failed" at once."""
    to = [str(a).strip() for a in (to or []) if str(a).strip()]
    attachments = list(attachments or [])
    bad = [p for p in (email_problem(a) for a in to) if p]
    if not to:
        bad = ["no recipient given"]
    now = utc_now()
    with _store(store) as con:
        settings = read_smtp_settings(con)
        message = compose(settings, to, subject, html, attachments).as_string()
        row = [now, sent_by, purpose, business_id, ",".join(to), ",".join(to), subject,
               ",".join(n for n, _ in attachments), message, now]
        if bad:
            answer = "not sent: " + "; ".join(bad)
            mail_id = con.execute(
                "INSERT INTO mail_log (created_at, sent_by, purpose, business_id, recipients, "
                "pending_to, subject, attachments, message, updated_at, state, answer) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'failed', ?) RETURNING mail_id",
                row + [answer]).fetchall()[0][0]
            return MailOutcome("failed", answer, mail_id)
        mail_id = con.execute(
            "INSERT INTO mail_log (created_at, sent_by, purpose, business_id, recipients, "
            "pending_to, subject, attachments, message, updated_at, state, answer, "
            "next_try_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'retrying', "
            "'being sent now', ?) RETURNING mail_id", row + [now + LEASE]).fetchall()[0][0]
    return _attempt(store, mail_id, settings, message, to, 0, retry)


def _attempt(store, mail_id: int, settings: SmtpSettings, message: str, pending: list[str],
             attempts: int, retry: bool = True) -> MailOutcome:
    """One try at the recipients still pending; the row says how it ended."""
    if not settings.configured:
        delivery = Delivery([], {}, "the mail server is not set up (Settings, E-mail: host "
                            "and from address)")
    else:
        delivery = deliver(settings, smtp_password()[0], message, pending)
    attempts += 1
    now = utc_now()
    left = [a for a in pending if a not in delivery.accepted]
    if not left:
        state, answer = "sent", f"sent: accepted by {settings.host} ({delivery.answer})"
        next_try = None
    else:
        if delivery.trouble:
            state, answer = "retrying", delivery.trouble
        else:
            state = "refused"
            answer = "refused by the server: " + "; ".join(
                f"{a} ({why})" for a, why in delivery.refused.items())
            if delivery.accepted:
                answer += "; sent to " + ", ".join(delivery.accepted)
        if attempts >= MAX_ATTEMPTS or not retry:
            tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
            state, answer, next_try = "failed", f"failed after {tries}: {answer}", None
        else:
            next_try = now + dt.timedelta(minutes=RETRY_MINUTES[attempts - 1])
            answer += f"; will retry at {shown_clock(next_try)}"
    with _store(store) as con:
        con.execute("UPDATE mail_log SET state = ?, answer = ?, attempts = ?, pending_to = ?, "
                    "next_try_at = ?, sent_at = CASE WHEN ? THEN ? ELSE sent_at END, "
                    "updated_at = ? WHERE mail_id = ?",
                    [state, answer[:2000], attempts, ",".join(left), next_try, state == "sent",
                     now, now, mail_id])
    return MailOutcome(state, answer, mail_id)


def retry_due_mails(store=None, now: dt.datetime | None = None) -> list[MailOutcome]:
    """Try again every refused or retrying mail whose time has come (the worker, each tick).
    A mail is taken by one worker only: its next try is moved on before it is sent."""
    now = to_store(now) or utc_now()
    outcomes = []
    with _store(store) as con:
        due = con.execute("SELECT mail_id, next_try_at FROM mail_log WHERE state IN "
                          "('refused', 'retrying') AND next_try_at <= ? ORDER BY mail_id",
                          [now]).fetchall()
    for mail_id, next_try in due:
        with _store(store) as con, transaction(con):
            taken = con.execute(
                "UPDATE mail_log SET next_try_at = ? WHERE mail_id = ? AND next_try_at = ? "
                "AND state IN ('refused', 'retrying') "
                "RETURNING message, pending_to, attempts",
                [now + LEASE, mail_id, next_try]).fetchall()
            settings = read_smtp_settings(con)
        if taken:
            message, pending, attempts = taken[0]
            outcomes.append(_attempt(store, mail_id, settings, message, _split(pending),
                                     attempts))
    return outcomes


def mail_log(store=None, limit: int = 500) -> list[dict]:
    """The newest mails first, each a dict of what the log keeps (without the message)."""
    with _store(store) as con:
        rows = con.execute(
            "SELECT mail_id, created_at, sent_by, purpose, business_id, recipients, subject, "
            "attachments, state, answer, attempts, next_try_at, sent_at FROM mail_log "
            "ORDER BY mail_id DESC LIMIT ?", [int(limit)]).fetchall()
    names = ("mail_id", "created_at", "sent_by", "purpose", "business_id", "recipients",
             "subject", "attachments", "state", "answer", "attempts", "next_try_at", "sent_at")
    return [dict(zip(names, r, strict=True)) for r in rows]


def mail_log_table(store=None, limit: int = 500) -> list[dict]:
    """The mail log as people read it (the Settings page and its download): times in the
    business time zone, the state and the server's answer in words."""
    return [{"#": r["mail_id"], "When": shown_time(r["created_at"]), "Sent by": r["sent_by"],
             "Purpose": r["purpose"], "Business": r["business_id"] or "",
             "To": r["recipients"].replace(",", ", "), "Subject": r["subject"],
             "Attachments": r["attachments"].replace(",", ", "),
             "State": STATE_WORDS.get(r["state"], r["state"]),
             "Server's answer": r["answer"], "Attempts": r["attempts"],
             "Sent at": shown_time(r["sent_at"])}
            for r in mail_log(store, limit)]


def send_test_mail(store=None, *, to: str, sent_by: str) -> MailOutcome:
    """A short mail that says the settings work; not retried: the answer is shown at once."""
    html = ("<p>This is a test mail from IMS Reco Sync.</p>"
            "<p>If you can read it, the mail settings work.</p>")
    return send_mail(store, to=[to], subject="IMS Reco Sync: test mail", html=html,
                     sent_by=sent_by, purpose="test", retry=False)
