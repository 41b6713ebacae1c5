"""The operator's commands, run as real `python worker.py` processes against a real DuckDB
file: businesses add / list / enable / disable, settings show / set, the pointer from an
unknown GSTIN to `businesses add`, and a killed `worker.py fetch` closed as stopped."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.store.database import connect

ROOT = Path(__file__).resolve().parents[1]
GOOD = "27AAPFU0939F1ZV"
OTHER = "29AAACW1234K1Z9"
SANDBOX_GSTIN = "27AAACW1234K1ZD"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "worker.py", *args], cwd=ROOT, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=120, check=False)


def rows(sql: str, params: list | None = None) -> list[tuple]:
    with connect() as con:
        return con.execute(sql, params or []).fetchall()


def test_businesses_add_list_enable_disable(db_file):
    added = cli("businesses", "add", GOOD.lower(), "--name", "Acme Traders")
    assert added.returncode == 0, added.stderr
    assert f"added business {GOOD} (Maharashtra): Acme Traders" in added.stdout
    assert rows("SELECT gstin, name, enabled, fetch_time, sync_source FROM businesses") == [
        (GOOD, "Acme Traders", True, "06:00", "ims_vs_pr")]
    assert cli("businesses", "disable", GOOD).returncode == 0
    assert rows("SELECT enabled FROM businesses") == [(False,)]
    renamed = cli("businesses", "add", GOOD, "--name", "Acme Traders Pvt Ltd")
    assert "updated business" in renamed.stdout
    assert rows("SELECT name, enabled FROM businesses") == [("Acme Traders Pvt Ltd", False)]
    listed = cli("businesses", "list")
    assert listed.returncode == 0
    assert GOOD in listed.stdout and "Acme Traders Pvt Ltd" in listed.stdout
    assert listed.stdout.splitlines()[1].split()[-3:] == ["no", "06:00", "ims_vs_pr"]
    assert cli("businesses", "enable", GOOD).returncode == 0
    assert rows("SELECT enabled FROM businesses") == [(True,)]
    kinds = rows("SELECT actor, kind FROM action_log")
    assert kinds and set(kinds) == {("cli", "settings")}


def test_a_new_business_takes_the_shared_schedule(db_file):
    assert cli("businesses", "add", GOOD, "--name", "Acme").returncode == 0
    assert cli("settings", "set", "fetch_time", "7:30").returncode == 0
    assert cli("businesses", "add", OTHER, "--name", "Other").returncode == 0
    assert rows("SELECT gstin, fetch_time FROM businesses ORDER BY gstin") == [
        (GOOD, "07:30"), (OTHER, "07:30")]


@pytest.mark.parametrize("args, message", [
    (("businesses", "add", "27AAPFU0939F1ZO", "--name", "Typo"), "check character O, expected V"),
    (("businesses", "add", "27AAPFU0939F1Z", "--name", "Short"), "has 14 characters, not 15"),
    (("businesses", "add", GOOD, "--name", "  "), "name for 27AAPFU0939F1ZV is empty"),
    (("businesses", "enable", OTHER), f"unknown business GSTIN {OTHER}"),
    (("businesses", "disable", "not-a-gstin"), "has 11 characters, not 15"),
])
def test_bad_business_input_exits_2_and_says_why(db_file, args, message):
    done = cli(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert rows("SELECT count(*) FROM businesses") == [(0,)]


def test_settings_show_and_set(db_file):
    shown = cli("settings", "show")
    assert shown.returncode == 0
    assert shown.stdout.split("\n")[:5] == [
        "fetch_time   (no business yet)", "sync_source  (no business yet)",
        "tolerance    1.00", "date_window  10", "policy       balanced"]
    assert cli("businesses", "add", GOOD, "--name", "Acme").returncode == 0
    assert cli("businesses", "add", OTHER, "--name", "Other").returncode == 0
    for key, value, saved in (("fetch_time", "6:00", "06:00"), ("tolerance", "2.5", "2.50"),
                              ("sync_source", "2a_vs_pr", "2a_vs_pr"),
                              ("date_window", "7", "7"), ("policy", "strict", "strict")):
        done = cli("settings", "set", key, value)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"{key} = {saved}"
    assert rows("SELECT DISTINCT fetch_time, sync_source FROM businesses") == [
        ("06:00", "2a_vs_pr")]
    assert dict(rows("SELECT key, value FROM settings WHERE key IN "
                     "('tolerance', 'date_window', 'policy')")) == {
        "tolerance": "2.50", "date_window": "7", "policy": "strict"}
    assert cli("settings", "set", "sync_source", "off").returncode == 0
    shown = cli("settings", "show").stdout
    assert "sync_source  off" in shown and "tolerance    2.50" in shown
    assert cli("settings", "set", "fetch_time", "06:15").returncode == 0
    assert rows("SELECT DISTINCT fetch_time FROM businesses") == [("06:15",)]


@pytest.mark.parametrize("key, value, message", [
    ("fetch_time", "25:00", "'25:00' is not a time of day"),
    ("fetch_time", "6 am", "'6 am' is not a time of day"),
    ("sync_source", "gstr2b", "'gstr2b' is not one of 2a_vs_pr, ims_vs_pr, off"),
    ("tolerance", "-1", "between 0 and 1000"),
    ("tolerance", "lots", "'lots' is not a number"),
    ("date_window", "400", "between 0 and 366"),
    ("date_window", "1.5", "not a whole number"),
    ("policy", "lenient", "'lenient' is not one of balanced, strict"),
    ("colour", "green", "Unknown setting 'colour'"),
])
def test_bad_settings_exit_2_and_change_nothing(db_file, key, value, message):
    assert cli("businesses", "add", GOOD, "--name", "Acme").returncode == 0
    before = cli("settings", "show").stdout
    done = cli("settings", "set", key, value)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert cli("settings", "show").stdout == before


def test_schedule_settings_need_a_business_first(db_file):
    done = cli("settings", "set", "fetch_time", "07:00")
    assert done.returncode == 2
    assert "python worker.py businesses add GSTIN --name NAME" in done.stderr


def test_fetch_of_an_unknown_gstin_points_to_businesses_add(db_file):
    done = cli("fetch", "--gstin", GOOD)
    assert done.returncode == 2
    assert f"unknown business GSTIN {GOOD}" in done.stderr
    assert "python worker.py businesses add" in done.stderr
    assert rows("SELECT count(*) FROM job_runs") == [(0,)]


def test_a_killed_command_line_fetch_is_closed_as_stopped_and_shown(db_file, sandbox):
    assert cli("businesses", "add", SANDBOX_GSTIN, "--name", "Western Agro").returncode == 0
    sandbox.control("fault", kind="slow", delay=30, times=1, path_contains="GETCNT")
    proc = subprocess.Popen([sys.executable, "worker.py", "fetch"], cwd=ROOT,
                            env=os.environ.copy(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not rows("SELECT run_id FROM job_runs") and time.monotonic() < deadline:
        time.sleep(0.1)
    (run_id, job, pid, finished), = rows("SELECT run_id, job, pid, finished_at FROM job_runs")
    assert (job, pid, finished) == ("fetch", proc.pid, None)
    status = cli("status")                               # its process still runs: left alone
    assert "runs stopped before they finished, last 7 days: none" in status.stdout
    assert rows("SELECT finished_at FROM job_runs") == [(None,)]
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    status = cli("status")
    assert status.returncode == 0, status.stderr
    assert "runs stopped before they finished, last 7 days: 1" in status.stdout
    line = next(li for li in status.stdout.splitlines() if li.startswith(str(run_id)))
    assert "fetch" in line and SANDBOX_GSTIN in line and "cli" in line
    assert f"stopped: the process running it (pid {proc.pid}) ended" in line
    assert rows("SELECT ok, abandoned, stopped, finished_at IS NOT NULL FROM job_runs") == [
        (False, True, False, True)]
    sandbox.control("clear_faults")
    again = cli("fetch")                                 # the next run does the work
    assert again.returncode == 0, again.stdout + again.stderr
    assert rows("SELECT job, ok FROM job_runs ORDER BY run_id") == [
        ("fetch", False), ("fetch", True)]
