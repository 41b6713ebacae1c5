"""The IMS Reco Sync worker: the daily schedule loop, the job commands, and the operator's
commands for businesses and settings (docs/interfaces.md).

    python worker.py                          the loop: every minute, run what is due
    python worker.py once                     run whatever is due now, then exit
    python worker.py fetch [--gstin G ...]    fetch now (all enabled businesses by default)
    python worker.py sync [--gstin G ...]     reconcile and write recommendations now
    python worker.py poll                     ask the portal about uploads in flight
    python worker.py status [--gstin G ...]   per business: last/next fetch, last sync, due
                                              by, last error; runs stopped midway; backups
    python worker.py businesses add GSTIN --name NAME    add a business (or rename it)
    python worker.py businesses list                     the businesses and their schedule
    python worker.py businesses enable GSTIN             fetch it daily
    python worker.py businesses disable GSTIN            stop fetching it
    python worker.py businesses set-frequency GSTIN monthly|quarterly   GSTR-3B filing
    python worker.py businesses set-date GSTIN PERIOD gstr2b|gstr3b DATE|computed
                                                         override one date of a period
    python worker.py calendar [--gstin G ...]            2B and GSTR-3B dates, filings,
                                                         pending limits (docs/month-close.md)
    python worker.py fetch-2b --gstin G --period MMYYYY [--regenerate]
                                              fetch a period's GSTR-2B (regenerate it first)
    python worker.py settings show                       the settings in effect
    python worker.py settings set KEY VALUE              change one setting:
        fetch_time   H:MM or HH:MM (24-hour, IMS_TZ), for every business
        sync_source  2a_vs_pr | ims_vs_pr | off, for every business
        tolerance    rupees per amount field, 0-1000
        date_window  days, 0-366
        policy       balanced | strict
        backup_time, backup_folder, backup_keep_daily, backup_keep_monthly: the daily
                     backup (docs/backups.md)

The loop and `once` hold a lock file beside the database (one instance at a time); a
second one exits with status 3. SIGTERM or Ctrl-C stops the loop cleanly (exit 0): a job
that is running is abandoned, its transaction rolled back, and it runs again on the next
start. A job whose process was killed is closed as stopped when the worker starts (and by
`status`). Bad input (an invalid GSTIN, an unknown business or setting, a value out of
range) exits with status 2 and says why. The work itself lives in core/.
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

from core import business, gsp_status, jobs
from core.backup_job import backup_status, describe
from core.backup_settings import BACKUP_KEYS, change_backup_setting, current_backup_settings
from core.business import SettingsError
from core.calendar_cli import add_commands as add_calendar_commands
from core.clock import SystemClock, business_tz, from_store
from core.db import db_path, worker_lock_path
from core.fetch import fetch_businesses
from core.gstr2b_cli import add_commands as add_gstr2b_commands
from core.job_status import business_job_status
from core.jobs import StopRequested
from core.scheduler import Worker
from core.sync import apply_sync
from core.upload import gstins_with_pending_uploads, poll_uploads

log = logging.getLogger("worker")
EXIT_BAD_INPUT = 2
EXIT_LOCKED = 3


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


def start_locked() -> int:
    handle = acquire_lock()
    jobs.close_abandoned_runs()
    return handle


# ---------------------------------------------------------------- the jobs


def cmd_loop(args) -> int:
    _lock = start_locked()
    worker, stop = Worker(backups=True), threading.Event()
    install_stop_handler(worker, stop)
    log.info("worker started (pid %d, database %s, IMS_TZ %s)", os.getpid(), db_path(),
             business_tz().key)
    try:
        run_loop(worker, stop)
    except StopRequested:
        pass
    log.info("worker stopped")
    return 0


def cmd_once(args) -> int:
    _lock = start_locked()
    worker = Worker(backups=True)
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


def cmd_fetch(args) -> int:
    results = fetch_businesses(args.gstin, actor="cli", triggered_by="cli")
    for gstin, r in results.items():
        if r["ok"]:
            ims, gstr2a = r["ims"], r["gstr2a"]
            print(f"fetch {gstin}: ok, IMS {ims['total']} records ({ims['new']} new, "
                  f"{ims['changed']} changed, {ims['removed']} removed), "
                  f"GSTR-2A {gstr2a['total']} documents")
        else:
            print(f"fetch {gstin}: FAILED: {r['error']}")
    if not results:
        print("no enabled businesses to fetch")
    return 0 if all(r["ok"] for r in results.values()) else 1


def cmd_sync(args) -> int:
    ok = True
    for b in business.choose_businesses(args.gstin):
        g = b["gstin"]
        r = jobs.run_job(jobs.SYNC, g, lambda rid, g=g: apply_sync(g, actor="cli", job_run_id=rid),
                         triggered_by="cli")
        print(f"sync {g}: {'ok ' + str(r.counts) if r.ok else 'FAILED: ' + (r.error or '')}")
        ok = ok and r.ok
    return 0 if ok else 1


def cmd_poll(args) -> int:
    gstins = gstins_with_pending_uploads()
    for g in gstins:
        print(f"poll {g}: {poll_uploads(g)}")
    if not gstins:
        print("no uploads in flight")
    return 0


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def print_table(head: tuple, rows: list[tuple]) -> None:
    table = [head] + rows
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    for row in table:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())


def _outcome(when, ok) -> str:
    return _when(when) + ("" if ok in (None, True) else " (failed)")


def cmd_status(args) -> int:
    jobs.close_abandoned_runs()
    gstins = [b["gstin"] for b in business.choose_businesses(args.gstin)] if args.gstin else None
    rows = business_job_status(None, gstins, SystemClock().now())
    if not rows:
        print(f"no businesses yet (add one with: {business.ADD_HINT})")
        print_backups()
        return 0
    print(f"times in {business_tz().key}")
    print_table(("GSTIN", "name", "on", "fetch at", "last fetch", "next fetch", "last sync",
                 "sync due by", "last error"), [(
        r["gstin"], (r["name"] or "")[:24], "yes" if r["enabled"] else "no", r["fetch_time"],
        _outcome(r["last_fetch"], r["last_fetch_ok"]),
        _when(r["next_fetch"]) if r["enabled"] else "off",
        _outcome(r["last_sync"], r["last_sync_ok"]),
        _when(r["sync_due_by"]) if r["enabled"] and r["sync_source"] != "off" else "off",
        r["problem"] or (f"{_when(r['last_error_at'])} {r['last_error'][:100]}"
                         if r["last_error"] else "-"),
    ) for r in rows])
    print("\n".join(gsp_status.status_lines(gstins)))
    print("\nGSTR-2B, last run of the worker's fetch:")
    for r in rows:
        print(f"  {r['gstin']}: {r['last_gstr2b'] or 'not fetched by the worker yet'}")
    stopped = jobs.stopped_runs(gstins)
    print(f"\nruns stopped before they finished, last 7 days: {len(stopped) or 'none'}")
    if stopped:
        print_table(("run", "job", "GSTIN", "started by", "started", "stopped", "why"), [(
            s["run_id"], s["job"], s["gstin"] or "-", s["triggered_by"] or "-",
            _when(from_store(s["started_at"])), _when(from_store(s["finished_at"])),
            (s["error"] or "")[:100]) for s in stopped])
    print_backups()
    return 0


def print_backups() -> None:
    """The daily backup: last result, newest backup, next one (core/backup_job.py)."""
    print("\nbackups: " + "\n         ".join(describe(backup_status())))


# ---------------------------------------------------------------- businesses and settings


def cmd_businesses_add(args) -> int:
    gstin = business.checked_gstin(args.gstin)
    existed = business.business_exists(gstin)
    business.save_business(gstin, args.name, actor="cli")
    print(f"{'updated' if existed else 'added'} business {business.describe_gstin(gstin)}: "
          f"{args.name.strip()}")
    return 0


def cmd_businesses_list(args) -> int:
    rows = business.list_businesses().sort("gstin").to_dicts()
    if not rows:
        print(f"no businesses yet (add one with: {business.ADD_HINT})")
        return 0
    print_table(("GSTIN", "name", "enabled", "fetch at", "sync source"), [
        (r["gstin"], r["name"], "yes" if r["enabled"] else "no", r["fetch_time"],
         r["sync_source"]) for r in rows])
    return 0


def cmd_businesses_switch(args) -> int:
    on = args.action == "enable"
    gstin = business.set_business_enabled(args.gstin, on, actor="cli")
    print(f"{'enabled' if on else 'disabled'} business {business.describe_gstin(gstin)}"
          + ("" if on else " (no daily fetch until enabled again)"))
    return 0


def cmd_settings_show(args) -> int:
    for key, value in {**business.current_settings(), **current_backup_settings()}.items():
        print(f"{key:12} {value}")
    return 0


def cmd_settings_set(args) -> int:
    change = change_backup_setting if args.key in BACKUP_KEYS else business.change_setting
    saved = change(args.key, args.value, actor="cli")
    print(f"{args.key} = {saved}")
    return 0


# ---------------------------------------------------------------- the command line


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="worker.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command")
    sub.add_parser("once", help="run whatever is due now, then exit").set_defaults(fn=cmd_once)
    for name, fn, text in (("fetch", cmd_fetch, "fetch IMS and GSTR-2A now"),
                           ("sync", cmd_sync, "reconcile and write recommendations now"),
                           ("status", cmd_status, "show the schedule and last runs per business")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--gstin", action="append", metavar="G",
                       help="a business GSTIN (repeatable)")
        p.set_defaults(fn=fn)
    sub.add_parser("poll", help="poll uploads in flight").set_defaults(fn=cmd_poll)

    biz = sub.add_parser("businesses", help="add, list, enable or disable businesses")
    biz_sub = biz.add_subparsers(dest="action", required=True)
    add = biz_sub.add_parser("add", help="add a business (or rename it)")
    add.add_argument("gstin", metavar="GSTIN")
    add.add_argument("--name", required=True, metavar="NAME", help="the business's name")
    add.set_defaults(fn=cmd_businesses_add)
    biz_sub.add_parser("list", help="the businesses").set_defaults(fn=cmd_businesses_list)
    for action in ("enable", "disable"):
        p = biz_sub.add_parser(action, help=f"{action} the daily fetch of a business")
        p.add_argument("gstin", metavar="GSTIN")
        p.set_defaults(fn=cmd_businesses_switch)

    add_calendar_commands(sub, biz_sub)
    add_gstr2b_commands(sub)

    settings = sub.add_parser("settings", help="show or change the settings")
    settings_sub = settings.add_subparsers(dest="action", required=True)
    settings_sub.add_parser("show", help="the settings in effect").set_defaults(
        fn=cmd_settings_show)
    put = settings_sub.add_parser("set", help="change one setting")
    put.add_argument("key", metavar="KEY", help=", ".join(business.SETTING_KEYS + BACKUP_KEYS))
    put.add_argument("value", metavar="VALUE")
    put.set_defaults(fn=cmd_settings_set)
    ap.set_defaults(fn=cmd_loop)
    return ap


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("IMS_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except WorkerAlreadyRunning as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except SettingsError as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
