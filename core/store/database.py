"""The DuckDB store shared by the app and the worker.

DuckDB lets one process hold the file read-write; every other process's open fails
at once while it does. So nobody keeps a connection: `connect()` opens, yields,
commits or rolls back, and closes. A lock error on open is retried with jittered
backoff for up to `busy_timeout` seconds, then raised as `DatabaseBusy`.

Schema lives in `core/store/migrations/NNN_name.sql`, applied in number order once each,
recorded in `schema_version`.

Team mode: `IMS_DB_URL=postgresql://...` puts the store on a PostgreSQL server instead
(core/store/postgres.py, docs/store.md "Team mode"); `connect()` decides, nothing above knows.

Backups (`python -m core store backup | restore | verify | list`, alias `python -m core.db`)
live in core/backup/, which sits above the store: the store never imports a command line.
"""
from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import random
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from core.clock import utc_now
from core.store import postgres
from core.store.writer_queue import WriterQueue

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
DEFAULT_DB_PATH = "data/ims.duckdb"
BUSY_TIMEOUT_S = float(os.environ.get("IMS_DB_BUSY_TIMEOUT", "15"))
# How long an idle process keeps the file open for its next piece of work (opening and closing
# cost about 0.1 s each; a cursor of an open file 1 ms). Let go at once when another process
# waits for the file.
LINGER_S = float(os.environ.get("IMS_DB_LINGER", "0.3"))

# Longest pause between two tries to open a file another process holds. The holder's pieces
# of work are short (docs/store.md), so a waiter must notice the file is free at once; a failed
# try costs about 4 ms.
RETRY_MAX_S = 0.05

_migrated: set[str] = set()
_applied: dict[str, list[int]] = {}     # store -> the migrations this process applied to it
_migrate_lock = threading.Lock()
_lock_waits = {"count": 0, "seconds": 0.0}
# The longest times this process held the store (a connect() and the open file), for load
# reports: `IMS_DB_HOLD_LOG=1` writes them to stderr at exit (docs/store.md).
_holds: dict[str, list] = {"connect": [], "file": []}
_HOLDS_KEPT = 8


class DatabaseBusy(RuntimeError):
    """The store stayed locked by another process for longer than the busy timeout."""


def _is_short_read(exc: Exception) -> bool:
    """DuckDB read fewer bytes than the file's header promises: seen on open while another
    process was letting the file go (its closing checkpoint still writing), issue 29.8."""
    text = str(exc).lower()
    return "could not read enough bytes" in text or "could not read all bytes" in text


class StoreUnreachable(DatabaseBusy):
    """The PostgreSQL server of team mode did not answer (or refused the login)."""


def db_path() -> str:
    return os.environ.get("IMS_DB_PATH", DEFAULT_DB_PATH)


def db_url() -> str | None:
    """The PostgreSQL database of team mode (`IMS_DB_URL`), or None: the DuckDB file."""
    return os.environ.get("IMS_DB_URL", "").strip() or None


def store_location() -> str:
    """Where the store is: the team-mode URL when set, else the DuckDB file's path."""
    return db_url() or db_path()


def on_postgres(con) -> bool:
    """True when `con` is a team-mode (PostgreSQL) connection."""
    return isinstance(con, postgres.PgConnection)


def worker_lock_path() -> Path:
    """The lock file the worker loop holds while it runs, beside the store."""
    return Path(db_path()).resolve().with_name("worker.lock")


def lock_wait_stats() -> dict:
    """How often and how long this process waited for the file lock (for load reports)."""
    return dict(_lock_waits)


def hold_stats() -> dict:
    """The longest holds of this process: {"connect": [(seconds, where)], "file": [...]}."""
    return {k: sorted(v, reverse=True) for k, v in _holds.items()}


def _note_hold(kind: str, seconds: float, where: str) -> None:
    kept = _holds[kind]
    kept.append((round(seconds, 3), where))
    kept.sort(reverse=True)
    del kept[_HOLDS_KEPT:]


def _caller() -> str:
    frame = sys._getframe(3)
    return f"{frame.f_code.co_name} ({Path(frame.f_code.co_filename).name}:{frame.f_lineno})"


def _report_holds() -> None:
    if os.environ.get("IMS_DB_HOLD_LOG"):
        for kind, kept in hold_stats().items():
            for seconds, where in kept:
                print(f"HOLD {kind} {seconds:.3f} s {where}", file=sys.stderr)
        waits = lock_wait_stats()
        print(f"WAITED {waits['count']} times {waits['seconds']:.3f} s", file=sys.stderr)


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("could not set" in text or "conflicting" in text)


class _HeldElsewhere(Exception):
    """Another process holds the store file (its `<file>.held` lock): wait as for DuckDB's."""

    def __str__(self) -> str:
        return "could not set lock on file: held by another process"


def _hold(held: int) -> None:
    """Take `<file>.held` for as long as this process has the file open. DuckDB's own lock is
    a POSIX record lock, which the process loses when it closes any other handle of the file
    (a failed second open included): then a second process could open the file and both
    write (the read errors and the lost save of issue 29.8). This `flock` is not lost so."""
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _HeldElsewhere() from None


def _release(held: int) -> None:
    fcntl.flock(held, fcntl.LOCK_UN)


def _open_file(path: str, busy_timeout: float, turn: int, held: int
               ) -> duckdb.DuckDBPyConnection:
    """Open the file read-write, waiting (jittered backoff) while another process holds it,
    or while it reads short (another process's closing checkpoint still writing it).

    A process that has to wait takes the file's turn lock (`<file>.turn`) while it waits, so
    that the holder stops handing the file to new work of its own and lets it go (`_checkout`).
    The open file is held under `<file>.held` as well (`_hold`), released after its close.
    """
    deadline = time.monotonic() + busy_timeout
    delay = 0.02
    started = time.monotonic()
    have_turn = False
    try:
        while True:
            try:
                _hold(held)
                try:
                    con = duckdb.connect(path)
                except BaseException:
                    _release(held)
                    raise
                waited = time.monotonic() - started
                if waited > 0.001 and delay > 0.02:
                    _lock_waits["count"] += 1
                    _lock_waits["seconds"] += waited
                return con
            except (duckdb.IOException, duckdb.ConnectionException, _HeldElsewhere) as exc:
                short = _is_short_read(exc)
                if not (short or _is_lock_error(exc)):
                    raise
                if time.monotonic() >= deadline and short:
                    raise DatabaseBusy(
                        f"The store file {path} could not be read: it is shorter than its own "
                        f"header says, and stayed so for {busy_timeout:.0f} s (damaged, or "
                        "still being written by another program). If it stays so, restore the "
                        "newest backup (docs/backups.md).") from exc
                if time.monotonic() >= deadline:
                    raise DatabaseBusy(
                        f"The database is busy: another program (the worker, or a second app) "
                        f"held it for more than {busy_timeout:.0f} s. Try again in a moment."
                    ) from exc
                have_turn = have_turn or _take_turn(turn)
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 1.6, RETRY_MAX_S)
    finally:
        if have_turn:
            fcntl.flock(turn, fcntl.LOCK_UN)


def _keep_private(path: str) -> None:
    """The store file and its WAL readable by their owner only (0600): they hold password
    hashes and session ids. DuckDB makes them with the process's umask (often 0644)."""
    for p in (path, path + ".wal"):
        try:
            if os.stat(p).st_mode & 0o077:
                os.chmod(p, 0o600)
        except OSError:
            pass                # gone, or not ours to change (another user's file)


def _take_turn(turn: int) -> bool:
    try:
        fcntl.flock(turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _another_process_waits(turn: int) -> bool:
    try:
        fcntl.flock(turn, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(turn, fcntl.LOCK_UN)
    return False


class _SharedFile:
    """One open database file shared by every thread of this process.

    DuckDB allows one database instance per file per process; threads that open and close
    it on their own collide ("Unique file handle conflict"). So the first user opens the
    file, later users take cursors of that one instance, and the last one out closes it
    (which lets the worker or another app process in). `writer` serialises this process's
    write transactions, so two sessions never conflict on the same row.
    """

    def __init__(self, path: str) -> None:
        self.root: duckdb.DuckDBPyConnection | None = None
        self.users = 0
        self.guard = threading.Condition()  # opening and closing, one thread at a time
        self.writer = WriterQueue()         # first come, first served (writer_queue.py)
        self.path = path
        self.turn = os.open(path + ".turn", os.O_RDWR | os.O_CREAT, 0o600)
        self.held = os.open(path + ".held", os.O_RDWR | os.O_CREAT, 0o600)
        self.depth = threading.local()      # cursors this thread holds
        self.idle_round = 0                 # counts the times the last user left
        self.opened_at = 0.0


_files: dict[str, _SharedFile] = {}
_files_lock = threading.Lock()


def _let_the_other_process_in(shared: _SharedFile, busy_timeout: float) -> None:
    """While another process waits for the file, new work of this process waits for the file
    to be let go, instead of keeping it busy for ever (a thread that already holds a cursor
    goes on: its work must finish for the file to be let go)."""
    if shared.root is None or getattr(shared.depth, "n", 0) or not _another_process_waits(
            shared.turn):
        return
    if shared.users == 0:
        _let_go(shared)
        return
    shared.guard.wait_for(lambda: shared.root is None, timeout=busy_timeout)


def _after_the_waiting_process(shared: _SharedFile, busy_timeout: float) -> None:
    """Another process waits for the file (it holds the turn): let it open the file first (it
    lets go of the turn once it has) rather than take the file back the moment it was let go.
    Without this, a process with a dozen busy sessions took the file back again and again and
    the waiting process's save ran out of its busy timeout (issue 29.8, bench/load.py).
    Saves only: pages' reads open the file at once as before (letting them wait too made the
    eight-browser run slower: bench/sessions.py, docs/reliability.md)."""
    deadline = time.monotonic() + busy_timeout
    while _another_process_waits(shared.turn) and time.monotonic() < deadline:
        time.sleep(0.005 * (1 + random.random()))


def _checkout(shared: _SharedFile, path: str, busy_timeout: float,
              writes: bool = True) -> duckdb.DuckDBPyConnection:
    with shared.guard:
        _let_the_other_process_in(shared, busy_timeout)
        if shared.root is None:
            if writes:
                _after_the_waiting_process(shared, busy_timeout)
            shared.root = _open_file(path, busy_timeout, shared.turn, shared.held)
            shared.opened_at = time.monotonic()
            _keep_private(path)
            try:
                migrate(shared.root, path)
            except BaseException:
                shared.root.close()
                shared.root = None
                _release(shared.held)
                raise
        shared.users += 1
        shared.depth.n = getattr(shared.depth, "n", 0) + 1
        return shared.root.cursor()


def _checkin(shared: _SharedFile, cursor: duckdb.DuckDBPyConnection) -> None:
    with shared.guard:
        try:
            cursor.close()
            if shared.users == 1 and shared.root is not None:
                _keep_private(shared.path)     # a WAL made by this piece of work
        finally:
            shared.users -= 1
            shared.depth.n -= 1
            if shared.users == 0 and shared.root is not None:
                _close_or_linger(shared)


def _close_or_linger(shared: _SharedFile) -> None:
    """The last user left (guard held): let the file go now if another process waits for it
    or lingering is off, else in LINGER_S unless new work comes first."""
    if LINGER_S <= 0 or _another_process_waits(shared.turn):
        _let_go(shared)
        return
    shared.idle_round += 1
    timer = threading.Timer(LINGER_S, _let_go_if_still_idle, (shared, shared.idle_round))
    timer.daemon = True
    timer.start()


def _let_go_if_still_idle(shared: _SharedFile, idle_round: int) -> None:
    with shared.guard:
        if shared.users == 0 and shared.idle_round == idle_round and shared.root is not None:
            _let_go(shared)


def _let_go(shared: _SharedFile) -> None:
    root, shared.root = shared.root, None
    try:
        root.close()
    finally:
        _release(shared.held)
    _note_hold("file", time.monotonic() - shared.opened_at, "open to close")
    shared.guard.notify_all()


def let_go_of_idle_files() -> None:
    """Close every store file this process holds open without using it (before copying the
    file, and at exit), so that it is whole on disk and free for other processes; and the idle
    connections to a team-mode server."""
    postgres.close_idle()
    for shared in list(_files.values()):
        with shared.guard:
            if shared.users == 0 and shared.root is not None:
                _let_go(shared)


atexit.register(_report_holds)
atexit.register(let_go_of_idle_files)   # runs first (last registered), so its close is counted


@contextlib.contextmanager
def connect(path: str | None = None, read_only: bool = False,
            busy_timeout: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection to the store (a cursor of this process's one open instance).

    The file is held only while some thread of this process is inside `connect()`.
    A connection that may write (the default) waits for this process's other writers, so
    sessions never meet "Conflict on update"; `read_only=True` connections (pages, reports)
    go on beside them and must not write. Statements run in autocommit unless the caller
    wraps them in `transaction(con)`.
    """
    path = path or db_url() or db_path()
    timeout = BUSY_TIMEOUT_S if busy_timeout is None else busy_timeout
    if postgres.is_url(path):
        with _server_connection(path, timeout) as con:
            yield con
        return
    if path == ":memory:":
        con = duckdb.connect(path)
        try:
            migrate(con)
            yield con
        finally:
            con.close()
        return
    path = str(Path(path).resolve())
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with _files_lock:
        if path not in _files:
            _files[path] = _SharedFile(path)
        shared = _files[path]
    with contextlib.ExitStack() as stack:
        if not read_only:
            _wait_for_writer(shared, timeout)
            stack.callback(shared.writer.release)
            shared.writer.waiting_for_file()   # its own busy timeout bounds that wait
        cursor = _checkout(shared, path, timeout, writes=not read_only)
        if not read_only:
            shared.writer.working()     # the file is ours: the wait for it is over
        held, where = time.monotonic(), _caller()
        try:
            yield cursor
        finally:
            _checkin(shared, cursor)
            _note_hold("connect", time.monotonic() - held, where)


@contextlib.contextmanager
def _server_connection(url: str, timeout: float) -> Iterator[postgres.PgConnection]:
    """A team-mode connection, the database migrated on its first use by this process."""
    psycopg = postgres.driver()
    try:
        opened = postgres.connection(url, timeout)
        con = opened.__enter__()
    except psycopg.OperationalError as exc:
        raise StoreUnreachable(
            f"The database server ({postgres.where(url)}) does not answer or refused the "
            f"login. Check IMS_DB_URL and that the server runs, then try again.") from exc
    with contextlib.ExitStack() as stack:
        stack.push(opened)
        held, where = time.monotonic(), _caller()
        migrate(con, url)
        try:
            yield con
        except psycopg.errors.LockNotAvailable as exc:
            raise DatabaseBusy(
                f"The database is busy: other people's changes took more than {timeout:.0f} s. "
                "Try again in a moment.") from exc
        finally:
            _note_hold("connect", time.monotonic() - held, where)


def _wait_for_writer(shared: _SharedFile, timeout: float) -> None:
    started = time.monotonic()
    if not shared.writer.acquire(timeout):   # no save of this process ended for `timeout`
        raise DatabaseBusy(
            f"The database is busy: other people's changes took more than {timeout:.0f} s. "
            "Try again in a moment.")
    waited = time.monotonic() - started
    if waited > 0.05:
        _lock_waits["count"] += 1
        _lock_waits["seconds"] += waited


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


def migrate(con: duckdb.DuckDBPyConnection, path: str = "",
            versions: set[int] | None = None) -> list[int]:
    """Apply every migration not yet recorded (only those numbered in `versions`, when given:
    a restore builds a backup's schema); each in its own transaction."""
    key = f"{path}:{len(migration_files())}"
    if path and path != ":memory:" and key in _migrated:
        return []
    if on_postgres(con):
        with _migrate_lock, postgres.migration_lock(con):
            return _apply_migrations(con, path, key, postgres_ddl, versions)
    with _migrate_lock:
        return _apply_migrations(con, path, key, duckdb_ddl, versions)


# The first line of a migration only PostgreSQL needs (indexes for the page queries, which
# DuckDB's column store answers without): on the DuckDB file its version is recorded, its SQL
# not run, so both engines stay at the same schema version.
POSTGRES_ONLY = "-- postgres only"
# ... and of one only the DuckDB file needs (an index its column store is better without)
DUCKDB_ONLY = "-- duckdb only"


def duckdb_ddl(sql: str) -> str:
    """A migration's DDL for the DuckDB file: as written, or nothing for a PostgreSQL-only one."""
    return "" if sql.lstrip().startswith(POSTGRES_ONLY) else sql


def postgres_ddl(sql: str) -> str:
    """A migration's DDL for PostgreSQL: its types translated, or nothing for a DuckDB-only
    one."""
    return "" if sql.lstrip().startswith(DUCKDB_ONLY) else postgres.ddl(sql)


def _apply_migrations(con, path: str, key: str, for_engine,
                      versions: set[int] | None = None) -> list[int]:
    """The migrations not yet recorded (only those numbered in `versions`, when given), each
    in its own transaction; `for_engine` turns a file's SQL into the engine's (DuckDB: as
    written)."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, name VARCHAR, "
                "applied_at TIMESTAMP DEFAULT current_timestamp)")
    done = {r[0] for r in con.execute("SELECT version FROM schema_version").fetchall()}
    applied = []
    for number, f in migration_files():
        if number in done or (versions is not None and number not in versions):
            continue
        with transaction(con):
            sql = for_engine(f.read_text())
            if sql.strip():
                con.execute(sql)
            con.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)",
                        [number, f.stem])
        applied.append(number)
    if path:
        _migrated.add(key)
        _applied.setdefault(path, []).extend(applied)
    return applied


def migrate_store(location: str | None = None) -> tuple[list[int], int]:
    """Bring the store (the configured one, or `location`: a file or a team-mode URL) to the
    latest schema: (the migrations applied now, the schema version it is at)."""
    location = location or store_location()
    key = location if postgres.is_url(location) else str(Path(location).resolve())
    before = len(_applied.get(key, []))
    with connect(location) as con:
        latest = con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0]
    return _applied.get(key, [])[before:], latest


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

