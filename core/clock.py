"""The one clock of the project: "now" in UTC for the store, and the business time zone.

The store keeps naive UTC timestamps (`utc_now()`); people see times in the business time zone
(`IMS_TZ`, default Asia/Kolkata). Everything that asks for the time asks here, so there is one
place to read it from. The worker's schedule takes a clock object (`SystemClock`, or
`ManualClock` in tests and benchmarks) whose `now()` is an aware datetime; `to_store` and
`from_store` convert between the two conventions.
"""
from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Kolkata"


def utc_now() -> dt.datetime:
    """Now, in UTC, without tzinfo (the store's convention)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def business_tz() -> ZoneInfo:
    """The business time zone (`IMS_TZ`)."""
    return ZoneInfo(os.environ.get("IMS_TZ") or DEFAULT_TZ)


def aware(when: dt.datetime) -> dt.datetime:
    """A naive datetime is taken as UTC."""
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def to_store(when: dt.datetime | None) -> dt.datetime | None:
    """Aware datetime -> naive UTC, as the store keeps it."""
    return None if when is None else aware(when).astimezone(dt.UTC).replace(tzinfo=None)


def from_store(when: dt.datetime | None) -> dt.datetime | None:
    """Naive UTC from the store -> aware, in the business time zone."""
    return None if when is None else when.replace(tzinfo=dt.UTC).astimezone(business_tz())


class SystemClock:
    """The real time, aware, in UTC."""

    def now(self) -> dt.datetime:
        return aware(utc_now())


class ManualClock:
    """A clock that only moves when told to (tests, benchmarks)."""

    def __init__(self, start: dt.datetime):
        self.current = aware(start)

    def now(self) -> dt.datetime:
        return self.current

    def set(self, when: dt.datetime) -> None:
        self.current = aware(when)

    def advance(self, **delta) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current
