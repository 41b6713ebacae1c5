"""`python -m core mail test --to ADDRESS | retry | log [--limit N]` (docs/mail.md): a test
mail with the server's answer, the mails due for a retry tried now, the mail log."""
from __future__ import annotations

from core.business import SettingsError
from core.mail.outbox import mail_log, retry_due_mails, send_test_mail
from core.mail.settings import email_problem
from core.timefmt import shown_time


def cmd_test(args) -> int:
    problem = email_problem(args.to)
    if problem:
        raise SettingsError(f"--to: {problem}")
    outcome = send_test_mail(None, to=args.to.strip(), sent_by="cli")
    print(f"mail test: {outcome.message}")
    return 0 if outcome.state == "sent" else 1


def cmd_retry(args) -> int:
    outcomes = retry_due_mails()
    for o in outcomes:
        print(f"mail {o.mail_id}: {o.message}")
    if not outcomes:
        print("no mail is due for a retry")
    return 0


def cmd_log(args) -> int:
    if args.limit < 1:
        raise SettingsError(f"--limit: {args.limit} is not a positive number")
    rows = mail_log(limit=args.limit)
    for r in rows:
        files = f"; attached: {r['attachments']}" if r["attachments"] else ""
        print(f"{r['mail_id']:>5}  {shown_time(r['created_at'])}  {r['sent_by']} -> "
              f"{r['recipients']}  [{r['purpose']}] {r['subject']}{files}\n"
              f"       {r['state']}: {r['answer']}")
    if not rows:
        print("no mail yet")
    return 0


def add_commands(sub) -> None:
    """Register `mail test | retry | log` on the command line."""
    p = sub.add_parser("mail", help="send a test mail, retry mails now, show the mail log")
    inner = p.add_subparsers(dest="mail_command", required=True)
    t = inner.add_parser("test", help="send a test mail with the Settings' mail server")
    t.add_argument("--to", required=True, metavar="ADDRESS", help="who gets the test mail")
    t.set_defaults(fn=cmd_test)
    inner.add_parser("retry", help="try the mails due for a retry now").set_defaults(
        fn=cmd_retry)
    g = inner.add_parser("log", help="the newest mails: who, when, to whom, state, answer")
    g.add_argument("--limit", type=int, default=20, metavar="N", help="how many (20)")
    g.set_defaults(fn=cmd_log)
