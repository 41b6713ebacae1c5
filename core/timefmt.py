"""Times as people read them: in the business time zone (core.clock.business_tz), labelled.

The store keeps naive UTC; every time a page shows goes through `shown_time`, so a person
never has to guess which zone a time is in ("01 Dec 2026, 09:15 IST").
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from core.clock import aware, business_tz, utc_now

FORMAT = "%d %b %Y, %H:%M %Z"


def shown_time(when: dt.datetime | None, empty: str = "") -> str:
    """A stored (naive UTC) or aware time in the business time zone, with the zone's name."""
    if when is None:
        return empty
    return aware(when).astimezone(business_tz()).strftime(FORMAT)


def shown_times(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """`columns` of `frame` (stored timestamps) as shown_time text."""
    present = [c for c in columns if c in frame.columns]   # in Python, not inside Polars
    return frame.with_columns(pl.Series(c, [None if v is None else shown_time(v)
                                            for v in frame[c].to_list()], dtype=pl.Utf8)
                              for c in present)


def business_today() -> dt.date:
    """Today's date in the business time zone."""
    return aware(utc_now()).astimezone(business_tz()).date()


def shown_clock(when: dt.datetime | None, empty: str = "") -> str:
    """A stored (naive UTC) or aware time as the hour and minute of the business time zone,
    with the zone's name ("10:35 IST"); the date too when it is not today there."""
    if when is None:
        return empty
    local = aware(when).astimezone(business_tz())
    if local.date() != business_today():
        return local.strftime(FORMAT)
    return local.strftime("%H:%M %Z")
