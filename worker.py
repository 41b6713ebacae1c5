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
    python worker.py mail test --to ADDRESS | retry | log [--limit N]
                                              a test mail, retry due mails now, the mail log
    python worker.py digest --now | --email E            send today's digests now, or print
                                                         one user's (docs/mail.md)
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

Run as a process (`python worker.py ...`, every command), the worker first lowers its own CPU
priority to niceness `IMS_WORKER_NICE` (10 unless set, 0 = as started): people's pages get the
CPU first, the jobs still run to their end (core/priority.py, docs/reliability.md); this happens
before its heavy imports (Polars, DuckDB: a second of CPU on every start). Imported or called
in-process (`main()`), it leaves the caller's priority alone.
"""
from __future__ import annotations

import sys

from core.priority import yield_cpu_to_people  # light (os only): before the heavy imports

if __name__ == "__main__":   # a process of its own: below people from its imports on
    try:
        yield_cpu_to_people()
    except ValueError as exc:
        print(f"worker: {exc}", file=sys.stderr)
        sys.exit(2)

# the heavy imports, after the priority is lowered
from core.cli import main as run_command
from core.schedule.loop import WorkerAlreadyRunning, acquire_lock

__all__ = ["WorkerAlreadyRunning", "acquire_lock", "main"]


def main(argv: list[str] | None = None) -> int:
    """The worker's command line: `python -m core`'s commands, the loop when none is given."""
    return run_command(argv, prog="worker.py", default="run", description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
