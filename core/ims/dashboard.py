"""The Dashboard's figures: counts by portal and recommended action, ITC by match status,
job health (the worker, runs stopped before they finished). The deadline panel is
core/calendar/panel.py.
"""
from __future__ import annotations

import datetime as dt
import fcntl
from pathlib import Path

import polars as pl

from core.clock import SystemClock, from_store, utc_now
from core.env_numbers import whole_number
from core.jobs import runs as jobs
from core.matched import matched_sql
from core.store import connect, latest, query_frame, team_mode, worker_lock_path, worker_present

SCOPE = "removed_at IS NULL AND list_contains(?::VARCHAR[], rtin)"
TAX = "coalesce(igst, 0) + coalesce(cgst, 0) + coalesce(sgst, 0) + coalesce(cess, 0)"
WEEK = dt.timedelta(days=7)
STALE_AFTER = dt.timedelta(hours=26)
REFRESH_VARIABLE = "IMS_DASHBOARD_REFRESH_S"


def job_health_refresh_seconds() -> int:
    """How often the Dashboard's job health redraws itself (and checks the session): 30 s, or
    IMS_DASHBOARD_REFRESH_S whole seconds (tests shorten it)."""
    return whole_number(REFRESH_VARIABLE, 30, 1, None, "of seconds, 1 or more")


def action_counts(gstins: list[str]) -> pl.DataFrame:
    """Per business: records by the portal's action, by our recommendation, and how many are
    matched to the books (by the engine or by hand: core/matched.py)."""
    with connect() as con:
        return query_frame(con, f"""
            SELECT b.name AS business, r.rtin AS gstin, count(*) AS total,
                   count(*) FILTER (WHERE coalesce(portal_action, 'N') = 'N') AS no_action,
                   count(*) FILTER (WHERE portal_action = 'A') AS accepted,
                   count(*) FILTER (WHERE portal_action = 'R') AS rejected,
                   count(*) FILTER (WHERE portal_action = 'P') AS pending,
                   count(*) FILTER (WHERE recommended_action = 'A') AS recommend_accept,
                   count(*) FILTER (WHERE recommended_action = 'R') AS recommend_reject,
                   count(*) FILTER (WHERE recommended_action = 'P') AS recommend_pending,
                   count(*) FILTER (WHERE recommended_action IS NULL) AS not_synced,
                   count(*) FILTER (WHERE {matched_sql()}) AS matched
            FROM ims_records r LEFT JOIN businesses b ON b.gstin = r.rtin
            WHERE {SCOPE} GROUP BY b.name, r.rtin ORDER BY business""", [list(gstins)])


def itc_by_status(gstins: list[str]) -> pl.DataFrame:
    """ITC (total tax, rupees) and record count per business and match status."""
    with connect() as con:
        return query_frame(con, f"""
            SELECT rtin AS gstin, coalesce(match_status, 'not synced') AS match_status,
                   count(*) AS records, sum({TAX})::DOUBLE AS itc
            FROM ims_records WHERE {SCOPE} GROUP BY 1, 2 ORDER BY gstin, itc DESC""", [list(gstins)])


def records_as_of(gstins: list[str]) -> dt.datetime | None:
    """When the IMS records shown were last seen on the portal (the latest fetch), in IMS_TZ."""
    with connect(read_only=True) as con:
        rows = con.execute(f"SELECT max(last_seen) FROM ims_records WHERE {SCOPE}",
                           [list(gstins)]).fetchall()
    return from_store(rows[0][0])


JOB_WORDS = {jobs.FETCH: "Fetch (IMS and GSTR-2A)", jobs.FETCH_IMS: "IMS fetch",
             jobs.FETCH_2A: "GSTR-2A fetch", jobs.SYNC: "Sync", jobs.POLL: "Upload check"}


def job_words(job: str | None) -> str:
    """A job's name as people say it ('fetch_ims' -> 'IMS fetch')."""
    return JOB_WORDS.get(job or "", (job or "").replace("_", " ").capitalize())


def run_words(when: str, ok: bool | None) -> str:
    """'12 Nov 2025, 11:30 IST: worked' / '...: failed (see Last error)' / 'never'."""
    if not when:
        return "never"
    return f"{when}: worked" if ok else f"{when}: failed (see Last error)"


def error_words(error: str | None, when: str) -> str:
    """The last failure in words: 'IMS fetch failed on 11 Nov 2025, 11:30 IST: HTTP 503 from
    GSP' (core/schedule/status.py keeps it as 'job: error')."""
    if not error:
        return "none"
    job, _, text = error.partition(": ")
    return f"{job_words(job)} failed on {when}: {text}" if text else f"Failed on {when}: {job}"


def job_health(gstins: list[str]) -> pl.DataFrame:
    """Per business and job: last run, whether it worked, failures in the last 7 days."""
    with connect() as con:
        return query_frame(con, f"""
            WITH runs AS (SELECT * FROM job_runs WHERE list_contains(?::VARCHAR[], gstin))
            SELECT b.name AS business, b.gstin, j.job, max(j.started_at) AS last_started,
                   {latest('j.finished_at', 'j.started_at')} AS last_finished,
                   {latest('j.ok', 'j.started_at')} AS last_ok,
                   {latest('j.error', 'j.started_at')} AS last_error,
                   count(*) FILTER (WHERE NOT j.ok AND j.started_at > ?) AS failures_7d
            FROM businesses b JOIN runs j ON j.gstin = b.gstin
            WHERE list_contains(?::VARCHAR[], b.gstin)
            GROUP BY b.name, b.gstin, j.job ORDER BY business, job""",
                           [list(gstins), utc_now() - WEEK, list(gstins)])


def last_job_time(gstins: list[str]) -> dt.datetime | None:
    """When any job for these businesses last started, aware in IMS_TZ (None: never)."""
    with connect() as con:
        rows = con.execute("SELECT max(started_at) FROM job_runs "
                           "WHERE list_contains(?::VARCHAR[], gstin)", [list(gstins)]).fetchall()
    return from_store(rows[0][0])


def worker_state(gstins: list[str]) -> dict:
    """Whether the worker runs, when a job last started, and whether that is stale: a
    running worker with no job for 26 hours has nothing enabled or is stuck."""
    last = last_job_time(gstins)
    stale = last is not None and SystemClock().now() - last > STALE_AFTER
    return {"running": worker_running(), "last": last, "stale": stale}


def stopped_runs(gstins: list[str]) -> pl.DataFrame:
    """Runs of the last 7 days stopped before they finished (SIGTERM, or their process
    died), newest first, with times in IMS_TZ."""
    rows = jobs.stopped_runs(gstins, days=WEEK.days)
    return pl.DataFrame([{**r, "started_at": from_store(r["started_at"]),
                          "finished_at": from_store(r["finished_at"])} for r in rows],
                        schema_overrides={"error": pl.Utf8, "gstin": pl.Utf8})


def worker_running(path: Path | None = None) -> bool | None:
    """Is a worker loop running for this store? It holds an exclusive flock on its lock file
    for its lifetime; a shared lock tried without waiting (and let go at once) fails exactly
    then. False when the file is missing (no worker ever started here); None when the file
    cannot be read (say so rather than guess). In team mode: whether any worker, on any
    machine, holds the workers' shared claim on the server."""
    if path is None and team_mode():
        return worker_present()
    try:
        with open(path or worker_lock_path(), "rb") as handle:
            return _held_by_another(handle)
    except FileNotFoundError:
        return False
    except OSError:
        return None


def _held_by_another(handle) -> bool | None:
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    fcntl.flock(handle, fcntl.LOCK_UN)
    return False
