"""SIGKILL of the real `python worker.py fetch` during a fetch and of `python worker.py sync`
during a sync: the store is left exactly as before or exactly as after (never between), and
the next run completes the work.

Each trial copies a prepared store file, starts the worker command on the copy, kills it
with SIGKILL after a delay (a sweep across the whole run, plus one kill inside a call made
slow by the sandbox's `slow` fault), then compares the copy with the "before" and "after"
states computed on other copies.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.ims.fetch import fetch_ims
from core.portal.client import GstnClient
from core.purchase import import_purchase_file
from core.store.database import connect
from tests.fixtures import ROOT, start_sandbox, stop_sandbox

RTIN = "27AAACW1234K1ZD"
SCALE = 4000
SEED = 11
IMS_STATE = ("SELECT section, stin, doc_no_key, fy, occurrence, hash, txval, portal_action, "
             "removed_at IS NULL FROM ims_records ORDER BY ALL")
GSTR2A_STATE = "SELECT ret_period, section, stin, doc_no, txval FROM gstr2a_docs ORDER BY ALL"
RECO_STATE = ("SELECT record_id, match_status, recommended_action FROM ims_records ORDER BY record_id")


@pytest.fixture(scope="module")
def big_sandbox():
    sb = start_sandbox(seed=SEED, scale=SCALE)
    yield sb
    stop_sandbox(sb)


def read(path: Path, sql: str) -> list:
    with connect(str(path)) as con:
        return con.execute(sql).fetchall()


def state(path: Path) -> dict:
    return {"ims": read(path, IMS_STATE), "gstr2a": read(path, GSTR2A_STATE),
            "reco": read(path, RECO_STATE),
            "runs": read(path, "SELECT kind, counts FROM reco_runs WHERE finished_at IS NOT NULL "
                               "ORDER BY run_id"),
            # rows of finished runs: a killed sync may leave an unfinished run (not visible)
            "results": read(path, "SELECT count(*) FROM reco_results WHERE run_id IN "
                                  "(SELECT run_id FROM reco_runs WHERE finished_at IS NOT NULL)"
                            )[0][0],
            "supplier_edits": read(path, "SELECT count(*) FROM action_log WHERE kind = 'supplier_edit'")[0][0]}


def worker(path: Path, url: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "IMS_DB_PATH": str(path), "GSTN_API_URL": url}
    return subprocess.Popen([sys.executable, "worker.py", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def run_to_end(path: Path, url: str, *args: str) -> float:
    started = time.monotonic()
    proc = worker(path, url, *args)
    out = proc.communicate(timeout=300)[0].decode()
    assert proc.returncode == 0, out
    return time.monotonic() - started


def kill_after(path: Path, url: str, delay: float, *args: str) -> bool:
    """Start the command, SIGKILL it after `delay` s; True when it was still running."""
    proc = worker(path, url, *args)
    time.sleep(delay)
    alive = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    return alive


def requests_seen(sb) -> dict:
    import requests
    return requests.get(f"{sb.url}/_control/state", timeout=10).json()["requests"]


def kill_when(path: Path, sb, reads: int, extra: float, *args: str) -> bool:
    """Start the command; SIGKILL it `extra` s after the sandbox has answered `reads` more
    GETINV calls (the IMS write starts right after the last one). True if still running."""
    start = requests_seen(sb).get("GETINV", 0)
    proc = worker(path, sb.url, *args)
    deadline = time.monotonic() + 120
    while requests_seen(sb).get("GETINV", 0) - start < reads and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(extra)
    alive = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    return alive


def trial_copy(base: Path, tmp_path: Path, name: str) -> Path:
    copy = tmp_path / f"{name}.duckdb"
    shutil.copy(base, copy)
    wal = base.with_name(base.name + ".wal")
    if wal.exists():
        shutil.copy(wal, copy.with_name(copy.name + ".wal"))
    return copy


def assert_before_or_after(copy: Path, before: dict, after: dict, keys: tuple) -> str:
    now = state(copy)
    picked = {k: ("before" if now[k] == before[k] else "after" if now[k] == after[k] else "BETWEEN")
              for k in keys}
    assert "BETWEEN" not in picked.values(), picked
    return ",".join(f"{k}={v}" for k, v in picked.items())


def sweep(duration: float, n: int = 5) -> list[float]:
    return [round(duration * (i + 1) / (n + 1), 2) for i in range(n)]


def test_sigkill_during_fetch_leaves_before_or_after_and_next_run_completes(big_sandbox, tmp_path, monkeypatch):
    base = tmp_path / "base.duckdb"
    monkeypatch.setenv("IMS_DB_PATH", str(base))
    monkeypatch.setenv("GSTN_API_URL", big_sandbox.url)
    big_sandbox.control("reset")
    with connect() as con:
        con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, 'Demo', '27')", [RTIN])
    fetch_ims(RTIN, GstnClient(timeout=60))
    big_sandbox.control("advance_day", days=2)             # new and supplier-edited records wait
    before = state(base)
    full = trial_copy(base, tmp_path, "full")
    reads = requests_seen(big_sandbox).get("GETINV", 0)
    duration = run_to_end(full, big_sandbox.url, "fetch")
    reads = requests_seen(big_sandbox).get("GETINV", 0) - reads
    after = state(full)
    assert after["ims"] != before["ims"] and after["supplier_edits"] > before["supplier_edits"]
    outcomes = []
    keys = ("ims", "gstr2a", "supplier_edits")
    for i, delay in enumerate(sweep(duration, 2)):
        copy = trial_copy(base, tmp_path, f"kill{i}")
        if kill_after(copy, big_sandbox.url, delay, "fetch"):
            outcomes.append(f"{delay}s: " + assert_before_or_after(copy, before, after, keys))
    for i, extra in enumerate((0.0, 0.3, 0.6, 0.9, 1.3)):   # around the IMS write
        copy = trial_copy(base, tmp_path, f"write{i}")
        if kill_when(copy, big_sandbox, reads, extra, "fetch"):
            outcomes.append(f"last read+{extra}s: " + assert_before_or_after(copy, before, after, keys))
    # and once while the IMS sections are being read (the sandbox slows one call down)
    copy = trial_copy(base, tmp_path, "slow")
    big_sandbox.control("fault", kind="slow", delay=6, times=1, path_contains="section=B2BA")
    assert kill_after(copy, big_sandbox.url, 3.0, "fetch")
    big_sandbox.control("clear_faults")
    assert state(copy)["ims"] == before["ims"]
    run_to_end(copy, big_sandbox.url, "fetch")             # the next run completes the work
    assert {k: state(copy)[k] for k in ("ims", "gstr2a", "supplier_edits")} == \
        {k: after[k] for k in ("ims", "gstr2a", "supplier_edits")}
    print("fetch kills:", outcomes, f"(full run {duration:.1f} s)")


def test_sigkill_during_sync_leaves_before_or_after_and_next_run_completes(big_sandbox, tmp_path, monkeypatch):
    from sandbox.generate import generate_files
    base = tmp_path / "base.duckdb"
    monkeypatch.setenv("IMS_DB_PATH", str(base))
    monkeypatch.setenv("GSTN_API_URL", big_sandbox.url)
    big_sandbox.control("reset")
    with connect() as con:
        con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, 'Demo', '27')", [RTIN])
    fetch_ims(RTIN, GstnClient(timeout=60))
    files = generate_files(tmp_path / "gen", records=SCALE, seed=SEED, gstin=RTIN)
    assert import_purchase_file(files["purchase_register.csv"] if "purchase_register.csv" in files
                                else tmp_path / "gen" / "purchase_register.csv", actor="test").ok
    before = state(base)
    full = trial_copy(base, tmp_path, "full")
    duration = run_to_end(full, big_sandbox.url, "sync", "--gstin", RTIN)
    after = state(full)
    assert after["reco"] != before["reco"] and len(after["runs"]) == len(before["runs"]) + 1
    outcomes = []
    for i, share in enumerate((0.4, 0.6, 0.75, 0.85, 0.9, 0.95)):
        delay = round(duration * share, 2)
        copy = trial_copy(base, tmp_path, f"kill{i}")
        if kill_after(copy, big_sandbox.url, delay, "sync", "--gstin", RTIN):
            outcomes.append(f"{delay}s: " + assert_before_or_after(copy, before, after,
                                                                   ("reco", "runs", "results")))
    run_to_end(copy, big_sandbox.url, "sync", "--gstin", RTIN)
    final = state(copy)
    assert final["reco"] == after["reco"] and final["results"] in (after["results"], 2 * after["results"])
    # what a killed sync left unfinished is deleted by the next one
    assert read(copy, "SELECT count(*) FROM reco_results WHERE run_id NOT IN "
                      "(SELECT run_id FROM reco_runs WHERE finished_at IS NOT NULL)") == [(0,)]
    print("sync kills:", outcomes, f"(full run {duration:.1f} s)")
