"""Several workers on one PostgreSQL store (team mode): each job of a business and slot is
claimed by exactly one worker (core.store.claimed, an advisory lock); a worker killed mid-job
lets its claim go, and another worker takes the job. Real worker processes, a real server."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from core import jobs
from core.store import connect
from tests.fixtures import ROOT, add_business

GSTIN = "27AAAAA0000A1Z5"
WORKER = """
import datetime as dt, sys, time
from core.jobs import run_job
from core.store import connect
start_at, hold = float(sys.argv[1]), float(sys.argv[2])
slot = dt.datetime(2026, 12, 5, 0, 30, tzinfo=dt.UTC)
while time.time() < start_at:
    time.sleep(0.002)

def work(run_id):
    print("working", run_id, flush=True)
    time.sleep(hold)
    with connect() as con:
        con.execute("INSERT INTO action_log (actor, kind, note) VALUES ('worker', 'ran', ?)",
                    [str(run_id)])
    return {"ran": 1}

result = run_job("fetch", "GSTIN", work, triggered_by="schedule", slot=slot)
print("result", result.run_id, result.skipped, flush=True)
""".replace("GSTIN", GSTIN)


@pytest.fixture
def team_store(pg_database, monkeypatch) -> str:
    monkeypatch.setenv("IMS_DB_URL", pg_database)
    add_business(GSTIN, "Team Works")
    return pg_database


def start_worker(url: str, start_at: float, hold: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WORKER, str(start_at), str(hold)], cwd=ROOT,
                            env={**os.environ, "IMS_DB_URL": url, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def runs_of_the_slot() -> list[tuple]:
    with connect() as con:
        return con.execute("SELECT run_id, ok, abandoned FROM job_runs WHERE job = 'fetch' "
                           "ORDER BY run_id").fetchall()


def work_done() -> int:
    with connect() as con:
        return con.execute("SELECT count(*) FROM action_log WHERE kind = 'ran'").fetchall()[0][0]


def test_two_workers_due_for_the_same_job_run_it_once(team_store):
    start_at = time.time() + 2.0          # both start together, after Python's start-up
    workers = [start_worker(team_store, start_at, 1.0) for _ in range(2)]
    outputs = [w.communicate(timeout=60) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    results = sorted(out.strip().splitlines()[-1] for out, _ in outputs)
    assert results[1].endswith("None") and "another worker" in results[0], results
    assert work_done() == 1
    assert [(ok, abandoned) for _, ok, abandoned in runs_of_the_slot()] == [(True, False)]
    # a third worker (a catch-up after the others ran it): the slot is not run again
    late = start_worker(team_store, time.time(), 0.0)
    out, err = late.communicate(timeout=60)
    assert "another worker already ran it" in out, err
    assert work_done() == 1


def test_a_worker_killed_mid_job_leaves_the_job_to_another(team_store):
    first = start_worker(team_store, time.time(), 60.0)
    assert first.stdout.readline().startswith("working")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    second = start_worker(team_store, time.time(), 0.0)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert out.splitlines()[-1].endswith("None"), out     # it ran the job, not skipped it
    assert work_done() == 1
    # the killed worker's run: no process holds its claim any more, so it is closed as
    # abandoned (whatever machine it ran on); the second run stays as it is
    killed, done = runs_of_the_slot()
    later = jobs.close_abandoned_runs(now=None)
    assert later == 0                      # younger than the grace: might not hold its claim yet
    with connect() as con:
        con.execute("UPDATE job_runs SET started_at = started_at - INTERVAL '5 minutes'")
    assert jobs.close_abandoned_runs() == 1
    assert runs_of_the_slot() == [(killed[0], False, True), (done[0], True, False)]


def test_a_running_job_of_another_worker_is_never_closed_as_abandoned(team_store):
    running = start_worker(team_store, time.time(), 60.0)
    try:
        assert running.stdout.readline().startswith("working")
        with connect() as con:
            con.execute("UPDATE job_runs SET started_at = started_at - INTERVAL '5 minutes', "
                        "pid = 999999")        # a pid that means nothing on this machine
        assert jobs.close_abandoned_runs() == 0
    finally:
        running.kill()
        running.wait(10)
