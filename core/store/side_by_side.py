"""Independent pieces of one job run at once where the store lets them (a sync's reads; its
runs' result rows beside its records' write)."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from core.store.database import db_url


def side_by_side(*calls: Callable[[], object]) -> list:
    """Run `calls` (each opens its own connections) -> their results, in order. On PostgreSQL
    they run at once in threads, each served by a server process of its own, so the server
    works on one while this process parses or encodes another's rows (two cores: a sync's
    server time and its own overlap instead of adding up). On the DuckDB file one after
    another, in the order given: one process writes the file, and its reads take a tenth of
    a second. An error is raised here: on the server the first call's that failed, once every
    call has ended; on the file the failing call's, and the calls after it do not run."""
    if db_url() is None or len(calls) < 2:
        return [call() for call in calls]
    with ThreadPoolExecutor(len(calls), thread_name_prefix="side-by-side") as pool:
        running = [pool.submit(call) for call in calls]
        return [done.result() for done in running]
