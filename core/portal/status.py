"""GSP sessions in words: per business its state, and what needs doing soon (an OTP now,
API access ending within 3 days) for the Dashboard, Settings and `python worker.py status`.
The sessions themselves: `core.portal.sessions`."""
from __future__ import annotations

import datetime as dt

from core.business import list_businesses
from core.clock import utc_now
from core.portal.gsp import GspConfig
from core.portal.sessions import describe, effective_state, load_session, never_connected, when
from core.store import connect

WARN_AHEAD = dt.timedelta(days=3)            # warn this long before the access period ends


def session_rows(gstins: list[str] | None = None, now: dt.datetime | None = None) -> list[dict]:
    """Per business (all, or `gstins`): username, state in words, times (what a page shows)."""
    now = now or utc_now()
    businesses = list_businesses(gstins).sort("gstin").to_dicts()
    with connect(read_only=True) as con:
        rows = {b["gstin"]: load_session(b["gstin"], con) for b in businesses}
    shared = GspConfig.load().credentials_source
    fallback = ("" if shared == "none configured" else
                f" Until then its calls use the shared login ({shared}).")
    return [{"gstin": b["gstin"], "name": b["name"], "enabled": b["enabled"],
             "shared_login": never_connected(rows[b["gstin"]]) and bool(fallback),
             "otp_pending": bool((rows[b["gstin"]] or {}).get("otp_requested_at")),
             "username": (rows[b["gstin"]] or {}).get("username") or "",
             "state": effective_state(rows[b["gstin"]], now),
             "words": describe(rows[b["gstin"]], now) + (
                 fallback if rows[b["gstin"]] is None else ""),
             "sentence": session_sentence(rows[b["gstin"]], now, bool(fallback)),
             "token_expires_at": (rows[b["gstin"]] or {}).get("token_expires_at"),
             "access_ends_at": (rows[b["gstin"]] or {}).get("access_ends_at")}
            for b in businesses]


def session_sentence(row: dict | None, now: dt.datetime, shared_login: bool = False) -> str:
    """The GSP session of one business in one short sentence, for a table cell: "Session
    active until 01 Dec 2026, 18:00 IST" or "Needs a new OTP: the GSP session expired on ..."."""
    state = effective_state(row, now)
    if row is None:
        return ("Uses the shared GSP login (no session of its own)" if shared_login
                else "Needs an OTP: not connected to the GSP yet")
    if state == "connected":
        return f"Session active until {when(row['token_expires_at'])}"
    if state == "refresh_failed":
        return (f"Session active until {when(row['token_expires_at'])}; the last refresh "
                "failed and the worker tries again")
    if state == "otp_sent":
        return (f"Waiting for the OTP sent on {when(row['otp_requested_at'])}"
                + ("; uses the shared GSP login meanwhile" if shared_login
                   and never_connected(row) else ""))
    if state == "access_ended":
        return (f"Needs a new OTP: API access ended on {when(row['access_ends_at'])} (enable it "
                "on the GST portal again)")
    if row["state"] in ("connected", "refresh_failed"):
        return f"Needs a new OTP: the GSP session expired on {when(row['token_expires_at'])}"
    return f"Needs a new OTP: {row['reason'] or 'the GSP refused the session'}"


def session_warnings(gstins: list[str] | None = None,
                     now: dt.datetime | None = None) -> list[str]:
    """What needs doing soon, per enabled business: an OTP now, or API access that ends within
    3 days (the Dashboard and `python worker.py status`)."""
    now = now or utc_now()
    out = []
    for r in session_rows(gstins, now):
        if not r["enabled"]:
            continue
        who = f"{r['gstin']} ({r['name']})"
        if r["state"] == "not_connected" or (r["state"] == "otp_sent" and r["shared_login"]):
            if not r["shared_login"]:
                out.append(f"{who} needs an OTP now: it is not connected to the GSP yet. "
                           "Connect it under Settings → GSP sessions.")
        elif r["state"] in ("needs_otp", "access_ended", "otp_sent"):
            why = r["words"].removeprefix("Needs an OTP: ")   # said once
            out.append(f"{who} needs an OTP now: {why} (Settings → GSP sessions)")
        elif r["access_ends_at"] is not None and r["access_ends_at"] - now <= WARN_AHEAD:
            left = r["access_ends_at"] - now
            span = (f"{left.days} day(s)" if left.days else
                    f"{max(int(left.total_seconds() // 3600), 0)} hour(s)")
            out.append(f"{who}: API access ends on {when(r['access_ends_at'])} (in {span}). "
                       "Enable it again on the GST portal and connect with a new OTP before "
                       "then, or the daily fetch stops.")
    return out


def status_lines(gstins: list[str] | None = None) -> list[str]:
    """`python worker.py status`: each business's GSP session in words, then the warnings."""
    rows = session_rows(gstins)
    lines = ["", "GSP sessions:"] + [f"  {r['gstin']}  {r['words']}" for r in rows]
    warnings = session_warnings(gstins)
    return lines + ["", "Needs attention:"] + [f"  ! {w}" for w in warnings] if warnings \
        else lines
