"""Checking a backup and restoring it into a NEW store file (docs/backups.md).

A restore never touches an existing store: the target file must not exist. The backup is
checked first (its manifest whole and signed with the backup key, every table file present
with the size and SHA-256 the manifest gives); then the store is built in a temporary file
beside the target: the schema from the project's OWN migrations (core/store/migrations, those
the backup's schema versions name), never from anything in the backup, which holds no SQL and
whose names are only compared with the tables the migrations made; every table's rows loaded
from its Parquet file, its row count and checksum compared with the manifest; each sequence
moved on to its recorded value. Only a store that passed every check is moved into place, 0600.
A damaged, forged or partial backup is refused with a message naming each problem, and nothing
is written. The next `core.store.connect()` applies any newer migrations, as for any older store.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import duckdb

from core.backup.signing import backup_key, signed_by
from core.backup.snapshot import (
    FORMAT,
    MANIFEST,
    TABLE_RE,
    BackupError,
    checksum_sql,
    parquet_source,
    quoted,
    sha256_of,
)
from core.store import migrate, migration_files
from core.timefmt import shown_time

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
    if isinstance(manifest, dict) and manifest.get("format") == 1:
        raise BackupError(f"{path} is an unsigned backup of an older version of IMS Reco Sync "
                          "(format 1): this version restores only backups signed with its "
                          "backup key. Restore it with the version that took it, then take a "
                          "new backup. Nothing was restored.")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or \
            _shape_problem(manifest):
        raise BackupError(f"{path} is not a manifest of this program's backups (format "
                          f"{FORMAT} expected). Nothing was restored.")
    return folder, manifest


def _shape_problem(manifest: dict) -> bool:
    """True when the manifest is not made of what this program writes (names, numbers)."""
    try:
        tables, sequences = manifest["tables"], manifest["sequences"]
        return not (
            all(isinstance(t["name"], str) and TABLE_RE.match(t["name"])
                and t["file"] == f"{t['name']}.parquet" and type(t["rows"]) is int
                and type(t["bytes"]) is int and isinstance(t["sha256"], str)
                and isinstance(t["checksum"], str) for t in tables)
            and all(isinstance(q["name"], str) and
                    (q["last_value"] is None or type(q["last_value"]) is int) for q in sequences)
            and all(type(v) is int for v in manifest["schema_versions"])
            and isinstance(manifest["taken_at"], str)
            and isinstance(manifest["taken_at_local"], str))
    except (KeyError, TypeError, AttributeError):
        return True


def check_signature(path: Path, manifest: dict, key: bytes, where: str) -> None:
    """BackupError unless the manifest was signed with `key` (the backup key, `where`)."""
    if not signed_by(manifest, key):
        raise BackupError(
            f"{path} was changed after the backup was written, or was not written by this "
            f"installation: its signature does not match the backup key ({where}). A backup "
            "whose manifest was edited and re-sealed, or whose table files were swapped, is "
            "refused. If the backup is yours, put back the backup key that signed it. Nothing "
            "was restored.")


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


def check_backup(backup: Path, known_versions: set[int] | None = None,
                 store_path: str | None = None) -> tuple[Path, dict]:
    """The backup's folder and manifest when the backup is whole and signed with the backup key
    beside `store_path` (default IMS_DB_PATH), else BackupError listing every problem.
    `known_versions`: the schema versions this program knows (a backup of a newer program is
    refused)."""
    folder, manifest = read_manifest(backup)
    key, where = backup_key(store_path, make=False)
    check_signature(folder / MANIFEST, manifest, key, where)
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


def _schema_from_migrations(con, manifest: dict) -> list[str]:
    """The project's own migrations named by the backup's schema versions, applied to the empty
    store -> the tables they made, which must be the backup's tables."""
    migrate(con, versions=set(manifest["schema_versions"]))
    made = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT temporary ORDER BY table_name").fetchall()]
    backed = {t["name"] for t in manifest["tables"]}
    if set(made) != backed:
        missing, unknown = sorted(set(made) - backed), sorted(backed - set(made))
        raise BackupError(
            "its tables are not the tables of its schema versions"
            + (f" (missing: {', '.join(missing)})" if missing else "")
            + (f" (not made by this program's migrations: {', '.join(unknown)})"
               if unknown else ""))
    con.execute("DELETE FROM schema_version")   # the backup's own rows replace migrate()'s
    return made


def _move_sequences_on(con, manifest: dict) -> None:
    """Each sequence the migrations made, moved on to the value the backup recorded (values
    only, read as integers: nothing of the backup becomes a statement)."""
    recorded = {q["name"]: q["last_value"] for q in manifest["sequences"]}
    for name, start, step in con.execute(
            "SELECT sequence_name, start_value, increment_by FROM duckdb_sequences() WHERE "
            "database_name = current_database() AND schema_name = 'main'").fetchall():
        last = recorded.get(name)
        if last is None:
            continue
        steps = (int(last) - start) // step + 1
        if steps > 0:
            con.execute(f"SELECT max(nextval({quoted(name)})) FROM range(?)", [steps])


def _load(con, folder: Path, manifest: dict) -> None:
    """Schema (from the migrations) and rows into the empty store `con`, each table checked
    against the manifest."""
    same_engine = manifest.get("duckdb") == duckdb.__version__
    by_name = {t["name"]: t for t in manifest["tables"]}
    for name in _schema_from_migrations(con, manifest):
        t = by_name[name]
        source = parquet_source(folder / f"{name}.parquet")
        con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM {source}')
        rows, checksum = con.execute(checksum_sql(f'"{name}"')).fetchall()[0]
        # A checksum is a hash of the rows; another DuckDB version may hash differently, so
        # then the loaded rows are compared with the file's (the file's SHA-256 was checked).
        expected = t["checksum"] if same_engine else \
            con.execute(checksum_sql(source)).fetchall()[0][1]
        if rows != t["rows"] or checksum != expected:
            raise BackupError(
                f"table {t['name']}: the restored rows do not match the backup's manifest "
                f"({rows:,} rows for {t['rows']:,}"
                f"{', checksum differs' if checksum != expected else ''})")
    _move_sequences_on(con, manifest)
    con.execute("CHECKPOINT")


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def restore_backup(backup: Path, target: Path, known_versions: set[int] | None = None,
                   store_path: str | None = None) -> dict:
    """The backup into the NEW store file `target` (0600) -> what was restored. Refuses
    (BackupError, nothing written) an existing target and a damaged, forged, partial or too new
    backup. The backup key is the one beside `store_path` (default IMS_DB_PATH)."""
    started = time.monotonic()
    target = Path(target).resolve()
    _refuse_existing(target)
    if known_versions is None:
        known_versions = {number for number, _ in migration_files()}
    folder, manifest = check_backup(backup, known_versions, store_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f".{target.name}.restoring-{os.getpid()}")
    _remove(building)
    try:
        con = duckdb.connect(str(building))
        try:
            _load(con, folder, manifest)
        finally:
            con.close()
        os.chmod(building, 0o600)   # users' password hashes, session ids, the action log
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
    return {"path": str(target), "backup": str(folder), "taken_at": shown_time(dt.datetime.fromisoformat(manifest["taken_at"])),
            "tables": len(manifest["tables"]),
            "rows": sum(t["rows"] for t in manifest["tables"]),
            "schema_version": max(manifest["schema_versions"], default=0),
            "seconds": round(time.monotonic() - started, 2)}
