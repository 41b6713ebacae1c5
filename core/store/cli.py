"""The store's own commands, offered by `python -m core.db` and `python -m core store`
(core/backup/cli.py hands them here): `migrate` brings a store to the latest schema, on the
DuckDB file or, with IMS_DB_URL (or --url), on PostgreSQL; `copy --to URL` moves the DuckDB
store into an empty PostgreSQL database, every table's count and checksum compared
(docs/store.md, "Team mode")."""
from __future__ import annotations

import argparse
import sys

from core.store.copy import CopyRefused, copy_store
from core.store.database import migrate_store
from core.store.postgres import is_url, where

COMMANDS = ("migrate", "copy")


def add_commands(sub: argparse._SubParsersAction) -> None:
    move = sub.add_parser("migrate", help="bring the store to the latest schema (either engine)")
    move.add_argument("--url", metavar="URL",
                      help="a postgresql:// database, or a DuckDB file (default: IMS_DB_URL, "
                           "else IMS_DB_PATH)")
    move = sub.add_parser("copy", help="copy the DuckDB store into an empty PostgreSQL database")
    move.add_argument("--to", dest="url", required=True, metavar="URL",
                      help="the postgresql:// database; it must hold no data")
    move.add_argument("--from", dest="source", metavar="FILE",
                      help="the DuckDB store file (default: IMS_DB_PATH)")


def run(args: argparse.Namespace) -> int:
    if args.command == "copy":
        return copy(args)
    applied, latest = migrate_store(args.url)
    name = where(args.url) if is_url(args.url) else "the store"
    if applied:
        print(f"{name}: {len(applied)} migration(s) applied "
              f"({', '.join(f'{n:03d}' for n in applied)}); the schema is at version {latest}.")
    else:
        print(f"{name}: already at the latest schema (version {latest}).")
    return 0


def copy(args: argparse.Namespace) -> int:
    if not is_url(args.url):
        print("copy: --to must be a postgresql:// database URL.", file=sys.stderr)
        return 2
    try:
        copied = copy_store(args.url, args.source)
    except CopyRefused as exc:
        print(f"copy: {exc}", file=sys.stderr)
        return 1
    for t in copied:
        print(f"{t.table:<24} {t.rows:>12,} rows  checksum {t.checksum}  same on both")
    total = sum(t.rows for t in copied)
    print(f"Copied {len(copied)} tables, {total:,} rows, into {where(args.url)}; "
          f"every count and checksum matched.")
    return 0
