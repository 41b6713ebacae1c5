"""Team mode's operations on a real PostgreSQL server: the restore drill (pg_dump -Fc of the
store, pg_restore into a fresh database, every table's rows equal), several workers started on
one machine (the claims share the jobs, no lock file; the app sees that a worker runs), and the
worker's daily backup, which on PostgreSQL says to use pg_dump instead of failing."""
from __future__ import annotations

import datetime as dt
import os
import subprocess

import pytest

from core.backup import backup_now, backup_status, describe, due_backup, save_backup_settings
from core.ims.dashboard import worker_running
from core.schedule.loop import WorkerAlreadyRunning, start_locked
from core.store import connect, let_go_of_idle_files
from tests.fixtures import BOTH_ENGINES, seed_demo
from tests.pg import create_database, drop_database, server_bin

NOW = dt.datetime(2026, 12, 5, 23, 0, tzinfo=dt.UTC)


def table_counts(url: str) -> dict[str, int]:
    with connect(url) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables}


@pytest.fixture
def team_store(pg_database, monkeypatch) -> str:
    monkeypatch.setenv("IMS_DB_URL", pg_database)
    return pg_database


def test_the_restore_drill_gives_back_every_row(team_store, pg_server, tmp_path):
    seed_demo(n_per_business=20, with_jobs=True)
    before = table_counts(team_store)
    assert before["ims_records"] > 0 and before["job_runs"] > 0 and before["businesses"] > 0
    dump = tmp_path / "ims.dump"
    tools = server_bin()
    subprocess.run([str(tools / "pg_dump"), "-Fc", "-f", str(dump), team_store], check=True,
                   capture_output=True, timeout=120)
    restored = create_database(pg_server, "ims_restore_drill")
    try:
        subprocess.run([str(tools / "pg_restore"), "--no-owner", "--exit-on-error", "-d",
                        restored, str(dump)], check=True, capture_output=True, timeout=120)
        assert table_counts(restored) == before
        with connect(restored) as con:      # the restored store is used as it is
            assert con.execute("SELECT count(*) FROM ims_records WHERE removed_at IS NULL "
                               "GROUP BY rtin ORDER BY 1 LIMIT 1").fetchall()[0][0] > 0
    finally:
        let_go_of_idle_files()
        drop_database(pg_server, "ims_restore_drill")


@BOTH_ENGINES
def test_several_workers_start_on_one_machine_only_in_team_mode(db_file, store_engine):
    first = start_locked()
    try:
        assert worker_running() is True
        if store_engine == "duckdb":        # the lock file: one worker per store
            with pytest.raises(WorkerAlreadyRunning):
                start_locked()
            return
        second = start_locked()             # team mode: the jobs' claims share the work
        first.close()
        assert worker_running() is True     # the second still runs
        second.close()
        assert worker_running() is False
    finally:
        if store_engine == "duckdb":
            os.close(first)


def test_the_daily_backup_on_postgres_says_to_use_pg_dump(team_store, tmp_path):
    save_backup_settings("02:00", str(tmp_path / "backups"), 7, 12, actor="admin")
    assert due_backup(NOW) is None          # never due: the worker does not fail every night
    result = backup_now("admin")
    assert not result.ok and "pg_dump" in result.error and "pg_restore" in result.error
    assert not (tmp_path / "backups").exists() or not any((tmp_path / "backups").iterdir())
    words = describe(backup_status(NOW))
    assert len(words) == 1 and "PostgreSQL" in words[0] and "pg_dump" in words[0]
