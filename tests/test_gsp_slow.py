"""One slow or flooding GSP answer never hangs the whole fetch (issue 29.7).

The real sandbox's fault injection (sandbox/faults.py): `drip` answers one byte every 2 s for
the first GSTIN (before: the 30 s timeout is per read, so the fetch ran past 300 s and the
other GSTINs were never fetched); `huge` answers 200 MB for the second (before: no cap, a
400 MB answer took the worker to 5.3 GB). The real `python worker.py once` fetches all three
businesses: the dripping one fails in words within its deadline, the flooding one is refused
in words with the worker's memory bounded, the third is fetched, and every job is closed.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time

import pytest

from core.store.database import connect, let_go_of_idle_files
from sandbox.demo import DEMO_GSTINS
from tests.fixtures import ROOT, add_business

pytestmark = pytest.mark.slow
SLOW, FLOOD, FINE = DEMO_GSTINS[:3]
# The worker's own peak: VmHWM of its address space (ru_maxrss would carry the forking
# pytest's size across exec, over 1 GB late in a full run).
RUN_WORKER = """
import atexit, runpy, sys
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
atexit.register(lambda: print("PEAK_MB", peak_mb(), file=sys.stderr))
sys.argv = ["worker.py", "once"]
runpy.run_path("worker.py", run_name="__main__")
"""


def test_a_dripping_and_a_flooding_gsp_leave_the_other_gstins_fetched(db_file, sandbox):
    due = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=2)
    for gstin in (SLOW, FLOOD, FINE):
        add_business(gstin, created_at=due, fetch_time="00:00")
    let_go_of_idle_files()
    sandbox.control("fault", kind="drip", delay=2, times=1000, path_contains=f"gstin={SLOW}")
    sandbox.control("fault", kind="huge", size_mb=200, times=1000,
                    path_contains=f"gstin={FLOOD}")
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-c", RUN_WORKER], cwd=ROOT, capture_output=True,
                         text=True, timeout=600, check=False,
                         env={**os.environ, "IMS_GSP_CALL_DEADLINE": "5",
                              "IMS_GSP_GSTIN_DEADLINE": "20", "IMS_GSP_MAX_ANSWER_MB": "20"})
    took = time.monotonic() - started
    peak = int(run.stderr.split("PEAK_MB")[-1].split()[0])
    with connect(read_only=True) as con:
        jobs = {g: (ok, error, finished) for g, ok, error, finished in con.execute(
            "SELECT gstin, ok, error, finished_at IS NOT NULL FROM job_runs WHERE job = 'fetch'"
        ).fetchall()}
        fetched = dict(con.execute("SELECT rtin, count(*) FROM ims_records GROUP BY rtin"
                                   ).fetchall())
    print(f"worker once: {took:.0f} s, peak {peak} MB; jobs {jobs}")
    assert set(jobs) == {SLOW, FLOOD, FINE}
    assert all(finished for _, _, finished in jobs.values())          # every job closed
    assert jobs[FINE][0] and fetched.get(FINE, 0) > 0                  # the others fetched
    assert not jobs[SLOW][0] and "did not finish its answer within 5 s" in jobs[SLOW][1]
    assert not jobs[FLOOD][0] and "larger than 20 MB" in jobs[FLOOD][1]
    assert took < 120
    assert peak < 600
