"""Job bookkeeping: the one module that writes `job_runs` (docs/architecture.md, "The worker").

Every job (a fetch, a sync, an upload poll), whoever starts it (the worker's schedule, a
command, the app), is ONE row: written when the job starts (with the pid of the process
running it), completed when it ends with ok, error, counts. Job names:

- `fetch`: IMS, then GSTR-2A, of one business (`core.ims.fetch.fetch_business`, the schedule);
- `fetch_ims` / `fetch_2a`: only one of the two (`core.ims.fetch.fetch_ims` / `fetch_gstr2a`);
- `sync`: recommendations onto the IMS records; `poll`: uploads in flight;
- `gstr2b`: the daily GSTR-2B fetch (`core.gstr2b.schedule`); `gstr2b_regenerate`: GEN2B,
  GENSTS2B and the new 2B, asked for on the Dashboard (`core.gstr2b.panel`).

A run ends in one of these states: ok; failed (`error` says why); stopped on purpose
(SIGTERM, `stopped`: its slot runs again); or stopped because its process died (`abandoned`:
killed or crashed; it keeps its slot, so a job that kills its process does not run again and
again). Abandoned runs are closed by `close_abandoned_runs`, which the worker calls when it
starts and on every tick, and `python worker.py status` before it shows them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from core.clock import SystemClock, to_store, utc_now
from core.store import claimed, connect, several_workers

log = logging.getLogger(__name__)

FETCH, FETCH_IMS, FETCH_2A, SYNC, POLL = "fetch", "fetch_ims", "fetch_2a", "sync", "poll"
GSTR2B, GSTR2B_REGENERATE = "gstr2b", "gstr2b_regenerate"
FETCH_JOBS = (FETCH, FETCH_IMS, FETCH_2A)
SCHEDULED = ("schedule", "catch-up")
RUN_CLAIM_GRACE = dt.timedelta(minutes=1)
STOPPED_BY_SIGTERM = ("stopped by SIGTERM before finishing; nothing it did was kept, and the "
                      "slot runs again when the worker starts")


class StopRequested(BaseException):
    """Raised into a running job when the worker is asked to stop (SIGTERM).

    A BaseException so that a job's `except Exception` does not swallow it; every write
    is in a transaction, so the job's half-done work is rolled back."""


@dataclasses.dataclass
class JobResult:
    run_id: int
    job: str
    gstin: str | None
    ok: bool
    error: str | None = None
    counts: dict | None = None
    skipped: str | None = None      # team mode: why this worker did not run it (another did)


def start_run(job: str, gstin: str | None, *, triggered_by: str,
              slot: dt.datetime | None = None, now: dt.datetime | None = None) -> int:
    """The row that says this job started (before any work is done) -> run_id."""
    with connect() as con:
        return con.execute(
            "INSERT INTO job_runs (job, gstin, slot, started_at, triggered_by, pid) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING run_id",
            [job, gstin, to_store(slot), to_store(now) or utc_now(), triggered_by,
             os.getpid()]).fetchall()[0][0]


def finish_run(run_id: int, *, ok: bool, error: str | None = None, counts=None,
               stopped: bool = False, now: dt.datetime | None = None) -> None:
    with connect() as con:
        con.execute("UPDATE job_runs SET finished_at = ?, ok = ?, error = ?, counts = ?, "
                    "stopped = ? WHERE run_id = ?",
                    [to_store(now) or utc_now(), ok, error[:2000] if error else None,
                     json.dumps(counts, default=str) if counts else None, stopped, run_id])


def as_counts(result) -> dict | None:
    """What a job returned, as the dict kept in `job_runs.counts`."""
    if result is None or isinstance(result, dict):
        return result
    if dataclasses.is_dataclass(result):
        return dataclasses.asdict(result)
    return {"result": str(result)}


def failure_text(exc: BaseException) -> str:
    """Our own errors are written for people; anything else is named by its type."""
    if type(exc).__module__.startswith("core.") and str(exc):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def record_run(job: str, gstin: str | None, work: Callable[[int], object], *,
               triggered_by: str, slot: dt.datetime | None = None, clock=None) -> dict:
    """Run `work(run_id)` as a recorded job -> its counts and run_id. A failure is recorded,
    then raised (StopRequested is recorded as stopped)."""
    clock = clock or SystemClock()
    run_id = start_run(job, gstin, triggered_by=triggered_by, slot=slot, now=clock.now())
    try:
        with claimed(_run_claim(run_id)):   # team mode: other workers see the run is alive
            counts = as_counts(work(run_id))
    except StopRequested:
        finish_run(run_id, ok=False, error=STOPPED_BY_SIGTERM, stopped=True, now=clock.now())
        raise
    except BaseException as exc:
        finish_run(run_id, ok=False, error=failure_text(exc), now=clock.now())
        raise
    finish_run(run_id, ok=True, counts=counts, now=clock.now())
    return {**(counts or {}), "run_id": run_id}


def run_job(job: str, gstin: str | None, work: Callable[[int], object], *,
            triggered_by: str, slot: dt.datetime | None = None, clock=None) -> JobResult:
    """Like `record_run`, but a failure is returned, not raised (one job's failure must never
    stop the worker's loop); StopRequested is still raised so that the loop can exit.

    In team mode (several workers on one PostgreSQL store) the job is first claimed for its
    business and slot: a job another worker runs now, or a slot another worker already
    finished, is skipped (`skipped` says which; run_id 0, nothing recorded)."""
    with claimed(f"{job}|{gstin or ''}|{slot.isoformat() if slot else ''}") as mine:
        if not mine:
            return JobResult(0, job, gstin, True, skipped="another worker is running it")
        if several_workers() and slot is not None and _slot_finished(job, gstin, slot):
            return JobResult(0, job, gstin, True, skipped="another worker already ran it")
        return _run_job(job, gstin, work, triggered_by=triggered_by, slot=slot, clock=clock)


def _slot_finished(job: str, gstin: str | None, slot: dt.datetime) -> bool:
    """Team mode: has another worker finished the slot's job? (A run abandoned by a worker
    that died did not: the job is taken over.)"""
    with connect(read_only=True) as con:
        return con.execute(
            "SELECT count(*) FROM job_runs WHERE job = ? AND gstin IS NOT DISTINCT FROM ? "
            "AND slot = ? AND finished_at IS NOT NULL AND NOT coalesce(stopped, false) "
            "AND NOT coalesce(abandoned, false)",
            [job, gstin, to_store(slot)]).fetchall()[0][0] > 0


def _run_job(job: str, gstin: str | None, work: Callable[[int], object], *,
             triggered_by: str, slot: dt.datetime | None, clock) -> JobResult:
    started: list[int] = []

    def tracked(run_id: int):
        started.append(run_id)
        return work(run_id)

    try:
        done = record_run(job, gstin, tracked, triggered_by=triggered_by, slot=slot, clock=clock)
    except Exception as exc:
        log.exception("%s %s failed", job, gstin or "")
        return JobResult(started[0], job, gstin, False, failure_text(exc))
    run_id = done.pop("run_id")
    return JobResult(run_id, job, gstin, True, None, done or None)


def process_alive(pid: int | None) -> bool:
    """Is process `pid` still running on this machine? (A zombie is not.)"""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def close_abandoned_runs(now: dt.datetime | None = None) -> int:
    """Runs of any kind left unfinished by a process that is gone are closed as stopped
    (abandoned). Runs whose process still runs are left alone. -> how many were closed."""
    now = to_store(now) or utc_now()
    with connect() as con:
        open_runs = con.execute("SELECT run_id, pid, started_at FROM job_runs "
                                "WHERE finished_at IS NULL").fetchall()
        gone = [(run_id, pid) for run_id, pid, started in open_runs
                if not _still_running(run_id, pid, started, now)]
        for run_id, pid in gone:
            con.execute(
                "UPDATE job_runs SET finished_at = ?, ok = false, abandoned = true, error = ? "
                "WHERE run_id = ? AND finished_at IS NULL",
                [now, _abandoned_text(pid), run_id])
    if gone:
        log.warning("%d job run(s) left unfinished by a process that is gone marked stopped",
                    len(gone))
    return len(gone)


def run_alive(run_id: int, pid: int | None, started: dt.datetime | None,
              now: dt.datetime | None = None) -> bool:
    """Is the job run still running somewhere? On the DuckDB file: its process (one machine);
    in team mode: its claim (the worker may run on another machine)."""
    return _still_running(run_id, pid, started, to_store(now) or utc_now())


def _run_claim(run_id: int) -> str:
    return f"run|{run_id}"


def _still_running(run_id: int, pid: int | None, started: dt.datetime, now: dt.datetime) -> bool:
    """On the DuckDB file: is its process alive (one machine)? In team mode the workers run on
    several machines, so a pid says nothing: a run is alive while its claim is held (the server
    lets a claim go when its process dies); a run younger than RUN_CLAIM_GRACE may not hold its
    claim yet."""
    if not several_workers():
        return process_alive(pid)
    if started is not None and now - started < RUN_CLAIM_GRACE:
        return True
    with claimed(_run_claim(run_id)) as free:
        return not free


def _abandoned_text(pid: int | None) -> str:
    process = f"the process running it (pid {pid})" if pid else "the process running it"
    return (f"stopped: {process} ended before the job finished (killed or crashed); any step "
            "it had not committed was rolled back")


def stopped_runs(gstins: list[str] | None = None, days: int = 7) -> list[dict]:
    """Runs of the last `days` days that were stopped (SIGTERM) or abandoned, newest first."""
    since = utc_now() - dt.timedelta(days=days)
    with connect() as con:
        rows = con.execute(
            "SELECT run_id, job, gstin, triggered_by, started_at, finished_at, error, abandoned "
            "FROM job_runs WHERE (stopped OR abandoned) AND started_at >= ? "
            "AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], gstin)) "
            "ORDER BY started_at DESC, run_id DESC",
            [since, gstins, gstins]).fetchall()
    cols = ("run_id", "job", "gstin", "triggered_by", "started_at", "finished_at", "error",
            "abandoned")
    return [dict(zip(cols, r)) for r in rows]
