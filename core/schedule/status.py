"""What the store says about each business's jobs: its latest slot, last and next runs.

`slot_states` feeds the worker's tick (what is due); `business_job_status` is what
`python worker.py status`, the Dashboard and the Settings page show. A slot is served by any
scheduled run on the same day (IMS_TZ), so changing the fetch time never runs a day twice.
Times returned are aware, in IMS_TZ.
"""
from __future__ import annotations

import datetime as dt

from core.business import load_businesses
from core.clock import SystemClock, aware, business_tz, from_store, to_store
from core.gstr2b import last_2b_words
from core.jobs import (
    FETCH,
    FETCH_JOBS,
    SCHEDULED,
    SYNC,
    SYNC_WINDOW,
    SlotState,
    due_jobs,
    latest_slot,
    next_fetch_time,
)
from core.store import connect, several_workers


def slot_state(con, gstin: str, slot: dt.datetime) -> SlotState:
    """Has the slot's fetch run (and finished), has its sync run? Scheduled runs only; a run
    stopped on purpose (SIGTERM) does not serve its slot, an abandoned one does, except in
    team mode: there its worker died and another worker takes the job over."""
    dead = "OR coalesce(abandoned, false)" if several_workers() else ""
    local = slot.astimezone(business_tz())
    day_start = dt.datetime.combine(local.date(), dt.time(0), business_tz())
    day_end = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0),
                                  business_tz())
    row = con.execute(
        f"""SELECT coalesce(bool_or(job = ?), false),
                  coalesce(bool_or(job = ? AND finished_at IS NOT NULL), false),
                  coalesce(bool_or(job = ?), false)
           FROM job_runs
           WHERE gstin = ? AND list_contains(?, triggered_by)
             AND NOT (coalesce(stopped, false) {dead})
             AND slot >= ? AND slot < ?""",
        [FETCH, FETCH, SYNC, gstin, list(SCHEDULED), to_store(day_start),
         to_store(day_end)]).fetchall()
    return SlotState(*row[0])


def slot_states(con, businesses: list, now: dt.datetime) -> dict[str, SlotState]:
    states = {}
    for b in businesses:
        try:
            states[b["gstin"]] = slot_state(con, b["gstin"], latest_slot(b, now))
        except ValueError:
            continue
    return states


def _last_run(con, gstin: str, jobs: tuple[str, ...]):
    rows = con.execute(
        "SELECT started_at, finished_at, ok, error FROM job_runs WHERE gstin = ? "
        "AND list_contains(?, job) AND finished_at IS NOT NULL "
        "ORDER BY started_at DESC, run_id DESC LIMIT 1", [gstin, list(jobs)]).fetchall()
    return rows[0] if rows else None


def _last_error(con, gstin: str):
    rows = con.execute(
        "SELECT finished_at, job, error FROM job_runs WHERE gstin = ? AND ok = false "
        "ORDER BY finished_at DESC NULLS LAST, run_id DESC LIMIT 1", [gstin]).fetchall()
    return rows[0] if rows else None


def _status_row(con, b: dict, now: dt.datetime) -> dict:
    fetch, sync = _last_run(con, b["gstin"], FETCH_JOBS), _last_run(con, b["gstin"], (SYNC,))
    err = _last_error(con, b["gstin"])
    row = {"gstin": b["gstin"], "name": b["name"], "enabled": b["enabled"],
           "fetch_time": b["fetch_time"], "sync_source": b["sync_source"],
           "last_fetch": from_store(fetch[1]) if fetch else None,
           "last_fetch_ok": fetch[2] if fetch else None,
           "last_sync": from_store(sync[1]) if sync else None,
           "last_sync_ok": sync[2] if sync else None,
           "last_error": f"{err[1]}: {err[2]}" if err else None,
           "last_error_at": from_store(err[0]) if err else None,
           "next_fetch": None, "sync_due_by": None, "problem": None,
           "last_gstr2b": last_2b_words(con, b["gstin"])}
    if not b["enabled"]:
        return row
    try:
        slot = latest_slot(b, now)
    except ValueError as exc:
        row["problem"] = str(exc)
        return row
    state = slot_state(con, b["gstin"], slot)
    kinds = {j.job for j in due_jobs(now, [b], {b["gstin"]: state})}
    row["next_fetch"] = aware(now).astimezone(business_tz()) if FETCH in kinds \
        else next_fetch_time(b, now + dt.timedelta(seconds=1))
    if b["sync_source"] != "off":
        pending_sync = (FETCH in kinds or SYNC in kinds or not state.sync_served) \
            and (b["created_at"] is None or to_store(slot) >= to_store(b["created_at"]))
        row["sync_due_by"] = slot + SYNC_WINDOW if pending_sync \
            else row["next_fetch"] + SYNC_WINDOW
    return row


def business_job_status(con=None, gstins: list[str] | None = None,
                        now: dt.datetime | None = None) -> list[dict]:
    """Per business: last fetch, next fetch, last sync, sync due by, last error, the last
    GSTR-2B run in words (+ settings).

    `next_fetch` is now when a fetch is due but has not run. Pass an open connection, or
    None to open one here."""
    now = now or SystemClock().now()
    if con is None:
        with connect() as own:
            return business_job_status(own, gstins, now)
    return [_status_row(con, b, now) for b in load_businesses(con, gstins)]
