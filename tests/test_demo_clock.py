"""The demo's one clock moves recorded times too (issue 24, item 8, docs/demo.md): with the
clock file on another day, a job run, a login's cookie and `utc_now` are on that day at the
real time of day; without it, or with only IMS_TODAY, nothing moves."""
from __future__ import annotations

import datetime as dt

from core import clock
from core.auth.session_token import sign_session, verified_session_id
from core.jobs import record_run
from tests.fixtures import rows, temporary_env

DEMO_DAY = dt.date(2025, 11, 12)


def test_the_clock_file_puts_now_on_its_day_at_the_real_time_of_day(tmp_path):
    path = tmp_path / "clock.txt"
    with temporary_env(IMS_CLOCK_FILE=str(path)):
        clock.set_today(DEMO_DAY, path)
        real = dt.datetime.now(clock.business_tz())
        shifted = clock.from_store(clock.utc_now())
        assert shifted.date() == DEMO_DAY
        assert abs((shifted.time().hour * 60 + shifted.time().minute)
                   - (real.hour * 60 + real.minute)) <= 1
        clock.set_today(DEMO_DAY + dt.timedelta(days=1), path)   # a day-advance moves it
        assert clock.from_store(clock.utc_now()).date() == DEMO_DAY + dt.timedelta(days=1)
    with temporary_env(IMS_TODAY="2025-11-12"):                   # the calendar only
        assert abs(clock.utc_now() - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < \
            dt.timedelta(minutes=1)


def test_a_recorded_job_and_a_login_live_on_the_demo_day(db_file, tmp_path):
    path = tmp_path / "clock.txt"
    with temporary_env(IMS_CLOCK_FILE=str(path)):
        clock.set_today(DEMO_DAY, path)
        record_run("fetch", None, lambda run_id: {"records": 1}, triggered_by="test")
        started, finished = rows("SELECT started_at, finished_at FROM job_runs")[0]
        assert clock.from_store(started).date() == DEMO_DAY
        assert clock.from_store(finished).date() == DEMO_DAY
        token = sign_session("s1", int(clock.unix_now()) + 3600)
        assert verified_session_id(token) == "s1"     # an hour on the demo day is still valid
        assert verified_session_id(sign_session("s1", int(clock.unix_now()) - 1)) is None
