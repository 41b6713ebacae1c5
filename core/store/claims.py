"""Claims on work, so that in team mode several workers share the jobs and each job runs once.

On PostgreSQL (`IMS_DB_URL`) a claim is a session-level advisory lock taken on a connection
of its own and held for the block: another process asking for the same claim is told no at
once (it does not wait), and when the holder ends, or dies (SIGKILL, power cut), its session
ends and the server lets the claim go, so another worker can take the job. On the DuckDB file
one worker runs per machine (the worker's lock file), so every claim is granted.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from core.store.database import connect, db_url

# The first half of every advisory-lock key the store takes for claims (the second is the
# claim's name hashed by the server).
CLAIM_CLASS = 28


def team_mode() -> bool:
    """True when the store is a PostgreSQL database (IMS_DB_URL), not the DuckDB file."""
    return db_url() is not None


def several_workers() -> bool:
    """True when several workers may share this store (team mode on PostgreSQL)."""
    return team_mode()


@contextlib.contextmanager
def claimed(name: str) -> Iterator[bool]:
    """Yield True when this process holds the claim `name` for the block, False when another
    process holds it now."""
    if not several_workers():
        yield True
        return
    with connect() as con:
        got = con.execute("SELECT pg_try_advisory_lock(?, hashtext(?))",
                          [CLAIM_CLASS, name]).fetchall()[0][0]
        try:
            yield got
        finally:
            if got:
                con.execute("SELECT pg_advisory_unlock(?, hashtext(?))", [CLAIM_CLASS, name])


# The claim every worker holds shared for its life in team mode (so the app can tell that some
# worker, on any machine, is running).
WORKERS = "workers"


def announce_worker() -> contextlib.ExitStack | None:
    """Team mode: hold a shared claim for the life of this worker (close the returned stack to
    let it go; the server lets it go when the process dies). None on the DuckDB file."""
    if not team_mode():
        return None
    stack = contextlib.ExitStack()
    con = stack.enter_context(connect())
    con.execute("SELECT pg_advisory_lock_shared(?, hashtext(?))", [CLAIM_CLASS, WORKERS])
    stack.callback(con.execute, "SELECT pg_advisory_unlock_shared(?, hashtext(?))",
                   [CLAIM_CLASS, WORKERS])     # before the connection goes back to the pool
    return stack


def worker_present() -> bool:
    """Team mode: does some worker (on any machine) hold its shared claim now?"""
    with connect(read_only=True) as con:
        free = con.execute("SELECT pg_try_advisory_lock(?, hashtext(?))",
                           [CLAIM_CLASS, WORKERS]).fetchall()[0][0]
        if free:
            con.execute("SELECT pg_advisory_unlock(?, hashtext(?))", [CLAIM_CLASS, WORKERS])
    return not free
