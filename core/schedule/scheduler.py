"""The worker's tick: run the fetches and syncs that are due, the day's GSTR-2B fetch after
its fetch, then poll uploads in flight.

What is due comes from `core.jobs.slots` (the arithmetic) and `core.schedule.status` (what the store
says has run); each job runs as one recorded run (`core.jobs.runs`). The schedule is read from the
store on every tick, so changes made in the app or with `python worker.py settings` apply
without a restart. The clock and the jobs are injectable (`ManualClock` in tests).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from core.backup import BACKUP, backup_job, due_backup
from core.business import load_businesses
from core.clock import SystemClock, to_store
from core.digest import DIGEST, digest_job, due_digest, mail_job_failures
from core.gstr2b import due_2b_jobs, fetch_due_2b
from core.ims import apply_sync, gstins_with_pending_uploads, ingest_business, poll_uploads
from core.jobs import FETCH, GSTR2B, POLL, SYNC, DueJob, JobResult, due_jobs
from core.jobs import runs as jobs
from core.mail import retry_due_mails
from core.portal import GstnClient
from core.portal import sessions as gsp_sessions
from core.schedule.status import slot_states
from core.store import connect, several_workers
from core.suppliers import review_cases, send_reminders

log = logging.getLogger(__name__)


def fetch_job(gstin: str, run_id: int, slot, triggered_by: str) -> dict:
    """IMS, then GSTR-2A (core.ims.fetch), inside the scheduled run."""
    return ingest_business(GstnClient(), gstin, "worker")


def sync_job(gstin: str, run_id: int, slot, triggered_by: str) -> dict:
    """Recommendations onto the IMS records (core.ims.sync)."""
    done = apply_sync(gstin, actor="worker", job_run_id=run_id)
    return {**done, **follow_up_suppliers(gstin)}


def follow_up_suppliers(gstin: str) -> dict:
    """After a sync: supplier cases whose records a fetch shows fixed, then reminders of sent
    cases with no reply (docs/suppliers.md). A failure here is logged and reported with the
    sync's counts, never the sync's failure."""
    try:
        reviewed = review_cases(gstin)         # fixed records are not reminded of
        reminded = send_reminders(gstin)
    except Exception as exc:  # noqa: BLE001 - the sync itself is done and stays done
        log.warning("supplier follow-up for %s failed: %s", gstin, exc)
        return {"supplier_follow_up_error": f"supplier cases not reviewed: {exc}"}
    return {"supplier_cases": reviewed,
            "supplier_reminders": sum(r.state == "sent" for r in reminded)}


def poll_job(gstin: str, run_id: int, slot, triggered_by: str) -> dict:
    """Uploads in flight (core.ims.upload)."""
    return poll_uploads(gstin)


def gstr2b_job(gstin: str, run_id: int, slot, triggered_by: str) -> dict:
    """The GSTR-2B of the period due, fetched once its date has come (core.gstr2b.schedule)."""
    return fetch_due_2b(gstin)


def refresh_job(gstin: str, run_id: int, slot, triggered_by: str) -> dict:
    """A GSTIN's GSP session token, refreshed ahead of its expiry (core.portal.sessions)."""
    return gsp_sessions.refresh_session(gstin)


def fetching_elsewhere() -> set[str]:
    """Team mode: the businesses whose fetch another worker runs now (a run not finished; one
    whose worker died is closed as abandoned a minute on, and its fetch is then due again)."""
    if not several_workers():
        return set()
    with connect(read_only=True) as con:
        return {r[0] for r in con.execute("SELECT DISTINCT gstin FROM job_runs WHERE job = ? "
                                          "AND finished_at IS NULL", [FETCH]).fetchall()}


def default_jobs() -> dict[str, Callable[..., dict | None]]:
    """The real jobs, each called as fn(gstin, run_id, slot, triggered_by)."""
    return {FETCH: fetch_job, SYNC: sync_job, POLL: poll_job, GSTR2B: gstr2b_job,
            gsp_sessions.REFRESH_JOB: refresh_job}


class Worker:
    """What `python worker.py` does each minute: close runs whose process is gone, run the
    due fetches and syncs, poll uploads.

    `clock` and `jobs` are injectable; the schedule itself is read from the store on every
    tick, so changes made in the app apply without a restart."""

    def __init__(self, clock=None, jobs: dict | None = None, backups: bool = False,
                 mail: bool = False):
        self.clock = clock or SystemClock()
        self.jobs = {**default_jobs(), BACKUP: backup_job(self.clock),
                     DIGEST: digest_job(self.clock), **(jobs or {})}
        self.backups = backups  # the daily backup: the worker process takes it (worker.py)
        self.mail = mail        # the digest, job-failure mails and mail retries (worker.py)
        self.started_at = self.clock.now()
        self.busy = False  # True while a job's work runs (SIGTERM may interrupt it then)

    def due(self) -> list[DueJob]:
        now = self.clock.now()
        with connect() as con:
            businesses = load_businesses(con)
            states = slot_states(con, businesses, now)
        return due_jobs(now, businesses, states, self.started_at)

    def tick(self) -> list[JobResult]:
        """Close abandoned runs, run everything due now, poll uploads in flight, back up."""
        jobs.close_abandoned_runs(to_store(self.clock.now()))
        refreshed = [self.run(gsp_sessions.REFRESH_JOB, g, None, "schedule")
                     for g in gsp_sessions.sessions_due_for_refresh(to_store(self.clock.now()))]
        done = refreshed + self.run_due() + self.gstr2b() + self.poll() + self.backup() \
            + self.digest()
        self.mails()
        return done

    def run_due(self) -> list[JobResult]:
        """The due fetches and syncs in order. In team mode a business whose fetch another
        worker holds is left to that worker for the tick, its sync too: a sync run now would
        read the records as they were before that fetch and serve the slot with them."""
        results, elsewhere = [], fetching_elsewhere()
        for j in self.due():
            if j.job == SYNC and j.gstin in elsewhere:
                continue
            result = self.run(j.job, j.gstin, j.slot, j.triggered_by)
            if j.job == FETCH and result.skipped:
                elsewhere.add(j.gstin)
            results.append(result)
        return results

    def gstr2b(self) -> list[JobResult]:
        """The day's GSTR-2B fetch per business, after its fetch (core/gstr2b/schedule.py)."""
        with connect() as con:
            businesses = load_businesses(con)
        return [self.run(j.job, j.gstin, j.slot, j.triggered_by)
                for j in due_2b_jobs(self.clock.now(), businesses, self.started_at)]

    def poll(self) -> list[JobResult]:
        return [self.run(POLL, g, None, "schedule") for g in gstins_with_pending_uploads()
                if gsp_sessions.can_call_portal(g)]

    def backup(self) -> list[JobResult]:
        """The daily backup of the store when it is due (core/backup/job.py)."""
        due = due_backup(self.clock.now(), self.started_at) if self.backups else None
        return [self.run(BACKUP, None, due.slot, due.triggered_by)] if due else []

    def digest(self) -> list[JobResult]:
        """The daily digest when its time has come (core/digest/job.py)."""
        due = due_digest(self.clock.now(), self.started_at) if self.mail else None
        return [self.run(DIGEST, None, due.slot, due.triggered_by)] if due else []

    def mails(self) -> None:
        """A mail to the admins for each job that failed, then the mails due for a retry;
        a mail server that is down never stops the tick."""
        if not self.mail:
            return
        try:
            mail_job_failures()
            retry_due_mails(now=to_store(self.clock.now()))
        except Exception:
            log.exception("mail step failed; trying again next minute")

    def run(self, job: str, gstin: str, slot: dt.datetime | None,
            triggered_by: str) -> JobResult:
        fn = self.jobs[job]

        def work(run_id: int):
            self.busy = True
            try:
                return fn(gstin, run_id, slot, triggered_by)
            finally:
                self.busy = False

        result = jobs.run_job(job, gstin, work, clock=self.clock, slot=slot,
                              triggered_by=triggered_by)
        log.info("%s %s %s: %s", triggered_by, job, gstin,
                 "ok" if result.ok else f"FAILED {result.error}")
        return result
