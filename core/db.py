"""The DuckDB store shared by the app and the worker.

DuckDB lets one process hold the file read-write; every other process's open fails
at once while it does. So nobody keeps a connection: `connect()` opens, yields,
commits or rolls back, and closes. A lock error on open is retried with jittered
backoff for up to `busy_timeout` seconds, then raised as `DatabaseBusy`.

Schema lives in `core/migrations/NNN_name.sql`, applied in number order once each,
recorded in `schema_version`.
"""
from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from core.clock import utc_now

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
DEFAULT_DB_PATH = "data/ims.duckdb"
BUSY_TIMEOUT_S = float(os.environ.get("IMS_DB_BUSY_TIMEOUT", "15"))

_migrated: set[str] = set()
_migrate_lock = threading.Lock()
_lock_waits = {"count": 0, "seconds": 0.0}


class DatabaseBusy(RuntimeError):
    """The store stayed locked by another process for longer than the busy timeout."""


def db_path() -> str:
    return os.environ.get("IMS_DB_PATH", DEFAULT_DB_PATH)


def worker_lock_path() -> Path:
    """The lock file the worker loop holds while it runs, beside the store."""
    return Path(db_path()).resolve().with_name("worker.lock")


def lock_wait_stats() -> dict:
    """How often and how long this process waited for the file lock (for load reports)."""
    return dict(_lock_waits)


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("could not set" in text or "conflicting" in text)


def _open(path: str, read_only: bool, busy_timeout: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + busy_timeout
    delay = 0.02
    started = time.monotonic()
    while True:
        try:
            con = duckdb.connect(path, read_only=read_only)
            waited = time.monotonic() - started
            if waited > 0.001 and delay > 0.02:
                _lock_waits["count"] += 1
                _lock_waits["seconds"] += waited
            return con
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            if not _is_lock_error(exc):
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusy(
                    f"The database {path} is busy (locked by another process) and stayed "
                    f"locked for {busy_timeout:.0f} s. Try again in a moment."
                ) from exc
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 1.6, 0.5)


@contextlib.contextmanager
def connect(path: str | None = None, read_only: bool = False,
            busy_timeout: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store, migrate it if needed, yield a connection, close it.

    Statements run in autocommit unless the caller wraps them in `transaction(con)`.
    """
    path = path or db_path()
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, read_only, BUSY_TIMEOUT_S if busy_timeout is None else busy_timeout)
    try:
        if not read_only:
            migrate(con, path)
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, or ROLLBACK on any exception (which is re-raised)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def migration_files() -> list[tuple[int, Path]]:
    found = []
    for f in MIGRATIONS_DIR.glob("*.sql"):
        number = f.name.split("_", 1)[0]
        if number.isdigit():
            found.append((int(number), f))
    return sorted(found)


def migrate(con: duckdb.DuckDBPyConnection, path: str = "") -> list[int]:
    """Apply every migration not yet recorded; each in its own transaction."""
    key = f"{path}:{len(migration_files())}"
    if path and path != ":memory:" and key in _migrated:
        return []
    with _migrate_lock:
        con.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                    "version INTEGER PRIMARY KEY, name VARCHAR, "
                    "applied_at TIMESTAMP DEFAULT current_timestamp)")
        done = {r[0] for r in con.execute("SELECT version FROM schema_version").fetchall()}
        applied = []
        for number, f in migration_files():
            if number in done:
                continue
            with transaction(con):
                con.execute(f.read_text())
                con.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)",
                            [number, f.stem])
            applied.append(number)
        if path:
            _migrated.add(key)
        return applied


def get_setting(con: duckdb.DuckDBPyConnection, key: str, default: str | None = None) -> str | None:
    # fetchall, not fetchone: DuckDB 2 keeps a fetchone() result open, which breaks the
    # next con.sql() on the same connection ("unfinished result").
    rows = con.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else default


def put_setting(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        [key, str(value), utc_now()],
    )
