"""The IMS Reco Sync worker: the daily schedule loop and the job commands.

    python worker.py                        the loop: every minute, run what is due
    python worker.py once                   run whatever is due now, then exit
    python worker.py fetch [--gstin G ...]  fetch now (all enabled businesses by default)
    python worker.py sync [--gstin G ...]   reconcile and write recommendations now
    python worker.py poll                   ask the portal about uploads in flight
    python worker.py status                 per business: last/next fetch, last sync, due by, error

The loop and `once` hold a lock file beside the database (one instance at a time); a
second one exits with status 3. SIGTERM or Ctrl-C stops the loop cleanly (exit 0): a job
that is running is abandoned, its transaction rolled back, and it runs again on the next
start. The jobs themselves live in core/ (scheduler, fetch, sync, upload).
"""
from __future__ import annotations

import argparse
import fcntl
import logging
import os
import signal
import sys
import threading
from pathlib import Path

import schedule

from core import scheduler
from core.db import connect, db_path
from core.scheduler import StopRequested, Worker

log = logging.getLogger("worker")
EXIT_LOCKED = 3


class WorkerAlreadyRunning(RuntimeError):
    pass


def lock_path() -> Path:
    return Path(db_path()).resolve().with_name("worker.lock")


def acquire_lock(path: Path | None = None):
    """Hold an exclusive flock for this process's lifetime; raise if another worker has it."""
    path = path or lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise WorkerAlreadyRunning(
            f"Another worker is already running for {db_path()} (pid {holder}, lock {path}). "
            "Only one worker may run at a time; stop the other one first.") from None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


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
    except StopRequested:
        raise
    except Exception:
        log.exception("tick failed; trying again next minute")


def run_loop(worker: Worker, stop: threading.Event) -> None:
    ticker = schedule.Scheduler()
    ticker.every().minute.at(":00").do(safe_tick, worker)
    safe_tick(worker)  # at start: catch up once on anything missed while down
    while not stop.is_set():
        ticker.run_pending()
        stop.wait(timeout=min(max(ticker.idle_seconds or 1.0, 0.1), 60.0))


def start_locked() -> object:
    handle = acquire_lock()
    closed = scheduler.close_abandoned_runs(scheduler.SystemClock().now())
    if closed:
        log.warning("%d scheduled job(s) left unfinished by a previous worker marked failed", closed)
    return handle


# ---------------------------------------------------------------- commands


def cmd_loop(args) -> int:
    _lock = start_locked()
    worker, stop = Worker(), threading.Event()
    install_stop_handler(worker, stop)
    log.info("worker started (pid %d, database %s, IMS_TZ %s)", os.getpid(), db_path(),
             scheduler.business_tz().key)
    try:
        run_loop(worker, stop)
    except StopRequested:
        pass
    log.info("worker stopped")
    return 0


def cmd_once(args) -> int:
    _lock = start_locked()
    worker = Worker()
    install_stop_handler(worker, threading.Event())
    try:
        results = worker.tick()
    except StopRequested:
        return 0
    for r in results:
        print(f"{r.job:6} {r.gstin or '':15}  {'ok' if r.ok else 'FAILED: ' + (r.error or '')}")
    if not results:
        print("nothing due")
    return 0 if all(r.ok for r in results) else 1


def _chosen(gstins: list[str] | None) -> list[dict]:
    with connect() as con:
        businesses = scheduler.load_businesses(con, [g.strip().upper() for g in gstins] if gstins else None)
    if gstins:
        unknown = sorted({g.strip().upper() for g in gstins} - {b["gstin"] for b in businesses})
        if unknown:
            raise SystemExit(f"worker: unknown business GSTIN(s): {', '.join(unknown)} "
                             "(add them on the Settings page first)")
        return businesses
    return [b for b in businesses if b["enabled"]]


def cmd_fetch(args) -> int:
    from core.fetch import fetch_businesses
    gstins = [b["gstin"] for b in _chosen(args.gstin)]
    results = fetch_businesses(gstins, actor="cli", triggered_by="cli")
    for gstin, r in results.items():
        if r.get("ok"):
            ims, gstr2a = r.get("ims") or {}, r.get("gstr2a") or {}
            print(f"fetch {gstin}: ok, IMS {ims.get('total', '?')} records ({ims.get('new', 0)} new, "
                  f"{ims.get('changed', 0)} changed, {ims.get('removed', 0)} removed), "
                  f"GSTR-2A {gstr2a.get('total', '?')} documents")
        else:
            print(f"fetch {gstin}: FAILED: {r.get('error')}")
    if not results:
        print("no enabled businesses to fetch")
    return 0 if all(r.get("ok") for r in results.values()) else 1


def cmd_sync(args) -> int:
    from core.sync import apply_sync
    ok = True
    for b in _chosen(args.gstin):
        g = b["gstin"]
        r = scheduler.run_job(scheduler.SYNC, g, lambda rid, g=g: apply_sync(g, actor="cli", job_run_id=rid),
                              triggered_by="cli")
        print(f"sync {g}: {'ok ' + str(r.counts) if r.ok else 'FAILED: ' + (r.error or '')}")
        ok = ok and r.ok
    return 0 if ok else 1


def cmd_poll(args) -> int:
    from core.upload import gstins_with_pending_uploads, poll_uploads
    gstins = gstins_with_pending_uploads()
    for g in gstins:
        print(f"poll {g}: {poll_uploads(g)}")
    if not gstins:
        print("no uploads in flight")
    return 0


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def cmd_status(args) -> int:
    rows = scheduler.business_job_status(None, [g.upper() for g in args.gstin] if args.gstin else None)
    if not rows:
        print("no businesses yet (add them on the Settings page)")
        return 0
    print(f"times in {scheduler.business_tz().key}")
    head = ("GSTIN", "name", "on", "fetch at", "last fetch", "next fetch", "last sync",
            "sync due by", "last error")
    table = [head] + [(
        r["gstin"], (r["name"] or "")[:24], "yes" if r["enabled"] else "no", r["fetch_time"],
        _when(r["last_fetch"]) + ("" if r["last_fetch_ok"] in (None, True) else " (failed)"),
        _when(r["next_fetch"]) if r["enabled"] else "off",
        _when(r["last_sync"]) + ("" if r["last_sync_ok"] in (None, True) else " (failed)"),
        _when(r["sync_due_by"]) if r["enabled"] and r["sync_source"] != "off" else "off",
        r["problem"] or ((_when(r["last_error_at"]) + " " + r["last_error"][:100]) if r["last_error"] else "-"),
    ) for r in rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    for row in table:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="worker.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command")
    sub.add_parser("once", help="run whatever is due now, then exit").set_defaults(fn=cmd_once)
    for name, fn, text in (("fetch", cmd_fetch, "fetch IMS and GSTR-2A now"),
                           ("sync", cmd_sync, "reconcile and write recommendations now"),
                           ("status", cmd_status, "show the schedule and last runs per business")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--gstin", action="append", metavar="G", help="a business GSTIN (repeatable)")
        p.set_defaults(fn=fn)
    sub.add_parser("poll", help="poll uploads in flight").set_defaults(fn=cmd_poll)
    ap.set_defaults(fn=cmd_loop)
    return ap


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("IMS_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except WorkerAlreadyRunning as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return EXIT_LOCKED


if __name__ == "__main__":
    sys.exit(main())
