"""The store's own commands, offered by `python -m core.db` and `python -m core store`
(core/backup/cli.py hands them here): `migrate` brings a store to the latest schema, on the
DuckDB file or, with IMS_DB_URL (or --url), on PostgreSQL (docs/store.md)."""
from __future__ import annotations

import argparse

from core.store.database import migrate_store
from core.store.postgres import is_url, where

COMMANDS = ("migrate",)


def add_commands(sub: argparse._SubParsersAction) -> None:
    move = sub.add_parser("migrate", help="bring the store to the latest schema (either engine)")
    move.add_argument("--url", metavar="URL",
                      help="a postgresql:// database, or a DuckDB file (default: IMS_DB_URL, "
                           "else IMS_DB_PATH)")


def run(args: argparse.Namespace) -> int:
    applied, latest = migrate_store(args.url)
    name = where(args.url) if is_url(args.url) else "the store"
    if applied:
        print(f"{name}: {len(applied)} migration(s) applied "
              f"({', '.join(f'{n:03d}' for n in applied)}); the schema is at version {latest}.")
    else:
        print(f"{name}: already at the latest schema (version {latest}).")
    return 0
