"""When each business's fetch and sync are due, and running them as recorded jobs.

design.md, "The worker": every enabled business is fetched once a day at its own time
(`businesses.fetch_time`, HH:MM in IMS_TZ); its sync runs right after the fetch and at the
latest 2 hours after the fetch time. Each scheduled run is a `job_runs` row whose `slot` is
the fetch time it serves, so a slot is never run twice.

Only the LATEST slot of a business is ever due (the most recent fetch time at or before now).
So a worker that was down for three days catches up once, not three times. A slot is
served by any scheduled run for a slot on the same day (IMS_TZ): once a day, whatever the
fetch time was changed to during that day. Slots before the business was added are not due.

Times: `now` and everything returned are aware datetimes; the store keeps naive UTC.
The clock is injectable (`ManualClock` for tests).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from dataclasses import dataclass
from typing import Callable, Mapping
from zoneinfo import ZoneInfo

from core.db import connect

log = logging.getLogger(__name__)

SYNC_WINDOW = dt.timedelta(hours=2)
FETCH, SYNC, POLL = "fetch", "sync", "poll"
SCHEDULED = ("schedule", "catch-up")
DEFAULT_TZ = "Asia/Kolkata"
_TIME_RE = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")


class StopRequested(BaseException):
    """Raised into a running job when the worker is asked to stop (SIGTERM).

    A BaseException so that a job's `except Exception` does not swallow it; every write
    is in a transaction, so the job's half-done work is rolled back."""


# ---------------------------------------------------------------- clocks and time zone


def business_tz() -> ZoneInfo:
    return ZoneInfo(os.environ.get("IMS_TZ") or DEFAULT_TZ)


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)


class ManualClock:
    """A clock that only moves when told to (tests, benchmarks)."""

    def __init__(self, start: dt.datetime):
        self.current = _aware(start)

    def now(self) -> dt.datetime:
        return self.current

    def set(self, when: dt.datetime) -> None:
        self.current = _aware(when)

    def advance(self, **delta) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def to_store(when: dt.datetime | None) -> dt.datetime | None:
    """Aware datetime -> naive UTC, as job_runs keeps it."""
    return None if when is None else _aware(when).astimezone(dt.timezone.utc).replace(tzinfo=None)


def from_store(when: dt.datetime | None) -> dt.datetime | None:
    """Naive UTC from the store -> aware, in the business time zone."""
    return None if when is None else when.replace(tzinfo=dt.timezone.utc).astimezone(business_tz())


# ---------------------------------------------------------------- pure schedule arithmetic


def _get(business, name: str, default=None):
    if isinstance(business, Mapping):
        return business.get(name, default)
    return getattr(business, name, default)


def parse_fetch_time(text: str) -> dt.time:
    """'06:00' -> time(6, 0); anything else raises ValueError naming the value."""
    m = _TIME_RE.match(str(text or "").strip())
    if not m:
        raise ValueError(f"fetch time '{text}' is not a time of day as HH:MM (00:00-23:59)")
    return dt.time(int(m.group(1)), int(m.group(2)))


def _at(day: dt.date, business) -> dt.datetime:
    return dt.datetime.combine(day, parse_fetch_time(_get(business, "fetch_time")), business_tz())


def latest_slot(business, now: dt.datetime) -> dt.datetime:
    """The most recent daily fetch time at or before `now`."""
    local = _aware(now).astimezone(business_tz())
    slot = _at(local.date(), business)
    return slot if slot <= local else _at(local.date() - dt.timedelta(days=1), business)


def next_fetch_time(business, now: dt.datetime) -> dt.datetime:
    """The next daily fetch time at or after `now` (in IMS_TZ)."""
    local = _aware(now).astimezone(business_tz())
    slot = _at(local.date(), business)
    return slot if slot >= local else _at(local.date() + dt.timedelta(days=1), business)


def sync_due_by(business, now: dt.datetime) -> dt.datetime:
    """The time by which the sync of the current fetch (still within its 2 hours) or else of
    the next fetch will be done. `business_job_status` refines this with what has run."""
    current = latest_slot(business, now) + SYNC_WINDOW
    return current if _aware(now) < current else next_fetch_time(business, now) + SYNC_WINDOW


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
        late = started_at is not None and slot < _aware(started_at) - dt.timedelta(minutes=1)
        trig = "catch-up" if late else "schedule"
        gstin = _get(b, "gstin")
        if not state.fetch_served:
            jobs.append(DueJob(FETCH, gstin, slot, trig))
        window_over = _aware(now) >= slot + SYNC_WINDOW
        fetch_done = not state.fetch_served or state.fetch_finished or window_over
        if _get(b, "sync_source", "ims_vs_pr") != "off" and not state.sync_served and fetch_done:
            jobs.append(DueJob(SYNC, gstin, slot, trig))
    return jobs


# ---------------------------------------------------------------- what the store says


def load_businesses(con, gstins: list[str] | None = None) -> list[dict]:
    sql = ("SELECT gstin, name, enabled, fetch_time, sync_source, created_at FROM businesses "
           + ("WHERE gstin IN (SELECT unnest(?::VARCHAR[])) " if gstins is not None else "")
           + "ORDER BY gstin")
    rows = con.execute(sql, [list(gstins)] if gstins is not None else []).fetchall()
    # created_at defaults to current_timestamp: local time of the session's TimeZone
    store_tz = ZoneInfo(con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0])
    cols = ("gstin", "name", "enabled", "fetch_time", "sync_source", "created_at")
    return [{**dict(zip(cols, r)), "created_at": r[5].replace(tzinfo=store_tz) if r[5] else None}
            for r in rows]


def slot_state(con, gstin: str, slot: dt.datetime) -> SlotState:
    """Has the slot's fetch run (and finished), has its sync run? Scheduled runs only.

    A business is fetched once per day: any scheduled run for a slot on the same date (in
    IMS_TZ) serves the slot, so changing the fetch time never runs a day twice or
    resurrects a slot that passed before the change."""
    local = slot.astimezone(business_tz())
    day_start = dt.datetime.combine(local.date(), dt.time(0), business_tz())
    day_end = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), business_tz())
    row = con.execute(
        """SELECT coalesce(bool_or(job = ?), false),
                  coalesce(bool_or(job = ? AND finished_at IS NOT NULL), false),
                  coalesce(bool_or(job = ?), false)
           FROM job_runs
           WHERE gstin = ? AND triggered_by IN ('schedule', 'catch-up') AND NOT coalesce(stopped, false)
             AND slot >= ? AND slot < ?""",
        [FETCH, FETCH, SYNC, gstin, to_store(day_start), to_store(day_end)]).fetchall()
    return SlotState(*row[0])


def slot_states(con, businesses: list, now: dt.datetime) -> dict[str, SlotState]:
    states = {}
    for b in businesses:
        try:
            states[b["gstin"]] = slot_state(con, b["gstin"], latest_slot(b, now))
        except ValueError:
            continue
    return states


def _first(rows: list):
    return rows[0] if rows else None


def _last_run(con, gstin: str, job_pattern: str):
    return _first(con.execute(
        "SELECT started_at, finished_at, ok, error FROM job_runs WHERE gstin = ? AND job LIKE ? "
        "AND finished_at IS NOT NULL ORDER BY started_at DESC, run_id DESC LIMIT 1",
        [gstin, job_pattern]).fetchall())


def _last_error(con, gstin: str):
    return _first(con.execute(
        "SELECT finished_at, job, error FROM job_runs WHERE gstin = ? AND ok = false "
        "ORDER BY finished_at DESC NULLS LAST, run_id DESC LIMIT 1", [gstin]).fetchall())


def _status_row(con, b: dict, now: dt.datetime) -> dict:
    fetch, sync, err = _last_run(con, b["gstin"], "fetch%"), _last_run(con, b["gstin"], SYNC), \
        _last_error(con, b["gstin"])
    row = {"gstin": b["gstin"], "name": b["name"], "enabled": b["enabled"],
           "fetch_time": b["fetch_time"], "sync_source": b["sync_source"],
           "last_fetch": from_store(fetch[1]) if fetch else None,
           "last_fetch_ok": fetch[2] if fetch else None,
           "last_sync": from_store(sync[1]) if sync else None,
           "last_sync_ok": sync[2] if sync else None,
           "last_error": f"{err[1]}: {err[2]}" if err else None,
           "last_error_at": from_store(err[0]) if err else None,
           "next_fetch": None, "sync_due_by": None, "problem": None}
    if not b["enabled"]:
        return row
    try:
        slot = latest_slot(b, now)
    except ValueError as exc:
        row["problem"] = str(exc)
        return row
    due = due_jobs(now, [b], {b["gstin"]: slot_state(con, b["gstin"], slot)})
    kinds = {j.job for j in due}
    row["next_fetch"] = _aware(now).astimezone(business_tz()) if FETCH in kinds \
        else next_fetch_time(b, now + dt.timedelta(seconds=1))
    if b["sync_source"] != "off":
        pending_sync = (FETCH in kinds or SYNC in kinds
                        or not slot_state(con, b["gstin"], slot).sync_served) \
            and (b["created_at"] is None or to_store(slot) >= to_store(b["created_at"]))
        row["sync_due_by"] = slot + SYNC_WINDOW if pending_sync else row["next_fetch"] + SYNC_WINDOW
    return row


def business_job_status(con=None, gstins: list[str] | None = None,
                        now: dt.datetime | None = None) -> list[dict]:
    """Per business: last fetch, next fetch, last sync, sync due by, last error (+ settings).

    Times are aware, in IMS_TZ. `next_fetch` is now when a fetch is due but has not run.
    Pass an open connection, or None to open one here."""
    now = now or SystemClock().now()
    if con is None:
        with connect(read_only=False) as own:
            return business_job_status(own, gstins, now)
    return [_status_row(con, b, now) for b in load_businesses(con, gstins)]


# ---------------------------------------------------------------- running recorded jobs


def claim_run(job: str, gstin: str | None, now: dt.datetime, slot: dt.datetime | None,
              triggered_by: str) -> int:
    """Insert the job_runs row that says this job started (before any work is done)."""
    with connect() as con:
        return con.execute(
            "INSERT INTO job_runs (job, gstin, slot, started_at, triggered_by) VALUES (?, ?, ?, ?, ?) "
            "RETURNING run_id", [job, gstin, to_store(slot), to_store(now), triggered_by]).fetchall()[0][0]


def finish_run(run_id: int, now: dt.datetime, ok: bool, error: str | None = None,
               counts: dict | None = None, stopped: bool = False) -> None:
    with connect() as con:
        con.execute("UPDATE job_runs SET finished_at = ?, ok = ?, error = ?, counts = ?, stopped = ? "
                    "WHERE run_id = ?",
                    [to_store(now), ok, error, json.dumps(counts, default=str) if counts else None,
                     stopped, run_id])


@dataclass
class JobResult:
    run_id: int
    job: str
    gstin: str | None
    ok: bool
    error: str | None = None
    counts: dict | None = None


def run_job(job: str, gstin: str | None, work: Callable[[int], dict | None], *, clock=None,
            slot: dt.datetime | None = None, triggered_by: str = "cli") -> JobResult:
    """Record a job in job_runs around `work(run_id)`; an exception is recorded, not raised.

    StopRequested (SIGTERM) is recorded as stopped and re-raised so the loop can exit."""
    clock = clock or SystemClock()
    run_id = claim_run(job, gstin, clock.now(), slot, triggered_by)
    try:
        counts = work(run_id)
    except StopRequested:
        finish_run(run_id, clock.now(), False, "stopped by SIGTERM before finishing; "
                   "nothing it did was kept, and the slot runs again when the worker starts",
                   stopped=True)
        raise
    except Exception as exc:  # one job's failure must never stop the loop
        log.exception("%s %s failed", job, gstin or "")
        error = f"{type(exc).__name__}: {exc}"
        finish_run(run_id, clock.now(), False, error)
        return JobResult(run_id, job, gstin, False, error)
    counts = counts if isinstance(counts, dict) or counts is None else {"result": counts}
    finish_run(run_id, clock.now(), True, None, counts)
    return JobResult(run_id, job, gstin, True, None, counts)


def close_abandoned_runs(now: dt.datetime) -> int:
    """At start (with the worker lock held): scheduled runs left unfinished by a worker that
    died are marked failed. They keep their slot, so a job that kills its worker does not
    run again and again."""
    with connect() as con:
        return con.execute(
            "UPDATE job_runs SET finished_at = ?, ok = false, "
            "error = 'abandoned: the worker stopped during this job (killed or crashed)' "
            "WHERE finished_at IS NULL AND triggered_by IN ('schedule', 'catch-up')",
            [to_store(now)]).fetchall()[0][0]


# ---------------------------------------------------------------- the worker's tick


def default_jobs() -> dict[str, Callable[..., dict | None]]:
    """The real jobs, each called as fn(gstin, run_id, slot, triggered_by): fetch (IMS, then
    GSTR-2A: core.fetch), sync (core.sync), poll uploads in flight (core.upload)."""
    def fetch(gstin: str, run_id: int, slot, triggered_by: str):
        from core.fetch import fetch_business
        return _as_counts(fetch_business(gstin, actor="worker", triggered_by=triggered_by,
                                         slot=to_store(slot)))

    def sync(gstin: str, run_id: int, slot, triggered_by: str):
        from core.sync import apply_sync
        return apply_sync(gstin, actor="worker", job_run_id=run_id)

    def poll(gstin: str, run_id: int, slot, triggered_by: str):
        from core.upload import poll_uploads
        return poll_uploads(gstin)

    return {FETCH: fetch, SYNC: sync, POLL: poll}


def _as_counts(result) -> dict | None:
    if result is None or isinstance(result, dict):
        return result
    if hasattr(result, "__dataclass_fields__"):
        from dataclasses import asdict
        return asdict(result)
    return {"result": str(result)}


class Worker:
    """What `python worker.py` does each minute: run the due fetches and syncs, poll uploads.

    `clock` and `jobs` are injectable; the schedule itself is read from the store on every
    tick, so changes made in the app apply without a restart."""

    def __init__(self, clock=None, jobs: dict | None = None):
        self.clock = clock or SystemClock()
        self.jobs = {**default_jobs(), **(jobs or {})}
        self.started_at = self.clock.now()
        self.busy = False  # True while a job's work runs (SIGTERM may interrupt it then)

    def due(self) -> list[DueJob]:
        now = self.clock.now()
        with connect() as con:
            businesses = load_businesses(con)
            states = slot_states(con, businesses, now)
        return due_jobs(now, businesses, states, self.started_at)

    def tick(self) -> list[JobResult]:
        """Run everything due now, then poll uploads in flight."""
        results = [self.run(j.job, j.gstin, j.slot, j.triggered_by) for j in self.due()]
        return results + self.poll()

    def poll(self) -> list[JobResult]:
        from core.upload import gstins_with_pending_uploads
        return [self.run(POLL, g, None, "schedule") for g in gstins_with_pending_uploads()]

    def run(self, job: str, gstin: str, slot: dt.datetime | None, triggered_by: str) -> JobResult:
        fn = self.jobs[job]

        def work(run_id: int):
            self.busy = True
            try:
                return fn(gstin, run_id, slot, triggered_by)
            finally:
                self.busy = False

        result = run_job(job, gstin, work, clock=self.clock, slot=slot, triggered_by=triggered_by)
        log.info("%s %s %s: %s", triggered_by, job, gstin,
                 "ok" if result.ok else f"FAILED {result.error}")
        return result
