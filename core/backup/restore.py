"""Checking a backup and restoring it into a NEW store file (docs/backups.md).

A restore never touches an existing store: the target file must not exist. The backup is
checked first (its manifest whole and unchanged, every table file present with the size and
SHA-256 the manifest gives); then the store is built in a temporary file beside the target
(the schema as the backup recorded it, every table loaded, its row count and checksum compared
with the manifest), and only a store that passed every check is moved into place. A damaged
or partial backup is refused with a message naming each problem, and nothing is written.
The restored store holds the backup's schema versions; the next `core.store.connect()` applies
any newer migrations, as for any older store.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import duckdb

from core.backup.snapshot import (
    FORMAT,
    MANIFEST,
    BackupError,
    checksum_sql,
    manifest_digest,
    parquet_source,
    sha256_of,
)

INTERRUPTED = ("it is not a finished backup (a backup that was interrupted leaves its folder "
               "without one) or not a backup folder at all")


def read_manifest(backup: Path) -> tuple[Path, dict]:
    """The backup's folder and its manifest, or BackupError saying what is wrong with it."""
    backup = Path(backup)
    folder = backup.parent if backup.name == MANIFEST else backup
    if not folder.is_dir():
        raise BackupError(f"No backup at {folder}: there is no such folder.")
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} has no {MANIFEST}: {INTERRUPTED}. Nothing was restored.")
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{path} is damaged (not readable as JSON: {exc}). Nothing was "
                          "restored.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a manifest of this program's backups (format "
                          f"{FORMAT} expected). Nothing was restored.")
    if manifest.get("manifest_sha256") != manifest_digest(manifest):
        raise BackupError(f"{path} was changed after the backup was written (its own checksum "
                          "does not match). Nothing was restored.")
    return folder, manifest


def file_problems(folder: Path, manifest: dict) -> list[str]:
    """Each table file that is missing, of another size, or not the file the manifest names."""
    problems = []
    for t in manifest["tables"]:
        path = folder / t["file"]
        if not path.is_file():
            problems.append(f"table {t['name']}: its file {t['file']} is missing")
        elif path.stat().st_size != t["bytes"]:
            problems.append(f"table {t['name']}: {t['file']} has {path.stat().st_size:,} bytes, "
                            f"the backup wrote {t['bytes']:,} (cut short or changed)")
        elif sha256_of(path) != t["sha256"]:
            problems.append(f"table {t['name']}: {t['file']} is not the file the backup wrote "
                            "(its SHA-256 differs: damaged or changed)")
    return problems


def check_backup(backup: Path, known_versions: set[int] | None = None) -> tuple[Path, dict]:
    """The backup's folder and manifest when the backup is whole, else BackupError listing
    every problem. `known_versions`: the schema versions this program knows (a backup of a
    newer program is refused)."""
    folder, manifest = read_manifest(backup)
    problems = file_problems(folder, manifest)
    newer = sorted(set(manifest["schema_versions"]) - set(known_versions or ())) \
        if known_versions is not None else []
    if newer:
        problems.append(f"it was taken by a newer version of IMS Reco Sync (schema versions "
                        f"{', '.join(map(str, newer))} are unknown here): restore it with that "
                        "version")
    if problems:
        raise BackupError(f"The backup {folder} cannot be restored: " + "; ".join(problems)
                          + ". Nothing was restored.")
    return folder, manifest


def _refuse_existing(target: Path) -> None:
    for path in (target, target.with_name(target.name + ".wal")):
        if path.exists():
            raise BackupError(
                f"{path} already exists: a restore never overwrites a store. Restore into a new "
                "file (--to NEW_FILE), then point IMS_DB_PATH at it, or move the old file "
                "away first. Nothing was restored.")


def _load(con, folder: Path, manifest: dict) -> None:
    """Schema and rows into the empty store `con`, each table checked against the manifest."""
    same_engine = manifest.get("duckdb") == duckdb.__version__
    for seq in manifest["sequences"]:
        con.execute(seq["sql"])
    for t in manifest["tables"]:
        con.execute(t["sql"])
        source = parquet_source(folder / t["file"])
        con.execute(f'INSERT INTO "{t["name"]}" SELECT * FROM {source}')
        rows, checksum = con.execute(checksum_sql(f'"{t["name"]}"')).fetchall()[0]
        # A checksum is a hash of the rows; another DuckDB version may hash differently, so
        # then the loaded rows are compared with the file's (the file's SHA-256 was checked).
        expected = t["checksum"] if same_engine else \
            con.execute(checksum_sql(source)).fetchall()[0][1]
        if rows != t["rows"] or checksum != expected:
            raise BackupError(
                f"table {t['name']}: the restored rows do not match the backup's manifest "
                f"({rows:,} rows for {t['rows']:,}"
                f"{', checksum differs' if checksum != expected else ''})")
    for sql in manifest["indexes"] + manifest["views"]:
        con.execute(sql)
    con.execute("CHECKPOINT")


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def restore_backup(backup: Path, target: Path, known_versions: set[int] | None = None) -> dict:
    """The backup into the NEW store file `target` -> what was restored. Refuses (BackupError,
    nothing written) an existing target and a damaged, partial or too new backup."""
    started = time.monotonic()
    target = Path(target).resolve()
    _refuse_existing(target)
    folder, manifest = check_backup(backup, known_versions)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f".{target.name}.restoring-{os.getpid()}")
    _remove(building)
    try:
        con = duckdb.connect(str(building))
        try:
            _load(con, folder, manifest)
        finally:
            con.close()
        os.link(building, target)   # fails if the target appeared meanwhile: never overwrite
    except BackupError as exc:
        raise BackupError(f"The backup {folder} cannot be restored: {exc}. Nothing was "
                          "restored.") from exc
    except FileExistsError as exc:
        raise BackupError(f"{target} appeared while restoring; it was left alone. Nothing "
                          "was restored.") from exc
    except (OSError, duckdb.Error) as exc:
        raise BackupError(f"Restoring {folder} into {target} failed: {exc}. Nothing was "
                          "restored.") from exc
    finally:
        _remove(building)
    return {"path": str(target), "backup": str(folder), "taken_at": manifest["taken_at_local"][:19].replace("T", " "),
            "tables": len(manifest["tables"]),
            "rows": sum(t["rows"] for t in manifest["tables"]),
            "schema_version": max(manifest["schema_versions"], default=0),
            "seconds": round(time.monotonic() - started, 2)}
