"""Team mode's acceptance run: real `python worker.py once` processes on one PostgreSQL store
with the three businesses of the sandbox, doing the real fetch and sync over HTTP. Two workers
start on one machine (no lock file in team mode); one is killed with SIGKILL in the middle of
a fetch; the other runs every other job; a third start takes the killed job over. Each
business ends fetched and synced, and no (job, business, slot) has run twice."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

from core.clock import to_store
from core.store import connect
from sandbox.demo import DEMO_GSTINS
from tests.fixtures import ROOT, add_business


def worker_once() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "worker.py", "once"], cwd=ROOT,
                            env=os.environ.copy(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def runs() -> list[tuple]:
    with connect() as con:
        return con.execute("SELECT job, gstin, slot, ok, finished_at IS NULL, pid FROM job_runs "
                           "WHERE job IN ('fetch', 'sync') ORDER BY run_id").fetchall()


def wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_workers_share_three_businesses_and_a_killed_ones_job_is_taken_over(
        pg_database, sandbox, monkeypatch):
    monkeypatch.setenv("IMS_DB_URL", pg_database)
    created = to_store(dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
    for gstin in DEMO_GSTINS:
        add_business(gstin, fetch_time="00:00", created_at=created)
    sandbox.control("fault", kind="slow", delay=60, times=1, path_contains="GETCNT")
    first = worker_once()
    try:
        held = wait_for(lambda: [r for r in runs() if r[0] == "fetch" and r[4]], 60,
                        "the first worker's fetch to start")
        killed_gstin = held[0][1]                 # inside the slow call now
        second = worker_once()                    # same machine, same store: allowed
        out, err = second.communicate(timeout=240)
        assert second.returncode == 0, out + err
        assert f"fetch  {killed_gstin}" not in out   # claimed by the first: skipped
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    with connect() as con:      # a minute on: the killed run is past the grace of a start
        con.execute("UPDATE job_runs SET started_at = started_at - INTERVAL '5 minutes' "
                    "WHERE finished_at IS NULL")
    third = worker_once()                         # the killed worker's job is free again
    out, err = third.communicate(timeout=240)
    assert third.returncode == 0, out + err
    done = [(job, gstin, slot) for job, gstin, slot, ok, _, _ in runs() if ok]
    assert sorted({(job, gstin) for job, gstin, _ in done}) == sorted(
        (job, g) for job in ("fetch", "sync") for g in DEMO_GSTINS)
    assert len(done) == len(set(done)), runs()    # no job of a slot ran twice
    assert [(job, gstin, ok) for job, gstin, _, ok, _, _ in runs()
            if gstin == killed_gstin] == [("fetch", killed_gstin, False),   # abandoned
                                          ("fetch", killed_gstin, True), ("sync", killed_gstin, True)]
    with connect() as con:
        per_business = dict(con.execute(
            "SELECT rtin, count(*) FILTER (WHERE recommended_action IS NULL) FROM ims_records "
            "GROUP BY rtin").fetchall())
    assert sorted(per_business) == sorted(DEMO_GSTINS)
    assert set(per_business.values()) == {0}, per_business   # every record synced
