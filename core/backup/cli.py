"""`python -m core.db backup | restore | verify | list`: backups from the shell (docs/backups.md).

The same commands are `python -m core store backup | restore | verify | list` (core/cli.py).

    python -m core.db backup [--to DIR]                   a backup now (default: the Settings folder)
    python -m core.db restore --from BACKUP [--to FILE]   into a NEW store file (default IMS_DB_PATH)
    python -m core.db verify --from BACKUP                restore into a scratch file, then delete it
    python -m core.db list [--in DIR]                     the backups in a folder
    python -m core.db migrate [--url URL]                 the latest schema (core/store/cli.py)

Exit status: 0 done, 1 refused or failed (the message says why), 2 bad arguments.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from core.backup.restore import restore_backup
from core.backup.retention import list_backups
from core.backup.snapshot import backup_folder, configured_folder, take_backup
from core.clock import SystemClock
from core.store import cli as store_cli
from core.store import connect, db_path, migration_files
from core.store.database import db_url
from core.timefmt import shown_time


def megabytes(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def parser(prog: str = "python -m core.db") -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=prog, description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    take = sub.add_parser("backup", help="take a consistent backup of the store now")
    take.add_argument("--to", metavar="DIR", help="the folder (default: the Settings folder)")
    put = sub.add_parser("restore", help="restore a backup into a new store file")
    put.add_argument("--from", dest="source", required=True, metavar="BACKUP",
                     help="a backup folder (or its manifest.json)")
    put.add_argument("--to", metavar="FILE",
                     help="the new store file (default: IMS_DB_PATH); it must not exist")
    check = sub.add_parser("verify", help="check a backup by restoring it into a scratch file")
    check.add_argument("--from", dest="source", required=True, metavar="BACKUP")
    listing = sub.add_parser("list", help="the backups in a folder")
    listing.add_argument("--in", dest="folder", metavar="DIR",
                         help="the folder (default: the Settings folder)")
    store_cli.add_commands(sub)
    return ap


def _folder(given: str | None, open_store, store_path: str) -> Path:
    if given:
        return backup_folder(given, store_path)
    with open_store() as con:
        return configured_folder(con, store_path)


def run(args, open_store: Callable[[], AbstractContextManager], store_path: str,
        known_versions: set[int]) -> int:
    if args.command == "backup":
        folder = _folder(args.to, open_store, store_path)
        done = take_backup(open_store, folder, SystemClock().now(), source="cli",
                           store_path=store_path)
        print(f"backup written: {done['path']} ({done['tables']} tables, {done['rows']:,} rows, "
              f"{megabytes(done['bytes'])}; {done['seconds']} s, the store was held "
              f"{done['store_held_seconds']} s)")
    elif args.command == "restore":
        target = Path(args.to or store_path)
        done = restore_backup(Path(args.source), target, known_versions, store_path)
        print(f"restored {done['backup']} (taken {done['taken_at']}) into {done['path']}: "
              f"{done['tables']} tables, {done['rows']:,} rows, every count and checksum "
              f"matched ({done['seconds']} s)")
        if Path(done["path"]) != Path(store_path).resolve():
            print(f"to use it: IMS_DB_PATH={done['path']} (then start the app and the worker)")
    elif args.command == "verify":
        with tempfile.TemporaryDirectory() as scratch:
            done = restore_backup(Path(args.source), Path(scratch) / "verify.duckdb",
                                  known_versions, store_path)
        print(f"backup ok: {done['backup']} (taken {done['taken_at']}): {done['tables']} "
              f"tables, {done['rows']:,} rows restore with every count and checksum matching")
    else:
        folder = _folder(args.folder, open_store, store_path)
        found = list_backups(folder)
        print(f"{len(found)} backup(s) in {folder}")
        for b in found:
            print(f"  {b.name}  taken {shown_time(b.taken_at)}  {b.rows:>12,} rows  "
                  f"{megabytes(b.bytes):>10}")
    return 0


def _open_store_to_read():
    return connect(read_only=True)


def main(argv: list[str] | None = None,
         open_store: Callable[[], AbstractContextManager] = _open_store_to_read,
         store_path: str | None = None, known_versions: set[int] | None = None,
         prog: str = "python -m core.db") -> int:
    args = parser(prog).parse_args(argv)
    store_path = store_path or db_path()
    if known_versions is None:
        known_versions = {number for number, _ in migration_files()}
    try:
        if args.command in store_cli.COMMANDS:
            return store_cli.run(args)
        if args.command == "backup" and db_url():
            print("backup: the store is on PostgreSQL (IMS_DB_URL); back it up with pg_dump "
                  "(docs/store.md, \"Team mode\"). This command backs up a DuckDB store.",
                  file=sys.stderr)
            return 1
        return run(args, open_store, store_path, known_versions)
    except RuntimeError as exc:          # BackupError, or the store stayed busy
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1
