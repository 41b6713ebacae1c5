"""Retention over a simulated 40 days: the worker's tick (ManualClock) backs the store up every
day at 02:00 IST, and after each backup keeps exactly every backup of each of the last N
days and the last backup of each of the last M months (docs/backups.md, "Retention").

The days run from 25 August to 3 October 2030 (three months); on 5 September someone also
backs up by hand in the afternoon, so that day keeps both its backups. The expected
sets are written out by hand, not computed.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from core.backup.job import backup_now
from core.backup.restore import restore_backup
from core.backup.retention import Found, to_keep
from core.backup.settings import save_backup_settings
from core.clock import ManualClock
from core.schedule.scheduler import Worker
from core.store.database import connect, migration_files

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
START = dt.datetime(2030, 8, 25, 2, 0, tzinfo=IST)


def name(month: int, day: int, time: str = "020000") -> str:
    return f"ims-backup-2030{month:02d}{day:02d}-{time}"


def on_disk(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")}


def test_forty_days_keep_seven_daily_and_three_monthly(demo_store, tmp_path):
    save_backup_settings("02:00", "backups", 7, 3, actor="t")
    with connect() as con:   # the demo's data, without its daily fetches
        con.execute("UPDATE businesses SET enabled = false")
    folder = tmp_path / "backups"
    clock = ManualClock(START)
    worker = Worker(clock, jobs={}, backups=True)
    seen = {}
    for day in range(40):
        clock.set(START + dt.timedelta(days=day))
        with connect() as con:   # the store changes from day to day
            con.execute("INSERT INTO action_log (actor, kind, note) VALUES ('t', 'settings', ?)",
                        [f"day {day}"])
        assert [(r.job, r.ok) for r in worker.tick()] == [("backup", True)]
        assert worker.tick() == []
        local = clock.now().astimezone(IST)
        if (local.month, local.day) == (9, 5):
            clock.set(local.replace(hour=15))
            assert backup_now("t", clock).ok
        seen[(local.month, local.day)] = on_disk(folder)

    # 2 September: 7 days so far (27 Aug - 2 Sep), Aug 31 is also August's last.
    assert seen[(9, 2)] == {name(8, d) for d in range(27, 32)} | {name(9, 1), name(9, 2)}
    # 5 September: the afternoon backup stands beside the morning one (issue 24, item 8).
    assert seen[(9, 5)] == {name(8, 31)} | {name(9, d) for d in range(1, 6)} | {
        name(9, 5, "150000")} | {name(8, 30)}
    # 10 September: 4-10 Sep daily (5 Sep's two); Aug 31 monthly.
    assert seen[(9, 10)] == {name(8, 31), name(9, 5, "150000")} | {
        name(9, d) for d in range(4, 11)}
    # 3 October (day 40): 27 Sep - 3 Oct daily; months Oct (3rd), Sep (30th), Aug (31st).
    assert seen[(10, 3)] == {name(8, 31)} | {name(9, d) for d in range(27, 31)} | {
        name(10, d) for d in (1, 2, 3)}
    with connect() as con:
        runs = con.execute("SELECT triggered_by, ok, count(*) FROM job_runs WHERE job = 'backup' "
                           "GROUP BY ALL ORDER BY 1").fetchall()
    assert runs == [("app:t", True, 1), ("schedule", True, 40)]
    # What is kept is whole: the August backup restores, holding August's changes only.
    restored = tmp_path / "august.duckdb"
    restore_backup(folder / name(8, 31), restored, {n for n, _ in migration_files()})
    with connect(str(restored), read_only=True) as con:
        notes = con.execute("SELECT max(note) FROM action_log WHERE actor = 't' AND note LIKE "
                            "'day %' AND length(note) = 5").fetchall()[0][0]
        days = con.execute("SELECT count(*) FROM action_log WHERE note LIKE 'day %'"
                           ).fetchall()[0][0]
    assert (notes, days) == ("day 6", 7)   # 25..31 August


def test_the_rule_counts_days_and_months_that_have_backups():
    def at(month, day, hour=2):
        return Found(f"b{month}-{day}-{hour}", Path("."),
                     dt.datetime(2030, month, day, hour) - dt.timedelta(hours=5, minutes=30),
                     0, 0)
    # gaps: the last 3 days WITH a backup, not the last 3 calendar days
    backups = [at(1, 10), at(1, 20), at(2, 1), at(2, 1, 20), at(3, 5), at(3, 9)]
    assert to_keep(backups, 3, 0) == {"b2-1-2", "b2-1-20", "b3-5-2", "b3-9-2"}
    assert to_keep(backups, 1, 2) == {"b3-9-2", "b2-1-20"}
    assert to_keep(backups, 2, 0) == {"b3-5-2", "b3-9-2"}
    assert to_keep(backups, 1, 12) == {"b3-9-2", "b2-1-20", "b1-20-2"}
