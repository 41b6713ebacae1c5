"""Backups of the store: a consistent snapshot taken while the app and the worker run
(docs/backups.md).

A backup is a folder `ims-backup-YYYYMMDD-HHMMSS` (the time in IMS_TZ) holding one Parquet
file per table and `manifest.json`: the schema versions, each sequence's current value, and
per table its file, row count, a checksum of its rows computed in SQL, the file's size and
SHA-256; when it was taken; an HMAC signature with the backup key (core/backup/signing.py).
The manifest holds no SQL: a restore builds the schema from the project's own migrations. Every table is read in
ONE read transaction, so the backup is the store as it was at one moment (DuckDB's MVCC:
saves and syncs committed after the transaction began are not in it, those before are
wholly in it). The folder is written as `.<name>.partial`, each file synced to disk, the
manifest last, then renamed: a folder without a manifest is an unfinished backup.

This module never opens the store: the caller passes `open_store`, a function returning a
`core.db.connect(read_only=True)` context, so core/store/database.py can offer `python -m core.db backup`
without an import loop. Restoring is in core/backup/restore.py.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import duckdb

from core.backup.errors import BackupError
from core.backup.signing import backup_key, sign
from core.clock import aware, business_tz, to_store

__all__ = ["BackupError"]   # also raised from here

# 2: signed with the backup key, no schema statements (the schema comes from the migrations).
FORMAT = 2
MANIFEST = "manifest.json"
PREFIX = "ims-backup-"
NAME_RE = re.compile(r"^ims-backup-\d{8}-\d{6}(-\d+)?$")
TABLE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
# The settings the backups read (core/backup/settings.py checks and saves them).
FOLDER_KEY = "backup_folder"
DEFAULT_FOLDER = "backups"            # beside the store file


def backup_folder(value: str | None, store_path: str) -> Path:
    """The folder backups go to: the setting, a relative one taken beside the store file."""
    folder = Path(os.path.expanduser((value or "").strip() or DEFAULT_FOLDER))
    return folder if folder.is_absolute() else Path(store_path).resolve().parent / folder


def configured_folder(con, store_path: str) -> Path:
    rows = con.execute("SELECT value FROM settings WHERE key = ?", [FOLDER_KEY]).fetchall()
    return backup_folder(rows[0][0] if rows else None, store_path)


def checksum_sql(source: str) -> str:
    """Row count and an order-free checksum of every row of `source` (a table or a read of a
    Parquet file): the sum of the rows' hashes, which also counts rows that repeat."""
    return (f"SELECT count(*), coalesce(sum(hash(_row_)::HUGEINT), 0)::VARCHAR "
            f"FROM {source} AS _row_")


def quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def parquet_source(path: Path) -> str:
    return f"read_parquet({quoted(path)})"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_digest(manifest: dict) -> str:
    """A plain SHA-256 of the manifest (what format 1 sealed it with; anyone can compute it,
    so it proves nothing: format 2 is signed, core/backup/signing.py)."""
    body = {k: v for k, v in manifest.items() if k not in ("manifest_sha256", "signature")}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------- the snapshot


def _tables(con) -> list[str]:
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT temporary ORDER BY table_name").fetchall()]
    odd = [t for t in tables if not TABLE_RE.match(t)]
    if odd:
        raise BackupError(f"Table names the backup cannot file: {', '.join(odd)}")
    return tables


def _sequences(con) -> list[dict]:
    """Each sequence's last value given out (read after the tables: a value is never below an
    id the tables hold; a gap is harmless)."""
    return [{"name": name, "last_value": last} for name, last in con.execute(
        "SELECT sequence_name, last_value FROM duckdb_sequences() WHERE database_name = "
        "current_database() AND schema_name = 'main' AND NOT temporary ORDER BY sequence_name"
    ).fetchall()]


def snapshot(con, into: Path) -> dict:
    """Every table of the store into `into` (one Parquet file each) in ONE read transaction,
    with its row count and checksum computed in that same transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        tables = []
        for name in _tables(con):
            target = into / f"{name}.parquet"
            con.execute(f'COPY (SELECT * FROM "{name}") TO {quoted(target)} '
                        "(FORMAT parquet, COMPRESSION zstd)")
            rows, checksum = con.execute(checksum_sql(f'"{name}"')).fetchall()[0]
            tables.append({"name": name, "file": target.name, "rows": rows,
                           "checksum": checksum})
        versions = sorted(r[0] for r in con.execute(
            "SELECT version FROM schema_version").fetchall())
        sequences = _sequences(con)
    finally:
        con.execute("ROLLBACK")  # it only read
    return {"tables": tables, "sequences": sequences, "schema_versions": versions}


def _check_written(folder: Path, tables: list[dict]) -> None:
    """Read each written file back: its rows must be the rows the transaction saw."""
    con = duckdb.connect(":memory:")
    try:
        for t in tables:
            rows, checksum = con.execute(checksum_sql(parquet_source(folder / t["file"]))
                                         ).fetchall()[0]
            if (rows, checksum) != (t["rows"], t["checksum"]):
                raise BackupError(f"The file written for table {t['name']} does not read back "
                                  f"as the table ({rows} rows for {t['rows']}): check the disk "
                                  f"of {folder.parent}")
            t["bytes"] = (folder / t["file"]).stat().st_size
            t["sha256"] = sha256_of(folder / t["file"])
    finally:
        con.close()


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _reserve(folder: Path, now: dt.datetime) -> tuple[str, Path]:
    """A name no other backup has or is writing (its `.partial` folder made here)."""
    base = PREFIX + aware(now).astimezone(business_tz()).strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        name = base if n == 1 else f"{base}-{n}"
        if (folder / name).exists():
            continue
        try:
            (folder / f".{name}.partial").mkdir(mode=0o700)
        except FileExistsError:
            continue            # another backup of the same second is being written
        return name, folder / f".{name}.partial"
    raise BackupError(f"Too many backups named {base} in {folder}")


def _seal(partial: Path, final: Path, manifest: dict, key: bytes) -> None:
    """Manifest last (signed), everything on disk, then the rename that makes the backup whole."""
    sign(manifest, key)
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    for f in partial.iterdir():
        os.chmod(f, 0o600)   # the store's data: users' password hashes, the action log
        _sync(f)
    _sync(partial)
    if final.exists():
        raise BackupError(f"{final} appeared while the backup was written; try again")
    os.rename(partial, final)
    _sync(final.parent)


def take_backup(open_store: Callable[[], AbstractContextManager], folder: Path,
                now: dt.datetime, source: str = "", store_path: str | None = None) -> dict:
    """A backup of the store into a new folder under `folder` -> what was written (path,
    tables, rows, bytes, seconds), signed with the backup key beside `store_path` (default
    IMS_DB_PATH). Nothing is left behind on failure."""
    started = time.monotonic()
    key, _ = backup_key(store_path)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        name, partial = _reserve(folder, now)
    except OSError as exc:
        raise BackupError(f"Cannot write backups to {folder}: {exc.strerror or exc}") from exc
    try:
        with open_store() as con:
            opened = time.monotonic()
            taken = snapshot(con, partial)
        held = time.monotonic() - opened
        _check_written(partial, taken["tables"])
        manifest = {"format": FORMAT, "app": "IMS Reco Sync", "name": name,
                    "taken_at": to_store(now).isoformat(),
                    "taken_at_local": aware(now).astimezone(business_tz()).isoformat(),
                    "duckdb": duckdb.__version__, "source": source, **taken}
        _seal(partial, folder / name, manifest, key)
    except BaseException as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(exc, OSError):
            raise BackupError(f"Cannot write the backup {name} in {folder}: "
                              f"{exc.strerror or exc}") from exc
        raise
    return {"path": str(folder / name), "name": name,
            "tables": len(taken["tables"]), "rows": sum(t["rows"] for t in taken["tables"]),
            "bytes": sum(t["bytes"] for t in taken["tables"]),
            "store_held_seconds": round(held, 2),
            "seconds": round(time.monotonic() - started, 2)}
