"""The worker's loop: one instance at a time on a DuckDB store (a lock file beside the
database; in team mode on PostgreSQL any number, the jobs' claims share the work), a tick every minute, a clean stop on SIGTERM or Ctrl-C (docs/architecture.md,
"The worker")."""
from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
from pathlib import Path

import schedule

from core.jobs import StopRequested, close_abandoned_runs
from core.schedule.scheduler import Worker
from core.store import announce_worker, db_path, team_mode, worker_lock_path

log = logging.getLogger("worker")


class WorkerAlreadyRunning(RuntimeError):
    pass


def acquire_lock(path: Path | None = None) -> int:
    """Hold an exclusive flock for this process's lifetime (the open file descriptor it
    returns); raise if another worker has it."""
    path = path or worker_lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise WorkerAlreadyRunning(
            f"Another worker is already running for {db_path()} (pid {holder}, lock {path}). "
            "Only one worker may run at a time; stop the other one first.") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def install_stop_handler(worker: Worker, stop: threading.Event) -> None:
    """SIGTERM/SIGINT: stop the loop; a job that is running is abandoned (rolled back)."""
    def on_signal(signum, frame):
        log.info("signal %s received: stopping", signum)
        stop.set()
        if worker.busy:
            worker.busy = False
            raise StopRequested()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def safe_tick(worker: Worker) -> None:
    """One tick; a failure outside the jobs (e.g. database busy) is logged, never fatal."""
    try:
        worker.tick()
    except Exception:
        log.exception("tick failed; trying again next minute")


def run_loop(worker: Worker, stop: threading.Event) -> None:
    ticker = schedule.Scheduler()
    ticker.every().minute.at(":00").do(safe_tick, worker)
    safe_tick(worker)  # at start: catch up once on anything missed while down
    while not stop.is_set():
        ticker.run_pending()
        stop.wait(timeout=min(max(ticker.idle_seconds or 1.0, 0.1), 60.0))


def start_locked():
    """The worker's start: on the DuckDB file the lock file (one worker per store); in team
    mode no lock file, since several workers share the PostgreSQL store (on one machine or
    many) and each job's claim (core.store.claimed) lets one of them run it; the worker
    holds a shared claim instead, so the app can tell a worker runs."""
    handle = announce_worker() if team_mode() else acquire_lock()
    close_abandoned_runs()
    return handle
