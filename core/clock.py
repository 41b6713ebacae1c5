"""The one clock of the project: "now" in UTC for the store, and the business time zone.

The store keeps naive UTC timestamps (`utc_now()`); people see times in the business time zone
(`IMS_TZ`, default Asia/Kolkata). Everything that asks for the time asks here, so there is one
place to read it from. The worker's schedule takes a clock object (`SystemClock`, or
`ManualClock` in tests and benchmarks) whose `now()` is an aware datetime; `to_store` and
`from_store` convert between the two conventions.

`today()` is the business day every date of the month's close is counted from (2B dates,
GSTR-3B due dates, pending limits; docs/month-close.md). It is, first found: `IMS_TODAY`
(a fixed date, YYYY-MM-DD), else the date written in the file `IMS_CLOCK_FILE` names (the
sandbox writes its day there on start and on every day-advance, so both move together; tests
and demos may write it with `set_today`), else today in the business time zone.

The clock file moves the time too: while it names a day other than the real one, `utc_now()`
is the real time of day on that day (the real now shifted by whole days), so what is recorded
(job runs, fetches, logins, actions, backups) happens on the demo's day and its history reads
on that day (docs/demo.md). `IMS_TODAY` moves the calendar only.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Kolkata"
TODAY_ENV = "IMS_TODAY"
CLOCK_FILE_ENV = "IMS_CLOCK_FILE"


class ClockError(ValueError):
    """The configured business day cannot be read; the message says where and why."""


def utc_now() -> dt.datetime:
    """Now, in UTC, without tzinfo (the store's convention); on the clock file's day when
    one is set (see above)."""
    real = dt.datetime.now(dt.UTC)
    return (real + _clock_file_shift(real)).replace(tzinfo=None)


def unix_now() -> float:
    """`utc_now()` as seconds since the epoch (signed tokens' expiry)."""
    return utc_now().replace(tzinfo=dt.UTC).timestamp()


_shift_seen: dict[str, tuple[tuple[int, int, int], dt.date | None]] = {}


def _clock_file_shift(real: dt.datetime) -> dt.timedelta:
    """Whole days from the real business date to the clock file's day (0 without one, or
    while it cannot be read: a broken file is reported by `today()`, not by every time)."""
    path = os.environ.get(CLOCK_FILE_ENV, "").strip()
    if not path:
        return dt.timedelta(0)
    try:
        stat = os.stat(path)
    except OSError:
        return dt.timedelta(0)
    stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    seen = _shift_seen.get(path)
    if seen is None or seen[0] != stamp:
        try:
            day = _day(Path(path).read_text(encoding="utf-8").splitlines()[0], path)
        except (OSError, IndexError, ClockError, UnicodeDecodeError):
            day = None
        seen = _shift_seen[path] = (stamp, day)
    if seen[1] is None:
        return dt.timedelta(0)
    return dt.timedelta(days=(seen[1] - real.astimezone(business_tz()).date()).days)


def business_tz() -> ZoneInfo:
    """The business time zone (`IMS_TZ`)."""
    return ZoneInfo(os.environ.get("IMS_TZ") or DEFAULT_TZ)


def today() -> dt.date:
    """The business day (`IMS_TODAY`, else the clock file, else today in IMS_TZ)."""
    fixed = os.environ.get(TODAY_ENV, "").strip()
    if fixed:
        return _day(fixed, TODAY_ENV)
    path = os.environ.get(CLOCK_FILE_ENV, "").strip()
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            text = ""   # nobody has set the day yet: the real date
        except OSError as exc:
            raise ClockError(f"The clock file {path} ({CLOCK_FILE_ENV}) cannot be read: "
                             f"{exc.strerror}") from None
        if text:
            return _day(text.splitlines()[0], f"the clock file {path} ({CLOCK_FILE_ENV})")
    return dt.datetime.now(business_tz()).date()


def _day(text: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ClockError(f"{where} says '{text.strip()[:40]}', which is not a date as "
                         "YYYY-MM-DD") from None


def set_today(day: dt.date, path: str | Path | None = None) -> Path:
    """Write `day` into the clock file (`path`, else IMS_CLOCK_FILE), atomically."""
    name = str(path or "") or os.environ.get(CLOCK_FILE_ENV, "").strip()
    if not name:
        raise ClockError(f"No clock file to write: set {CLOCK_FILE_ENV}")
    target = Path(name)
    temp = target.with_name(target.name + ".tmp")
    temp.write_text(f"{day.isoformat()}\n", encoding="utf-8")
    os.replace(temp, target)
    return target


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
