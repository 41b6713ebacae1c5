"""The worker yields the CPU to people (issue 29, 8 sessions while the worker runs): run as a
process, `python worker.py` lowers its own priority to `IMS_WORKER_NICE` (10 unless set, 0 =
as started) on every thread it has, and a bad value is named. Real worker processes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow      # starts worker processes


def threads_niceness(pid: int) -> set[int]:
    """The niceness of each thread of process `pid` (/proc/<pid>/task/<tid>/stat, field 19)."""
    found = set()
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            found.add(int(stat.read_text().rsplit(")", 1)[1].split()[16]))
        except (OSError, IndexError):
            continue                            # a thread that ended meanwhile
    return found


def running_loop_niceness(tmp_path: Path, **env: str) -> set[int]:
    """Start the worker's loop on a fresh store; once it says it started (its threads running),
    the niceness of its threads; then stop it (SIGTERM, exit 0)."""
    env = {**os.environ, "IMS_DB_PATH": str(tmp_path / "ims.duckdb"), **env}
    proc = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        said = []
        while not said or "worker started" not in said[-1]:
            said.append(proc.stderr.readline())
            assert said[-1], f"the worker ended before it started: {said}"
        return threads_niceness(proc.pid)
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0


def test_the_worker_runs_below_people_and_the_caller_keeps_its_priority(tmp_path):
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert running_loop_niceness(tmp_path) == {max(ours, 10)}            # the default, 10
    assert running_loop_niceness(tmp_path, IMS_WORKER_NICE="15") == {max(ours, 15)}
    assert running_loop_niceness(tmp_path, IMS_WORKER_NICE="0") == {ours}   # 0: as started
    assert os.getpriority(os.PRIO_PROCESS, 0) == ours        # the starter is not lowered


def test_a_bad_niceness_is_named_and_nothing_runs():
    done = subprocess.run([sys.executable, "worker.py", "settings", "show"], cwd=ROOT,
                          env={**os.environ, "IMS_WORKER_NICE": "high"},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "IMS_WORKER_NICE must be a whole number from 0 to 19" in done.stderr
    assert "Traceback" not in done.stderr and not done.stdout
