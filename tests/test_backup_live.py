"""A backup taken while the real `python worker.py sync` runs and people save actions restores
to the store as it was at one moment (docs/backups.md): every table agrees with the others.

The store: a business with 3,000 IMS records fetched from the sandbox and its purchase
register imported. While `worker.py sync` runs as a process of its own, four sessions (threads
of this process, as Streamlit runs them) save an action on their own records one after the
other through `core.ims.actions.save_user_actions`; meanwhile backups are taken by
`python -m core.db backup` (a third process) at several moments of the sync, and once from
this process (a cursor beside the saving threads). Each backup is restored into a new file
and must show:

- the sync wholly there or wholly not: the recommendations are the store's before the sync
  or after it, every reco_results row belongs to a run, every record's reco_run_id names one;
- the saves as a moment: each session's saved records are a prefix of its saves in order;
- each saved action has its one action_log row, and no action_log row lacks its action.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.backup.restore import restore_backup
from core.backup.snapshot import take_backup
from core.clock import SystemClock
from core.ims.actions import save_user_actions
from core.ims.fetch import fetch_ims
from core.portal.client import GstnClient
from core.purchase import import_purchase_file
from core.store.database import connect, let_go_of_idle_files, migration_files
from sandbox.generate import generate_files
from tests.fixtures import ROOT, start_sandbox, stop_sandbox

RTIN = "27AAACW1234K1ZD"
SCALE, SEED, SESSIONS = 3000, 11, 4
ACTOR = "saver@test.local"
RECO = "SELECT record_id, match_status, recommended_action FROM ims_records ORDER BY record_id"


@pytest.fixture(scope="module")
def big_sandbox():
    sb = start_sandbox(seed=SEED, scale=SCALE)
    yield sb
    stop_sandbox(sb)


def read(path: Path, sql: str) -> list:
    with connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def copy_store(base: Path, to: Path) -> Path:
    let_go_of_idle_files()
    shutil.copy(base, to)
    return to


def sync_process(path: Path, url: str) -> subprocess.Popen:
    env = {**os.environ, "IMS_DB_PATH": str(path), "GSTN_API_URL": url}
    return subprocess.Popen([sys.executable, "worker.py", "sync", "--gstin", RTIN], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def backup_process(path: Path, folder: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "core.db", "backup", "--to", str(folder)],
                            cwd=ROOT, env={**os.environ, "IMS_DB_PATH": str(path)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def saver(ids: list[int], saved: list[int], stop: threading.Event, errors: list) -> None:
    """One session: an action on each of its records in turn, until told to stop."""
    for rid in ids:
        if stop.is_set():
            return
        try:
            result = save_user_actions([RTIN], {rid: {"action": "A"}}, ACTOR)
        except Exception as exc:   # noqa: BLE001 - a failed save is a finding, reported below
            errors.append(repr(exc))
            continue
        if result.saved:
            saved.append(rid)


def check_moment(store: Path, before: list, after: list, sessions: list[list[int]]) -> str:
    """The restored store is one moment: sync wholly in or out, each session's saves (the
    records it was told were saved, in order) a prefix."""
    reco = read(store, RECO)
    assert reco in (before, after), "the recommendations are neither before nor after the sync"
    assert read(store, "SELECT count(*) FROM reco_results WHERE run_id NOT IN "
                       "(SELECT run_id FROM reco_runs)") == [(0,)]
    assert read(store, "SELECT count(*) FROM ims_records WHERE reco_run_id IS NOT NULL AND "
                       "reco_run_id NOT IN (SELECT run_id FROM reco_runs)") == [(0,)]
    acted = {r[0] for r in read(store, f"SELECT record_id FROM ims_records "
                                       f"WHERE user_action_by = '{ACTOR}'")}
    logged = read(store, f"SELECT record_id, count(*), min(new_value) FROM action_log "
                         f"WHERE actor = '{ACTOR}' AND kind = 'user_action' GROUP BY ALL")
    assert {r[0] for r in logged} == acted, "an action without its log row, or the reverse"
    assert all(n == 1 and v == "A" for _, n, v in logged)
    counts = []
    for order in sessions:
        k = sum(1 for rid in order if rid in acted)
        assert set(order[:k]) == acted & set(order), "a session's saves are not a prefix"
        counts.append(k)
    return f"sync {'after' if reco == after else 'before'}, saves {counts}"


def test_a_backup_during_a_sync_and_saves_restores_to_one_moment(big_sandbox, tmp_path,
                                                                 monkeypatch):
    base = tmp_path / "base.duckdb"
    monkeypatch.setenv("IMS_DB_PATH", str(base))
    monkeypatch.setenv("GSTN_API_URL", big_sandbox.url)
    with connect() as con:
        con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, 'Demo', '27')",
                    [RTIN])
    fetch_ims(RTIN, GstnClient(timeout=60))
    files = generate_files(tmp_path / "gen", records=SCALE, seed=SEED, gstin=RTIN)
    assert import_purchase_file(files["purchase_register"], actor="test").ok
    before = read(base, RECO)
    ids = [r[0] for r in read(base, "SELECT record_id FROM ims_records ORDER BY record_id")]

    # "after": the same sync run alone on a copy, timed
    full = copy_store(base, tmp_path / "full.duckdb")
    started = time.monotonic()
    alone = sync_process(full, big_sandbox.url)
    assert alone.wait(300) == 0, alone.stdout.read().decode()
    duration = time.monotonic() - started
    after = read(full, RECO)
    assert after != before

    # the live run: the sync, four saving sessions, backups from another process and this one
    live = copy_store(base, tmp_path / "live.duckdb")
    monkeypatch.setenv("IMS_DB_PATH", str(live))
    sessions = [ids[i::SESSIONS] for i in range(SESSIONS)]
    saved: list[list[int]] = [[] for _ in sessions]
    stop, errors = threading.Event(), []
    threads = [threading.Thread(target=saver, args=(s, out, stop, errors))
               for s, out in zip(sessions, saved)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    sync = sync_process(live, big_sandbox.url)
    folder = tmp_path / "backups"
    commands = []
    for _ in range(3):      # from another process, 0.5 s apart
        commands.append(backup_process(live, folder))
        time.sleep(0.5)
    taken = []
    while sync.poll() is None:   # from this process, beside the saving threads, until it ends
        taken.append(take_backup(lambda: connect(read_only=True), folder,
                                 SystemClock().now())["path"])
        time.sleep(0.2)
    assert sync.returncode == 0, sync.stdout.read().decode()
    taken.append(take_backup(lambda: connect(read_only=True), folder, SystemClock().now())["path"])
    for proc in commands:
        out = proc.communicate(timeout=120)[0].decode()
        assert proc.returncode == 0, out
        taken.append(out.split("backup written: ")[1].split(" (")[0])
    stop.set()
    for t in threads:
        t.join(60)
    assert not errors, errors
    total = sum(len(s) for s in saved)
    assert total > 0

    outcomes = []
    known = {n for n, _ in migration_files()}
    for i, path in enumerate(taken):
        store = tmp_path / f"restored{i}.duckdb"
        restore_backup(Path(path), store, known)
        outcomes.append(check_moment(store, before, after, saved))
    # the live store itself, when all is done: the sync and every confirmed save are in it
    final = check_moment(live, before, after, saved)
    assert final == f"sync after, saves {[len(out) for out in saved]}"
    # backups caught the store before the sync and after it, and the saves part-way
    assert {o.split(",")[0] for o in outcomes} == {"sync before", "sync after"}, outcomes
    assert any(0 < sum(map(int, o.split("[")[1].rstrip("]").split(", "))) < total
               for o in outcomes), outcomes
    print(f"backups during the sync ({duration:.1f} s alone) and {total} saves:", outcomes)
