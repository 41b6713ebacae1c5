"""The schedule's arithmetic: when each business's fetch and sync are due (no store, no I/O).

docs/architecture.md, "The worker": every enabled business is fetched once a day at its own
time (`businesses.fetch_time`, H:MM or HH:MM in IMS_TZ); its sync runs right after the fetch
and at the latest 2 hours after the fetch time. Each scheduled run serves a slot (the fetch
time it is for), so a slot is never run twice.

Only the LATEST slot of a business is ever due (the most recent fetch time at or before now),
so a worker that was down for three days catches up once, not three times. Slots before the
business was added are not due. `now` and everything returned are aware datetimes.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from core.clock import aware, business_tz, to_store
from core.jobs.runs import FETCH, SYNC

log = logging.getLogger(__name__)

SYNC_WINDOW = dt.timedelta(hours=2)
FETCH_TIME_RE = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")


def parse_fetch_time(text: str | dt.time) -> dt.time:
    """'6:00' or '06:00' -> time(6, 0); anything else raises ValueError naming the value.
    The one reader of a daily fetch time (the Settings page, the CLI and the schedule)."""
    if isinstance(text, dt.time):
        return text.replace(second=0, microsecond=0, tzinfo=None)
    m = FETCH_TIME_RE.match(str(text or "").strip())
    if not m:
        raise ValueError(f"fetch time '{text}' is not a time of day as HH:MM (00:00-23:59)")
    return dt.time(int(m.group(1)), int(m.group(2)))


def _get(business, name: str, default=None):
    if isinstance(business, Mapping):
        return business.get(name, default)
    return getattr(business, name, default)


def _at(day: dt.date, business) -> dt.datetime:
    return dt.datetime.combine(day, parse_fetch_time(_get(business, "fetch_time")),
                               business_tz())


def latest_slot(business, now: dt.datetime) -> dt.datetime:
    """The most recent daily fetch time at or before `now`."""
    local = aware(now).astimezone(business_tz())
    slot = _at(local.date(), business)
    return slot if slot <= local else _at(local.date() - dt.timedelta(days=1), business)


def next_fetch_time(business, now: dt.datetime) -> dt.datetime:
    """The next daily fetch time at or after `now` (in IMS_TZ)."""
    local = aware(now).astimezone(business_tz())
    slot = _at(local.date(), business)
    return slot if slot >= local else _at(local.date() + dt.timedelta(days=1), business)


def sync_due_by(business, now: dt.datetime) -> dt.datetime:
    """The time by which the sync of the current fetch (still within its 2 hours) or else of
    the next fetch will be done. `core.schedule.status` refines this with what has run."""
    current = latest_slot(business, now) + SYNC_WINDOW
    return current if aware(now) < current else next_fetch_time(business, now) + SYNC_WINDOW


@dataclass(frozen=True)
class SlotState:
    """What the store says about one business's latest slot."""
    fetch_served: bool = False
    fetch_finished: bool = False
    sync_served: bool = False


@dataclass(frozen=True)
class DueJob:
    job: str            # fetch | sync
    gstin: str
    slot: dt.datetime   # aware
    triggered_by: str   # schedule | catch-up


def due_jobs(now: dt.datetime, businesses: list, states: Mapping[str, SlotState],
             started_at: dt.datetime | None = None) -> list[DueJob]:
    """The jobs to run now, in order: per business its fetch, then its sync.

    A sync is due right after its slot's fetch (whatever the fetch's outcome), or once the
    2-hour window has passed even if the fetch never finished. Runs for slots that passed
    before `started_at` (the worker's start) are labelled catch-up."""
    jobs = []
    for b in businesses:
        if not _get(b, "enabled", True):
            continue
        try:
            slot = latest_slot(b, now)
        except ValueError as exc:
            log.warning("business %s skipped: %s", _get(b, "gstin"), exc)
            continue
        created = _get(b, "created_at")
        if created is not None and to_store(slot) < to_store(created):
            continue
        state = states.get(_get(b, "gstin"), SlotState())
        late = started_at is not None and slot < aware(started_at) - dt.timedelta(minutes=1)
        trig = "catch-up" if late else "schedule"
        gstin = _get(b, "gstin")
        if not state.fetch_served:
            jobs.append(DueJob(FETCH, gstin, slot, trig))
        window_over = aware(now) >= slot + SYNC_WINDOW
        fetch_done = not state.fetch_served or state.fetch_finished or window_over
        if _get(b, "sync_source", "ims_vs_pr") != "off" and not state.sync_served and fetch_done:
            jobs.append(DueJob(SYNC, gstin, slot, trig))
    return jobs
