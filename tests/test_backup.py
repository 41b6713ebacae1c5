"""Backups of a real DuckDB store (docs/backups.md): a backup restores to an equal store,
restore refuses a damaged or partial backup and an existing store with a clear message and
touches nothing, and the worker's daily backup is a recorded job (a failure is a failed run,
shown in `python worker.py status`).

The backup during a running sync and a burst of saves is in tests/test_backup_live.py; the
retention over 40 days in tests/test_backup_retention.py.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.backup.job import BACKUP, backup_status, describe, due_backup
from core.backup.restore import restore_backup
from core.backup.settings import save_backup_settings
from core.backup.signing import backup_key, sign
from core.backup.snapshot import BackupError, take_backup
from core.business.registry import SettingsError
from core.clock import ManualClock
from core.schedule.scheduler import Worker
from core.store.database import connect, let_go_of_idle_files, migration_files, put_setting
from tests.fixtures import ROOT

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
KNOWN = {n for n, _ in migration_files()}


def ist(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2030, 10, day, hour, minute, tzinfo=IST)


def backup_of(folder: Path, now: dt.datetime | None = None) -> Path:
    done = take_backup(lambda: connect(read_only=True), folder, now or ist(5, 2))
    return Path(done["path"])


def tables(path: str) -> dict[str, list]:
    """Every table of a store, every row, in a fixed order."""
    with connect(path, read_only=True) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1").fetchall()]
        out = {n: con.execute(f'SELECT * FROM "{n}" ORDER BY ALL').fetchall() for n in names}
    let_go_of_idle_files()
    return out


def cli(*args: str, db: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.db", *args], cwd=ROOT,
                          env={**os.environ, "IMS_DB_PATH": db}, capture_output=True, text=True,
                          timeout=120, check=False)


def fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- a backup restores equal


def test_a_backup_restores_to_an_equal_store_whose_ids_go_on(demo_store, tmp_path):
    with connect() as con:
        con.execute("INSERT INTO action_log (actor, kind, note) VALUES ('x', 'settings', 'it''s')")
        top = con.execute("SELECT max(record_id) FROM ims_records").fetchall()[0][0]
    taken = cli("backup", "--to", str(tmp_path / "backups"), db=demo_store)
    assert taken.returncode == 0, taken.stderr
    assert "backup written:" in taken.stdout
    backup = next((tmp_path / "backups").iterdir())
    assert {p.name for p in backup.iterdir()} >= {"manifest.json", "ims_records.parquet",
                                                   "action_log.parquet", "schema_version.parquet"}
    assert all(p.stat().st_mode & 0o077 == 0 for p in backup.iterdir())   # owner only
    restored = cli("restore", "--from", str(backup), "--to", str(tmp_path / "new.duckdb"),
                   db=demo_store)
    assert restored.returncode == 0, restored.stderr
    assert "every count and checksum matched" in restored.stdout
    assert tables(demo_store) == tables(str(tmp_path / "new.duckdb"))
    with connect(str(tmp_path / "new.duckdb")) as con:   # sequences go on past the ids
        new = con.execute("INSERT INTO ims_records (rtin, section, stin, doc_type, doc_no, "
                          "doc_no_key, fy, first_seen, last_seen) VALUES ('27X', 'b2b', 'S', "
                          "'INV', 'N1', 'N1', '2025-26', now(), now()) RETURNING record_id"
                          ).fetchall()[0][0]
        view = con.execute("SELECT count(*) FROM current_purchase_docs").fetchall()[0][0]
    assert new > top and view > 0
    checked = cli("verify", "--from", str(backup), db=demo_store)
    assert checked.returncode == 0 and "backup ok" in checked.stdout
    listed = cli("list", "--in", str(tmp_path / "backups"), db=demo_store)
    assert backup.name in listed.stdout
    # times in the business time zone, with its name (IMS_TZ: Asia/Kolkata by default)
    assert " IST" in listed.stdout and " IST)" in restored.stdout and " IST)" in checked.stdout


# ---------------------------------------------------------------- damaged backups are refused


def _truncate(backup: Path) -> None:
    f = backup / "ims_records.parquet"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])


def _manifest(backup: Path, change, fix_digest: bool) -> None:
    """Change the manifest; `fix_digest`: sign it again with the real backup key (as if this
    program had written it so: the checks after the signature must still catch it)."""
    m = json.loads((backup / "manifest.json").read_text())
    change(m)
    if fix_digest:
        sign(m, backup_key()[0])
    (backup / "manifest.json").write_text(json.dumps(m))


def _checksum(m: dict) -> None:
    t = next(t for t in m["tables"] if t["name"] == "action_log")
    t["checksum"] = str(int(t["checksum"]) + 1)


DAMAGE = {
    "a truncated table file": (_truncate, "table ims_records: ims_records.parquet has"),
    "a missing table file": (lambda b: (b / "reco_results.parquet").unlink(),
                             "table reco_results: its file reco_results.parquet is missing"),
    "a changed manifest checksum": (lambda b: _manifest(b, _checksum, False),
                                    "manifest.json was changed after the backup was written"),
    "a changed checksum with the manifest's own fixed": (
        lambda b: _manifest(b, _checksum, True),
        "table action_log: the restored rows do not match the backup's manifest"),
    "a changed row count": (
        lambda b: _manifest(b, lambda m: m["tables"][0].update(rows=m["tables"][0]["rows"] + 1),
                            True), "the restored rows do not match"),
    "a missing manifest (an unfinished backup)": (
        lambda b: (b / "manifest.json").unlink(), "has no manifest.json: it is not a finished"),
    "a manifest cut short": (
        lambda b: (b / "manifest.json").write_text((b / "manifest.json").read_text()[:500]),
        "is damaged (not readable as JSON"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_restore_refuses_a_damaged_backup_and_touches_nothing(demo_store, tmp_path, damage):
    with connect() as con:
        con.execute("INSERT INTO action_log (actor, kind) VALUES ('x', 'settings')")
    backup = backup_of(tmp_path / "backups")
    spoil, message = DAMAGE[damage]
    spoil(backup)
    before = fingerprint(backup)
    target = tmp_path / "restore" / "new.duckdb"
    target.parent.mkdir()
    with pytest.raises(BackupError, match="Nothing was restored") as refused:
        restore_backup(backup, target, KNOWN)
    assert message in str(refused.value)
    assert list(target.parent.iterdir()) == []          # no store, no temporary file
    assert fingerprint(backup) == before                # the backup as it was


def test_the_command_names_the_problem_and_exits_1(demo_store, tmp_path):
    backup = backup_of(tmp_path / "backups")
    _truncate(backup)
    (backup / "users.parquet").unlink()
    done = cli("restore", "--from", str(backup), "--to", str(tmp_path / "new.duckdb"),
               db=demo_store)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "ims_records.parquet has" in done.stderr and "users.parquet is missing" in done.stderr
    assert not (tmp_path / "new.duckdb").exists()


def test_restore_never_overwrites_a_store(demo_store, tmp_path):
    backup = backup_of(tmp_path / "backups")
    let_go_of_idle_files()
    before = hashlib.sha256(Path(demo_store).read_bytes()).hexdigest()
    done = cli("restore", "--from", str(backup), db=demo_store)      # default: IMS_DB_PATH
    assert done.returncode == 1
    assert "already exists: a restore never overwrites a store" in done.stderr
    assert hashlib.sha256(Path(demo_store).read_bytes()).hexdigest() == before


def test_a_backup_of_a_newer_program_is_refused(demo_store, tmp_path):
    backup = backup_of(tmp_path / "backups")
    _manifest(backup, lambda m: m["schema_versions"].append(99999), True)
    with pytest.raises(BackupError, match="newer version of IMS Reco Sync .*99999"):
        restore_backup(backup, tmp_path / "new.duckdb", KNOWN)


def test_a_backup_that_cannot_be_written_leaves_nothing(demo_store, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(BackupError, match="Cannot write backups to .*file/backups"):
        backup_of(tmp_path / "file" / "backups")


# ---------------------------------------------------------------- settings and the daily job


def test_backup_settings_are_checked(db_file, tmp_path):
    for args, message in [(("7am", "b", 7, 12), "Backup time '7am' is not a time of day"),
                          (("02:00", " ", 7, 12), "The backup folder is empty"),
                          (("02:00", "b", 0, 12), "keep daily must be between 1 and 366"),
                          (("02:00", "b", 7, "x"), "monthly 'x' is not a whole number")]:
        with pytest.raises(SettingsError, match=message):
            save_backup_settings(*args, actor="t")
    (tmp_path / "file").write_text("x")
    with pytest.raises(SettingsError, match="is a file, not a folder"):
        save_backup_settings("02:00", str(tmp_path / "file"), 7, 12, actor="t")
    saved = save_backup_settings("off", "elsewhere", 3, 0, actor="t")
    assert not saved.on and saved.path == tmp_path / "elsewhere"


def test_the_backup_is_due_daily_at_its_time_and_a_missed_one_catches_up(db_file):
    save_backup_settings("02:30", "backups", 7, 12, actor="t")
    assert due_backup(ist(5, 2, 29)).slot == ist(4, 2, 30)   # yesterday's was never run
    worker = Worker(ManualClock(ist(5, 2, 29)), jobs={}, backups=True)
    assert [r.job for r in worker.tick()] == [BACKUP]          # caught up at start
    assert worker.tick() == []
    worker.clock.set(ist(5, 2, 30))
    assert [(r.job, r.ok) for r in worker.tick()] == [(BACKUP, True)]
    worker.clock.set(ist(5, 23, 59))
    assert worker.tick() == []                                 # once a day
    assert Worker(ManualClock(ist(6, 9)), jobs={}).tick() == []  # only the worker process
    with connect() as con:
        runs = con.execute("SELECT triggered_by, slot, ok FROM job_runs WHERE job = 'backup' "
                           "ORDER BY run_id").fetchall()
    assert [(r[0], r[2]) for r in runs] == [("catch-up", True), ("schedule", True)]
    save_backup_settings("off", "backups", 7, 12, actor="t")
    assert due_backup(ist(6, 9)) is None


def test_a_failed_backup_is_a_failed_job_shown_like_one(db_file, tmp_path):
    save_backup_settings("02:00", "backups", 7, 12, actor="t")
    (tmp_path / "gone").write_text("the folder's disk is gone")
    with connect() as con:   # the folder became unusable after it was saved
        put_setting(con, "backup_folder", str(tmp_path / "gone" / "backups"))
    worker = Worker(ManualClock(ist(5, 2)), jobs={}, backups=True)
    [result] = worker.tick()
    assert (result.job, result.ok) == (BACKUP, False)
    assert result.error.startswith(f"Cannot write backups to {tmp_path}/gone/backups")
    with connect() as con:
        assert con.execute("SELECT ok, error FROM job_runs WHERE job = 'backup'").fetchall() \
            == [(False, result.error)]
    lines = describe(backup_status(ist(5, 3)))
    assert lines[0].startswith("the last backup FAILED at 05 Oct 2030, 02:00 IST: Cannot write")
    shown = subprocess.run([sys.executable, "worker.py", "status"], cwd=ROOT, text=True,
                           capture_output=True, timeout=120, env=os.environ.copy(), check=False)
    assert "backups: the last backup FAILED" in shown.stdout, shown.stdout + shown.stderr
    with connect() as con:   # fixed: the next day's backup succeeds and says so
        put_setting(con, "backup_folder", "backups")
    worker.clock.set(ist(6, 2))
    assert [(r.job, r.ok) for r in worker.tick()] == [(BACKUP, True)]
    assert describe(backup_status(ist(6, 3)))[0] == \
        "the last backup ran at 06 Oct 2030, 02:00 IST and succeeded"
