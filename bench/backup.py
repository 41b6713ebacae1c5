"""Benchmark: back up and restore a store of 1,000,000 IMS records.

    .venv/bin/python -m bench.backup [--records 1000000] [--seed 1] [--out bench/out/backup]

Builds a fresh store with N IMS records and their purchase register (bench/sync.py's
`fill_store`) and syncs it once (N reco_results and N action_log rows, as after a first
sync), then times `core.backup.snapshot.take_backup` (the whole backup, and how long it held the store,
which is what the app and the worker wait for) and `core.backup.restore.restore_backup` into a
new file (schema, load, per-table count and checksum check), and prints the sizes: the store
file and the backup folder. docs/backups.md quotes the RESULT line.
"""
from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

from bench.reco import COMPANY
from bench.sync import fill_store
from core.backup import restore_backup, take_backup
from core.clock import SystemClock
from core.ims import apply_sync
from core.store import connect, let_go_of_idle_files, migration_files

ROOT = Path(__file__).resolve().parents[1]


def megabytes(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 1e6, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "backup"))
    args = ap.parse_args()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    store = out / "store.duckdb"
    os.environ["IMS_DB_PATH"] = str(store)

    started = time.monotonic()
    portal, books = fill_store(args.records, args.seed)
    apply_sync(COMPANY, actor="bench")
    let_go_of_idle_files()
    print(f"store built: {portal:,} IMS records, {books:,} purchase documents, synced once "
          f"({time.monotonic() - started:.0f} s); {megabytes(store)} MB")

    done = take_backup(lambda: connect(read_only=True), out / "backups", SystemClock().now())
    let_go_of_idle_files()
    backup = Path(done["path"])
    print(f"backup: {done['seconds']} s (store held {done['store_held_seconds']} s), "
          f"{done['rows']:,} rows in {done['tables']} tables, {megabytes(backup)} MB")

    restored = restore_backup(backup, out / "restored.duckdb",
                              {n for n, _ in migration_files()})
    print(f"restore: {restored['seconds']} s, {megabytes(out / 'restored.duckdb')} MB")
    with connect(str(out / "restored.duckdb"), read_only=True) as con:
        ims = con.execute("SELECT count(*) FROM ims_records").fetchall()[0][0]
    let_go_of_idle_files()
    assert ims == portal, (ims, portal)
    print(f"RESULT records={portal} store_mb={megabytes(store)} backup_s={done['seconds']} "
          f"held_s={done['store_held_seconds']} backup_mb={megabytes(backup)} "
          f"restore_s={restored['seconds']} restored_mb={megabytes(out / 'restored.duckdb')}")


if __name__ == "__main__":
    main()
