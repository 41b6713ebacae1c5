"""The one clock of the project: "now" in UTC for the store, and the business time zone.

The store keeps naive UTC timestamps (`utc_now()`); people see times in the business time zone
(`IMS_TZ`, default Asia/Kolkata). Everything that asks for the time asks here, so there is one
place to read it from.
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
