"""Mail that really goes out, to a real SMTP server on 127.0.0.1 (aiosmtpd, tests/mailserver.py):
recipients, subject, body and attachment arrive; a refused recipient and a server that is down
end in a clear state, are retried, and are sent once the server takes them."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io

import openpyxl
import pytest

from core.cli import main as command_line
from core.clock import utc_now
from core.mail import mail_log, retry_due_mails, save_smtp_settings, send_mail, send_test_mail
from core.store import connect
from tests.mailserver import MailServer, self_signed_certificate

pytestmark = pytest.mark.slow


@pytest.fixture
def mail_store(db_file, smtp_server):
    with connect() as con:
        save_smtp_settings(con, smtp_server.settings)
    return db_file


def _workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Invoice", "Value"])
    sheet.append(["INV-7", 1180])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_mail_arrives_with_its_recipients_subject_body_and_attachment(mail_store, smtp_server):
    outcome = send_mail(None, to=["a@supplier.test", "b@supplier.test"],
                        subject="Statement for March 2026 ₹",
                        html="<p>Please amend invoice <b>INV-7</b> (₹1,180).</p>",
                        attachments=[("statement.xlsx", _workbook())],
                        sent_by="analyst@firm.test", purpose="statement",
                        business_id="27AAAAA0000A1Z5")
    assert outcome.state == "sent", outcome.message
    assert outcome.message.startswith("sent: accepted by 127.0.0.1 (250 Message accepted")
    [msg] = smtp_server.messages
    assert msg.envelope_to == ["a@supplier.test", "b@supplier.test"]
    assert msg["To"] == "a@supplier.test, b@supplier.test"
    assert msg["From"] == "ims@reco.test"
    assert str(msg["Subject"]) == "Statement for March 2026 ₹"
    assert "<b>INV-7</b> (₹1,180)" in msg.get_body(("html",)).get_content()
    [part] = list(msg.iter_attachments())
    assert part.get_filename() == "statement.xlsx"
    rows = list(openpyxl.load_workbook(io.BytesIO(part.get_content())).active.values)
    assert rows == [("Invoice", "Value"), ("INV-7", 1180)]
    [row] = mail_log()
    assert (row["state"], row["sent_by"], row["purpose"], row["business_id"], row["recipients"],
            row["attachments"], row["attempts"]) == (
        "sent", "analyst@firm.test", "statement", "27AAAAA0000A1Z5",
        "a@supplier.test,b@supplier.test", "statement.xlsx", 1)
    assert row["sent_at"] is not None


def test_a_refused_recipient_is_retried_and_sent_once_taken(mail_store, smtp_server):
    smtp_server.refuse("gone@supplier.test")
    outcome = send_mail(None, to=["ok@supplier.test", "gone@supplier.test"], subject="S",
                        html="<p>x</p>", sent_by="worker", purpose="statement")
    assert outcome.state == "refused"
    assert outcome.message.startswith(
        "refused by the server: gone@supplier.test (550 5.1.1 mailbox unavailable); "
        "sent to ok@supplier.test; will retry at ")
    assert outcome.message.endswith(" IST")
    assert [m.envelope_to for m in smtp_server.messages] == [["ok@supplier.test"]]
    assert retry_due_mails() == []                      # not before its time
    smtp_server.accept_all()
    later = utc_now() + dt.timedelta(minutes=6)
    [again] = retry_due_mails(now=later)
    assert (again.state, again.mail_id) == ("sent", outcome.mail_id)
    assert [m.envelope_to for m in smtp_server.messages] == [["ok@supplier.test"],
                                                            ["gone@supplier.test"]]
    assert mail_log()[0]["attempts"] == 2


def test_a_server_that_is_down_ends_retrying_then_failed_after_the_last_attempt(
        mail_store, smtp_server):
    smtp_server.stop()
    outcome = send_mail(None, to=["x@supplier.test"], subject="S", html="<p>x</p>",
                        sent_by="worker", purpose="digest")
    assert outcome.state == "retrying"
    assert "could not be reached (connection refused: is it running?); will retry at" \
        in outcome.message
    when = utc_now()
    for minutes in (5, 15, 60):
        when += dt.timedelta(minutes=minutes + 1)
        [again] = retry_due_mails(now=when)
        assert again.state == "retrying"
    smtp_server.start()
    when += dt.timedelta(minutes=181)
    [again] = retry_due_mails(now=when)
    assert again.state == "sent"
    assert len(smtp_server.messages) == 1
    smtp_server.stop()
    lost = send_mail(None, to=["y@supplier.test"], subject="S", html="<p>x</p>",
                     sent_by="worker", purpose="digest")
    for _ in range(4):
        when += dt.timedelta(hours=4)
        [last] = retry_due_mails(now=when)
    assert last.state == "failed" and last.mail_id == lost.mail_id
    assert last.message.startswith("failed after 5 attempts: the mail server 127.0.0.1:")
    assert retry_due_mails(now=when + dt.timedelta(days=1)) == []


def test_the_test_mail_says_what_the_server_answered_and_is_not_retried(mail_store, smtp_server):
    ok = send_test_mail(None, to="admin@firm.test", sent_by="admin@firm.test")
    assert ok.state == "sent" and "250" in ok.message
    smtp_server.refuse("admin@firm.test")
    refused = send_test_mail(None, to="admin@firm.test", sent_by="admin@firm.test")
    assert refused.state == "failed"
    assert refused.message == ("failed after 1 attempt: refused by the server: "
                               "admin@firm.test (550 5.1.1 mailbox unavailable)")
    bad = send_mail(None, to=["not an address"], subject="S", html="x", sent_by="cli",
                    purpose="test")
    assert (bad.state, bad.message) == (
        "failed", "not sent: 'not an address' is not an e-mail address (name@example.com)")
    assert [r["state"] for r in mail_log()] == ["failed", "failed", "sent"]


def test_the_mail_commands_send_a_test_mail_and_print_the_log(mail_store, smtp_server, capsys):
    assert command_line(["mail", "test", "--to", "ops@firm.test"]) == 0
    assert "mail test: sent: accepted by 127.0.0.1 (250" in capsys.readouterr().out
    assert smtp_server.messages[0].envelope_to == ["ops@firm.test"]
    assert command_line(["mail", "test", "--to", "ops at firm"]) == 2
    assert "--to: 'ops at firm' is not an e-mail address" in capsys.readouterr().err
    assert command_line(["mail", "log"]) == 0
    out = capsys.readouterr().out
    assert "cli -> ops@firm.test  [test] IMS Reco Sync: test mail" in out
    assert "sent: sent: accepted by 127.0.0.1" in out
    assert command_line(["mail", "retry"]) == 0
    assert capsys.readouterr().out == "no mail is due for a retry\n"


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_secure_server_with_a_login_takes_the_mail_and_refuses_a_wrong_password(
        security, db_file, tmp_path, monkeypatch):
    cert = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))       # the client trusts this server
    server = MailServer(security, cert, logins={"gst-team": "s3cret pass"})
    server.start()
    try:
        with connect() as con:
            save_smtp_settings(con, dataclasses.replace(server.settings, user="gst-team"))
        monkeypatch.setenv("IMS_SMTP_PASSWORD", "not it")
        wrong = send_test_mail(None, to="ops@firm.test", sent_by="cli")
        assert wrong.state == "failed"
        assert wrong.message.startswith("failed after 1 attempt: the mail server refused the "
                                        "login of gst-team (535")
        monkeypatch.setenv("IMS_SMTP_PASSWORD", "s3cret pass")
        right = send_test_mail(None, to="ops@firm.test", sent_by="cli")
        assert right.state == "sent", right.message
        [msg] = server.messages
        assert msg.envelope_to == ["ops@firm.test"]
    finally:
        server.stop()
