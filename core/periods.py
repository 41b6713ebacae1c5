"""Return periods: `MMYYYY` (e.g. '102025' for October 2025), checked, stepped and put in
words in one place (docs/gst-rules.md)."""
from __future__ import annotations

import datetime as dt

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class PeriodError(ValueError):
    """A return period that is not MMYYYY, or a frequency that is neither monthly nor
    quarterly; the message says which."""


def is_period(text) -> bool:
    """'102025' -> True; '132025', '10-2025', None -> False."""
    value = str(text or "")
    return len(value) == 6 and value.isdigit() and 1 <= int(value[:2]) <= 12


def month_of(period: str) -> tuple[int, int]:
    """'112025' -> (2025, 11); anything else raises PeriodError."""
    text = str(period or "").strip()
    if not is_period(text):
        raise PeriodError(f"Return period '{period}' is not MMYYYY (e.g. 112025)")
    return int(text[2:]), int(text[:2])


def period_of(year: int, month: int) -> str:
    return f"{month:02d}{year}"


def period_of_day(day: dt.date) -> str:
    """The return period MMYYYY of a date."""
    return period_of(day.year, day.month)


def add_months(year: int, month: int, count: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + count
    return index // 12, index % 12 + 1


def period_words(period: str | None, space: str = " ") -> str:
    """'102025' -> 'Oct 2025' ('Oct2025' with space=''; anything else as it is)."""
    text = str(period or "")
    if not is_period(text):
        return text
    return f"{MONTHS[int(text[:2]) - 1]}{space}{text[2:]}"
