"""The worker's commands: `run` (the loop), `once`, `fetch`, `sync`, `poll`, `status`, and
`settings show | set` (docs/interfaces.md)."""
from __future__ import annotations

import logging
import os
import threading

from core.backup import (
    BACKUP_KEYS,
    backup_status,
    change_backup_setting,
    current_backup_settings,
    describe,
)
from core.business import registry
from core.business.cli import print_table
from core.clock import SystemClock, business_tz, from_store
from core.ims import apply_sync, fetch_businesses, gstins_with_pending_uploads, poll_uploads
from core.jobs import StopRequested
from core.jobs import runs as jobs
from core.portal import status as gsp_status
from core.schedule.loop import install_stop_handler, run_loop, start_locked
from core.schedule.scheduler import Worker
from core.schedule.status import business_job_status
from core.store import db_path

log = logging.getLogger("worker")


def cmd_loop(args) -> int:
    _lock = start_locked()
    worker, stop = Worker(backups=True, mail=True), threading.Event()
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
    worker = Worker(backups=True, mail=True)
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
    for b in registry.choose_businesses(args.gstin):
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


def _outcome(when, ok) -> str:
    return _when(when) + ("" if ok in (None, True) else " (failed)")


def cmd_status(args) -> int:
    jobs.close_abandoned_runs()
    gstins = [b["gstin"] for b in registry.choose_businesses(args.gstin)] if args.gstin else None
    rows = business_job_status(None, gstins, SystemClock().now())
    if not rows:
        print(f"no businesses yet (add one with: {registry.ADD_HINT})")
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
    """The daily backup: last result, newest backup, next one (core/backup/job.py)."""
    print("\nbackups: " + "\n         ".join(describe(backup_status())))


def cmd_settings_show(args) -> int:
    for key, value in {**registry.current_settings(), **current_backup_settings()}.items():
        print(f"{key:12} {value}")
    return 0


def cmd_settings_set(args) -> int:
    if args.key not in (*registry.SETTING_KEYS, *BACKUP_KEYS):
        raise registry.SettingsError(f"Unknown setting '{args.key}': one of "
                                     f"{', '.join((*registry.SETTING_KEYS, *BACKUP_KEYS))}")
    change = change_backup_setting if args.key in BACKUP_KEYS else registry.change_setting
    saved = change(args.key, args.value, actor="cli")
    print(f"{args.key} = {saved}")
    return 0


def add_commands(sub) -> None:
    """Register the worker's commands on the command line."""
    sub.add_parser("run", help="the loop: every minute, run what is due").set_defaults(fn=cmd_loop)
    sub.add_parser("once", help="run whatever is due now, then exit").set_defaults(fn=cmd_once)
    for name, fn, text in (("fetch", cmd_fetch, "fetch IMS and GSTR-2A now"),
                           ("sync", cmd_sync, "reconcile and write recommendations now"),
                           ("status", cmd_status, "show the schedule and last runs per business")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--gstin", action="append", metavar="G",
                       help="a business GSTIN (repeatable)")
        p.set_defaults(fn=fn)
    sub.add_parser("poll", help="poll uploads in flight").set_defaults(fn=cmd_poll)
    settings = sub.add_parser("settings", help="show or change the settings")
    settings_sub = settings.add_subparsers(dest="action", required=True)
    settings_sub.add_parser("show", help="the settings in effect").set_defaults(
        fn=cmd_settings_show)
    put = settings_sub.add_parser("set", help="change one setting")
    put.add_argument("key", metavar="KEY", help=", ".join(registry.SETTING_KEYS + BACKUP_KEYS))
    put.add_argument("value", metavar="VALUE")
    put.set_defaults(fn=cmd_settings_set)
