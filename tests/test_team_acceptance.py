"""Team mode's acceptance run: real `python worker.py once` processes on one PostgreSQL store
with the three businesses of the sandbox, doing the real fetch and sync over HTTP. Two workers
start on one machine (no lock file in team mode); one is killed with SIGKILL in the middle of
a fetch; the other runs every other job; a third start takes the killed job over. Each
business ends fetched and synced, and no (job, business, slot) has run twice. A worker killed
in the middle of a sync's write (its transaction open, its rows locked) leaves the sync to the
next worker, and no action a user saved around it is lost."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from core.clock import to_store
from core.ims import save_user_actions
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


def waiting_on_a_lock(url: str, statement: str) -> bool:
    """Does some session of the server wait for a lock in a statement holding `statement`?"""
    statement = f"%{statement}%"
    with psycopg.connect(url, autocommit=True) as con:
        return con.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND query ILIKE %s AND pid <> pg_backend_pid()", [statement]
                           ).fetchone()[0] > 0


@pytest.mark.slow
def test_a_worker_killed_mid_sync_leaves_the_sync_to_another_and_no_action_is_lost(
        pg_database, sandbox, monkeypatch):
    monkeypatch.setenv("IMS_DB_URL", pg_database)
    gstin = DEMO_GSTINS[0]
    add_business(gstin, fetch_time="00:00",
                 created_at=to_store(dt.datetime.now(dt.UTC) - dt.timedelta(days=2)))
    gate = psycopg.connect(pg_database)         # the sync's first write waits here
    gate.execute("LOCK TABLE reco_runs IN EXCLUSIVE MODE")
    rows = psycopg.connect(pg_database)
    first = worker_once()
    try:
        wait_for(lambda: waiting_on_a_lock(pg_database, "INSERT INTO reco_runs"), 120,
                 "the first worker's sync to start writing")
        ids = [r for (r,) in rows.execute("SELECT record_id FROM ims_records WHERE rtin = %s "
                                          "ORDER BY record_id", [gstin]).fetchall()]
        saved = {ids[0]: "A", ids[1]: "R"}     # before the kill, while the sync runs
        save_user_actions([gstin], {r: {"action": a} for r, a in saved.items()}, "asha")
        rows.execute("SELECT 1 FROM ims_records WHERE record_id = %s FOR UPDATE", [ids[-1]])
        gate.commit()                           # the sync goes on to its last write ...
        wait_for(lambda: waiting_on_a_lock(pg_database, "UPDATE ims_records"), 60,
                 "the sync's write onto the records")
        first.send_signal(signal.SIGKILL)       # ... and dies in it, its transaction open
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
        gate.close()
    rows.rollback()
    rows.close()
    saved[ids[2]] = "P"                         # after the kill, before the takeover
    save_user_actions([gstin], {ids[2]: {"action": "P"}}, "asha")
    with connect() as con:      # a minute on: the killed run is past the grace of a start
        con.execute("UPDATE job_runs SET started_at = started_at - INTERVAL '5 minutes' "
                    "WHERE finished_at IS NULL")
    second = worker_once()
    out, err = second.communicate(timeout=240)
    assert second.returncode == 0, out + err
    assert [(job, ok) for job, g, _, ok, _, _ in runs() if g == gstin] == [
        ("fetch", True), ("sync", False), ("sync", True)]       # killed, then taken over
    with connect() as con:
        unsynced, = con.execute("SELECT count(*) FROM ims_records WHERE rtin = ? "
                                "AND recommended_action IS NULL", [gstin]).fetchone()
        actions = dict(con.execute("SELECT record_id, user_action FROM ims_records "
                                   "WHERE user_action IS NOT NULL").fetchall())
        logged = con.execute("SELECT count(*) FROM action_log WHERE actor = 'asha'"
                             ).fetchone()[0]
        unfinished = con.execute("SELECT count(*) FROM reco_runs WHERE finished_at IS NULL"
                                 ).fetchone()[0]
    assert unsynced == 0
    assert actions == saved and logged == len(saved)            # 0 actions lost
    assert unfinished == 0          # the killed sync's half-written runs were cleared
