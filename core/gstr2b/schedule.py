"""The worker's daily GSTR-2B fetch (docs/month-close.md, "How the code does it (GSTR-2B)").

Which 2B a business needs today (`period_to_fetch`, pure): of the last tax period that has
ended and the one before it, the latest whose 2B generation date (core.calendar.deadlines, with the
held rule and overrides) has come and whose GSTR-3B is not known as filed. It is known only
once the portal's filing status (RETTRACK, asked by every fetch) of the period before it is in
the store: before that, and before the 2B's date, nothing is due (no run, no error).

`fetch_due_2b` is the job: it fetches that 2B when none is stored, or asks again and replaces
it when the portal answers another version or generation date (regenerated on the portal);
"not generated yet" is an answer in words, and the next day's slot asks again. The job is due
once per daily slot, after that slot's fetch finished (`due_2b_jobs`), so the IMS actions and
the filings it is compared with are the day's. `last_2b_words` says the last run in words for
the job health list.
"""
from __future__ import annotations

import datetime as dt
import json

from core.calendar import Calendar, business_calendar, day_text, step
from core.clock import aware, business_tz, to_store
from core.clock import today as business_today
from core.figures import counted
from core.gstr2b.store import late_actions, store_2b, stored_2b
from core.jobs import FETCH, GSTR2B, GSTR2B_REGENERATE, SCHEDULED, DueJob, latest_slot
from core.portal import GstnClient, fetch_2b_frame
from core.store import connect
from core.timefmt import shown_time


def period_to_fetch(calendar: Calendar, today: dt.date) -> str | None:
    """The tax period whose 2B the worker fetches today, or None (see the module's text)."""
    last = calendar.last_period(today)
    for period in (last, step(last, calendar.frequency, -1)):
        if step(period, calendar.frequency, -1) not in calendar.filings \
                and (period, "gstr2b") not in calendar.overrides:
            continue          # the portal's filing status before it is not known yet
        generated = calendar.gstr2b_date(period, today)
        if generated.day is None or generated.day > today:
            continue
        filing = calendar.filing(period)
        if filing is not None and filing.filed:
            continue          # GSTR-3B filed: that 2B is final
        return period
    return None


def fetch_due_2b(gstin: str, client: GstnClient | None = None,
                 today: dt.date | None = None) -> dict:
    """The scheduled job: {period, outcome (words), version, documents, late}."""
    today = today or business_today()
    with connect(read_only=True) as con:
        calendar = business_calendar(con, gstin)
    period = period_to_fetch(calendar, today)
    if period is None:
        return {"outcome": "No GSTR-2B is due to be fetched today."}
    label = calendar.label(period)
    held = stored_2b(gstin, period)
    found = fetch_2b_frame(client or GstnClient(), gstin, period)
    if found is None:
        return {"period": period, "outcome": f"GSTR-2B of {label} is not generated on the "
                                             "portal yet; the worker asks again tomorrow."}
    head, frame = found
    same = held is not None and str(held["version"]) == str(head["version"]) \
        and held["gendt"] == head["gendt"]
    if same:
        return {"period": period, "version": head["version"],
                "outcome": f"GSTR-2B of {label} unchanged (version {head['version']})."}
    documents = store_2b(gstin, period, head, frame)
    late = late_actions([gstin]).get((gstin, period), 0)
    made = f"generated on {day_text(head['gendt'])}" if head["gendt"] else "generated"
    what = "fetched" if held is None else "fetched again: the portal regenerated it"
    return {"period": period, "version": head["version"], "documents": documents, "late": late,
            "outcome": f"GSTR-2B of {label} {what} (version {head['version']}, {made}, "
                       f"{counted(documents, 'document')})."}


def _served(con, gstin: str, slot: dt.datetime) -> tuple[bool, bool]:
    """(fetch of the slot's day finished, 2B job run for it), scheduled runs only."""
    local = slot.astimezone(business_tz())
    start = dt.datetime.combine(local.date(), dt.time(0), business_tz())
    end = start + dt.timedelta(days=1)
    row = con.execute(
        """SELECT coalesce(bool_or(job = ? AND finished_at IS NOT NULL), false),
                  coalesce(bool_or(job = ?), false)
           FROM job_runs WHERE gstin = ? AND list_contains(?, triggered_by)
             AND NOT coalesce(stopped, false) AND slot >= ? AND slot < ?""",
        [FETCH, GSTR2B, gstin, list(SCHEDULED), to_store(start), to_store(end)]).fetchall()
    return bool(row[0][0]), bool(row[0][1])


def due_2b_jobs(now: dt.datetime, businesses: list[dict], started_at: dt.datetime | None = None,
                today: dt.date | None = None) -> list[DueJob]:
    """The GSTR-2B fetches due now: per enabled business, once per daily slot, after that
    slot's fetch finished, when `period_to_fetch` names a period."""
    today = today or business_today()
    due = []
    with connect(read_only=True) as con:
        for b in businesses:
            if not b.get("enabled", True):
                continue
            try:
                slot = latest_slot(b, now)
            except ValueError:
                continue
            fetched, served = _served(con, b["gstin"], slot)
            if not fetched or served:
                continue
            if period_to_fetch(business_calendar(con, b["gstin"]), today) is None:
                continue
            late = started_at is not None and slot < aware(started_at) - dt.timedelta(minutes=1)
            due.append(DueJob(GSTR2B, b["gstin"], slot, "catch-up" if late else "schedule"))
    return due


def last_2b_words(con, gstin: str) -> str:
    """The last GSTR-2B run of a business (scheduled fetch or regeneration) in words."""
    rows = con.execute(
        "SELECT finished_at, ok, error, counts FROM job_runs WHERE gstin = ? "
        "AND list_contains(?, job) AND finished_at IS NOT NULL "
        "ORDER BY started_at DESC, run_id DESC LIMIT 1",
        [gstin, [GSTR2B, GSTR2B_REGENERATE]]).fetchall()
    if not rows:
        return "Not fetched by the worker yet"
    finished, ok, error, counts = rows[0]
    said = (json.loads(counts) if counts else {}).get("outcome") if ok else f"Failed: {error}"
    return f"{shown_time(finished)}: {said or 'done'}"
