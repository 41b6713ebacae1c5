"""The real `python worker.py` process and the real jobs against the sandbox.

One instance at a time (flock), clean stop on SIGTERM (also in the middle of a fetch),
the commands of docs/interfaces.md, and one tick of the schedule running the real fetch and
sync for two businesses where one of them fails.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.clock import ManualClock, business_tz, to_store
from core.schedule.scheduler import Worker
from core.store.database import connect
from tests.fixtures import ROOT, add_business

A = "27AAACW1234K1ZD"          # a demo business the sandbox knows
UNKNOWN = "24AAQCA8719H1ZC"    # a valid GSTIN the sandbox does not serve (RET11401)


def two_days_ago() -> dt.datetime:
    return to_store(dt.datetime.now(dt.UTC) - dt.timedelta(days=2))


def start_worker(tmp_path: Path, *args: str, name: str = "worker") -> tuple[subprocess.Popen, Path]:
    log = tmp_path / f"{name}.log"
    with open(log, "wb") as err:   # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, "worker.py", *args], cwd=ROOT,
                                env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=err)
    return proc, log


def wait_for(predicate, seconds: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def fetch_rows() -> list[tuple]:
    with connect() as con:
        return con.execute("SELECT job, finished_at, ok, stopped, error, triggered_by FROM job_runs "
                           "WHERE job = 'fetch' ORDER BY run_id").fetchall()


def test_a_second_worker_exits_and_sigterm_stops_the_first_cleanly(db_file, tmp_path):
    first, log = start_worker(tmp_path)
    try:
        wait_for(lambda: "worker started" in log.read_text(), what="the first worker to start")
        second = subprocess.run([sys.executable, "worker.py"], cwd=ROOT, env=os.environ.copy(),
                                check=False, capture_output=True, text=True, timeout=60)
        assert second.returncode == 3
        assert "Another worker is already running" in second.stderr
        assert f"pid {first.pid}" in second.stderr
        once = subprocess.run([sys.executable, "worker.py", "once"], cwd=ROOT, env=os.environ.copy(),
                              check=False, capture_output=True, text=True, timeout=60)
        assert once.returncode == 3
        first.send_signal(signal.SIGTERM)
        assert first.wait(30) == 0
        assert "worker stopped" in log.read_text()
    finally:
        if first.poll() is None:
            first.kill()
    # the lock went with the process: a new worker may start
    again = subprocess.run([sys.executable, "worker.py", "once"], cwd=ROOT, env=os.environ.copy(),
                           check=False, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "nothing due" in again.stdout


def test_sigterm_during_a_fetch_abandons_it_and_the_slot_runs_on_the_next_start(db_file, sandbox, tmp_path):
    add_business(A, fetch_time="00:00", created_at=two_days_ago())
    sandbox.control("fault", kind="slow", delay=20, times=1, path_contains="GETCNT")
    proc, log = start_worker(tmp_path)
    try:
        wait_for(lambda: fetch_rows(), what="the scheduled fetch to start")
        time.sleep(1.0)  # inside the slow HTTP call now
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text()
        assert time.monotonic() - started < 10  # did not wait for the 20 s answer
    finally:
        if proc.poll() is None:
            proc.kill()
    (_job, finished, ok, stopped, error, _trig), = fetch_rows()
    assert finished is not None and ok is False and stopped is True and "SIGTERM" in error
    with connect() as con:
        assert con.execute("SELECT count(*) FROM ims_records").fetchone()[0] == 0
    sandbox.control("clear_faults")
    once = subprocess.run([sys.executable, "worker.py", "once"], cwd=ROOT, env=os.environ.copy(),
                          check=False, capture_output=True, text=True, timeout=180)
    assert once.returncode == 0, once.stdout + once.stderr
    assert [r[2] for r in fetch_rows()] == [False, True]
    with connect() as con:
        assert con.execute("SELECT count(*) FROM ims_records WHERE recommended_action IS NOT NULL"
                           ).fetchone()[0] > 0


def test_one_tick_with_the_real_jobs_isolates_a_failing_business(db_file, sandbox):
    add_business(UNKNOWN, created_at=two_days_ago())
    add_business(A, created_at=two_days_ago())
    today = dt.datetime.now(business_tz()).date()
    clock = ManualClock(dt.datetime.combine(today, dt.time(6, 0), business_tz()))
    results = Worker(clock).tick()
    outcome = {(r.job, r.gstin): r for r in results}
    assert list(outcome) == [("fetch", UNKNOWN), ("sync", UNKNOWN), ("fetch", A), ("sync", A)]
    assert not outcome[("fetch", UNKNOWN)].ok and "RET11401" in outcome[("fetch", UNKNOWN)].error
    assert outcome[("sync", UNKNOWN)].ok and outcome[("sync", UNKNOWN)].counts["records"] == 0
    assert outcome[("fetch", A)].ok and outcome[("sync", A)].ok
    assert outcome[("sync", A)].counts["records"] == 300
    with connect() as con:
        fetches = con.execute("SELECT job, slot FROM job_runs WHERE gstin = ? AND job <> 'sync'",
                              [A]).fetchall()
        assert fetches == [("fetch", to_store(clock.now()))]  # one run: IMS and GSTR-2A
        missing = con.execute("SELECT count(*) FROM ims_records WHERE rtin = ? AND recommended_action IS NULL "
                              "AND match_status IS NULL", [A]).fetchone()[0]
    assert missing == 0


def test_status_and_sync_commands(db_file, sandbox):
    add_business(A, created_at=two_days_ago())
    env = os.environ.copy()
    fetch = subprocess.run([sys.executable, "worker.py", "fetch", "--gstin", A], cwd=ROOT, env=env,
                           check=False, capture_output=True, text=True, timeout=180)
    assert fetch.returncode == 0, fetch.stderr
    assert f"fetch {A}: ok, IMS 300 records" in fetch.stdout
    sync = subprocess.run([sys.executable, "worker.py", "sync"], cwd=ROOT, env=env,
                          check=False, capture_output=True, text=True, timeout=180)
    assert sync.returncode == 0, sync.stderr
    assert f"sync {A}: ok" in sync.stdout
    status = subprocess.run([sys.executable, "worker.py", "status"], cwd=ROOT, env=env,
                            check=False, capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    head, row = status.stdout.splitlines()[1:3]
    for column in ("last fetch", "next fetch", "last sync", "sync due by", "last error"):
        assert column in head
    assert row.startswith(A) and row.count(":") >= 4
    unknown = subprocess.run([sys.executable, "worker.py", "sync", "--gstin", UNKNOWN], cwd=ROOT, env=env,
                             check=False, capture_output=True, text=True, timeout=60)
    assert unknown.returncode != 0 and "unknown business GSTIN" in unknown.stderr
