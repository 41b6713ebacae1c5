"""Why a fetch runs now: a business enabled (or re-enabled) after its daily fetch time has not
had today's fetch, so the worker's next tick runs it as a catch-up (core/jobs/slots.py). Settings
says so where the business is enabled, instead of a fetch nobody asked for."""
from __future__ import annotations

import datetime as dt

from core.clock import SystemClock, aware, business_tz
from core.schedule.status import business_job_status

SOON = dt.timedelta(minutes=1)


def catch_up_notes(gstins: list[str], now: dt.datetime | None = None) -> dict[str, str]:
    """{gstin: sentence} for each enabled business among `gstins` whose fetch is due now."""
    now = aware(now or SystemClock().now())
    zone = now.astimezone(business_tz()).strftime("%Z")
    notes = {}
    for row in business_job_status(gstins=gstins, now=now):
        due = row["next_fetch"]
        if row["enabled"] and due is not None and due <= now + SOON:
            notes[row["gstin"]] = (
                f"Fetch time {row['fetch_time']} {zone} has passed today, so a catch-up fetch "
                f"of {row['name'] or row['gstin']} ({row['gstin']}) will run within a minute "
                "(while the worker runs).")
    return notes
