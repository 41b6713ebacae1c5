"""The worker's daily backup: when it is due, the job itself (a backup, then retention), and
what the Dashboard and `python worker.py status` say about it (docs/backups.md).

The backup is one recorded job (`core.jobs.runs`, job `backup`, no GSTIN): a failure is a failed
run with its reason, shown like any other. It is due once a day at `backup_time` (IMS_TZ);
like a fetch, a slot is served by any scheduled run on the same day, and a worker that was
down at that time catches up once when it starts. Old backups are pruned (N daily, M
monthly) only after a backup succeeded.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from core.backup.errors import BackupError
from core.backup.retention import Found, list_backups, prune
from core.backup.settings import BackupSettings, backup_settings, load_backup_settings
from core.backup.snapshot import take_backup
from core.clock import SystemClock, aware, business_tz, from_store, to_store
from core.figures import counted
from core.jobs import SCHEDULED, DueJob, JobResult, latest_slot, next_fetch_time, run_job
from core.store import connect, team_mode
from core.timefmt import shown_time

BACKUP = "backup"
ON_SERVER = ("the store is on a PostgreSQL server (team mode), which the worker does not back "
             "up: back it up with pg_dump and restore with pg_restore (docs/store.md, "
             "\"Backups in team mode\")")
STALE_AFTER = dt.timedelta(hours=26)


def _slot_served(con, slot: dt.datetime) -> bool:
    day = slot.astimezone(business_tz()).date()
    start = dt.datetime.combine(day, dt.time(0), business_tz())
    rows = con.execute(
        "SELECT count(*) FROM job_runs WHERE job = ? AND list_contains(?, triggered_by) "
        "AND NOT coalesce(stopped, false) AND slot >= ? AND slot < ?",
        [BACKUP, list(SCHEDULED), to_store(start),
         to_store(start + dt.timedelta(days=1))]).fetchall()
    return rows[0][0] > 0


def due_backup(now: dt.datetime, started_at: dt.datetime | None = None) -> DueJob | None:
    """The backup to run now, or None (off, or today's slot is served or still ahead; never in
    team mode: the PostgreSQL server is backed up with its own pg_dump)."""
    if team_mode():
        return None
    with connect(read_only=True) as con:
        s = load_backup_settings(con)
        if not s.on:
            return None
        slot = latest_slot({"fetch_time": s.time}, now)
        if _slot_served(con, slot):
            return None
    late = started_at is not None and slot < aware(started_at) - dt.timedelta(minutes=1)
    return DueJob(BACKUP, None, slot, "catch-up" if late else "schedule")


def back_up_and_prune(now: dt.datetime, source: str) -> dict:
    """A backup into the Settings folder, then retention -> the counts kept in job_runs."""
    if team_mode():
        raise BackupError(ON_SERVER)
    s = backup_settings()
    done = take_backup(lambda: connect(read_only=True), s.path, now, source=source)
    pruned = prune(s.path, s.keep_daily, s.keep_monthly)
    return {**done, "kept": len(pruned["kept"]), "removed": len(pruned["removed"])}


def backup_job(clock) -> Callable[..., dict]:
    """The job the worker runs, called as fn(gstin, run_id, slot, triggered_by)."""
    def run(gstin, run_id: int, slot, triggered_by: str) -> dict:
        return back_up_and_prune(clock.now(), source=triggered_by)
    return run


def backup_now(actor: str, clock=None) -> JobResult:
    """A backup (and retention) now, asked for by someone in the app: a recorded job that
    does not serve the day's scheduled slot."""
    clock = clock or SystemClock()
    return run_job(BACKUP, None, lambda run_id: back_up_and_prune(
        clock.now(), source=f"app:{actor}"), triggered_by=f"app:{actor}", clock=clock)


# ---------------------------------------------------------------- what people see


def _last_run(con) -> dict | None:
    rows = con.execute(
        "SELECT finished_at, ok, error, triggered_by FROM job_runs "
        "WHERE job = ? AND finished_at IS NOT NULL ORDER BY started_at DESC, run_id DESC "
        "LIMIT 1", [BACKUP]).fetchall()
    if not rows:
        return None
    finished, ok, error, by = rows[0]
    return {"at": from_store(finished), "ok": ok, "error": error, "by": by}


def backup_status(now: dt.datetime | None = None) -> dict:
    """The settings, the last backup run (worker or app), the newest backup in the folder
    (any: also those of `python -m core.db backup`), the next one, and whether to worry."""
    now = now or SystemClock().now()
    with connect(read_only=True) as con:
        s = load_backup_settings(con)
        last = _last_run(con)
    found = list_backups(s.path)
    newest: Found | None = found[-1] if found else None
    next_at = None
    if s.on:
        due = due_backup(now)
        next_at = aware(now).astimezone(business_tz()) if due else \
            next_fetch_time({"fetch_time": s.time}, now + dt.timedelta(seconds=1))
    stale = newest is None or aware(now) - newest.taken_at.replace(tzinfo=dt.UTC) > STALE_AFTER
    return {"settings": s, "last_run": last, "newest": newest, "count": len(found),
            "next_at": next_at, "stale": stale, "on_server": team_mode()}


def _when(moment: dt.datetime | None) -> str:
    return shown_time(moment, "-")


def describe(status: dict, with_folder: bool = True) -> list[str]:
    """The backup state in words (`python worker.py status`, the Dashboard); times in the
    business time zone, labelled; the folder only `with_folder` (admins: it is where the
    store's copies live)."""
    if team_mode():
        return [ON_SERVER]
    s: BackupSettings = status["settings"]
    last, newest = status["last_run"], status["newest"]
    lines = []
    if last and not last["ok"]:
        lines.append(f"the last backup FAILED at {_when(last['at'])}: {last['error']}")
    elif last:
        lines.append(f"the last backup ran at {_when(last['at'])} and succeeded")
    if newest:
        lines.append(f"newest backup {newest.name} taken {_when(newest.taken_local)} "
                     f"({counted(newest.rows, 'row')}, {newest.bytes / 1e6:,.1f} MB); "
                     f"{status['count']} kept" + (f" in {s.path}" if with_folder else ""))
    else:
        lines.append(f"no backup in {s.path} yet" if with_folder else "no backup yet")
    zone = dt.datetime.now(business_tz()).strftime("%Z")
    lines.append(f"daily at {s.time} {zone}, next {_when(status['next_at'])}; keeping the last "
                 f"{s.keep_daily} daily and {s.keep_monthly} monthly" if s.on else
                 "daily backups are off (Settings, or: python worker.py settings set "
                 "backup_time 02:00)")
    return lines
