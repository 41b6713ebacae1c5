"""`python -m core digest --now | --email E` (docs/mail.md): send today's digests now (again,
also to users who got today's), or print one user's digest without sending it."""
from __future__ import annotations

import html
import re

from core.auth import AuthError, find_user, normalise_email
from core.business import SettingsError
from core.digest.contents import digest_for, digest_html
from core.digest.job import send_digests
from core.digest.settings import digest_settings


def cmd_digest(args) -> int:
    if args.email:
        try:
            user = find_user(normalise_email(args.email))
        except AuthError as exc:
            raise SettingsError(f"--email: {exc}") from None
        if user is None:
            raise SettingsError(f"--email: no user with email {args.email.strip().lower()}")
        text = digest_html(digest_for(user, digest_settings().days_ahead))
        text = re.sub(r"<li>", "  - ", re.sub(r"</(p|h2|h3|li)>|<ul>|</ul>", "\n", text))
        print(html.unescape(re.sub(r"<[^>]+>", "", text)).replace("\n\n", "\n").strip())
        return 0
    if not args.now:
        raise SettingsError("digest: give --now (send today's digests) or --email E (print "
                            "one user's digest)")
    counts = send_digests(sent_by="cli", force=True)
    print("digest: " + (", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
                        or "nobody has the daily digest on"))
    return 0 if set(counts) <= {"sent"} else 1


def add_commands(sub) -> None:
    p = sub.add_parser("digest", help="send today's daily digests now, or print one user's")
    p.add_argument("--now", action="store_true", help="send every reader's digest now")
    p.add_argument("--email", metavar="E", help="print this user's digest; nothing is sent")
    p.set_defaults(fn=cmd_digest)
