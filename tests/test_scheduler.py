"""The schedule with an injected clock: when fetches and syncs run, catch-up, isolation.

The jobs handed to the Worker here are the scheduler's parameters (what to run for a
business); they record their calls so the schedule itself can be checked quickly. The
real fetch/sync/upload jobs run in tests/test_worker.py against the sandbox.
"""
from __future__ import annotations

import datetime as dt

import pytest

from core.clock import ManualClock, to_store
from core.jobs import runs as jobs
from core.jobs import slots
from core.jobs.slots import SlotState, due_jobs
from core.schedule import status as job_status
from core.schedule.scheduler import Worker
from core.store.database import connect
from tests.fixtures import add_business

pytestmark = pytest.mark.usefixtures("store_engine")   # the DuckDB file and PostgreSQL

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
A, B = "27AAACW1234K1ZD", "29AAACW1234K1Z9"


def ist(day: int, hour: int, minute: int = 0, month: int = 10) -> dt.datetime:
    return dt.datetime(2030, month, day, hour, minute, tzinfo=IST)


CREATED = to_store(ist(1, 0))   # when the businesses of these tests were added


def set_fetch_time(gstin: str, value: str) -> None:
    with connect() as con:
        con.execute("UPDATE businesses SET fetch_time = ? WHERE gstin = ?", [value, gstin])


class Calls:
    """Jobs that record (job, gstin, clock time) and can be told to fail."""

    def __init__(self, clock: ManualClock, fail: set[tuple[str, str]] = frozenset(),
                 minutes: int = 0):
        self.clock, self.fail, self.minutes, self.log = clock, set(fail), minutes, []

    def job(self, name: str):
        def run(gstin, run_id, slot, triggered_by):
            self.log.append((name, gstin, self.clock.now(), triggered_by))
            self.clock.advance(minutes=self.minutes)
            if (name, gstin) in self.fail:
                raise RuntimeError(f"{name} of {gstin} broke")
            return {"records": 1}
        return run

    def jobs(self) -> dict:
        return {"fetch": self.job("fetch"), "sync": self.job("sync")}

    def names(self) -> list[tuple[str, str]]:
        return [(n, g) for n, g, _, _ in self.log]


def runs(job: str | None = None) -> list[tuple]:
    with connect() as con:
        return con.execute(
            "SELECT job, gstin, slot, started_at, finished_at, ok, error, triggered_by FROM job_runs "
            "WHERE job IN ('fetch', 'sync') AND (CAST(? AS VARCHAR) IS NULL OR job = ?) "
            "ORDER BY run_id",
            [job, job]).fetchall()


# ---------------------------------------------------------------- pure arithmetic


def test_next_fetch_and_sync_due_by_are_in_ims_tz():
    b = {"gstin": A, "fetch_time": "06:00"}
    assert slots.next_fetch_time(b, ist(5, 5, 59)) == ist(5, 6)
    assert slots.next_fetch_time(b, ist(5, 6, 1)) == ist(6, 6)
    assert slots.latest_slot(b, ist(5, 6)) == ist(5, 6)
    assert slots.latest_slot(b, ist(5, 5, 59)) == ist(4, 6)
    assert slots.sync_due_by(b, ist(5, 7)) == ist(5, 8)
    assert slots.sync_due_by(b, ist(5, 8, 1)) == ist(6, 8)
    # 06:00 IST is 00:30 UTC: the store keeps naive UTC
    assert to_store(ist(5, 6)) == dt.datetime(2030, 10, 5, 0, 30)


def test_ims_tz_setting_moves_the_slot(monkeypatch):
    monkeypatch.setenv("IMS_TZ", "UTC")
    b = {"gstin": A, "fetch_time": "06:00"}
    assert slots.next_fetch_time(b, ist(5, 7)) == dt.datetime(2030, 10, 5, 6, tzinfo=dt.UTC)


def test_bad_fetch_time_is_named():
    with pytest.raises(ValueError, match="'6 am' is not a time of day"):
        slots.parse_fetch_time("6 am")


def test_sync_waits_for_an_unfinished_fetch_but_only_until_two_hours_after_the_slot():
    b = {"gstin": A, "fetch_time": "06:00", "enabled": True, "sync_source": "ims_vs_pr"}
    running = {A: SlotState(fetch_served=True, fetch_finished=False, sync_served=False)}
    assert due_jobs(ist(5, 7, 59), [b], running) == []
    due = due_jobs(ist(5, 8), [b], running)
    assert [(j.job, j.slot) for j in due] == [("sync", ist(5, 6))]


def test_off_and_disabled_businesses_get_no_sync_or_nothing():
    off = {"gstin": A, "fetch_time": "06:00", "enabled": True, "sync_source": "off"}
    disabled = {"gstin": B, "fetch_time": "06:00", "enabled": False, "sync_source": "ims_vs_pr"}
    assert [(j.job, j.gstin) for j in due_jobs(ist(5, 6), [off, disabled], {})] == [("fetch", A)]


# ---------------------------------------------------------------- the worker's ticks


def test_fetch_at_six_ist_and_sync_done_by_eight(db_file):
    add_business(A, fetch_time="06:00", created_at=to_store(ist(5, 0)))
    clock = ManualClock(ist(5, 5, 59))
    calls = Calls(clock, minutes=20)  # every job takes 20 minutes
    worker = Worker(clock, calls.jobs())
    assert worker.tick() == []
    clock.set(ist(5, 6))
    results = worker.tick()
    assert [(r.job, r.ok) for r in results] == [("fetch", True), ("sync", True)]
    fetch, sync = runs()
    assert fetch[2] == sync[2] == dt.datetime(2030, 10, 5, 0, 30)  # slot 06:00 IST, in UTC
    assert fetch[7] == "schedule"
    assert sync[4] <= to_store(ist(5, 8))  # sync finished by 08:00 IST
    clock.set(ist(5, 7))
    assert worker.tick() == []  # a slot is never run twice
    assert len(runs()) == 2


def test_failed_fetch_still_gets_its_sync(db_file):
    add_business(A, fetch_time="06:00", created_at=CREATED)
    clock = ManualClock(ist(5, 6))
    calls = Calls(clock, fail={("fetch", A)})
    results = Worker(clock, calls.jobs()).tick()
    assert [(r.job, r.ok) for r in results] == [("fetch", False), ("sync", True)]
    assert "fetch of 27AAACW1234K1ZD broke" in runs("fetch")[0][6]


def test_a_time_changed_in_the_store_is_picked_up_on_the_next_tick(db_file):
    add_business(A, fetch_time="06:00", created_at=CREATED)
    clock = ManualClock(ist(5, 6))
    calls = Calls(clock)
    worker = Worker(clock, calls.jobs())
    worker.tick()
    clock.set(ist(6, 5, 59))
    assert worker.tick() == []
    set_fetch_time(A, "09:30")  # as the Settings page does, while the worker runs
    clock.set(ist(6, 6))
    assert worker.tick() == []
    clock.set(ist(6, 9, 29))
    assert worker.tick() == []
    clock.set(ist(6, 9, 30))
    assert [r.job for r in worker.tick()] == ["fetch", "sync"]
    assert [r[2] for r in runs("fetch")] == [to_store(ist(5, 6)), to_store(ist(6, 9, 30))]


def test_moving_the_time_earlier_on_the_same_day_does_not_fetch_twice(db_file):
    add_business(A, fetch_time="06:00", created_at=CREATED)
    clock = ManualClock(ist(5, 6))
    calls = Calls(clock)
    worker = Worker(clock, calls.jobs())
    worker.tick()
    set_fetch_time(A, "05:00")
    clock.set(ist(5, 10))
    assert worker.tick() == []


def test_a_missed_slot_is_caught_up_once_not_once_per_missed_day(db_file):
    add_business(A, fetch_time="06:00", created_at=CREATED)
    clock = ManualClock(ist(1, 6))
    calls = Calls(clock)
    Worker(clock, calls.jobs()).tick()
    # the worker is down for three days and starts again at 10:00 on day 4
    clock.set(ist(4, 10))
    restarted = Worker(clock, calls.jobs())
    results = restarted.tick()
    assert [(r.job, r.ok) for r in results] == [("fetch", True), ("sync", True)]
    clock.advance(minutes=1)
    assert restarted.tick() == []
    fetches = runs("fetch")
    assert [(f[2], f[7]) for f in fetches] == [(to_store(ist(1, 6)), "schedule"),
                                               (to_store(ist(4, 6)), "catch-up")]
    clock.set(ist(5, 6))
    assert [r.job for r in restarted.tick()] == ["fetch", "sync"]
    assert runs("fetch")[-1][7] == "schedule"


def test_slots_before_the_business_existed_are_not_due(db_file):
    add_business(A, fetch_time="06:00", created_at=to_store(ist(5, 7)))
    clock = ManualClock(ist(5, 8))
    assert Worker(clock, Calls(clock).jobs()).tick() == []


def test_a_failing_job_does_not_stop_the_other_business(db_file):
    add_business(A, fetch_time="06:00", created_at=CREATED)
    add_business(B, fetch_time="06:00", created_at=CREATED)
    clock = ManualClock(ist(5, 6))
    calls = Calls(clock, fail={("fetch", A), ("sync", A)})
    results = Worker(clock, calls.jobs()).tick()
    assert [(r.job, r.gstin, r.ok) for r in results] == [
        ("fetch", A, False), ("sync", A, False), ("fetch", B, True), ("sync", B, True)]
    rows = runs()
    assert [(r[0], r[1], r[5]) for r in rows] == [
        ("fetch", A, False), ("sync", A, False), ("fetch", B, True), ("sync", B, True)]
    assert all(r[4] is not None for r in rows)  # every run finished and recorded


def test_a_job_left_unfinished_by_a_dead_worker_is_closed_and_rerun_only_in_team_mode(db_file, store_engine):
    """On the DuckDB file the one worker died on it: not rerun that day (no crash loop). In
    team mode another worker takes the job over (tests/test_team_acceptance.py)."""
    add_business(A, fetch_time="06:00", created_at=CREATED)
    with connect() as con:
        con.execute("INSERT INTO job_runs (job, gstin, slot, started_at, triggered_by) "
                    "VALUES ('fetch', ?, ?, ?, 'schedule')",
                    [A, to_store(ist(5, 6)), to_store(ist(5, 6))])
    clock = ManualClock(ist(5, 6, 30))
    assert jobs.close_abandoned_runs(clock.now()) == 1
    calls = Calls(clock)
    taken_over = store_engine == "postgres"
    assert [r.job for r in Worker(clock, calls.jobs()).tick()] == (
        ["fetch", "sync"] if taken_over else ["sync"])
    assert runs("fetch")[0][6].startswith("stopped: the process running it ended")


def test_status_shows_last_and_next_runs_and_the_last_error(db_file):
    add_business(A, fetch_time="06:00", created_at=CREATED)
    add_business(B, fetch_time="07:00", sync_source="off",
                 created_at=to_store(ist(5, 0)))
    clock = ManualClock(ist(5, 6))
    calls = Calls(clock, fail={("sync", A)})
    Worker(clock, calls.jobs()).tick()
    rows = {r["gstin"]: r for r in job_status.business_job_status(None, None, ist(5, 6, 30))}
    a, b = rows[A], rows[B]
    assert a["last_fetch"] == ist(5, 6) and a["last_fetch_ok"] is True
    assert a["next_fetch"] == ist(6, 6)
    assert a["last_sync_ok"] is False and "sync of 27AAACW1234K1ZD broke" in a["last_error"]
    assert a["sync_due_by"] == ist(6, 8)
    assert b["last_fetch"] is None and b["next_fetch"] == ist(5, 7) and b["sync_due_by"] is None
