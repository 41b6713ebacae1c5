"""Job bookkeeping (`job_runs`) and the schedule's slot arithmetic."""
from __future__ import annotations

from core.jobs.runs import (
    FETCH_JOBS,
    GSTR2B,
    GSTR2B_REGENERATE,
    POLL,
    SCHEDULED,
    JobResult,
    StopRequested,
    close_abandoned_runs,
    process_alive,
    record_run,
    run_alive,
    run_job,
)
from core.jobs.slots import (
    FETCH,
    SYNC,
    SYNC_WINDOW,
    DueJob,
    SlotState,
    due_jobs,
    latest_slot,
    next_fetch_time,
    parse_fetch_time,
)

__all__ = ["FETCH", "FETCH_JOBS", "GSTR2B", "GSTR2B_REGENERATE", "POLL", "SCHEDULED", "SYNC", "SYNC_WINDOW", "DueJob", "JobResult", "SlotState", "StopRequested", "close_abandoned_runs", "due_jobs", "latest_slot", "next_fetch_time", "parse_fetch_time", "process_alive", "record_run", "run_alive", "run_job"]
