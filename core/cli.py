"""The one command line: `python -m core <command> ...` (docs/interfaces.md).

Each package brings its own commands; this module only puts them on one parser:
- the worker's (core/schedule/cli.py): `run`, `once`, `fetch`, `sync`, `poll`, `status`,
  `settings show | set`;
- `businesses ...` (core/business/cli.py, with the calendar's `set-frequency` and `set-date`),
  `calendar` (core/calendar/cli.py), `fetch-2b` (core/gstr2b/cli.py), `mail` (core/mail/cli.py),
  `digest` (core/digest/cli.py);
- whole command lines of their own, handed the rest of the arguments: `reco` (core/reco/cli.py),
  `itc-summary` (core/month_close/cli.py), `purchase` (core/purchase/cli.py), `users` (core/auth/cli.py), `store` (backups,
  core/backup/cli.py).

`python worker.py ...` is this command line with `run` (the loop) as its default;
`python -m core.reco`, `python -m core.itc_summary`, `python -m core.purchase`,
`python -m core.auth` and `python -m core.db` are aliases of `reco`, `itc-summary`, `purchase`,
`users` and `store`.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from core.auth import cli as users_cli
from core.backup import cli as store_cli
from core.business import SettingsError
from core.business import cli as business_cli
from core.calendar import cli as calendar_cli
from core.digest import cli as digest_cli
from core.gstr2b import cli as gstr2b_cli
from core.mail import cli as mail_cli
from core.month_close import cli as itc_summary_cli
from core.purchase import cli as purchase_cli
from core.reco import cli as reco_cli
from core.schedule import cli as schedule_cli
from core.schedule.loop import WorkerAlreadyRunning
from core.store import DatabaseBusy

EXIT_BAD_INPUT = 2
EXIT_LOCKED = 3
EXIT_BUSY = 4          # the store stayed busy: try again in a moment
# command -> (its own command line, what it does)
HANDED_ON = {
    "reco": (reco_cli.main, "reconcile a purchase-register file with a portal JSON file"),
    "itc-summary": (itc_summary_cli.main, "GSTR-3B Table 4 from a GSTR-2B file and the books"),
    "purchase": (purchase_cli.main, "validate, import, list and roll back purchase registers"),
    "users": (users_cli.main, "create admins, reset passwords, unlock and list users"),
    "store": (store_cli.main, "back up, restore, verify and list backups of the store"),
}


def parser(prog: str = "python -m core", description: str | None = None,
           handed_on: bool = True) -> argparse.ArgumentParser:
    """The command line; without `handed_on` only the worker's and the operator's commands
    (what `python worker.py` offers)."""
    ap = argparse.ArgumentParser(prog=prog, description=description or __doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command")
    schedule_cli.add_commands(sub)
    calendar_cli.add_commands(sub, business_cli.add_commands(sub))
    gstr2b_cli.add_commands(sub)
    mail_cli.add_commands(sub)
    digest_cli.add_commands(sub)
    for name, (_, text) in HANDED_ON.items() if handed_on else ():
        # listed here; main() hands it the rest of the line before this parser reads it
        sub.add_parser(name, help=text, add_help=False).add_argument(
            "rest", nargs=argparse.REMAINDER)
    return ap


def main(argv: list[str] | None = None, prog: str = "python -m core",
         default: str | None = None, description: str | None = None) -> int:
    """Run one command; with none given, `default` (worker.py: the loop, and only the worker's
    and the operator's commands), else the help."""
    logging.basicConfig(level=os.environ.get("IMS_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    argv = sys.argv[1:] if argv is None else list(argv)
    ap = parser(prog, description, handed_on=default is None)
    if not argv and default:
        argv = [default]
    if argv and argv[0] in HANDED_ON and default is None:          # its own command line reads the rest as given
        return HANDED_ON[argv[0]][0](argv[1:], prog=f"{prog} {argv[0]}")
    args = ap.parse_args(argv)
    if not getattr(args, "fn", None):
        ap.print_help()
        return EXIT_BAD_INPUT
    try:
        return args.fn(args)
    except WorkerAlreadyRunning as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except SettingsError as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except DatabaseBusy as exc:          # the words, never a traceback (issue 29.10)
        print(f"worker: {exc}", file=sys.stderr)
        return EXIT_BUSY
