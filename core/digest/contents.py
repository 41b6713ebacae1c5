"""What one user's daily digest says, for the GSTINs they may see (core.auth grants): per
business the deadlines within N days (core.calendar), the value silence will accept, the
GSTR-2B that needs regeneration, the jobs that failed in the last day, a GSP session that
needs an OTP and the supplier cases that need someone (core.suppliers); then the mail's HTML (every amount in Indian grouping, every time with its zone).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import html

from core.auth import User, user_gstins
from core.calendar import day_text, days_text, deadline_panel, pending_summary
from core.clock import today as business_today
from core.clock import utc_now
from core.figures import count_words, rupees
from core.gstr2b import gstr2b_panel
from core.ims import dashboard as ims_dashboard
from core.portal import status as gsp_status
from core.store import connect
from core.suppliers import follow_up_lines
from core.timefmt import shown_time

FAILED_JOBS_SINCE = dt.timedelta(hours=24)


@dataclasses.dataclass
class Digest:
    user: User
    day: dt.date
    days_ahead: int
    businesses: list[dict]          # [{gstin, name, items: [(heading, [lines])]}]

    @property
    def item_count(self) -> int:
        return sum(len(lines) for b in self.businesses for _, lines in b["items"])


def _deadlines(panel: dict, today: dt.date, days_ahead: int) -> list[str]:
    until = today + dt.timedelta(days=days_ahead)
    out = []
    for what, dated in (("GSTR-2B", panel["next_2b"]), ("GSTR-3B due", panel["next_3b"])):
        if dated.day is not None and dated.day <= until:
            out.append(f"{what} of {dated.label}: {day_text(dated.day)} "
                       f"({days_text(dated.day, today)})")
    for kind in ("credit note", "invoice"):
        count, first = pending_summary([r for r in panel["pending"]
                                        if r["expires"] and r["expires"] <= until], kind)
        if count:
            out.append(f"{count_words(count)} pending {kind}(s) stop being pending from "
                       f"{day_text(first)} ({days_text(first, today)})")
    return out


def _silence(panel: dict) -> list[str]:
    none = panel["no_action"]
    if not none["count"]:
        return []
    return [f"{count_words(none['count'])} record(s) with no action, tax {rupees(none['tax'])}: "
            "silence accepts them when the GSTR-3B is filed"
            + (f" ({count_words(none['unmatched'])} of them do not match the books)"
               if none["unmatched"] else "")]


def _failed_jobs(gstins: list[str], with_unscoped: bool, now: dt.datetime) -> dict:
    """{gstin or None: [lines]} for runs that failed in the last day."""
    since = now - FAILED_JOBS_SINCE
    with connect(read_only=True) as con:
        rows = con.execute(
            "SELECT job, gstin, finished_at, error FROM job_runs WHERE ok = false "
            "AND NOT coalesce(stopped, false) AND finished_at >= ? "
            "ORDER BY finished_at DESC", [since]).fetchall()
    out: dict = {}
    for job, gstin, finished, error in rows:
        if gstin in gstins or (gstin is None and with_unscoped):
            out.setdefault(gstin, []).append(
                f"{ims_dashboard.job_words(job)} failed on {shown_time(finished)}: "
                f"{(error or 'no reason given')[:300]}")
    return out


def _sentence(text: str) -> str:
    text = text.lstrip(": ")
    return text[:1].upper() + text[1:]


def digest_for(user: User, days_ahead: int, today: dt.date | None = None,
               now: dt.datetime | None = None) -> Digest:
    """The digest of one user: only the businesses they may see."""
    today, now = today or business_today(), now or utc_now()
    gstins = user_gstins(user)
    panels = deadline_panel(gstins, today) if gstins else []
    late = {b["gstin"]: b["late"] for b in gstr2b_panel(gstins)} if gstins else {}
    failed = _failed_jobs(gstins, user.is_admin, now)
    otp = {r["gstin"]: r for r in gsp_status.session_rows(gstins, now)} if gstins else {}
    warnings = gsp_status.session_warnings(gstins, now) if gstins else []
    follow_up = follow_up_lines(gstins, today, now) if gstins else {}
    businesses = []
    for panel in panels:
        gstin = panel["gstin"]
        who = f"{gstin} ({otp[gstin]['name']})" if gstin in otp else gstin
        items = [
            (f"Deadlines within {days_ahead} days", _deadlines(panel, today, days_ahead)),
            ("Value silence will accept", _silence(panel)),
            ("GSTR-2B needs regeneration",
             [f"{p['label']}: {count_words(p['count'])} record(s) now answered differently "
              f"from the 2B generated on {p['generated']}" for p in late.get(gstin, [])]),
            ("Failed jobs (last 24 hours)", failed.get(gstin, [])),
            ("GSP session", [_sentence(w.removeprefix(who)) for w in warnings
                             if w.startswith(who)]),
            ("Supplier follow-up", follow_up.get(gstin, [])),
        ]
        businesses.append({"gstin": gstin, "name": panel["name"],
                           "items": [(h, lines) for h, lines in items if lines]})
    if failed.get(None):
        businesses.append({"gstin": "", "name": "All businesses",
                           "items": [("Failed jobs (last 24 hours)", failed[None])]})
    return Digest(user, today, days_ahead, businesses)


def digest_subject(digest: Digest) -> str:
    n = digest.item_count
    return (f"IMS Reco Sync: daily digest for {day_text(digest.day)} "
            f"({'nothing needs you' if not n else count_words(n) + ' item(s)'})")


def digest_html(digest: Digest) -> str:
    """The digest as the mail's HTML body."""
    e = html.escape
    parts = [f"<h2>Daily digest for {e(day_text(digest.day))}</h2>",
             f"<p>For {e(digest.user.email)}: the businesses you may see.</p>"]
    if not digest.businesses:
        parts.append("<p>You may see no business yet; an admin grants GSTINs on the Users "
                     "page.</p>")
    for b in digest.businesses:
        title = f"{b['name']} · {b['gstin']}" if b["gstin"] else b["name"]
        parts.append(f"<h3>{e(title)}</h3>")
        if not b["items"]:
            parts.append("<p>Nothing needs you today.</p>")
        for heading, lines in b["items"]:
            parts.append(f"<p><b>{e(heading)}</b></p><ul>"
                         + "".join(f"<li>{e(line)}</li>" for line in lines) + "</ul>")
    parts.append("<p>You get this mail because your daily digest is on; turn it off under "
                 "your account in IMS Reco Sync.</p>")
    return "\n".join(parts)
